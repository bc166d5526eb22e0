#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `sluice scan` end to end (read + parse + count, no rules, no output) over a large file built
# from the Loghub samples, with 2 workers. Prints the stats object and GB/s. The file is built
# once under $SLUICE_BENCH_DIR (default /tmp/sluice-bench) from the data in SLUICE_TEST_DATA.
#
# usage: bench/e2e/scan_throughput.sh [SIZE_MB (default 1024)] [WORKERS (default 2)]
set -euo pipefail
cd "$(dirname "$0")/../.."
size_mb=${1:-1024}
workers=${2:-2}
data=${SLUICE_TEST_DATA:-../shared/data}
dir=${SLUICE_BENCH_DIR:-/tmp/sluice-bench}
sluice=${SLUICE_BIN:-build/tools/sluice}
mkdir -p "$dir"
corpus="$dir/loghub-${size_mb}m.log"

if [[ ! -f "$corpus" ]]; then
  seed="$dir/loghub-seed.log"
  cat "$data"/loghub/{Linux,OpenSSH,Apache,HDFS,BGL,Thunderbird,HPC,Hadoop,Spark,Zookeeper,OpenStack,Android}/*_2k.log > "$seed"
  target=$((size_mb * 1024 * 1024))
  : > "$corpus.tmp"
  while (( $(stat -c %s "$corpus.tmp") < target )); do cat "$seed" >> "$corpus.tmp"; done
  mv "$corpus.tmp" "$corpus"
fi
bytes=$(stat -c %s "$corpus")
# Warm the page cache so the figure is Sluice's, not the disk's.
cat "$corpus" > /dev/null

echo "corpus: $corpus ($bytes bytes, $(wc -l < "$corpus") lines)"
stats=$("$sluice" scan --stats --output none --workers "$workers" "$corpus" 2>&1 >/dev/null | tail -n 1)
echo "sluice scan: $stats"
seconds=$(sed -E 's/.*"seconds":([0-9.]+).*/\1/' <<< "$stats")
awk -v b="$bytes" -v s="$seconds" 'BEGIN { printf "throughput: %.2f GB/s (%.1f MB/s)\n", b / s / 1e9, b / s / 1e6 }'
