#!/usr/bin/env bash
# Idle-socket benchmark: `wrk` pulls a township's playlist.m3u8 from `shengbo serve
# --no-schedule`, first alone, then while a holder keeps `idle` sockets open against the same
# server (each sends nothing; one the server closes is opened again at once), then alone again.
# Prints pulls/s and p99 of the three runs, the held rate against the mean of the two alone, and
# the server's peak RSS and open file descriptors, as a Markdown table for BENCHMARKS.md (## Idle
# sockets).
#
#   benches/idle.sh [idle=20000] [seconds=20] [connections=32] [threads=2]
#
# SERVE_ARGS="--max-connections 2048" passes flags to `serve` (by default it holds as many
# connections as its open-file limit holds after 256; a smaller cap makes the holders' sockets
# take each other's places, each closed one reopened at once).
# SHENGBO_BIN=path benchmarks that binary instead of building the release one.
# HOLDERS_NICE=19 runs the holders at that niceness, so that their reconnecting takes only the CPU
# the server and wrk leave (as when the holders are on other machines); the default 0 shares it.
#
# Needs: a release build (built here), wrk (Debian: apt-get install wrk), curl, python3, and, for
# the server to hold every socket, `ulimit -n` above idle + 1000 (raised here as far as the hard
# limit allows; the holders need at most 10,000 each). Port 18473.
# Goals (issue 9): pulls keep >= 80% of their rate, p99 < 50 ms, peak RSS < 150 MB.
set -euo pipefail

idle=${1:-20000}
secs=${2:-20}
conns=${3:-32}
threads=${4:-2}
repo=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$repo/target}
work=$(mktemp -d)
server_pid=""
holder_pid=""
cleanup() {
    # shellcheck disable=SC2086
    [ -n "$holder_pid" ] && kill $holder_pid 2>/dev/null || true
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

for tool in wrk curl python3; do
    command -v "$tool" >/dev/null || { echo "benches/idle.sh: \`$tool\` is not installed" >&2; exit 2; }
done
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((idle + 1000)) ]; then
    echo "benches/idle.sh: ulimit -n is $(ulimit -n): the server cannot hold all $idle sockets at once (up to net.core.somaxconn silent ones wait in the kernel, deferred; beyond that they take the places of the longest-silent)" >&2
fi

if [ -n "${SHENGBO_BIN:-}" ]; then
    bin=$SHENGBO_BIN
else
    (cd "$repo" && cargo build --release --quiet --bin shengbo)
    bin=$target/release/shengbo
fi
township=513431100
addr=127.0.0.1:18473
url="http://$addr/v1/townships/$township/playlist.m3u8"

export SHENGBO_ROOT=$repo SHENGBO_DATA_DIR=$work/data
token=$("$bin" token add --coordinator --name bench | tail -n 1)
# shellcheck disable=SC2086
"$bin" serve --no-schedule --listen "$addr" --base-url "http://$addr" ${SERVE_ARGS:-} \
    2>"$work/serve.log" &
server_pid=$!
for _ in $(seq 300); do curl -fs "http://$addr/healthz" >/dev/null && break; sleep 0.1; done

sample() { # the server's RSS (kB) and open descriptors, now
    echo "$(awk '/VmRSS/{print $2}' "/proc/$server_pid/status") $(find "/proc/$server_pid/fd" -mindepth 1 -maxdepth 1 | wc -l)"
}
# Every 200 ms for the peaks.
(while kill -0 "$server_pid" 2>/dev/null; do sample; sleep 0.2; done) >"$work/samples" 2>/dev/null &
sampler_pid=$!

declare -A rate p99s
pull() { # key
    local out
    out=$(wrk -t"$threads" -c"$conns" -d"${secs}s" --latency -H "Authorization: Bearer $token" "$url")
    rate[$1]=$(awk '/Requests\/sec/{print $2}' <<<"$out")
    p99s[$1]=$(awk '$1=="99%"{print $2}' <<<"$out")
}

# CPU time (user + system, clock ticks) of the server and of the holders over each pull: on one
# machine the holders' reconnecting shares the cores with the server and wrk.
cpu() { # pids...
    local t=0 p
    for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done
    echo "$t"
}

read -r rss0 fds0 < <(sample)
alone_cpu0=$(cpu "$server_pid")
pull alone
alone_cpu=$(($(cpu "$server_pid") - alone_cpu0))

