// SPDX-License-Identifier: Apache-2.0
#include "provisioners/linger.hpp"

#include "checks/linger.hpp"
#include "util/strings.hpp"

#include <utility>

namespace zt::provisioners {

namespace {

constexpr std::string_view k_linger_dir = "/var/lib/systemd/linger";
constexpr std::uint32_t k_dir_mode = 0755;
constexpr std::uint32_t k_file_mode = 0644;

template <typename T> Result<T> in_step(Result<T> r) {
  if (!r) {
    return std::unexpected(prefixed("linger", std::move(r).error()));
  }
  return r;
}

} // namespace

Linger::Linger(std::string user) : m_user(std::move(user)) {}

std::vector<std::string> Linger::managed_paths(const host::HostView& /*host*/) const {
  return {checks::linger_path(m_user)};
}

Result<Plan> Linger::plan(const host::HostView& host) const {
  const std::string path = checks::linger_path(m_user);
  ZT_TRY_ASSIGN(st, in_step(host.fs().lstat(path)));
  Plan plan;
  if (st.type == host::FileType::regular) {
    return plan;
  }
  if (st.exists()) {
    return make_error(Errc::unsupported,
                      "linger: " + path + " exists but is not a regular file; remove it and run again");
  }
  plan.changes.push_back({path, "enable linger for " + m_user});
  return plan;
}

Result<void> Linger::apply(host::Host& host, const Plan& plan) {
  if (plan.empty()) {
    return {};
  }
  ZT_TRY_ASSIGN(account, in_step(host.accounts().user(m_user)));
  if (!account) {
    return make_error(Errc::not_found,
                      "linger: user " + m_user +
                          " does not exist; run the user step first (ztagent provision --only "
                          "user,linger)");
  }
  if (host.view().systemd_running()) {
    // logind writes the flag file and starts user@<uid>.service right away.
    host::Command cmd;
    cmd.argv = {"loginctl", "enable-linger", m_user};
    cmd.effect = host::Effect::mutating;
    ZT_TRY_ASSIGN(result, in_step(host.runner().run(cmd)));
    if (result.exit_code != 0) {
      std::string message =
          "linger: loginctl enable-linger failed (exit " + std::to_string(result.exit_code) + ")";
      std::string err = util::last_nonempty_line(result.err);
      if (!err.empty()) {
        message += ": " + err;
      }
      return make_error(Errc::command_failed, std::move(message));
    }
    // logind starts user@<uid>.service asynchronously; the linger checks (and the later steps that
    // talk to the user manager) would race it. Starting it ourselves blocks until it is up, and is
    // a no-op when logind was faster.
    host::Command start;
    start.argv = {"systemctl", "start", "user@" + std::to_string(account->uid) + ".service"};
    start.effect = host::Effect::mutating;
    start.timeout = std::chrono::seconds(120);
    ZT_TRY_ASSIGN(started, in_step(host.runner().run(start)));
    if (started.exit_code != 0) {
      std::string message = "linger: systemctl start user@" + std::to_string(account->uid) +
                            ".service failed (exit " + std::to_string(started.exit_code) + ")";
      std::string err = util::last_nonempty_line(started.err);
      if (!err.empty()) {
        message += ": " + err;
      }
      return make_error(Errc::command_failed, message + "; see journalctl -u user@" +
                                                  std::to_string(account->uid) + ".service");
    }
    return {};
  }
  // No logind to ask (image build, container, --root): the flag file is all logind needs at boot.
  const std::string path = checks::linger_path(m_user);
  ZT_TRY(in_step(host.fs().make_directories(k_linger_dir, k_dir_mode)));
  host::WriteSpec spec;
  spec.mode = k_file_mode;
  spec.uid = 0;
  spec.gid = 0;
  ZT_TRY(in_step(host.fs().write_file(path, "", spec)));
  return {};
}

Step make_linger_step(const profile::Config& config, const StepContext& /*context*/) {
  Step step;
  step.id = "linger";
  step.provisioner = std::make_unique<Linger>(config.site.user);
  step.checks = checks::make_linger_checks(config.site.user);
  return step;
}

} // namespace zt::provisioners
