#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Runs inside the booted test system at every boot (ztagent-e2e-job.service), from the bind-mounted
# /job directory that tests/e2e/run.sh prepared:
#   /job/scenario.env   SCENARIO, PROFILE, PLAN, SET_ARGS, VERIFY_RETRY_SECONDS, REPO_PACKAGES,
#                       WAIVED_CHECKS (checks this host cannot pass, see run.sh host_waivers)
#   /srv/ztagent-e2e-images  (read-only, container scenarios) the image tarballs and import.sh
#                       from tests/e2e/images/build.sh
#   /job/pkg/*.deb      the package under test (run.sh --deb): installed at boot 1 with
#                       `apt-get install ./ztagent_*.deb` (step install-deb), then /usr/bin/ztagent runs
#   /job/bin/ztagent    or the binary under test (run.sh --binary, a developer's build tree; plus
#                       /job/lib for libraries the image lacks)
#   /job/out/           reports and, per step, <step>.rc (exit code) and <step>.time (seconds)
#   /job/logs/          boot<N>.log (this script) and journal-boot<N>.log
#   /job/state/boots    the boot counter
# Each boot runs plan_<PLAN>_boot<N>, which ends by calling next_boot or power_off. The host
# (run.sh) judges the results; this script only records them.

# The plan functions are called by name (plan_${PLAN}_boot${BOOT}).
# shellcheck disable=SC2317
set -uo pipefail

