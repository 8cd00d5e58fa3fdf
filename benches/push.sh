#!/usr/bin/env bash
# Push fan-out benchmark: one `shengbo run --once` fanned out to N simulated endpoints on
# loopback (each endpoint serves one township, round-robin over Liangshan's 304), both
# languages per endpoint — time until every delivery is final, pushes/s, p50/p99 attempt
# latency (from the ledger), peak memory of the pushing process; then the loopback ceiling:
# `wrk` posting the same EBD tars (the Yi and the Mandarin package, alternating) to the same simulator.
#
#   benches/push.sh [N]        (default 10000: 20,000 messages from three sender codes)
#   LEDGER=postgres benches/push.sh [N]
#   LEDGER=postgres INSTANCES=2 benches/push.sh [N]
#
# LEDGER picks the ledger: `sqlite` (the default: the project's embedded file), `postgres` (a
# throwaway PostgreSQL cluster on loopback, started as the tests start theirs — initdb and pg_ctl
# from the PATH or Debian's /usr/lib/postgresql/*/bin, run as the `postgres` user under root —
# with fsync and synchronous_commit on, stopped and removed at the end) or `postgres://…` (that
# database, which should be empty: the run adds to it).
#
# An EBMID holds a 4-digit daily sequence: one sender EBRID can send at most 9,999 messages a
# day. The bench's settings list as many `extra_sender_ebrids` as N endpoints × 2 languages need
# (two for 10,000), and the messages roll over from one code to the next.
# Needs: cargo, python3, wrk, /usr/bin/time (and PostgreSQL for LEDGER=postgres). Results go to
# stdout, with the load average before and after each phase; copy them to BENCHMARKS.md.
set -euo pipefail
N=${1:-10000}
LEDGER=${LEDGER:-sqlite}
INSTANCES=${INSTANCES:-1}
case $INSTANCES in 1 | 2) ;; *) echo "benches/push.sh: INSTANCES is 1 or 2" >&2; exit 2 ;; esac
case "$LEDGER" in
  sqlite | postgres | postgres://* | postgresql://*) ;;
  *) echo "LEDGER \`$LEDGER\`: expected sqlite, postgres or postgres://USER@HOST:PORT/DATABASE" >&2
     exit 1 ;;
