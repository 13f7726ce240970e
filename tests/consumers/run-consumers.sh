#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Every report format read by the program that consumes it (ctest label "consumer"), for a passing,
# a failing and an erroring host, and for runs that stop before they run:
#   json       jq, and python3-jsonschema against docs/schema/ztagent.report-1.schema.json
#   junit      xmllint --schema tests/data/junit-10.xsd (Jenkins xunit's), python3-junitparser
#   tap        prove (Test::Harness; Debian 12 ships 3.44), with TAP::Parser's parse errors
#   prometheus promtool check metrics (Debian package prometheus)
#   nagios     tests/consumers/check-nagios.py (the Nagios plugin guidelines), exit code 0-3
# The hosts are --root trees (Debian 12 layout, as tests/integration/support.hpp builds them):
#   passing   provisioned, then verified (exit 0)
#   failing   the same tree with a data directory's mode changed (a check fails, exit 1)
#   erroring  checks that cannot run: the tree's /etc/passwd is unreadable garbage for the checks
#             (a directory), plus the stopped runs: config error 78, usage error 64, drift without
#             a recorded provision 66, lock busy 75
# A consumer that is not installed is reported as skipped (CI installs them: .ci/run). Needs root
# for the provision into the tree (useradd --prefix); without root only the stopped runs are checked.
# Usage: run-consumers.sh ZTAGENT_BINARY SOURCE_DIR
set -uo pipefail
bin=$1
src=$2
schema=$src/docs/schema/ztagent.report-1.schema.json
xsd=$src/tests/data/junit-10.xsd
work=$(mktemp -d /tmp/ztagent-consumers.XXXXXX)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0 skipped=0
ok() { echo "consumers: ok: $*"; passed=$((passed + 1)); }
bad() { echo "consumers: FAIL: $*"; failed=$((failed + 1)); }
skip() { echo "consumers: skipped: $*"; skipped=$((skipped + 1)); }
have() { command -v "$1" >/dev/null 2>&1; }
py=/usr/bin/python3

has_jsonschema=0; $py -c 'import jsonschema' 2>/dev/null && has_jsonschema=1
has_junitparser=0; $py -c 'import junitparser' 2>/dev/null && has_junitparser=1
have jq || skip "jq not installed (apt-get install jq)"
[[ $has_jsonschema == 1 ]] || skip "python3-jsonschema not installed"
have xmllint || skip "xmllint not installed (apt-get install libxml2-utils)"
[[ $has_junitparser == 1 ]] || skip "python3-junitparser not installed"
have prove || skip "prove not installed (perl)"
have promtool || skip "promtool not installed (apt-get install prometheus)"

make_tree() {  # DIR: a Debian 12 tree every step can converge in offline
  local t=$1 p
  mkdir -p "$t"/etc/sysctl.d "$t"/var/lib/dpkg "$t"/usr/lib/systemd/user "$t"/usr/bin "$t"/opt "$t"/home
  printf 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n' >"$t/etc/os-release"
  echo 'root:*:19000:0:99999:7:::' >"$t/etc/shadow"
  echo 'root:*::' >"$t/etc/gshadow"
  : >"$t/etc/subuid"; : >"$t/etc/subgid"
  echo "consumer-test-host" >"$t/etc/hostname"
  for p in podman passt slirp4netns uidmap acl dbus-user-session catatonit nftables; do
    printf 'Package: %s\nStatus: install ok installed\nArchitecture: amd64\nVersion: %s\n\n' "$p" \
      "$([[ $p == podman ]] && echo 4.3.1+ds1-8+deb12u1+b3 || echo 1.0-1)" >>"$t/var/lib/dpkg/status"
  done
  printf '[Timer]\nOnCalendar=daily\n' >"$t/usr/lib/systemd/user/podman-auto-update.timer"
  : >"$t/usr/bin/newuidmap"; : >"$t/usr/bin/newgidmap"
  chmod 4755 "$t/usr/bin/newuidmap" "$t/usr/bin/newgidmap"
}

