#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Stand-in for the ZTNet web application in the e2e tests (tests/e2e/images/build.sh): an HTTP
# server on port 3000 (all addresses, like the Next.js server) that answers / and /api/health.
# Arguments are ignored.
set -eu
mkdir -p /run/ztnet-www/api
printf '<!doctype html><title>ZTNet (e2e stand-in)</title><p>ZTNet stand-in for %s</p>\n' \
  "${NEXTAUTH_URL:-unknown}" >/run/ztnet-www/index.html
printf '{"status":"ok"}\n' >/run/ztnet-www/api/health
echo "ztnet stand-in: HTTP *:3000 (NEXTAUTH_URL=${NEXTAUTH_URL:-unset})"
httpd -f -p 3000 -h /run/ztnet-www &
web=$!
trap 'kill "${web}" 2>/dev/null; exit 0' TERM INT
while kill -0 "${web}" 2>/dev/null; do
  sleep 1 &
  wait $! || true
done
echo "ztnet stand-in: httpd exited" >&2
exit 1
