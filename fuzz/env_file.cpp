// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: a secret env file (parse_env_file). Invariants: entries come in line order,
// names are unique, and no error message quotes the content (secrets never reach a message).
#include "checks/secrets.hpp"
#include "fuzz.hpp"

#include <set>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto entries = zt::checks::parse_env_file(zt::fuzz::text_of(data, size), "env");
  if (!entries) {
    const std::string& m = entries.error().message;
    zt::fuzz::require(m.starts_with("env: line ") || m.starts_with("env: "));
    return 0;
  }
  std::set<std::string> names;
  std::size_t last = 0;
  for (const auto& e : *entries) {
    zt::fuzz::require(e.line > last && names.insert(e.name).second);
    last = e.line;
  }
  return 0;
}
