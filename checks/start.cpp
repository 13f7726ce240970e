// SPDX-License-Identifier: Apache-2.0
#include "checks/start.hpp"

#include "checks/common.hpp"
#include "host/user_session.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <utility>

namespace zt::checks {

namespace {

const UnitState* find_state(const std::vector<UnitState>& states, std::string_view id) {
  auto it = std::find_if(states.begin(), states.end(), [&](const UnitState& s) { return s.id == id; });
  return it == states.end() ? nullptr : &*it;
}

/// "inactive", "failed", "not-found" (the load state when the unit is not loaded).
std::string state_words(const UnitState& s) {
  if (s.load_state != "loaded" && !s.load_state.empty()) {
    return s.load_state;
  }
  return s.active_state.empty() ? "unknown" : s.active_state;
}

class StartCheck : public BasicCheck {
public:
  StartCheck(
      std::string user, profile::Stack stack, std::string id, std::string description, std::string expected)
      : BasicCheck(std::move(id), "start", std::move(description)), m_user(std::move(user)),
        m_stack(std::move(stack)), m_expected(std::move(expected)) {}

  [[nodiscard]] bool runtime() const override { return true; }

  [[nodiscard]] CheckResult run(const host::HostView& host) const override {
    if (auto why = start_skip_reason(host); !why.empty()) {
      return skip(m_expected, why);
    }
    auto account = find_user(host, m_user, m_expected, "ztagent provision");
    if (!account) {
      return account.error();
    }
    return judge(query_units(host, *account, start_units(m_stack)));
  }

protected:
  [[nodiscard]] virtual CheckResult judge(const Result<std::vector<UnitState>>& states) const = 0;

