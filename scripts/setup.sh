#!/usr/bin/env bash
# Quick start, step 1: install the build dependencies (Debian/Ubuntu packages only), build ztagent,
# and run `ztagent plan` on this host with the auto-detected profile: it shows what `provision`
# would change and changes nothing. Pass other ztagent arguments to run something else, e.g.
#   scripts/setup.sh provision        (converge this host; needs root)
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

deps=(build-essential cmake ninja-build pkg-config libboost-dev libboost-filesystem-dev
      libtomlplusplus-dev libspdlog-dev libfmt-dev libacl1-dev catch2 acl python3-yaml
      nlohmann-json3-dev libssl-dev libcli11-dev nettle-dev)
missing=()
for p in "${deps[@]}"; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  # Let clones in other directories (CI) reuse the cache.
  export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
fi
werror=OFF
if [ "${CI:-}" = true ]; then werror=ON; fi
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DZTAGENT_WERROR="$werror" "${launcher[@]}"
cmake --build build

if [ "$#" -eq 0 ]; then set -- plan; fi
echo "setup: running: ztagent $*"
if [ "$1" = provision ]; then as_root ./build/ztagent "$@"; else ./build/ztagent "$@"; fi
