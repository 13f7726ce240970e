#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the ztagent .deb, installs it with dpkg, checks the installed files and the installed
# binary, removes the package and checks that every file it installed is gone.
# Changes the real host (dpkg -i / dpkg -r): run it as root on a throwaway machine only.
# It refuses to run when a ztagent package is already installed, and removes its own on any exit.
#
# Usage: tests/package/test-deb.sh [BUILD_DIR]     (default: build-pkg in the source tree)
#   CMAKE_BUILD_TYPE (default Release) and JOBS (default 2) are read from the environment;
#   ZTAGENT_SKIP_BUILD=1 packages the ztagent already built in BUILD_DIR without rebuilding it.
set -uo pipefail

src_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build_dir=${1:-$src_dir/build-pkg}
build_type=${CMAKE_BUILD_TYPE:-Release}
jobs=${JOBS:-2}

passed=0
failed=0
installed_by_us=0

say() { printf 'package: %s\n' "$*"; }
pass() { passed=$((passed + 1)); say "ok: $*"; }
fail() { failed=$((failed + 1)); say "FAIL: $*" >&2; }
die() {
  say "FATAL: $*" >&2
  say "$passed passed, $((failed + 1)) failed" >&2
  exit 1
}

# Last word of dpkg's status for ztagent: installed, config-files, not-installed, unpacked, ... or "".
pkg_state() { dpkg-query -W -f='${Status}' ztagent 2>/dev/null | awk '{ print $NF }'; }