# check_run NAME EXPECTED_EXIT DIR: every consumer on the reports of one run in DIR
# (DIR/report.{json,xml,tap,prom,txt}, DIR/nagios.out + DIR/nagios.rc; expected "pass" or "fail").
check_run() {
  local name=$1 expect=$2 d=$3
  # JSON
  if have jq; then
    if jq -e '.schema == "ztagent.report/1" and (.run.end | IN("completed", "interrupted", "stopped"))' \
        "$d/report.json" >/dev/null; then ok "$name: jq reads the JSON report (run.end $(jq -r .run.end "$d/report.json"))"
    else bad "$name: jq: $(head -c 300 "$d/report.json")"; fi
  fi
  if [[ $has_jsonschema == 1 ]]; then
    if out=$($py - "$schema" "$d/report.json" 2>&1 <<'PY'
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
jsonschema.Draft202012Validator(schema).validate(json.load(open(sys.argv[2])))
PY
    ); then ok "$name: JSON valid against ztagent.report/1"; else bad "$name: JSON schema: $out"; fi
  fi
  # JUnit
  if have xmllint; then
    if out=$(xmllint --noout --schema "$xsd" "$d/report.xml" 2>&1); then ok "$name: xmllint: JUnit valid against junit-10.xsd"
    else bad "$name: xmllint: $out"; fi
  fi
  if [[ $has_junitparser == 1 ]]; then
    if out=$($py - "$d/report.xml" "$expect" 2>&1 <<'PY'
import sys
from junitparser import JUnitXml, Failure, Error
xml = JUnitXml.fromfile(sys.argv[1])
suites = list(xml)
assert suites, "no testsuite"
bad = 0
for s in suites:
    assert s.hostname, f"testsuite {s.name} has no hostname"
    assert s.timestamp, f"testsuite {s.name} has no timestamp"
    for case in s:
        bad += sum(1 for r in case.result if isinstance(r, (Failure, Error)))
total = sum(float(s.time or 0) for s in suites)
wall = float(xml.time or 0)
assert abs(total - wall) < 1e-5, f"suite times add up to {total}, the run took {wall}"
if sys.argv[2] == "pass":
    assert bad == 0, f"{bad} failures/errors in a passing run"
else:
    assert bad > 0, "no failure or error in a failing run"
print(f"{len(suites)} suites, {bad} failures/errors, suite times {total:.6f} s = wall {wall:.6f} s")
PY
    ); then ok "$name: junitparser: $out"; else bad "$name: junitparser: $out"; fi
  fi
  # TAP
  if have prove; then
    out=$(prove --exec cat "$d/report.tap" 2>&1)
    if grep -q 'Parse errors' <<<"$out"; then bad "$name: prove: parse errors: $out"
    elif [[ $expect == pass ]] && grep -qx 'Result: PASS' <<<"$out"; then ok "$name: prove: Result: PASS"
    elif [[ $expect == fail ]] && grep -qx 'Result: FAIL' <<<"$out"; then ok "$name: prove: Result: FAIL, no parse errors"
    else bad "$name: prove (expected $expect): $out"; fi
  fi
  # Prometheus
  if have promtool; then
    if out=$(promtool check metrics <"$d/report.prom" 2>&1); then ok "$name: promtool check metrics"
    else bad "$name: promtool check metrics: $out"; fi
  fi
  local up
  up=$(awk '$1 == "ztagent_up" { print $2 }' "$d/report.prom")
  if [[ -z $up ]]; then bad "$name: no ztagent_up in the Prometheus file"
  elif [[ $(jq -r .run.end "$d/report.json" 2>/dev/null) == completed && $up != 1 ]]; then bad "$name: ztagent_up $up for a completed run"
  elif [[ $(jq -r .run.end "$d/report.json" 2>/dev/null) != completed && $up != 0 ]]; then bad "$name: ztagent_up $up for a run that did not complete"
  else ok "$name: ztagent_up $up"; fi
  # Nagios
  if out=$($py "$src/tests/consumers/check-nagios.py" "$(cat "$d/nagios.rc")" <"$d/nagios.out" 2>&1); then ok "$name: $out"
  else bad "$name: $out"; fi
}

