#!/bin/sh
# The baseline for bench/run.sh: a plain POSIX-shell script that verifies the same postconditions
# ztagent verify checks for steps preflight..ports, the way an admin would script it with grep,
# stat, getfacl and sysctl. Usage: bench/verify.sh ROOT USER [DATA_ROOT]
# Exit 0 when all pass, 1 otherwise; prints one line per failure.
ROOT=${1:?root}; U=${2:?user}; DATA=${3:-/opt/ztnet-data}
R=${ROOT%/}
fail=0
bad() { echo "FAIL $*"; fail=1; }

# preflight (live kernel state only on /)
if [ "$R" = "" ]; then
  [ "$(cat /proc/sys/user/max_user_namespaces)" -gt 0 ] || bad userns
  [ -c /dev/net/tun ] || bad tun
  [ -f /sys/fs/cgroup/cgroup.controllers ] || bad cgroup-v2
fi
for b in newuidmap newgidmap; do
  m=$(stat -c %a "$R/usr/bin/$b" 2>/dev/null) || { bad "$b missing"; continue; }
  case $m in 4*) ;; *) getcap "$R/usr/bin/$b" 2>/dev/null | grep -q cap_set || bad "$b not setuid" ;; esac
done
avail=$(df -Pm "$R/" | awk 'NR==2 {print $4}')
[ "$avail" -ge 1024 ] || bad free-space

# packages
for p in podman passt slirp4netns uidmap acl dbus-user-session; do
  awk -v p="$p" 'BEGIN{RS=""} $0 ~ "(^|\n)Package: " p "\n" && /Status: install ok installed/ {f=1} END{exit !f}' \
    "$R/var/lib/dpkg/status" || bad "package $p"
done
v=$(awk 'BEGIN{RS=""} /(^|\n)Package: podman\n/ {print}' "$R/var/lib/dpkg/status" | sed -n 's/^Version: //p' | sed 's/^[0-9]*://; s/[-+~].*//')
[ "$(printf '%s\n4.3\n' "$v" | sort -V | head -n1)" = "4.3" ] || bad podman-version

# user
line=$(grep "^$U:" "$R/etc/passwd") || bad "user $U"
uid=$(echo "$line" | cut -d: -f3); gid=$(echo "$line" | cut -d: -f4); home=$(echo "$line" | cut -d: -f6)
grep -q "^$U:x:$gid:" "$R/etc/group" || bad group
[ "$(stat -c '%u %a' "$R$home" 2>/dev/null)" = "$uid 700" ] || bad home

# subids
for f in subuid subgid; do
  n=$(grep -c "^$U:" "$R/etc/$f"); [ "$n" -eq 1 ] || bad "$f range count $n"
  cnt=$(grep "^$U:" "$R/etc/$f" | cut -d: -f3); [ "${cnt:-0}" -ge 65536 ] || bad "$f size"
  awk -F: -v u="$U" '$1==u {s=$2; e=$2+$3} {a[NR]=$2; b[NR]=$2+$3; o[NR]=$1}
    END {for (i in a) if (o[i]!=u && a[i] < e && s < b[i]) exit 1}' "$R/etc/$f" || bad "$f overlap"
done
start=$(grep "^$U:" "$R/etc/subuid" | cut -d: -f2)
awk -F: -v s="$start" '$3 >= s && $3 < s + 65536 {exit 1}' "$R/etc/passwd" || bad real-uid

# data
mapped=$((start + 70 - 1))
for d in "" /postgres-data /zerotier /caddy_data; do
  p="$R$DATA$d"
  [ -L "$p" ] && bad "symlink $p"
  [ "$(stat -c '%u:%g %a' "$p" 2>/dev/null)" = "$uid:$gid 750" ] || bad "owner/mode $p"
  acl=$(getfacl -cnp "$p" 2>/dev/null)
  echo "$acl" | grep -q "^user:$uid:rwx" || bad "acl $p"
  echo "$acl" | grep -q "^mask::r-x" || bad "mask $p"
  if [ -n "$d" ]; then
    echo "$acl" | grep -q "^default:user:$uid:rwx" || bad "default acl $p"
  fi
  if [ "$d" = /postgres-data ]; then
    echo "$acl" | grep -q "^default:user:$mapped:rwx" || bad "default acl mapped $p"
  fi
done
dir=$R$DATA
while [ "$dir" != "$R" ] && [ "$dir" != "" ]; do
  dir=$(dirname "$dir"); [ "$dir" = "/" ] && [ -n "$R" ] && break
  case $(stat -c %A "$dir") in *x) ;; *) bad "parent $dir" ;; esac
done

# linger
[ -f "$R/var/lib/systemd/linger/$U" ] || bad linger

# ports
f="$R/etc/sysctl.d/60-ztagent.conf"
grep -qx 'net.ipv4.ip_unprivileged_port_start = 80' "$f" 2>/dev/null || bad sysctl-persisted
eff=$(cat "$R"/etc/sysctl.d/*.conf "$R/etc/sysctl.conf" 2>/dev/null | sed -n 's/^[[:space:]]*net.ipv4.ip_unprivileged_port_start[[:space:]]*=[[:space:]]*//p' | tail -n1)
[ "${eff:-1024}" -le 80 ] || bad sysctl-effective
if [ "$R" = "" ]; then
  [ "$(sysctl -n net.ipv4.ip_unprivileged_port_start)" -le 80 ] || bad sysctl-live
fi
exit $fail
