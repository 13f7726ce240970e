// SPDX-License-Identifier: Apache-2.0
#include "checks/preflight.hpp"

#include "util/strings.hpp"

#include <algorithm>
#include <functional>
#include <utility>

namespace zt::checks {

namespace {

constexpr std::string_view k_max_user_namespaces = "/proc/sys/user/max_user_namespaces";
constexpr std::string_view k_unprivileged_userns_clone = "/proc/sys/kernel/unprivileged_userns_clone";
constexpr std::string_view k_apparmor_restrict = "/proc/sys/kernel/apparmor_restrict_unprivileged_userns";
constexpr std::string_view k_apparmor_dir = "/etc/apparmor.d";
constexpr std::string_view k_cgroup_root = "/sys/fs/cgroup";
constexpr std::string_view k_tun = "/dev/net/tun";
constexpr std::uint64_t k_mib = 1024 * 1024;

class PreflightCheck final : public BasicCheck {
public:
  using Body = std::function<CheckResult(const host::HostView&)>;
  /// When a failing result stops `provision` (see Check::blocks_provision); empty: never.
  using Blocks = std::function<bool(const host::HostView&, const CheckResult&)>;
  PreflightCheck(std::string id, std::string description, Body body, Blocks blocks = {})
      : BasicCheck(std::move(id), "preflight", std::move(description)), m_body(std::move(body)),
        m_blocks(std::move(blocks)) {}

  [[nodiscard]] CheckResult run(const host::HostView& host) const override { return m_body(host); }
  [[nodiscard]] bool blocks_provision(const host::HostView& host, const CheckResult& result) const override {
    return m_blocks && m_blocks(host, result);
  }
  [[nodiscard]] bool may_block_provision() const override { return static_cast<bool>(m_blocks); }

private:
  Body m_body;
  Blocks m_blocks;
};

/// A failing result blocks provisioning.
bool blocks_on_fail(const host::HostView& /*host*/, const CheckResult& result) {
  return result.outcome == Outcome::fail;
}

std::string not_live(const host::HostView& host) {
  return "not live: --root " + host.fs().root().string();
}

/// File content, nullopt when missing.
Result<std::optional<std::string>> read_optional(const host::Fs& fs, std::string_view path) {
  auto content = fs.read_file(std::string(path));
  if (!content) {
    if (content.error().code == Errc::not_found) {
      return std::optional<std::string>{};
    }
    return std::unexpected(content.error());
  }
  return std::optional<std::string>{std::move(*content)};
}

std::vector<std::string_view> words(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < text.size()) {
    auto b = text.find_first_not_of(" \t\r\n", i);
    if (b == std::string_view::npos) {
      break;
    }
    auto e = text.find_first_of(" \t\r\n", b);
    if (e == std::string_view::npos) {
      e = text.size();
    }
    out.push_back(text.substr(b, e - b));
    i = e;
  }
  return out;
}

std::uint32_t le32(std::string_view bytes, std::size_t offset) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    v |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[offset + i])) << (8 * i);
  }
  return v;
}

std::string cap_name(unsigned cap) {
  if (cap == k_cap_setuid) {
    return "cap_setuid";
  }
  if (cap == k_cap_setgid) {
    return "cap_setgid";
  }
  return "capability " + std::to_string(cap);
}

std::string idmap_install_fix(const profile::ProfileSpec& profile) {
  if (profile.package_manager == "dnf") {
    return "dnf install shadow-utils";
  }
  return "apt-get install uidmap";
}

std::unique_ptr<Check>
make_idmap_check(std::string id, std::string path, unsigned cap, std::string install_fix) {
  std::string description = path + " is setuid root or has " + cap_name(cap) + " as a file capability";
  return std::make_unique<PreflightCheck>(
      std::move(id), std::move(description),
      [path, cap, install_fix](const host::HostView& host) -> CheckResult {
        auto st = host.fs().stat(path);
        if (!st) {
          return error(path, st.error().message);
        }
        std::optional<std::string> caps;
        if (st->type == host::FileType::regular) {
          auto x = host.fs().read_xattr(path, "security.capability");
          if (!x) {
            return error(path, x.error().message);
          }
          caps = std::move(*x);
        }
        return evaluate_idmap_helper(path, *st, caps, cap, install_fix);
      },
      // A missing helper is what the packages step installs (uidmap); one that is there but
      // neither setuid nor capable stays broken, so provisioning would be pointless.
      [path](const host::HostView& host, const CheckResult& result) {
        if (result.outcome != Outcome::fail) {
          return false;
        }
        auto st = host.fs().stat(path);
        return st && st->exists();
      });
}

} // namespace

