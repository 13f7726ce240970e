#!/usr/bin/env bash
# Test names that ctest can run: catch_discover_tests registers each TEST_CASE under its name, and
# ctest splits a name at ';' (the test then matches nothing and fails), and two equal names in one
# binary register one test. Fails on either. Usage: tests/lint/test-names.sh [SOURCE_DIR]
set -uo pipefail
src=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$src/tests" || exit 2
status=0
for dir in unit integration root; do
  # "<file>\t<name>" for every TEST_CASE("name"...) (adjacent string literals joined).
  names=$(find "$dir" -name '*.cpp' -print0 | sort -z | xargs -0 perl -0777 -ne '
    while (/\bTEST_CASE\s*\(\s*((?:"(?:[^"\\]|\\.)*"\s*)+)/g) {
      my $lit = $1; my $name = "";
      $name .= $1 while $lit =~ /"((?:[^"\\]|\\.)*)"/g;
      print "$ARGV\t$name\n";
    }')
  if [[ -z $names ]]; then
    continue
  fi
  bad=$(awk -F'\t' 'index($2, ";") { print "  " $1 ": " $2 }' <<<"$names")
  if [[ -n $bad ]]; then
    printf "test-names: ';' in a test name (ctest splits it there; use ',' or ' and '):\n%s\n" "$bad" >&2
    status=1
  fi
  dups=$(cut -f2 <<<"$names" | sort | uniq -d)
  if [[ -n $dups ]]; then
    printf 'test-names: the same name twice in tests/%s (ctest registers one of them):\n%s\n' "$dir" "$dups" >&2
    status=1
  fi
done
if ((status != 0)); then
  echo "test-names: 0 passed, 1 failed"
  exit 1
fi
echo "test-names: 1 passed, 0 failed"
