#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Checks the release packages without installing them (packaging/build-release.sh runs it):
#   .deb: lintian -EvI --pedantic reports no error and no warning; Depends, copyright (DEP-5),
#         changelog.Debian.gz, description lines <= 80 columns;
#   .rpm: rpm -qpR lists only libc/libm/libacl (and libcrypto/libssl) sonames at GLIBC_ <= 2.36,
#         rpm -qlp lists the same files as the .deb, rpm -qpi carries the same version.
# Prints one line per check; exits 1 if any fails.
#
# Usage: tests/package/check-packages.sh DEB RPM      (ZTAGENT_SKIP_LINTIAN=1: no lintian)
set -uo pipefail

deb=${1:?usage: check-packages.sh DEB RPM}
rpm=${2:?usage: check-packages.sh DEB RPM}
failed=0
pass() { printf 'package: ok: %s\n' "$*"; }
fail() { printf 'package: FAIL: %s\n' "$*"; failed=$((failed + 1)); }

# --- .deb ------------------------------------------------------------------------------------------
field() { dpkg-deb -f "$deb" "$1"; }
version=$(field Version)
[[ $version =~ ^[0-9.]+-[0-9]+$ ]] && pass "deb Version: $version" || fail "deb Version '$version' is not UPSTREAM-REVISION"
depends=$(field Depends)
# Every Depends entry must be a package all targets have (Debian 12/13, Ubuntu 24.04: libc6 and
# libacl1; libssl3, which Debian 13's and Ubuntu 24.04's libssl3t64 Provide).
bad=$(tr ',' '\n' <<<"$depends" | sed 's/^ *//; s/ .*//' | grep -vxE 'libc6|libacl1|libssl3' | tr '\n' ' ')
[[ -n $depends && -z $bad ]] && pass "deb Depends: $depends" || fail "deb Depends '$depends' has packages not every target has: $bad"
# The HTTPS probe dlopens libssl.so.3: shlibdeps cannot see it, so it must be named by hand.
tr ',' '\n' <<<"$depends" | sed 's/^ *//; s/ .*//' | grep -qx libssl3 && pass "deb Depends on libssl3 (dlopened by the HTTPS probe)" ||
  fail "deb Depends '$depends' lacks libssl3 (the HTTPS probe dlopens libssl.so.3)"
libc_min=$(grep -oE 'libc6 \(>= [0-9.]+\)' <<<"$depends" | grep -oE '[0-9]+\.[0-9]+')
if [[ -n $libc_min && $(printf '%s\n2.36\n' "$libc_min" | sort -V | tail -n 1) == 2.36 ]]; then
  pass "deb needs libc6 >= $libc_min (Debian 12 has 2.36)"
else
  fail "deb's libc6 requirement '$libc_min' is missing or newer than Debian 12's 2.36"
