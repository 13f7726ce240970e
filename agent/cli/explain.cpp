// SPDX-License-Identifier: Apache-2.0
#include "cli/explain.hpp"

#include <algorithm>
#include <numeric>

namespace zt::cli {

namespace {

const std::vector<CheckDoc> k_catalog = {
    // ---- preflight -------------------------------------------------------------------------------
    {"preflight.userns",
     "Rootless Podman runs every container in a user namespace; with user.max_user_namespaces = 0 no "
     "rootless container can start.",
     "podman rootless tutorial (\"enable user namespaces\"); user_namespaces(7)",
     "echo user.max_user_namespaces=28633 > /etc/sysctl.d/60-userns.conf && sysctl --system"},
    {"preflight.apparmor-userns",
     "Ubuntu >= 23.10 sets kernel.apparmor_restrict_unprivileged_userns=1: unconfined programs may not "
     "create user namespaces, so rootless podman fails unless its AppArmor profile allows userns.",
     "podman#24642 (https://github.com/containers/podman/issues/24642); Ubuntu 23.10 release notes",
     "apt-get install apparmor-profiles (podman's profile with 'userns,'), or "
     "sysctl -w kernel.apparmor_restrict_unprivileged_userns=0 persisted in /etc/sysctl.d/"},
    {"preflight.newuidmap",
     "newuidmap writes the user's subuid range into the namespace's uid_map; without setuid root or "
     "cap_setuid it fails and podman falls back to a single mapped uid.",
     "podman troubleshooting #9 (https://github.com/containers/podman/blob/main/troubleshooting.md)",
     "apt-get install --reinstall uidmap (or chmod u+s /usr/bin/newuidmap)"},
    {"preflight.newgidmap",
     "newgidmap writes the user's subgid range into gid_map; without setuid root or cap_setgid podman "
     "cannot map groups and images with files owned by other groups fail to unpack.",
     "podman troubleshooting #9 (https://github.com/containers/podman/blob/main/troubleshooting.md)",
     "apt-get install --reinstall uidmap (or chmod u+s /usr/bin/newgidmap)"},
    {"preflight.cgroup-v2",
     "Resource limits and health checks of rootless containers need the unified cgroup v2 hierarchy; on "
     "cgroup v1 rootless podman cannot set limits at all.",
     "podman troubleshooting #26; systemd CGROUP_DELEGATION (https://systemd.io/CGROUP_DELEGATION/)",
     "boot with systemd.unified_cgroup_hierarchy=1 (the default on Debian 12 and Ubuntu 24.04)"},
    {"preflight.cgroup-delegation",
     "user@UID.service must have the cpu, memory and pids controllers delegated, or rootless containers "
     "silently run without those limits.",
     "podman troubleshooting #26; https://systemd.io/CGROUP_DELEGATION/",
     "mkdir -p /etc/systemd/system/user@.service.d && printf '[Service]\\nDelegate=cpu cpuset io memory "
     "pids\\n' > /etc/systemd/system/user@.service.d/delegate.conf && systemctl daemon-reload"},
    {"preflight.tun-device",
     "The zerotier container creates its network interface through /dev/net/tun (char 10:200), passed "
     "with --device; without it ZeroTier cannot join networks.",
     "podman#8999 (https://github.com/containers/podman/issues/8999); ZeroTier docs",
     "modprobe tun && echo tun > /etc/modules-load.d/tun.conf"},
    {"preflight.free-space",
     "Images and the postgres database live under the data root and the user's storage; a full "
     "filesystem corrupts the database and fails image pulls half way.",
     "ztagent HOST-SPEC (preflight); podman-system-df(1)",
     "free space on the filesystem holding the data root, or move the data root (--set data.root=...)"},
    {"preflight.root-privileges",
     "provision creates users, edits /etc/subuid and sets ACLs: it must run as root; verify only reads.",
     "ztagent README (Usage)", "sudo ztagent provision"},

    // ---- packages --------------------------------------------------------------------------------
    {"packages.podman-version",
     "The unit style depends on the podman version: Quadlet .container units need >= 4.4, .pod units "
     ">= 5.0, pasta networking >= 4.4; an older podman than the profile expects gets units it cannot run.",
     "podman RELEASE_NOTES.md; podman-systemd.unit(5) "
     "(https://docs.podman.io/en/latest/markdown/podman-systemd.unit.5.html)",
     "apt-get install -t <newer suite> podman, or use the profile of this distribution (--profile auto)"},
    {"packages.*",
     "Each package of the profile provides something the stack needs: podman itself, passt (pasta "
     "networking), uidmap (newuidmap/newgidmap), acl (setfacl for support), dbus-user-session (the "
     "user bus `systemctl --user` talks to), slirp4netns where pasta is too old.",
     "podman rootless tutorial (prerequisites), "
     "https://github.com/containers/podman/blob/main/docs/tutorials/rootless_tutorial.md",
     "sudo ztagent provision --only packages (apt-get install -y <package>)"},

    // ---- user ------------------------------------------------------------------------------------
    {"user.account",
     "The stack runs as one dedicated unprivileged account so a compromised container reaches neither "
     "root nor another user's files.",
     "podman rootless tutorial; ztagent HOST-SPEC (user)",
     "sudo ztagent provision --only user (useradd --system --create-home --user-group ztnet)"},
    {"user.group", "A private primary group keeps the data tree (mode 0750) closed to every other account.",
     "ztagent HOST-SPEC (user); useradd(8) --user-group",
     "groupadd --system ztnet && usermod -g ztnet ztnet"},
    {"user.home",
     "Podman keeps images, containers and the user's units under the home directory; another writer "
     "there could replace the user's units or storage.",
     "podman rootless tutorial (storage in ~/.local/share/containers)",
     "chown ztnet:ztnet ~ztnet && chmod go-w ~ztnet"},

    // ---- subids ----------------------------------------------------------------------------------
    {"subids.subuid-range",
     "Rootless podman maps container uids onto the user's /etc/subuid range; without a range of >= 65536 "
     "ids, images with files owned by higher uids fail to unpack. useradd --system adds none.",
     "podman#4436 (https://github.com/containers/podman/issues/4436); rootless tutorial; ansible#80988",
     "usermod --add-subuids 165536-231071 ztnet && runuser -u ztnet -- podman system migrate"},
    {"subids.subgid-range",
     "Container gids map onto the user's /etc/subgid range; the same >= 65536 ids are needed as for uids.",
     "podman#4436 (https://github.com/containers/podman/issues/4436); rootless tutorial",
     "usermod --add-subgids 165536-231071 ztnet && runuser -u ztnet -- podman system migrate"},
    {"subids.no-overlap",
     "Two users sharing subordinate ids can read and write each other's container files: the namespaces "
     "are no longer isolated.",
     "subuid(5); podman rootless tutorial",
     "edit the other entry with usermod --del-subuids/--del-subgids and give it a free range"},
    {"subids.no-real-uid",
     "A range containing a real account's uid lets container root own that account's files on the host.",
     "subuid(5); podman#4436",
     "usermod --del-subuids S-E --del-subgids S-E ztnet, then sudo ztagent provision --only subids"},
    {"subids.uid-map",
     "After a range changes, podman keeps the old single-uid mapping until `podman system migrate`; "
     "`podman unshare cat /proc/self/uid_map` must show two lines.",
     "podman troubleshooting #19 (https://github.com/containers/podman/blob/main/troubleshooting.md)",
     "runuser -u ztnet -- podman system migrate"},

    // ---- data ------------------------------------------------------------------------------------
    {"data.*.owner",
     "The data directories must belong to the service user, or the containers (running as the user's "
     "mapped ids) cannot write their data.",
     "podman#6433 (https://github.com/containers/podman/issues/6433); ztagent HOST-SPEC (data)",
     "chown ztnet:ztnet <dir> (sudo ztagent provision --only data)"},
    {"data.*.mode",
     "Mode 0750 keeps postgres data, ZeroTier identities and TLS keys away from other accounts; with an "
     "ACL the group bits are the mask, so a wider mode also widens every named ACL entry.",
     "acl(5) (mask); ztagent HOST-SPEC (data)", "chmod 0750 <dir> (sudo ztagent provision --only data)"},
    {"data.*.acl",
     "The access entry user:<user>:rwx lets the service user work in directories that container ids own.",
     "acl(5); podman#12716 (https://github.com/containers/podman/issues/12716)",
     "setfacl -m u:ztnet:rwx <dir> (sudo ztagent provision --only data)"},
    {"data.*.default-acl",
     "Default ACLs give files created later by the container (postgres runs as uid 70, mapped to "
     "subuid_start + 69 on the host) the same access, so upgrades and restarts do not hit EACCES.",
     "podman#6433, podman#12716; acl(5) (default ACLs)",
     "setfacl -d -m u:ztnet:rwx,u:<subuid_start+69>:rwx <dir> (sudo ztagent provision --only data)"},
    {"data.parents-traversable",
     "Every parent of the data root needs x for the service user, or the containers cannot reach their "
     "bind mounts (podman reports a permission error on start).",
     "podman troubleshooting (permission denied on volumes); path_resolution(7)",
     "chmod o+x <parent> for each parent the user cannot traverse"},
    {"data.no-symlinks",
     "The data tree is writable by an unprivileged user while ztagent runs as root: a planted symlink "
     "would redirect chown/setfacl to any file on the host. ztagent never follows one.",
     "CWE-59 (link following); ztagent HOST-SPEC (data)",
     "remove the symlink (it is not ztagent's) and run sudo ztagent provision --only data"},

    // ---- linger ----------------------------------------------------------------------------------
    {"linger.enabled",
     "Without lingering, the user's systemd manager (and every container) stops when the last session "
     "of the user ends, and nothing starts at boot.",
     "podman troubleshooting #17; loginctl(1) enable-linger; podman#12001",
     "loginctl enable-linger ztnet (offline: touch /var/lib/systemd/linger/ztnet)"},
    {"linger.user-manager",
     "user@UID.service runs the user's units (the pod and containers); it must be active after boot.",
     "podman troubleshooting #17; systemd user@.service(5)",
     "loginctl enable-linger ztnet && systemctl start user@$(id -u ztnet).service"},
    {"linger.runtime-dir",
     "/run/user/UID holds the user's runtime state (podman's runroot, the bus socket); it must exist and "
     "belong to the user or `systemctl --user` and podman fail.",
     "podman troubleshooting #21; pam_systemd(8) (XDG_RUNTIME_DIR)",
     "systemctl restart user@$(id -u ztnet).service"},
    {"linger.user-bus",
     "`systemctl --user` and podman's health-check timers talk to the user bus at /run/user/UID/bus; "
     "without dbus-user-session it is missing.",
     "podman#12001 (https://github.com/containers/podman/issues/12001); podman#19326 (health timers)",
     "apt-get install dbus-user-session && systemctl restart user@$(id -u ztnet).service"},

    // ---- ports -----------------------------------------------------------------------------------
    {"ports.sysctl-persisted",
     "Rootless processes may bind ports below net.ipv4.ip_unprivileged_port_start only if it is <= the "
     "port; caddy needs 80 and 443. The setting must survive reboots.",
     "podman troubleshooting #48 (https://github.com/containers/podman/blob/main/troubleshooting.md); "
     "kernel ip-sysctl (https://docs.kernel.org/networking/ip-sysctl.html); sysctl.d(5)",
     "echo 'net.ipv4.ip_unprivileged_port_start = 80' > /etc/sysctl.d/60-ztagent.conf "
     "(sudo ztagent provision --only ports)"},
    {"ports.sysctl-effective",
     "sysctl.d files are applied in lexical order and the last one wins: a later file setting a higher "
     "value silently undoes ztagent's at the next boot.",
     "sysctl.d(5) (order of files)",
     "remove or renumber the later file that sets net.ipv4.ip_unprivileged_port_start"},
    {"ports.sysctl-live",
     "The persisted value only applies at boot; the running kernel must allow the ports now.",
     "kernel ip-sysctl (https://docs.kernel.org/networking/ip-sysctl.html)",
     "sysctl -w net.ipv4.ip_unprivileged_port_start=80"},
    {"ports.forward-persisted",
     "With ports.strategy = forward the pod publishes unprivileged ports and the firewall redirects 80/443 "
     "(and locally generated traffic) to them; the rules must be persisted or they vanish at the next boot "
     "or firewall reload, and the host-wide sysctl relaxation is not needed.",
     "podman troubleshooting #48 (https://github.com/containers/podman/blob/main/troubleshooting.md); "
     "nft(8); "
     "firewall-cmd(1) --add-forward-port",
     "sudo ztagent provision --only ports (nftables: /etc/ztagent/nftables.conf + ztagent-forward.service "
     "enabled; "
     "firewalld: firewall-cmd --permanent --add-forward-port=port=80:proto=tcp:toport=8080)"},
    {"ports.forward-live",
     "The persisted redirect only applies after boot or a reload; the running firewall must redirect the "
     "public ports now, or clients reach nothing on 80/443.",
     "nft(8) (list table); firewall-cmd(1) (runtime vs permanent configuration)",
     "nftables: systemctl restart ztagent-forward.service; firewalld: firewall-cmd --reload"},
    // ---- secrets, units, start, runtime (first entries; the step owners may refine them) ------------
    {"secrets.present",
     "POSTGRES_PASSWORD and NEXTAUTH_SECRET are generated once from the kernel CSPRNG and reused; a missing "
     "secret means a container starts without its credentials (or with a new one that no longer matches the "
     "database).",
     "ztagent HOST-SPEC (secrets); podman-secret-create(1)",
     "sudo ztagent provision --only secrets (never edit the unit files to add a password)"},
    {"secrets.consistent",
     "postgres and ztnet must see the same POSTGRES_PASSWORD; two different values (as in hand-written "
     "units) make ztnet fail to log in to its database.",
     "ztagent HOST-SPEC (secrets, seed 001: two different passwords)",
     "sudo ztagent provision --only secrets, then restart the stack (systemctl --user restart "
     "ztnet-pod.service)"},
    {"secrets.permissions",
     "Secret env files are readable only by the service user (directory 0700, files 0600, no ACL entries); "
     "any wider permission leaks the database password to other accounts.",
     "ztagent HOST-SPEC (secrets); acl(5)",
     "chmod 0700 ~ztnet/.config/ztagent/secrets && chmod 0600 ~ztnet/.config/ztagent/secrets/*.env "
     "&& setfacl -b -R ~ztnet/.config/ztagent/secrets"},
    {"secrets.no-leftovers",
     "An atomic write creates .NAME.ztagent-XXXXXX next to NAME and renames it into place; a run killed in "
     "between leaves the temp file behind, and in the secrets directory it may be a full copy of the "
     "secrets that nothing else tracks or rotates.",
     "ztagent README (Writing files atomically); rename(2)",
     "sudo ztagent provision --only secrets (removes them; every write of NAME also removes its own "
     "leftovers)"},
    {"units.files",
     "The pod and container units are rendered from the profile for the detected podman; a hand edit is "
     "overwritten at the next provision and may not pass the Quadlet generator.",
     "podman-systemd.unit(5) (https://docs.podman.io/en/latest/markdown/podman-systemd.unit.5.html)",
     "sudo ztagent provision --only units (then start restarts exactly the changed units)"},
    {"units.owner-mode",
     "The user's systemd manager only reads units the user owns; a unit writable by others lets them run "
     "code as the service user.",
     "systemd.unit(5) (user unit search path); ztagent HOST-SPEC (units)",
     "chown ztnet:ztnet <unit> && chmod 0644 <unit> (sudo ztagent provision --only units)"},
    {"units.enabled",
     "Without the default.target.wants links (classic units) or [Install] in Quadlet files the stack does "
     "not start at boot, and without podman-auto-update.timer images are never updated.",
     "systemctl(1) enable; podman-auto-update(1)", "sudo ztagent provision --only units"},
    {"units.no-secrets",
     "Unit files are world-readable (0644) and end up in backups and journal lines; a password there is "
     "leaked. Secrets belong in podman secrets or 0600 env files.",
     "ztagent HOST-SPEC (secrets: never in unit files, seed 001)",
     "remove the value from the unit and run sudo ztagent provision --only secrets,units"},
    {"units.style",
     "Quadlet .pod units need podman >= 5.0, Quadlet .container units >= 4.4, older podman needs classic "
     "units; units of the wrong style are ignored by the generator or fail to start.",
     "podman RELEASE_NOTES.md; podman-systemd.unit(5)",
     "sudo ztagent provision --only units (it renders the style of the installed podman)"},
    {"start.units-active",
     "The pod and its containers must run under the user's systemd manager; an inactive unit means the "
     "service is down.",
     "podman troubleshooting #31; podman#13338 (systemctl --user needs the session environment)",
     "sudo ztagent provision --only start (or runuser -u ztnet -- systemctl --user start ztnet-pod.service "
     "with XDG_RUNTIME_DIR set)"},
    {"start.auto-update-timer",
     "podman-auto-update.timer pulls newer images for containers labelled AutoUpdate=registry and restarts "
     "them; when it is inactive, security fixes in the images never arrive.",
     "podman-auto-update(1)",
     "runuser -u ztnet -- systemctl --user enable --now podman-auto-update.timer (sudo ztagent provision "
     "--only start)"},
    {"runtime.containers",
     "Every container must be running and, where it has a health check, healthy; health checks need the "
     "user's systemd (transient timers), or containers stay \"starting\" forever.",
     "podman#19326 (https://github.com/containers/podman/issues/19326); podman-healthcheck-run(1)",
     "runuser -u ztnet -- podman ps -a and journalctl --user -u ztnet-<name>.service for the failing "
     "container"},
    {"runtime.http",
     "caddy must answer on the public HTTP port, and `GET /` over HTTPS on the public port (with the "
     "stack's domain) must be ztnet's redirect to /auth/login, what the admin's browser gets: a 502 "
     "means caddy cannot reach ztnet on 127.0.0.1:3000 (ztnet not listening on 0.0.0.0, or not up).",
     "ztnet image contract (tests/e2e/images/ztnet/CONTRACT.md: next.config.mjs redirects, the "
     "standalone server binding $HOSTNAME); podman troubleshooting #48 (binding ports < 1024 rootless)",
     "ztagent verify --only ports,start; runuser -u ztnet -- podman logs ztnet-caddy; "
     "runuser -u ztnet -- podman logs ztnet-ztnet (its command needs env HOSTNAME=0.0.0.0 in front)"},
    {"runtime.zerotier-udp",
     "ZeroTier peers reach the controller on UDP 9993; if the port is not bound on the host, members cannot "
     "join networks.",
     "ZeroTier docs (UDP 9993); ztagent HOST-SPEC (runtime checks)",
     "runuser -u ztnet -- podman logs ztnet-zerotier; check the pod's PublishPort=9993:9993/udp"},
    {"runtime.podman-info",
     "`podman info` as the user must report rootless mode and the network backend of the unit style "
     "(pasta or slirp4netns); anything else means the user's podman setup is broken (e.g. after a subuid "
     "change without `podman system migrate`).",
     "podman troubleshooting #19; podman-info(1)",
     "runuser -u ztnet -- podman system migrate; runuser -u ztnet -- podman info"},
    {"runtime.auto-update",
     "`podman auto-update --dry-run` must work and cover the stack, or the update timer silently does "
     "nothing (unqualified images, missing AutoUpdate label).",
     "podman-auto-update(1)",
     "use fully qualified images (--set stack.images.NAME=registry/...), then sudo ztagent provision --only "
     "units"},
};

} // namespace

bool id_matches(std::string_view pattern, std::string_view id) {
  const auto star = pattern.find('*');
  if (star == std::string_view::npos) {
    return pattern == id;
  }
  const std::string_view head = pattern.substr(0, star);
  const std::string_view tail = pattern.substr(star + 1);
  if (id.size() < head.size() + tail.size() + 1 || id.substr(0, head.size()) != head) {
    return false;
  }
  // '*' takes one or more characters without '.'; try each length (ids are short).
  for (std::size_t len = 1; head.size() + len <= id.size(); ++len) {
    const char c = id[head.size() + len - 1];
    if (c == '.') {
      return false;
    }
    if (id_matches(tail, id.substr(head.size() + len))) {
      return true;
    }
  }
  return false;
}

const std::vector<CheckDoc>& check_catalog() {
  return k_catalog;
}

const CheckDoc* find_check_doc(std::string_view check_id) {
  for (const CheckDoc& d : k_catalog) {
    if (d.id == check_id) {
      return &d;
    }
  }
  for (const CheckDoc& d : k_catalog) {
    if (d.id.find('*') != std::string_view::npos && id_matches(d.id, check_id)) {
      return &d;
    }
  }
  return nullptr;
}

std::string closest_match(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_distance = std::string::npos;
  for (const std::string& c : candidates) {
    // Levenshtein distance, one row.
    std::vector<std::size_t> row(c.size() + 1);
    std::iota(row.begin(), row.end(), 0);
    for (std::size_t i = 1; i <= word.size(); ++i) {
      std::size_t diagonal = row[0];
      row[0] = i;
      for (std::size_t j = 1; j <= c.size(); ++j) {
        const std::size_t up = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (word[i - 1] == c[j - 1] ? 0 : 1)});
        diagonal = up;
      }
    }
    if (row[c.size()] < best_distance) {
      best_distance = row[c.size()];
      best = c;
    }
  }
  if (best_distance <= std::max<std::size_t>(2, word.size() / 3)) {
    return best;
  }
  return {};
}

} // namespace zt::cli
