// SPDX-License-Identifier: Apache-2.0
#include "checks/user.hpp"

#include "checks/common.hpp"
#include "util/strings.hpp"

namespace zt::checks {

namespace {

constexpr std::uint32_t k_default_uid_min = 1000;
constexpr std::string_view k_fix_user = "ztagent provision --only user";

std::string kind_of(bool system) {
  return system ? "system" : "regular";
}

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
    auto uid_min = read_uid_min(host);
    if (!uid_min) {
      return error(m_expected, uid_min.error().message);
    }
    const auto& a = *account;
    std::string kind(account_kind(a.uid, *uid_min));
    std::string actual = a.name + ": " + kind + " account (uid " + std::to_string(a.uid) + "), home " +
                         a.home + ", shell " + a.shell;
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

std::uint32_t parse_uid_min(std::string_view login_defs) {
  for (auto raw : util::lines(login_defs)) {
    auto line = util::trim(raw);
    if (line.empty() || line.front() == '#') {
      continue;
    }
    auto ws = line.find_first_of(" \t");
    if (ws == std::string_view::npos || line.substr(0, ws) != "UID_MIN") {
      continue;
    }
    auto value = util::parse_uint(util::trim(line.substr(ws)));
    if (value && *value > 0 && *value <= 0xffffffffULL) {
      return static_cast<std::uint32_t>(*value);
    }
    return k_default_uid_min;
  }
  return k_default_uid_min;
}

Result<std::uint32_t> read_uid_min(const host::HostView& host) {
  auto text = host.fs().read_file("/etc/login.defs");
  if (!text) {
    if (text.error().code == Errc::not_found) {
      return k_default_uid_min;
    }
    return std::unexpected(text.error());
  }
  return parse_uid_min(*text);
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
