// SPDX-License-Identifier: Apache-2.0
#include "checks/user.hpp"

#include "checks/common.hpp"
#include "util/strings.hpp"

namespace zt::checks {

namespace {

constexpr std::string_view k_login_defs = "/etc/login.defs";
constexpr std::string_view k_fix_user = "ztagent provision --only user";

std::string kind_of(bool system) {
  return system ? "system" : "regular";
}

} // namespace

std::string account_id_fix(const std::string& name) {
  return "ztagent never changes the ids of an existing account: remove it (userdel " + name +
         ") and run ztagent provision --only user, or set service.user to a new name";
}

namespace {

class UserAccount final : public BasicCheck {
public:
  explicit UserAccount(UserSpec spec)
      : BasicCheck(
            "user.account", "user", "the service account exists with the configured kind, home and shell"),
        m_spec(std::move(spec)), m_expected(m_spec.name + ": " + kind_of(m_spec.system) + " account, home " +
                                            m_spec.home + ", shell " + m_spec.shell) {}

  [[nodiscard]] CheckResult run(const host::HostView& host) const override {
    auto account = find_user(host, m_spec.name, m_expected, k_fix_user);
    if (!account) {
      return account.error();
    }
    auto ids = read_login_defs_ids(host);
    if (!ids) {
      return error(m_expected, ids.error().message);
    }
    const auto& a = *account;
    std::string kind(account_kind(a.uid, ids->uid_min));
    std::string actual = a.name + ": " + kind + " account (uid " + std::to_string(a.uid) + "), home " +
                         a.home + ", shell " + a.shell;
    auto problems = read_account_id_problems(host, a, m_spec.system);
    if (!problems) {
      return error(m_expected, problems.error().message);
    }
    if (!problems->empty()) {
      return fail(m_expected, actual + "; " + util::join(*problems, "; "), account_id_fix(a.name));
    }
    if (kind != kind_of(m_spec.system)) {
      return fail(m_expected, actual,
                  "remove the account or set service.system_user = " +
                      std::string(m_spec.system ? "false" : "true") + " in the site config");
    }
    if (a.home != m_spec.home || a.shell != m_spec.shell) {
      return fail(m_expected, actual, std::string(k_fix_user));
    }
    return pass(m_expected, actual);
  }

private:
  UserSpec m_spec;
  std::string m_expected;
};

class UserGroup final : public BasicCheck {
public:
  explicit UserGroup(UserSpec spec)
      : BasicCheck("user.group", "user", "the service account's primary group is a group of its own name"),
        m_spec(std::move(spec)), m_expected("primary group " + m_spec.name + " (own group)") {}

  [[nodiscard]] CheckResult run(const host::HostView& host) const override {
    auto account = find_user(host, m_spec.name, m_expected, k_fix_user);
    if (!account) {
      return account.error();
    }
    auto group = host.accounts().group(m_spec.name);
    if (!group) {
      return error(m_expected, group.error().message);
    }
    const std::string gid = std::to_string(account->gid);
    if (!*group) {
      return fail(m_expected, "no group " + m_spec.name + " (primary gid " + gid + ")",
                  std::string(k_fix_user));
    }
    if ((*group)->gid != account->gid) {
      return fail(m_expected,
                  "primary gid " + gid + ", but group " + m_spec.name + " has gid " +
                      std::to_string((*group)->gid),
                  std::string(k_fix_user));
    }
    return pass(m_expected, "primary group " + m_spec.name + " (gid " + gid + ")");
  }

private:
  UserSpec m_spec;
  std::string m_expected;
};

class UserHome final : public BasicCheck {
public:
  explicit UserHome(UserSpec spec)
      : BasicCheck("user.home",
                   "user",
                   "the home directory exists, belongs to the service account and only it can write there"),
        m_spec(std::move(spec)),
        m_expected(m_spec.home + ": directory owned by " + m_spec.name + ", not group/other-writable") {}

