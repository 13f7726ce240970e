// SPDX-License-Identifier: Apache-2.0

// Profiles and the site config: TOML in, validated plain structs out. This file holds the entry
// points of loader.hpp for profiles: the embedded files, the layering of a profile's includes,
// the required keys, and os-release matching. The rest of the loader, by what it does:
//   rules.{hpp,cpp}          value rules (names, paths, modes, images, durations, placeholders)
//   schema.{hpp,cpp}         layers, diagnostics, typed getters, the schema walker
//   site_fields.cpp          the site config's keys and --set overrides (load_site_config)
//   profile_fields.{hpp,cpp} the profile's keys
//   stack_fields.cpp         the profile's [stack] and resolve_stack()
// toml::parse_error is caught in schema.cpp and turned into a Diagnostic: no toml++ exception
// leaves the loader.

#include "profile/loader.hpp"

#include "profile/embedded.hpp"
#include "profile/profile_fields.hpp"
#include "util/strings.hpp"

namespace zt::profile {

std::string Diagnostic::to_string() const {
  return file + ":" + std::to_string(line) + ":" + std::to_string(col) + ": " + message;
}

std::string to_string(const Diagnostics& diagnostics) {
  std::string out;
  for (const Diagnostic& d : diagnostics) {
    out += d.to_string();
    out += '\n';
  }
  return out;
}

namespace {

using namespace detail;

constexpr std::string_view k_embedded_prefix = "embedded:";

const EmbeddedFile* find_embedded(std::string_view file_name) {
  const auto& files = embedded_files();
  const auto found = std::ranges::find(files, file_name, &EmbeddedFile::name);
  return found == files.end() ? nullptr : &*found;
}

std::string embedded_source(std::string_view file_name) {
  return std::string(k_embedded_prefix) + std::string(file_name);
}

/// Applies one profile file: its includes first (recursively), then its own keys. `chain` holds
/// the sources being applied, outermost first, to refuse include cycles.
void apply_profile_layer(ProfileBuilder& b,
                         std::string_view text,
                         const std::string& source,
                         std::vector<std::string>& chain,
                         Diagnostics& out) {
  const auto doc = parse_toml(text, source, out);
  if (!doc) {
    return;
  }
  Layer layer(source);
  chain.push_back(source);
  if (const toml::node* include = doc->get("include")) {
    for (const Item& item : get_string_list(layer, *include, "include", Unique::yes).items) {
      const EmbeddedFile* file = find_embedded(item.text);
      if (file == nullptr) {
        std::vector<std::string_view> names;
        for (const EmbeddedFile& f : embedded_files()) {
          names.push_back(f.name);
        }
        std::string message = item.path + ": unknown file " + squote(item.text);
        if (const auto hint = suggest(item.text, names)) {
          message += " (did you mean " + squote(*hint) + "?)";
        } else {
          message += " (embedded: " + util::join_views(names, ", ") + ")";
        }
        layer.error_at(item.pos, std::move(message));
        continue;
      }
      const std::string included = embedded_source(file->name);
      if (std::ranges::find(chain, included) != chain.end()) {
        std::string cycle;
        for (const std::string& link : chain) {
          cycle += link + " -> ";
        }
        layer.error_at(item.pos, item.path + ": include cycle: " + cycle + included);
        continue;
      }
      apply_profile_layer(b, file->text, included, chain, out);
    }
  }
  walk_table<ProfileBuilder>(b, layer, *doc, "", "", k_profile_root_fields);
  chain.pop_back();
  layer.flush_to(out);
}

Loaded<ProfileSpec> load_profile_source(std::string_view text, const std::string& source) {
  ProfileBuilder b;
  Diagnostics out;
  std::vector<std::string> chain;
  apply_profile_layer(b, text, source, chain, out);
  if (out.empty()) {
    check_stack(b, out);
  }
  if (!out.empty()) {
    // Missing keys are often a consequence of an earlier error: report those first.
    return std::unexpected(std::move(out));
  }
  constexpr std::string_view k_required[] = {"profile.name", "steps", "packages.manager",
                                             "packages.podman_min_version"};
  for (const std::string_view key : k_required) {
    if (!b.seen.contains(key)) {
      out.push_back({source, 1, 1, "missing required key " + squote(key)});
    }
  }
  if (b.seen.contains("profile.match.id") != b.seen.contains("profile.match.version_ids")) {
    const std::string_view missing =
        b.seen.contains("profile.match.id") ? "profile.match.version_ids" : "profile.match.id";
    out.push_back(
        {source, 1, 1, "missing required key " + squote(missing) + " ([profile.match] needs both)"});
  }
  if (!out.empty()) {
    return std::unexpected(std::move(out));
  }
  b.spec.source = source;
  return std::move(b.spec);
}

std::string known_profiles() {
  return util::join(profile_names(), ", ");
}

/// Removes one level of os-release quoting ("..." with backslash escapes, or '...').
std::string unquote_os_release(std::string_view value) {
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
    std::string out;
    const std::string_view inner = value.substr(1, value.size() - 2);
    for (std::size_t i = 0; i < inner.size(); ++i) {
      if (inner[i] == '\\' && i + 1 < inner.size()) {
        ++i;
      }
      out += inner[i];
    }
    return out;
  }
  if (value.size() >= 2 && value.front() == '\'' && value.back() == '\'') {
    return std::string(value.substr(1, value.size() - 2));
  }
  return std::string(value);
}


} // namespace

