#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Runs inside the booted test system at every boot (ztagent-e2e-job.service), from the bind-mounted
# /job directory that tests/e2e/run.sh prepared:
#   /job/scenario.env   SCENARIO, PROFILE, PLAN, SET_ARGS, VERIFY_RETRY_SECONDS, REPO_PACKAGES
#   /job/bin/ztagent    the binary under test (plus /job/lib for libraries the image lacks)
#   /job/out/           reports and, per step, <step>.rc (exit code) and <step>.time (seconds)
#   /job/logs/          boot<N>.log (this script) and journal-boot<N>.log
#   /job/state/boots    the boot counter
# Each boot runs plan_<PLAN>_boot<N>, which ends by calling next_boot or power_off. The host
# (run.sh) judges the results; this script only records them.

# The plan functions are called by name (plan_${PLAN}_boot${BOOT}).
# shellcheck disable=SC2317
set -uo pipefail

readonly JOB=/job
readonly ZTAGENT=${JOB}/bin/ztagent
# shellcheck source=/dev/null
source "${JOB}/scenario.env"

BOOT=$(($(cat "${JOB}/state/boots" 2>/dev/null || echo 0) + 1))
echo "${BOOT}" >"${JOB}/state/boots"
exec > >(tee -a "${JOB}/logs/boot${BOOT}.log") 2>&1

say() { printf '[job %s boot %s %s] %s\n' "${SCENARIO}" "${BOOT}" "$(date +%T)" "$*"; }

# step NAME CMD...: runs CMD, records its exit code and wall time; never aborts the job.
step() {
  local name=$1 t0 t1 rc=0
  shift
  say "step ${name}: $*"
  t0=$(date +%s%N)
  "$@" || rc=$?
  t1=$(date +%s%N)
  echo "${rc}" >"${JOB}/out/${name}.rc"
  awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.1f\n", ns / 1e9 }' >"${JOB}/out/${name}.time"
  say "step ${name}: exit ${rc} after $(cat "${JOB}/out/${name}.time") s"
  return "${rc}"
}

ztagent() { "${ZTAGENT}" "$@"; }

provision() {  # OUTPUT.json
  ztagent provision --profile "${PROFILE}" "${SET_OPTS[@]}" --format json --output "${JOB}/out/$1"
}

# verify OUTPUT.xml [retry]: with "retry", failing runtime checks get time to settle after boot.
verify() {
  local retry=()
  if [[ ${2:-} == retry && ${RETRY_SUPPORTED} == yes ]]; then
    retry=(--retry-timeout "${VERIFY_RETRY_SECONDS}s")
  fi
  ztagent verify --profile "${PROFILE}" "${SET_OPTS[@]}" "${retry[@]}" --format junit --output "${JOB}/out/$1"
}

finish_boot() {
  say "journal of this boot -> logs/journal-boot${BOOT}.log"
  journalctl -b --no-pager -o short-monotonic >"${JOB}/logs/journal-boot${BOOT}.log" 2>&1 || true
  sync
}
next_boot() { say "rebooting"; finish_boot; systemctl --no-block reboot; exit 0; }
power_off() { say "powering off"; finish_boot; systemctl --no-block poweroff; exit 0; }

SET_OPTS=()
for kv in "${SET_ARGS[@]}"; do
  SET_OPTS+=(--set "${kv}")
done
RETRY_SUPPORTED=no
if [[ -x ${ZTAGENT} ]] && "${ZTAGENT}" --help 2>&1 | grep -q -- '--retry-timeout'; then
  RETRY_SUPPORTED=yes
fi

os=$(sed -n 's/^PRETTY_NAME="\(.*\)"$/\1/p' /etc/os-release)
say "${os}, systemd $(systemctl --version | awk 'NR==1{print $2}'), up $(cut -d' ' -f1 /proc/uptime) s"
say "plan ${PLAN:?}, profile ${PROFILE}, verify --retry-timeout supported: ${RETRY_SUPPORTED}"
say "state of the boot: $(systemctl is-system-running 2>&1)"
systemctl --no-pager --failed --no-legend || true

# ---- plans -------------------------------------------------------------------------------------
# provision -> reboot -> verify -> provision again (must change nothing)
# Reboots even when provision failed: the run then also shows what verify and a second provision
# make of it (the host fails the scenario on provision1.rc either way).
plan_provision_verify_boot1() {
  step provision1 provision provision1.json || true
  next_boot
}
plan_provision_verify_boot2() {
  step verify verify verify.xml retry || true
  step provision2 provision provision2.json || true
  power_off
}

# provision -> reboot -> verify -> tamper -> verify must fail -> provision repairs -> verify passes
plan_drift_boot1() { plan_provision_verify_boot1; }
plan_drift_boot2() {
  step verify verify verify.xml retry || true
  step tamper chmod 0777 /opt/ztnet-data/zerotier || true
  step verify-drift verify verify-drift.xml || true
  step provision-repair provision provision-repair.json || true
  step verify-repaired verify verify-repaired.xml retry || true
  power_off
}

# The harness's own smoke test: offline install from the local repository, reboot, podman runs.
plan_selftest_boot1() {
  # Same command line as ztagent's packages step (provisioners/packages.cpp).
  step apt-install bash -c 'apt-get update -q &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"' \
    bash "${REPO_PACKAGES[@]}" || true
  next_boot
}
plan_selftest_boot2() {
  step after-reboot bash -c 'dpkg-query -W podman && podman --version && podman info --format "{{.Host.CgroupsVersion}}"' || true
  power_off
}

plan=plan_${PLAN}_boot${BOOT}
if ! declare -F "${plan}" >/dev/null; then
  say "no ${plan} in this job: nothing to do in boot ${BOOT}"
  power_off
fi
"${plan}"
power_off