readonly JOB=/job
DEBS=("${JOB}"/pkg/*.deb)
if [[ -f ${DEBS[0]} ]]; then
  readonly ZTAGENT=/usr/bin/ztagent
else
  DEBS=()
  readonly ZTAGENT=${JOB}/bin/ztagent
fi
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

# The steps that must run before images can be imported into the service user's storage: the
# user, its sub-ids and its user manager (linger) exist afterwards. The rest of the profile
# (ports, secrets, units, start, runtime) needs the images.
readonly BASE_STEPS=preflight,packages,user,subids,data,linger
provision_base() {  # OUTPUT.json
  ztagent provision --profile "${PROFILE}" "${SET_OPTS[@]}" --only "${BASE_STEPS}" --format json \
    --output "${JOB}/out/$1"
}

# The service user: the site config's default, or a --set service.user=... of the scenario.
service_user() {
  local kv user=ztnet
  for kv in "${SET_ARGS[@]}"; do
    [[ ${kv} == service.user=* ]] && user=${kv#service.user=}
  done
  printf '%s' "${user}"
}

# as_service_user CMD...: like ztagent's own host::as_user (runuser, the user's session
# environment, cwd /).
as_service_user() {
  local user uid
  user=$(service_user)
  uid=$(id -u "${user}") || return 1
  (cd / && runuser -u "${user}" -- env XDG_RUNTIME_DIR="/run/user/${uid}" \
    DBUS_SESSION_BUS_ADDRESS="unix:path=/run/user/${uid}/bus" "$@")
}

readonly IMAGES=/srv/ztagent-e2e-images
# The four images as localhost/<name>:e2e in the service user's storage (the site config of the
# container scenarios points the stack at them).
import_images() {
  as_service_user "${IMAGES}/import.sh" "${IMAGES}" e2e &&
    as_service_user podman images --format '{{.Repository}}:{{.Tag}} {{.Size}}'
}

# What the stack looks like right now (into the boot log; the assertions do not read it).
diagnose() {
  local user uid
  user=$(service_user)
  uid=$(id -u "${user}" 2>/dev/null) || { say "diagnose: no user ${user}"; return 0; }
  say "diagnose: containers of ${user}"
  as_service_user podman ps --all --format '{{.Names}} {{.Image}} {{.Status}}' 2>&1 || true
  say "diagnose: user units"
  as_service_user systemctl --user --no-pager --all list-units 'ztnet*' 'podman*' 2>&1 || true
  as_service_user systemctl --user --no-pager --failed 2>&1 || true
  say "diagnose: listening sockets"
  ss -tulnp 2>&1 || true
  if command -v nft >/dev/null; then
    nft list table inet ztagent 2>&1 || true
  fi
  say "diagnose: journal of the user manager (tail)"
  journalctl -b --no-pager -o short-monotonic "_UID=${uid}" 2>&1 | tail -n 80 || true
}

finish_boot() {
  say "journal of this boot -> logs/journal-boot${BOOT}.log"
  journalctl -b --no-pager -o short-monotonic >"${JOB}/logs/journal-boot${BOOT}.log" 2>&1 || true
  sync
}
next_boot() { say "rebooting"; finish_boot; systemctl --no-block reboot; exit 0; }
power_off() { say "powering off"; finish_boot; systemctl --no-block poweroff; exit 0; }

# What a user does: apt installs the package and whatever of its Depends the image lacks (offline:
# it has to be there already). No Recommends: podman & co. are the packages step's job.
install_deb() {
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${DEBS[@]}" &&
    dpkg-query -W -f='${Package} ${Version} ${Status}\n' ztagent && dpkg -L ztagent | grep -x /usr/bin/ztagent &&
    "${ZTAGENT}" --version
}
if ((${#DEBS[@]} > 0 && BOOT == 1)); then
  step install-deb install_deb || { say "installing ${DEBS[*]} failed"; power_off; }
fi

SET_OPTS=()
for kv in "${SET_ARGS[@]}"; do
  SET_OPTS+=(--set "${kv}")
done
RETRY_SUPPORTED=no
if [[ -x ${ZTAGENT} ]] && "${ZTAGENT}" --help 2>&1 | grep -q -- '--retry-timeout'; then
  RETRY_SUPPORTED=yes
fi

os=$(sed -n 's/^PRETTY_NAME="\(.*\)"$/\1/p' /etc/os-release)
say "plan ${PLAN:?}, profile ${PROFILE}, verify --retry-timeout supported: ${RETRY_SUPPORTED}"
if [[ -d /run/systemd/system ]]; then
  say "${os}, systemd $(systemctl --version | awk 'NR==1{print $2}'), up $(cut -d' ' -f1 /proc/uptime) s"
  say "state of the boot: $(systemctl is-system-running 2>&1)"
  systemctl --no-pager --failed --no-legend || true
else
  say "${os}, no init: PID 1 is $(cat /proc/1/comm)"
fi

# ---- plans -------------------------------------------------------------------------------------
# The container stack: the base steps, the local images, the whole profile -> reboot -> verify
# (all checks, runtime ones included) -> provision again (must change nothing).
plan_stack_boot1() {
  step provision-base provision_base provision-base.json || true
  step import-images import_images || true
  step provision1 provision provision1.json || true
  # provision runs the runtime checks right after starting the stack, before the health checks
  # had a chance (interval 30s): verify with retries shows that the first start comes up healthy.
  step verify1 verify verify1.xml retry || true
  diagnose
  next_boot
}
plan_stack_boot2() {
  step verify verify verify.xml retry || true
  step provision2 provision provision2.json || true
  diagnose
  power_off
}

# The same up to verify; then tamper with a postcondition (a data dir's mode) -> verify must fail
# exactly that check -> provision repairs it -> verify passes again.
# Every boot 1 reboots even when a step failed: the run then also shows what verify and a second
# provision make of it (the host fails the scenario on the first failure either way).
plan_stack_drift_boot1() { plan_stack_boot1; }
plan_stack_drift_boot2() {
  step verify verify verify.xml retry || true
  step tamper chmod 0777 /opt/ztnet-data/zerotier || true
  step verify-drift verify verify-drift.xml || true
  step provision-repair provision provision-repair.json || true
  step verify-repaired verify verify-repaired.xml retry || true
  # Day 2: the timer `ztagent schedule install` writes runs verify --remediate on its own, logs
  # what it found and what it repaired to the journal, and is gone after `schedule remove`.
  step schedule-install schedule_install --remediate || true
  step scheduled-remediation scheduled_remediation || true
  step schedule-change schedule_change || true
  step schedule-remove schedule_remove || true
  diagnose
  power_off
}

# ---- ztagent schedule ---------------------------------------------------------------------------
readonly SCHEDULE_EVERY=1m
readonly ZERO=/opt/ztnet-data/zerotier

# schedule_install [ARGS...]: installs the schedule, then installs it again (must change nothing),
# and shows what the scheduler now has.
schedule_install() {
  local out
  ztagent schedule install --profile "${PROFILE}" "${SET_OPTS[@]}" --every "${SCHEDULE_EVERY}" "$@" || return 1
  out=$(ztagent schedule install --profile "${PROFILE}" "${SET_OPTS[@]}" --every "${SCHEDULE_EVERY}" "$@") ||
    return 1
  printf '%s\n' "${out}"
  [[ ${out} == *"schedule: "*" unchanged" ]] || { say "a second schedule install changed something"; return 1; }
  if [[ -d /run/systemd/system ]]; then
    cat /etc/systemd/system/ztagent-verify.service /etc/systemd/system/ztagent-verify.timer
    systemctl is-active ztagent-verify.timer || return 1
    systemctl is-enabled ztagent-verify.timer || return 1
    systemctl list-timers --all --no-pager ztagent-verify.timer
  else
    cat /etc/cron.d/ztagent || return 1
  fi
  grep -q "${ZTAGENT} verify --log-target syslog" /etc/cron.d/ztagent /etc/systemd/system/ztagent-verify.service \
    2>/dev/null || { say "the schedule does not run ${ZTAGENT}"; return 1; }
}

# schedule_change: installing with another interval rewrites the timer, and the running timer
# manager uses the new interval at once (daemon-reload + start of the active timer).
schedule_change() {
  local out timers
  out=$(ztagent schedule install --profile "${PROFILE}" "${SET_OPTS[@]}" --every 2m --remediate) || return 1
  printf '%s\n' "${out}"
  [[ ${out} == *"wrote /etc/systemd/system/ztagent-verify.timer"* ]] || { say "the timer was not rewritten"; return 1; }
  timers=$(systemctl show -p TimersMonotonic --value ztagent-verify.timer)
  say "TimersMonotonic: ${timers}"
  [[ ${timers} == *"OnUnitActiveUSec=2min"* && ${timers} != *"OnUnitActiveUSec=1min"* ]] ||
    { say "the running timer does not use the new interval"; return 1; }
  systemctl is-active ztagent-verify.timer
}

# schedule_remove: removes it; nothing of it may be left, and a second remove finds nothing.
schedule_remove() {
  local out f
  ztagent schedule remove || return 1
  out=$(ztagent schedule remove) || return 1
  [[ ${out} == "schedule: nothing installed" ]] || { say "second remove: ${out}"; return 1; }
  for f in /etc/cron.d/ztagent /etc/systemd/system/ztagent-verify.service /etc/systemd/system/ztagent-verify.timer \
    /etc/systemd/system/timers.target.wants/ztagent-verify.timer; do
    [[ ! -e ${f} && ! -L ${f} ]] || { say "${f} is still there"; return 1; }
  done
  if [[ -d /run/systemd/system ]] && systemctl is-active --quiet ztagent-verify.timer; then
    say "ztagent-verify.timer is still active"
    return 1
  fi
}

# scheduled_remediation: tamper with a data dir, then wait for the timer's run to find it, repair it
# and log both; the journal lines of the service are kept in out/scheduled-journal.log.
scheduled_remediation() {
  local since i mode log=${JOB}/out/scheduled-journal.log t0=${SECONDS}
  since=$(date '+%Y-%m-%d %H:%M:%S')
  sleep 1
  chmod 0777 "${ZERO}" || return 1
  say "tampered with ${ZERO} (0777); waiting for the timer (every ${SCHEDULE_EVERY})"
  for ((i = 0; i < 60; i++)); do
    journalctl --no-pager -o short-iso --since "${since}" -u ztagent-verify.service >"${log}" 2>&1
    mode=$(stat -c %a "${ZERO}")
    if [[ ${mode} == 750 ]] && grep -q 'remediate: data repaired' "${log}" &&
      [[ $(systemctl show -p ActiveState --value ztagent-verify.service) != activating ]]; then
      break
    fi
    sleep 5
  done
  journalctl --no-pager -o short-iso --since "${since}" -u ztagent-verify.service >"${log}" 2>&1
  cat "${log}"
  systemctl show -p Result -p ExecMainStatus -p NRestarts ztagent-verify.service
  say "mode of ${ZERO}: ${mode}, $((SECONDS - t0)) s after the tampering"
  [[ ${mode} == 750 ]] || { say "not repaired"; return 1; }
  grep -q 'ztagent\[[0-9]*\]: check data.zerotier.mode failed: expected 0750, actual 0777$' "${log}" ||
    { say "the journal lacks the failing check"; return 1; }
  grep -q "ztagent\[[0-9]*\]: remediate: data repaired ${ZERO}: mode 0777 -> 0750$" "${log}" ||
    { say "the journal lacks the repair"; return 1; }
  if grep -q 'ztagent\[[0-9]*\]: step [a-z]* failed' "${log}"; then
    say "a step of the scheduled remediation failed"
    return 1
  fi
  # Afterwards everything passes, except checks this host cannot pass (WAIVED_CHECKS, from run.sh):
  # then the run exits 1 and the unit fails, which is what the admin should see.
  local still id
  still=$(sed -n 's/.*ztagent\[[0-9]*\]: check \([a-z0-9.-]*\) still \(fails\|cannot run\) after --remediate: .*/\1/p' \
    "${log}" | sort -u)
  for id in ${still}; do
    [[ " ${WAIVED_CHECKS[*]} " == *" ${id} "* ]] || { say "still failing after the scheduled remediation: ${id}"; return 1; }
  done
  if [[ -z ${still} && $(systemctl show -p Result --value ztagent-verify.service) != success ]]; then
    say "the scheduled run did not end in success"
    return 1
  fi
  [[ -z ${still} ]] || say "the scheduled run failed only on waived checks: ${still//$'\n'/ }"
}

