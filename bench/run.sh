#!/usr/bin/env bash
# Benchmark (not a test): on a converged host, `ztagent verify` and a no-op `ztagent provision`
# against bench/verify.sh, a plain POSIX-shell script that checks the same postconditions with
# grep/stat/getfacl/sysctl. Runs them side by side, interleaved, and reports medians and ratios.
#
#   sudo bench/run.sh [--binary build/ztagent] [--runs 31] [--live]
#
# By default the "host" is an image tree under /var/tmp/ztagent-bench, provisioned once with
# `ztagent provision --root` (offline: the tree's dpkg database lists the packages). --live uses /
# instead (the machine must already be converged, e.g. by `ztagent provision`).
# Targets (issue 2): verify <= 0.5x the shell script's wall time; no-op provision <= 60 ms;
# peak RSS <= 10 MB.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/ztagent; runs=31; live=0; user=ztbench
while [ $# -gt 0 ]; do
  case $1 in
    --binary) bin=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --live) live=1; user=${ZTAGENT_BENCH_USER:-ztnet}; shift ;;
    *) echo "usage: $0 [--binary PATH] [--runs N] [--live]" >&2; exit 64 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "bench: needs root (provisioning the tree chowns files)" >&2; exit 64; }
[ -x /usr/bin/time ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -q time >/dev/null
command -v getfacl >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q acl >/dev/null

if [ "$live" = 1 ]; then
  root=/; sroot=/
  zt=("$bin" --profile debian-12 --set "service.user=$user")
else
  root=/var/tmp/ztagent-bench/root; sroot=$root
  rm -rf /var/tmp/ztagent-bench; mkdir -p "$root"/{etc/sysctl.d,opt,home,usr/bin,var/lib/dpkg}
  cat > "$root/etc/os-release" <<'OS'
ID=debian
VERSION_ID="12"
OS
  printf 'root:x:0:0:root:/root:/bin/sh\n' > "$root/etc/passwd"
  printf 'root:x:0:\n' > "$root/etc/group"
  printf 'root:*:19000:0:99999:7:::\n' > "$root/etc/shadow"
  printf 'root:*::\n' > "$root/etc/gshadow"
  : > "$root/etc/subuid"; : > "$root/etc/subgid"
  for p in podman passt slirp4netns uidmap acl dbus-user-session catatonit nftables; do
    v=1.0-1; [ $p = podman ] && v=4.3.1+ds1-8+deb12u1+b3
    printf 'Package: %s\nStatus: install ok installed\nVersion: %s\n\n' "$p" "$v"
  done > "$root/var/lib/dpkg/status"
  install -m 4755 /dev/null "$root/usr/bin/newuidmap"; install -m 4755 /dev/null "$root/usr/bin/newgidmap"
  # Shipped by the podman package; the units step enables it for the user.
  install -D -m 0644 /dev/stdin "$root/usr/lib/systemd/user/podman-auto-update.timer" <<<'[Timer]'
  zt=("$bin" --profile debian-12 --root "$root" --set "service.user=$user")
  "${zt[@]}" provision -q >/dev/null
fi

# bench/verify.sh checks what the steps up to ports leave behind: the like-for-like comparison runs
# ztagent verify on those steps; the whole profile (plus secrets and units; start and runtime skip
# in an image tree) is timed too.
core=(--only preflight,packages,user,subids,data,linger,ports)
"${zt[@]}" verify -q >/dev/null || { echo "bench: ztagent verify fails: host not converged" >&2; exit 1; }
bench/verify.sh "$sroot" "$user" >/dev/null || { echo "bench: verify.sh fails: host not converged" >&2; exit 1; }

ms() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s%N); echo $(( (e - s) / 1000 )); }
median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.1f", m/1000}'; }
t_zv=(); t_sh=(); t_np=(); t_all=()
for ((i = 0; i < runs; i++)); do
  t_zv+=("$(ms "${zt[@]}" verify -q "${core[@]}")")
  t_all+=("$(ms "${zt[@]}" verify -q)")
  t_sh+=("$(ms bench/verify.sh "$sroot" "$user")")
  t_np+=("$(ms "${zt[@]}" provision -q)")
done
m_zv=$(printf '%s\n' "${t_zv[@]}" | median)
m_sh=$(printf '%s\n' "${t_sh[@]}" | median)
m_np=$(printf '%s\n' "${t_np[@]}" | median)
m_all=$(printf '%s\n' "${t_all[@]}" | median)
rss_v=$(/usr/bin/time -f %M "${zt[@]}" verify -q 2>&1 >/dev/null | tail -n1)
rss_p=$(/usr/bin/time -f %M "${zt[@]}" provision -q 2>&1 >/dev/null | tail -n1)
ratio=$(awk -v a="$m_zv" -v b="$m_sh" 'BEGIN {printf "%.2f", a / b}')
verdict() { awk -v v="$1" -v t="$2" 'BEGIN {print (v <= t) ? "meets" : "MISSES"}'; }

echo "ztagent bench: $runs interleaved runs each, root=$root, $(nproc) cores"
printf '%-36s %10s\n' "" "median ms"
printf '%-36s %10s\n' "ztagent verify (steps up to ports)" "$m_zv"
printf '%-36s %10s\n' "bench/verify.sh (POSIX shell)" "$m_sh"
printf '%-36s %10s\n' "ztagent verify (whole profile)" "$m_all"
printf '%-36s %10s\n' "ztagent provision (no-op)" "$m_np"
echo "verify / shell ratio: $ratio (target <= 0.5: $(verdict "$ratio" 0.5))"
echo "no-op provision: $m_np ms (target <= 60: $(verdict "$m_np" 60))"
echo "peak RSS: verify $((rss_v / 1024)).$(( (rss_v % 1024) * 10 / 1024 )) MiB, provision $((rss_p / 1024)).$(( (rss_p % 1024) * 10 / 1024 )) MiB (target <= 10 MB: $(verdict "$rss_p" 9766))"
