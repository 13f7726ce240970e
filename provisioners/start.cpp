// SPDX-License-Identifier: Apache-2.0
#include "provisioners/start.hpp"

#include "host/user_session.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <utility>

namespace zt::provisioners {

namespace {

template <typename T> Result<T> in_step(Result<T> r) {
  if (!r) {
    return std::unexpected(prefixed("start", std::move(r).error()));
  }
  return r;
}

bool contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

Result<void> run_systemctl(host::Host& host,
                           const host::Account& account,
                           std::vector<std::string> args,
                           std::chrono::seconds timeout) {
  const std::string what = "systemctl --user " + util::join(args, " ");
  const std::string unit = args.size() > 1 ? args.back() : std::string{};
  ZT_TRY_ASSIGN(result, in_step(host.runner().run(host::user_systemctl(account, std::move(args),
                                                                       host::Effect::mutating, timeout))));
  if (result.exit_code != 0) {
    std::string message = "start: " + what + " failed (exit " + std::to_string(result.exit_code) + ")";
    std::string err = util::last_nonempty_line(result.err);
    if (!err.empty()) {
      message += ": " + err;
    }
    if (!unit.empty()) {
      message += "; see journalctl --user-unit " + unit;
    }
    return make_error(Errc::command_failed, std::move(message));
  }
  return {};
}

} // namespace

Result<StartActions> start_actions(const std::string& user, const std::vector<checks::UnitState>& states) {
  StartActions a;
  std::vector<Change> unit_changes;
  for (const auto& s : states) {
    if (s.load_state == "masked") {
      return make_error(Errc::refused, s.id + " is masked; unmask it (systemctl --user unmask " + s.id +
                                           " as " + user + ") and run again");
    }
    if (s.load_state != "loaded") {
      // Not loaded (new unit file, or a Quadlet unit the generator has not produced yet).
      a.daemon_reload = true;
      a.start.push_back(s.id);
      unit_changes.push_back(
          {s.id, "start (new unit, " + (s.load_state.empty() ? "not loaded" : s.load_state) + ")"});
    } else if (s.need_daemon_reload) {
      a.daemon_reload = true;
      if (s.running()) {
        a.restart.push_back(s.id);
        unit_changes.push_back({s.id, "restart (unit file changed)"});
      } else {
        a.start.push_back(s.id);
        unit_changes.push_back({s.id, "start (" + s.active_state + ", unit file changed)"});
      }
    } else if (!s.running()) {
      a.start.push_back(s.id);
      unit_changes.push_back(
          {s.id, "start (" + (s.active_state.empty() ? "inactive" : s.active_state) + ")"});
    }
  }
  if (a.daemon_reload) {
    a.changes.push_back({"user manager of " + user, "daemon-reload"});
  }
  a.changes.insert(a.changes.end(), unit_changes.begin(), unit_changes.end());
  return a;
}

Start::Start(std::string user, profile::Stack stack) : m_user(std::move(user)), m_stack(std::move(stack)) {}

Result<Plan> Start::plan(const host::HostView& host) const {
  if (!checks::start_skip_reason(host).empty()) {
    return Plan{};
  }
  ZT_TRY_ASSIGN(account, in_step(host.accounts().user(m_user)));
  if (!account) {
    Plan plan;
    plan.changes.push_back({"user manager of " + m_user, "start the stack once user " + m_user + " exists"});
    return plan;
  }
  return plan_start(host, *account, m_stack);
}

Result<void> Start::apply(host::Host& host, const Plan& plan) {
  if (plan.empty() || !checks::start_skip_reason(host.view()).empty()) {
    return {};
  }
  ZT_TRY_ASSIGN(account, in_step(host.accounts().user(m_user)));
  if (!account) {
    return make_error(Errc::not_found, "start: user " + m_user +
                                           " does not exist; run the user step first (ztagent provision "
                                           "--only user,linger,start)");
  }
  return apply_start(host, *account, m_stack);
}

Result<Plan>
plan_start(const host::HostView& host, const host::Account& account, const profile::Stack& stack) {
  ZT_TRY_ASSIGN(states, in_step(checks::query_units(host, account, checks::start_units(stack))));
  ZT_TRY_ASSIGN(actions, in_step(start_actions(account.name, states)));
  return Plan{std::move(actions.changes)};
}

Result<void> apply_start(host::Host& host, const host::Account& account, const profile::Stack& stack) {
  const std::vector<std::string> units = checks::start_units(stack);
  ZT_TRY_ASSIGN(states, in_step(checks::query_units(host.view(), account, units)));
  ZT_TRY_ASSIGN(actions, in_step(start_actions(account.name, states)));
  if (actions.empty()) {
    return {};
  }
  // After daemon-reload NeedDaemonReload reads "no" for every unit, so the restart list comes from
  // the state before it. What is not running is read again after the reload and the restarts: new
  // units load on reload, and restarting the pod may stop the containers bound to it.
  if (actions.daemon_reload) {
    ZT_TRY(run_systemctl(host, account, {"daemon-reload"}, std::chrono::seconds{120}));
  }
  for (const auto& unit : units) {
    if (contains(actions.restart, unit)) {
      ZT_TRY(run_systemctl(host, account, {"restart", unit}, k_start_timeout));
    }
  }
  if (actions.daemon_reload || !actions.restart.empty()) {
    ZT_TRY_ASSIGN(now, in_step(checks::query_units(host.view(), account, units)));
    states = std::move(now);
  }
  for (const auto& s : states) { // start_units() order: pod first, containers in stack order, timer
    if (s.load_state != "loaded") {
      return make_error(
          Errc::not_found,
          "start: " + s.id + " is " + (s.load_state.empty() ? "not loaded" : s.load_state) +
              " for the user manager of " + account.name +
              " after daemon-reload; run `ztagent provision --only units` and check its unit files");
    }
    if (!s.running()) {
      ZT_TRY(run_systemctl(host, account, {"start", s.id}, k_start_timeout));
    }
  }
  return {};
}

Step make_start_step(const profile::Config& config, const StepContext& /*context*/) {
  Step step;
  step.id = "start";
  step.provisioner = std::make_unique<Start>(config.site.user, config.stack);
  step.checks = checks::make_start_checks(config.site.user, config.stack);
  return step;
}

} // namespace zt::provisioners
