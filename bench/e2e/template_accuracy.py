#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Grouping accuracy of `sluice templates` on the Loghub 2k samples.

For each data set in the Loghub folder, the message part of every line (the `Content` column of
`<name>_2k.log_structured.csv`, which is what Loghub's own benchmark feeds a parser after its
per-set header format) is piped through `sluice templates -`, and the grouping is compared with the
ground truth in `*_structured.csv` and in the corrected `*_structured_corrected.csv`.

Grouping accuracy is Loghub's metric (Zhu et al., "Tools and Benchmarks for Automated Log
Parsing", ICSE-SEIP 2019): a line counts as correct when the set of lines its template groups
together is exactly the set of lines of its ground-truth event. The published Drain figures are
printed beside ours (Table 2 of that paper, per-set tuned Drain).

usage: template_accuracy.py [--sluice PATH] [--data DIR] [--min] [extra sluice templates options]
With --min the exit status is 1 when any set falls below Drain's figure on the original truth.
"""
import argparse
import collections
import csv
import os
import subprocess
import sys
import json

# Drain's grouping accuracy, Zhu et al. ICSE-SEIP 2019, Table 2.
DRAIN = {
    "HDFS": 0.998, "Hadoop": 0.948, "Spark": 0.920, "Zookeeper": 0.967, "OpenStack": 0.733,
    "BGL": 0.963, "HPC": 0.887, "Thunderbird": 0.955, "Windows": 0.997, "Linux": 0.690,
    "Mac": 0.787, "Android": 0.911, "HealthApp": 0.780, "Apache": 1.000, "OpenSSH": 0.788,
    "Proxifier": 0.527,
}


def grouping_accuracy(truth, parsed):
    truth_groups = collections.Counter(truth)
    by_parsed = collections.defaultdict(list)
    for i, p in enumerate(parsed):
        by_parsed[p].append(i)
    correct = 0
    for lines in by_parsed.values():
        events = {truth[i] for i in lines}
        if len(events) == 1 and truth_groups[next(iter(events))] == len(lines):
            correct += len(lines)
    return correct / len(truth)


def read_structured(path):
    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        rows = list(csv.DictReader(f))
    return [r["Content"] for r in rows], [r["EventId"] for r in rows]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    ap = argparse.ArgumentParser()
    ap.add_argument("--sluice", default=os.path.join(root, "build", "tools", "sluice"))
    ap.add_argument("--data", default=os.path.join(root, "..", "shared", "data", "loghub"))
    ap.add_argument("--min", action="store_true")
    args, extra = ap.parse_known_args()
    sets = sorted(d for d in os.listdir(args.data)
                  if os.path.isfile(os.path.join(args.data, d, d + "_2k.log_structured.csv")))
    print(f"{'data set':<12} {'lines':>5} {'templates':>9} {'GA':>6} {'GA corr':>7} {'Drain':>6}")
    below = []
    totals = [[], [], []]
    for name in sets:
        base = os.path.join(args.data, name, name + "_2k.log_structured")
        content, truth = read_structured(base + ".csv")
        _, truth_corr = read_structured(base + "_corrected.csv") if os.path.exists(
            base + "_corrected.csv") else (None, None)
        out = subprocess.run([args.sluice, "templates", *extra, "-"],
                             input="\n".join(content) + "\n", capture_output=True, text=True,
                             check=True).stdout
        parsed = [json.loads(l)["template_id"] for l in out.splitlines()]
        assert len(parsed) == len(truth), (name, len(parsed), len(truth))
        ga = grouping_accuracy(truth, parsed)
        ga_c = grouping_accuracy(truth_corr, parsed) if truth_corr else float("nan")
        drain = DRAIN.get(name)
        totals[0].append(ga)
        totals[1].append(ga_c)
        totals[2].append(drain)
        print(f"{name:<12} {len(truth):>5} {len(set(parsed)):>9} {ga:>6.3f} {ga_c:>7.3f} "
              f"{drain:>6.3f}")
        if drain is not None and ga < drain:
            below.append(name)
    n = len(sets)
    print(f"{'average':<12} {'':>5} {'':>9} {sum(totals[0]) / n:>6.3f} "
          f"{sum(totals[1]) / n:>7.3f} {sum(totals[2]) / n:>6.3f}")
    if below:
        print("below Drain's published figure: " + ", ".join(below))
    return 1 if (args.min and below) else 0


if __name__ == "__main__":
    sys.exit(main())
