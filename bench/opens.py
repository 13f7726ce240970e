#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""How often one run opens each host file: reads `strace -f -y -e trace=open,openat,openat2` output
and counts the successful opens whose resolved path is one of the given files.

    opens.py STRACE_LOG ROOT /var/lib/dpkg/status /etc/passwd ...

Prints "PATH READS+PATHS" per file: READS opens that can read data, PATHS O_PATH opens (an fd for
fstat only: ztagent looks at a file's type before it opens it for reading, so a FIFO or device is
never opened). Exit 1 when a file was opened for reading more than once (issue 16: each host file is
read and parsed at most once per run). Paths with a directory fd (openat(5</r/etc>, "passwd", ...))
are joined with that directory, as strace -y shows it; calls that strace -f splits between threads
("<unfinished ...>", "<... openat resumed>") are joined first.
"""
import os
import re
import sys

RESUMED = re.compile(r'<\.\.\. open(?:at2?)? resumed>')
LINE = re.compile(r'open(?:at2?)?\((?:(-?\d+|AT_FDCWD)(?:<([^>]*)>)?, )?"([^"]*)".*\)\s*=\s*(-?\d+)(?:<([^>]*)>)?')


def main():
    log, root, files = sys.argv[1], sys.argv[2].rstrip("/"), sys.argv[3:]
    wanted = {os.path.normpath(root + f): f for f in files}
    counts = {f: 0 for f in files}
    looks = {f: 0 for f in files}
    pending = {}  # pid -> the start of a call strace -f split ("<unfinished ...>" / "<... resumed>")
    with open(log, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            pid = line.split(" ", 1)[0]
            if "<unfinished ...>" in line:
                pending[pid] = line.split("<unfinished ...>", 1)[0]
                continue
            resumed = RESUMED.search(line)
            if resumed:
                line = pending.pop(pid, "") + line[resumed.end():]
            m = LINE.search(line)
            if not m or int(m.group(4)) < 0:
                continue
            dirpath, name, opened = m.group(2), m.group(3), m.group(5)
            if opened:  # strace -y shows the path the new fd refers to
                path = opened
            else:
                path = name if name.startswith("/") or not dirpath else os.path.join(dirpath, name)
            path = os.path.normpath(path)
            if path in wanted:
                if "O_PATH" in line:
                    looks[wanted[path]] += 1
                else:
                    counts[wanted[path]] += 1
    worst = 0
    for f in files:
        print(f"{f} {counts[f]}+{looks[f]}")
        worst = max(worst, counts[f])
    return 0 if worst <= 1 else 1


if __name__ == "__main__":
    sys.exit(main())
