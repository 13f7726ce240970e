#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Stand-in for the ZTNet image (sinamics/ztnet) in the e2e tests, following ztnet/CONTRACT.md on
# every point ztagent's stack depends on (tests/e2e/images/build.sh builds the image):
#   - like init-db.sh: waits for postgres with `psql` over TCP with POSTGRES_HOST/PORT/USER/
#     PASSWORD/DB (forever, once a second), then writes (a table and a row: the stand-in for
#     `prisma migrate deploy` + `prisma db seed`); a failing write ends the container (exit 1);
#   - like src/env.mjs: refuses to start without NEXTAUTH_URL and NEXTAUTH_SECRET;
#   - then, like init-db.sh, execs its arguments (the image's CMD is `node server.js`); `node` here
#     is the stand-in's server (node.sh): like the Next.js standalone server.js it listens on
#     $HOSTNAME:$PORT (defaults 0.0.0.0:3000), exactly that address, so the HOSTNAME podman sets to
#     the pod's name in a pod is not 127.0.0.1;
#   - like src/utils/ztApi.ts: the controller token is $ZT_SECRET or the contents of
#     ${ZT_SECRET_FILE:-/var/lib/zerotier-one/authtoken.secret}, sent as X-ZT1-Auth to $ZT_ADDR;
#   - pages (server.sh): / -> 308 /auth/login, /auth/login, and the stand-in's own /e2e/status.
# The image has curl and psql and no wget (its /bin/sh is dash, not busybox, so no applet either).
set -eu

for v in POSTGRES_HOST POSTGRES_PORT POSTGRES_USER POSTGRES_PASSWORD POSTGRES_DB NEXTAUTH_URL NEXTAUTH_SECRET; do
  eval "value=\${${v}:-}"
  if [ -z "${value}" ]; then
    echo "ztnet stand-in: Invalid environment variables: ${v} is not set" >&2
    exit 1
  fi
done
export PGPASSWORD="${POSTGRES_PASSWORD}"
db() { psql -h "${POSTGRES_HOST}" -p "${POSTGRES_PORT}" -U "${POSTGRES_USER}" -d "${POSTGRES_DB}" "$@"; }

until db -c '\q' 2>/dev/null; do
  echo "Postgres is unavailable - sleeping"
  sleep 1
done
echo "Applying migrations to the database..."
db -v ON_ERROR_STOP=1 -q -c 'CREATE TABLE IF NOT EXISTS e2e_migrations (id serial PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())' \
  -c 'INSERT INTO e2e_migrations DEFAULT VALUES' || { echo "An error occurred. Exiting..." >&2; exit 1; }
echo "Migrations applied successfully!"

echo "Executing command"
# Like init-db.sh's `exec $cmd`: the image's CMD is `node server.js` (node: the stand-in's server).
exec "$@"