# The holders: keep `idle` sockets open between them (at most 10,000 each, under a per-process
# descriptor limit), reopening any the server closes.
# Each holder opens its sockets from its own 100 loopback addresses (127.H.0.1 … 127.H.0.100), as
# 20,000 real clients come from many addresses: from one address, every connect searches the
# ~28,000 ephemeral ports for a free one, and that search (the kernel's `__inet_hash_connect`,
# charged to the holders) took 44% of the machine's CPU in `perf`, on the cores the server and
# wrk share.
cat >"$work/holder.py" <<'PY'
import selectors, socket, sys
host, port = sys.argv[1].rsplit(":", 1)
want = int(sys.argv[2])
net = int(sys.argv[3])
IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)
sel = selectors.DefaultSelector()
opened = 0
def open_one():
    global opened
    s = socket.socket()
    s.setblocking(False)
    # The port is chosen at connect, per (source, destination), not reserved at bind.
    s.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
    s.bind((f"127.{net}.0.{opened % 100 + 1}", 0))
    opened += 1
    s.connect_ex((host, int(port)))
    sel.register(s, selectors.EVENT_READ)
for _ in range(want):
    open_one()
print("holding", want, flush=True)
while True:
    for key, _ in sel.select(timeout=1):
        s = key.fileobj
        try:
            data = s.recv(4096)
        except OSError:
            data = b""
        if not data:
            sel.unregister(s)
            s.close()
            open_one()
PY
holder_pid=""
left=$idle
net=0
while [ "$left" -gt 0 ]; do
    n=$((left > 10000 ? 10000 : left))
    net=$((net + 1))
    nice -n "${HOLDERS_NICE:-0}" python3 "$work/holder.py" "$addr" "$n" "$net" >>"$work/holder.log" 2>&1 &
    holder_pid="$holder_pid $!"
    left=$((left - n))
done
holders=$(wc -w <<<"$holder_pid")
for _ in $(seq 100); do [ "$(grep -c holding "$work/holder.log")" -ge "$holders" ] && break; sleep 0.2; done
read -r rss1 fds1 < <(sample)
# shellcheck disable=SC2086
server_cpu0=$(cpu "$server_pid"); holders_cpu0=$(cpu $holder_pid)
pull held
# shellcheck disable=SC2086
server_cpu=$(($(cpu "$server_pid") - server_cpu0)); holders_cpu=$(($(cpu $holder_pid) - holders_cpu0))
read -r rss2 fds2 < <(sample)
health=$(curl -s -o /dev/null -m 15 -w '%{http_code} in %{time_total}s' "http://$addr/healthz")
# shellcheck disable=SC2086
kill $holder_pid
holder_pid=""
# The allocator hands freed pages back within about a second (src/main.rs); 5 s is ample.
sleep 5
read -r rss3 fds3 < <(sample)
kill "$sampler_pid" 2>/dev/null || true
# Alone again: the rate without idle sockets moves by 10-20% between runs minutes apart on a
# shared machine, so the held rate is compared with the mean of the runs before and after it.
pull after
peak_rss=$(awk 'BEGIN{m=0} $1>m{m=$1} END{print m}' "$work/samples")
peak_fds=$(awk 'BEGIN{m=0} $2>m{m=$2} END{print m}' "$work/samples")

echo "playlist.m3u8 of $township; wrk -t$threads -c$conns -d${secs}s; $idle idle sockets (holders at nice ${HOLDERS_NICE:-0}); serve ${SERVE_ARGS:-(defaults)}; $(nproc) cores; $(date -u +%F)"
echo
echo "| run | pulls/s | p99 | server RSS (MB) | open fds |"
echo "| --- | ---: | ---: | ---: | ---: |"
printf '| no idle sockets | %s | %s | %d | %d |\n' "${rate[alone]}" "${p99s[alone]}" $((rss0 / 1024)) "$fds0"
printf '| %d idle sockets | %s | %s | %d (peak %d) | %d (peak %d) |\n' "$idle" "${rate[held]}" "${p99s[held]}" \
    $((rss2 / 1024)) $((peak_rss / 1024)) "$fds2" "$peak_fds"
printf '| 5 s after they go | | | %d | %d |\n' $((rss3 / 1024)) "$fds3"
printf '| no idle sockets, after | %s | %s | | |\n' "${rate[after]}" "${p99s[after]}"
echo
echo "/healthz under the idle sockets: $health (before: $rss1 kB, $fds1 fds)"
awk -v a="${rate[alone]}" -v b="${rate[after]}" -v h="${rate[held]}" \
    'BEGIN { printf "rate kept: %.0f%% of the mean of the runs before and after (%.0f%% of the one before; goal >= 80%%)\n", 200 * h / (a + b), 100 * h / a }'
awk -v s0="$alone_cpu" -v s="$server_cpu" -v h="$holders_cpu" -v hz="$(getconf CLK_TCK)" \
    -v secs="$secs" -v n="$(nproc)" -v a="${rate[alone]}" -v r="${rate[held]}" 'BEGIN {
    printf "CPU of the %d s on %d cores: alone, server %.1f s; held, server %.1f s and holders %.1f s\n",
        secs * n, n, s0 / hz, s / hz, h / hz
    printf "server CPU per pull: alone %.1f us, held %.1f us\n", 1e6 * s0 / hz / (a * secs), 1e6 * s / hz / (r * secs)
}'