tmp_dir=$(mktemp -d)
cleanup() {
  rm -rf "$tmp_dir"
  if [[ $installed_by_us -eq 1 && -n $(pkg_state) && $(pkg_state) != not-installed ]]; then
    say "cleanup: removing the ztagent package this test installed" >&2
    dpkg --purge ztagent >/dev/null 2>&1 || say "cleanup: 'dpkg --purge ztagent' failed; remove it by hand" >&2
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[[ $(id -u) -eq 0 ]] || die "needs root (dpkg -i/-r); run it on a throwaway machine"
for tool in cmake cpack dpkg dpkg-deb dpkg-shlibdeps; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found; install it (apt-get install cmake dpkg-dev)"
done
if [[ -n $(pkg_state) && $(pkg_state) != not-installed && $(pkg_state) != config-files ]]; then
  die "a ztagent package is already installed; remove it first (dpkg -r ztagent) so this test leaves the host as it found it"
fi

# --- build ---------------------------------------------------------------------------------------
t0=$(date +%s)
if [[ ! -f $build_dir/CMakeCache.txt ]]; then
  generator=()
  command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
  launcher=()
  command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  cmake -S "$src_dir" -B "$build_dir" "${generator[@]}" "${launcher[@]}" -DCMAKE_BUILD_TYPE="$build_type" ||
    die "cmake configure of $build_dir failed"
fi
if [[ ${ZTAGENT_SKIP_BUILD:-0} == 1 ]]; then
  # Package the ztagent already built in build_dir (e.g. while someone's half-edited file breaks the build).
  [[ -x $build_dir/ztagent ]] || die "ZTAGENT_SKIP_BUILD=1 but $build_dir/ztagent is not built"
  cmake --build "$build_dir" --target ztagent_manpage || die "building the man page in $build_dir failed"
  say "ZTAGENT_SKIP_BUILD=1: packaging the existing $build_dir/ztagent (built $(date -r "$build_dir/ztagent" '+%F %T'))"
else
  cmake --build "$build_dir" --parallel "$jobs" --target ztagent ztagent_manpage ||
    die "building ztagent in $build_dir failed"
fi
t1=$(date +%s)
version=$("$build_dir/ztagent" --version | awk '{ print $2 }')
[[ -n $version ]] || die "'$build_dir/ztagent --version' printed no version"
arch=$(dpkg --print-architecture)
deb=$build_dir/ztagent_${version}_${arch}.deb
rm -f "$deb"
(cd "$build_dir" && cpack -G DEB) || die "cpack -G DEB in $build_dir failed"
t2=$(date +%s)
[[ -f $deb ]] || die "cpack did not produce $deb"
pass "built $(basename "$deb") ($(du -h "$deb" | cut -f1), $(stat -c %s "$deb") bytes; build $((t1 - t0)) s, cpack $((t2 - t1)) s)"

# --- package metadata ----------------------------------------------------------------------------
field() { dpkg-deb -f "$deb" "$1"; }
[[ $(field Package) == ztagent ]] && pass "Package: ztagent" || fail "Package is '$(field Package)', expected ztagent"
[[ $(field Version) == "$version" ]] && pass "Version: $version" || fail "Version is '$(field Version)', expected $version"
[[ $(field Architecture) == "$arch" ]] && pass "Architecture: $arch" || fail "Architecture is '$(field Architecture)', expected $arch"
[[ $(field Section) == admin ]] && pass "Section: admin" || fail "Section is '$(field Section)', expected admin"
[[ -n $(field Maintainer) ]] && pass "Maintainer: $(field Maintainer)" || fail "Maintainer is empty"
[[ $(field Recommends) == "podman, passt, uidmap, acl" ]] && pass "Recommends: $(field Recommends)" ||
  fail "Recommends is '$(field Recommends)', expected 'podman, passt, uidmap, acl'"
depends=$(field Depends)
[[ $depends == *libc6* ]] && pass "Depends (from dpkg-shlibdeps): $depends" ||
  fail "Depends '$depends' has no libc6: dpkg-shlibdeps did not run (CPACK_DEBIAN_PACKAGE_SHLIBDEPS)"
contents=$(dpkg-deb -c "$deb")
if grep -qE '\./etc/' <<<"$contents"; then
  fail "the package installs files under /etc; the site config must not be shipped: $(grep -E '\./etc/' <<<"$contents" | awk '{ print $NF }' | tr '\n' ' ')"
else
  pass "nothing under /etc in the package"
fi

# --- install -------------------------------------------------------------------------------------
installed_by_us=1
dpkg -i "$deb" >/dev/null || die "dpkg -i $deb failed"
pass "dpkg -i $(basename "$deb")"
mapfile -t listed < <(dpkg -L ztagent)
[[ ${#listed[@]} -gt 0 ]] || die "dpkg -L ztagent lists nothing after installation"

expect_file() {
  if [[ -f $1 ]]; then
    pass "installed $1"
  else
    fail "$1 is not installed"
  fi
}
expect_file /usr/bin/ztagent
expect_file /usr/share/man/man8/ztagent.8.gz
expect_file /usr/share/bash-completion/completions/ztagent
expect_file /usr/share/doc/ztagent/examples/ztagent.toml
for p in "$src_dir"/profiles/*.toml; do
  expect_file "/usr/share/ztagent/profiles/$(basename "$p")"
done
[[ ! -e /etc/ztagent/ztagent.toml ]] && pass "no /etc/ztagent/ztagent.toml installed" ||
  fail "/etc/ztagent/ztagent.toml exists after installation"
cmp -s "$src_dir/profiles/ztagent.toml.example" /usr/share/doc/ztagent/examples/ztagent.toml &&
  pass "example config is profiles/ztagent.toml.example" || fail "/usr/share/doc/ztagent/examples/ztagent.toml differs from profiles/ztagent.toml.example"

if file /usr/bin/ztagent 2>/dev/null | grep -q 'not stripped'; then
  fail "/usr/bin/ztagent is not stripped (CPACK_STRIP_FILES)"
else
  pass "/usr/bin/ztagent is stripped ($(stat -c %s /usr/bin/ztagent) bytes)"
fi

out=$(/usr/bin/ztagent --version 2>&1)
[[ $out == "ztagent $version" ]] && pass "/usr/bin/ztagent --version: $out" || fail "/usr/bin/ztagent --version printed '$out', expected 'ztagent $version'"
if out=$(/usr/bin/ztagent profiles 2>&1) && grep -q '^debian-12 ' <<<"$out"; then
  pass "/usr/bin/ztagent profiles lists $(wc -l <<<"$out") profiles"
else
  fail "/usr/bin/ztagent profiles failed or lists no debian-12: $out"
fi

if command -v man >/dev/null 2>&1; then
  page=$(man -w ztagent 2>/dev/null)
  [[ $page == /usr/share/man/man8/ztagent.8.gz ]] && pass "man -w ztagent: $page" ||
    fail "man -w ztagent gave '$page', expected /usr/share/man/man8/ztagent.8.gz"
  warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings 8 ztagent 2>&1 >/dev/null)
  [[ -z $warnings ]] && pass "man 8 ztagent formats without warnings" || fail "man 8 ztagent: $warnings"
  if LC_ALL=C.UTF-8 MANWIDTH=80 man 8 ztagent 2>/dev/null | grep -q "ztagent $version"; then
    pass "man page footer carries version $version"
  else
    fail "the installed man page does not show 'ztagent $version' (@ZTAGENT_VERSION@ not substituted?)"
  fi
fi
zcat /usr/share/man/man8/ztagent.8.gz >"$tmp_dir/ztagent.8" || fail "zcat /usr/share/man/man8/ztagent.8.gz failed"
bash "$src_dir/tests/package/check-manpage.sh" /usr/bin/ztagent "$tmp_dir/ztagent.8" >/dev/null &&
  pass "installed man page in step with /usr/bin/ztagent --help" || fail "installed man page out of step with --help (see above)"

comp=$(bash -c 'source /usr/share/bash-completion/completions/ztagent
  COMP_WORDS=(ztagent verify --profile ""); COMP_CWORD=3; _ztagent; echo "${COMPREPLY[*]}"' 2>&1)
[[ $comp == *debian-12* && $comp == *auto* ]] && pass "completion of --profile offers: $comp" ||
  fail "completion of 'ztagent verify --profile ' offered '$comp', expected auto and the shipped profiles"

# --- remove --------------------------------------------------------------------------------------
dpkg -r ztagent >/dev/null || die "dpkg -r ztagent failed"
installed_by_us=0
pass "dpkg -r ztagent"
left=()
for f in "${listed[@]}"; do
  # Shared directories (/usr, /usr/share, ...) stay; everything else the package listed must go.
  if [[ -f $f || -L $f ]]; then
    left+=("$f")
  elif [[ -d $f && ( $f == /usr/share/ztagent* || $f == /usr/share/doc/ztagent* ) ]]; then
    left+=("$f/")
  fi
done
if [[ ${#left[@]} -eq 0 ]]; then
  pass "all ${#listed[@]} paths of 'dpkg -L ztagent' are gone or shared directories"
else
  fail "left behind after dpkg -r: ${left[*]}"
fi
state=$(pkg_state)
[[ $state == installed ]] && fail "dpkg still reports ztagent installed" ||
  pass "dpkg no longer reports ztagent installed (state: ${state:-unknown})"
if [[ $state == config-files ]]; then
  dpkg --purge ztagent >/dev/null || fail "dpkg --purge ztagent failed"
fi
command -v ztagent >/dev/null 2>&1 && [[ $(command -v ztagent) == /usr/bin/ztagent ]] && fail "/usr/bin/ztagent still on PATH" ||
  pass "no /usr/bin/ztagent"

t3=$(date +%s)
say "timing: build $((t1 - t0)) s, cpack $((t2 - t1)) s, install/check/remove $((t3 - t2)) s"
say "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