  [[nodiscard]] CheckResult run(const host::HostView& host) const override {
    auto account = find_user(host, m_spec.name, m_expected, k_fix_user);
    if (!account) {
      return account.error();
    }
    auto st = host.fs().stat(m_spec.home);
    if (!st) {
      return error(m_expected, st.error().message);
    }
    if (!st->exists()) {
      return fail(m_expected, m_spec.home + " does not exist", std::string(k_fix_user));
    }
    if (st->type != host::FileType::directory) {
      return fail(m_expected, m_spec.home + " is not a directory",
                  "move " + m_spec.home + " away, then: " + std::string(k_fix_user));
    }
    std::string actual = m_spec.home + ": directory " + std::to_string(st->uid) + ":" +
                         std::to_string(st->gid) + " " + util::format_mode(st->mode);
    if (st->uid != account->uid) {
      return fail(m_expected, actual, std::string(k_fix_user));
    }
    if ((st->mode & 022U) != 0) {
      return fail(m_expected, actual, "chmod go-w " + m_spec.home);
    }
    return pass(m_expected, actual);
  }

private:
  UserSpec m_spec;
  std::string m_expected;
};

} // namespace

UserSpec user_spec(const profile::SiteConfig& site) {
  UserSpec spec;
  spec.name = site.user;
  spec.system = site.system_user;
  spec.home = site.home.empty() ? "/home/" + site.user : site.home;
  spec.shell = site.shell;
  return spec;
}

Result<LoginDefsIds> parse_login_defs_ids(std::string_view login_defs) {
  LoginDefsIds ids;
  std::size_t number = 0;
  for (auto raw : util::lines(login_defs)) {
    ++number;
    auto line = util::trim(raw);
    if (line.empty() || line.front() == '#') {
      continue;
    }
    auto ws = line.find_first_of(" \t");
    if (ws == std::string_view::npos) {
      continue;
    }
    const auto key = line.substr(0, ws);
    std::uint32_t* target = nullptr;
    if (key == "UID_MIN") {
      target = &ids.uid_min;
    } else if (key == "SYS_UID_MIN") {
      target = &ids.sys_uid_min;
    } else if (key == "GID_MIN") {
      target = &ids.gid_min;
    } else if (key == "SYS_GID_MIN") {
      target = &ids.sys_gid_min;
    } else {
      continue;
    }
    const auto text = util::trim(line.substr(ws));
    auto value = util::parse_uint(text);
    if (!value || *value == 0 || *value > 0xffffffffULL) {
      return make_error(Errc::parse, std::string(k_login_defs) + ":" + std::to_string(number) + ": " +
                                         std::string(key) + " '" + std::string(text) +
                                         "' is not a decimal id above 0; fix it (shadow falls back to "
                                         "its default and only warns)");
    }
    *target = static_cast<std::uint32_t>(*value);
  }
  return ids;
}

Result<LoginDefsIds> read_login_defs_ids(const host::HostView& host) {
  auto text = host.fs().read_file(std::string(k_login_defs));
  if (!text) {
    if (text.error().code == Errc::not_found) {
      return LoginDefsIds{};
    }
    return std::unexpected(text.error());
  }
  return parse_login_defs_ids(*text);
}

std::vector<std::string> account_id_problems(const host::Account& account,
                                             std::optional<std::uint32_t> own_gid,
                                             bool system,
                                             const LoginDefsIds& ids,
                                             const std::vector<SubIdEntry>& subuid,
                                             const std::vector<SubIdEntry>& subgid) {
  std::vector<std::string> out;
  const std::string uid = std::to_string(account.uid);
  if (account.uid == 0) {
    out.push_back("uid 0 is root's: the \"rootless\" stack would run as root");
  } else if (system && account.uid < ids.sys_uid_min) {
    out.push_back("uid " + uid + " is below SYS_UID_MIN " + std::to_string(ids.sys_uid_min) +
                  " (ids the distribution reserves for its static accounts)");
  }
  if (own_gid && *own_gid == 0) {
    out.push_back("its group " + account.name + " has gid 0, root's group: every file of the stack would belong to it");
  } else if (own_gid && system && *own_gid < ids.sys_gid_min) {
    out.push_back("its group " + account.name + " has gid " + std::to_string(*own_gid) + ", below SYS_GID_MIN " +
                  std::to_string(ids.sys_gid_min) + " (ids the distribution reserves for its static groups)");
  }
  auto in_foreign_range = [&](const std::vector<SubIdEntry>& entries, std::uint32_t id, std::string_view file,
                              std::string_view what) {
    for (const auto& e : entries) {
      // The range test first (cheap); the user's own range is judged by subids.no-real-uid.
      if (id >= e.start && id <= e.last() && !owned_by(e, account.name, account.uid)) {
        out.push_back(std::string(what) + " " + std::to_string(id) + " lies in " + e.to_text() + " of " +
                      std::string(file) + ": " + e.owner + "'s containers could act as " + account.name);
        return;
      }
    }
  };
  in_foreign_range(subuid, account.uid, "/etc/subuid", "uid");
  if (own_gid) {
    in_foreign_range(subgid, *own_gid, "/etc/subgid", "gid");
  }
  return out;
}

Result<std::vector<std::string>>
read_account_id_problems(const host::HostView& host, const host::Account& account, bool system) {
  ZT_TRY_ASSIGN(ids, read_login_defs_ids(host));
  ZT_TRY_ASSIGN(group, host.accounts().group(account.name));
  std::optional<std::uint32_t> own_gid;
  if (group) {
    own_gid = group->gid;
  }
  // The run's parse of /etc/subuid and /etc/subgid (shared with the subids and data checks).
  auto subuid = read_subid_file(host, SubIdKind::uid);
  if (!*subuid) {
    return std::unexpected(subuid->error());
  }
  auto subgid = read_subid_file(host, SubIdKind::gid);
  if (!*subgid) {
    return std::unexpected(subgid->error());
  }
  const std::vector<SubIdEntry> none;
  return account_id_problems(account, own_gid, system, ids, **subuid ? ***subuid : none,
                             **subgid ? ***subgid : none);
}

std::string_view account_kind(std::uint32_t uid, std::uint32_t uid_min) {
  return uid < uid_min ? "system" : "regular";
}

std::vector<std::unique_ptr<Check>> make_user_checks(const UserSpec& spec) {
  std::vector<std::unique_ptr<Check>> out;
  out.push_back(std::make_unique<UserAccount>(spec));
  out.push_back(std::make_unique<UserGroup>(spec));
  out.push_back(std::make_unique<UserHome>(spec));
  return out;
}

} // namespace zt::checks
