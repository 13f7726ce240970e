// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: /var/lib/ztagent/state.json (parse_state). Invariant: whatever parses renders
// back to a document that parses to the same state.
#include "fuzz.hpp"
#include "state/state.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto state = zt::state::parse_state(zt::fuzz::text_of(data, size), "/fuzz/state.json");
  if (state) {
    auto again = zt::state::parse_state(zt::state::render_state(*state), "/fuzz/rendered.json");
    zt::fuzz::require(again.has_value() && *again == *state);
  }
  return 0;
}
