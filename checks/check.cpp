// SPDX-License-Identifier: Apache-2.0
#include "checks/check.hpp"

namespace zt::checks {

std::string_view to_string(Outcome outcome) {
  switch (outcome) {
  case Outcome::pass: return "pass";
  case Outcome::fail: return "fail";
  case Outcome::skip: return "skip";
  case Outcome::error: return "error";
  }
  return "error";
}

} // namespace zt::checks
