#!/usr/bin/env bash
# Builds ztagent's libFuzzer targets with clang under ASan+UBSan (in build-fuzz/) and runs each one
# for a few seconds on a corpus seeded from fuzz/seeds/ and the repository's own inputs.
#
#   fuzz/run.sh [--seconds N] [--build-dir DIR] [--install-deps] [--jobs N] [TARGET...]
#
# TARGET: profile site_config os_release passwd group subid dpkg_status state env_file (default:
# all). --install-deps installs clang-16 and libclang-rt-16-dev with apt-get when missing (CI).
# Exit 0 when no target crashed, leaked, hung (-timeout) or ran out of memory; otherwise 1, with
# the reproducer in DIR/artifacts/ (run it again with: DIR/fuzz/fuzz_TARGET FILE).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=20
build=build-fuzz
install=0
jobs=2
targets=()
all=(profile site_config os_release passwd group subid dpkg_status state env_file)
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --build-dir) build="$2"; shift 2 ;;
    --install-deps) install=1; shift ;;
    --jobs) jobs="$2"; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz/run.sh: unknown option $1" >&2; exit 64 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")

find_clang() { # clang >= 16 (see CMakeLists.txt: <expected>) with its libFuzzer runtime
  local v
  for v in 19 18 17 16; do
    if command -v "clang++-$v" >/dev/null &&
       compgen -G "/usr/lib/llvm-$v/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a" >/dev/null; then
      echo "clang++-$v"
      return 0
    fi
  done
  return 1
}

cxx=$(find_clang || true)
if [ -z "$cxx" ] && [ "$install" = 1 ]; then
  echo "fuzz: installing clang-16 libclang-rt-16-dev (Debian 12)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -o DPkg::Lock::Timeout=300 --no-install-recommends \
    clang-16 libclang-rt-16-dev >/dev/null
  cxx=$(find_clang || true)
fi
if [ -z "$cxx" ]; then
  echo "fuzz/run.sh: no clang >= 16 with libFuzzer found; install clang-16 and libclang-rt-16-dev" \
       "(or pass --install-deps)" >&2
  exit 69
fi

launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  # Let clones in other directories (CI) reuse the cache, as scripts/test.sh does.
  export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
fi
echo "fuzz: building with $cxx in $build"
mkdir -p "$build"
cmake -S . -B "$build" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_FLAGS_RELEASE="-O1 -g -DNDEBUG" -DZTAGENT_FUZZ=ON -DZTAGENT_BUILD_TESTS=OFF \
  -DZTAGENT_SANITIZERS=address,undefined "${launcher[@]}" >"$build/configure.log" 2>&1 \
  || { cat "$build/configure.log" >&2; exit 1; }
exes=()
for t in "${targets[@]}"; do exes+=("fuzz_$t"); done
cmake --build "$build" -j"$jobs" --target "${exes[@]}"

# Seeds: the checked-in ones, plus the inputs the repository already has for each parser.
seed() { # TARGET FILE...
  local dir="$build/corpus/$1"; shift
  mkdir -p "$dir"
  for f in "$@"; do
    if [ -f "$f" ] && [ -r "$f" ]; then
      head -c 65536 "$f" >"$dir/repo-$(basename "$(dirname "$f")")-$(basename "$f")"
    fi
  done
}
for t in "${targets[@]}"; do
  mkdir -p "$build/corpus/$t" "$build/artifacts"
  cp -n fuzz/seeds/"$t"/* "$build/corpus/$t/" 2>/dev/null || true
done
seed profile profiles/*.toml
seed site_config profiles/ztagent.toml.example
seed os_release /etc/os-release /usr/lib/os-release
seed passwd /etc/passwd
seed group /etc/group
seed subid /etc/subuid /etc/subgid /etc/login.defs
seed dpkg_status /var/lib/dpkg/status

status=0
for t in "${targets[@]}"; do
  echo "fuzz: $t for ${seconds}s"
  log="$build/fuzz-$t.log"
  if ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
     "$build/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
       -print_final_stats=1 -artifact_prefix="$build/artifacts/$t-" "$build/corpus/$t" >"$log" 2>&1; then
    grep -E '^stat::number_of_executed_units|^Done [0-9]+ runs' "$log" | tr '\n' ' ' | sed "s/^/fuzz: $t: /"; echo
  else
    status=1
    echo "fuzz: $t FAILED (log $log):" >&2
    grep -E 'ERROR|SUMMARY|Test unit written|deadly signal' "$log" | head -20 >&2 || tail -30 "$log" >&2
  fi
done
exit $status
