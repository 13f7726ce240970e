// SPDX-License-Identifier: Apache-2.0
#pragma once

// The `ztagent explain` catalog: for every check id, why the postcondition matters, where that comes
// from (podman's docs and issues, systemd, the kernel) and how to fix it by hand. What a check verifies
// (Check::description()) and its current expected/actual/fix come from the check itself; this table
// only adds the reasons. One table, keyed by check id; ids built from configuration use a '*' for
// one dotted segment ("data.*.mode", "packages.*").

#include <string>
#include <string_view>
#include <vector>

namespace zt::cli {

struct CheckDoc {
  std::string_view id;     // exact id or pattern with '*' for one segment
  std::string_view why;    // why it matters
  std::string_view source; // where that is documented
  std::string_view fix;    // the fix by hand (ztagent's own fix is `provision --only <step>`)
};

/// The entry for `check_id`: an exact entry first, else the first matching pattern; nullptr when none.
[[nodiscard]] const CheckDoc* find_check_doc(std::string_view check_id);

/// Every entry, in table order.
[[nodiscard]] const std::vector<CheckDoc>& check_catalog();

/// True when `pattern` ('*' = one or more characters other than '.') matches `id` entirely.
[[nodiscard]] bool id_matches(std::string_view pattern, std::string_view id);

/// The candidate closest to `word` by edit distance, if it is close enough to be a likely typo
/// (distance <= max(2, size/3)); empty otherwise.
[[nodiscard]] std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

} // namespace zt::cli
