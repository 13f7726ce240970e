#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
#
# Builds the four container images of ztagent's stack for the e2e tests, as rootfs tarballs for
# `podman import` (no registry is reachable from the test machines):
#   postgres  real PostgreSQL 15 from Debian bookworm; uid 70 like postgres:alpine; entrypoint in
#             postgres/docker-entrypoint.sh (POSTGRES_PASSWORD/USER/DB, PGDATA, initdb on first start)
#   caddy     real Caddy from Debian bookworm; CMD caddy run --config /etc/caddy/Caddyfile
#   zerotier  stand-in (zerotier/, contract in zerotier/CONTRACT.md): root, identity and
#             authtoken.secret 0600, a TAP device via /dev/net/tun, UDP 9993, token-checked API on
#             TCP 127.0.0.1:9993, zerotier-cli
#   ztnet     stand-in (ztnet/, contract in ztnet/CONTRACT.md): waits for postgres with psql, writes,
#             reads the controller token, listens on $HOSTNAME:$PORT; curl and psql, no wget
# Every image has busybox (coreutils-like applets); all but ztnet use it as /bin/sh (with wget).
# ztnet's /bin/sh is dash and it has no wget at all, like node:*-bookworm-slim.
#
#   tests/e2e/images/build.sh --base ROOTFS
#
# ROOTFS: a Debian bookworm root filesystem (run.sh passes its cached image). Prints the output
# directory: <name>.tar for each image and import.sh (run as the service user inside the guest:
# `import.sh DIR TAG` imports DIR/<name>.tar as localhost/<name>:TAG with entrypoint, cmd, env).
#
# Cache (ZTAGENT_E2E_CACHE, default /var/cache/ztagent-e2e):
#   containers/buildroot-<hash>/rootfs   ROOTFS + the packages below (kept; hash: suite, mirror, packages)
#   containers/images-<hash>/            the tarballs (hash: the packages and every file in this directory)
#   debs/containers-bookworm/            apt's .debs and lists (a rebuild after a change needs no network
#                                        when the package list is unchanged)
# Network (deb.debian.org) is needed only when the build root is missing.
# The tree_<name> functions are called by name.
# shellcheck disable=SC2317
set -euo pipefail
shopt -s inherit_errexit

SELF=$(realpath "${BASH_SOURCE[0]}")
IMAGES_DIR=$(dirname "${SELF}")
readonly SELF IMAGES_DIR
CACHE_DIR=${ZTAGENT_E2E_CACHE:-/var/cache/ztagent-e2e}
MIRROR=${ZTAGENT_E2E_MIRROR:-http://deb.debian.org/debian}
readonly SUITE=bookworm
readonly BUILD_PACKAGES=(postgresql-15 postgresql-client-15 caddy socat busybox-static util-linux tzdata ca-certificates curl iproute2 dash)
readonly NAMES=(postgres caddy zerotier ztnet)
readonly PG=/usr/lib/postgresql/15

log() { printf 'e2e images: %s\n' "$*" >&2; }
die() { printf 'e2e images: error: %s\n' "$*" >&2; exit 1; }

# ---- what `podman import --change` gives each image (the tarball has no config) ------------------
# One instruction per line, Dockerfile syntax (podman takes one port per EXPOSE).
changes() {
  case $1 in
    postgres)
      printf '%s\n' \
        "ENV PATH=${PG}/bin:/usr/local/bin:/usr/bin:/bin" \
        'ENV PGDATA=/var/lib/postgresql/data' \
        'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' \
        'CMD ["postgres"]' \
        'STOPSIGNAL SIGINT' \
        'EXPOSE 5432'
      ;;
    caddy)
      printf '%s\n' \
        'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
        'ENV XDG_CONFIG_HOME=/config' \
        'ENV XDG_DATA_HOME=/data' \
        'WORKDIR /srv' \
        'CMD ["caddy", "run", "--config", "/etc/caddy/Caddyfile", "--adapter", "caddyfile"]' \
        'EXPOSE 80' \
        'EXPOSE 443'
      ;;
    zerotier)
      printf '%s\n' \
        'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
        'ENTRYPOINT ["/usr/local/bin/entrypoint.sh"]' \
        'CMD ["-U"]' \
        'EXPOSE 9993/udp'
      ;;
    ztnet)
      printf '%s\n' \
        'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
        'ENV NODE_ENV=production' \
        'ENV PORT=3000' \
        'WORKDIR /app' \
        'ENTRYPOINT ["/usr/local/bin/entrypoint.sh"]' \
        'CMD ["node", "server.js"]' \
        'EXPOSE 3000'
      ;;
  esac
}

