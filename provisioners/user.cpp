// SPDX-License-Identifier: Apache-2.0
#include "provisioners/user.hpp"

#include "host/writable.hpp"
#include "util/strings.hpp"

#include <spdlog/spdlog.h>
#include <utility>

namespace zt::provisioners {

namespace {

constexpr std::uint32_t k_home_mode = 0700;
constexpr std::uint32_t k_parent_mode = 0755;

/// Adds the step name to an error from a lower layer.
template <typename T> Result<T> in_step(Result<T> r) {
  if (!r) {
    return std::unexpected(prefixed("user", std::move(r).error()));
  }
  return r;
}

std::optional<std::string> prefix_of(const host::Fs& fs) {
  if (fs.is_live()) {
    return std::nullopt;
  }
  return fs.root().string();
}

/// Runs a shadow tool; with --prefix it only edits the --root tree (Scope::target_root).
Result<void> run_tool(host::Host& host, std::vector<std::string> argv) {
  // A read-only or full /etc: say so now, not after shadow's 14 s of "cannot lock /etc/passwd".
  ZT_TRY(in_step(host::ensure_shadow_writable(host.fs())));
  host::Command cmd;
  cmd.effect = host::Effect::mutating;
  cmd.scope = host.live() ? host::Scope::host : host::Scope::target_root;
  const std::string tool = argv.front();
  cmd.argv = std::move(argv);
  ZT_TRY_ASSIGN(result, in_step(host.runner().run(cmd)));
  if (result.exit_code != 0) {
    std::string message = "user: " + tool + " failed (exit " + std::to_string(result.exit_code) + ")";
    std::string err = util::last_nonempty_line(result.err);
    if (!err.empty()) {
      message += ": " + err;
    }
    return make_error(Errc::command_failed, std::move(message));
  }
  return {};
}

/// Under --root, useradd/usermod --prefix resolve ROOT/etc/passwd and ROOT/<home> with the kernel's
/// own path walk: an absolute symlink there (ROOT/home -> /home) makes them create and chown
/// directories of *this* machine. So before any of them gets a path, walk each one without
/// following symlinks (Fs::lstat) and refuse a symlink anywhere in it. Live runs (root "/") follow
/// symlinks as the system does (/home -> /var/home is legitimate there).
Result<void> refuse_symlinks_for_shadow_tools(const host::Fs& fs, const std::string& home) {
  if (fs.is_live()) {
    return {};
  }
  for (const std::string& path : {std::string("/etc/passwd"), std::string("/etc/group"), std::string("/etc/shadow"),
                                 std::string("/etc/gshadow"), home}) {
    auto st = fs.lstat(path);
    const std::string why = "; useradd/usermod --prefix would follow it out of " + fs.root().string() +
                            ": replace it with a real directory or file in the tree";
    if (!st) {
      if (st.error().code == Errc::refused) {
        return make_error(Errc::refused, "user: " + st.error().message + why);
      }
      return std::unexpected(prefixed("user", std::move(st).error()));
    }
    if (st->type == host::FileType::symlink) {
      return make_error(Errc::refused, "user: " + path + ": refusing to follow symlink at " + path + why);
    }
  }
  return {};
}

std::string kind_of(bool system) {
  return system ? "system" : "regular";
}

/// What is wrong with the account's fields and group (the account exists).
struct AccountDrift {
  bool shell = false;
  bool home = false;
  bool create_group = false;
  bool primary_group = false;
};

Result<AccountDrift>
account_drift(const checks::UserSpec& spec, const host::Account& account, const host::Accounts& accounts) {
  AccountDrift drift;
  drift.shell = account.shell != spec.shell;
  drift.home = account.home != spec.home;
  ZT_TRY_ASSIGN(group, accounts.group(spec.name));
  drift.create_group = !group.has_value();
  drift.primary_group = !group || group->gid != account.gid;
  return drift;
}

} // namespace

User::User(checks::UserSpec spec) : m_spec(std::move(spec)) {}

Result<Plan> User::plan(const host::HostView& host) const {
  ZT_TRY(refuse_symlinks_for_shadow_tools(host.fs(), m_spec.home));
  Plan plan;
  const std::string user_target = "user:" + m_spec.name;
  auto account = host.accounts().user(m_spec.name);
  if (!account) {
    return std::unexpected(prefixed("user", std::move(account).error()));
  }
  if (!*account) {
    plan.changes.push_back({user_target, "create " + kind_of(m_spec.system) + " user " + m_spec.name +
                                             " (home " + m_spec.home + ", shell " + m_spec.shell + ")"});
  } else {
    const auto& a = **account;
    auto ids = checks::read_login_defs_ids(host);
    if (!ids) {
      return std::unexpected(prefixed("user", std::move(ids).error()));
    }
    // An account that would make the stack run as root (or as an id another user's containers can
    // map) is refused, never "corrected": its files and processes already carry those ids.
    auto problems = checks::read_account_id_problems(host, a, m_spec.system);
    if (!problems) {
      return std::unexpected(prefixed("user", std::move(problems).error()));
    }
    if (!problems->empty()) {
      return make_error(Errc::refused, "user: the existing account " + m_spec.name + " cannot run the stack: " +
                                           util::join(*problems, "; ") + "; " + checks::account_id_fix(m_spec.name));
    }
    auto kind = checks::account_kind(a.uid, ids->uid_min);
    if (kind != kind_of(m_spec.system)) {
      return make_error(Errc::invalid_config,
                        "user: " + m_spec.name + " exists as a " + std::string(kind) + " account (uid " +
                            std::to_string(a.uid) + ") but the site config asks for a " +
                            kind_of(m_spec.system) + " account; set service.system_user = " +
                            (m_spec.system ? "false" : "true") + " or remove the account");
    }
    auto drift = account_drift(m_spec, a, host.accounts());
    if (!drift) {
      return std::unexpected(prefixed("user", std::move(drift).error()));
    }
    if (drift->shell) {
      plan.changes.push_back({user_target, "set shell " + m_spec.shell + " (was " + a.shell + ")"});
    }
    if (drift->home) {
      plan.changes.push_back(
          {user_target, "set home " + m_spec.home + " (was " + a.home + "; data not moved)"});
    }
    if (drift->create_group) {
      plan.changes.push_back({"group:" + m_spec.name, "create group " + m_spec.name});
    }
    if (drift->primary_group) {
      plan.changes.push_back(
          {user_target, "set primary group " + m_spec.name + " (was gid " + std::to_string(a.gid) + ")"});
    }
  }

  auto st = host.fs().stat(m_spec.home);
  if (!st) {
    return std::unexpected(prefixed("user", std::move(st).error()));
  }
  if (!st->exists()) {
    if (*account) { // useradd --create-home makes it for a new account
      plan.changes.push_back(
          {m_spec.home, "create directory " + util::format_mode(k_home_mode) + " owned by " + m_spec.name});
    }
    return plan;
  }
  if (st->type != host::FileType::directory) {
    return make_error(Errc::unsupported,
                      "user: " + m_spec.home + " exists but is not a directory; move it away and run again");
  }
  if (!*account || st->uid != (*account)->uid) {
    plan.changes.push_back({m_spec.home, "set owner " + m_spec.name + ":" + m_spec.name + " (was " +
                                             std::to_string(st->uid) + ":" + std::to_string(st->gid) + ")"});
  }
  if ((st->mode & 022U) != 0) {
    plan.changes.push_back({m_spec.home, "set mode " + util::format_mode(st->mode & ~022U) + " (was " +
                                             util::format_mode(st->mode) + "; no group/other write)"});
  }
  return plan;
}

Result<void> User::validate_inputs(const host::HostView& host) const {
  ZT_TRY(in_step(host.accounts().shared_users()));
  ZT_TRY(in_step(host.accounts().group(m_spec.name)));
  // Judged as if an account existed: this parses login.defs, /etc/subuid and /etc/subgid.
  ZT_TRY(in_step(checks::read_account_id_problems(host, host::Account{m_spec.name, 1, 1, {}, {}}, m_spec.system)));
  return {};
}

Result<void> User::apply(host::Host& host, const Plan& /*plan*/) {
  // Re-reads the state plan() just saw and converges it in order: account, group, home directory.
  const auto prefix = prefix_of(host.fs());
  ZT_TRY(refuse_symlinks_for_shadow_tools(host.fs(), m_spec.home));
  auto account = host.accounts().user(m_spec.name);
  if (!account) {
    return std::unexpected(prefixed("user", std::move(account).error()));
  }
  auto home_before = host.fs().stat(m_spec.home);
  if (!home_before) {
    return std::unexpected(prefixed("user", std::move(home_before).error()));
  }
  bool created_home = false;

  if (!*account) {
    auto group = host.accounts().group(m_spec.name);
    if (!group) {
      return std::unexpected(prefixed("user", std::move(group).error()));
    }
    // Note: `useradd --system` allocates no /etc/subuid or /etc/subgid range (shadow only does with
    // --add-subids-for-system); the subids step adds one.
    spdlog::info("user: creating {} user {}", kind_of(m_spec.system), m_spec.name);
    ZT_TRY(run_tool(host, render_useradd_argv(m_spec, group->has_value(), prefix)));
    created_home = !home_before->exists();
  } else {
    const auto& a = **account;
    auto drift = account_drift(m_spec, a, host.accounts());
    if (!drift) {
      return std::unexpected(prefixed("user", std::move(drift).error()));
    }
    if (drift->shell) {
      ZT_TRY(run_tool(host, render_usermod_argv(m_spec.name, "--shell", m_spec.shell, prefix)));
    }
    if (drift->home) {
      // No --move-home: never move data behind the operator's back.
      ZT_TRY(run_tool(host, render_usermod_argv(m_spec.name, "--home", m_spec.home, prefix)));
    }
    if (drift->create_group) {
      ZT_TRY(run_tool(host, render_groupadd_argv(m_spec, prefix)));
    }
    if (drift->primary_group) {
      // The group's number, read back from the target's /etc/group: shadow 4.13's
      // `usermod --prefix R --gid NAME` resolves NAME on the host, outside the prefix ("group 'ztnet'
      // does not exist", exit 6), so after a useradd killed between passwd and group a by-name
      // usermod could never converge in one run.
      ZT_TRY_ASSIGN(group, in_step(host.accounts().group(m_spec.name)));
      if (!group) {
        return make_error(Errc::not_converged, "user: group " + m_spec.name + " is not in " +
                                                   host.fs().real_path("/etc/group").string() +
                                                   " after groupadd; check the groupadd setup");
      }
      ZT_TRY(run_tool(host, render_usermod_argv(m_spec.name, "--gid", std::to_string(group->gid), prefix)));
    }
  }

  auto now = host.accounts().user(m_spec.name);
  if (!now) {
    return std::unexpected(prefixed("user", std::move(now).error()));
  }
  if (!*now) {
    return make_error(Errc::not_converged, "user: useradd succeeded but " + m_spec.name +
                                               " is not in /etc/passwd; check NSS/useradd setup");
  }
  const auto& a = **now;

  auto st = host.fs().stat(m_spec.home);
  if (!st) {
    return std::unexpected(prefixed("user", std::move(st).error()));
  }
  if (!st->exists()) {
    ZT_TRY(in_step(host.fs().make_directories(m_spec.home, k_parent_mode)));
    ZT_TRY(in_step(host.fs().set_owner(m_spec.home, a.uid, a.gid)));
    ZT_TRY(in_step(host.fs().set_mode(m_spec.home, k_home_mode)));
    return {};
  }
  if (st->type != host::FileType::directory) {
    return make_error(Errc::unsupported,
                      "user: " + m_spec.home + " exists but is not a directory; move it away and run again");
  }
  if (st->uid != a.uid) {
    ZT_TRY(in_step(host.fs().set_owner(m_spec.home, a.uid, a.gid)));
  }
  // useradd makes the home with its HOME_MODE/UMASK (0755 on Debian); ours is private.
  std::uint32_t mode = created_home ? k_home_mode : st->mode & ~022U;
  if (mode != st->mode) {
    ZT_TRY(in_step(host.fs().set_mode(m_spec.home, mode)));
  }
  return {};
}

std::vector<std::string> render_useradd_argv(const checks::UserSpec& spec,
                                             bool group_exists,
                                             const std::optional<std::string>& prefix) {
  std::vector<std::string> argv = {"useradd"};
  if (prefix) {
    argv.insert(argv.end(), {"--prefix", *prefix});
  }
  if (spec.system) {
    argv.emplace_back("--system");
  }
  argv.insert(argv.end(), {"--create-home", "--home-dir", spec.home, "--shell", spec.shell});
  if (group_exists) {
    argv.insert(argv.end(), {"--gid", spec.name});
  } else {
    argv.emplace_back("--user-group");
  }
  argv.push_back(spec.name);
  return argv;
}

std::vector<std::string> render_usermod_argv(const std::string& name,
                                             const std::string& option,
                                             const std::string& value,
                                             const std::optional<std::string>& prefix) {
  std::vector<std::string> argv = {"usermod"};
  if (prefix) {
    argv.insert(argv.end(), {"--prefix", *prefix});
  }
  argv.insert(argv.end(), {option, value, name});
  return argv;
}

std::vector<std::string> render_groupadd_argv(const checks::UserSpec& spec,
                                              const std::optional<std::string>& prefix) {
  std::vector<std::string> argv = {"groupadd"};
  if (prefix) {
    argv.insert(argv.end(), {"--prefix", *prefix});
  }
  if (spec.system) {
    argv.emplace_back("--system");
  }
  argv.push_back(spec.name);
  return argv;
}

Step make_user_step(const profile::Config& config, const StepContext& /*context*/) {
  auto spec = checks::user_spec(config.site);
  Step step;
  step.id = "user";
  step.checks = checks::make_user_checks(spec);
  step.provisioner = std::make_unique<User>(std::move(spec));
  return step;
}

} // namespace zt::provisioners