# run_all NAME EXPECT EXIT ARGS...: one run writing every format, one -f nagios run, then check_run.
run_all() {
  local name=$1 expect=$2 want=$3
  shift 3
  local d=$work/$name rc
  mkdir -p "$d"
  "$bin" "$@" --format json -o "$d/report.json" --report junit:"$d/report.xml" --report tap:"$d/report.tap" \
    --report prometheus:"$d/report.prom" --report text:"$d/report.txt" >"$d/stdout" 2>"$d/stderr"
  rc=$?
  if [[ $rc == "$want" ]]; then ok "$name: exit $rc"; else bad "$name: exit $rc, expected $want: $(tail -3 "$d/stderr")"; fi
  for f in report.json report.xml report.tap report.prom report.txt; do
    [[ -s $d/$f ]] || { bad "$name: $f not written"; return; }
  done
  "$bin" "$@" --format nagios >"$d/nagios.out" 2>/dev/null
  echo $? >"$d/nagios.rc"
  check_run "$name" "$expect" "$d"
}

# --- runs that stop before they run (no root needed) --------------------------------------------
empty=$work/empty-tree
make_tree "$empty"
echo 'service.user = [' >"$work/bad.toml"
run_all config-error fail 78 verify --profile debian-12 --root "$empty" --config "$work/bad.toml"
run_all usage-error fail 64 verify --profile debian-12 --root "$empty" --jobs zero
run_all drift-no-state fail 66 drift --profile debian-12 --root "$empty"

# -o - is stdout, not a file named "-".
(cd "$work" && "$bin" drift --profile debian-12 --root "$empty" --format json -o - >"$work/dash.out" 2>/dev/null)
if [[ ! -e $work/- ]] && have jq && jq -e '.run.reason == "no_state"' "$work/dash.out" >/dev/null; then ok "-o - writes to stdout"
else bad "-o -: $(head -c 200 "$work/dash.out"); file '-' exists: $([[ -e $work/- ]] && echo yes || echo no)"; fi
# A command line that does not parse still gives a Nagios plugin line (and exit 3).
out=$("$bin" verify --format nagios --frobnicate 2>/dev/null); rc=$?
if res=$($py "$src/tests/consumers/check-nagios.py" "$rc" 3 <<<"$out" 2>&1); then ok "unknown option: $res"; else bad "unknown option: $res"; fi

# --- hosts ----------------------------------------------------------------------------------------
if [[ $(id -u) != 0 ]]; then
  skip "passing/failing/erroring hosts: need root (useradd --prefix into the tree)"
