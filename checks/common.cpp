// SPDX-License-Identifier: Apache-2.0
#include "checks/common.hpp"

namespace zt::checks {

std::expected<host::Account, CheckResult> find_user(const host::HostView& host,
                                                    const std::string& user,
                                                    const std::string& expected,
                                                    std::string_view fix) {
  auto account = host.accounts().user(user);
  if (!account) {
    return std::unexpected(error(expected, account.error().message));
  }
  if (!*account) {
    return std::unexpected(fail(expected, "user " + user + " does not exist", std::string(fix)));
  }
  return **account;
}

} // namespace zt::checks