CheckResult evaluate_userns(const std::optional<std::string>& max_user_namespaces,
                            const std::optional<std::string>& unprivileged_userns_clone) {
  const std::string expected =
      "user.max_user_namespaces > 0 and kernel.unprivileged_userns_clone = 1 (if present)";
  if (!max_user_namespaces) {
    return fail(expected, std::string(k_max_user_namespaces) + " missing (kernel without user namespaces)",
                "use a kernel built with CONFIG_USER_NS=y");
  }
  auto max = util::parse_uint(util::trim(*max_user_namespaces));
  if (!max) {
    return error(expected, "cannot parse " + std::string(k_max_user_namespaces) + ": '" +
                               std::string(util::trim(*max_user_namespaces)) + "'");
  }
  std::string actual = "user.max_user_namespaces = " + std::to_string(*max);
  if (*max == 0) {
    return fail(expected, actual,
                "sysctl -w user.max_user_namespaces=15000 and persist it in /etc/sysctl.d/");
  }
  if (unprivileged_userns_clone) {
    auto clone = util::parse_uint(util::trim(*unprivileged_userns_clone));
    if (!clone) {
      return error(expected, "cannot parse " + std::string(k_unprivileged_userns_clone) + ": '" +
                                 std::string(util::trim(*unprivileged_userns_clone)) + "'");
    }
    actual += ", kernel.unprivileged_userns_clone = " + std::to_string(*clone);
    if (*clone != 1) {
      return fail(expected, actual,
                  "sysctl -w kernel.unprivileged_userns_clone=1 and persist it in /etc/sysctl.d/");
    }
  }
  return pass(expected, actual);
}

bool apparmor_profile_grants_userns(std::string_view content) {
  bool names_podman = false;
  bool grants = false;
  for (auto raw : util::lines(content)) {
    auto line = util::trim(raw);
    if (!line.starts_with("#include")) {
      line = util::trim(line.substr(0, line.find('#')));
    }
    if (line.empty()) {
      continue;
    }
    auto brace = line.find('{');
    if (brace != std::string_view::npos && line.substr(0, brace).find("podman") != std::string_view::npos) {
      names_podman = true;
    }
    if (!line.ends_with(',')) {
      continue;
    }
    auto tokens = words(line.substr(0, line.size() - 1));
    std::size_t i = 0;
    while (i < tokens.size() && (tokens[i] == "allow" || tokens[i] == "audit")) {
      ++i;
    }
    if (i < tokens.size() && tokens[i] == "userns" &&
        (tokens.size() == i + 1 || (tokens.size() == i + 2 && tokens[i + 1] == "create"))) {
      grants = true;
    }
  }
  return names_podman && grants;
}

CheckResult evaluate_apparmor_userns(const std::optional<std::string>& restriction,
                                     const std::vector<std::string>& granting_profiles) {
  const std::string expected = "kernel.apparmor_restrict_unprivileged_userns = 0, or an AppArmor profile for "
                               "podman with a 'userns,' rule";
  if (!restriction) {
    return pass(expected, "kernel.apparmor_restrict_unprivileged_userns absent");
  }
  auto value = util::parse_uint(util::trim(*restriction));
  if (!value) {
    return error(expected, "cannot parse " + std::string(k_apparmor_restrict) + ": '" +
                               std::string(util::trim(*restriction)) + "'");
  }
  std::string actual = "kernel.apparmor_restrict_unprivileged_userns = " + std::to_string(*value);
  if (*value == 0) {
    return pass(expected, actual);
  }
  if (!granting_profiles.empty()) {
    return pass(expected, actual + "; userns granted by " + util::join(granting_profiles, ", "));
  }
  return fail(expected, actual + "; no AppArmor profile for podman grants userns",
              "add a profile for /usr/bin/podman with a 'userns,' rule in /etc/apparmor.d (Ubuntu's apparmor "
              "package ships /etc/apparmor.d/podman) and reload AppArmor, or set "
              "kernel.apparmor_restrict_unprivileged_userns=0");
}

