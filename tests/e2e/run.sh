#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# End-to-end test: `ztagent provision` -> reboot -> `ztagent verify` inside booted Debian 12 and
# Debian 13 systems (systemd-nspawn --boot). See tests/e2e/README.md.
#
#   tests/e2e/run.sh [--deb PATH | --binary PATH] [--keep] [--prepare-only] [--list] [SCENARIO...]
#
# Needs root and Debian's archive (deb.debian.org) for the first run; later runs use the cache in
# /var/cache/ztagent-e2e and need no network. Per-scenario state lives in /var/tmp/ztagent-e2e/<scenario>.
# Scenario, plan and assertion functions are called by name (scenario_<name>, assert_<plan>).
# shellcheck disable=SC2317
set -euo pipefail
shopt -s inherit_errexit

SELF=$(realpath "${BASH_SOURCE[0]}")
E2E_DIR=$(dirname "${SELF}")
REPO_ROOT=$(cd "${E2E_DIR}/../.." && pwd)
readonly SELF E2E_DIR REPO_ROOT

# ---- settings (environment overrides for CI) ---------------------------------------------------
CACHE_DIR=${ZTAGENT_E2E_CACHE:-/var/cache/ztagent-e2e}
STATE_DIR=${ZTAGENT_E2E_STATE:-/var/tmp/ztagent-e2e}
MIRROR=${ZTAGENT_E2E_MIRROR:-http://deb.debian.org/debian}
BOOT_TIMEOUT=${ZTAGENT_E2E_BOOT_TIMEOUT:-300}     # seconds per boot; the container is killed after it
MAX_BOOTS=${ZTAGENT_E2E_MAX_BOOTS:-4}             # a scenario that reboots more often is broken
VERIFY_RETRY_SECONDS=${ZTAGENT_E2E_VERIFY_RETRY:-180}
QEMU_TIMEOUT=${ZTAGENT_E2E_QEMU_TIMEOUT:-2400}     # seconds for a whole --qemu scenario (all boots)
PROFILES_DIR=${ZTAGENT_E2E_PROFILES:-}             # DIR: use DIR/<profile>.toml instead of the embedded profile
QEMU=${ZTAGENT_E2E_QEMU:-no}                      # yes: --qemu (inherited by the scenario processes)
readonly IMAGE_FORMAT=1                           # bump when build_image() changes what it produces
readonly REPO_MOUNT=/srv/ztagent-e2e-repo         # where the local apt repository appears inside
readonly IMAGES_MOUNT=/srv/ztagent-e2e-images     # where the container image tarballs appear inside

# In the image from the start: what booting, logging in users and ztagent's own checks need, and
# cron for the schedule-cron scenario (`ztagent schedule install` where systemd does not run).
readonly BASE_PACKAGES=(
  systemd-sysv dbus libpam-systemd systemd-container iptables nftables procps iproute2 curl
  ca-certificates busybox-static netbase kmod udev cron
)
# NOT in the image: ztagent's packages step installs them from the local repository (plus their
# dependencies and recommends, downloaded at image build time).
readonly REPO_PACKAGES=(
  podman passt uidmap acl dbus-user-session slirp4netns fuse-overlayfs crun catatonit
)

# ---- output helpers ------------------------------------------------------------------------------
log() { printf 'e2e: %s\n' "$*" >&2; }
die() { printf 'e2e: error: %s\n' "$*" >&2; exit 1; }
section() { printf '\n===== %s =====\n' "$*"; }

usage() {
  cat <<EOF
usage: tests/e2e/run.sh [--deb PATH | --binary PATH] [--keep] [--prepare-only] [--list] [SCENARIO...]

  --deb PATH      the ztagent .deb to test (packaging/build-release.sh): each booted image installs
                  it with apt-get install ./ztagent_*.deb and runs /usr/bin/ztagent (what CI does)
  --binary PATH   a ztagent binary to copy into each image instead, with the host's libraries the
                  image lacks (default without --deb: ${REPO_ROOT}/build/ztagent)
  --keep          keep every scenario's root filesystem in ${STATE_DIR}/<scenario> (failed ones are always kept)
  --prepare-only  install host packages and build the cached images, run nothing
  --list          print the scenario names
Scenarios (default: all but harness-*): $(list_scenarios | tr '\n' ' ')
EOF
}

# ---- host dependencies ---------------------------------------------------------------------------
ensure_host_deps() {
  local -A need=(
    [debootstrap]=debootstrap [systemd-nspawn]=systemd-container [apt-ftparchive]=apt-utils
    [jq]=jq [python3]=python3 [flock]=util-linux [timeout]=coreutils
  )
  if [[ -z ${DEB} ]]; then
    need+=([patchelf]=patchelf)  # install_binary
  fi
  if [[ ${QEMU} == yes ]]; then
    need+=([qemu-system-x86_64]=qemu-system-x86 [qemu-img]=qemu-utils [mkfs.ext4]=e2fsprogs)
  fi
  local cmd missing=()
  for cmd in "${!need[@]}"; do
    command -v "${cmd}" >/dev/null 2>&1 || missing+=("${need[${cmd}]}")
  done
  [[ -f /usr/share/keyrings/debian-archive-keyring.gpg ]] || missing+=(debian-archive-keyring)
  if ((${#missing[@]} > 0)); then
    log "installing host packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# ---- nspawn --------------------------------------------------------------------------------------
# The flags measured in /work/shared/E2E-LAB.md: pure cgroup v2 inside, no machined on the host.
nspawn() {
  SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 systemd-nspawn --quiet --register=no --keep-unit "$@"
}

# Kill what is left of a container whose nspawn was killed: every process whose root is the rootfs.
kill_leftovers() {
  local rootfs pid root
  rootfs=$(realpath "$1")
  for pid in /proc/[0-9]*; do
    root=$(readlink "${pid}/root" 2>/dev/null) || continue
    if [[ ${root} == "${rootfs}" ]]; then
      kill -KILL "${pid#/proc/}" 2>/dev/null || true
    fi
  done
}

# ---- cached images -------------------------------------------------------------------------------
image_key() {
  local suite=$1 hash
  hash=$(printf 'format=%s\nsuite=%s\nmirror=%s\nbase=%s\nrepo=%s\n' "${IMAGE_FORMAT}" "${suite}" \
    "${MIRROR}" "${BASE_PACKAGES[*]}" "${REPO_PACKAGES[*]}" | sha256sum | cut -c1-16)
  printf '%s-%s' "${suite}" "${hash}"
}

# build_image SUITE: prints the image directory (rootfs/ + repo/), building it once per key.
build_image() {
  local suite=$1 key dir tmp lock_fd start
  key=$(image_key "${suite}")
  dir=${CACHE_DIR}/images/${key}
  mkdir -p "${CACHE_DIR}/images" "${CACHE_DIR}/debs/${suite}"
  exec {lock_fd}>"${CACHE_DIR}/images/.lock-${suite}"
  flock "${lock_fd}"
  if [[ -f ${dir}/image.ok ]]; then
    exec {lock_fd}>&-
    printf '%s\n' "${dir}"
    return 0
  fi
  start=${SECONDS}
  tmp=${dir}.tmp
  rm -rf "${tmp}"
  mkdir -p "${tmp}/repo"
  log "building image ${key} (debootstrap ${suite}; log: ${tmp}/build.log)"
  "${SELF}" __build-steps "${suite}" "${tmp}" >"${tmp}/build.log" 2>&1 || {
    tail -n 40 "${tmp}/build.log" >&2
    die "building image ${key} failed; full log: ${tmp}/build.log"
  }
  {
    printf 'key=%s\nsuite=%s\nmirror=%s\nbuilt=%s\nseconds=%s\n' "${key}" "${suite}" "${MIRROR}" \
      "$(date -u +%FT%TZ)" "$((SECONDS - start))"
    printf 'base=%s\nrepo=%s\nrepo_debs=%s\n' "${BASE_PACKAGES[*]}" "${REPO_PACKAGES[*]}" \
      "$(find "${tmp}/repo" -name '*.deb' | wc -l)"
  } >"${tmp}/image.ok"
  rm -rf "${dir}"
  mv "${tmp}" "${dir}"
  # Older keys of this suite are dead weight now.
  find "${CACHE_DIR}/images" -mindepth 1 -maxdepth 1 -name "${suite}-*" ! -name "${key}" -exec rm -rf {} +
  log "image ${key} built in $((SECONDS - start)) s"
  exec {lock_fd}>&-
  printf '%s\n' "${dir}"
}

# build_steps SUITE TMP: the work of build_image, in its own process so that errexit holds.
build_steps() {
  local suite=$1 tmp=$2 include
  phase() { printf '\n==== %s: %s (%s s)\n' "$(date +%T)" "$*" "${SECONDS}"; }
  include=$(IFS=,; printf '%s' "${BASE_PACKAGES[*]}")
  phase "debootstrap ${suite}"
  debootstrap --variant=minbase --cache-dir="${CACHE_DIR}/debs/${suite}" --include="${include}" \
    "${suite}" "${tmp}/rootfs" "${MIRROR}"

  # The packages ztagent installs, with everything they pull in that the image lacks (recommends too).
  phase "download ${REPO_PACKAGES[*]}"
  nspawn -D "${tmp}/rootfs" --as-pid2 --setenv=DEBIAN_FRONTEND=noninteractive -- \
    bash -euc 'apt-get update -q && apt-get clean && apt-get install -y -q --download-only "$@"' \
    bash "${REPO_PACKAGES[@]}"
  mv "${tmp}"/rootfs/var/cache/apt/archives/*.deb "${tmp}/repo/"
  (cd "${tmp}/repo" && apt-ftparchive packages . >Packages && gzip -9kn Packages &&
    apt-ftparchive release . >Release)

  # Offline from now on: the only apt source is the read-only local repository.
  rm -rf "${tmp}"/rootfs/var/lib/apt/lists/* "${tmp}/rootfs/etc/apt/sources.list" \
    "${tmp}"/rootfs/etc/apt/sources.list.d/*
  mkdir -p "${tmp}/rootfs/var/lib/apt/lists/partial" "${tmp}/rootfs${REPO_MOUNT}"
  cat >"${tmp}/rootfs/etc/apt/sources.list.d/ztagent-e2e-local.sources" <<EOF
# Written by tests/e2e/run.sh: the packages ztagent installs, served offline from the host's cache.
Types: deb
URIs: file:${REPO_MOUNT}
Suites: ./
Trusted: yes
EOF

  # Prove that the offline install works (no network) before anything relies on it.
  phase "offline install check"
  cp -a "${tmp}/rootfs" "${tmp}/check-rootfs"
  # shellcheck disable=SC2016 # the inner bash expands "$@"; dpkg-query expands ${Package}
  nspawn -D "${tmp}/check-rootfs" --as-pid2 --private-network --bind-ro="${tmp}/repo:${REPO_MOUNT}" \
    --setenv=DEBIAN_FRONTEND=noninteractive -- \
    bash -euc 'apt-get update -q && apt-get install -y -q "$@" && podman --version &&
               dpkg-query -W -f="\${Package} \${Version}\n" "$@"' bash "${REPO_PACKAGES[@]}"
  rm -rf "${tmp}/check-rootfs"
  phase "done"
}

# container_images: the directory of the container image tarballs (tests/e2e/images/build.sh,
# cached in CACHE_DIR/containers), built from the bookworm image when missing or out of date.
container_images() {
  if [[ -n ${CONTAINER_IMAGES:-} ]]; then
    printf '%s\n' "${CONTAINER_IMAGES}"
    return 0
  fi
  local base start=${SECONDS} out
  base=$(build_image bookworm)
  if ! out=$(ZTAGENT_E2E_CACHE=${CACHE_DIR} ZTAGENT_E2E_MIRROR=${MIRROR} "${E2E_DIR}/images/build.sh" \
    --base "${base}/rootfs" 2>"${CACHE_DIR}/containers-build.log"); then
    tail -n 40 "${CACHE_DIR}/containers-build.log" >&2
    die "building the container images failed; full log: ${CACHE_DIR}/containers-build.log"
  fi
  if ((SECONDS - start > 2)); then
    log "container images built in $((SECONDS - start)) s"
  fi
  printf '%s\n' "${out}"
}

# build_images SUITE...: builds the missing images side by side (downloads overlap with dpkg work).
build_images() {
  local suite pids=() failed=0 i
  for suite in "$@"; do
    "${SELF}" __build-image "${suite}" >/dev/null &
    pids+=($!)
  done
  for i in "${!pids[@]}"; do
    wait "${pids[i]}" || failed=1
  done
  ((failed == 0)) || die "could not build the images (see above)"
}

# ---- the ztagent binary inside the image ---------------------------------------------------------
# --deb PATH: the package goes to JOBDIR/pkg; the job installs it at boot 1 (job/boot.sh install_deb).
# Otherwise (--binary, developers):
# Copies the binary to JOBDIR/bin and bundles the shared libraries the image lacks (the binary is
# built on the Debian 12 host; Debian 13 has other sonames for boost/spdlog/fmt). The copy gets an
# RPATH (inherited by its libraries, not by the commands it runs) instead of LD_LIBRARY_PATH.
install_binary() {
  local binary=$1 rootfs=$2 jobdir=$3 lib soname path bundled=()
  mkdir -p "${jobdir}/bin" "${jobdir}/lib"
  cp "${binary}" "${jobdir}/bin/ztagent"
  if ! ldd "${binary}" >/dev/null 2>&1; then
    return 0  # static
  fi
  while read -r soname _ path _; do
    [[ ${path} == /* ]] || continue
    for lib in "${rootfs}/usr/lib/x86_64-linux-gnu/${soname}" "${rootfs}/lib/x86_64-linux-gnu/${soname}"; do
      [[ -e ${lib} ]] && continue 2
    done
    cp -L "${path}" "${jobdir}/lib/${soname}"
    bundled+=("${soname}")
  done < <(ldd "${binary}" | grep '=>')
  if ((${#bundled[@]} > 0)); then
    patchelf --force-rpath --set-rpath /job/lib "${jobdir}/bin/ztagent"
    printf 'bundled from the host (missing in the image): %s\n' "${bundled[*]}" >"${jobdir}/lib/README"
  fi
}

# ---- scenario images -----------------------------------------------------------------------------
customise_rootfs() {
  local rootfs=$1 hostname=$2 etc=$1/etc unit
  : >"${etc}/machine-id"                      # empty: generated at every boot
  rm -f "${rootfs}/var/lib/dbus/machine-id"
  printf '%s\n' "${hostname}" >"${etc}/hostname"
  printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n' \
    "${hostname}" >"${etc}/hosts"
  # The host's cgroup2 tree has no pids controller ("controller pids is not available"). Podman is
  # not installed yet; it reads this file once ztagent has installed it.
  mkdir -p "${etc}/containers"
  printf '# Written by tests/e2e/run.sh\n[containers]\npids_limit = 0\n' >"${etc}/containers/containers.conf"
  # With only lo, wait-online blocks boot for 120 s; timers would race ztagent's apt-get.
  for unit in systemd-networkd-wait-online.service apt-daily.timer apt-daily.service \
    apt-daily-upgrade.timer apt-daily-upgrade.service man-db.timer man-db.service \
    dpkg-db-backup.timer e2scrub_all.timer fstrim.timer; do
    ln -sf /dev/null "${etc}/systemd/system/${unit}"
  done
  # The disks here write ~25 MB/s; dpkg's fsync per file doubles ztagent's package step. A test
  # machine that is thrown away needs no crash safety.
  printf 'force-unsafe-io\n' >"${etc}/dpkg/dpkg.cfg.d/ztagent-e2e-unsafe-io"
  mkdir -p "${etc}/systemd/system.conf.d" "${etc}/systemd/user.conf.d"
  printf '[Manager]\nDefaultTimeoutStopSec=15s\n' >"${etc}/systemd/system.conf.d/ztagent-e2e.conf"
  printf '[Manager]\nDefaultTimeoutStopSec=10s\n' >"${etc}/systemd/user.conf.d/ztagent-e2e.conf"
  cat >"${etc}/systemd/system/ztagent-e2e-job.service" <<'EOF'
# Written by tests/e2e/run.sh: runs the bind-mounted job at every boot.
[Unit]
Description=ztagent e2e job (/job/boot.sh)
After=multi-user.target network-online.target
Wants=network-online.target
ConditionPathExists=/job/boot.sh

[Service]
Type=oneshot
ExecStart=/job/boot.sh
StandardOutput=journal+console
StandardError=journal+console
TimeoutStartSec=infinity

[Install]
WantedBy=multi-user.target
EOF
  mkdir -p "${etc}/systemd/system/multi-user.target.wants"
  ln -sf ../ztagent-e2e-job.service "${etc}/systemd/system/multi-user.target.wants/ztagent-e2e-job.service"
}

# boot_until_poweroff NAME ROOTFS JOBDIR REPO [IMAGES]: boots, reboots on exit 133, stops at
# poweroff (0). IMAGES: the container image directory, bind-mounted read-only at IMAGES_MOUNT.
boot_until_poweroff() {
  local name=$1 rootfs=$2 jobdir=$3 repo=$4 images=${5:-} boot rc console binds=()
  BOOT_FAILURE=""
  if [[ -n ${images} ]]; then
    mkdir -p "${rootfs}${IMAGES_MOUNT}"
    binds+=(--bind-ro="${images}:${IMAGES_MOUNT}")
  fi
  for ((boot = 1; boot <= MAX_BOOTS; boot++)); do
    console=${jobdir}/logs/console-boot${boot}.log
    rc=0
    timeout --kill-after=20 "${BOOT_TIMEOUT}" env SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 \
      systemd-nspawn --quiet --boot -D "${rootfs}" --machine="ztagent-e2e-${name}" \
      --register=no --keep-unit --private-network --system-call-filter=@keyring --capability=all \
      --bind="${jobdir}:/job" --bind-ro="${repo}:${REPO_MOUNT}" "${binds[@]}" --console=read-only \
      >"${console}" 2>&1 </dev/null || rc=$?
    date +%s.%N >"${jobdir}/out/shutdown-boot${boot}.end"  # see shutdown_seconds
    case ${rc} in
      0) return 0 ;;                                       # powered off
      133) echo "reboot" >>"${jobdir}/out/boots.log" ;;    # rebooted: boot again
      124 | 137)
        kill_leftovers "${rootfs}"
        BOOT_FAILURE="boot ${boot} did not finish within ${BOOT_TIMEOUT} s; killed the container"
        log "${name}: ${BOOT_FAILURE} (raise ZTAGENT_E2E_BOOT_TIMEOUT if the machine is just slow)"
        tail -n 30 "${console}" >&2 || true
        return 1
        ;;
      *)
        BOOT_FAILURE="systemd-nspawn exited ${rc} in boot ${boot}"
        log "${name}: ${BOOT_FAILURE}; console:"
        tail -n 30 "${console}" >&2 || true
        return 1
        ;;
    esac
  done
  BOOT_FAILURE="still rebooting after ${MAX_BOOTS} boots"
  log "${name}: ${BOOT_FAILURE}"
  return 1
}

# run_without_init NAME ROOTFS JOBDIR REPO: the job once, as PID 2 under nspawn's stub init (no
# systemd); the container ends with the job.
run_without_init() {
  local name=$1 rootfs=$2 jobdir=$3 repo=$4 rc=0 console=$3/logs/console-boot1.log
  BOOT_FAILURE=""
  timeout --kill-after=20 "${BOOT_TIMEOUT}" env SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 \
    systemd-nspawn --quiet --as-pid2 -D "${rootfs}" --machine="ztagent-e2e-${name}" --register=no \
    --keep-unit --private-network --capability=all --bind="${jobdir}:/job" \
    --bind-ro="${repo}:${REPO_MOUNT}" -- /job/boot.sh >"${console}" 2>&1 </dev/null || rc=$?
  if ((rc != 0)); then
    kill_leftovers "${rootfs}"
    BOOT_FAILURE="the job without init exited ${rc}"
    log "${name}: ${BOOT_FAILURE}; console:"
    tail -n 30 "${console}" >&2 || true
    return 1
  fi
}

# shellcheck source=lib/qemu.sh
source "${E2E_DIR}/lib/qemu.sh"

# shellcheck source=lib/assert.sh
source "${E2E_DIR}/lib/assert.sh"

# ---- scenarios -------------------------------------------------------------------------------------
# A scenario is a function scenario_<name with _ for -> that sets:
#   SC_SUITE (bookworm|trixie), SC_PROFILE, SC_SET (array of KEY=VALUE for --set), SC_PLAN (the job
#   plan in tests/e2e/job/boot.sh: plan_<SC_PLAN>_boot<N>), and optionally
#   SC_CONFIG (a site config in tests/e2e/scenarios/, installed as /etc/ztagent/ztagent.toml),
#   SC_IMAGES=yes (the container images of tests/e2e/images/ are bind-mounted at IMAGES_MOUNT),
#   SC_EXPECT_PASSED (check ids that must be in the JUnit of `verify` after the reboot and pass:
#   neither failed nor skipped), SC_INIT=none (no boot: the job runs once as PID 2, without systemd)
# and a function assert_<SC_PLAN> that checks JOBDIR/out after the last poweroff.
#
# The container scenarios run the whole profile with the stack's images pointed at the local
# images (scenarios/stack.toml). Checks that must have run and passed after the reboot:
readonly STACK_CHECKS=(
  runtime.containers runtime.http runtime.zerotier-udp runtime.podman-info runtime.auto-update
)
# (a) Debian 13, podman 5: Quadlet (.pod + .container), pasta, ports via sysctl
scenario_debian13_quadlet() {
  SC_SUITE=trixie SC_PROFILE=debian-13 SC_PLAN=stack SC_SET=() SC_CONFIG=stack.toml SC_IMAGES=yes
  SC_EXPECT_PASSED=("${STACK_CHECKS[@]}")
}
# (b) Debian 12, podman 4.3: classic user units, slirp4netns, ports via sysctl
scenario_debian12_classic() {
  SC_SUITE=bookworm SC_PROFILE=debian-12 SC_PLAN=stack SC_SET=() SC_CONFIG=stack.toml SC_IMAGES=yes
  SC_EXPECT_PASSED=("${STACK_CHECKS[@]}")
}
# (c) Debian 13 with ports via an nftables forward (80 -> 8080, 443 -> 8443)
scenario_debian13_forward() {
  SC_SUITE=trixie SC_PROFILE=debian-13 SC_PLAN=stack SC_SET=(ports.strategy=forward) SC_CONFIG=stack.toml
  SC_IMAGES=yes SC_EXPECT_PASSED=("${STACK_CHECKS[@]}" ports.forward-persisted ports.forward-live)
}
# (e) drift: the Debian 13 stack, then a data dir's mode is tampered with after the reboot
scenario_drift() {
  SC_SUITE=trixie SC_PROFILE=debian-13 SC_PLAN=stack_drift SC_SET=() SC_CONFIG=stack.toml SC_IMAGES=yes
  SC_EXPECT_PASSED=("${STACK_CHECKS[@]}")
}
# (g) negative: the stack from a profile whose ztnet runs upstream's plain CMD, without
# `env HOSTNAME=0.0.0.0` in front (the ztnet contract, point 6;
# the profile is generated from the checkout's, see broken_profile). The ztnet stand-in then listens
# on the pod's address only, as the real server does: provision and verify must fail exactly
# runtime.containers (ztnet unhealthy) and runtime.http (caddy answers 502), and the page through
# caddy is not ztnet's.
scenario_contract_no_hostname() {
  SC_SUITE=trixie SC_PROFILE=debian-13 SC_PLAN=stack_broken SC_SET=() SC_CONFIG=stack.toml SC_IMAGES=yes
  SC_BROKEN=ztnet-hostname
}
# (f) schedule where systemd does not run: `schedule install` writes /etc/cron.d/ztagent; cron runs
# it and the failing checks (nothing is provisioned) reach syslog. No init: cron and a syslogd are
# started by the job, as PID 2 of the container.
scenario_schedule_cron() { SC_SUITE=bookworm SC_PROFILE=debian-12 SC_PLAN=cron SC_SET=() SC_INIT=none; }
# (d), changed 0 on the provision after the reboot, is asserted by every one of them.
#
# The harness's test of the images: base steps, import, a pod run by hand with podman (no stack
# steps needed), all four containers healthy, caddy answering on the published port.
scenario_harness_images_debian12() { SC_SUITE=bookworm SC_PROFILE=debian-12 SC_PLAN=images SC_SET=() SC_IMAGES=yes; }
scenario_harness_images_debian13() { SC_SUITE=trixie SC_PROFILE=debian-13 SC_PLAN=images SC_SET=() SC_IMAGES=yes; }
# The harness's own smoke test (no ztagent): offline apt install from the local repository in the
# booted image, reboot, rootless-capable podman present after the reboot.
scenario_harness_selftest_debian12() { SC_SUITE=bookworm SC_PROFILE=none SC_PLAN=selftest SC_SET=(); }
scenario_harness_selftest_debian13() { SC_SUITE=trixie SC_PROFILE=none SC_PLAN=selftest SC_SET=(); }

list_scenarios() {
  declare -F | awk '{print $3}' | sed -n 's/^scenario_//p' | tr '_' '-'
}

# shellcheck source=lib/plans.sh
source "${E2E_DIR}/lib/plans.sh"

# run_scenario NAME: returns 0 on PASS; writes the summary line to STATE_DIR/NAME/summary.
run_scenario() {
  local name=$1 fn image rootfs start boot_start
  fn=scenario_${name//-/_}
  declare -F "${fn}" >/dev/null || die "unknown scenario '${name}' (known: $(list_scenarios | tr '\n' ' '))"
  SC_SET=() SC_CONFIG="" SC_IMAGES=no SC_EXPECT_PASSED=() SC_INIT=systemd SC_BROKEN=""
  "${fn}"
  FAILURES=()
  SUMMARY_DETAIL=""
  start=${SECONDS}
  section "scenario ${name} (${SC_SUITE}, profile ${SC_PROFILE})"
  image=$(build_image "${SC_SUITE}")
  local state=${STATE_DIR}/${name}
  rootfs=${state}/rootfs
  JOBDIR=${state}/job
  rm -rf "${state}"
  mkdir -p "${JOBDIR}/out" "${JOBDIR}/logs" "${JOBDIR}/state"
  cp -a "${image}/rootfs" "${rootfs}"
  customise_rootfs "${rootfs}" "e2e-${name:0:40}"
  if [[ -n ${SC_CONFIG} ]]; then
    install -D -m 0644 "${E2E_DIR}/scenarios/${SC_CONFIG}" "${rootfs}/etc/ztagent/ztagent.toml"
  fi
  local images=""
  if [[ ${SC_IMAGES} == yes ]]; then
    images=$(container_images)
  fi
  cp "${E2E_DIR}/job/boot.sh" "${JOBDIR}/boot.sh"
  chmod 0755 "${JOBDIR}/boot.sh"
  # A profile file instead of the embedded one (to try a profile change without relinking; its
  # includes still resolve to the embedded files).
  if [[ -n ${PROFILES_DIR} && ${SC_PROFILE} != none ]]; then
    [[ -f ${PROFILES_DIR}/${SC_PROFILE}.toml ]] || die "ZTAGENT_E2E_PROFILES: no ${PROFILES_DIR}/${SC_PROFILE}.toml"
    install -D -m 0644 "${PROFILES_DIR}/${SC_PROFILE}.toml" "${JOBDIR}/profiles/${SC_PROFILE}.toml"
    log "${name}: profile from ${PROFILES_DIR}/${SC_PROFILE}.toml (ZTAGENT_E2E_PROFILES)"
    SC_PROFILE=/job/profiles/${SC_PROFILE}.toml
  fi
  if [[ -n ${SC_BROKEN} ]]; then
    mkdir -p "${JOBDIR}/profiles"
    broken_profile "${SC_PROFILE}" "${SC_BROKEN}" >"${JOBDIR}/profiles/broken.toml" ||
      die "${name}: cannot generate the contract-breaking profile ${SC_BROKEN}"
    log "${name}: profile ${SC_PROFILE} with the contract broken (${SC_BROKEN}): job/profiles/broken.toml"
    SC_PROFILE=/job/profiles/broken.toml
  fi
  {
    printf 'SCENARIO=%q\nPROFILE=%q\nPLAN=%q\nVERIFY_RETRY_SECONDS=%q\nREPO_PACKAGES=(%s)\n' \
      "${name}" "${SC_PROFILE}" "${SC_PLAN}" "${VERIFY_RETRY_SECONDS}" "${REPO_PACKAGES[*]}"
    declare -p SC_SET | sed 's/^declare -a SC_SET=/SET_ARGS=/'
  } >"${JOBDIR}/scenario.env"
  if [[ ${SC_PLAN} != selftest && -n ${DEB} ]]; then
    install -D -m 0644 "${DEB}" "${JOBDIR}/pkg/$(basename "${DEB}")"
    log "${name}: installs $(basename "${DEB}") at boot 1 (apt-get install ./$(basename "${DEB}"))"
  elif [[ ${SC_PLAN} != selftest ]]; then
    install_binary "${BINARY}" "${rootfs}" "${JOBDIR}"
    # Fail fast (and clearly) when the binary cannot even start in this image.
    local version
    if ! version=$(nspawn -D "${rootfs}" --as-pid2 --private-network --bind-ro="${JOBDIR}:/job" \
      -- /job/bin/ztagent --version 2>&1); then
      die "${name}: the ztagent binary does not run in the ${SC_SUITE} image: ${version}"
    fi
    log "${name}: ${version}"
  fi
  log "${name}: prepared in $((SECONDS - start)) s; booting (state: ${state})"
  boot_start=${SECONDS}
  host_waivers
  if [[ ${QEMU} == yes && ${SC_INIT} != none ]]; then
    WAIVED_CHECKS=()  # a real kernel: the guest's cgroup2 tree has every controller
  fi
  install_waivers "${rootfs}"
  if [[ ${SC_INIT} == none ]]; then
    run_without_init "${name}" "${rootfs}" "${JOBDIR}" "${image}/repo" || true
  elif [[ ${QEMU} == yes ]]; then
    qemu_boot "${name}" "${rootfs}" "${JOBDIR}" "${image}/repo" "${images}" "${SC_SUITE}"
  else
    boot_until_poweroff "${name}" "${rootfs}" "${JOBDIR}" "${image}/repo" "${images}" || true
  fi
  if [[ -z ${BOOT_FAILURE} ]]; then
    if [[ -n ${DEB} && ${SC_PLAN} != selftest ]]; then
      expect_rc install-deb 0
    fi
    "assert_${SC_PLAN}"
  else
    fail "${BOOT_FAILURE}"
  fi
  print_outputs "${name}"
  local boots
  boots=$(cat "${JOBDIR}/state/boots" 2>/dev/null || echo 0)
  if ((${#FAILURES[@]} == 0)); then
    local waived_note=""
    if ((${#WAIVED_SEEN[@]} > 0)); then
      waived_note="; waived: $(printf '%s\n' "${WAIVED_SEEN[@]}" | sort -u | tr '\n' ' ' | sed 's/ $//')"
    fi
    local runs="${boots} boots"
    [[ ${SC_INIT} == none ]] && runs="1 run without init"
    SUMMARY_LINE="e2e: ${name}: PASS (${SUMMARY_DETAIL}; ${runs} in $((SECONDS - boot_start)) s, total $((SECONDS - start)) s${waived_note})"
    if [[ ${KEEP} == no ]]; then
      rm -rf "${rootfs}"
    fi
    printf '%s\n' "${SUMMARY_LINE}" >"${state}/summary"
    return 0
  fi
  section "${name}: journal of the last boot (tail)"
  tail -n 200 "${JOBDIR}/logs/journal-boot${boots}.log" 2>/dev/null || true
  local more=""
  if ((${#FAILURES[@]} > 1)); then
    more=" (+$((${#FAILURES[@]} - 1)) more above)"
  fi
  SUMMARY_LINE="e2e: ${name}: FAIL (${FAILURES[0]}${more}; state kept in ${state})"
  printf '%s\n' "${SUMMARY_LINE}" >"${state}/summary"
  return 1
}

# Debian 12 (podman 4.3, classic units) must stop its stack as Debian 13 (podman 5, Quadlet) does:
# when both debian12-classic and debian13-quadlet ran in this run, each of the two shutdowns (the
# reboot with the stack up, the final poweroff) may take at most SHUTDOWN_SLACK s longer on Debian
# 12. Sets SHUTDOWN_LINES (for the summary); returns 1 when the bound is exceeded.
readonly SHUTDOWN_SLACK=15
SHUTDOWN_LINES=()
compare_shutdowns() {
  local d12=${STATE_DIR}/debian12-classic/shutdown d13=${STATE_DIR}/debian13-quadlet/shutdown
  [[ " $* " == *" debian12-classic "* && " $* " == *" debian13-quadlet "* ]] || return 0
  if [[ ! -s ${d12} || ! -s ${d13} ]]; then
    SHUTDOWN_LINES+=("e2e: shutdown: not compared (a scenario ended before its reboot)")
    return 0
  fi
  local what t12 t13 rc=0 verdict
  for what in reboot poweroff; do
    t12=$(sed -n "s/^${what}=//p" "${d12}")
    t13=$(sed -n "s/^${what}=//p" "${d13}")
    if [[ ! ${t12} =~ ^[0-9.]+$ || ! ${t13} =~ ^[0-9.]+$ ]]; then
      verdict="FAIL (not measured)"
      rc=1
    elif awk -v a="${t12}" -v b="${t13}" -v s="${SHUTDOWN_SLACK}" 'BEGIN { exit !(a <= b + s) }'; then
      verdict="PASS"
    else
      verdict="FAIL (more than ${SHUTDOWN_SLACK} s longer on Debian 12)"
      rc=1
    fi
    SHUTDOWN_LINES+=("e2e: shutdown: ${what}: debian12-classic ${t12} s, debian13-quadlet ${t13} s: ${verdict}")
  done
  return "${rc}"
}

main() {
  local scenarios=() prepare_only=no name
  # Internal entry points: each runs in its own process, so errexit holds inside (bash ignores
  # set -e in any function whose status is tested with if/||/&&).
  case ${1:-} in
    __build-steps) build_steps "$2" "$3"; return 0 ;;
    __scenario) run_scenario "$2"; return 0 ;;
    __build-image) build_image "$2"; return 0 ;;
  esac
  export BINARY=${REPO_ROOT}/build/ztagent DEB="" KEEP=no
  export STRICT=no
  if [[ ${ZTAGENT_E2E_STRICT:-0} == 1 ]]; then
    STRICT=yes
  fi
  while (($# > 0)); do
    case $1 in
      --binary) BINARY=${2:?--binary needs a path}; shift 2 ;;
      --binary=*) BINARY=${1#--binary=}; shift ;;
      --deb) DEB=${2:?--deb needs a path}; shift 2 ;;
      --deb=*) DEB=${1#--deb=}; shift ;;
      --keep) KEEP=yes; shift ;;
      --prepare-only) prepare_only=yes; shift ;;
      --list) list_scenarios; return 0 ;;
      --qemu) QEMU=yes; shift ;;
      -h | --help) usage; return 0 ;;
      -*) usage >&2; return 64 ;;
      *) scenarios+=("$1"); shift ;;
    esac
  done
  ((EUID == 0)) || die "must run as root (debootstrap, systemd-nspawn)"
  export ZTAGENT_E2E_QEMU=${QEMU}
  if [[ ${QEMU} == yes ]] && ((${#scenarios[@]} != 1)); then
    die "--qemu runs exactly one scenario (they take minutes each under software emulation)"
  fi
  if ((${#scenarios[@]} == 0)); then
    mapfile -t scenarios < <(list_scenarios | grep -v '^harness-')
  fi
  for name in "${scenarios[@]}"; do
    declare -F "scenario_${name//-/_}" >/dev/null || die "unknown scenario '${name}' (known: $(list_scenarios | tr '\n' ' '))"
  done
  local needs_binary=no needs_images=no suites=() suite plan images
  for name in "${scenarios[@]}"; do
    read -r suite plan images < <("scenario_${name//-/_}"; printf '%s %s %s\n' "${SC_SUITE}" "${SC_PLAN}" "${SC_IMAGES:-no}")
    [[ ${plan} == selftest ]] || needs_binary=yes
    if [[ ${images} == yes ]]; then
      needs_images=yes
      suite+=" bookworm"  # the container images are built from the bookworm image
    fi
    for suite in ${suite}; do
      [[ " ${suites[*]} " == *" ${suite} "* ]] || suites+=("${suite}")
    done
  done
  if [[ ${prepare_only} == yes ]]; then
    suites=(bookworm trixie)
    needs_images=yes
  elif [[ ${needs_binary} == yes && -n ${DEB} ]]; then
    [[ -f ${DEB} ]] || die "no .deb at ${DEB}: build it (packaging/build-release.sh OUT_DIR)"
    [[ $(dpkg-deb -f "${DEB}" Package 2>/dev/null) == ztagent ]] || die "${DEB} is not a ztagent .deb"
    DEB=$(realpath "${DEB}")
    log "testing ${DEB} ($(dpkg-deb -f "${DEB}" Version), Depends: $(dpkg-deb -f "${DEB}" Depends))"
  elif [[ ${needs_binary} == yes ]]; then
    [[ -x ${BINARY} ]] || die "no ztagent binary at ${BINARY}: build it (ninja -C build ztagent) or pass --binary PATH"
    BINARY=$(realpath "${BINARY}")
    log "testing ${BINARY}"
  fi
  ensure_host_deps
  mkdir -p "${CACHE_DIR}" "${STATE_DIR}"
  build_images "${suites[@]}"
  if [[ ${needs_images} == yes ]]; then
    CONTAINER_IMAGES=$(container_images)
    export CONTAINER_IMAGES
    log "container images: ${CONTAINER_IMAGES}"
  fi
  if [[ ${prepare_only} == yes ]]; then
    log "images ready in ${CACHE_DIR}/images and ${CACHE_DIR}/containers"
    return 0
  fi

  # One run at a time: scenarios share state directories and machine names.
  local lock_fd
  exec {lock_fd}>"${STATE_DIR}/.lock"
  if ! flock -n "${lock_fd}"; then
    log "another tests/e2e/run.sh is running (lock ${STATE_DIR}/.lock); waiting for it"
    flock "${lock_fd}"
  fi

  local summaries=() passed=0 failed=0 t0=${SECONDS} rc
  for name in "${scenarios[@]}"; do
    rm -f "${STATE_DIR}/${name}/summary" "${STATE_DIR}/${name}/shutdown"
    rc=0
    "${SELF}" __scenario "${name}" || rc=$?
    if ((rc == 0)); then
      passed=$((passed + 1))
    else
      failed=$((failed + 1))
    fi
    if [[ -s ${STATE_DIR}/${name}/summary ]]; then
      summaries+=("$(cat "${STATE_DIR}/${name}/summary")")
    else
      summaries+=("e2e: ${name}: FAIL (harness error before the scenario finished, exit ${rc}; see above)")
    fi
  done
  local shutdowns_ok=yes
  compare_shutdowns "${scenarios[@]}" || shutdowns_ok=no
  section "summary ($((SECONDS - t0)) s)"
  printf '%s\n' "${summaries[@]}"
  ((${#SHUTDOWN_LINES[@]} == 0)) || printf '%s\n' "${SHUTDOWN_LINES[@]}"
  printf 'e2e: %d passed, %d failed\n' "${passed}" "${failed}"
  ((failed == 0)) && [[ ${shutdowns_ok} == yes ]]
}

# One line, read whole before it runs: editing this file during a run cannot change what runs.
main "$@"; exit
