#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# One HTTP request of the ztnet stand-in (socat runs this per connection, the socket on stdin and
# stdout). Routes: / -> 308 to /auth/login (next.config.mjs redirects()), /auth/login -> a page,
# /e2e/status -> JSON {"database": ..., "controller": ...} with what this request found (stand-in
# only: the real ZTNet has no such page). HEAD gets the headers only.
set -u
# HOSTNAME and PORT come from node.sh (the server's environment), not from the shell.
# shellcheck disable=SC3028
listen="${HOSTNAME}:${PORT}"
cr=$(printf '\r')
IFS=' ' read -r method target _ || exit 0
while IFS= read -r line; do
  line=${line%"${cr}"}
  [ -z "${line}" ] && break
done
path=${target%%\?*}

respond() {  # STATUS CONTENT-TYPE BODY [EXTRA-HEADER]
  printf 'HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %s\r\nConnection: close\r\n' "$1" "$2" "${#3}"
  [ -n "${4:-}" ] && printf '%s\r\n' "$4"
  printf '\r\n'
  [ "${method}" = HEAD ] || printf '%s' "$3"
}

database_state() {
  local_out=$(PGPASSWORD="${POSTGRES_PASSWORD}" psql -h "${POSTGRES_HOST}" -p "${POSTGRES_PORT}" \
    -U "${POSTGRES_USER}" -d "${POSTGRES_DB}" -At -c 'SELECT count(*) FROM e2e_migrations' 2>&1)
  case ${local_out} in
    '' | *[!0-9]*) printf 'error: %s' "$(printf '%s' "${local_out}" | head -n 1 | tr -d '"\\')" ;;
    *) printf 'ok' ;;
  esac
}

controller_state() {
  token=${ZT_SECRET:-}
  if [ -z "${token}" ]; then
    token=$(cat "${ZT_SECRET_FILE:-/var/lib/zerotier-one/authtoken.secret}" 2>/dev/null) ||
      { printf 'error: cannot read %s' "${ZT_SECRET_FILE:-/var/lib/zerotier-one/authtoken.secret}"; return; }
  fi
  [ -n "${ZT_ADDR:-}" ] || { printf 'error: ZT_ADDR is not set'; return; }
  out=$(curl -sS --max-time 5 -o /dev/null -w '%{http_code}' -H "X-ZT1-Auth: ${token}" "${ZT_ADDR}/status" 2>&1)
  case ${out} in
    200) printf 'ok' ;;
    *) printf 'error: %s/status: %s' "${ZT_ADDR}" "$(printf '%s' "${out}" | head -n 1 | tr -d '"\\')" ;;
  esac
}

case ${path} in
  /)
    respond '308 Permanent Redirect' 'text/plain' '/auth/login' 'Location: /auth/login'
    ;;
  /auth/login)
    respond '200 OK' 'text/html; charset=utf-8' "<!doctype html><title>ZTNET</title><h1>ZTNET (e2e stand-in): sign in</h1><p>${NEXTAUTH_URL}</p>
"
    ;;
  /e2e/status)
    d=$(database_state)
    c=$(controller_state)
    respond '200 OK' 'application/json' "{\"service\":\"ztnet-e2e-stand-in\",\"database\":\"${d}\",\"controller\":\"${c}\",\"listen\":\"${listen}\"}
"
    ;;
  *)
    respond '404 Not Found' 'text/plain' 'not found
'
    ;;
esac
