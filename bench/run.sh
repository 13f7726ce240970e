#!/usr/bin/env bash
# Benchmark (not a test): on a converged host, `ztagent verify` and a no-op `ztagent provision`
# against bench/verify.sh, a plain POSIX-shell script that checks the same postconditions with
# grep/stat/getfacl/sysctl. Runs them side by side, interleaved, and reports medians of wall time,
# CPU time (user + sys, from wait4) and peak RSS (bench/measure.py), how often one verify opens each
# host file (strace, bench/opens.py), and how verify scales with /etc/passwd and /etc/subuid size.
#
#   sudo bench/run.sh [--binary build/ztagent] [--compare OTHER_BINARY] [--runs 21] [--live] [--no-scale]
#
# --compare adds the same verify / provision / scaling rows for a second binary (the release build
# of packaging/build-release.sh, or an older commit's build), measured interleaved in the same rounds.
#
# By default the "host" is an image tree under /var/tmp/ztagent-bench, provisioned once with
# `ztagent provision --root` (offline: the tree's dpkg database lists the packages). Its package
# database is real-size: this machine's /var/lib/dpkg/status (or generated stanzas) padded to at
# least 1,000 packages, plus the profile's packages. --live uses / instead (the machine must already
# be converged, e.g. by `ztagent provision`).
# Targets (issue 16): verify of the whole profile <= 20 ms CPU and <= 0.1x the shell script; each
# host file opened at most once per run; no-op provision <= 20 ms; peak RSS <= 10 MiB; verify with
# 100k lines of passwd and subuid < 100 ms CPU, cost linear in their size.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/ztagent; runs=21; live=0; user=ztbench; scale=1; other=
while [ $# -gt 0 ]; do
  case $1 in
    --binary) bin=$2; shift 2 ;;
    --compare) other=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --live) live=1; user=${ZTAGENT_BENCH_USER:-ztnet}; shift ;;
    --no-scale) scale=0; shift ;;
    *) echo "usage: $0 [--binary PATH] [--compare PATH] [--runs N] [--live] [--no-scale]" >&2; exit 64 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "bench: needs root (provisioning the tree chowns files)" >&2; exit 64; }
