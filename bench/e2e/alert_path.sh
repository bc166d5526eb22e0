#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The alert path end to end: `sluice scan` over a generated, time-ordered corpus (the load
# generator's demo corpus: ten hosts, web, firewall, sshd with brute force, cron...) with
#   anomaly   an anomaly model (trained on the corpus' first tenth, entity host), alerts to a file
#   rules     the Linux and correlation packs, events and alerts into an event store
#   all       both, with the store
# Each line prints wall time and events/s, CPU seconds (user + sys: on a shared machine the
# steadier figure) per run and per event, and the alert counts, so that two builds can be
# compared side by side on the same input: set SLUICE_BASE_BIN to a build of the base commit
# (the "peer" column in bench/RESULTS.md) and SLUICE_BIN to the build under test.
#
# usage: bench/e2e/alert_path.sh [LINES (default 2000000)] [WORKERS (default 2)] [RUNS (default 2)]
set -euo pipefail
cd "$(dirname "$0")/../.."
lines=${1:-2000000}
workers=${2:-2}
runs=${3:-2}
dir=${SLUICE_BENCH_DIR:-/tmp/sluice-bench-alerts}
sluice=${SLUICE_BIN:-build/tools/sluice}
base=${SLUICE_BASE_BIN:-}
mkdir -p "$dir"
corpus="$dir/gen-$lines.log"
if [[ ! -f "$corpus" ]]; then
  "$sluice" blast --print --generate --count "$lines" --seed 7 > "$corpus.tmp" 2>/dev/null
  mv "$corpus.tmp" "$corpus"
fi
if [[ ! -f "$dir/model-$lines.txt" ]]; then
  head -n $((lines / 10)) "$corpus" > "$dir/train.log"
  "$sluice" anomaly train "$dir/train.log" --entity host --table "$dir/table-$lines.tsv" \
    --model "$dir/model-$lines.txt" >&2
fi
cat "$corpus" > /dev/null  # page cache: the figure is Sluice's, not the disk's

run() {  # name binary args...
  local name=$1 bin=$2
  shift 2
  rm -rf "$dir/store" "$dir/anomaly.jsonl"
  cp "$dir/table-$lines.tsv" "$dir/table.tsv"  # the scan saves the table; start each run alike
  local err
  err=$(/usr/bin/time -f "cpu %U %S" "$bin" scan --stats --output none --workers "$workers" "$@" \
          "$corpus" 2>&1 >/dev/null)
  local stats events seconds cpu
  stats=$(grep '^{"events"' <<< "$err" | tail -n 1)
  cpu=$(grep '^cpu ' <<< "$err" | awk '{ print $2 + $3 }')
  events=$(sed -E 's/.*"events":([0-9]+).*/\1/' <<< "$stats")
  seconds=$(sed -E 's/.*"seconds":([0-9.]+).*/\1/' <<< "$stats")
  local stored="-" anomaly="-"
  [[ -d "$dir/store/alerts" ]] && stored=$("$bin" search --store "$dir/store" --alerts '* | count' | tr -dc 0-9)
  [[ -f "$dir/anomaly.jsonl" ]] && anomaly=$(wc -l < "$dir/anomaly.jsonl")
  awk -v n="$name" -v e="$events" -v s="$seconds" -v c="$cpu" -v st="$stored" -v an="$anomaly" \
    'BEGIN { printf "%-18s %8d events %7.2f s wall %7.3f M events/s  %6.2f s CPU %6.2f us CPU/event  stored alerts %s  anomaly file lines %s\n", n, e, s, e / s / 1e6, c, c / e * 1e6, st, an }'
  grep -E "anomaly windows|correlation:" <<< "$err" | sed 's/^/    /' || true
}

anomaly=(--anomaly-model "$dir/model-$lines.txt" --template-table "$dir/table.tsv"
         --anomaly-entity host --anomaly-backend cpu --anomaly-alerts "$dir/anomaly.jsonl")
rules=(--rules rules/packs/linux --rules rules/packs/correlation --store "$dir/store")
echo "corpus: $corpus ($(stat -c %s "$corpus") bytes, $lines lines), $workers workers"
for r in $(seq "$runs"); do
  for bin in ${base:+"$base"} "$sluice"; do
    label=$([[ "$bin" == "$base" ]] && echo base || echo this)
    run "$label anomaly" "$bin" "${anomaly[@]}"
    run "$label rules+store" "$bin" "${rules[@]}"
    run "$label all" "$bin" "${anomaly[@]}" "${rules[@]}"
  done
done
