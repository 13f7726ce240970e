#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Part of tests/e2e/run.sh (sourced by it, not run on its own):
# the QEMU tier (a real kernel and a real reboot,
# under software emulation; `run.sh --qemu`).
# shellcheck shell=bash disable=SC2317

# ---- QEMU tier (software emulation: a real kernel and a real reboot) ------------------------------
# qemu_kernel SUITE: prints a directory with vmlinuz, initrd.img and modules.tar (lib/modules) of
# Debian's linux-image-amd64 for SUITE, installed once into a copy of the cached image (needs the
# mirror the first time; the .debs stay in CACHE_DIR/debs/qemu-SUITE).
qemu_kernel() {
  local suite=$1 image key dir tmp debs
  image=$(build_image "${suite}")
  key=$(basename "${image}")
  dir=${CACHE_DIR}/qemu/${key}
  if [[ -f ${dir}/ok ]]; then
    printf '%s\n' "${dir}"
    return 0
  fi
  tmp=${dir}.tmp
  debs=${CACHE_DIR}/debs/qemu-${suite}
  rm -rf "${tmp}"
  mkdir -p "${tmp}" "${debs}/archives/partial" "${debs}/lists/partial"
  log "qemu: installing linux-image-amd64 into a copy of ${key} (log: ${tmp}/build.log)"
  cp -a "${image}/rootfs" "${tmp}/rootfs"
  printf 'deb %s %s main\n' "${MIRROR}" "${suite}" >"${tmp}/rootfs/etc/apt/qemu-tier.list"
  # shellcheck disable=SC2016 # the inner bash expands it
  nspawn -D "${tmp}/rootfs" --as-pid2 --bind="${debs}/archives:/var/cache/apt/archives" \
    --bind="${debs}/lists:/var/lib/apt/lists" --setenv=DEBIAN_FRONTEND=noninteractive -- \
    bash -euc 'o=(-o Dir::Etc::SourceList=/etc/apt/qemu-tier.list -o Dir::Etc::SourceParts=/nonexistent)
               apt-get "${o[@]}" update -q || echo "apt-get update failed: using the cached lists"
               apt-get "${o[@]}" install -y -q --no-install-recommends \
                 -o Dpkg::Options::=--force-unsafe-io linux-image-amd64' >"${tmp}/build.log" 2>&1 || {
    tail -n 30 "${tmp}/build.log" >&2
    die "qemu: installing the kernel failed; log: ${tmp}/build.log"
  }
  cp -L "${tmp}"/rootfs/boot/vmlinuz-* "${tmp}/vmlinuz"
  cp -L "${tmp}"/rootfs/boot/initrd.img-* "${tmp}/initrd.img"
  tar -C "${tmp}/rootfs" -cf "${tmp}/modules.tar" ./usr/lib/modules
  rm -rf "${tmp}/rootfs"
  printf 'kernel=%s\n' "$(cd "${tmp}" && tar -tf modules.tar | sed -n 's|^\./usr/lib/modules/\([^/]*\)/$|\1|p' | head -1)" >"${tmp}/ok"
  rm -rf "${dir}"
  mv "${tmp}" "${dir}"
  printf '%s\n' "${dir}"
}

# qemu_boot NAME ROOTFS JOBDIR REPO IMAGES SUITE: the scenario's rootfs (plus the kernel modules
# and an fstab that mounts the shares) as a raw ext4 image (mkfs.ext4 -d) under a qcow2 overlay,
# booted by qemu-system-x86_64 -accel tcg; /job, the repository and the images come in over 9p.
# The job reboots the VM for real (QEMU resets it in the same process) and ends with a poweroff
# (QEMU exits 0). Sets BOOT_FAILURE on failure.
qemu_boot() {
  local name=$1 rootfs=$2 jobdir=$3 repo=$4 images=$5 suite=$6 kernel state rc=0 shares=()
  BOOT_FAILURE=""
  kernel=$(qemu_kernel "${suite}")
  state=$(dirname "${rootfs}")
  tar -C "${rootfs}" -xf "${kernel}/modules.tar"
  mkdir -p "${rootfs}/job" "${rootfs}${REPO_MOUNT}" "${rootfs}${IMAGES_MOUNT}"
  local opts=trans=virtio,version=9p2000.L,msize=512000,cache=none
  {
    printf '# Written by tests/e2e/run.sh --qemu\n/dev/vda / ext4 rw,errors=remount-ro 0 1\n'
    printf 'job /job 9p %s 0 0\n' "${opts}"
    printf 'repo %s 9p %s,ro 0 0\n' "${REPO_MOUNT}" "${opts}"
    [[ -z ${images} ]] || printf 'images %s 9p %s,ro 0 0\n' "${IMAGES_MOUNT}" "${opts}"
  } >"${rootfs}/etc/fstab"
  # The 9p modules are loaded from the root filesystem; name them so they load before the mounts.
  printf '9p\n9pnet_virtio\n' >"${rootfs}/etc/modules-load.d/ztagent-e2e-9p.conf"
  shares+=(-virtfs "local,path=${jobdir},mount_tag=job,security_model=none")
  shares+=(-virtfs "local,path=${repo},mount_tag=repo,security_model=none,readonly=on")
  [[ -z ${images} ]] || shares+=(-virtfs "local,path=${images},mount_tag=images,security_model=none,readonly=on")
  log "${name}: qemu: mkfs.ext4 -d (4 GiB sparse) + qcow2 overlay"
  rm -f "${state}/disk.raw" "${state}/disk.qcow2"
  mkfs.ext4 -q -F -d "${rootfs}" -L ztagent-e2e "${state}/disk.raw" 4G
  qemu-img create -q -f qcow2 -b "${state}/disk.raw" -F raw "${state}/disk.qcow2"
  log "${name}: qemu: booting (TCG, 2 vCPUs, 2 GiB; console: ${jobdir}/logs/console-qemu.log; limit ${QEMU_TIMEOUT} s)"
  timeout --kill-after=20 "${QEMU_TIMEOUT}" qemu-system-x86_64 -accel tcg,thread=multi -cpu max -smp 2 -m 2048 \
    -M q35 -nodefaults -no-user-config -display none -serial "file:${jobdir}/logs/console-qemu.log" \
    -kernel "${kernel}/vmlinuz" -initrd "${kernel}/initrd.img" \
    -append "root=/dev/vda rw console=ttyS0 panic=10 systemd.unified_cgroup_hierarchy=1" \
    -drive "file=${state}/disk.qcow2,if=virtio,format=qcow2,cache=unsafe" -nic none \
    "${shares[@]}" </dev/null >"${jobdir}/logs/qemu.log" 2>&1 || rc=$?
  case ${rc} in
    0) ;;
    124 | 137) BOOT_FAILURE="the VM did not power off within ${QEMU_TIMEOUT} s (ZTAGENT_E2E_QEMU_TIMEOUT)" ;;
    *) BOOT_FAILURE="qemu-system-x86_64 exited ${rc}: $(tail -n 3 "${jobdir}/logs/qemu.log" | tr '\n' ' ')" ;;
  esac
  if [[ -n ${BOOT_FAILURE} ]]; then
    log "${name}: ${BOOT_FAILURE}; console:"
    tail -n 40 "${jobdir}/logs/console-qemu.log" >&2 || true
  fi
  rm -f "${state}/disk.qcow2"
  [[ ${KEEP} == yes ]] || rm -f "${state}/disk.raw"
}
