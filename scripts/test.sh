#!/usr/bin/env bash
# Quick start, step 2: build and run the whole test suite (unit + integration; the root-labelled
# tests too when running as root, since they change the real host and clean up after themselves).
#   ZTAGENT_SANITIZERS=address,undefined scripts/test.sh   # the same under ASan+UBSan (build-asan/)
set -euo pipefail
cd "$(dirname "$0")/.."

sanitizers="${ZTAGENT_SANITIZERS:-}"
dir=build
[ -n "$sanitizers" ] && dir=build-asan
root_tests=OFF
if [ "$(id -u)" -eq 0 ] && [ "${ZTAGENT_ROOT_TESTS:-1}" = 1 ]; then root_tests=ON; fi
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  # Let clones in other directories (CI) reuse the cache.
  export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
fi
werror=OFF
if [ "${CI:-}" = true ]; then werror=ON; fi

cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DZTAGENT_WERROR="$werror" \
  -DZTAGENT_BUILD_TESTS=ON -DZTAGENT_BUILD_ROOT_TESTS="$root_tests" -DZTAGENT_SANITIZERS="$sanitizers" \
  "${launcher[@]}"
cmake --build "$dir"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir "$dir" --output-on-failure -j2 --no-tests=error "$@"
