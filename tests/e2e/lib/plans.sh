#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Part of tests/e2e/run.sh (sourced by it, not run on its own):
# each job plan's assertions (assert_<SC_PLAN>), run
# after the scenario's last poweroff, and the helpers they share.
# shellcheck shell=bash disable=SC2317

# Boot 1 of the stack plans: base steps, images imported, the whole profile, then verify (with
# retries) before the reboot. The first provision checks the containers right after starting
# them, when their health is still "starting" (first health check after 30 s): a failing
# runtime.containers is allowed there, and only there, when verify1 passes everything after it.
expect_first_provision() {
  expect_report provision-base provision-base.json
  expect_rc import-images 0
  local ids
  ids=$(failing_ids "${JOBDIR}/out/provision1.json" 2>/dev/null || true)
  if [[ ${ids} == *runtime.containers* ]] && jq -e '.checks[] | select(.id == "runtime.containers")
      | (.actual // "") | test("health starting")' "${JOBDIR}/out/provision1.json" >/dev/null 2>&1; then
    log "  note: provision1: runtime.containers failed while health checks were still starting (allowed when verify1 passes)"
    expect_report provision1 provision1.json runtime.containers
  else
    expect_report provision1 provision1.json
  fi
  expect_report verify1 verify1.xml
  expect_passed verify1.xml "${SC_EXPECT_PASSED[@]}"
}

# shutdown_seconds BOOT: from the job's `systemctl reboot|poweroff` at the end of boot BOOT to the
# exit of systemd-nspawn (the guest stopped everything), "?" when either mark is missing.
shutdown_seconds() {
  local start end
  start=$(cat "${JOBDIR}/out/shutdown-boot$1.start" 2>/dev/null) || { echo '?'; return 0; }
  end=$(cat "${JOBDIR}/out/shutdown-boot$1.end" 2>/dev/null) || { echo '?'; return 0; }
  awk -v s="${start}" -v e="${end}" 'BEGIN { printf "%.1f\n", e - s }'
}

# The stack's reboot and poweroff times, for the comparison of the suites in main (compare_shutdowns).
record_shutdowns() {
  printf 'reboot=%s\npoweroff=%s\n' "$(shutdown_seconds 1)" "$(shutdown_seconds 2)" >"${JOBDIR}/../shutdown"
}

# The stack: base steps, images imported, whole profile -> reboot (every container stopped on its
# stop signal, postgres shut down cleanly) -> verify passes with the runtime checks run and passing
# -> provision again changes nothing.
assert_stack() {
  expect_first_provision
  expect_rc clean-shutdown 0
  record_shutdowns
  expect_report verify verify.xml
  expect_passed verify.xml "${SC_EXPECT_PASSED[@]}"
  assert_page
  expect_report provision2 provision2.json
  expect_changed provision2.json eq 0
  expect_noop_processes provision2.log
  SUMMARY_DETAIL="page through caddy: database ok, controller ok; provision $(out_time provision-base)+$(out_time import-images)+$(out_time provision1) s, stack healthy $(out_time verify1) s, reboot $(shutdown_seconds 1) s (clean), verify $(out_time verify) s ($(count_passed verify.xml) checks passed), re-provision changed $(json_changed "${JOBDIR}/out/provision2.json") and started ${NOOP_PROCESSES} processes, poweroff $(shutdown_seconds 2) s"
}

# As assert_stack up to verify; then chmod 0777 the zerotier dir -> verify fails exactly
# data.zerotier.mode -> provision repairs (changes something) -> verify passes, runtime included.
assert_stack_drift() {
  expect_first_provision
  expect_report verify verify.xml
  expect_passed verify.xml "${SC_EXPECT_PASSED[@]}"
  expect_rc tamper 0
  expect_report verify-drift verify-drift.xml data.zerotier.mode
  expect_report provision-repair provision-repair.json
  expect_changed provision-repair.json ge 1
  expect_report verify-repaired verify-repaired.xml
  expect_passed verify-repaired.xml "${SC_EXPECT_PASSED[@]}"
  expect_rc schedule-install 0
  expect_rc scheduled-remediation 0
  expect_rc schedule-change 0
  expect_rc schedule-remove 0
  SUMMARY_DETAIL="provision $(out_time provision-base)+$(out_time import-images)+$(out_time provision1) s, stack healthy $(out_time verify1) s, reboot, verify $(out_time verify) s ($(count_passed verify.xml) checks passed), drift caught $(out_time verify-drift) s, repaired $(out_time provision-repair) s, timer found and repaired it $(out_time scheduled-remediation) s after the tampering"
}

# The cron schedule: installed (twice: unchanged), run by cron with its checks in syslog, removed.
assert_cron() {
  expect_rc cron-start 0
  expect_rc schedule-install 0
  expect_rc cron-run 0
  expect_rc schedule-remove 0
  SUMMARY_DETAIL="cron ran verify, its failing checks in syslog $(out_time cron-run) s after the install, removed"
}

# The page the admin opens, through caddy on the public https port (boot.sh page_through_caddy):
# / is ztnet's 308 to /auth/login, and the ztnet stand-in reached the database and the controller.
assert_page() {
  local dir=${JOBDIR}/out status
  expect_rc page 0
  if ! grep -qiE '^HTTP/[0-9.]+ 308' "${dir}/page-root.headers" 2>/dev/null ||
    ! grep -qiE '^location: /auth/login' "${dir}/page-root.headers"; then
    fail "page: https://localhost/ through caddy is not ztnet's 308 to /auth/login: $(head -n 1 "${dir}/page-root.headers" 2>/dev/null | tr -d '\r')"
  fi
  status=$(jq -c . "${dir}/page-status.json" 2>&1) || status="not JSON: $(head -c 200 "${dir}/page-status.json" 2>/dev/null)"
  if ! jq -e '.database == "ok" and .controller == "ok"' "${dir}/page-status.json" >/dev/null 2>&1; then
    fail "page: the ztnet stand-in's status through caddy is not database ok and controller ok: ${status}"
  fi
}

# The contract-breaking profile: provision and verify fail exactly runtime.containers and
# runtime.http, runtime.http's answer is caddy's 502, and the page through caddy is not ztnet's.
assert_stack_broken() {
  expect_report provision-base provision-base.json
  expect_rc import-images 0
  expect_report provision1 provision1.json runtime.containers runtime.http
  expect_report verify verify.xml runtime.containers runtime.http
  local http
  http=$(jq -r '.checks[] | select(.id == "runtime.http") | "\(.actual) | fix: \(.fix)"' "${JOBDIR}/out/provision1.json" 2>&1)
  log "  runtime.http (provision1): ${http}"
  [[ ${http} == *502* ]] || fail "runtime.http does not report caddy's 502: ${http}"
  if grep -qiE '^location: /auth/login' "${JOBDIR}/out/page-root.headers" 2>/dev/null; then
    fail "page: ztnet answered through caddy although the profile lacks HOSTNAME=0.0.0.0"
  fi
  SUMMARY_DETAIL="contract broken (${SC_BROKEN}): provision and verify fail runtime.containers + runtime.http as they must; runtime.http: ${http:0:160}"
}

assert_images() {
  expect_report provision-base provision-base.json
  expect_rc import-images 0
  expect_rc manual-pod 0
  SUMMARY_DETAIL="base steps $(out_time provision-base) s, import $(out_time import-images) s, pod healthy + HTTP $(out_time manual-pod) s"
}

assert_selftest() {
  expect_rc apt-install 0
  expect_rc after-reboot 0
  SUMMARY_DETAIL="offline apt install $(out_time apt-install) s, reboot, podman $(out_time after-reboot) s"
}

print_outputs() {
  local f
  section "${1}: job logs"
  for f in "${JOBDIR}"/logs/boot*.log; do
    [[ -e ${f} ]] || continue
    printf -- '--- %s\n' "${f}"
    cat "${f}"
  done
  for f in "${JOBDIR}"/out/*.json; do
    [[ -e ${f} ]] || continue
    printf -- '--- %s: %s\n' "${f##*/}" "$(jq -c '.summary // "no summary"' "${f}" 2>&1)"
  done
  for f in "${JOBDIR}"/out/*.xml; do
    [[ -e ${f} ]] || continue
    section "${1}: ${f##*/}"
    cat "${f}"
    echo
  done
}

# broken_profile PROFILE WHAT: the checkout's profiles/PROFILE.toml plus a [[stack.containers]] list
# (arrays replace the included one) that is _base.toml's with one contract point broken:
#   ztnet-hostname   ztnet's command without `env HOSTNAME=0.0.0.0` (upstream's plain CMD)
broken_profile() {
  local base=${E2E_DIR}/../../profiles
  case $2 in
    ztnet-hostname) ;;
    *) die "broken_profile: unknown '$2'" ;;
  esac
  cat "${base}/$1.toml" || return 1
  printf '\n# ---- generated by tests/e2e/run.sh broken_profile: %s\n' "$2"
  sed -n '/^\[\[stack\.containers\]\]/,$p' "${base}/_base.toml" |
    grep -vxF 'exec = ["env", "HOSTNAME=0.0.0.0", "node", "server.js"]'
}