else
  tree=$work/host
  make_tree "$tree"
  user=ztc$(( $$ % 100000 ))
  common=(--profile debian-12 --root "$tree" --set service.user="$user")
  if "$bin" provision "${common[@]}" --retry-timeout 0 >"$work/provision.out" 2>"$work/provision.err"; then
    ok "provisioned the passing tree"
    run_all passing pass 0 verify "${common[@]}"
    chmod 0755 "$tree/opt/ztnet-data/zerotier"
    run_all failing fail 1 verify "${common[@]}"
    # The same failing host with a site-config waiver for the failing check: every consumer sees a
    # passing run that reports the check as waived.
    printf '[[waivers]]\ncheck = "data.*.mode"\nreason = "consumer test: accepted drift"\nexpires = 2999-12-31\n' >"$work/waiver.toml"
    run_all waived pass 0 verify "${common[@]}" --config "$work/waiver.toml"
    if have jq && jq -e '[.checks[] | select(.id == "data.zerotier.mode")][0] | .outcome == "fail" and .waived.reason == "consumer test: accepted drift"' \
        "$work/waived/report.json" >/dev/null && jq -e '.waivers[0].check == "data.*.mode" and .waivers[0].matched >= 1' "$work/waived/report.json" >/dev/null; then
      ok "waived: JSON keeps the measured outcome, adds the waiver, lists the active waivers"
    else bad "waived: JSON: $(jq -c '.waivers' "$work/waived/report.json" 2>&1)"; fi
    grep -q '^ok [0-9]* - data.zerotier.mode # SKIP waived: consumer test: accepted drift (until 2999-12-31); measured fail$' \
      "$work/waived/report.tap" && ok "waived: TAP # SKIP waived" || bad "waived: TAP: $(grep zerotier.mode "$work/waived/report.tap")"
    grep -q 'name="data.zerotier.mode"' "$work/waived/report.xml" && grep -q '<skipped message="waived: consumer test' "$work/waived/report.xml" &&
      ok "waived: JUnit <skipped message=\"waived: ...\">" || bad "waived: JUnit"
    grep -q '^ztagent_check_outcome{check="data.zerotier.mode",step="data",outcome="waived"} 1$' "$work/waived/report.prom" &&
      ok "waived: Prometheus outcome=\"waived\" 1" || bad "waived: Prometheus: $(grep zerotier.mode "$work/waived/report.prom")"
    grep -q '^active waivers:$' "$work/waived/report.txt" && ok "waived: text lists the active waivers" || bad "waived: text"
    # Expired: the run fails on a check that names the waiver.
    printf '[[waivers]]\ncheck = "data.*.mode"\nreason = "old"\nexpires = 2001-01-01\n' >"$work/expired.toml"
    run_all expired fail 1 verify "${common[@]}" --config "$work/expired.toml"
    if have jq && jq -e '[.checks[] | select(.id == "waiver:data.*.mode")][0].actual | startswith("expired on 2001-01-01 (" )' \
        "$work/expired/report.json" >/dev/null; then ok "expired: a failing check waiver:data.*.mode names it"
    else bad "expired: $(jq -c '[.checks[] | select(.step == "waivers")]' "$work/expired/report.json" 2>&1)"; fi
    # A waiver that names no check is a config error at its position.
    printf '[service]\nuser = "%s"\n\n[[waivers]]\ncheck = "data.zerotier.mdoe"\nreason = "typo"\n' "$user" >"$work/typo.toml"
    err=$("$bin" verify --profile debian-12 --root "$tree" --config "$work/typo.toml" 2>&1 >/dev/null); rc=$?
    if [[ $rc == 78 ]] && grep -qF "$work/typo.toml:5:9: waiver 'data.zerotier.mdoe' names no check of this profile (did you mean 'data.zerotier.mode'?)" <<<"$err"; then
      ok "a waiver naming no check: exit 78 at file:line:col"
    else bad "a waiver naming no check: exit $rc: $err"; fi
    chmod 0750 "$tree/opt/ztnet-data/zerotier"
    # Checks that cannot run: the service user's passwd entry cannot be read.
    mv "$tree/etc/passwd" "$tree/etc/passwd.real" && mkdir "$tree/etc/passwd"
    run_all erroring fail 1 verify "${common[@]}"
    rmdir "$tree/etc/passwd" && mv "$tree/etc/passwd.real" "$tree/etc/passwd"
    # Lock busy: hold the tree's run lock (ROOT/run/ztagent.lock) as another run would (flock, as
    # host::RunLock takes it). It is this tree's own lock, so no other ztagent on the machine waits.
    if ! have flock; then
      skip "lock-busy: flock not installed"
    else
      mkdir -p "$tree/run"
      exec {lockfd}>>"$tree/run/ztagent.lock"
      if flock -n "$lockfd"; then
        run_all lock-busy fail 75 verify "${common[@]}"
        if jq -e '.run.end == "stopped" and .run.reason == "lock_busy"' "$work/lock-busy/report.json" >/dev/null 2>&1; then
          ok "lock-busy: the JSON report says the run did not happen and why"
        else bad "lock-busy: JSON report: $(head -c 300 "$work/lock-busy/report.json")"; fi
        text=$("$bin" verify "${common[@]}" 2>/dev/null)
        if grep -q 'verify did not run: .*lock' <<<"$text"; then ok "lock-busy: text on stdout says it did not run"
        else bad "lock-busy: text stdout: $text"; fi
        flock -u "$lockfd"
      else
        bad "lock-busy: could not take $tree/run/ztagent.lock, which nothing else uses"
      fi
      exec {lockfd}>&-
    fi
  else
    bad "provision of the passing tree failed: $(tail -5 "$work/provision.err")"
  fi
fi

# --- the golden representative reports (a failing step, a failing, an erroring, a skipped check) --
if have prove; then
  out=$(prove --exec cat "$src/tests/data/report/representative.tap" 2>&1)
  if grep -q 'Parse errors' <<<"$out"; then bad "representative.tap: $out"; else ok "representative.tap: prove parses it"; fi
fi
if have xmllint; then
  if out=$(xmllint --noout --schema "$xsd" "$src/tests/data/report/representative.xml" 2>&1); then
    ok "representative.xml valid against junit-10.xsd"
  else bad "representative.xml: $out"; fi
fi
if have promtool; then
  if out=$(promtool check metrics <"$src/tests/data/report/representative.prom" 2>&1); then ok "representative.prom: promtool"
  else bad "representative.prom: $out"; fi
fi

echo "consumers: $passed passed, $failed failed, $skipped skipped"
[[ $failed == 0 ]]
