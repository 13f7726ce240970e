#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Drives packaging/ztagent.bash-completion through bash itself: COMP_WORDS/COMP_CWORD set as
# readline sets them, the completion function called as `complete -F` calls it (with
# bash-completion's _init_completion when /usr/share/bash-completion is installed, the fallback
# otherwise), COMPREPLY compared with what the binary itself accepts:
#   - --only/--skip offer exactly the steps `ztagent list` prints, and complete after a comma;
#   - --set offers every key the site-config loader knows (the "known:" list of its unknown-key
#     error), and each offered key is accepted by the loader;
#   - --format/--report offer exactly the formats the binary accepts; commands, schedule actions.
# Usage: completion-test.sh ZTAGENT_BINARY SOURCE_DIR
set -uo pipefail
bin=$1
src=$2
passed=0 failed=0
ok() { echo "completion: ok: $*"; passed=$((passed + 1)); }
bad() { echo "completion: FAIL: $*"; failed=$((failed + 1)); }
work=$(mktemp -d /tmp/ztagent-completion.XXXXXX)
trap 'rm -rf "$work"' EXIT

if [[ -r /usr/share/bash-completion/bash_completion ]]; then
  # shellcheck disable=SC1091
  source /usr/share/bash-completion/bash_completion
  echo "completion: with bash-completion's _init_completion"
else
  echo "completion: bash-completion not installed: the completion's own fallback parser (apt-get install bash-completion)"
fi
# shellcheck disable=SC1091
source "$src/packaging/ztagent.bash-completion"
[[ $(complete -p ztagent 2>/dev/null) == "complete -F _ztagent ztagent" ]] && ok "complete -F _ztagent ztagent" ||
  bad "complete -p ztagent: $(complete -p ztagent 2>&1)"

# complete_line WORDS...: the last word is the one being completed; prints COMPREPLY, one per line.
complete_line() {
  COMP_WORDS=("$bin" "$@")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMP_LINE="${COMP_WORDS[*]}"
  COMP_POINT=${#COMP_LINE}
  COMPREPLY=()
  _ztagent ztagent "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}" 2>/dev/null
  printf '%s\n' "${COMPREPLY[@]}" | sort -u
}
same() {  # NAME EXPECTED ACTUAL
  if [[ $2 == "$3" ]]; then ok "$1"; else bad "$1: expected [$(echo $2)], got [$(echo $3)]"; fi
}

mkdir -p "$work/tree/etc"
printf 'ID=debian\nVERSION_ID="12"\n' >"$work/tree/etc/os-release"
steps=$("$bin" list --profile debian-12 | awk 'NR > 1 && /^[a-z]/ { print $1 }' | sort -u)
[[ $(wc -l <<<"$steps") -ge 11 ]] || bad "ztagent list shows fewer than 11 steps: $steps"
same "--only offers every step of ztagent list" "$steps" "$(complete_line verify --profile debian-12 --only '')"
same "--skip with --root offers the tree's profile's steps" "$steps" "$(complete_line verify --root "$work/tree" --skip '')"
same "--only after a comma" "$(grep '^s' <<<"$steps" | sed 's/^/user,/')" "$(complete_line plan --profile debian-12 --only user,s)"
for s in secrets units start runtime; do
  grep -qx "$s" <<<"$steps" || bad "ztagent list has no step $s"
done

# --set: the loader's own list of keys (its unknown-key error lists them all when nothing is close).
known=$("$bin" plan --profile debian-12 --root "$work/tree" --set zzzzzzzzzzzzzz=1 2>&1 | sed -nE 's/.*\(known: (.*)\)$/\1/p' | tr ',' '\n' | tr -d ' ' | sort -u)
[[ -n $known ]] || bad "the loader's unknown-key error lists no keys"
offered=$(complete_line verify --set '' | sed -E 's/[=.]$//' | sort -u)
same "--set offers every key the loader knows" "$known" "$offered"
for k in $(complete_line verify --set ''); do
  case $k in
    *.) key=${k}postgres ;;  # a map: stack.images.NAME
    *) key=${k%=} ;;
  esac
  err=$("$bin" plan --profile debian-12 --root "$work/tree" --set "$key=1" 2>&1 >/dev/null)
  if grep -q "unknown key" <<<"$err"; then bad "--set $key: the loader does not know it: $err"; fi
done
ok "every offered --set key is one the loader knows"
grep -qx 'data.dirs=' <<<"$(complete_line verify --set d)" && ok "--set d -> data.dirs=" || bad "--set d"

# Formats: exactly the ones the binary accepts.
formats=""
for f in text json junit tap prometheus nagios xml yaml; do
  # A missing site config stops the run right after the command line is parsed (exit 78), so
  # nothing runs; an unknown format is a usage error about the format (exit 64).
  if "$bin" verify --format "$f" --config "$work/missing.toml" >/dev/null 2>"$work/err"; [[ $(cat "$work/err") != *"unknown format"* && $(cat "$work/err") != *"format"*"'$f'"* ]]; then
    formats+="$f"$'\n'
  fi
done
formats=$(sed '/^$/d' <<<"$formats" | sort -u)
same "--format offers the formats the binary accepts" "$formats" "$(complete_line verify --format '')"
same "--report offers FORMAT:" "$(sed 's/$/:/' <<<"$formats")" "$(complete_line verify --report '')"
same "commands" "$(printf '%s\n' verify | sort)" "$(complete_line ver)"
same "schedule actions" "$(printf '%s\n' install remove | sort)" "$(complete_line schedule '')"

echo "completion: $passed passed, $failed failed"
[[ $failed == 0 ]]
