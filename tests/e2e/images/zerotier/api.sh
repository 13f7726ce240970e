#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# One request to the zerotier stand-in's local JSON API (socat runs this per connection). Like
# zerotier-one's: without the token from authtoken.secret in X-ZT1-Auth (or ?auth=) the answer is
# 401; GET /status, /controller, /controller/network, /network, /peer answer JSON.
set -u
dir=/var/lib/zerotier-one
cr=$(printf '\r')
IFS=' ' read -r method target _ || exit 0
auth=""
while IFS= read -r line; do
  line=${line%"${cr}"}
  [ -z "${line}" ] && break
  name=$(printf '%s' "${line%%:*}" | tr 'A-Z' 'a-z')
  if [ "${name}" = x-zt1-auth ]; then
    auth=${line#*:}
    auth=${auth# }
  fi
done
path=${target%%\?*}
case ${target} in
  *\?auth=*) auth=${target#*\?auth=}; auth=${auth%%&*} ;;
esac

respond() {  # STATUS BODY
  printf 'HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %s\r\nConnection: close\r\n\r\n' "$1" "${#2}"
  [ "${method}" = HEAD ] || printf '%s' "$2"
}

token=$(cat "${dir}/authtoken.secret" 2>/dev/null) || token=""
if [ -z "${token}" ] || [ "${auth}" != "${token}" ]; then
  respond '401 Unauthorized' '{"error":"unauthorized"}
'
  exit 0
fi
addr=$(cut -d: -f1 "${dir}/identity.public")
case ${path} in
  /status) respond '200 OK' "{\"address\":\"${addr}\",\"online\":true,\"version\":\"1.14.2\",\"tcpFallbackActive\":false}
" ;;
  /controller) respond '200 OK' "{\"controller\":true,\"apiVersion\":4,\"clock\":$(date +%s)000}
" ;;
  /controller/network | /network | /peer) respond '200 OK' '[]
' ;;
  *) respond '404 Not Found' '{}
' ;;
esac
