#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Runs inside the booted test system at every boot (ztagent-e2e-job.service), from the bind-mounted
# /job directory that tests/e2e/run.sh prepared:
#   /job/scenario.env   SCENARIO, PROFILE, PLAN, SET_ARGS, VERIFY_RETRY_SECONDS, REPO_PACKAGES,
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

provision() {  # OUTPUT.json [LOG]
  if [[ -n ${2:-} ]]; then
    # --log-level debug logs every process ztagent starts ("run: ARGV"; at info when the command
    # is a mutating one): the host lists and judges them (lib/plans.sh expect_noop_processes).
    ztagent provision --profile "${PROFILE}" "${SET_OPTS[@]}" --format json --output "${JOB}/out/$1" \
      --log-level debug 2> >(tee "${JOB}/out/$2" >&2)
  else
    ztagent provision --profile "${PROFILE}" "${SET_OPTS[@]}" --format json --output "${JOB}/out/$1"
  fi
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
# The wall clock when the job asks for the reboot or poweroff (out/shutdown-boot<N>.start); run.sh
# notes when systemd-nspawn exited (.end). One kernel clock on both sides (no time namespace).
mark_shutdown() { date +%s.%N >"${JOB}/out/shutdown-boot${BOOT}.start"; sync; }
next_boot() { say "rebooting"; finish_boot; mark_shutdown; systemctl --no-block reboot; exit 0; }
power_off() { say "powering off"; finish_boot; mark_shutdown; systemctl --no-block poweroff; exit 0; }

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
  step clean-shutdown previous_shutdown_clean || true
  step verify verify verify.xml retry || true
  step page page_through_caddy || true
  step provision2 provision provision2.json provision2.log || true
  diagnose
  power_off
}

