#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Runs benchmark commands interleaved and reports medians of wall time, CPU time and peak RSS.

Used by bench/run.sh (not a test). Each command is a JSON list of argv lists, one per label:

    measure.py --runs 21 --json out.json LABEL=ARGV_JSON [LABEL=ARGV_JSON ...]

CPU time is the child's user + system time from wait4(2) (microsecond resolution, unlike
/usr/bin/time's 10 ms). Round i runs every command once, in the order given, so a busy machine
slows all of them alike. Peak RSS comes from three extra runs under GNU time (%M): the ru_maxrss
of a child forked from Python counts Python's own pages, copied by fork() before the exec.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time


def run_once(argv):
    start = time.perf_counter_ns()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall_ms = (time.perf_counter_ns() - start) / 1e6
    proc.returncode = os.waitstatus_to_exitcode(status)
    cpu_ms = (usage.ru_utime + usage.ru_stime) * 1000.0
    return {"wall_ms": wall_ms, "cpu_ms": cpu_ms, "rss_kib": usage.ru_maxrss, "exit": proc.returncode}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=21)
    ap.add_argument("--json", help="write the medians as JSON to this file")
    ap.add_argument("commands", nargs="+", help="LABEL=ARGV_JSON")
    args = ap.parse_args()
    commands = []
    for c in args.commands:
        label, _, argv = c.partition("=")
        commands.append((label, json.loads(argv)))
    samples = {label: [] for label, _ in commands}
    for _ in range(args.runs):
        for label, argv in commands:
            samples[label].append(run_once(argv))
    rss = {}
    with tempfile.NamedTemporaryFile(mode="r") as tmp:
        for label, argv in commands:
            peak = 0
            for _ in range(3):
                subprocess.run(["/usr/bin/time", "-f", "%M", "-o", tmp.name] + argv, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
                tmp.seek(0)
                lines = [l for l in tmp.read().split() if l.isdigit()]
                peak = max(peak, int(lines[-1]) if lines else 0)
            rss[label] = peak
    out = {}
    for label, rows in samples.items():
        exits = sorted({r["exit"] for r in rows})
        out[label] = {
            "wall_ms": statistics.median(r["wall_ms"] for r in rows),
            "cpu_ms": statistics.median(r["cpu_ms"] for r in rows),
            "rss_mib": rss[label] / 1024.0,
            "exit": exits,
        }
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(out, f, indent=1)
    for label, m in out.items():
        print(f"{label:44s} wall {m['wall_ms']:8.1f} ms  cpu {m['cpu_ms']:8.1f} ms  "
              f"peak RSS {m['rss_mib']:5.1f} MiB  exit {m['exit']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
