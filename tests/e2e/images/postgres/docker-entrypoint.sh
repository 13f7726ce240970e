#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Entrypoint of the e2e postgres image (tests/e2e/images/build.sh): real PostgreSQL 15 from Debian,
# started the way the official image's docker-entrypoint.sh starts it, for what ztagent's stack uses:
#   POSTGRES_PASSWORD (required on first start), POSTGRES_USER (postgres), POSTGRES_DB (= user),
#   PGDATA (default /var/lib/postgresql/data; the stack uses a subdirectory of the mounted volume).
# Started as root: creates PGDATA, hands it to postgres (uid 70, as in postgres:alpine) and re-runs
# itself as that user. First start (no PG_VERSION): initdb + the database. Then `exec postgres`.
set -eu

: "${PGDATA:=/var/lib/postgresql/data}"
export PGDATA

if [ "$#" -eq 0 ] || [ "${1#-}" != "$1" ]; then
  set -- postgres "$@"
fi
if [ "$1" != postgres ]; then
  exec "$@"
fi

if [ "$(id -u)" = 0 ]; then
  mkdir -p "${PGDATA}" /var/run/postgresql
  chown postgres:postgres "${PGDATA}" /var/run/postgresql
  chmod 0700 "${PGDATA}"
  chmod 2777 /var/run/postgresql
  # Absolute path: busybox sh prefers its own (smaller) setpriv applet to one found in PATH.
  exec /usr/bin/setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

if [ ! -s "${PGDATA}/PG_VERSION" ]; then
  if [ -z "${POSTGRES_PASSWORD:-}" ]; then
    echo "docker-entrypoint: error: the database is uninitialized and POSTGRES_PASSWORD is not set" >&2
    exit 1
  fi
  user=${POSTGRES_USER:-postgres}
  db=${POSTGRES_DB:-${user}}
  pwfile=$(mktemp)
  printf '%s\n' "${POSTGRES_PASSWORD}" >"${pwfile}"
  echo "docker-entrypoint: initdb ${PGDATA} (superuser ${user})"
  initdb -D "${PGDATA}" --username="${user}" --pwfile="${pwfile}" --encoding=UTF8 --locale=C \
    --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  rm -f "${pwfile}"
  printf '\nhost all all all scram-sha-256\n' >>"${PGDATA}/pg_hba.conf"
  if [ "${db}" != postgres ]; then
    echo "docker-entrypoint: create database ${db}"
    printf 'CREATE DATABASE "%s";\n' "${db}" | postgres --single -D "${PGDATA}" postgres >/dev/null
  fi
  echo "docker-entrypoint: PostgreSQL init process complete; ready for start up"
fi

shift
exec postgres -c listen_addresses='*' "$@"