  std::string m_user;
  profile::Stack m_stack;
  std::string m_expected;
};

class UnitsActive final : public StartCheck {
public:
  UnitsActive(const std::string& user, const profile::Stack& stack)
      : StartCheck(user,
                   stack,
                   "start.units-active",
                   "every unit of the stack is active under the user's systemd manager",
                   util::join(stack_services(stack), ", ") + " active") {}

protected:
  [[nodiscard]] CheckResult judge(const Result<std::vector<UnitState>>& states) const override {
    return judge_units_active(m_stack, states);
  }
};

class AutoUpdateTimer final : public StartCheck {
public:
  AutoUpdateTimer(const std::string& user, const profile::Stack& stack)
      : StartCheck(user,
                   stack,
                   "start.auto-update-timer",
                   "podman-auto-update.timer is enabled and active for the user",
                   std::string(k_auto_update_timer) + " active, enabled") {}

protected:
  [[nodiscard]] CheckResult judge(const Result<std::vector<UnitState>>& states) const override {
    return judge_auto_update_timer(states);
  }
};

} // namespace

bool UnitState::running() const {
  return active_state == "active" || active_state == "reloading" || active_state == "activating";
}

std::vector<std::string> start_units(const profile::Stack& stack) {
  std::vector<std::string> units = stack_services(stack);
  units.emplace_back(k_auto_update_timer);
  return units;
}

host::Command unit_show_command(const host::Account& account, const std::vector<std::string>& units) {
  std::vector<std::string> args = {"show", "-p", "Id,LoadState,ActiveState,NeedDaemonReload,UnitFileState"};
  args.insert(args.end(), units.begin(), units.end());
  return host::user_systemctl(account, std::move(args));
}

Result<std::vector<UnitState>> parse_unit_show(std::string_view out, const std::vector<std::string>& units) {
  std::vector<UnitState> states;
  bool in_block = false;
  std::size_t number = 0;
  for (std::string_view line : util::lines(out)) {
    ++number;
    if (util::trim(line).empty()) {
      in_block = false;
      continue;
    }
    if (!in_block) {
      if (states.size() == units.size()) {
        return make_error(Errc::parse, "systemctl --user show: more blocks than the " +
                                           std::to_string(units.size()) + " units asked for");
      }
      UnitState fresh;
      fresh.id = units[states.size()];
      states.push_back(std::move(fresh));
      in_block = true;
    }
    const auto eq = line.find('=');
    if (eq == std::string_view::npos) {
      return make_error(Errc::parse,
                        "systemctl --user show: line " + std::to_string(number) + " is not Key=Value");
    }
    std::string_view key = line.substr(0, eq);
    std::string value(util::trim(line.substr(eq + 1)));
    UnitState& s = states.back();
    if (key == "LoadState") {
      s.load_state = std::move(value);
    } else if (key == "ActiveState") {
      s.active_state = std::move(value);
    } else if (key == "NeedDaemonReload") {
      s.need_daemon_reload = value == "yes";
    } else if (key == "UnitFileState") {
      s.unit_file_state = std::move(value);
    }
    // Id is the unit's primary name; an alias may differ from the name asked for, so we key by order.
  }
  if (states.size() != units.size()) {
    return make_error(Errc::parse, "systemctl --user show: " + std::to_string(states.size()) +
                                       " blocks for " + std::to_string(units.size()) + " units");
  }
  return states;
}

Result<std::vector<UnitState>>
query_units(const host::HostView& host, const host::Account& account, const std::vector<std::string>& units) {
  ZT_TRY_ASSIGN(result, host.runner().run(unit_show_command(account, units)));
  if (result.exit_code != 0) {
    const std::string err = util::last_nonempty_line(result.err);
    if (err.find("Failed to connect to bus") != std::string::npos ||
        err.find("connect") != std::string::npos || err.empty()) {
      return make_error(Errc::command_failed, "user manager of " + account.name +
                                                  " not running: run `ztagent provision --only linger` or "
                                                  "check `systemctl status user@" +
                                                  std::to_string(account.uid) + ".service`");
    }
    return make_error(Errc::command_failed,
                      "systemctl --user show failed (exit " + std::to_string(result.exit_code) + "): " + err);
  }
  return parse_unit_show(result.out, units);
}

std::string start_skip_reason(const host::HostView& host) {
  if (!host.systemd_running()) { // false under --root as well
    return "not a running system: started at boot by the user manager";
  }
  return {};
}

CheckResult judge_units_active(const profile::Stack& stack, const Result<std::vector<UnitState>>& states) {
  const std::vector<std::string> services = stack_services(stack);
  const std::string expected = util::join(services, ", ") + " active";
  if (!states) {
    if (states.error().code == Errc::command_failed) {
      return fail(expected, states.error().message, "ztagent provision --only linger,start");
    }
    return error(expected, states.error().message);
  }
  std::vector<std::string> bad;
  std::string first_bad;
  for (const auto& unit : services) {
    const UnitState* s = find_state(*states, unit);
    if (s == nullptr) {
      bad.push_back(unit + " unknown");
    } else if (s->load_state != "loaded" || s->active_state != "active") {
      bad.push_back(unit + " " + state_words(*s));
    } else {
      continue;
    }
    if (first_bad.empty()) {
      first_bad = unit;
    }
  }
  if (!bad.empty()) {
    return fail(expected, util::join(bad, ", "),
                "ztagent provision --only units,start; see journalctl --user-unit " + first_bad);
  }
  return pass(expected, "all " + std::to_string(services.size()) + " units active");
}

CheckResult judge_auto_update_timer(const Result<std::vector<UnitState>>& states) {
  const std::string timer(k_auto_update_timer);
  const std::string expected = timer + " active, enabled";
  if (!states) {
    if (states.error().code == Errc::command_failed) {
      return fail(expected, states.error().message, "ztagent provision --only linger,start");
    }
    return error(expected, states.error().message);
  }
  const UnitState* s = find_state(*states, timer);
  if (s == nullptr) {
    return error(expected, timer + " not reported by systemctl");
  }
  const std::string enabled = s->unit_file_state.empty() ? "no unit file" : s->unit_file_state;
  const std::string actual = timer + " " + state_words(*s) + ", " + enabled;
  if (s->load_state == "loaded" && s->active_state == "active" && s->unit_file_state == "enabled") {
    return pass(expected, actual);
  }
  return fail(expected, actual, "ztagent provision --only units,start");
}

std::vector<std::unique_ptr<Check>> make_start_checks(const std::string& user, const profile::Stack& stack) {
  std::vector<std::unique_ptr<Check>> out;
  out.push_back(std::make_unique<UnitsActive>(user, stack));
  out.push_back(std::make_unique<AutoUpdateTimer>(user, stack));
  return out;
}

} // namespace zt::checks
