#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Checks that a ztagent binary is fit to ship as the one release binary for every supported
# distribution (cmake -DZTAGENT_RELEASE_STATIC=ON, see cmake/ReleaseBuild.cmake):
#   - its NEEDED entries are only libc, libm, libacl.so.1 and the loader (every target ships them:
#     Debian 12/13, Ubuntu 24.04, Fedora 41); libssl.so.3 is dlopened by runtime.http's HTTPS probe
#     (agent/host/libssl.hpp), so neither it nor libcrypto.so.3 may be NEEDED (each costs every run);
#   - it requires no GLIBC_ symbol version newer than MAX_GLIBC (default 2.36, Debian 12's glibc)
#     and no GLIBCXX_/CXXABI_/GCC_ version (the C++ runtime is linked in, not needed at run time);
#   - hardening as Debian builds it: PIE, RELRO, BIND_NOW, stack protector, FORTIFY
#     (read from the ELF file with readelf, as lintian's and hardening-check's tests do; when
#     hardening-check from devscripts is installed, it is run as well).
# Prints one line per check; exits 1 if any fails.
#
# Usage: tests/package/check-release-binary.sh BINARY [MAX_GLIBC]
set -uo pipefail

binary=${1:?usage: check-release-binary.sh BINARY [MAX_GLIBC]}
max_glibc=${2:-2.36}
allowed_needed=(libc.so.6 libm.so.6 libacl.so.1 ld-linux-x86-64.so.2)

failed=0
pass() { printf 'ok: %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*"; failed=$((failed + 1)); }

command -v readelf >/dev/null 2>&1 || { echo "FAIL: readelf not found (apt-get install binutils)"; exit 1; }
[[ -f $binary ]] || { echo "FAIL: no file $binary"; exit 1; }
readelf -h "$binary" >/dev/null 2>&1 || { echo "FAIL: $binary is not an ELF file"; exit 1; }

dynamic=$(readelf -dW "$binary")
mapfile -t needed < <(sed -n 's/.*(NEEDED).*Shared library: \[\(.*\)\]/\1/p' <<<"$dynamic")
((${#needed[@]} > 0)) || fail "no NEEDED entries at all (a static binary cannot use NSS for getpwnam)"
for lib in "${needed[@]}"; do
  ok=no
  for allowed in "${allowed_needed[@]}"; do
    [[ $lib == "$allowed" ]] && ok=yes
  done
  if [[ $ok == yes ]]; then
    pass "NEEDED $lib"
  else
    fail "NEEDED $lib is not in the allowed set (${allowed_needed[*]})"
  fi
done

# Version references (.gnu.version_r): the library versions the loader must find.
versions=$(readelf -VW "$binary" | sed -n 's/.*Name: \([A-Z_]*[A-Z]_[0-9.]*\).*/\1/p' | sort -u)
cxx_versions=$(grep -E '^(GLIBCXX|CXXABI|GCC)_' <<<"$versions" | tr '\n' ' ')
if [[ -n $cxx_versions ]]; then
  fail "needs C++ runtime versions: $cxx_versions"
else
  pass "no GLIBCXX_/CXXABI_/GCC_ symbol versions (C++ runtime linked statically)"
fi
highest=$(grep -E '^GLIBC_[0-9.]+$' <<<"$versions" | sed 's/^GLIBC_//' | sort -V | tail -n 1)
if [[ -z $highest ]]; then
  fail "no GLIBC_ symbol versions found"
elif [[ $(printf '%s\n%s\n' "$highest" "$max_glibc" | sort -V | tail -n 1) == "$max_glibc" ]]; then
  pass "highest GLIBC_ version GLIBC_$highest <= GLIBC_$max_glibc"
else
  fail "needs GLIBC_$highest, newer than GLIBC_$max_glibc (Debian 12)"
fi

# Hardening.
type=$(readelf -hW "$binary" | sed -n 's/^ *Type: *\([A-Z]*\).*/\1/p')
if [[ $type == DYN ]] && grep -qE '\(FLAGS_1\).*PIE' <<<"$dynamic"; then
  pass "PIE (ELF type DYN, FLAGS_1 PIE)"
else
  fail "not PIE (ELF type $type, FLAGS_1: $(grep -E '\(FLAGS_1\)' <<<"$dynamic" | sed 's/.*Flags: //'))"
fi
if readelf -lW "$binary" | grep -q GNU_RELRO; then
  pass "RELRO (GNU_RELRO program header)"
else
  fail "no GNU_RELRO program header (link with -Wl,-z,relro)"
fi
if grep -qE '\(BIND_NOW\)|\(FLAGS\).*BIND_NOW|\(FLAGS_1\).*NOW' <<<"$dynamic"; then
  pass "BIND_NOW (full RELRO)"
else
  fail "no BIND_NOW (link with -Wl,-z,now)"
fi
symbols=$(readelf --dyn-syms -W "$binary" | awk '$7 == "UND" { sub(/@.*/, "", $8); print $8 }' | sort -u)
if grep -qx '__stack_chk_fail' <<<"$symbols"; then
  pass "stack protector (__stack_chk_fail)"
else
  fail "no __stack_chk_fail: not built with -fstack-protector-strong"
fi
fortified=$(grep -E '^__[a-z0-9_]+_chk$' <<<"$symbols" | grep -vx '__stack_chk_fail')
if [[ -n $fortified ]]; then
  pass "FORTIFY_SOURCE ($(wc -l <<<"$fortified") fortified functions: $(head -n 4 <<<"$fortified" | tr '\n' ' ')...)"
else
  fail "no fortified __*_chk functions: not built with -D_FORTIFY_SOURCE=2 -O2"
fi
if command -v hardening-check >/dev/null 2>&1; then
  if out=$(hardening-check "$binary" 2>&1); then
    pass "hardening-check: $(tr '\n' ' ' <<<"$out" | tr -s ' ')"
  else
    fail "hardening-check: $out"
  fi
fi

printf '%d failed\n' "$failed"
((failed == 0))