# What the admin sees: HTTPS on the public port 443 through caddy (its internal CA for localhost,
# hence -k), with the name the admin uses. Records / (headers: ztnet's 308 to /auth/login) and the
# ztnet stand-in's /e2e/status (database and controller as the stand-in reached them) into out/;
# the host judges them (run.sh assert_page). Retries for a while: caddy issues its certificate in
# the background after a start.
page_through_caddy() {
  local i url=https://localhost
  for ((i = 0; i < 30; i++)); do
    if curl -sSk --max-time 10 --resolve localhost:443:127.0.0.1 -o "${JOB}/out/page-root.body" \
        -D "${JOB}/out/page-root.headers" "${url}/" &&
      curl -sSk --max-time 10 --resolve localhost:443:127.0.0.1 -o "${JOB}/out/page-status.json" \
        -w '%{http_code}\n' "${url}/e2e/status" >"${JOB}/out/page-status.code"; then
      break
    fi
    sleep 2
  done
  say "GET ${url}/ through caddy:"
  cat "${JOB}/out/page-root.headers" 2>/dev/null
  say "GET ${url}/e2e/status through caddy: HTTP $(cat "${JOB}/out/page-status.code" 2>/dev/null)"
  cat "${JOB}/out/page-status.json" 2>/dev/null
  ((i < 30))
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

# ---- how the stack stopped at the reboot ----------------------------------------------------------
# previous_shutdown_clean: reads the previous boot's shutdown from the guest's persistent journal
# (everything after the job's "rebooting" line, kept in out/shutdown-journal-boot<N>.log). Every
# container must have stopped on its stop signal: postgres logs "database system is shut down" (its
# shutdown on SIGINT, the STOPSIGNAL of docker-library/postgres), no unit of the stack ran into a
# stop timeout (systemd logs "timed out" before it kills), and no container ended by SIGKILL (exit
# status 137). (On Debian 13 the final SIGKILL of KillMode=mixed reaps a leftover
# catatonit of a unit's ExecStopPost; that is no timeout and is not counted.)
previous_shutdown_clean() {
  local prev=$((BOOT - 1)) log killed
  log=${JOB}/out/shutdown-journal-boot${prev}.log
  journalctl -b -1 --no-pager -o short-monotonic 2>&1 |
    sed -n "/\\[job ${SCENARIO} boot ${prev} [0-9:]*\\] rebooting\$/,\$p" >"${log}"
  [[ -s ${log} ]] || { say "the journal has no shutdown of boot ${prev} (no \"rebooting\" line of the job)"; return 1; }
  say "shutdown of boot ${prev}: $(wc -l <"${log}") journal lines (out/${log##*/})"
  grep -E 'ztnet|podman|libpod|conmon|postgres|database system' "${log}" | tail -n 80
  grep -q 'database system is shut down' "${log}" ||
    { say "postgres did not log \"database system is shut down\" before the reboot"; return 1; }
  # podman's own scopes (podman-pause-*, libpod-*) timing out is reported, not failed: Debian 13
  # (Quadlet, not these units) did so in 1 of 5 runs while its stack units stopped cleanly.
  local scopes
  scopes=$(grep -E '(podman|libpod)-[^ ]*\.scope: .*timed out' "${log}" || true)
  [[ -z ${scopes} ]] || { say "note: podman's scopes timed out at the reboot:"; printf '%s\n' "${scopes}"; }
  killed=$(grep -E 'ztnet[^ ]*\.service: .*(timed out|status=137)' "${log}" || true)
  if [[ -n ${killed} ]]; then
    say "the stack did not stop cleanly:"
    printf '%s\n' "${killed}"
    return 1
  fi
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
  # Afterwards everything passes: checks this host cannot pass are site-config waivers (run.sh
  # install_waivers), which ztagent neither logs as failing nor counts against the run.
  local still
  still=$(sed -n 's/.*ztagent\[[0-9]*\]: check \([a-z0-9.-]*\) still \(fails\|cannot run\) after --remediate: .*/\1/p' \
    "${log}" | sort -u)
  if [[ -n ${still} ]]; then
    say "still failing after the scheduled remediation: ${still//$'\n'/ }"
    return 1
  fi
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

# The stack rendered from a profile that breaks an image contract (run.sh generates it): provision
# and verify must fail, naming the broken runtime checks; no reboot needed.
plan_stack_broken_boot1() {
  step provision-base provision_base provision-base.json || true
  step import-images import_images || true
  # A shorter wait for the runtime checks than provision's default 2 min: they cannot settle.
  step provision1 ztagent provision --profile "${PROFILE}" "${SET_OPTS[@]}" --retry-timeout 60s \
    --format json --output "${JOB}/out/provision1.json" || true
  step verify verify verify.xml || true
  step page page_through_caddy || true
  diagnose
  power_off
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
    --device /dev/net/tun --cap-add NET_ADMIN -v "${data}/zerotier:/var/lib/zerotier-one" localhost/zerotier:e2e || return 1
  # As the ztnet contract needs it (tests/e2e/images/ztnet/CONTRACT.md): the server behind
  # `env HOSTNAME=0.0.0.0` (podman overrides -e HOSTNAME in a pod), the POSTGRES_* and NEXTAUTH_*
  # variables, ZT_ADDR and the shared zerotier volume; curl, not wget.
  P run -d --log-driver k8s-file --pod e2e-manual --name e2e-ztnet \
    --health-cmd 'curl -fsS -o /dev/null http://127.0.0.1:3000/' \
    -e POSTGRES_HOST=127.0.0.1 -e POSTGRES_PORT=5432 -e POSTGRES_USER=postgres \
    -e POSTGRES_PASSWORD=e2e-manual -e POSTGRES_DB=ztnet -e NEXTAUTH_URL=https://localhost:8443 \
    -e NEXTAUTH_SECRET=e2e-manual -e ZT_ADDR=http://127.0.0.1:9993 \
    -v "${data}/zerotier:/var/lib/zerotier-one" localhost/ztnet:e2e env HOSTNAME=0.0.0.0 node server.js || return 1
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
    curl -sSk -o /dev/null -w '%{http_code} %{redirect_url}\n' https://localhost:8443/ && break
    sleep 1
  done
  ((i < 10)) || return 1
  say "the ztnet stand-in's status through caddy (database and controller must be ok):"
  curl -sSk https://localhost:8443/e2e/status | tee /run/e2e-status.json
  grep -q '"database":"ok"' /run/e2e-status.json && grep -q '"controller":"ok"' /run/e2e-status.json || return 1
  say "the contract's negative side: no wget in ztnet, the API refuses a request without the token:"
  if P exec e2e-ztnet sh -c 'command -v wget'; then say "ztnet has wget"; return 1; fi
  P exec e2e-ztnet curl -sS -o /dev/null -w '%{http_code}\n' http://127.0.0.1:9993/status | tee /run/e2e-401
  [[ $(cat /run/e2e-401) == 401 ]] || return 1
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