fi
long=$(dpkg-deb -f "$deb" Description | awk 'length($0) > 80' | head -n 3)
[[ -z $long ]] && pass "deb description lines <= 80 columns" || fail "deb description lines over 80 columns: $long"
mapfile -t deb_files < <(dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { sub(/^\./, "", $6); print $6 }' | sort)
for f in /usr/bin/ztagent /usr/share/doc/ztagent/copyright /usr/share/doc/ztagent/changelog.Debian.gz \
  /usr/share/man/man8/ztagent.8.gz /usr/share/bash-completion/completions/ztagent; do
  printf '%s\n' "${deb_files[@]}" | grep -qx "$f" && pass "deb ships $f" || fail "deb lacks $f"
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dpkg-deb -x "$deb" "$tmp/deb"
head -n 1 "$tmp/deb/usr/share/doc/ztagent/copyright" |
  grep -qx 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/' &&
  pass "copyright is DEP-5 (Format: line)" || fail "copyright has no DEP-5 Format: line"
top=$(zcat "$tmp/deb/usr/share/doc/ztagent/changelog.Debian.gz" | head -n 1)
[[ $top == "ztagent ($version) "* ]] && pass "changelog.Debian.gz top entry: $top" ||
  fail "changelog.Debian.gz top entry '$top' is not version $version"

if [[ ${ZTAGENT_SKIP_LINTIAN:-0} == 1 ]]; then
  pass "lintian skipped (ZTAGENT_SKIP_LINTIAN=1)"
elif ! command -v lintian >/dev/null 2>&1; then
  fail "lintian not found (apt-get install lintian, or ZTAGENT_SKIP_LINTIAN=1)"
else
  # lintian refuses to run as root unless told; the tags are the same.
  out=$(lintian -EvI --pedantic --allow-root "$deb" 2>&1)
  printf '%s\n' "$out" | sed 's/^/  lintian: /'
  errors=$(grep -c '^E: ' <<<"$out")
  warnings=$(grep -c '^W: ' <<<"$out")
  if ((errors == 0 && warnings == 0)); then
    pass "lintian $(lintian --version | awk '{ print $2 }') -EvI --pedantic: 0 errors, 0 warnings ($(grep -cE '^[IPXO]: ' <<<"$out") info/pedantic/overridden tags)"
  else
    fail "lintian -EvI --pedantic: $errors errors, $warnings warnings"
  fi
fi

# --- .rpm ------------------------------------------------------------------------------------------
if ! command -v rpm >/dev/null 2>&1; then
  fail "rpm not found (apt-get install rpm)"
else
  rpm_version=$(rpm -qp --qf '%{VERSION}-%{RELEASE}' "$rpm" 2>/dev/null)
  [[ $rpm_version == "$version" ]] && pass "rpm version $rpm_version = deb version" ||
    fail "rpm version '$rpm_version' differs from the deb's $version"
  rpm_arch=$(rpm -qp --qf '%{ARCH}' "$rpm" 2>/dev/null)
  [[ $rpm_arch == x86_64 ]] && pass "rpm arch x86_64" || fail "rpm arch '$rpm_arch', expected x86_64"
  rpm_license=$(rpm -qp --qf '%{LICENSE}' "$rpm" 2>/dev/null)
  [[ $rpm_license == Apache-2.0 ]] && pass "rpm License: $rpm_license" || fail "rpm License '$rpm_license'"
  mapfile -t rpm_files < <(rpm -qlp "$rpm" 2>/dev/null | while read -r f; do
    # Files only (directories the package owns are listed too; dpkg-deb -c marks them with d).
    [[ -d $tmp/deb$f && ! -L $tmp/deb$f ]] || printf '%s\n' "$f"
  done | sort)
  mapfile -t deb_files_rpm < <(printf '%s\n' "${deb_files[@]}" | grep -vx /usr/share/lintian/overrides/ztagent)
  if [[ "${rpm_files[*]}" == "${deb_files_rpm[*]}" ]]; then
    pass "rpm -qlp lists the same ${#rpm_files[@]} files as the deb (less its lintian overrides)"
  else
    fail "rpm -qlp files differ from the deb's: $(diff <(printf '%s\n' "${deb_files_rpm[@]}") <(printf '%s\n' "${rpm_files[@]}") | grep '^[<>]' | tr '\n' ' ')"
  fi
  owned_dirs=$(rpm -qlp "$rpm" 2>/dev/null | while read -r f; do [[ -d $tmp/deb$f ]] && printf '%s ' "$f"; done)
  bad_dirs=$(tr ' ' '\n' <<<"$owned_dirs" | grep -E '.' | grep -vE '^/usr/share/(doc/)?ztagent(/|$)' | tr '\n' ' ')
  [[ -z $bad_dirs ]] && pass "rpm owns only its own directories: ${owned_dirs:-none}" ||
    fail "rpm owns directories of the filesystem package: $bad_dirs"
  requires=$(rpm -qpR "$rpm" 2>/dev/null)
  bad=$(grep -vE '^(rpmlib\(|libc\.so\.6|libm\.so\.6|libacl\.so\.1|libcrypto\.so\.3|libssl\.so\.3|ld-linux-x86-64\.so\.2|rtld\(GNU_HASH\))' <<<"$requires" | tr '\n' ' ')
  [[ -n $requires && -z $bad ]] && pass "rpm -qpR: $(grep -vc '^rpmlib(' <<<"$requires") requirements, all libc/libm/libacl/libcrypto/libssl or the loader" ||
    fail "rpm -qpR has requirements beyond libc/libm/libacl/libcrypto/libssl: $bad"
  grep -q '^libacl\.so\.1()(64bit)' <<<"$requires" && pass "rpm requires libacl.so.1()(64bit)" || fail "rpm does not require libacl.so.1()(64bit)"
  grep -q '^libssl\.so\.3()(64bit)' <<<"$requires" && pass "rpm requires libssl.so.3()(64bit) (dlopened by the HTTPS probe)" ||
    fail "rpm does not require libssl.so.3()(64bit) (the HTTPS probe dlopens it)"
  rpm_glibc=$(grep -oE 'GLIBC_[0-9.]+' <<<"$requires" | sed 's/GLIBC_//' | sort -V | tail -n 1)
  if [[ -n $rpm_glibc && $(printf '%s\n2.36\n' "$rpm_glibc" | sort -V | tail -n 1) == 2.36 ]]; then
    pass "rpm needs GLIBC_$rpm_glibc at most (Fedora 41 has 2.40)"
  else
    fail "rpm's highest GLIBC requirement '$rpm_glibc' is missing or newer than 2.36"
  fi
  recommends=$(rpm -qp --recommends "$rpm" 2>/dev/null | tr '\n' ' ')
  [[ $recommends == *podman* && $recommends == *shadow-utils* ]] && pass "rpm Recommends: $recommends" ||
    fail "rpm Recommends '$recommends' lacks podman or shadow-utils"
  rpm -qp --changelog "$rpm" 2>/dev/null | grep -q "$version" && pass "rpm changelog names $version" ||
    fail "rpm has no changelog entry for $version"
fi

printf 'package: %d failed\n' "$failed"
((failed == 0))