std::optional<std::uint64_t> parse_file_caps_permitted(std::string_view xattr) {
  constexpr std::uint32_t k_revision_mask = 0xFF000000;
  if (xattr.size() < 4) {
    return std::nullopt;
  }
  const std::uint32_t revision = le32(xattr, 0) & k_revision_mask;
  switch (revision) {
  case 0x01000000:
    if (xattr.size() != 12) {
      return std::nullopt;
    }
    return le32(xattr, 4);
  case 0x02000000:
  case 0x03000000:
    if (xattr.size() != (revision == 0x02000000 ? 20U : 24U)) {
      return std::nullopt;
    }
    return static_cast<std::uint64_t>(le32(xattr, 4)) | (static_cast<std::uint64_t>(le32(xattr, 12)) << 32);
  default:
    return std::nullopt;
  }
}

CheckResult evaluate_idmap_helper(std::string_view path,
                                  const host::FileStat& stat,
                                  const std::optional<std::string>& caps,
                                  unsigned needed_cap,
                                  std::string_view install_fix) {
  const std::string expected = std::string(path) + ": setuid root or file capability " + cap_name(needed_cap);
  if (!stat.exists()) {
    return fail(expected, "missing", std::string(install_fix));
  }
  if (stat.type != host::FileType::regular) {
    return fail(expected, host::describe(stat.type), std::string(install_fix));
  }
  if ((stat.mode & 04000) != 0 && stat.uid == 0) {
    return pass(expected, "setuid root (mode " + util::format_mode(stat.mode) + ")");
  }
  const std::string reinstall = "reinstall it (" + std::string(install_fix) + ")";
  if (caps) {
    auto permitted = parse_file_caps_permitted(*caps);
    if (!permitted) {
      return fail(expected, "malformed security.capability xattr", reinstall);
    }
    if ((*permitted >> needed_cap) & 1U) {
      return pass(expected, "file capability " + cap_name(needed_cap));
    }
    return fail(expected, "file capabilities without " + cap_name(needed_cap), reinstall);
  }
  return fail(expected,
              "mode " + util::format_mode(stat.mode) + ", owner uid " + std::to_string(stat.uid) +
                  ", no file capabilities",
              reinstall);
}

CheckResult evaluate_cgroup_v2(bool unified, bool hybrid) {
  const std::string expected = "cgroup v2 (unified hierarchy) at /sys/fs/cgroup";
  const std::string fix = "boot with systemd.unified_cgroup_hierarchy=1 (add it to GRUB_CMDLINE_LINUX in "
                          "/etc/default/grub, run update-grub, reboot)";
  if (unified) {
    return pass(expected, "cgroup v2");
  }
  if (hybrid) {
    return fail(expected, "hybrid hierarchy (cgroup v1, cgroup2 only at /sys/fs/cgroup/unified)", fix);
  }
  return fail(expected, "cgroup v1", fix);
}

CheckResult evaluate_cgroup_delegation(std::string_view controllers, std::string_view path) {
  const std::string expected = "cpu, memory and pids delegated (" + std::string(path) + ")";
  auto have = words(controllers);
  std::vector<std::string> missing;
  for (std::string_view wanted : {"cpu", "memory", "pids"}) {
    if (std::find(have.begin(), have.end(), wanted) == have.end()) {
      missing.emplace_back(wanted);
    }
  }
  std::string actual = "controllers: " + std::string(util::trim(controllers));
  if (missing.empty()) {
    return pass(expected, actual);
  }
  return fail(
      expected, actual + " (missing " + util::join(missing, ", ") + ")",
      "create /etc/systemd/system/user@.service.d/delegate.conf with [Service] Delegate=cpu cpuset io "
      "memory pids, run systemctl daemon-reload, then restart the user's manager");
}