esac
REPO=$(cd "$(dirname "$0")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$REPO/target}
# SHENGBO_BIN=path runs another build (an older commit's, for a before/after in one session).
# PG_STATS=1 (with LEDGER=postgres) loads pg_stat_statements in the bench's cluster and prints its
# 20 statements of most server time at the end (Debian ships the extension with postgresql), and
# the rows inserted and updated (heap-only updates among them) in the busiest tables.
# PG_OPTS="-c name=value …" (with LEDGER=postgres) adds settings to the bench's cluster, e.g.
# `-c synchronous_commit=off` to see what the commits' flushes cost.
if [ -z "${SHENGBO_BIN:-}" ]; then
  cargo build --release --quiet --manifest-path "$REPO/Cargo.toml"
fi
BIN=${SHENGBO_BIN:-$CARGO_TARGET_DIR/release/shengbo}
WORK=$(mktemp -d)
PGDIR=""
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
  kill $(jobs -p) 2>/dev/null || true
  if [ -n "$PGDIR" ]; then
    if [ -n "${PG_STATS:-}" ]; then
      psql -X -q "$LEDGER_URL" -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" \
        -c "SELECT calls, round(total_exec_time) AS ms, rows,
              left(regexp_replace(query, '[[:space:]]+', ' ', 'g'), 100) AS statement
            FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 20" \
        -c "SELECT relname, n_tup_ins, n_tup_upd, n_tup_hot_upd, autovacuum_count
            FROM pg_stat_user_tables WHERE relname IN ('deliveries', 'attempts', 'state_reports')" \
        || true
    fi
    as_postgres "$PGBIN/pg_ctl" -D "$PGDIR/data" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$PGDIR"
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
LEDGER_URL=""
if [ "$LEDGER" = postgres ]; then
  INITDB=$(command -v initdb || ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)
  PGBIN=$(dirname "$INITDB")
  PGDIR=$(mktemp -d /tmp/shengbo-bench-pg.XXXXXX)
  if [ "$(id -u)" = 0 ]; then chown postgres "$PGDIR"; fi
  PGPORT=$(free_port)
  as_postgres "$PGBIN/initdb" -D "$PGDIR/data" -U postgres -A trust -E UTF8 >"$PGDIR/initdb.log" 2>&1 \
    || { cat "$PGDIR/initdb.log" >&2; exit 1; }
  as_postgres "$PGBIN/pg_ctl" -D "$PGDIR/data" -w -l "$PGDIR/log" start \
    -o "${PG_STATS:+-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all }-c listen_addresses=127.0.0.1 -p $PGPORT -k $PGDIR ${PG_OPTS:-}" \
    >/dev/null || { cat "$PGDIR/log" >&2; exit 1; }
  LEDGER_URL="postgres://postgres@127.0.0.1:$PGPORT/postgres"
elif [ "$LEDGER" != sqlite ]; then
  LEDGER_URL=$LEDGER
fi
LEDGER_ARGS=()
if [ -n "$LEDGER_URL" ]; then LEDGER_ARGS=(--ledger "$LEDGER_URL"); fi
# One query's rows, `|`-separated, from whichever ledger the run wrote.
query() {
  if [ -n "$LEDGER_URL" ]; then
    psql -X -q -At "$LEDGER_URL" -c "$1"
  else
    python3 -c 'import sqlite3, sys
for r in sqlite3.connect(sys.argv[1]).execute(sys.argv[2]): print("|".join(map(str, r)))' \
      "$WORK/.shengbo/ledger.sqlite" "$1"
  fi
}
cp -r "$REPO/audio" "$WORK/audio"
mkdir -p "$WORK/schedules"
cat > "$WORK/schedules/bench.toml" <<'EOF'
id = "bench"
name = "push fan-out benchmark"
messages = ["police-impersonation"]
rotation = "all"
order = ["ii", "zh"]
quiet_hours = []
[targets]
all = true
[[slots]]
label = "every minute"
cron = "* * * * *"
EOF
# Sender codes: 9,999 messages a day each, N × 2 messages. Two instances recording one run at
# once take turns (the run's hold), so INSTANCES=2 draws the same ids and needs no more codes.
python3 - "$N" "$WORK/schedules/settings.toml" <<'EOF'
import sys
n, out = int(sys.argv[1]), sys.argv[2]
extra = -(-2 * n // 9999) - 1
codes = ", ".join(f'"451343100000001020101{i + 2:02d}"' for i in range(extra))
if extra > 0:  # (none below 5,000 endpoints: an older build without the key runs too)
    open(out, "w").write(f"[ebd]\nextra_sender_ebrids = [{codes}]\n")
EOF
python3 - "$N" "$WORK/schedules/endpoints.toml" "$REPO/src/directory/data/townships.csv" <<'EOF'
import csv, sys
n, out, towns = int(sys.argv[1]), sys.argv[2], sys.argv[3]
codes = [r["township_code"] for r in csv.DictReader(open(towns))]
with open(out, "w") as f:
    f.write("[push]\nconcurrency = 256\nbackoff_base_ms = 50\nbackoff_cap_s = 2\nbreaker_threshold = 1000\n\n")
    for i in range(n):
        t = codes[i % len(codes)]
        f.write(f'[[endpoint]]\nid = "e{i}"\nkind = "ebd"\nurl = "{{sim}}/ebd/{i}"\n'
                f'ebrid = "4{t[:6]}000000031401{(i % 99) + 1:02d}01"\ntownships = ["{t}"]\n'
                f'timeout_s = 30\nconcurrency = 2\n\n')
EOF
PORT=$(free_port)
"$BIN" sim --listen "127.0.0.1:$PORT" --speed 600 >"$WORK/sim.log" 2>&1 &
SIM=$!
# The simulator's CPU time so far (user + system), in seconds.
sim_cpu() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.1f", ($14 + $15) / hz}' "/proc/$SIM/stat"; }
# The bench's own PostgreSQL cluster's CPU time so far, in seconds: the postmaster's, with its
# ended children's (backends end with their connection), and its live children's.
pg_cpu() {
  [ -n "$PGDIR" ] || { echo 0; return; }
  local pm
  pm=$(head -1 "$PGDIR/data/postmaster.pid")
  { awk '{print $14 + $15 + $16 + $17}' "/proc/$pm/stat"
    for c in $(cat "/proc/$pm/task/$pm/children" 2>/dev/null); do
      awk '{print $14 + $15}' "/proc/$c/stat" 2>/dev/null || true
    done; } | awk -v hz="$(getconf CLK_TCK)" '{t += $1} END {printf "%.1f", t / hz}'
}
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.1; done
AT=$(date -u +%Y-%m-%dT%H:%M:00Z)
echo "## push fan-out: $N endpoints, $((N * 2)) deliveries, $(nproc) cores, ledger $LEDGER"
echo "load average before the run: $(load)"
START=$(date +%s.%N)
SIM0=$(sim_cpu)
PG0=$(pg_cpu)
# INSTANCES=2: a second `run --once` of the same occurrence under another instance name, started
# with the first, sharing the ledger (PostgreSQL): the run is recorded once, and each delivery is
# sent by whichever instance holds its lease.
pushers=()
for i in $(seq "$INSTANCES"); do
  /usr/bin/time -v "$BIN" --root "$WORK" "${LEDGER_ARGS[@]}" run --once --campaign bench --at "$AT" \
    --sim "http://127.0.0.1:$PORT" --speed 600 --wait 7200 --instance "bench-$i" \
    >"$WORK/run$i.out" 2>"$WORK/run$i.err" &
  pushers+=($!)
done
for p in "${pushers[@]}"; do wait "$p" || true; done
END=$(date +%s.%N)
SIM1=$(sim_cpu)
PG1=$(pg_cpu)
cp "$WORK/run1.out" "$WORK/run.out"
cp "$WORK/run1.err" "$WORK/run.err"
for i in $(seq "$INSTANCES"); do grep -E "^(Error|错误)|error" "$WORK/run$i.err" | head -3 | sed "s/^/instance $i: /" >&2 || true; done
grep -E "^(deliveries|reach):" "$WORK/run.out" || tail -5 "$WORK/run.err"
echo "load average after the run: $(load)"
query "SELECT latency_ms FROM attempts" >"$WORK/latency.txt"
query "SELECT (SELECT min(started_ms) FROM attempts), (SELECT max(finished_ms) FROM attempts),
  (SELECT count(*) FROM deliveries), (SELECT count(*) FROM deliveries WHERE state IN
  ('played','failed','cancelled','rejected','expired'))" >"$WORK/summary.txt"
python3 - "$WORK" "$START" "$END" <<'EOF'
import sys
work, start, end = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
lat = sorted(int(x) for x in open(f"{work}/latency.txt").read().split())
first, last, n, final = (int(x) for x in open(f"{work}/summary.txt").read().strip().split("|"))
def pct(p): return lat[min(len(lat) - 1, int(p * len(lat)))] if lat else float("nan")
wall = end - start
print(f"time until all final: {wall:.1f} s ({final}/{n} final)")
print(f"pushes/s (deliveries ÷ wall time, planning and state requests included): {n / wall:.0f}")
print(f"attempts: {len(lat)}; latency p50 {pct(0.5)} ms, p99 {pct(0.99)} ms")
push_s = (last - first) / 1000
print(f"push phase (first attempt start to last attempt end): {push_s:.1f} s, "
      f"{len(lat) / push_s:.0f} pushes/s")
print(f"before the first attempt (loading, planning, recording): {first / 1000 - start:.1f} s; "
      f"after the last (state requests, closing): {end - last / 1000:.1f} s")
open(f"{work}/rates.txt", "w").write(f"{n / wall} {len(lat) / push_s}\n")
EOF
for i in $(seq "$INSTANCES"); do
  grep -E "Maximum resident set size" "$WORK/run$i.err" | sed "s/^\s*/peak memory (instance $i): /"
  grep -E "(User|System) time|Percent of CPU" "$WORK/run$i.err" | sed "s/^\s*/pusher $i: /"
  echo "attempts by instance $i: $(query "SELECT count(*) FROM attempts WHERE instance = 'bench-$i'")"
done

# The loopback ceiling: capture the two real packages of one delivery pair (Yi and Mandarin, as
# the run sends them), then post them with wrk, alternating.
CAP=$(free_port)
python3 - "$CAP" "$WORK" <<'EOF' &
import http.server, sys
port, work = int(sys.argv[1]), sys.argv[2]
seen = []
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        n = len(seen); seen.append(n)
        open(f"{work}/body{n}.bin", "wb").write(body)
        open(f"{work}/ctype{n}.txt", "w").write(self.headers["Content-Type"])
        self.send_response(503); self.end_headers()
    def log_message(self, *a): pass
server = http.server.HTTPServer(("127.0.0.1", port), H)
server.handle_request(); server.handle_request()
EOF
mkdir -p "$WORK/cap/schedules" && cp -r "$WORK/audio" "$WORK/cap/audio" && cp "$WORK/schedules/bench.toml" "$WORK/cap/schedules/"
sed -n '1,/^$/p' "$WORK/schedules/endpoints.toml" > "$WORK/cap/schedules/endpoints.toml"
printf '[[endpoint]]\nid = "cap"\nkind = "ebd"\nurl = "http://127.0.0.1:%s/x"\nebrid = "45134310000000314010101"\ntownships = ["513431100"]\ntimeout_s = 5\n' "$CAP" >> "$WORK/cap/schedules/endpoints.toml"
timeout 20 "$BIN" --root "$WORK/cap" run --once --campaign bench --at "$AT" --wait 1 >/dev/null 2>&1 || true
cat > "$WORK/post.lua" <<EOF
local function read(p) local f = io.open(p, "rb"); local b = f:read("*all"); f:close(); return b end
local reqs = {}
init = function(args)
  reqs[1] = wrk.format("POST", nil, {["Content-Type"] = "$(cat "$WORK/ctype0.txt")"}, read("$WORK/body0.bin"))
  reqs[2] = wrk.format("POST", nil, {["Content-Type"] = "$(cat "$WORK/ctype1.txt")"}, read("$WORK/body1.bin"))
end
local i = 0
request = function() i = i + 1; return reqs[i % 2 + 1] end
EOF
echo "packages posted by wrk, alternating: $(stat -c %s "$WORK/body0.bin") and $(stat -c %s "$WORK/body1.bin") bytes"
echo "load average before wrk: $(load)"
SIM2=$(sim_cpu)
wrk -t2 -c64 -d10s -s "$WORK/post.lua" --latency "http://127.0.0.1:$PORT/ebd/0" >"$WORK/wrk.txt"
SIM3=$(sim_cpu)
grep -E "Requests/sec|50%|99%|Latency |Non-2xx" "$WORK/wrk.txt"
echo "load average after wrk: $(load)"
read -r WHOLE PUSH <"$WORK/rates.txt"
CEILING=$(awk '/Requests\/sec/ {print $2}' "$WORK/wrk.txt")
python3 -c 'import sys; w, p, c = map(float, sys.argv[1:])
print(f"share of the ceiling: whole run {100 * w / c:.0f}%, push phase {100 * p / c:.0f}%")' \
  "$WHOLE" "$PUSH" "$CEILING"
python3 -c 'import sys; a, b, c, d, n, r = map(float, sys.argv[1:])
print(f"simulator CPU: {b - a:.1f} s over the run ({1e3 * (b - a) / n:.2f} ms a delivery, its state requests included); "
      f"{d - c:.1f} s under wrk ({1e3 * (d - c) / (r * 10):.2f} ms a package)")' \
  "$SIM0" "$SIM1" "$SIM2" "$SIM3" "$((N * 2))" "$CEILING"
if [ -n "$PGDIR" ]; then
  python3 -c 'import sys; a, b, n = map(float, sys.argv[1:])
print(f"PostgreSQL CPU: {b - a:.1f} s over the run ({1e3 * (b - a) / n:.2f} ms a delivery)")' \
    "$PG0" "$PG1" "$((N * 2))"
fi
