#!/usr/bin/env bash
# Pull API benchmark: `playlist.m3u8` full responses (200) and ETag revalidations (304) from
# `shengbo serve --no-schedule`, against nginx serving the same bytes as a static file with its
# own ETag. Uses wrk. Prints a Markdown table for BENCHMARKS.md (## Pull API).
#
#   benches/server.sh [seconds=10] [connections=32] [threads=2]
#
# ROUNDS=n alternates the targets n times after the table (see the end): on a shared machine,
# where the load moves between two 10 s runs, the median of those ratios is the one to trust.
# SERVE_ARGS="..." passes flags to `serve`. Each row also gives the server's context switches per
# request (all its threads, voluntary and not) and its CPU time per request, user and system
# (from /proc; for nginx, its one worker process): figures that compare across machines where
# requests/s do not.
# SHENGBO_BIN=path benchmarks that binary instead of building the release one (e.g. an older
# build, to compare before and after under the same machine load).
# CPU_QUOTA=P (1–200, percent of one core; root only) holds each server, `serve` and nginx's
# worker, to that much CPU time in a cgroup of its own (v2 `cpu.max`, or v1 `cpu.cfs_quota_us`),
# while wrk runs free: the servers, not the client, are then the bottleneck, and requests/s
# compare the CPU each spends per request, as on a machine where the server runs slower than
# its client.
#
# Needs: a release build (built here), wrk, nginx (Debian: apt-get install wrk nginx-light),
# curl. Uses the repository's own schedules/ and audio/. Ports 18471 (shengbo), 18472 (nginx).
set -euo pipefail

secs=${1:-10}
conns=${2:-32}
threads=${3:-2}
repo=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$repo/target}
work=$(mktemp -d)
chmod 755 "$work" # nginx workers read www/ as their own user
server_pid=""
nginx_pid=""
quota=${CPU_QUOTA:-}
cgroups=()
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
    [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null || true
    wait 2>/dev/null || true
    # A cgroup goes once its processes have (nginx's worker ends a moment after its master).
    for g in "${cgroups[@]}"; do
        for _ in $(seq 50); do rmdir "$g" 2>/dev/null && break; sleep 0.1; done
    done
    rm -rf "$work"
}
trap cleanup EXIT