# Where systemd does not run (cron only): cron and a syslog daemon (busybox) started by hand, as
# PID 2 of a container without an init.
start_cron_and_syslog() {
  busybox syslogd -O /var/log/syslog || return 1
  cron || return 1
  sleep 1
  pgrep -a cron && pgrep -af syslogd
}

# cron_run: waits for the cron job to run verify and for its failing checks (nothing is
# provisioned here) to reach syslog; out/syslog.log keeps the log.
cron_run() {
  local i log=${JOB}/out/syslog.log t0=${SECONDS}
  for ((i = 0; i < 48; i++)); do
    cp /var/log/syslog "${log}" 2>/dev/null
    grep -q 'ztagent\[[0-9]*\]: check .* failed: ' "${log}" && break
    sleep 5
  done
  sleep 2
  cp /var/log/syslog "${log}"
  cat "${log}"
  say "$((SECONDS - t0)) s after the install"
  grep -q "CRON\[[0-9]*\]: (root) CMD (sleep [0-9]*; ${ZTAGENT} verify --log-target syslog" "${log}" ||
    { say "cron did not log the job"; return 1; }
  grep -q 'ztagent\[[0-9]*\]: check [a-z0-9.-]* \(failed\|could not run\): ' "${log}" ||
    { say "syslog has no failing check of the scheduled verify"; return 1; }
}

