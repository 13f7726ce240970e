#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Stand-in for zerotier-one in the e2e tests (tests/e2e/images/build.sh): no ZeroTier network, but
# what ztagent's stack and checks see of it: UDP 9993 bound on all addresses, the local API port
# TCP 127.0.0.1:9993 (what ZTNet's ZT_ADDR points at), /var/lib/zerotier-one/{identity.public,
# authtoken.secret} created on first start, and `zerotier-cli info` answering ONLINE.
# Arguments are ignored (the real image takes zerotier-one's).
set -eu

dir=/var/lib/zerotier-one
mkdir -p "${dir}"
if [ ! -s "${dir}/identity.public" ]; then
  addr=$(head -c 5 /dev/urandom | hexdump -e '5/1 "%02x"')
  printf '%s:0:%s\n' "${addr}" "$(head -c 32 /dev/urandom | hexdump -e '32/1 "%02x"')" >"${dir}/identity.public"
fi
if [ ! -s "${dir}/authtoken.secret" ]; then
  (umask 077 && head -c 12 /dev/urandom | hexdump -e '12/1 "%02x"' >"${dir}/authtoken.secret")
fi
addr=$(cut -d: -f1 "${dir}/identity.public")
mkdir -p /run/zerotier-api
printf '{"address":"%s","online":true,"version":"1.14.0"}\n' "${addr}" >/run/zerotier-api/status
echo "zerotier stand-in: node ${addr}, UDP *:9993, API 127.0.0.1:9993"

httpd -f -p 127.0.0.1:9993 -h /run/zerotier-api &
api=$!
socat -u UDP4-RECV:9993,reuseaddr OPEN:/dev/null,wronly &
udp=$!
trap 'kill "${api}" "${udp}" 2>/dev/null; exit 0' TERM INT
while kill -0 "${api}" 2>/dev/null && kill -0 "${udp}" 2>/dev/null; do
  sleep 1 &
  wait $! || true
done
echo "zerotier stand-in: a listener exited" >&2
kill "${api}" "${udp}" 2>/dev/null || true
exit 1