hash_of() { sha256sum | cut -c1-16; }

buildroot_key() {
  printf 'suite=%s\nmirror=%s\npackages=%s\n' "${SUITE}" "${MIRROR}" "${BUILD_PACKAGES[*]}" | hash_of
}

images_key() {
  {
    buildroot_key
    (cd "${IMAGES_DIR}" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
    (cd "${IMAGES_DIR}" && find . -type f -perm -u+x -print | sort)
  } | hash_of
}

# ---- the build root: ROOTFS + the packages ----------------------------------------------------
build_root() {
  local base=$1 key dir tmp debs
  key=$(buildroot_key)
  dir=${CACHE_DIR}/containers/buildroot-${key}
  if [[ -f ${dir}/ok ]]; then
    printf '%s\n' "${dir}/rootfs"
    return 0
  fi
  tmp=${dir}.tmp
  debs=${CACHE_DIR}/debs/containers-${SUITE}
  rm -rf "${tmp}"
  mkdir -p "${tmp}" "${debs}/archives/partial" "${debs}/lists/partial"
  log "build root ${key}: copy of ${base} + ${BUILD_PACKAGES[*]}"
  cp -a "${base}" "${tmp}/rootfs"
  rm -f "${tmp}"/rootfs/etc/apt/sources.list.d/*
  printf 'deb %s %s main\n' "${MIRROR}" "${SUITE}" >"${tmp}/rootfs/etc/apt/sources.list"
  # No daemons started by maintainer scripts (postgresql-common creates and starts a cluster).
  printf '#!/bin/sh\nexit 101\n' >"${tmp}/rootfs/usr/sbin/policy-rc.d"
  chmod 0755 "${tmp}/rootfs/usr/sbin/policy-rc.d"
  SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 systemd-nspawn --quiet --register=no --keep-unit -D "${tmp}/rootfs" \
    --as-pid2 --bind="${debs}/archives:/var/cache/apt/archives" --bind="${debs}/lists:/var/lib/apt/lists" \
    --setenv=DEBIAN_FRONTEND=noninteractive -- \
    bash -euc 'apt-get update -q || echo "apt-get update failed: using the cached package lists"
               apt-get install -y -q --no-install-recommends -o Dpkg::Options::=--force-unsafe-io "$@"' \
    bash "${BUILD_PACKAGES[@]}" >&2
  printf 'packages=%s\nbuilt=%s\n' "${BUILD_PACKAGES[*]}" "$(date -u +%FT%TZ)" >"${tmp}/ok"
  rm -rf "${dir}"
  mv "${tmp}" "${dir}"
  find "${CACHE_DIR}/containers" -mindepth 1 -maxdepth 1 -name 'buildroot-*' ! -name "buildroot-${key}" -exec rm -rf {} +
  printf '%s\n' "${dir}/rootfs"
}

# ---- assembling an image tree -----------------------------------------------------------------
# new_tree DIR: an empty merged-/usr tree with /etc/passwd, /tmp, busybox and its applets.
new_tree() {
  local t=$1 applet
  mkdir -p "${t}"/usr/{bin,sbin,lib,lib64} "${t}"/usr/local/bin "${t}"/{etc,dev,proc,sys,run,root,srv,tmp,var/tmp}
  for applet in bin sbin lib lib64; do
    ln -s "usr/${applet}" "${t}/${applet}"
  done
  chmod 1777 "${t}/tmp" "${t}/var/tmp"
  chmod 0700 "${t}/root"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' >"${t}/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"${t}/etc/group"
  printf 'passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n' >"${t}/etc/nsswitch.conf"
  cp "${BR}/usr/bin/busybox" "${t}/usr/bin/busybox"
  while read -r applet; do
    [[ -e ${t}/usr/bin/${applet} || ${applet} == busybox ]] || ln -s busybox "${t}/usr/bin/${applet}"
  done < <(chroot "${BR}" /usr/bin/busybox --list)
}

# add_files TREE PATH...: copies PATHs (files, dereferenced) from the build root and every shared
# library they load (ldd, run in the build root), at the same paths.
add_files() {
  local t=$1 f lib
  shift
  for f in "$@"; do
    mkdir -p "${t}$(dirname "${f}")"
    rm -f "${t}${f}"  # may be a busybox applet link: replace it, never write through it
    cp -L "${BR}${f}" "${t}${f}"
    while read -r lib; do
      [[ -e ${t}${lib} ]] && continue
      mkdir -p "${t}$(dirname "${lib}")"
      cp -L "${BR}${lib}" "${t}${lib}"
    done < <(chroot "${BR}" ldd "${f}" 2>/dev/null | grep -o '/[^ ]*' || true)
  done
}

# add_dir TREE DIR: copies a data directory as it is (symlinks kept).
add_dir() {
  mkdir -p "$1$(dirname "$2")"
  cp -a "${BR}$2" "$1$2"
}

tree_postgres() {
  local t=$1 bins=() mods=() f
  printf 'postgres:x:70:70:PostgreSQL:/var/lib/postgresql:/bin/sh\n' >>"${t}/etc/passwd"
  printf 'postgres:x:70:\n' >>"${t}/etc/group"
  for f in "${BR}${PG}"/bin/*; do
    [[ ${f##*/} == postmaster ]] || bins+=("${f#"${BR}"}")  # postmaster: a symlink to postgres
  done
  # llvmjit pulls in libLLVM (100 MB); without it postgres runs with jit unavailable.
  while read -r f; do
    mods+=("${f#"${BR}"}")
  done < <(find "${BR}${PG}/lib" -maxdepth 1 -name '*.so' ! -name 'llvmjit*')
  add_files "${t}" "${bins[@]}" "${mods[@]}" /usr/bin/setpriv
  ln -s postgres "${t}${PG}/bin/postmaster"
  add_dir "${t}" /usr/share/postgresql/15
  add_dir "${t}" /usr/share/zoneinfo
  for f in pg_isready psql postgres initdb pg_ctl; do
    ln -s "${PG}/bin/${f}" "${t}/usr/local/bin/${f}"
  done
  install -m 0755 "${IMAGES_DIR}/postgres/docker-entrypoint.sh" "${t}/usr/local/bin/docker-entrypoint.sh"
  mkdir -p "${t}/var/lib/postgresql/data" "${t}/var/run/postgresql"
  chown -R 70:70 "${t}/var/lib/postgresql" "${t}/var/run/postgresql"
  chmod 2777 "${t}/var/run/postgresql"
}

