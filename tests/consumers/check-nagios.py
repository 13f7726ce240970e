#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Checks one Nagios plugin run against the Nagios Plugin Development Guidelines
(https://nagios-plugins.org/doc/guidelines.html, "Plugin Output for Nagios", "Performance data",
"Plugin Return Codes"):
  - the exit code is 0 OK, 1 WARNING, 2 CRITICAL or 3 UNKNOWN;
  - the first line is "SERVICE STATUS - text" with STATUS the word of that exit code, and the text
    holds no '|' (it starts performance data) and nothing but printable characters;
  - performance data after ' | ' is space-separated 'label'=value[UOM];[warn];[crit];[min];[max],
    a label without '=' or "'" unless quoted, UOM one of s us ms % B KB MB TB c (or none), value a
    number (or U).
Usage: check-nagios.py EXIT_CODE [EXPECTED_EXIT] < plugin-output
"""
import re
import sys

WORDS = {0: "OK", 1: "WARNING", 2: "CRITICAL", 3: "UNKNOWN"}
NUM = r"-?[0-9]+(\.[0-9]+)?"
PERF = re.compile(r"^('[^'=]+'|[^'= ]+)=(" + NUM + r"|U)(s|us|ms|%|B|KB|MB|TB|c)?(;(" + NUM + r")?){0,4}$")


def fail(msg):
    print(f"check-nagios: FAIL: {msg}")
    sys.exit(1)


def main():
    code = int(sys.argv[1])
    expected = int(sys.argv[2]) if len(sys.argv) > 2 else None
    text = sys.stdin.read()
    if code not in WORDS:
        fail(f"exit code {code} is outside 0-3 (Nagios logs 'Return code out of bounds')")
    if expected is not None and code != expected:
        fail(f"exit code {code}, expected {expected}")
    if not text.endswith("\n") or text.count("\n") != 1:
        fail(f"expected exactly one line, got {text!r}")
    line = text[:-1]
    if any(ord(c) < 0x20 for c in line):
        fail(f"control characters in {line!r}")
    head, sep, perf = line.partition(" | ")
    m = re.match(r"^([A-Z][A-Z0-9_]*) (OK|WARNING|CRITICAL|UNKNOWN) - (.+)$", head)
    if not m:
        fail(f"first line is not 'SERVICE STATUS - text': {head!r}")
    if m.group(2) != WORDS[code]:
        fail(f"status word {m.group(2)} but exit code {code} ({WORDS[code]})")
    if "|" in m.group(3):
        fail(f"'|' in the text part: {head!r}")
    if sep:
        for item in perf.split(" "):
            if not PERF.match(item):
                fail(f"performance data item {item!r} does not match 'label'=value[UOM];warn;crit;min;max")
    print(f"check-nagios: ok: exit {code} {WORDS[code]}: {line}")


main()
