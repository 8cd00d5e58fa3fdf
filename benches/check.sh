#!/usr/bin/env bash
# `check` (and `plan`) with a slot every minute on all 304 townships: the demo project plus one
# round-robin campaign `cron = "* * * * *"`, `[targets] all = true`.
# Usage: benches/check.sh [debug|release] [runs]   (default release, 3 runs; from anywhere)
#        SHENGBO_BIN=/path/to/shengbo benches/check.sh   (time that binary, e.g. an older build)
# Prints elapsed and user seconds and max RSS per run, and the load average before each.
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${1:-release}"
runs="${2:-3}"
case "$profile" in
  debug) flags=() ;;
  release) flags=(--release) ;;
  *) echo "profile must be debug or release, not \`$profile\`" >&2; exit 2 ;;
esac
bin="${SHENGBO_BIN:-}"
if [ -z "$bin" ]; then
  cargo build --quiet "${flags[@]}"
  bin="${CARGO_TARGET_DIR:-target}/$profile/shengbo"
fi
project="$(mktemp -d)"
trap 'rm -rf "$project"' EXIT
cp -r schedules audio "$project/"
cat > "$project/schedules/every-minute.toml" <<'EOF'
id = "every-minute"
name = "每分钟"
timezone = "Asia/Shanghai"
messages = ["police-impersonation", "illegal-fundraising"]
rotation = "round-robin"
order = ["ii", "zh"]
[targets]
all = true
[[slots]]
cron = "* * * * *"
EOF
echo "## $(date -u +%Y-%m-%dT%H:%MZ) $(uname -m), $(nproc) cores, $profile, $bin"
run() {
  local what="$1"
  shift
  for i in $(seq "$runs"); do
    echo "  load average $(cut -d' ' -f1-3 /proc/loadavg)"
    /usr/bin/time -f "$what: %e s elapsed, %U s user, %M KB max RSS" \
      "$bin" --root "$project" --data-dir "$project/.data" "$@" >/dev/null || true
  done
}
# Probe the clips once, so every timed run finds the probe cache warm.
"$bin" --root "$project" --data-dir "$project/.data" catalog >/dev/null 2>&1 || true
run "check" check
run "plan one day, --summary" plan --from 2026-12-01 --to 2026-12-02 --summary
run "plan one township, 7 days" plan --from 2026-12-01 --township 513431100
run "plan one day, every township (JSON)" plan --from 2026-12-01 --to 2026-12-02 --format json
