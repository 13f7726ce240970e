#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the release packages from this source tree: OUT_DIR/ztagent_<version>-<rev>_amd64.deb (Debian
# 12/13, Ubuntu 24.04) and OUT_DIR/ztagent-<version>-<rev>.x86_64.rpm (Fedora 41), both from one
# -DZTAGENT_RELEASE_STATIC=ON build (cmake/ReleaseBuild.cmake): a binary that needs only glibc
# (Debian 12's 2.36 or newer), libm and libacl.so.1, hardened with dpkg-buildflags. Then checks them:
# ctest -L package (NEEDED, GLIBC_ versions, hardening, man page) and tests/package/check-packages.sh
# (lintian -EvI --pedantic on the .deb: 0 errors, 0 warnings; rpm -qlp / -qpR on the .rpm).
# Meant for a Debian 12 build machine: installs what it lacks with apt-get (root or sudo).
#
# Usage: packaging/build-release.sh OUT_DIR
#   BUILD_DIR (default OUT_DIR/build) and JOBS (default: nproc) are read from the environment;
#   ZTAGENT_SKIP_LINTIAN=1 skips lintian (developer machines without it).
set -euo pipefail

out_dir=${1:?usage: packaging/build-release.sh OUT_DIR}
src_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mkdir -p "$out_dir"
out_dir=$(cd "$out_dir" && pwd)
build_dir=${BUILD_DIR:-$out_dir/build}
jobs=${JOBS:-$(nproc)}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Build deps: the -dev packages scripts/setup.sh installs, plus packaging tools. libboost-filesystem-dev
# ships the libboost_filesystem.a the release links; spdlog, fmt and toml++ are used header-only.
deps=(build-essential cmake ninja-build pkg-config dpkg-dev file libboost-dev libboost-filesystem-dev
      libtomlplusplus-dev libspdlog-dev libfmt-dev libacl1-dev libssl-dev nettle-dev nlohmann-json3-dev libcli11-dev rpm)
[[ ${ZTAGENT_SKIP_LINTIAN:-0} == 1 ]] || deps+=(lintian)
missing=()
for p in "${deps[@]}"; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "build-release: installing ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR="$src_dir" CCACHE_NOHASHDIR=true
fi
# Build type None: the optimisation and debug flags are exactly dpkg-buildflags' (-g -O2), as debhelper does.
cmake -S "$src_dir" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=None -DZTAGENT_RELEASE_STATIC=ON \
  -DZTAGENT_WERROR=ON -DZTAGENT_BUILD_TESTS=OFF -DZTAGENT_BUILD_ROOT_TESTS=OFF "${launcher[@]}"
cmake --build "$build_dir" --parallel "$jobs" --target ztagent ztagent_package_files
ctest --test-dir "$build_dir" --output-on-failure -L package

rm -f "$build_dir"/ztagent_*.deb "$build_dir"/ztagent-*.rpm
(cd "$build_dir" && cpack -G "DEB;RPM")
debs=("$build_dir"/ztagent_*.deb)
rpms=("$build_dir"/ztagent-*.rpm)
[[ ${#debs[@]} -eq 1 && -f ${debs[0]} ]] || { echo "build-release: cpack made no single .deb: ${debs[*]}" >&2; exit 1; }
[[ ${#rpms[@]} -eq 1 && -f ${rpms[0]} ]] || { echo "build-release: cpack made no single .rpm: ${rpms[*]}" >&2; exit 1; }
cp "${debs[0]}" "${rpms[0]}" "$out_dir/"
deb=$out_dir/$(basename "${debs[0]}")
rpm=$out_dir/$(basename "${rpms[0]}")

bash "$src_dir/tests/package/check-packages.sh" "$deb" "$rpm"
echo "build-release: wrote $deb and $rpm"
