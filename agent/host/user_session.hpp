// SPDX-License-Identifier: Apache-2.0
#pragma once

// Commands that run as the service user with a proper session environment (HOST-SPEC step 9):
// `runuser -u USER --` (never `su -c`: no shell string, no login PAM stack), XDG_RUNTIME_DIR and
// DBUS_SESSION_BUS_ADDRESS pointing at the user's manager, and "/" as working directory (root's cwd
// is not readable by the user; podman and crun fail on it). [podman troubleshooting #31, podman#13338]

#include "host/accounts.hpp"
#include "host/command_runner.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace zt::host {

/// "/run/user/<uid>"
[[nodiscard]] std::string runtime_dir(std::uint32_t uid);

/// `runuser -u <user> -- <argv...>` with the session environment. Scope::host: it acts on the live
/// machine, so the runner refuses it under --root unless --allow-host-commands.
[[nodiscard]] Command as_user(const Account& account, std::vector<std::string> argv,
                              Effect effect = Effect::read_only, std::chrono::seconds timeout = std::chrono::seconds{60});

/// `systemctl --user <args...>` as the user (through as_user).
[[nodiscard]] Command user_systemctl(const Account& account, std::vector<std::string> args,
                                     Effect effect = Effect::read_only,
                                     std::chrono::seconds timeout = std::chrono::seconds{120});

/// `podman <args...>` as the user (through as_user).
[[nodiscard]] Command user_podman(const Account& account, std::vector<std::string> args,
                                  Effect effect = Effect::read_only,
                                  std::chrono::seconds timeout = std::chrono::seconds{120});

} // namespace zt::host
