#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Part of tests/e2e/run.sh (sourced by it, not run on its own):
# the assertions the host makes on what a job left
# in JOBDIR/out (exit codes, JSON and JUnit reports, waivers).
# shellcheck shell=bash disable=SC2317

# ---- assertions (host side, on what the job left in /job/out) -------------------------------------
declare -a FAILURES=()
fail() { FAILURES+=("$*"); log "  FAIL: $*"; }

out_rc() { cat "${JOBDIR}/out/$1.rc" 2>/dev/null || echo missing; }
out_time() { cat "${JOBDIR}/out/$1.time" 2>/dev/null || echo '?'; }

expect_rc() {  # STEP EXPECTED
  local rc
  rc=$(out_rc "$1")
  if [[ ${rc} != "$2" ]]; then
    fail "$1 exited ${rc}$(signal_note "${rc}"), expected $2"
  fi
}

# " (killed by SIGSEGV)" for an exit code above 128 (bash reports a signal as 128 + its number).
signal_note() {
  if [[ $1 =~ ^[0-9]+$ ]] && (($1 > 128 && $1 < 128 + 65)); then
    printf ' (killed by SIG%s)' "$(kill -l "$(($1 - 128))" 2>/dev/null || echo "$(($1 - 128))")"
  fi
}

json_changed() { jq -er '.summary.steps.changed' "$1" 2>/dev/null || echo invalid; }

expect_changed() {  # FILE OP N   (OP: eq | ge)
  local file=${JOBDIR}/out/$1 changed
  changed=$(json_changed "${file}")
  if [[ ! ${changed} =~ ^[0-9]+$ ]]; then
    fail "$1: no summary.steps.changed in the JSON report"
  elif [[ $2 == eq ]] && ((changed != $3)); then
    fail "$1: summary.steps.changed is ${changed}, expected $3"
  elif [[ $2 == ge ]] && ((changed < $3)); then
    fail "$1: summary.steps.changed is ${changed}, expected at least $3"
  fi
}

# The processes a no-op provision started (issue 16: "only the processes it needs"), from its
# --log-level debug log (job/boot.sh provision ... LOG): ztagent logs "run: ARGV" for every process
# it starts, at info for a mutating command and at debug otherwise. Fails when a mutating command
# ran or when one command line ran twice (a repeated read is a process the run did not need); logs
# the list; NOOP_PROCESSES is their count for the summary line.
NOOP_PROCESSES='?'
expect_noop_processes() {  # LOG
  local file=${JOBDIR}/out/$1 mutating repeated
  if [[ ! -s ${file} ]] || ! grep -q 'ztagent: debug: ' "${file}"; then
    fail "$1: no debug log of the no-op provision"
    return
  fi
  NOOP_PROCESSES=$(grep -c '^ztagent: [a-z]*: run: ' "${file}" || true)
  log "  processes started by the no-op provision (${NOOP_PROCESSES}):"
  sed -n 's/^ztagent: [a-z]*: run: /    /p' "${file}" | while IFS= read -r line; do log "${line}"; done
  mutating=$(sed -n 's/^ztagent: info: run: //p' "${file}")
  if [[ -n ${mutating} ]]; then
    fail "$1: the no-op provision ran mutating command(s): $(paste -sd';' <<<"${mutating}")"
  fi
  repeated=$(sed -n 's/^ztagent: [a-z]*: run: //p' "${file}" | sort | uniq -d)
  if [[ -n ${repeated} ]]; then
    fail "$1: the no-op provision ran the same command more than once: $(paste -sd';' <<<"${repeated}")"
  fi
}

# Prints the id of every check that failed or could not run, sorted: from a JUnit file (<failure> or
# <error> in a testcase) or a ztagent JSON report (checks[].outcome fail or error).
failing_ids() {
  python3 - "$1" <<'EOF'
import json, sys
import xml.etree.ElementTree as ET
path = sys.argv[1]
try:
    if path.endswith(".json"):
        with open(path, encoding="utf-8") as f:
            checks = json.load(f)["checks"]
        bad = {c["id"] for c in checks if c.get("outcome") in ("fail", "error") and "waived" not in c}
    else:
        cases = ET.parse(path).getroot().iter("testcase")
        bad = {c.get("name", "?") for c in cases
               if c.find("failure") is not None or c.find("error") is not None}
except (OSError, ValueError, KeyError, TypeError, ET.ParseError) as e:
    print(f"{path}: {e}", file=sys.stderr)
    sys.exit(2)
print("\n".join(sorted(bad)))
EOF
}

# waived_ids REPORT: the ids of the checks a site-config waiver covered (JSON checks[].waived, JUnit
# <skipped message="waived: ...">), sorted.
waived_ids() {
  python3 - "$1" <<'EOF'
import json, sys
import xml.etree.ElementTree as ET
path = sys.argv[1]
try:
    if path.endswith(".json"):
        with open(path, encoding="utf-8") as f:
            ids = {c["id"] for c in json.load(f)["checks"] if "waived" in c}
    else:
        ids = {c.get("name", "?") for c in ET.parse(path).getroot().iter("testcase")
               if any((s.get("message") or "").startswith("waived:") for s in c.findall("skipped"))}
except (OSError, ValueError, KeyError, TypeError, ET.ParseError) as e:
    print(f"{path}: {e}", file=sys.stderr)
    sys.exit(2)
print("\n".join(sorted(ids)))
EOF
}

