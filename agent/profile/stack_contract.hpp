// SPDX-License-Identifier: Apache-2.0
#pragma once

// Image contract points a site override can break (tests/e2e/images/<name>/CONTRACT.md), checked
// by resolve_stack() after the overrides are applied.

#include "profile/loader.hpp"
#include "profile/spec.hpp"

#include <cstdint>
#include <optional>
#include <string_view>

namespace zt::profile {

/// The uid `image` runs postgres as when ztagent knows it (postgres contract §2): 70 for
/// docker.io/library/postgres with an -alpine tag, 999 for its other (Debian-based) tags; nullopt
/// for any other image (another registry, a local mirror, a digest).
[[nodiscard]] std::optional<std::uint32_t> known_postgres_uid(std::string_view image);

/// A site config that replaces the postgres image must keep the postgres-data ACL right for the
/// uid that image runs as. With the default [[data.dirs]] (uid 70) only an official -alpine image
/// passes; with the site's own [[data.dirs]] an official image's known uid must be among
/// postgres-data's container_uids. Appends one error (that says what to set) to `out` otherwise.
void check_postgres_uid(const Stack& stack, const SiteConfig& site, Diagnostics& out);

} // namespace zt::profile