plan_cron_boot1() {
  step cron-start start_cron_and_syslog || true
  step schedule-install schedule_install || true
  step cron-run cron_run || true
  step schedule-remove schedule_remove || true
  say "done (no init: the container ends with this script)"
  sync
  exit 0
}

# The harness's own test of the images (no stack steps needed): base steps, import, then a pod
# run by hand with podman as the service user; every container must become healthy and caddy
# must answer HTTP on the pod's published port.
manual_pod() {
  local data=/opt/ztnet-data net=pasta version name i healthy
  # Pods need podman's local pause image, which podman builds from catatonit (a Recommends of
  # podman). This plan runs no ztagent step that installs it: install it here if it is missing.
  if ! command -v catatonit >/dev/null && [[ ! -x /usr/libexec/podman/catatonit ]]; then
    say "catatonit is missing (the pause image needs it): installing it for this test"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends catatonit || return 1
  fi
  version=$(as_service_user podman version --format '{{.Client.Version}}') || return 1
  [[ ${version} == 4.[0-3].* ]] && net=slirp4netns
  say "podman ${version}, pod network ${net}"
  install -m 0644 /dev/stdin /run/e2e-Caddyfile <<'CADDY'
localhost {
	reverse_proxy 127.0.0.1:3000
}
CADDY
  # ztagent's data step gives the container uids (postgres: 70) only default ACL entries on the
  # data dirs, so postgres (uid 70 -> subuid start + 69) cannot even enter its mount point. This
  # plan tests the images, not ztagent: give it the access entry (mask kept).
  local start
  start=$(awk -F: -v u="$(service_user)" '$1 == u {print $2; exit}' /etc/subuid)
  setfacl -n -m "u:$((start + 69)):rwx" "${data}/postgres-data" || return 1
  P() { as_service_user podman "$@"; }
  P pod create --name e2e-manual --network "${net}" -p 8080:80 -p 8443:443 -p 9993:9993/udp || return 1
  P run -d --log-driver k8s-file --pod e2e-manual --name e2e-postgres --health-cmd 'pg_isready -U postgres' \
    -e POSTGRES_PASSWORD=e2e-manual -e POSTGRES_DB=ztnet -e PGDATA=/var/lib/postgresql/data/pgdata \
    -v "${data}/postgres-data:/var/lib/postgresql/data" localhost/postgres:e2e || return 1
  P run -d --log-driver k8s-file --pod e2e-manual --name e2e-zerotier --health-cmd 'zerotier-cli info' \
    -v "${data}/zerotier:/var/lib/zerotier-one" localhost/zerotier:e2e || return 1
  P run -d --log-driver k8s-file --pod e2e-manual --name e2e-ztnet --health-cmd 'wget -q -O /dev/null http://127.0.0.1:3000/' \
    localhost/ztnet:e2e || return 1
  P run -d --log-driver k8s-file --pod e2e-manual --name e2e-caddy --health-cmd 'wget -q -O /dev/null http://127.0.0.1:2019/config/' \
    -v /run/e2e-Caddyfile:/etc/caddy/Caddyfile:ro -v "${data}/caddy_data:/data" localhost/caddy:e2e || return 1
  local exited=""
  for ((i = 0; i < 30; i++)); do
    healthy=0
    for name in postgres zerotier ztnet caddy; do
      if [[ $(P inspect --format '{{.State.Status}}' "e2e-${name}") != running ]]; then
        exited+=" ${name}"
      elif P healthcheck run "e2e-${name}" >/dev/null 2>&1; then
        healthy=$((healthy + 1))
      fi
    done
    ((healthy == 4)) || [[ -n ${exited} ]] && break
    sleep 2
  done
  P ps --all --format '{{.Names}} {{.Status}}'
  if ((healthy != 4)); then
    say "only ${healthy} of 4 containers healthy (exited:${exited:- none})"
    for name in postgres zerotier ztnet caddy; do
      P logs "e2e-${name}" 2>&1 | sed "s/^/e2e-${name}: /" | tail -n 20
    done
    return 1
  fi
  say "HTTP on the published port 8080 (caddy: redirect to https):"
  curl -sS -o /dev/null -w '%{http_code} %{redirect_url}\n' http://127.0.0.1:8080/ || return 1
  say "HTTPS on 8443 (caddy's internal CA) -> ztnet stand-in:"
  # Caddy issues its internal certificate in the background: give it a few seconds.
  for ((i = 0; i < 10; i++)); do
    curl -sSk https://localhost:8443/ && break
    sleep 1
  done
  ((i < 10)) || return 1
  ss -ulnp | grep ':9993' || { say "UDP 9993 is not bound"; return 1; }
}
plan_images_boot1() {
  step provision-base provision_base provision-base.json || true
  step import-images import_images || true
  step manual-pod manual_pod || true
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
