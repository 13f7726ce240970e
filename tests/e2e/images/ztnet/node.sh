#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `node` of the ztnet stand-in: `node server.js` starts the stand-in's server (server.sh per
# connection) where the Next.js standalone server.js listens: process.env.HOSTNAME, default
# 0.0.0.0, and PORT, default 3000. Anything else is refused.
set -eu
if [ "$#" -ne 1 ] || [ "$1" != server.js ]; then
  echo "node (ztnet stand-in): only 'node server.js' is available" >&2
  exit 1
fi
: "${HOSTNAME:=0.0.0.0}"
: "${PORT:=3000}"
export HOSTNAME PORT
echo "ztnet stand-in: listening on ${HOSTNAME}:${PORT} (NEXTAUTH_URL=${NEXTAUTH_URL:-unset}, ZT_ADDR=${ZT_ADDR:-unset})"
# socat resolves HOSTNAME like node does (/etc/hosts first) and binds exactly that address.
exec socat -lf /dev/stderr "TCP4-LISTEN:${PORT},bind=${HOSTNAME},reuseaddr,fork" EXEC:/usr/local/bin/server.sh
