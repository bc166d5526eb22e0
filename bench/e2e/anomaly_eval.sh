#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The anomaly figures of bench/RESULTS.md in one go: Loghub grouping accuracy of the template
# miner, HDFS session detection (DeepLog's data) at the default settings and the ablations, BGL_2k
# line labels, and the mining and scoring micro-benchmarks.
#
# usage: bench/e2e/anomaly_eval.sh [BUILD_DIR]     (default build/; SLUICE_TEST_DATA as usual)
set -euo pipefail
cd "$(dirname "$0")/../.."
build="${1:-build}"
data="${SLUICE_TEST_DATA:-$(pwd)/../shared/data}"
sluice="$build/tools/sluice"

echo "== machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(date -u +%F)"
echo "== template mining: grouping accuracy (Loghub 2k; Content column; default settings)"
python3 bench/e2e/template_accuracy.py --sluice "$sluice" --data "$data/loghub"

echo "== HDFS sessions (DeepLog): defaults (variance 0.95, alpha 0.001), 10 seeds"
"$sluice" anomaly eval --deeplog "$data/hdfs/deeplog" --seeds 10 --backend cpu 2>/dev/null
echo "== HDFS: training on 80% of the normal sessions"
"$sluice" anomaly eval --deeplog "$data/hdfs/deeplog" --seeds 10 --train-share 0.8 \
  --backend cpu 2>/dev/null | tail -4
echo "== HDFS: PCA residual alone (no known-window memory)"
"$sluice" anomaly eval --deeplog "$data/hdfs/deeplog" --seeds 10 --known-windows 0 \
  --backend cpu 2>/dev/null | tail -4
for v in 0.9 0.99; do
  echo "== HDFS: variance $v"
  "$sluice" anomaly eval --deeplog "$data/hdfs/deeplog" --seeds 10 --variance "$v" \
    --backend cpu 2>/dev/null | tail -4
done

echo "== BGL_2k line labels"
"$sluice" anomaly eval --bgl "$data/loghub/BGL/BGL_2k.log" --seeds 10 --backend cpu 2>/dev/null

if [[ -x "$build/bench/anomaly_bench" ]]; then
  echo "== micro-benchmarks"
  "$build/bench/anomaly_bench" --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
fi