need() { command -v "$1" >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" >/dev/null; }
need getfacl acl; need strace strace; need python3 python3-minimal
bin=$(realpath "$bin")
[ -z "$other" ] || other=$(realpath "$other")
work=/var/tmp/ztagent-bench

# A dpkg status file with >= 1,000 packages: this machine's own, or generated stanzas, plus the
# profile's packages (any stanza of theirs in the copy is dropped first).
make_status() {
  local out=$1 src=/var/lib/dpkg/status want='^(podman|passt|slirp4netns|uidmap|acl|dbus-user-session|catatonit|nftables)$'
  if [ -s "$src" ]; then
    awk -v want="$want" 'BEGIN{RS=""; ORS="\n\n"} {split($0, l, "\n"); p=l[1]; sub(/^Package: /, "", p)} p !~ want' "$src" > "$out"
  else
    : > "$out"
  fi
  local have; have=$(grep -c '^Package: ' "$out" || true)
  for ((i = have; i < 1000; i++)); do
    printf 'Package: bench-filler-%04d\nStatus: install ok installed\nPriority: optional\nSection: misc\nInstalled-Size: 100\nMaintainer: Bench <bench@example.org>\nArchitecture: amd64\nVersion: 1.%d-1\nDepends: libc6 (>= 2.34)\nDescription: filler package %d for the benchmark\n a generated stanza so the database has a real size; the text of the\n description is as long as a typical one.\n\n' "$i" "$i" "$i"
  done >> "$out"
  for p in podman passt slirp4netns uidmap acl dbus-user-session catatonit nftables; do
    v=1.0-1; [ $p = podman ] && v=4.3.1+ds1-8+deb12u1+b3
    printf 'Package: %s\nStatus: install ok installed\nVersion: %s\n\n' "$p" "$v"
  done >> "$out"
}

if [ "$live" = 1 ]; then
  root=/; sroot=/
  zt=("$bin" --profile debian-12 --set "service.user=$user")
else
  root=$work/root; sroot=$root
  rm -rf "$work"; mkdir -p "$root"/{etc/sysctl.d,opt,home,usr/bin,var/lib/dpkg}
  cat > "$root/etc/os-release" <<'OS'
ID=debian
VERSION_ID="12"
OS
  printf 'root:x:0:0:root:/root:/bin/sh\n' > "$root/etc/passwd"
  printf 'root:x:0:\n' > "$root/etc/group"
  printf 'root:*:19000:0:99999:7:::\n' > "$root/etc/shadow"
  printf 'root:*::\n' > "$root/etc/gshadow"
  : > "$root/etc/subuid"; : > "$root/etc/subgid"
  make_status "$root/var/lib/dpkg/status"
  install -m 4755 /dev/null "$root/usr/bin/newuidmap"; install -m 4755 /dev/null "$root/usr/bin/newgidmap"
  # Shipped by the podman package; the units step enables it for the user.
  install -D -m 0644 /dev/stdin "$root/usr/lib/systemd/user/podman-auto-update.timer" <<<'[Timer]'
  zt=("$bin" --profile debian-12 --root "$root" --set "service.user=$user")
  "${zt[@]}" provision -q >/dev/null
fi
status_kb=$(( $(stat -c %s "$sroot/var/lib/dpkg/status") / 1024 ))
packages=$(grep -c '^Package: ' "$sroot/var/lib/dpkg/status")

# bench/verify.sh checks what the steps up to ports leave behind: the like-for-like comparison runs
# ztagent verify on those steps; the whole profile (plus secrets and units; start and runtime skip
# in an image tree) is timed too.
core=preflight,packages,user,subids,data,linger,ports
"${zt[@]}" verify -q >/dev/null || { echo "bench: ztagent verify fails: host not converged" >&2; exit 1; }
bench/verify.sh "$sroot" "$user" >/dev/null || { echo "bench: verify.sh fails: host not converged" >&2; exit 1; }

j() { python3 -c 'import json, sys; print(json.dumps(sys.argv[1:]))' "$@"; }
compare_rows=()
if [ -n "$other" ]; then
  zo=("$other" "${zt[@]:1}")
  "${zo[@]}" verify -q >/dev/null || { echo "bench: $other verify fails on the tree" >&2; exit 1; }
  compare_rows=("[compare] verify (whole profile)=$(j "${zo[@]}" verify -q)"
                "[compare] provision (no-op)=$(j "${zo[@]}" provision -q)")
fi
python3 bench/measure.py --runs "$runs" --json "$work/medians.json" \
  "ztagent verify (steps up to ports)=$(j "${zt[@]}" verify -q --only "$core")" \
  "bench/verify.sh (POSIX shell)=$(j /bin/sh bench/verify.sh "$sroot" "$user")" \
  "ztagent verify (whole profile)=$(j "${zt[@]}" verify -q)" \
  "ztagent provision (no-op)=$(j "${zt[@]}" provision -q)" \
  "${compare_rows[@]}"

# How often one verify and one no-op provision open each host file.
files=(/var/lib/dpkg/status /etc/passwd /etc/group /etc/subuid /etc/subgid)
for verb in verify provision; do
  strace -f -y -qq -e trace=open,openat,openat2 -o "$work/strace.$verb" "${zt[@]}" "$verb" -q >/dev/null 2>&1 || true
  echo "host files opened by one $verb: $(python3 bench/opens.py "$work/strace.$verb" "$sroot" "${files[@]}" | tr '\n' ' ' || true)"
done
processes() { strace -f -qq -e trace=execve -o "$work/exec.$1" "${zt[@]}" "$1" -q >/dev/null 2>&1 || true
  grep -c 'execve(' "$work/exec.$1" || true; }
echo "processes started (execve, the binary itself included): verify $(processes verify), no-op provision $(processes provision)"

python3 - "$work/medians.json" "$status_kb" "$packages" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
core, sh = m["ztagent verify (steps up to ports)"], m["bench/verify.sh (POSIX shell)"]
whole, prov = m["ztagent verify (whole profile)"], m["ztagent provision (no-op)"]
def verdict(ok): return "meets" if ok else "MISSES"
print(f"package database: {sys.argv[3]} packages, {sys.argv[2]} KiB")
print(f"whole-profile verify CPU {whole['cpu_ms']:.1f} ms (target <= 20: {verdict(whole['cpu_ms'] <= 20)}); "
      f"vs shell CPU {whole['cpu_ms'] / sh['cpu_ms']:.3f}x, wall {whole['wall_ms'] / sh['wall_ms']:.3f}x "
      f"(target <= 0.1: {verdict(whole['cpu_ms'] / sh['cpu_ms'] <= 0.1)})")
print(f"steps up to ports vs shell: CPU {core['cpu_ms'] / sh['cpu_ms']:.3f}x, wall {core['wall_ms'] / sh['wall_ms']:.3f}x")
print(f"no-op provision wall {prov['wall_ms']:.1f} ms, CPU {prov['cpu_ms']:.1f} ms (target <= 20: {verdict(prov['wall_ms'] <= 20)})")
rss = max(whole["rss_mib"], prov["rss_mib"])
print(f"peak RSS {rss:.1f} MiB (target <= 10: {verdict(rss <= 10)})")
if "[compare] verify (whole profile)" in m:
    cv, cp = m["[compare] verify (whole profile)"], m["[compare] provision (no-op)"]
    print(f"compare binary: verify CPU {cv['cpu_ms']:.1f} ms ({cv['cpu_ms'] / sh['cpu_ms']:.3f}x shell), "
          f"no-op provision CPU {cp['cpu_ms']:.1f} ms, peak RSS {max(cv['rss_mib'], cp['rss_mib']):.1f} MiB")
PY

[ "$scale" = 1 ] && [ "$live" = 0 ] || exit 0
# Scaling: copies of the tree with N extra lines in passwd, group, subuid and subgid (other
# accounts, uids from 3,000,000 and ranges of 1,000 ids from 100,000,000: clear of the bench user's
# range, so verify still passes).
args=()
for n in 1000 10000 100000; do
  t=$work/scale-$n
  rm -rf "$t"; cp -a "$root" "$t"
  awk -v n="$n" 'BEGIN {for (i = 0; i < n; i++) printf "b%06d:x:%d:%d::/nonexistent:/usr/sbin/nologin\n", i, 3000000 + i, 3000000 + i}' >> "$t/etc/passwd"
  awk -v n="$n" 'BEGIN {for (i = 0; i < n; i++) printf "b%06d:x:%d:\n", i, 3000000 + i}' >> "$t/etc/group"
  for f in subuid subgid; do
    awk -v n="$n" 'BEGIN {for (i = 0; i < n; i++) printf "b%06d:%d:1000\n", i, 100000000 + i * 1000}' >> "$t/etc/$f"
  done
  zs=("$bin" --profile debian-12 --root "$t" --set "service.user=$user")
  "${zs[@]}" verify -q >/dev/null || { echo "bench: verify fails on the $n-line tree" >&2; exit 1; }
  args+=("verify, +$n lines passwd/group/subuid/subgid=$(j "${zs[@]}" verify -q)")
  if [ -n "$other" ]; then
    args+=("[compare] verify, +$n lines=$(j "$other" "${zs[@]:1}" verify -q)")
  fi
done
python3 bench/measure.py --runs "$(( runs < 11 ? runs : 11 ))" --json "$work/scale.json" "${args[@]}"
python3 - "$work/scale.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
for prefix, name in (("verify", "scaling"), ("[compare]", "compare binary scaling")):
    rows = sorted(((int(k.split("+")[1].split()[0]), v) for k, v in m.items() if k.startswith(prefix)),
                  key=lambda r: r[0])
    if len(rows) < 2:
        continue
    (n0, a), (n1, b) = rows[0], rows[-1]
    per_line = (b["cpu_ms"] - a["cpu_ms"]) / (n1 - n0) * 1000
    print(f"{name}: {per_line:.2f} us CPU per extra line; 100k lines: CPU {b['cpu_ms']:.1f} ms "
          f"(target < 100: {'meets' if b['cpu_ms'] < 100 else 'MISSES'}), peak RSS {b['rss_mib']:.1f} MiB")
PY
