#!/usr/bin/env bash
# Failover drill as a benchmark: PostgreSQL (a throwaway cluster on loopback), the simulator and
# two `shengbo serve` processes sharing the ledger; one instance SIGKILLed at four random moments
# of the runs (`lease_s = 3`), restarted once the other took over what it held; the next kill
# waits until it is up again, so each takeover is one instance's alone. The drill itself is the
# integration test `push::failover::failover_drill_two_serve_processes_one_killed_four_times`
# (it checks: every delivery final, none lost, no content under new ids, no delivery in flight
# from both instances at once); this script runs it and reports each takeover time — the
# instance's death to the other holding the leases of what the dead one held (and to its first
# attempt of one) — against the goal of the lease time + 5 s, with the machine's load.
#
# Usage: benches/failover.sh
# Needs: cargo, Debian's postgresql package (initdb, pg_ctl).
set -euo pipefail
cd "$(dirname "$0")/.."

lease_ms=3000
echo "machine: $(nproc) cores, load before: $(cut -d' ' -f1-3 /proc/loadavg)"
start=$(date +%s)
out=$(cargo test --quiet --test integration \
  push::failover::failover_drill_two_serve_processes_one_killed_four_times -- --nocapture 2>&1) \
  || { echo "$out" | tail -40; exit 1; }
end=$(date +%s)
echo "$out" | grep '^takeover:' || true
{ echo "$out" | grep -o 'deliveries after [0-9]* ms and sent the first after [0-9]* ms' || true; } |
  awk -v lease="$lease_ms" '
  { ms = $3; first = $10; n++; sum += ms; if (ms > max) max = ms; if (min == "" || ms < min) min = ms
    fsum += first; if (first > fmax) fmax = first }
  END {
    if (n == 0) { print "no kill landed while the instance held a pending delivery"; exit }
    printf "takeovers (leases held by the other): %d, min %d ms, mean %d ms, max %d ms (goal: within lease %d ms + 5000 ms: %s)\n",
      n, min, sum / n, max, lease, (max <= lease + 5000 ? "met" : "missed")
    printf "first attempt of a taken-over delivery: mean %d ms, max %d ms\n", fsum / n, fmax
  }'
echo "drill wall time: $((end - start)) s, load after: $(cut -d' ' -f1-3 /proc/loadavg)"
