#!/usr/bin/env bash
# STYLE.md §3: only agent/host/ touches the OS. Fails when checks/, provisioners/ or the core include
# an OS-facing header or call an OS API directly. Usage: tests/lint/host-boundary.sh [SOURCE_DIR]
set -uo pipefail
src=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$src" || exit 2
pattern='#include[[:space:]]*<(boost/process|boost/filesystem|sys/acl\.h|acl/libacl\.h|pwd\.h|grp\.h|shadow\.h|fstream|fcntl\.h|sys/stat\.h|sys/xattr\.h|unistd\.h|cstdio)|(^|[^_[:alnum:]:.>])(::)?(open|openat|fopen|popen|system|execv[pe]?|fork|getpwnam(_r)?|getgrnam(_r)?|chmod|chown|mkdir|unlink|rename)[[:space:]]*\('
hits=$(grep -nE "$pattern" checks/*.[ch]pp provisioners/*.[ch]pp agent/run/*.[ch]pp agent/report/*.[ch]pp agent/profile/*.[ch]pp 2>/dev/null | grep -vE '^\S+:[0-9]+:\s*//')
if [ -n "$hits" ]; then
  echo "host-boundary: OS access outside agent/host/ (STYLE.md §3):" >&2
  echo "$hits" >&2
  echo "host-boundary: 0 passed, 1 failed"
  exit 1
fi
echo "host-boundary: 1 passed, 0 failed"
