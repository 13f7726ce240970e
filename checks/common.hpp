// SPDX-License-Identifier: Apache-2.0
#pragma once

// Small helpers shared by several checks.

#include "checks/check.hpp"
#include "host/accounts.hpp"
#include "host/host.hpp"

#include <expected>
#include <string>
#include <string_view>

namespace zt::checks {

/// The account of `user`, or the verdict the check returns instead: error(expected, <lookup error>)
/// when the account database cannot be read, fail(expected, "user <user> does not exist", fix) when
/// there is no such user.
[[nodiscard]] std::expected<host::Account, CheckResult> find_user(const host::HostView& host,
                                                                  const std::string& user,
                                                                  const std::string& expected,
                                                                  std::string_view fix);

} // namespace zt::checks