# passed_ids REPORT.xml: the ids of the JUnit testcases with no <failure>, <error> or <skipped>.
passed_ids() {
  python3 - "$1" <<'EOF'
import sys
import xml.etree.ElementTree as ET
try:
    cases = ET.parse(sys.argv[1]).getroot().iter("testcase")
except (OSError, ET.ParseError) as e:
    print(f"{sys.argv[1]}: {e}", file=sys.stderr)
    sys.exit(2)
print("\n".join(sorted(c.get("name", "?") for c in cases
                        if all(c.find(t) is None for t in ("failure", "error", "skipped")))))
EOF
}
count_passed() { passed_ids "${JOBDIR}/out/$1" 2>/dev/null | grep -c . || true; }

# expect_passed REPORT.xml ID...: every ID ran and passed (a skipped check does not count).
expect_passed() {
  local file=${JOBDIR}/out/$1 passed id missing=()
  shift
  (($# > 0)) || return 0
  if ! passed=$(passed_ids "${file}" 2>&1); then
    fail "${file##*/}: no readable JUnit report (${passed})"
    return 0
  fi
  for id in "$@"; do
    grep -qxF -- "${id}" <<<"${passed}" || missing+=("${id}")
  done
  if ((${#missing[@]} > 0)); then
    fail "${file##*/}: these checks did not run and pass: ${missing[*]}"
  fi
}

# Checks that cannot pass on this host whatever ztagent does (see host_waivers); empty when strict.
# They become real [[waivers]] in the guest's /etc/ztagent/ztagent.toml (install_waivers): ztagent
# then reports them as waived and does not fail on them.
WAIVED_CHECKS=()
WAIVED_SEEN=()
WAIVER_REASON=""

# expect_report STEP REPORT [ID...]: STEP's report names exactly these failing checks (none when no
# ids) and STEP's exit code agrees: 0 when nothing fails, 1 when checks fail. Checks that ztagent
# reports as waived (the site-config waivers of install_waivers) are noted, never failures.
expect_report() {
  local step=$1 file=${JOBDIR}/out/$2 rc got want waived
  shift 2
  rc=$(out_rc "${step}")
  if ! got=$(failing_ids "${file}" 2>&1); then
    fail "${step}: exit ${rc}$(signal_note "${rc}") and no readable report ${file##*/} (${got})"
    return 0
  fi
  waived=$(waived_ids "${file}" 2>/dev/null)
  want=$(printf '%s\n' "$@" | sort -u | sed '/^$/d')
  if [[ -n ${waived} ]]; then
    log "  note: ${step}: ztagent reports waived check(s) ${waived//$'\n'/ } (host limitation, see above)"
    WAIVED_SEEN+=(${waived})
  fi
  if [[ ${got} != "${want}" ]]; then
    fail "${step}: failing checks are [${got//$'\n'/ }], expected [${want//$'\n'/ }] (${file##*/})"
  fi
  if [[ -n ${want} ]]; then
    [[ ${rc} == 1 ]] || fail "${step} exited ${rc}$(signal_note "${rc}"), expected 1 (a check failed)"
  elif [[ ${rc} != 0 ]]; then
    fail "${step} exited ${rc}$(signal_note "${rc}"), expected 0"
  fi
}

# install_waivers ROOTFS: one site-config waiver per WAIVED_CHECKS id, appended to the guest's
# /etc/ztagent/ztagent.toml (created when the scenario has no SC_CONFIG).
install_waivers() {
  local conf=$1/etc/ztagent/ztagent.toml id
  ((${#WAIVED_CHECKS[@]} > 0)) || return 0
  mkdir -p "${conf%/*}"
  for id in "${WAIVED_CHECKS[@]}"; do
    printf '\n# e2e harness (tests/e2e/run.sh host_waivers): a limitation of the machine running the lab.\n[[waivers]]\ncheck = "%s"\nreason = "e2e lab host: %s"\n' \
      "${id}" "${WAIVER_REASON}" >>"${conf}"
  done
}

# What this host cannot give a container, whatever ztagent does. Hybrid cgroup v1/v2 hosts bind
# cpu, memory and pids to v1 hierarchies, so the container's cgroup2 tree (a subtree of the host's
# unified one) has none of them to delegate to user@.service.
host_waivers() {
  local controllers=/sys/fs/cgroup/unified/cgroup.controllers c missing=()
  [[ -e ${controllers} ]] || controllers=/sys/fs/cgroup/cgroup.controllers
  WAIVED_CHECKS=()
  for c in cpu memory pids; do
    grep -qw "${c}" "${controllers}" 2>/dev/null || missing+=("${c}")
  done
  if ((${#missing[@]} > 0)); then
    if [[ ${STRICT} == yes ]]; then
      log "note: ${controllers} lacks ${missing[*]}; ZTAGENT_E2E_STRICT=1, so preflight.cgroup-delegation must pass anyway"
    else
      WAIVED_CHECKS+=(preflight.cgroup-delegation)
      WAIVER_REASON="the container's cgroup2 tree has no ${missing[*]} controller to delegate (hybrid cgroup v1/v2)"
      log "note: this host's cgroup v2 tree (${controllers}: $(xargs <"${controllers}")) lacks ${missing[*]}:" \
        "a container cannot delegate them, so a failing preflight.cgroup-delegation is waived (ZTAGENT_E2E_STRICT=1 to refuse)"
    fi
  fi
}
