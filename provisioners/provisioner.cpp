// SPDX-License-Identifier: Apache-2.0
#include "provisioners/provisioner.hpp"

namespace zt::provisioners {

std::string Plan::describe() const {
  std::string out;
  for (const auto& c : changes) {
    if (!out.empty()) {
      out += "; ";
    }
    out += c.target + ": " + c.summary;
  }
  return out;
}

} // namespace zt::provisioners
