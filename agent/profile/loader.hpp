// SPDX-License-Identifier: Apache-2.0
#pragma once

// The only place that knows TOML. Everything is validated before anything changes: unknown keys,
// wrong types, invalid user names, relative or ".." paths, out-of-range numbers. All errors are
// collected and returned together as "file:line:col: message".

#include "profile/spec.hpp"
#include "util/result.hpp"

#include <expected>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace zt::profile {

struct Diagnostic {
  std::string file; // path, "embedded:debian-12.toml" or "--set"
  int line = 0;
  int col = 0;
  std::string message;
  /// "file:line:col: message"
  [[nodiscard]] std::string to_string() const;
};

using Diagnostics = std::vector<Diagnostic>;
/// One to_string() per line, each ending in '\n'.
[[nodiscard]] std::string to_string(const Diagnostics& diagnostics);
template <typename T> using Loaded = std::expected<T, Diagnostics>;

/// Names of the embedded, selectable profiles ("debian-12", ...), sorted. Shared base files
/// (those starting with '_') are not listed.
[[nodiscard]] std::vector<std::string> profile_names();

/// `name_or_file`: an embedded profile name ("debian-12") or "auto" (matched against ID and
/// VERSION_ID of `os_release_text`, the contents of <root>/etc/os-release). A path (contains '/'
/// or ends in .toml) is not read here (file I/O is host-layer business): the caller reads it and
/// calls load_profile_file(); passing a path gives a diagnostic saying so.
/// Errors: "no shipped profile matches ID=.. VERSION_ID=..", "unknown profile 'x' (known: ...)",
/// or the profile's own validation diagnostics.
[[nodiscard]] Loaded<ProfileSpec> load_profile(std::string_view name_or_file,
                                               std::string_view os_release_text);
/// A profile file the caller has read (through host::Fs); `path` names it in diagnostics and
/// ProfileSpec::source. Its `include`s resolve to embedded files by name ("_base.toml").
[[nodiscard]] Loaded<ProfileSpec> load_profile_file(std::string_view text, std::string_view path);
/// For tests: parse a profile from a string; `name` is used in diagnostics.
[[nodiscard]] Loaded<ProfileSpec> load_profile_from_string(std::string_view text, std::string_view name);

/// Site config: `text` from `source_name` (empty text = defaults), then each "KEY=VALUE" override
/// (VALUE parsed as a TOML value if it is one, else as a string).
[[nodiscard]] Loaded<SiteConfig> load_site_config(std::string_view text,
                                                  std::string_view source_name,
                                                  const std::vector<std::string>& overrides);

/// Config::stack: the profile's [stack] with the site config's [stack] overrides applied (domain,
/// images, public and forward ports) and the placeholders {domain} and {pod} substituted in env
/// values and stack file contents. Errors point at the site config value that does not fit the
/// profile: an unknown container or port name, ports that clash after the overrides, a data dir
/// that the volumes need but [[data.dirs]] dropped.
[[nodiscard]] Loaded<Stack> resolve_stack(const ProfileSpec& profile, const SiteConfig& site);

/// Parses os-release into ID and VERSION_ID (quotes removed).
struct OsRelease {
  std::string id;
  std::string version_id;
  std::string pretty_name;
};
[[nodiscard]] OsRelease parse_os_release(std::string_view text);

} // namespace zt::profile