CheckResult evaluate_tun_device(const host::FileStat& stat) {
  const std::string expected = std::string(k_tun) + ": character device 10:200, mode 0666";
  const std::string fix = "modprobe tun and add 'tun' to /etc/modules-load.d/tun.conf";
  if (stat.type != host::FileType::char_device) {
    return fail(expected, host::describe(stat.type), fix);
  }
  std::string actual =
      "character device " + std::to_string(stat.rdev_major) + ":" + std::to_string(stat.rdev_minor);
  if (stat.rdev_major != 10 || stat.rdev_minor != 200) {
    return fail(expected, actual, "remove " + std::string(k_tun) + ", then " + fix);
  }
  // The rootless zerotier container opens it as the service user (--device passes the node, not a
  // permission): without rw for others it fails with EACCES. udev's default rule sets 0666.
  const std::uint32_t mode = stat.mode & 07777;
  actual += ", mode " + util::format_mode(mode);
  if ((mode & 0666) != 0666) {
    return fail(expected, actual,
                "chmod 0666 " + std::string(k_tun) +
                    " and keep it so with a udev rule: KERNEL==\"tun\", MODE=\"0666\" in "
                    "/etc/udev/rules.d/60-tun.rules");
  }
  return pass(expected, actual);
}

CheckResult
evaluate_free_space(std::uint64_t available_bytes, std::uint64_t min_free_mib, std::string_view path) {
  const std::string expected = ">= " + std::to_string(min_free_mib) + " MiB free for " + std::string(path);
  std::string actual = std::to_string(available_bytes / k_mib) + " MiB available";
  if (available_bytes / k_mib >= min_free_mib) {
    return pass(expected, actual);
  }
  return fail(expected, actual,
              "free space on the filesystem holding " + std::string(path) +
                  " or lower preflight.min_free_mib in the site config");
}

CheckResult evaluate_root_privileges(const PreflightContext& context) {
  const std::string expected = "euid 0 (provision only)";
  if (!context.provisioning) {
    return skip(expected, "verify does not need root");
  }
  if (context.euid_root) {
    return pass(expected, "euid 0");
  }
  return fail(expected, "not root", "ztagent provision must run as root: sudo ztagent provision");
}