std::vector<std::string> profile_names() {
  std::vector<std::string> names;
  for (const EmbeddedFile& file : embedded_files()) {
    if (file.name.starts_with('_') || !file.name.ends_with(".toml")) {
      continue;
    }
    names.emplace_back(file.name.substr(0, file.name.size() - std::string_view(".toml").size()));
  }
  std::ranges::sort(names);
  return names;
}

OsRelease parse_os_release(std::string_view text) {
  OsRelease release;
  for (const std::string_view raw : util::lines(text)) {
    const std::string_view line = util::trim(raw);
    if (line.empty() || line.front() == '#') {
      continue;
    }
    const std::size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      continue;
    }
    const std::string_view key = util::trim(line.substr(0, eq));
    const std::string value = unquote_os_release(util::trim(line.substr(eq + 1)));
    if (key == "ID") {
      release.id = value;
    } else if (key == "VERSION_ID") {
      release.version_id = value;
    } else if (key == "PRETTY_NAME") {
      release.pretty_name = value;
    }
  }
  return release;
}

Loaded<ProfileSpec> load_profile_from_string(std::string_view text, std::string_view name) {
  return load_profile_source(text, std::string(name));
}

Loaded<ProfileSpec> load_profile_file(std::string_view text, std::string_view path) {
  return load_profile_source(text, std::string(path));
}

Loaded<ProfileSpec> load_profile(std::string_view name_or_file, std::string_view os_release_text) {
  if (name_or_file.find('/') != std::string_view::npos || name_or_file.ends_with(".toml")) {
    return std::unexpected(
        Diagnostics{{std::string(name_or_file), 0, 0,
                     "profile files are read by the caller and passed to load_profile_file()"}});
  }
  if (name_or_file == "auto") {
    const OsRelease release = parse_os_release(os_release_text);
    for (const std::string& name : profile_names()) {
      const std::string file_name = name + ".toml";
      auto spec = load_profile_source(find_embedded(file_name)->text, embedded_source(file_name));
      if (!spec) {
        return spec; // a broken shipped profile; profiles_test keeps this from happening
      }
      if (spec->os_id == release.id &&
          std::ranges::find(spec->os_version_ids, release.version_id) != spec->os_version_ids.end()) {
        return spec;
      }
    }
    return std::unexpected(
        Diagnostics{{"/etc/os-release", 0, 0,
                     "no shipped profile matches ID=" + release.id + " VERSION_ID=" + release.version_id +
                         " (known: " + known_profiles() + "); pass --profile NAME or FILE"}});
  }
  const std::string file_name = std::string(name_or_file) + ".toml";
  const EmbeddedFile* file = name_or_file.starts_with('_') ? nullptr : find_embedded(file_name);
  if (file == nullptr) {
    return std::unexpected(
        Diagnostics{{std::string(name_or_file), 0, 0,
                     "unknown profile " + squote(name_or_file) + " (known: " + known_profiles() + ")"}});
  }
  return load_profile_source(file->text, embedded_source(file_name));
}

} // namespace zt::profile
