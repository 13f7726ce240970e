// SPDX-License-Identifier: Apache-2.0
#pragma once

// Shared by the check tests: pick one check out of a make_*_checks() list by id.

#include "checks/check.hpp"
#include "support/catch.hpp"

#include <memory>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace zt::test {

/// The check with this id; fails the test when there is none.
inline const checks::Check& find_check(const std::vector<std::unique_ptr<checks::Check>>& all,
                                       std::string_view id) {
  for (const auto& c : all) {
    if (c->id() == id) {
      return *c;
    }
  }
  FAIL("no check " << id);
  throw std::logic_error("unreachable");
}

} // namespace zt::test