# CPU_QUOTA: where the cgroups go, checked before anything starts.
cg_root=""
if [ -n "$quota" ]; then
    if ! [[ $quota =~ ^[0-9]{1,3}$ ]] || ((10#$quota < 1 || 10#$quota > 200)); then
        echo "benches/server.sh: CPU_QUOTA \`$quota\` is not a whole percent of one core from 1 to 200" >&2
        exit 2
    fi
    quota=$((10#$quota))
    if grep -qw cpu /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
        cg_root=/sys/fs/cgroup
        grep -qw cpu "$cg_root/cgroup.subtree_control" || echo +cpu >"$cg_root/cgroup.subtree_control"
    elif [ -f /sys/fs/cgroup/cpu/cpu.cfs_quota_us ]; then
        cg_root=/sys/fs/cgroup/cpu
    else
        echo "benches/server.sh: CPU_QUOTA needs a cgroup cpu controller (v2 or v1) under /sys/fs/cgroup" >&2
        exit 2
    fi
    [ -w "$cg_root" ] || { echo "benches/server.sh: CPU_QUOTA needs root (cannot write $cg_root)" >&2; exit 2; }
fi
# hold pid: put the process (all its threads) in a new cgroup of CPU_QUOTA percent of one core.
hold() {
    [ -n "$quota" ] || return 0
    local g
    g="$cg_root/shengbo-bench-$1"
    mkdir "$g"
    cgroups+=("$g")
    if [ -f "$g/cpu.max" ]; then
        echo "$((quota * 1000)) 100000" >"$g/cpu.max"
    else
        echo 100000 >"$g/cpu.cfs_period_us"
        echo "$((quota * 1000))" >"$g/cpu.cfs_quota_us"
    fi
    echo "$1" >"$g/cgroup.procs"
}

for tool in wrk nginx curl; do
    command -v "$tool" >/dev/null || { echo "benches/server.sh: \`$tool\` is not installed" >&2; exit 2; }
done

if [ -n "${SHENGBO_BIN:-}" ]; then
    bin=$SHENGBO_BIN
else
    (cd "$repo" && cargo build --release --quiet --bin shengbo)
    bin=$target/release/shengbo
fi
township=513431100
path="/v1/townships/$township/playlist.m3u8"

export SHENGBO_ROOT=$repo SHENGBO_DATA_DIR=$work/data
token=$("$bin" token add --coordinator --name bench | tail -n 1)
# shellcheck disable=SC2086
"$bin" serve --no-schedule --listen 127.0.0.1:18471 --base-url http://127.0.0.1:18471 ${SERVE_ARGS:-} \
    2>"$work/serve.log" &
server_pid=$!
for _ in $(seq 300); do curl -fs http://127.0.0.1:18471/healthz >/dev/null && break; sleep 0.1; done

# The same bytes as a static file for nginx.
mkdir -p "$work/www"
curl -fs -H "Authorization: Bearer $token" "http://127.0.0.1:18471$path" >"$work/www/playlist.m3u8"
etag=$(curl -fsI -H "Authorization: Bearer $token" "http://127.0.0.1:18471$path" |
    tr -d '\r' | awk -F': ' 'tolower($1)=="etag"{print $2}')

mkdir -p "$work/nginx/logs"
cat >"$work/nginx/nginx.conf" <<CONF
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log;
daemon off;
events { worker_connections 1024; }
http {
    access_log off;
    server {
        listen 127.0.0.1:18472;
        root $work/www;
        etag on;
        location / { default_type application/vnd.apple.mpegurl; add_header Cache-Control "private, max-age=60"; }
    }
}
CONF
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" &
nginx_pid=$!
for _ in $(seq 100); do curl -fs http://127.0.0.1:18472/playlist.m3u8 >/dev/null && break; sleep 0.1; done
nginx_etag=$(curl -fsI http://127.0.0.1:18472/playlist.m3u8 | tr -d '\r' | awk -F': ' 'tolower($1)=="etag"{print $2}')

# Sanity: both answer 304 to their own tag.
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" -H "If-None-Match: $etag" "http://127.0.0.1:18471$path")" = 304 ]
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $nginx_etag" http://127.0.0.1:18472/playlist.m3u8)" = 304 ]

switches() { # pid: its context switches so far, all threads
    cat /proc/"$1"/task/*/status 2>/dev/null | awk '/ctxt_switches/{n+=$2} END{print n+0}'
}
cpu() { # pid: its user and system CPU time so far, in clock ticks (all threads, not children)
    awk '{print $14, $15}' /proc/"$1"/stat
}
# nginx's worker (one, `worker_processes 1`): its process serves every request.
nginx_worker=$(pgrep -P "$nginx_pid" | head -n 1)
hold "$server_pid"
hold "$nginx_worker"
hz=$(getconf CLK_TCK)
declare -A rate p99s
run() { # key name url [headers...]
    local key=$1 name=$2 url=$3
    shift 3
    local args=()
    for h in "$@"; do args+=(-H "$h"); done
    local out pid=$server_pid
    [[ $key == n* ]] && pid=$nginx_worker
    local cs0 cs1 u0 s0 u1 s1
    cs0=$(switches "$pid")
    read -r u0 s0 < <(cpu "$pid")
    out=$(wrk -t"$threads" -c"$conns" -d"${secs}s" --latency "${args[@]}" "$url")
    cs1=$(switches "$pid")
    read -r u1 s1 < <(cpu "$pid")
    local rps p50 p99 non2xx
    rps=$(awk '/Requests\/sec/{print $2}' <<<"$out")
    p50=$(awk '$1=="50%"{print $2}' <<<"$out")
    p99=$(awk '$1=="99%"{print $2}' <<<"$out")
    non2xx=$(awk '/Non-2xx or 3xx/{print $NF}' <<<"$out")
    rate[$key]=$rps
    p99s[$key]=$p99
    local per cpu_per
    per=$(awk -v c=$((cs1 - cs0)) -v r="$rps" -v s="$secs" 'BEGIN { printf "%.2f", c / (r * s) }')
    # CPU per request in µs, user + system: what the request costs the server, whatever the load.
    cpu_per=$(awk -v u=$((u1 - u0)) -v k=$((s1 - s0)) -v r="$rps" -v s="$secs" -v hz="$hz" \
        'BEGIN { n = r * s; printf "%.1f + %.1f", 1e6 * u / hz / n, 1e6 * k / hz / n }')
    printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$name" "$rps" "$p50" "$p99" "${non2xx:-0}" "$per" "$cpu_per"
}

bytes=$(wc -c <"$work/www/playlist.m3u8")
echo "playlist.m3u8 of $township: $bytes bytes; wrk -t$threads -c$conns -d${secs}s; $(nproc) cores; $(date -u +%F); load $(cut -d' ' -f1-3 /proc/loadavg)${quota:+; each server held to $quota% of one core}"
echo
echo "| target | requests/s | p50 | p99 | non-2xx/3xx | server switches/request | server CPU µs/request (user + sys) |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
run s200 "shengbo 200 (full)" "http://127.0.0.1:18471$path" "Authorization: Bearer $token"
run s304 "shengbo 304 (If-None-Match)" "http://127.0.0.1:18471$path" "Authorization: Bearer $token" "If-None-Match: $etag"
run n200 "nginx 200 (static file)" "http://127.0.0.1:18472/playlist.m3u8"
run n304 "nginx 304 (If-None-Match)" "http://127.0.0.1:18472/playlist.m3u8" "If-None-Match: $nginx_etag"
echo
awk -v s200="${rate[s200]}" -v n200="${rate[n200]}" -v s304="${rate[s304]}" -v n304="${rate[n304]}" \
    -v p200="${p99s[s200]}" -v p304="${p99s[s304]}" 'BEGIN {
    printf "shengbo/nginx: 200 %.0f%% (goal >= 60%%, p99 %s), 304 %.0f%% (goal >= 80%%, p99 %s); p99 goal < 10 ms\n",
        100 * s200 / n200, p200, 100 * s304 / n304, p304
}'

# ROUNDS=n (n > 1): then n rounds that alternate the four targets, `seconds` each, so that a
# change in the machine's load hits shengbo and nginx alike; each round's ratios and their median.
rounds=${ROUNDS:-1}
if [ "$rounds" -gt 1 ]; then
    rps() { # url [headers...]
        local url=$1 args=()
        shift
        for h in "$@"; do args+=(-H "$h"); done
        wrk -t"$threads" -c"$conns" -d"${secs}s" "${args[@]}" "$url" | awk '/Requests\/sec/{print $2}'
    }
    echo
    echo "Interleaved, $rounds rounds of ${secs}s per target:"
    echo
    echo "| round | shengbo 200 | nginx 200 | 200 ratio | shengbo 304 | nginx 304 | 304 ratio |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    : >"$work/ratios"
    for i in $(seq "$rounds"); do
        a=$(rps "http://127.0.0.1:18471$path" "Authorization: Bearer $token")
        b=$(rps "http://127.0.0.1:18472/playlist.m3u8")
        c=$(rps "http://127.0.0.1:18471$path" "Authorization: Bearer $token" "If-None-Match: $etag")
        d=$(rps "http://127.0.0.1:18472/playlist.m3u8" "If-None-Match: $nginx_etag")
        awk -v i="$i" -v a="$a" -v b="$b" -v c="$c" -v d="$d" 'BEGIN {
            printf "| %d | %.0f | %.0f | %.0f%% | %.0f | %.0f | %.0f%% |\n", i, a, b, 100 * a / b, c, d, 100 * c / d
        }'
        awk -v a="$a" -v b="$b" -v c="$c" -v d="$d" 'BEGIN { print 100 * a / b, 100 * c / d }' >>"$work/ratios"
    done
    median() { sort -n | awk '{v[NR]=$1} END { printf "%.0f%%", NR % 2 ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2 }'; }
    echo
    echo "median shengbo/nginx: 200 $(cut -d' ' -f1 "$work/ratios" | median), 304 $(cut -d' ' -f2 "$work/ratios" | median); load $(cut -d' ' -f1-3 /proc/loadavg)"
fi
