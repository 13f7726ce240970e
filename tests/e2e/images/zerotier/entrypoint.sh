#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Stand-in for zerotier-one (zyclonite/zerotier) in the e2e tests, following zerotier/CONTRACT.md
# on every point ztagent's stack depends on (tests/e2e/images/build.sh builds the image):
#   - runs as root (the image has no USER); local.conf written like scripts/entrypoint.sh does;
#   - writes identity.public, identity.secret and authtoken.secret (0600) into
#     /var/lib/zerotier-one on first start and keeps them afterwards;
#   - opens /dev/net/tun and creates (and removes) a TAP interface with it: fails without the
#     device or without CAP_NET_ADMIN, like a network port of zerotier-one;
#   - binds UDP 9993 (all addresses) and the JSON API on TCP 127.0.0.1:9993 (api.sh), which
#     answers only requests with the right X-ZT1-Auth token (401 otherwise).
# Arguments are ignored (the real image passes them to zerotier-one; its CMD is -U).
set -eu

dir=/var/lib/zerotier-one
port=${ZT_PRIMARY_PORT:-9993}
mkdir -p "${dir}"
umask 077
if [ ! -s "${dir}/identity.secret" ]; then
  addr=$(head -c 5 /dev/urandom | hexdump -e '5/1 "%02x"')
  pub=$(head -c 32 /dev/urandom | hexdump -e '32/1 "%02x"')
  printf '%s:0:%s:%s\n' "${addr}" "${pub}" "$(head -c 32 /dev/urandom | hexdump -e '32/1 "%02x"')" >"${dir}/identity.secret"
  printf '%s:0:%s\n' "${addr}" "${pub}" >"${dir}/identity.public"
  chmod 0644 "${dir}/identity.public"
fi
if [ ! -s "${dir}/authtoken.secret" ]; then
  # 24 characters a-z0-9, like zerotier-one's generated token.
  tr -dc 'a-z0-9' </dev/urandom | head -c 24 >"${dir}/authtoken.secret"
fi
chmod 0600 "${dir}/authtoken.secret" "${dir}/identity.secret"
if [ "${ZT_OVERRIDE_LOCAL_CONF:-}" = true ] || [ ! -f "${dir}/local.conf" ]; then
  nets=""
  for n in $(printf '%s' "${ZT_ALLOW_MANAGEMENT_FROM:-}" | tr ',' ' '); do
    nets="${nets:+${nets},}\"${n}\""
  done
  printf '{"settings":{"primaryPort":%s,"portMappingEnabled":%s,"softwareUpdate":"disable","allowManagementFrom":[%s],"allowTcpFallbackRelay":%s}}\n' \
    "${port}" "${ZT_PORT_MAPPING_ENABLED:-true}" "${nets}" "${ZT_ALLOW_TCP_FALLBACK_RELAY:-true}" >"${dir}/local.conf"
  chmod 0644 "${dir}/local.conf"
fi
umask 022

# A network port: TUNSETIFF on /dev/net/tun needs the device and CAP_NET_ADMIN.
if ! /usr/bin/ip tuntap add dev zt-e2e mode tap 2>/tmp/tun.err; then
  echo "zerotier stand-in: ERROR: unable to configure virtual network port: could not open TUN/TAP device: $(cat /tmp/tun.err)" >&2
  exit 1
fi
/usr/bin/ip tuntap del dev zt-e2e mode tap

addr=$(cut -d: -f1 "${dir}/identity.public")
echo "zerotier stand-in: node ${addr}, UDP *:${port}, API 127.0.0.1:${port} (token required)"
socat -lf /dev/stderr "TCP4-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork" EXEC:/usr/local/bin/api.sh &
api=$!
socat -u "UDP4-RECV:${port},reuseaddr" OPEN:/dev/null,wronly &
udp=$!
trap 'kill "${api}" "${udp}" 2>/dev/null; exit 0' TERM INT
while kill -0 "${api}" 2>/dev/null && kill -0 "${udp}" 2>/dev/null; do
  sleep 1 &
  wait $! || true
done
echo "zerotier stand-in: a listener exited" >&2
kill "${api}" "${udp}" 2>/dev/null || true
exit 1
