#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes a large syslog corpus for bench/e2e/search_vs_rg.sh from the Loghub 2k samples.

Every line is RFC 3164: `<PRI>Mmm dd hh:mm:ss HOST APP: MESSAGE`. OpenSSH and Linux lines keep
their own tag and message (their original header is replaced); the other datasets become the
message of an app named after the dataset. Timestamps rise steadily over October (so the store
gets time-ordered blocks), hosts are drawn from 1,000 names (host0000 .. host0999) in runs of
64 lines (as a relay forwards bursts per sender), and NEEDLES lines naming the user
`zk_incident` are spread evenly through the corpus: the needle the benchmark searches for.
The corpus is cut into files of PART_BYTES (512 MiB by default) named part-0000.log, ..., as
rotated logs are, so that ripgrep can search them on every core.

usage: search_corpus.py LOGHUB_DIR OUT_DIR SIZE_BYTES [NEEDLES] [PART_BYTES]
"""
import os
import random
import re
import sys

MONTH_SECONDS = 31 * 86400
SYSLOG_HEADER = re.compile(r"^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ ")


def bodies(loghub):
    out = []
    for name in sorted(os.listdir(loghub)):
        path = os.path.join(loghub, name, f"{name}_2k.log")
        if not os.path.isfile(path):
            continue
        app = name.lower()
        with open(path, "rb") as f:
            for raw in f:
                line = raw.rstrip(b"\r\n").decode("latin-1")
                if not line:
                    continue
                m = SYSLOG_HEADER.match(line)
                if m:
                    out.append(line[m.end():])
                else:
                    out.append(f"{app}: {line}")
    return out


def main():
    loghub, out_dir, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
    needles = int(sys.argv[4]) if len(sys.argv) > 4 else 10
    part_bytes = int(sys.argv[5]) if len(sys.argv) > 5 else 512 << 20
    os.makedirs(out_dir, exist_ok=True)
    src = bodies(loghub)
    rng = random.Random(42)
    avg = sum(len(b) for b in src) / len(src) + 30
    lines = int(size / avg)
    needle_every = max(lines // max(needles, 1), 1)
    hosts = [f"host{i:04d}" for i in range(1000)]
    written = 0
    needle_count = 0
    buf = []
    buf_bytes = 0
    host = hosts[0]
    last_sec = -1
    stamp = ""
    part = 0
    part_written = 0

    def open_part(n):
        return open(os.path.join(out_dir, f"part-{n:04d}.log"), "w", encoding="latin-1",
                    newline="\n")

    out = open_part(part)
    try:
        i = 0
        while written + buf_bytes < size:
            # Time follows the bytes written, so the last line is still in October.
            sec = (written + buf_bytes) * (MONTH_SECONDS - 1) // size
            if sec != last_sec:
                day, rem = divmod(sec, 86400)
                stamp = f"Oct {day + 1:2d} {rem // 3600:02d}:{rem // 60 % 60:02d}:{rem % 60:02d}"
                last_sec = sec
            if i % 64 == 0:
                host = hosts[rng.randrange(1000)]
            if i % needle_every == needle_every // 2 and needle_count < needles:
                body = ("sshd[4242]: Accepted password for zk_incident from 203.0.113.77 "
                        "port 51234 ssh2")
                needle_count += 1
            else:
                body = src[i % len(src)]
            line = f"<38>{stamp} {host} {body}\n"
            buf.append(line)
            buf_bytes += len(line)
            if buf_bytes >= 1 << 20:
                out.write("".join(buf))
                written += buf_bytes
                part_written += buf_bytes
                buf = []
                buf_bytes = 0
                if part_written >= part_bytes and written < size:
                    out.close()
                    part += 1
                    part_written = 0
                    out = open_part(part)
            i += 1
        if buf:
            out.write("".join(buf))
            written += buf_bytes
    finally:
        out.close()
    print(f"{out_dir}: {written} bytes in {part + 1} files, {i} lines, {needle_count} needle lines")


if __name__ == "__main__":
    main()
