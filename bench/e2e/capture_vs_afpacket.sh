#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# DPDK net_ring against AF_PACKET on the same traffic, end to end (packets in; syslog events
# parsed and flow records out of a real Pipeline), side by side: runs `capture_e2e dpdk` and
# `capture_e2e afpacket` alternately RUNS times and prints each run's JSON line, then the
# median (min-max) packets/s and packets per CPU second of each and their ratio.
# Needs root (AF_PACKET, EAL) and a build with DPDK:
#   cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release && ninja -C build capture_e2e
#   bench/e2e/capture_vs_afpacket.sh
# Knobs: RUNS (default 5), SECONDS_PER_RUN (3), WORKERS (1), BUILD (build).
set -euo pipefail
RUNS=${RUNS:-5}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-3}
WORKERS=${WORKERS:-1}
BUILD=${BUILD:-build}
bin="$BUILD/bench/e2e/capture_e2e"
[[ -x $bin ]] || { echo "capture_vs_afpacket: $bin not built (needs DPDK)" >&2; exit 1; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for ((i = 0; i < RUNS; i++)); do
  for mode in dpdk afpacket; do
    "$bin" "$mode" --seconds "$SECONDS_PER_RUN" --workers "$WORKERS" 2>/dev/null | tail -1 | tee -a "$out"
  done
done
python3 - "$out" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
def summary(mode, key):
    v = sorted(r[key] for r in runs if r["mode"] == mode)
    return statistics.median(v), v[0], v[-1]
for key in ("packets_per_second", "events_per_second", "packets_per_cpu_second"):
    d = summary("dpdk", key)
    a = summary("afpacket", key)
    print(f"{key}: dpdk {d[0]:,.0f} ({d[1]:,.0f}-{d[2]:,.0f})  "
          f"afpacket {a[0]:,.0f} ({a[1]:,.0f}-{a[2]:,.0f})  ratio {d[0] / a[0]:.2f}x")
PY
