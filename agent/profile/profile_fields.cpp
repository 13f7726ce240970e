// SPDX-License-Identifier: Apache-2.0

// The profile's own keys: steps, [profile] and [profile.match], [packages], [preflight], [ports],
// [units]. Each setter type-checks its node, validates the value (profile/rules.hpp) and stores it
// in the ProfileBuilder; the walker (schema.hpp) reports unknown keys.

#include "profile/profile_fields.hpp"

namespace zt::profile::detail {

namespace {

void set_steps(ProfileBuilder& b, Layer& layer, const toml::node& node, const std::string& path) {
  const ItemList list = get_string_list(layer, node, path, Unique::yes);
  bool ok = list.ok;
  if (ok && list.items.empty()) {
    layer.error(node, path + ": must list at least one step");
    return;
  }
  for (const Item& item : list.items) {
    if (!is_identifier(item.text)) {
      layer.error_at(item.pos,
                     item.path + ": invalid step id " + squote(item.text) + " (a-z, 0-9, '.', '_', '-')");
      ok = false;
    }
  }
  if (ok) {
    b.spec.steps = texts(list.items);
    b.seen.insert(path);
  }
}

void set_profile_name(ProfileBuilder& b, Layer& layer, const toml::node& node, const std::string& path) {
  const auto name = get_string(layer, node, path);
  if (!name) {
    return;
  }
  if (!is_identifier(*name)) {
    layer.error(node, path + ": invalid profile name " + squote(*name) + " (a-z, 0-9, '.', '_', '-')");
    return;
  }
  b.spec.name = *name;
  b.seen.insert(path);
}

void set_description(ProfileBuilder& b, Layer& layer, const toml::node& node, const std::string& path) {
  if (auto text = get_string(layer, node, path)) {
    b.spec.description = std::move(*text);
    b.seen.insert(path);
  }
}

void set_match_id(ProfileBuilder& b, Layer& layer, const toml::node& node, const std::string& path) {
  const auto id = get_string(layer, node, path);
  if (!id) {
    return;
  }
  if (!is_identifier(*id)) {
    layer.error(node, path + ": invalid os-release ID " + squote(*id) + " (a-z, 0-9, '.', '_', '-')");
    return;
  }
  b.spec.os_id = *id;
  b.seen.insert(path);
}

void set_match_versions(ProfileBuilder& b, Layer& layer, const toml::node& node, const std::string& path) {
  const ItemList list = get_string_list(layer, node, path, Unique::yes);
  bool ok = list.ok;
  if (ok && list.items.empty()) {
    layer.error(node, path + ": must list at least one VERSION_ID");
    return;
  }
  for (const Item& item : list.items) {
    if (item.text.empty() || !std::ranges::all_of(item.text, [](char c) { return c > 0x20 && c < 0x7f; })) {
      layer.error_at(item.pos, item.path + ": invalid VERSION_ID " + squote(item.text));
      ok = false;
    }
  }
  if (ok) {
    b.spec.os_version_ids = texts(list.items);
    b.seen.insert(path);
  }
}

constexpr std::string_view k_package_managers[] = {"apt", "dnf"};

void set_manager(ProfileBuilder& b, Layer& layer, const toml::node& node, const std::string& path) {
  if (const auto value = get_enum(layer, node, path, k_package_managers)) {
    b.spec.package_manager = std::string(*value);
    b.seen.insert(path);
  }
}

void set_install(ProfileBuilder& b, Layer& layer, const toml::node& node, const std::string& path) {
  const ItemList list = get_string_list(layer, node, path, Unique::yes);
  bool ok = list.ok;
  for (const Item& item : list.items) {
    if (!is_package_name(item.text)) {
      layer.error_at(item.pos, item.path + ": invalid package name " + squote(item.text) +
                                   " (letters, digits, '+', '.', '_', '-'; not starting with '-')");
      ok = false;
    }
  }
  if (ok) {
    b.spec.packages = texts(list.items);
    b.seen.insert(path);
  }
}

void set_podman_min(ProfileBuilder& b, Layer& layer, const toml::node& node, const std::string& path) {
  const auto value = get_string(layer, node, path);
  if (!value) {
    return;
  }
  if (!is_version(*value)) {
    layer.error(node, path + ": expected a version such as \"4.4\", got " + squote(*value));
    return;
  }
  b.spec.podman_min_version = *value;
  b.seen.insert(path);
}

void set_apparmor(ProfileBuilder& b, Layer& layer, const toml::node& node, const std::string& path) {
  if (const auto value = get_bool(layer, node, path)) {
    b.spec.apparmor_userns = *value;
    b.seen.insert(path);
  }
}

constexpr std::string_view k_firewalls[] = {"nftables", "firewalld"};

void set_firewall(ProfileBuilder& b, Layer& layer, const toml::node& node, const std::string& path) {
  if (const auto value = get_enum(layer, node, path, k_firewalls)) {
    b.spec.firewall = std::string(*value);
    b.seen.insert(path);
  }
}

void set_selinux_labels(ProfileBuilder& b, Layer& layer, const toml::node& node, const std::string& path) {
  if (const auto value = get_bool(layer, node, path)) {
    b.spec.selinux_labels = *value;
    b.seen.insert(path);
  }
}



constexpr ProfileField k_match_fields[] = {
    {.key = "id", .set = &set_match_id},
    {.key = "version_ids", .set = &set_match_versions},
};
constexpr ProfileField k_profile_fields[] = {
    {.key = "name", .set = &set_profile_name},
    {.key = "description", .set = &set_description},
    table_field<ProfileBuilder>("match", k_match_fields),
};
constexpr ProfileField k_packages_fields[] = {
    {.key = "manager", .set = &set_manager},
    {.key = "install", .set = &set_install},
    {.key = "podman_min_version", .set = &set_podman_min},
};
constexpr ProfileField k_profile_preflight_fields[] = {{.key = "apparmor_userns", .set = &set_apparmor}};
constexpr ProfileField k_profile_ports_fields[] = {{.key = "firewall", .set = &set_firewall}};
constexpr ProfileField k_profile_units_fields[] = {{.key = "selinux_labels", .set = &set_selinux_labels}};
} // namespace

const ProfileField k_profile_root_fields[8] = {
    {.key = "include"}, // applied before the walk, see apply_profile_layer()
    {.key = "steps", .set = &set_steps},
    table_field<ProfileBuilder>("profile", k_profile_fields),
    table_field<ProfileBuilder>("packages", k_packages_fields),
    table_field<ProfileBuilder>("preflight", k_profile_preflight_fields),
    table_field<ProfileBuilder>("ports", k_profile_ports_fields),
    table_field<ProfileBuilder>("units", k_profile_units_fields),
    table_field<ProfileBuilder>("stack", k_stack_fields),
};

} // namespace zt::profile::detail
