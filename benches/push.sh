#!/usr/bin/env bash
# Push fan-out benchmark: one `shengbo run --once` fanned out to N simulated endpoints on
# loopback (each endpoint serves one township, round-robin over Liangshan's 304), both
# languages per endpoint — time until every delivery is final, pushes/s, p50/p99 attempt
# latency (from the ledger), peak memory of the pushing process; then the loopback ceiling:
# `wrk` posting the same EBD tars (the Yi and the Mandarin package, alternating) to the same simulator.
#
#   benches/push.sh [N]        (default 10000: 20,000 messages from three sender codes)
#
# An EBMID holds a 4-digit daily sequence: one sender EBRID can send at most 9,999 messages a
# day. The bench's settings list as many `extra_sender_ebrids` as N endpoints × 2 languages need
# (two for 10,000), and the messages roll over from one code to the next.
# Needs: cargo, python3, wrk, /usr/bin/time. Results go to stdout; copy them to BENCHMARKS.md.
set -euo pipefail
N=${1:-10000}
REPO=$(cd "$(dirname "$0")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$REPO/target}
# SHENGBO_BIN=path runs another build (an older commit's, for a before/after in one session).
if [ -z "${SHENGBO_BIN:-}" ]; then
  cargo build --release --quiet --manifest-path "$REPO/Cargo.toml"
fi
BIN=${SHENGBO_BIN:-$CARGO_TARGET_DIR/release/shengbo}
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
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
# Sender codes: 9,999 messages a day each, N × 2 messages.
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
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BIN" sim --listen "127.0.0.1:$PORT" --speed 600 >"$WORK/sim.log" 2>&1 &
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.1; done
AT=$(date -u +%Y-%m-%dT%H:%M:00Z)
echo "## push fan-out: $N endpoints, $((N * 2)) deliveries, $(nproc) cores"
START=$(date +%s.%N)
/usr/bin/time -v "$BIN" --root "$WORK" run --once --campaign bench --at "$AT" \
  --sim "http://127.0.0.1:$PORT" --speed 600 --wait 7200 >"$WORK/run.out" 2>"$WORK/run.err" || true
END=$(date +%s.%N)
grep -E "^(deliveries|reach):" "$WORK/run.out" || tail -5 "$WORK/run.err"
python3 - "$WORK/.shengbo/ledger.sqlite" "$START" "$END" <<'EOF'
import sqlite3, sys
db, start, end = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
c = sqlite3.connect(db)
lat = sorted(r[0] for r in c.execute("SELECT latency_ms FROM attempts"))
first, last = c.execute("SELECT min(started_ms), max(finished_ms) FROM attempts").fetchone()
n = c.execute("SELECT count(*) FROM deliveries").fetchone()[0]
final = c.execute("SELECT count(*) FROM deliveries WHERE state IN "
                  "('played','failed','cancelled','rejected','expired')").fetchone()[0]
def pct(p): return lat[min(len(lat) - 1, int(p * len(lat)))] if lat else float("nan")
wall = end - start
print(f"time until all final: {wall:.1f} s ({final}/{n} final)")
print(f"pushes/s (deliveries ÷ wall time, planning and state requests included): {n / wall:.0f}")
print(f"attempts: {len(lat)}; latency p50 {pct(0.5)} ms, p99 {pct(0.99)} ms")
push_s = (last - first) / 1000
print(f"push phase (first attempt start to last attempt end): {push_s:.1f} s, "
      f"{len(lat) / push_s:.0f} pushes/s")
EOF
grep -E "Maximum resident set size" "$WORK/run.err" | sed 's/^\s*/peak memory: /'
grep -E "(User|System) time|Percent of CPU" "$WORK/run.err" | sed 's/^\s*/pusher: /'

# The loopback ceiling: capture the two real packages of one delivery pair (Yi and Mandarin, as
# the run sends them), then post them with wrk, alternating.
CAP=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
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
wrk -t2 -c64 -d10s -s "$WORK/post.lua" --latency "http://127.0.0.1:$PORT/ebd/0" | grep -E "Requests/sec|50%|99%|Latency |Non-2xx"
