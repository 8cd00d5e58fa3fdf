#!/usr/bin/env bash
# Planning benchmark: 30 days × all 304 townships × the demo campaigns, release build.
# Usage: benches/plan.sh   (from anywhere; honours CARGO_TARGET_DIR)
set -euo pipefail
cd "$(dirname "$0")/.."
echo "## $(date -u +%Y-%m-%dT%H:%MZ) $(uname -m), $(nproc) cores, $(rustc --version)"
cargo bench --quiet --bench plan
# End to end, through the binary: load directory, catalog (probe cache warm) and schedules,
# check, plan 30 days, write JSON.
cargo build --quiet --release
bin="${CARGO_TARGET_DIR:-target}/release/shengbo"
data="$(mktemp -d)"
trap 'rm -rf "$data"' EXIT
"$bin" --data-dir "$data" plan --from 2026-12-01 --to 2026-12-31 --format json >/dev/null || true
for i in 1 2 3; do
  /usr/bin/time -f "shengbo plan --format json (30 days, warm cache): %e s, %M KB max RSS" \
    "$bin" --data-dir "$data" plan --from 2026-12-01 --to 2026-12-31 --format json >/dev/null || true
done
