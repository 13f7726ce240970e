// SPDX-License-Identifier: Apache-2.0
#pragma once

// A strict fake CommandRunner: each expected argv gets a scripted answer, any other argv fails the
// test, and every call is recorded (ninja's FakeCommandRunner).

#include "host/command_runner.hpp"
#include "support/catch.hpp"
#include "util/strings.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace zt::test {

class FakeRunner : public host::CommandRunner {
public:
  /// Expect `argv`; answer `result` and run `effect` (simulating what the command does) each time.
  void on(std::vector<std::string> argv, host::CommandResult result = {}, std::function<void()> effect = {}) {
    m_expectations.push_back({std::move(argv), std::move(result), std::move(effect), std::nullopt});
  }
  /// Expect `argv` but have it fail to start/time out with this error.
  void on_error(std::vector<std::string> argv, Error error) {
    m_expectations.push_back({std::move(argv), {}, {}, std::move(error)});
  }

  Result<host::CommandResult> run(const host::Command& cmd) override {
    m_calls.push_back(cmd);
    for (auto& e : m_expectations) {
      if (e.argv == cmd.argv) {
        if (e.error) {
          return std::unexpected(*e.error);
        }
        if (e.effect) {
          e.effect();
        }
        return e.result;
      }
    }
    FAIL_CHECK("FakeRunner: unexpected command: " << util::quote_argv(cmd.argv));
    return make_error(Errc::internal, "FakeRunner: unexpected command: " + util::quote_argv(cmd.argv));
  }

  [[nodiscard]] const std::vector<host::Command>& calls() const { return m_calls; }
  [[nodiscard]] std::size_t mutating_calls() const {
    std::size_t n = 0;
    for (const auto& c : m_calls) {
      n += c.effect == host::Effect::mutating ? 1 : 0;
    }
    return n;
  }
  void clear_calls() { m_calls.clear(); }

private:
  struct Expectation {
    std::vector<std::string> argv;
    host::CommandResult result;
    std::function<void()> effect;
    std::optional<Error> error;
  };
  std::vector<Expectation> m_expectations;
  std::vector<host::Command> m_calls;
};

} // namespace zt::test
