// SPDX-License-Identifier: Apache-2.0
#pragma once

// The one way ztagent runs programs: argv vectors, never a shell string. A non-zero exit is a
// value (CommandResult); an Error means the command could not start, timed out, or was refused.

#include "util/result.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace zt::host {

enum class Effect { read_only, mutating };

/// Where a mutating command acts. target_root: the command itself is confined to the --root tree
/// (useradd --prefix ROOT, chroot ROOT ...), so it is allowed under --root. host: it acts on the
/// machine ztagent runs on, so under a --root other than "/" it is refused unless
/// --allow-host-commands was given.
enum class Scope { host, target_root };

struct Command {
  std::vector<std::string> argv;  // argv[0] found via PATH
  Effect effect = Effect::read_only;
  Scope scope = Scope::host;
  std::optional<std::string> input;  // stdin; never logged (may hold a secret)
  std::vector<std::pair<std::string, std::string>> env;  // added to a minimal environment; values never logged
  std::chrono::seconds timeout{60};
  std::optional<std::string> cwd;  // working directory; unset = ztagent's own
};

struct CommandResult {
  int exit_code = 0;
  std::string out;
  std::string err;
};

class CommandRunner {
public:
  virtual ~CommandRunner() = default;
  [[nodiscard]] virtual Result<CommandResult> run(const Command& cmd) = 0;
};

/// Decides in one place which commands may run (ninja's DryRunCommandRunner).
struct RunnerPolicy {
  bool allow_mutating = false;       // false under plan/verify
  bool root_is_live = true;          // --root is "/"
  bool allow_host_commands = false;  // --allow-host-commands
};

/// Runs real processes with Boost.Process. Logs every mutating argv at info (read-only at debug),
/// exit code and duration; never input or env values. Environment: PATH, LANG=C.UTF-8 and
/// LC_ALL=C.UTF-8 plus cmd.env. Kills the process on timeout (Errc::timeout).
class RealCommandRunner final : public CommandRunner {
public:
  explicit RealCommandRunner(RunnerPolicy policy) : m_policy(policy) {}
  [[nodiscard]] Result<CommandResult> run(const Command& cmd) override;

private:
  RunnerPolicy m_policy;
};

/// Wraps another runner and refuses every Effect::mutating command (Errc::refused). HostView hands
/// this to checks and plan(), so they cannot change the machine even by mistake.
class ReadOnlyRunner final : public CommandRunner {
public:
  explicit ReadOnlyRunner(CommandRunner& inner) : m_inner(inner) {}
  [[nodiscard]] Result<CommandResult> run(const Command& cmd) override;

private:
  CommandRunner& m_inner;
};

/// The refusal message used by both runners: "refused to run mutating command in plan mode: <argv>".
[[nodiscard]] Error refusal(const Command& cmd, std::string_view why);

} // namespace zt::host
