#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Keeps packaging/ztagent.8 in step with `ztagent --help`:
#  - every long option in `ztagent --help` must be an item of the man page's OPTIONS section,
#  - every item of the OPTIONS section must be a long option that `ztagent --help` shows,
#  - a short alias in --help ("-p, --profile") must be in the same man page item,
#  - the man page must format without groff warnings (when man(1) is installed).
# Usage: check-manpage.sh PATH/TO/ztagent PATH/TO/ztagent.8
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 ZTAGENT_BINARY MAN_PAGE" >&2
  exit 64
fi
binary=$1
manpage=$2
[[ -x $binary ]] || { echo "check-manpage: $binary: not an executable; build the ztagent target first" >&2; exit 1; }
[[ -r $manpage ]] || { echo "check-manpage: $manpage: cannot read the man page" >&2; exit 1; }

help_text=$("$binary" --help) || { echo "check-manpage: '$binary --help' failed" >&2; exit 1; }

# Long options anywhere in --help (usage lines, option list, examples in descriptions).
mapfile -t help_opts < <(grep -oE -- '(^|[^A-Za-z0-9-])--[a-z][a-z0-9-]*' <<<"$help_text" |
  sed -E 's/^[^-]*//' | sort -u)

# The OPTIONS section's item tags (the line after each .TP), with roff escapes removed.
man_tags=$(awk '
  /^\.SH/ { in_opts = ($0 ~ /^\.SH "?OPTIONS"?[[:space:]]*$/); next }
  in_opts && /^\.TP/ { want_tag = 1; next }
  in_opts && want_tag { print; want_tag = 0 }
' "$manpage" | sed -E 's/\\f[BIRP]//g; s/\\f\([A-Z]{2}//g; s/\\-/-/g; s/\\&//g')
mapfile -t man_opts < <(grep -oE -- '(^|[^A-Za-z0-9-])--[a-z][a-z0-9-]*' <<<"$man_tags" |
  sed -E 's/^[^-]*//' | sort -u)

failures=0
fail() {
  echo "check-manpage: $*" >&2
  failures=$((failures + 1))
}

if [[ ${#help_opts[@]} -eq 0 ]]; then
  fail "found no long option in '$binary --help'"
fi
if [[ ${#man_opts[@]} -eq 0 ]]; then
  fail "$manpage: found no option item (.TP tag) in the OPTIONS section"
fi

for opt in "${help_opts[@]}"; do
  if ! printf '%s\n' "${man_opts[@]}" | grep -qxF -- "$opt"; then
    fail "$opt is in 'ztagent --help' but not an item of the OPTIONS section of $manpage; document it there"
  fi
done
for opt in "${man_opts[@]}"; do
  if ! printf '%s\n' "${help_opts[@]}" | grep -qxF -- "$opt"; then
    fail "$opt is an item of the OPTIONS section of $manpage but not in 'ztagent --help'; remove it or add it to --help"
  fi
done

# Short aliases: "  -p, --profile ..." in --help needs "-p" in the man page item of --profile.
while read -r short long; do
  tag=$(grep -E -- "(^|[^A-Za-z0-9-])${long}([^A-Za-z0-9-]|$)" <<<"$man_tags" | head -n1 || true)
  if [[ -n $tag ]] && ! grep -qE -- "(^|[^A-Za-z0-9-])${short}([^A-Za-z0-9-]|$)" <<<"$tag"; then
    fail "$long has the short form $short in 'ztagent --help' but not in its man page item; add it"
  fi
done < <(sed -nE 's/^[[:space:]]+(-[A-Za-z]), (--[a-z][a-z0-9-]*).*/\1 \2/p' <<<"$help_text")

if command -v man >/dev/null 2>&1; then
  warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$manpage" 2>&1 >/dev/null || true)
  if [[ -n $warnings ]]; then
    fail "$manpage: groff warnings: $warnings"
  fi
fi

if [[ $failures -ne 0 ]]; then
  echo "check-manpage: $failures problem(s); help has ${#help_opts[@]} long options, the man page ${#man_opts[@]}" >&2
  exit 1
fi
echo "check-manpage: ${#help_opts[@]} long options in step between --help and $manpage"
