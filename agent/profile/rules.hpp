// SPDX-License-Identifier: Apache-2.0
#pragma once

// Value rules of the profile and the site config: pure checks of names, paths, modes, image
// references, durations and the {domain}/{pod} placeholders, and the message helpers every part of
// the loader uses (squote(), close-match suggestions). No TOML here; tests call these directly
// (tests/unit/profile/rules_test.cpp).

#include "profile/spec.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace zt::profile::detail {

constexpr std::int64_t k_max_port = 65535;
/// The placeholders that env values and stack file contents may use.
constexpr std::string_view k_placeholders[] = {"domain", "pod"};

/// 'text' with control characters escaped, for messages.
[[nodiscard]] std::string squote(std::string_view text);

[[nodiscard]] bool is_lower(char c);

[[nodiscard]] bool is_upper(char c);

[[nodiscard]] bool is_digit(char c);

/// Edit distance counting an adjacent transposition as one edit ("suer" -> "user" is 1).
[[nodiscard]] std::size_t edit_distance(std::string_view a, std::string_view b);

/// The closest candidate, if it is close enough to be what the user meant.
[[nodiscard]] std::optional<std::string_view> suggest(std::string_view word, std::span<const std::string_view> candidates);

/// Debian/shadow rule ^[a-z_][a-z0-9_-]*[$]?$, at most 32 characters.
[[nodiscard]] bool is_valid_user_name(std::string_view name);

/// Why `path` is not a clean absolute path, or nothing when it is one.
[[nodiscard]] std::optional<std::string_view> path_problem(std::string_view path);

/// One plain path component: [A-Za-z0-9._-]+, not "." or "..".
[[nodiscard]] bool is_plain_component(std::string_view name);

/// Step ids, profile names and os-release IDs: [a-z0-9][a-z0-9._-]*.
[[nodiscard]] bool is_identifier(std::string_view id);

/// apt and dnf package names; never starting with '-' so a name cannot become an option.
[[nodiscard]] bool is_package_name(std::string_view name);

/// "4", "4.4", "5.0.1".
[[nodiscard]] bool is_version(std::string_view version);

/// "0750" or "750" -> 0750 (at most 0777).
[[nodiscard]] std::optional<std::uint32_t> parse_mode_string(std::string_view text);

/// Pod, container and port names: [a-z0-9][a-z0-9-]*, at most 63 characters (they become unit,
/// container and DNS-like names).
[[nodiscard]] bool is_stack_name(std::string_view name);

/// Environment variable names: [A-Za-z_][A-Za-z0-9_]*.
[[nodiscard]] bool is_env_name(std::string_view name);

/// Secret names: [A-Z][A-Z0-9_]* (they also name the podman secret and the env file line).
[[nodiscard]] bool is_secret_name(std::string_view name);

/// Capability names without the CAP_ prefix: [A-Z][A-Z0-9_]*.
[[nodiscard]] bool is_capability(std::string_view name);

/// A path under data_root: plain components joined by single '/'.
[[nodiscard]] bool is_relative_path(std::string_view path);

/// A Go duration as podman reads it: one or more <digits><unit>, unit ms, s, m or h ("1m30s").
[[nodiscard]] bool is_duration(std::string_view text);

/// Why `image` is not a fully qualified image reference ("registry.host/path:tag"), or nothing.
[[nodiscard]] std::optional<std::string> image_problem(std::string_view image);

/// Why `domain` cannot be the caddy site address and NEXTAUTH_URL host, or nothing.
[[nodiscard]] std::optional<std::string> domain_problem(std::string_view domain);

/// The first `{word}` (word = a-z and '_') in `text` that is not a known placeholder.
[[nodiscard]] std::optional<std::string> unknown_placeholder(std::string_view text);

/// `text` with {domain} and {pod} replaced; every other brace is left alone (Caddyfile blocks).
[[nodiscard]] std::string substitute(std::string_view text, std::string_view domain, std::string_view pod);

/// The data dir names a profile's volumes may use: the defaults of SiteConfig::data_dirs. A site
/// config that replaces [[data.dirs]] must keep them (resolve_stack() checks).
[[nodiscard]] std::vector<std::string> default_data_dir_names();

/// "unknown X 'y' (did you mean 'z'?)" or "(known: a, b)".
[[nodiscard]] std::string unknown_name(std::string_view what,
                         std::string_view name,
                         const std::vector<std::string>& known,
                         std::string_view known_label = "known");

} // namespace zt::profile::detail