tree_caddy() {
  local t=$1
  add_files "${t}" /usr/bin/caddy
  add_dir "${t}" /etc/ssl/certs
  add_dir "${t}" /usr/share/ca-certificates
  mkdir -p "${t}/etc/caddy" "${t}/config" "${t}/data" "${t}/srv"
  install -m 0644 "${IMAGES_DIR}/caddy/Caddyfile" "${t}/etc/caddy/Caddyfile"
}

tree_zerotier() {
  local t=$1
  add_files "${t}" /usr/bin/socat /usr/bin/ip
  install -m 0755 "${IMAGES_DIR}/zerotier/entrypoint.sh" "${t}/usr/local/bin/entrypoint.sh"
  install -m 0755 "${IMAGES_DIR}/zerotier/api.sh" "${t}/usr/local/bin/api.sh"
  install -m 0755 "${IMAGES_DIR}/zerotier/zerotier-cli" "${t}/usr/local/bin/zerotier-cli"
  ln -s zerotier-cli "${t}/usr/local/bin/zerotier-one"
  mkdir -p "${t}/var/lib/zerotier-one"
}

tree_ztnet() {
  local t=$1
  # node:*-bookworm-slim: dash as /bin/sh, curl and psql (postgresql-client), no wget.
  rm -f "${t}/usr/bin/wget" "${t}/usr/bin/sh"
  add_files "${t}" /usr/bin/dash /usr/bin/socat /usr/bin/curl "${PG}/bin/psql"
  ln -s dash "${t}/usr/bin/sh"
  ln -s "${PG}/bin/psql" "${t}/usr/local/bin/psql"
  add_dir "${t}" /etc/ssl/certs
  install -m 0755 "${IMAGES_DIR}/ztnet/entrypoint.sh" "${t}/usr/local/bin/entrypoint.sh"
  install -m 0755 "${IMAGES_DIR}/ztnet/server.sh" "${t}/usr/local/bin/server.sh"
  install -m 0755 "${IMAGES_DIR}/ztnet/node.sh" "${t}/usr/local/bin/node"
  mkdir -p "${t}/app"
}

