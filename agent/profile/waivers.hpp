// SPDX-License-Identifier: Apache-2.0
#pragma once

// Waivers, InSpec-style, in the site config: a check (id or glob) whose result the site accepts for
// a reason, optionally until a date. A waived check still runs and is reported with its outcome and
// the reason, but it does not fail the run; once the date has passed the waiver no longer applies
// and the run fails on it, naming it (report::apply_waivers).
//
//   [[waivers]]
//   check = "runtime.http"          # a check id, or a glob with * and ?: "units.*"
//   reason = "this lab has no DNS name for the domain"
//   expires = 2027-01-31            # optional: a TOML date or "YYYY-MM-DD"; valid through that day (UTC)

#include "profile/loader.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace zt::profile {

struct Waiver {
  std::string check;    // id or glob
  std::string reason;
  std::string expires;  // "YYYY-MM-DD" or empty
  Diagnostic where;     // file:line:col of the waiver's `check` (message empty)
};

/// The [[waivers]] of a site config text (empty text: none). Every problem is a diagnostic at its
/// position: not an array of tables, unknown key, missing or empty check/reason, a bad date.
[[nodiscard]] Loaded<std::vector<Waiver>> load_waivers(std::string_view text, std::string_view source_name);

/// A waiver whose pattern matches none of `check_ids` (the profile's checks) is a config error at
/// its position, with the closest id as a hint.
[[nodiscard]] Diagnostics waivers_without_checks(const std::vector<Waiver>& waivers,
                                                 const std::vector<std::string>& check_ids);

/// Shell-style glob: '*' any run of characters, '?' one character, everything else literal.
[[nodiscard]] bool glob_match(std::string_view pattern, std::string_view text);

} // namespace zt::profile
