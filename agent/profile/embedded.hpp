// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string_view>
#include <vector>

namespace zt::profile {

/// profiles/*.toml compiled into the binary (cmake/EmbedProfiles.cmake).
struct EmbeddedFile {
  std::string_view name;  // "debian-12.toml"
  std::string_view text;
};

[[nodiscard]] const std::vector<EmbeddedFile>& embedded_files();

} // namespace zt::profile