# The script the guest runs as the service user: import.sh DIR TAG.
# shellcheck disable=SC2016 # ${dir}/${tag} expand in import.sh, not here
write_import_script() {
  local out=$1 name line
  {
    printf '#!/bin/sh\n# Written by tests/e2e/images/build.sh: imports the e2e images as localhost/<name>:TAG.\n'
    printf 'set -eu\ndir=${1:?usage: import.sh DIR TAG}\ntag=${2:?usage: import.sh DIR TAG}\n'
    for name in "${NAMES[@]}"; do
      printf 'podman import --quiet'
      while read -r line; do
        printf ' \\\n  --change %q' "${line}"
      done < <(changes "${name}")
      printf ' \\\n  "${dir}/%s.tar" "localhost/%s:${tag}"\n' "${name}" "${name}"
    done
  } >"${out}/import.sh"
  chmod 0755 "${out}/import.sh"
}

main() {
  local base="" key out tmp name start=${SECONDS}
  while (($# > 0)); do
    case $1 in
      --base) base=${2:?--base needs a directory}; shift 2 ;;
      --key) images_key; return 0 ;;
      *) die "usage: build.sh --base ROOTFS | --key" ;;
    esac
  done
  [[ -n ${base} && -d ${base}/usr ]] || die "--base ROOTFS: a Debian ${SUITE} root filesystem is needed"
  ((EUID == 0)) || die "must run as root"
  mkdir -p "${CACHE_DIR}/containers"
  local lock_fd
  exec {lock_fd}>"${CACHE_DIR}/containers/.lock"
  flock "${lock_fd}"
  key=$(images_key)
  out=${CACHE_DIR}/containers/images-${key}
  if [[ -f ${out}/images.ok ]]; then
    printf '%s\n' "${out}"
    return 0
  fi
  BR=$(build_root "${base}")
  tmp=${out}.tmp
  rm -rf "${tmp}"
  mkdir -p "${tmp}"
  for name in "${NAMES[@]}"; do
    rm -rf "${tmp}/tree"
    new_tree "${tmp}/tree"
    "tree_${name}" "${tmp}/tree"
    tar --numeric-owner --sort=name -C "${tmp}/tree" -cf "${tmp}/${name}.tar" .
    log "${name}: $(du -sh "${tmp}/${name}.tar" | cut -f1)"
  done
  rm -rf "${tmp}/tree"
  write_import_script "${tmp}"
  chmod 0755 "${tmp}"
  chmod 0644 "${tmp}"/*.tar
  printf 'key=%s\nbuilt=%s\nseconds=%s\n' "${key}" "$(date -u +%FT%TZ)" "$((SECONDS - start))" >"${tmp}/images.ok"
  rm -rf "${out}"
  mv "${tmp}" "${out}"
  find "${CACHE_DIR}/containers" -mindepth 1 -maxdepth 1 -name 'images-*' ! -name "images-${key}" -exec rm -rf {} +
  log "images ${key} built in $((SECONDS - start)) s"
  printf '%s\n' "${out}"
}

main "$@"; exit