std::vector<std::unique_ptr<Check>> make_preflight_checks(const profile::Config& config,
                                                          const PreflightContext& context) {
  std::vector<std::unique_ptr<Check>> out;

  out.push_back(std::make_unique<PreflightCheck>(
      "preflight.userns", "kernel user namespaces are enabled for unprivileged users",
      [](const host::HostView& host) -> CheckResult {
        const std::string expected = "user namespaces enabled";
        if (!host.live()) {
          return skip(expected, not_live(host));
        }
        auto max = read_optional(host.fs(), k_max_user_namespaces);
        if (!max) {
          return error(expected, max.error().message);
        }
        auto clone = read_optional(host.fs(), k_unprivileged_userns_clone);
        if (!clone) {
          return error(expected, clone.error().message);
        }
        return evaluate_userns(*max, *clone);
      },
      blocks_on_fail));

  const bool apparmor = config.profile.apparmor_userns;
  out.push_back(std::make_unique<PreflightCheck>(
      "preflight.apparmor-userns",
      "AppArmor's unprivileged-userns restriction (Ubuntu >= 23.10) is off or podman's profile grants userns",
      [apparmor](const host::HostView& host) -> CheckResult {
        const std::string expected = "unprivileged userns allowed for podman under AppArmor";
        if (!apparmor) {
          return skip(expected, "not an AppArmor-userns profile");
        }
        std::vector<std::string> granting;
        auto names = host.fs().list_dir(std::string(k_apparmor_dir));
        if (!names && names.error().code != Errc::not_found) {
          return error(expected, names.error().message);
        }
        if (names) {
          for (const auto& name : *names) {
            if (name.find("podman") == std::string::npos) {
              continue;
            }
            std::string path = std::string(k_apparmor_dir) + "/" + name;
            auto st = host.fs().stat(path);
            if (!st) {
              return error(expected, st.error().message);
            }
            if (st->type != host::FileType::regular) {
              continue;
            }
            auto text = host.fs().read_file(path);
            if (!text) {
              return error(expected, text.error().message);
            }
            if (apparmor_profile_grants_userns(*text)) {
              granting.push_back(path);
            }
          }
        }
        if (!host.live()) {
          if (!granting.empty()) {
            return pass(expected, "userns granted by " + util::join(granting, ", ") +
                                      " (kernel setting not read: " + not_live(host) + ")");
          }
          return skip(expected, not_live(host));
        }
        auto restriction = read_optional(host.fs(), k_apparmor_restrict);
        if (!restriction) {
          return error(expected, restriction.error().message);
        }
        return evaluate_apparmor_userns(*restriction, granting);
      }));

  const std::string idmap_fix = idmap_install_fix(config.profile);
  out.push_back(make_idmap_check("preflight.newuidmap", "/usr/bin/newuidmap", k_cap_setuid, idmap_fix));
  out.push_back(make_idmap_check("preflight.newgidmap", "/usr/bin/newgidmap", k_cap_setgid, idmap_fix));

  out.push_back(std::make_unique<PreflightCheck>(
      "preflight.cgroup-v2", "the unified cgroup v2 hierarchy is mounted at /sys/fs/cgroup",
      [](const host::HostView& host) -> CheckResult {
        const std::string expected = "cgroup v2 (unified hierarchy) at /sys/fs/cgroup";
        if (!host.live()) {
          return skip(expected, not_live(host));
        }
        auto unified = host.fs().stat(std::string(k_cgroup_root) + "/cgroup.controllers");
        if (!unified) {
          return error(expected, unified.error().message);
        }
        auto hybrid = host.fs().stat(std::string(k_cgroup_root) + "/unified/cgroup.controllers");
        if (!hybrid) {
          return error(expected, hybrid.error().message);
        }
        return evaluate_cgroup_v2(unified->exists(), hybrid->exists());
      }));

  const std::string user = config.site.user;
  out.push_back(std::make_unique<PreflightCheck>(
      "preflight.cgroup-delegation",
      "cpu, memory and pids are delegated to the service user's systemd manager",
      [user](const host::HostView& host) -> CheckResult {
        const std::string expected = "cpu, memory and pids delegated to user@<uid>.service of " + user;
        if (!host.live()) {
          return skip(expected, not_live(host));
        }
        auto account = host.accounts().user(user);
        if (!account) {
          return error(expected, account.error().message);
        }
        if (!*account) {
          return skip(expected, "user " + user + " does not exist yet");
        }
        const std::string uid = std::to_string((*account)->uid);
        const std::string path = std::string(k_cgroup_root) + "/user.slice/user-" + uid + ".slice/user@" +
                                 uid + ".service/cgroup.controllers";
        auto controllers = read_optional(host.fs(), path);
        if (!controllers) {
          return error(expected, controllers.error().message);
        }
        if (!*controllers) {
          return skip(expected, "user manager of " + user + " not running (" + path + " missing)");
        }
        return evaluate_cgroup_delegation(**controllers, path);
      }));

  out.push_back(std::make_unique<PreflightCheck>(
      "preflight.tun-device", "/dev/net/tun is a character device 10:200 with mode 0666 (zerotier)",
      [](const host::HostView& host) -> CheckResult {
        if (!host.live()) {
          return skip(std::string(k_tun) + ": character device 10:200, mode 0666", not_live(host));
        }
        auto st = host.fs().stat(std::string(k_tun));
        if (!st) {
          return error(std::string(k_tun) + ": character device 10:200, mode 0666", st.error().message);
        }
        return evaluate_tun_device(*st);
      }));

  const std::string data_root = config.site.data_root;
  const std::uint64_t min_free_mib = config.site.min_free_mib;
  out.push_back(std::make_unique<PreflightCheck>(
      "preflight.free-space", "enough free space on the filesystem holding the data root",
      [data_root, min_free_mib](const host::HostView& host) -> CheckResult {
        auto available = host.fs().available_bytes(data_root);
        if (!available) {
          return error(">= " + std::to_string(min_free_mib) + " MiB free for " + data_root,
                       available.error().message);
        }
        return evaluate_free_space(*available, min_free_mib, data_root);
      },
      blocks_on_fail));

  out.push_back(std::make_unique<PreflightCheck>("preflight.root-privileges",
                                                 "ztagent provision runs as root",
                                                 [context](const host::HostView& /*host*/) -> CheckResult {
                                                   return evaluate_root_privileges(context);
                                                 }));

  return out;
}

} // namespace zt::checks
