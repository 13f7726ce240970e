#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs a ztagent .deb (packaging/build-release.sh OUT_DIR writes it) the way a host gets it and
# checks the whole life cycle with dpkg:
#   install of the previous version (the same package rebuilt as revision 0, with one extra profile)
#   -> upgrade to DEB (the extra file is gone, the admin's /etc/ztagent/ztagent.toml is untouched)
#   -> the installed files and binary -> dpkg -r (every package file gone, the config kept)
#   -> dpkg --purge (the admin's own config, which no package owns, is still not deleted).
# Changes the real host (dpkg -i / dpkg -r): run it as root on a throwaway machine only.
# It refuses to run when a ztagent package or /etc/ztagent/ztagent.toml is already there, and
# removes its package and its test config on any exit.
#
# Usage: tests/package/test-deb.sh DEB
set -uo pipefail

src_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
deb=${1:-}

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
readonly site_config=/etc/ztagent/ztagent.toml
config_by_us=0
cleanup() {
  rm -rf "$tmp_dir"
  if [[ $config_by_us -eq 1 ]]; then
    rm -f "$site_config"
    rmdir /etc/ztagent 2>/dev/null || true
  fi
  if [[ $installed_by_us -eq 1 && -n $(pkg_state) && $(pkg_state) != not-installed ]]; then
    say "cleanup: removing the ztagent package this test installed" >&2
    dpkg --purge ztagent >/dev/null 2>&1 || say "cleanup: 'dpkg --purge ztagent' failed; remove it by hand" >&2
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[[ $(id -u) -eq 0 ]] || die "needs root (dpkg -i/-r); run it on a throwaway machine"
for tool in dpkg dpkg-deb dpkg-query md5sum sha256sum; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found"
done
if [[ -n $(pkg_state) && $(pkg_state) != not-installed && $(pkg_state) != config-files ]]; then
  die "a ztagent package is already installed; remove it first (dpkg -r ztagent) so this test leaves the host as it found it"
fi

[[ -n $deb && -f $deb ]] || die "usage: tests/package/test-deb.sh DEB (build it: packaging/build-release.sh OUT_DIR)"
[[ ! -e $site_config ]] || die "$site_config exists; this test creates its own (move yours away first)"
deb=$(realpath "$deb")
version=$(dpkg-deb -f "$deb" Version)
upstream=${version%-*}
revision=${version##*-}
arch=$(dpkg --print-architecture)
[[ $version == "$upstream-$revision" && $revision =~ ^[0-9]+$ ]] || die "Version '$version' of $deb is not UPSTREAM-REVISION"
pass "testing $(basename "$deb") ($(du -h "$deb" | cut -f1), $(stat -c %s "$deb") bytes)"

# --- package metadata ----------------------------------------------------------------------------
field() { dpkg-deb -f "$deb" "$1"; }
[[ $(field Package) == ztagent ]] && pass "Package: ztagent" || fail "Package is '$(field Package)', expected ztagent"
[[ $(field Architecture) == "$arch" ]] && pass "Architecture: $arch" || fail "Architecture is '$(field Architecture)', expected $arch"
[[ $(field Section) == admin ]] && pass "Section: admin" || fail "Section is '$(field Section)', expected admin"
[[ -n $(field Maintainer) ]] && pass "Maintainer: $(field Maintainer)" || fail "Maintainer is empty"
[[ $(field Recommends) == "podman, passt, uidmap, acl" ]] && pass "Recommends: $(field Recommends)" ||
  fail "Recommends is '$(field Recommends)', expected 'podman, passt, uidmap, acl'"
depends=$(field Depends)
[[ $depends == *libc6* && $depends == *libacl1* ]] && pass "Depends (from dpkg-shlibdeps): $depends" ||
  fail "Depends '$depends' lacks libc6 or libacl1: dpkg-shlibdeps did not run (CPACK_DEBIAN_PACKAGE_SHLIBDEPS)"
contents=$(dpkg-deb -c "$deb")
if grep -qE '\./etc/' <<<"$contents"; then
  fail "the package installs files under /etc; the site config must not be shipped: $(grep -E '\./etc/' <<<"$contents" | awk '{ print $NF }' | tr '\n' ' ')"
else
  pass "nothing under /etc in the package"
fi

# --- the previous version: the same package as revision 0, plus a profile the new one no longer has -
prev_version=$upstream-0
((revision > 0)) || die "DEB has revision 0; the previous version this test builds needs revision >= 1"
dpkg-deb -R "$deb" "$tmp_dir/prev" || die "dpkg-deb -R $deb failed"
sed -i "s/^Version: .*/Version: $prev_version/" "$tmp_dir/prev/DEBIAN/control"
printf '# dropped in %s\n' "$version" >"$tmp_dir/prev/usr/share/ztagent/profiles/ztagent-test-obsolete.toml"
(cd "$tmp_dir/prev" && find usr -type f -exec md5sum {} + >DEBIAN/md5sums)
prev_deb=$tmp_dir/ztagent_${prev_version}_$arch.deb
dpkg-deb --root-owner-group -b "$tmp_dir/prev" "$prev_deb" >/dev/null || die "building the previous version failed"

# --- the admin's site config, then install the previous version and upgrade to DEB ----------------
mkdir -p /etc/ztagent
config_by_us=1
printf '# written by tests/package/test-deb.sh\n[service]\nuser = "ztnet"\n' >"$site_config"
chmod 0640 "$site_config"
config_sum=$(sha256sum "$site_config")
installed_by_us=1
dpkg -i "$prev_deb" >/dev/null || die "dpkg -i of the previous version $prev_version failed"
[[ $(dpkg-query -W -f='${Version}' ztagent) == "$prev_version" ]] && pass "dpkg -i previous version $prev_version" ||
  fail "after dpkg -i of $prev_version, dpkg reports $(dpkg-query -W -f='${Version}' ztagent)"
dpkg -i "$deb" >/dev/null || die "dpkg -i $deb (upgrade from $prev_version) failed"
[[ $(dpkg-query -W -f='${Version}' ztagent) == "$version" && $(pkg_state) == installed ]] &&
  pass "upgrade $prev_version -> $version (dpkg -i $(basename "$deb"))" ||
  fail "after the upgrade dpkg reports $(dpkg-query -W -f='${Version} ${Status}' ztagent)"
[[ ! -e /usr/share/ztagent/profiles/ztagent-test-obsolete.toml ]] &&
  pass "the upgrade removed the file only $prev_version had" ||
  fail "/usr/share/ztagent/profiles/ztagent-test-obsolete.toml survived the upgrade"
[[ $(sha256sum "$site_config" 2>/dev/null) == "$config_sum" && $(stat -c %a "$site_config") == 640 ]] &&
  pass "the upgrade kept $site_config (content and mode 0640)" || fail "the upgrade changed or removed $site_config"
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
expect_file /usr/share/doc/ztagent/copyright
expect_file /usr/share/doc/ztagent/changelog.Debian.gz
for p in "$src_dir"/profiles/*.toml; do
  expect_file "/usr/share/ztagent/profiles/$(basename "$p")"
done
dpkg -S "$site_config" >/dev/null 2>&1 && fail "a package claims $site_config" ||
  pass "no package owns $site_config (the site config is the admin's)"
cmp -s "$src_dir/profiles/ztagent.toml.example" /usr/share/doc/ztagent/examples/ztagent.toml &&
  pass "example config is profiles/ztagent.toml.example" || fail "/usr/share/doc/ztagent/examples/ztagent.toml differs from profiles/ztagent.toml.example"

if ! command -v readelf >/dev/null 2>&1; then
  say "skipped: is /usr/bin/ztagent stripped? (no readelf here; apt-get install binutils)"
elif readelf -SW /usr/bin/ztagent | grep -q ' \.symtab '; then
  fail "/usr/bin/ztagent is not stripped (CPACK_STRIP_FILES)"
else
  pass "/usr/bin/ztagent is stripped, no .symtab ($(stat -c %s /usr/bin/ztagent) bytes)"
fi

out=$(/usr/bin/ztagent --version 2>&1)
[[ $out == "ztagent $upstream" ]] && pass "/usr/bin/ztagent --version: $out" || fail "/usr/bin/ztagent --version printed '$out', expected 'ztagent $upstream'"
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
  if LC_ALL=C.UTF-8 MANWIDTH=80 man 8 ztagent 2>/dev/null | grep -q "ztagent $upstream"; then
    pass "man page footer carries version $upstream"
  else
    fail "the installed man page does not show 'ztagent $upstream' (@ZTAGENT_VERSION@ not substituted?)"
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
[[ $(sha256sum "$site_config" 2>/dev/null) == "$config_sum" ]] && pass "dpkg -r kept $site_config" ||
  fail "dpkg -r changed or removed $site_config"
dpkg --purge ztagent >/dev/null || fail "dpkg --purge ztagent failed"
[[ -z $(pkg_state) || $(pkg_state) == not-installed ]] && pass "dpkg --purge: dpkg has no record of ztagent" ||
  fail "after dpkg --purge, dpkg reports ztagent $(pkg_state)"
# The admin wrote it and no package owns it (the package ships only the example): purge leaves it.
[[ $(sha256sum "$site_config" 2>/dev/null) == "$config_sum" ]] && pass "dpkg --purge left the admin's $site_config" ||
  fail "dpkg --purge changed or removed the admin's $site_config"
command -v ztagent >/dev/null 2>&1 && [[ $(command -v ztagent) == /usr/bin/ztagent ]] && fail "/usr/bin/ztagent still on PATH" ||
  pass "no /usr/bin/ztagent"

say "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
