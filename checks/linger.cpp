// SPDX-License-Identifier: Apache-2.0
#include "checks/linger.hpp"

#include "checks/common.hpp"
#include "util/strings.hpp"

#include <optional>

namespace zt::checks {

namespace {

std::string runtime_dir(std::uint32_t uid) {
  return "/run/user/" + std::to_string(uid);
}

/// Shared shape of the four checks: the user must exist (step 2) before linger means anything.
class LingerCheck : public BasicCheck {
public:
  LingerCheck(std::string user, std::string id, std::string description, std::string expected)
      : BasicCheck(std::move(id), "linger", std::move(description)), m_user(std::move(user)),
        m_expected(std::move(expected)) {}

protected:
  /// The account, or the result to return (fail when missing, error when unreadable).
  [[nodiscard]] std::expected<host::Account, CheckResult> find_account(const host::HostView& host) const {
    return find_user(host, m_user, m_expected, "ztagent provision --only user,linger");
  }

  /// For the runtime checks: skip when the host is not live (runtime_skip_reason), else find_account().
  [[nodiscard]] std::expected<host::Account, CheckResult>
  find_live_account(const host::HostView& host) const {
    if (auto why = runtime_skip_reason(host); !why.empty()) {
      return std::unexpected(skip(m_expected, why));
    }
    return find_account(host);
  }

  std::string m_user;
  std::string m_expected;
};

class LingerEnabled final : public LingerCheck {
public:
  explicit LingerEnabled(const std::string& user)
      : LingerCheck(user,
                    "linger.enabled",
                    "lingering is enabled, so the user manager starts at boot",
                    linger_path(user) + " exists") {}

  [[nodiscard]] CheckResult run(const host::HostView& host) const override {
    auto account = find_account(host);
    if (!account) {
      return account.error();
    }
    std::string path = linger_path(m_user);
    auto st = host.fs().lstat(path);
    if (!st) {
      return error(m_expected, st.error().message);
    }
    if (st->type == host::FileType::regular) {
      return pass(m_expected, path + " exists");
    }
    if (!st->exists()) {
      return fail(m_expected, path + " is missing",
                  "ztagent provision --only linger (or: loginctl enable-linger " + m_user + ")");
    }
    return fail(m_expected, path + " is " + host::describe(st->type),
                "remove " + path + ", then: ztagent provision --only linger");
  }
};

class UserManager final : public LingerCheck {
public:
  explicit UserManager(const std::string& user)
      : LingerCheck(user,
                    "linger.user-manager",
                    "the user's systemd manager (user@<uid>.service) is active",
                    "user@<uid>.service active") {}
  [[nodiscard]] bool runtime() const override { return true; }

  [[nodiscard]] CheckResult run(const host::HostView& host) const override {
    auto account = find_live_account(host);
    if (!account) {
      return account.error();
    }
    host::Command cmd;
    cmd.argv = {"systemctl", "is-active", "user@" + std::to_string(account->uid) + ".service"};
    cmd.effect = host::Effect::read_only;
    return judge_user_manager(account->uid, host.runner().run(cmd));
  }
};

class RuntimeDir final : public LingerCheck {
public:
  explicit RuntimeDir(const std::string& user)
      : LingerCheck(user,
                    "linger.runtime-dir",
                    "the user's runtime directory /run/user/<uid> exists and is theirs",
                    "/run/user/<uid> directory owned by " + user) {}
  [[nodiscard]] bool runtime() const override { return true; }

  [[nodiscard]] CheckResult run(const host::HostView& host) const override {
    auto account = find_live_account(host);
    if (!account) {
      return account.error();
    }
    auto st = host.fs().stat(runtime_dir(account->uid));
    if (!st) {
      return error(m_expected, st.error().message);
    }
    return judge_runtime_dir(account->uid, *st);
  }
};

class UserBus final : public LingerCheck {
public:
  explicit UserBus(const std::string& user)
      : LingerCheck(user,
                    "linger.user-bus",
                    "the user's D-Bus socket /run/user/<uid>/bus exists",
                    "/run/user/<uid>/bus socket") {}
  [[nodiscard]] bool runtime() const override { return true; }

  [[nodiscard]] CheckResult run(const host::HostView& host) const override {
    auto account = find_live_account(host);
    if (!account) {
      return account.error();
    }
    auto st = host.fs().lstat(runtime_dir(account->uid) + "/bus");
    if (!st) {
      return error(m_expected, st.error().message);
    }
    return judge_user_bus(account->uid, *st);
  }
};

} // namespace

std::string linger_path(std::string_view user) {
  return "/var/lib/systemd/linger/" + std::string(user);
}

std::string runtime_skip_reason(const host::HostView& host) {
  if (!host.live()) {
    return "not the live host (--root): checked after boot";
  }
  if (!host.systemd_running()) {
    return "systemd is not running here (image or container build)";
  }
  return {};
}

CheckResult judge_user_manager(std::uint32_t uid, const Result<host::CommandResult>& is_active) {
  const std::string unit = "user@" + std::to_string(uid) + ".service";
  const std::string expected = unit + " active";
  if (!is_active) {
    return error(expected, is_active.error().message);
  }
  std::string state(util::trim(is_active->out));
  if (is_active->exit_code == 0 && state == "active") {
    return pass(expected, unit + " active");
  }
  if (state.empty()) {
    state = "exit " + std::to_string(is_active->exit_code);
  }
  return fail(expected, unit + " " + state,
              "ztagent provision --only linger, then see: systemctl status " + unit);
}

CheckResult judge_runtime_dir(std::uint32_t uid, const host::FileStat& st) {
  const std::string path = runtime_dir(uid);
  const std::string expected = path + " directory owned by uid " + std::to_string(uid);
  const std::string fix =
      "systemctl start user@" + std::to_string(uid) + ".service (logind creates " + path + ")";
  if (!st.exists()) {
    return fail(expected, path + " is missing", fix);
  }
  if (st.type != host::FileType::directory) {
    return fail(expected, path + " is " + host::describe(st.type), fix);
  }
  std::string actual = path + " directory owned by uid " + std::to_string(st.uid);
  if (st.uid != uid) {
    return fail(expected, actual,
                "systemctl stop user@" + std::to_string(uid) + ".service, remove " + path +
                    ", then: systemctl start user@" + std::to_string(uid) + ".service");
  }
  return pass(expected, actual);
}

CheckResult judge_user_bus(std::uint32_t uid, const host::FileStat& st) {
  const std::string path = runtime_dir(uid) + "/bus";
  const std::string expected = path + " socket";
  if (st.type == host::FileType::socket) {
    return pass(expected, path + " socket");
  }
  const std::string fix =
      "install dbus-user-session (ztagent provision --only packages), then: systemctl restart "
      "user@" +
      std::to_string(uid) + ".service";
  if (!st.exists()) {
    return fail(expected, path + " is missing", fix);
  }
  return fail(expected, path + " is " + host::describe(st.type), fix);
}

std::vector<std::unique_ptr<Check>> make_linger_checks(const std::string& user) {
  std::vector<std::unique_ptr<Check>> out;
  out.push_back(std::make_unique<LingerEnabled>(user));
  out.push_back(std::make_unique<UserManager>(user));
  out.push_back(std::make_unique<RuntimeDir>(user));
  out.push_back(std::make_unique<UserBus>(user));
  return out;
}

} // namespace zt::checks
