// SPDX-License-Identifier: Apache-2.0
#pragma once

// The profile's schema: what a profile file may say and how each value is checked. The [stack]
// part is in stack_fields.cpp; loader.cpp applies the layers (includes) against these tables.

#include "profile/schema.hpp"

#include <set>
#include <string>
#include <vector>

namespace zt::profile::detail {

/// What the layers of one profile build up, with what the cross-field rules need afterwards.
struct ProfileBuilder {
  ProfileSpec spec;
  std::set<std::string, std::less<>> seen; // dotted keys that some layer set
  std::vector<Ref> secret_refs;            // every container's secrets[].secret
  std::vector<Ref> mount_sources;          // every container's volumes[].source
};

using ProfileField = Field<ProfileBuilder>;

/// The root of the profile schema (profile_fields.cpp).
extern const ProfileField k_profile_root_fields[8];
/// [stack] of a profile (stack_fields.cpp).
extern const ProfileField k_stack_fields[6];

/// Rules between [stack] parts that may come from different layers: every secret a container
/// names is declared, every volume source is a data dir or a stack file (stack_fields.cpp).
void check_stack(const ProfileBuilder& b, Diagnostics& out);

} // namespace zt::profile::detail
