// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "host/host.hpp"

#include <string>
#include <string_view>
#include <utility>

namespace zt::checks {

enum class Outcome { pass, fail, skip, error };

/// One check's verdict. `expected`/`actual` are short human strings ("0750", "ztnet:165536:65536");
/// `fix` is one line saying what to do (empty on pass).
struct CheckResult {
  Outcome outcome = Outcome::error;
  std::string expected;
  std::string actual;
  std::string fix;
};

[[nodiscard]] inline CheckResult pass(std::string expected, std::string actual) {
  return {Outcome::pass, std::move(expected), std::move(actual), {}};
}
[[nodiscard]] inline CheckResult fail(std::string expected, std::string actual, std::string fix) {
  return {Outcome::fail, std::move(expected), std::move(actual), std::move(fix)};
}
/// Not applicable here (e.g. live kernel state under --root); `why` goes into actual.
[[nodiscard]] inline CheckResult skip(std::string expected, std::string why) {
  return {Outcome::skip, std::move(expected), std::move(why), {}};
}
/// Could not decide (unreadable file, command failed to start).
[[nodiscard]] inline CheckResult error(std::string expected, std::string what, std::string fix = {}) {
  return {Outcome::error, std::move(expected), std::move(what), std::move(fix)};
}

/// A postcondition, verified read-only. Checks never change the machine: they get a HostView.
class Check {
public:
  virtual ~Check() = default;
  /// Stable, dotted: "<step>.<name>", e.g. "subids.subuid-range".
  [[nodiscard]] virtual std::string_view id() const = 0;
  /// The step this check belongs to ("preflight" for preflight checks).
  [[nodiscard]] virtual std::string_view step() const = 0;
  /// One line for `explain`/`list`: what it verifies.
  [[nodiscard]] virtual std::string_view description() const = 0;
  [[nodiscard]] virtual CheckResult run(const host::HostView& host) const = 0;
  /// Runtime checks depend on services coming up after boot; verify --retry-timeout retries them.
  [[nodiscard]] virtual bool runtime() const { return false; }
  /// True when run() starts a process on this host (podman as the user, systemctl) and spends its
  /// time waiting for it: the orchestrator starts all of these at once, each on its own thread, so
  /// a live verify waits about as long as the slowest of them, not their sum. Under --root they
  /// start nothing (they skip), so they are file checks there.
  [[nodiscard]] virtual bool waits_on_process(const host::HostView& host) const { return runtime() && host.live(); }
  /// True when this failing result makes provisioning pointless (no free space, no user
  /// namespaces, an unusable newuidmap): `provision` then stops before its first change unless
  /// --keep-going. Default: never.
  [[nodiscard]] virtual bool blocks_provision(const host::HostView& host, const CheckResult& result) const {
    (void)host;
    (void)result;
    return false;
  }
  /// False when blocks_provision() is false whatever the result: provision's pass before its first
  /// change (run/preapply.hpp) does not run such a check (the runtime step's checks would start
  /// their podman commands there for nothing). Overridden together with blocks_provision().
  [[nodiscard]] virtual bool may_block_provision() const { return false; }
};

/// A check whose id, step and description are fixed when it is made; subclasses implement run().
class BasicCheck : public Check {
public:
  BasicCheck(std::string id, std::string step, std::string description)
      : m_id(std::move(id)), m_step(std::move(step)), m_description(std::move(description)) {}

  [[nodiscard]] std::string_view id() const final { return m_id; }
  [[nodiscard]] std::string_view step() const final { return m_step; }
  [[nodiscard]] std::string_view description() const final { return m_description; }

private:
  std::string m_id;
  std::string m_step;
  std::string m_description;
};

[[nodiscard]] std::string_view to_string(Outcome outcome);

} // namespace zt::checks
