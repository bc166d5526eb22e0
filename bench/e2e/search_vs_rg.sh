#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `sluice search` on the event store against ripgrep on the same raw logs, side by side in one
# run. The corpus is Loghub-derived syslog (bench/e2e/search_corpus.py: 1,000 hosts, a month of
# timestamps, a needle user `zk_incident` on 10 lines), cut into 512 MiB files; the store is
# built from it with `sluice scan --store`. Both sides run with warm page caches (each input is
# read once before timing) and on every core (rg searches the files in parallel; sluice scans
# blocks on oneTBB's pool).
#
# Queries (each answer is checked: sluice's count must equal rg's, or the line count):
#   needle  `zk_incident | count`          vs rg -c -i -w -F zk_incident   (few matches)
#   word    `error | count`                vs rg -c -i -w -F error         (in most blocks)
#   regex   `/fail(ed|ure)/ | count`       vs rg -c 'fail(ed|ure)'         (must scan everything)
#   hosts   `| count by host`              events/s (vs the line count; rg has no peer)
#
# usage: bench/e2e/search_vs_rg.sh [SIZE_GB (default 10)] [RUNS (default 3)]
# env:   SLUICE_BENCH_DIR (default /tmp/sluice-search-bench), SLUICE_BIN, SLUICE_TEST_DATA,
#        QUERIES (default "needle word regex hosts": which figures to take)
set -euo pipefail
cd "$(dirname "$0")/../.."
size_gb=${1:-10}
runs=${2:-3}
queries=" ${QUERIES:-needle word regex hosts} "
data=${SLUICE_TEST_DATA:-../shared/data}
dir=${SLUICE_BENCH_DIR:-/tmp/sluice-search-bench}
sluice=${SLUICE_BIN:-build/tools/sluice}
corpus="$dir/corpus-${size_gb}g"
store="$dir/store-${size_gb}g"
mkdir -p "$dir"

if [[ ! -f "$corpus/.done" ]]; then
  rm -rf "$corpus"
  python3 bench/e2e/search_corpus.py "$data/loghub" "$corpus" \
    "$(awk -v g="$size_gb" 'BEGIN { printf "%d", g * 1024 * 1024 * 1024 }')" 10
  touch "$corpus/.done"
fi
raw_bytes=$(cat "$corpus"/part-*.log | wc -c)
lines=$(cat "$corpus"/part-*.log | wc -l)

if [[ ! -f "$store/.done" ]]; then
  rm -rf "$store"
  start=$(date +%s.%N)
  if ! "$sluice" scan --store "$store" --output none --stats "$corpus"/part-*.log \
    2> "$dir/ingest.log"; then
    echo "sluice scan failed:" >&2
    cat "$dir/ingest.log" >&2
    exit 1
  fi
  end=$(date +%s.%N)
  echo "ingest: $(tail -n 2 "$dir/ingest.log" | head -n 1)"
  awk -v s="$start" -v e="$end" -v n="$lines" \
    'BEGIN { printf "ingest: %.1f s wall, %.0f events/s\n", e - s, n / (e - s) }'
  touch "$store/.done"
fi
store_bytes=$(du -sb "$store" | cut -f1)
echo "machine: $(lscpu | sed -n 's/^Model name: *//p') ($(nproc) cores), $(date -u +%Y-%m-%dT%H:%MZ)"
echo "corpus: $raw_bytes bytes in $(ls "$corpus"/part-*.log | wc -l) files, $lines lines"
awk -v s="$store_bytes" -v r="$raw_bytes" \
  'BEGIN { printf "store: %d bytes (%.3f of raw)\n", s, s / r }'

# Warm the page cache for both sides.
cat "$corpus"/part-*.log > /dev/null
cat "$store"/* > /dev/null 2>&1 || true

# time_runs NAME CMD...: runs CMD $runs times; prints the median and the spread in seconds and
# leaves the last output in $dir/out.NAME.
time_runs() {
  local name=$1
  shift
  local times=()
  for ((i = 0; i < runs; ++i)); do
    local s e
    s=$(date +%s.%N)
    "$@" > "$dir/out.$name" 2> "$dir/err.$name"
    e=$(date +%s.%N)
    times+=("$(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.4f", e - s }')")
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '
    { t[NR] = $1 }
    END { m = t[int((NR + 1) / 2)]; printf "%.4f %.4f %.4f\n", m, t[1], t[NR] }'
}

sluice_count() { sed -E 's/.*"count":([0-9]+).*/\1/' "$dir/out.$1"; }
rg_count() { awk -F: '{ s += $NF } END { print s + 0 }' "$dir/out.$1"; }

compare() {
  local name=$1 query=$2
  shift 2
  local st rt sc rc
  st=$(time_runs "s_$name" "$sluice" search --store "$store" --no-progress "$query")
  rt=$(time_runs "r_$name" "$@")
  sc=$(sluice_count "s_$name")
  rc=$(rg_count "r_$name")
  if [[ "$sc" != "$rc" ]]; then
    echo "MISMATCH $name: sluice $sc, rg $rc" >&2
    exit 1
  fi
  read -r sm smin smax <<< "$st"
  read -r rm rmin rmax <<< "$rt"
  awk -v n="$name" -v q="$query" -v c="$sc" -v sm="$sm" -v smin="$smin" -v smax="$smax" \
    -v rm="$rm" -v rmin="$rmin" -v rmax="$rmax" -v b="$raw_bytes" 'BEGIN {
      printf "%-7s %-26s matches %-9d sluice %.3f s [%.3f-%.3f]  rg %.3f s [%.3f-%.3f]  " \
             "speedup %.1fx  (rg %.2f GB/s)\n", n, q, c, sm, smin, smax, rm, rmin, rmax, rm / sm,
             b / rm / 1e9 }'
}

echo "runs per figure: $runs (median [min-max])"
wanted() { [[ "$queries" == *" $1 "* ]]; }
if wanted needle; then compare needle 'zk_incident | count' rg -c -i -w -F zk_incident "$corpus"; fi
if wanted word; then compare word 'error | count' rg -c -i -w -F error "$corpus"; fi
if wanted regex; then compare regex '/fail(ed|ure)/ | count' rg -c 'fail(ed|ure)' "$corpus"; fi
if ! wanted hosts; then exit 0; fi

ht=$(time_runs hosts "$sluice" search --store "$store" --no-progress '| count by host')
total=$(sed -E 's/.*"count":([0-9]+).*/\1/' "$dir/out.hosts" | awk '{ s += $1 } END { print s }')
if [[ "$total" != "$lines" ]]; then
  echo "MISMATCH count by host: $total events counted, $lines lines" >&2
  exit 1
fi
read -r hm hmin hmax <<< "$ht"
awk -v m="$hm" -v lo="$hmin" -v hi="$hmax" -v n="$lines" -v h="$(wc -l < "$dir/out.hosts")" \
  'BEGIN { printf "hosts   %-26s %d hosts, %d events in %.3f s [%.3f-%.3f]: %.1f M events/s\n",
           "| count by host", h, n, m, lo, hi, n / m / 1e6 }'
