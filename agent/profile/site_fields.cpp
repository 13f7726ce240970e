// SPDX-License-Identifier: Apache-2.0

// The site config (/etc/ztagent/ztagent.toml and --set KEY=VALUE): [service], [subids], [data],
// [ports], [preflight] and the [stack] overrides (domain, images, ports, forward_ports; checked
// against the profile by resolve_stack() in stack_fields.cpp). One file layer, then one layer per
// override; cross-field rules run after all layers.

#include "profile/data_root.hpp"
#include "profile/schema.hpp"

namespace zt::profile {

namespace {

using namespace detail;

constexpr std::int64_t k_min_subids = 65536; // podman maps 65536 ids into each container
constexpr std::int64_t k_max_subids = 1000000000;
constexpr std::int64_t k_max_container_uid = 65535;
constexpr std::int64_t k_http_port = 80;

// ---- site config -----------------------------------------------------------------------------

struct SiteBuilder {
  SiteConfig config;
  bool home_set = false;
  std::optional<Origin> port_start_origin;
  std::optional<Origin> data_root_origin;
};

void set_user(SiteBuilder& b, Layer& layer, const toml::node& node, const std::string& path) {
  const auto name = get_string(layer, node, path);
  if (!name) {
    return;
  }
  if (*name == "root") {
    layer.error(node, path + ": must not be 'root' (the stack runs rootless, as an unprivileged user)");
    return;
  }
  if (!is_valid_user_name(*name)) {
    layer.error(node, path + ": invalid user name " + squote(*name) +
                          " (1-32 characters: a-z, 0-9, '_', '-', starting with a-z or '_')");
    return;
  }
  b.config.user = *name;
}

void set_system_user(SiteBuilder& b, Layer& layer, const toml::node& node, const std::string& path) {
  if (const auto value = get_bool(layer, node, path)) {
    b.config.system_user = *value;
  }
}

void set_home(SiteBuilder& b, Layer& layer, const toml::node& node, const std::string& path) {
  if (auto value = get_path(layer, node, path)) {
    b.config.home = std::move(*value);
    b.home_set = true;
  }
}

void set_shell(SiteBuilder& b, Layer& layer, const toml::node& node, const std::string& path) {
  if (auto value = get_path(layer, node, path)) {
    b.config.shell = std::move(*value);
  }
}

void set_data_root(SiteBuilder& b, Layer& layer, const toml::node& node, const std::string& path) {
  if (auto value = get_path(layer, node, path)) {
    b.config.data_root = std::move(*value);
    b.data_root_origin = layer.origin(node);
  }
}

void set_subid_count(SiteBuilder& b, Layer& layer, const toml::node& node, const std::string& path) {
  const auto value = get_int(layer, node, path);
  if (!value) {
    return;
  }
  if (*value < k_min_subids) {
    layer.error(node, path + ": must be at least 65536 (podman maps 65536 ids into each container), got " +
                          std::to_string(*value));
    return;
  }
  if (*value > k_max_subids) {
    layer.error(node, path + ": must be at most 1000000000, got " + std::to_string(*value));
    return;
  }
  b.config.subid_count = static_cast<std::uint32_t>(*value);
}

std::optional<std::vector<std::uint32_t>>
get_uids(Layer& layer, const toml::node& node, const std::string& path) {
  const toml::array* array = get_array(layer, node, path);
  if (array == nullptr) {
    return std::nullopt;
  }
  const std::size_t errors_before = layer.error_count();
  std::vector<std::uint32_t> uids;
  for (std::size_t i = 0; i < array->size(); ++i) {
    const toml::node& element = *array->get(i);
    const std::string element_name = element_path(path, i);
    // Every uid is < 65536 <= subids.count, so it always falls inside the user's range.
    const auto uid = get_int_in(layer, element, element_name, 0, k_max_container_uid);
    if (!uid) {
      continue;
    }
    const auto previous = std::ranges::find(uids, static_cast<std::uint32_t>(*uid));
    if (previous != uids.end()) {
      layer.error(element, element_name + ": duplicate uid " + std::to_string(*uid) + " (also " +
                               element_path(path, static_cast<std::size_t>(previous - uids.begin())) + ")");
      continue;
    }
    uids.push_back(static_cast<std::uint32_t>(*uid));
  }
  if (layer.error_count() != errors_before) {
    return std::nullopt;
  }
  return uids;
}

constexpr std::string_view k_dir_keys_array[] = {"name", "mode", "container_uids"};

void set_data_dirs(SiteBuilder& b, Layer& layer, const toml::node& node, const std::string& path) {
  const toml::array* array = get_array(layer, node, path);
  if (array == nullptr) {
    return;
  }
  const std::vector<std::string_view> dir_keys(std::begin(k_dir_keys_array), std::end(k_dir_keys_array));
  const std::size_t errors_before = layer.error_count();
  std::vector<DataDir> dirs;
  std::vector<std::string> names; // index-aligned with the array, "" where invalid
  for (std::size_t i = 0; i < array->size(); ++i) {
    const toml::node& element = *array->get(i);
    const std::string dir_path = element_path(path, i);
    names.emplace_back();
    const toml::table* table = get_table(layer, element, dir_path);
    if (table == nullptr) {
      continue;
    }
    DataDir dir{.name = "", .mode = 0750, .container_uids = {}};
    bool ok = true;
    bool has_name = false;
    for (const auto& [key, value] : *table) {
      const std::string key_path = dir_path + "." + std::string(key.str());
      if (key.str() == "name") {
        has_name = true;
        const auto name = get_string(layer, value, key_path);
        if (!name) {
          ok = false;
        } else if (!is_plain_component(*name)) {
          layer.error(value, key_path +
                                 ": must be one plain path component (letters, digits, '.', '_', '-'; "
                                 "not '.' or '..'), got " +
                                 squote(*name));
          ok = false;
        } else if (const auto twin = std::ranges::find(names, *name); twin != names.end()) {
          layer.error(value, key_path + ": duplicate data dir " + squote(*name) + " (also " +
                                 element_path(path, static_cast<std::size_t>(twin - names.begin())) + ")");
          ok = false;
        } else {
          dir.name = *name;
          names.back() = *name;
        }
      } else if (key.str() == "mode") {
        const auto mode = get_mode(layer, value, key_path);
        ok = ok && mode.has_value();
        dir.mode = mode.value_or(0);
      } else if (key.str() == "container_uids") {
        auto uids = get_uids(layer, value, key_path);
        ok = ok && uids.has_value();
        dir.container_uids = std::move(uids).value_or(std::vector<std::uint32_t>{});
      } else {
        report_unknown(layer, key, value, dir_path, dir_path, dir_keys);
        ok = false;
      }
    }
    if (!has_name) {
      layer.error(element, dir_path + ": missing required key 'name'");
      ok = false;
    }
    if (ok) {
      dirs.push_back(std::move(dir));
    }
  }
  if (layer.error_count() == errors_before) {
    b.config.data_dirs = std::move(dirs);
    const Pos where = layer.pos(node);
    b.config.data_dirs_where = {layer.file(), where.line, where.col};
  }
}

constexpr std::string_view k_port_strategies[] = {"sysctl", "forward", "none"};

void set_port_strategy(SiteBuilder& b, Layer& layer, const toml::node& node, const std::string& path) {
  const auto value = get_enum(layer, node, path, k_port_strategies);
  if (!value) {
    return;
  }
  b.config.port_strategy = *value == "sysctl"    ? PortStrategy::sysctl
                           : *value == "forward" ? PortStrategy::forward
                                                 : PortStrategy::none;
}

void set_port_start(SiteBuilder& b, Layer& layer, const toml::node& node, const std::string& path) {
  if (const auto value = get_int_in(layer, node, path, 0, k_max_port)) {
    b.config.unprivileged_port_start = static_cast<std::uint32_t>(*value);
    b.port_start_origin = layer.origin(node);
  }
}

void set_sysctl_file(SiteBuilder& b, Layer& layer, const toml::node& node, const std::string& path) {
  auto value = get_path(layer, node, path);
  if (!value) {
    return;
  }
  constexpr std::string_view k_dir = "/etc/sysctl.d/";
  const std::string_view file_name = std::string_view(*value).substr(std::min(value->size(), k_dir.size()));
  if (!value->starts_with(k_dir) || file_name.find('/') != std::string_view::npos ||
      !file_name.ends_with(".conf") || file_name.size() == std::string_view(".conf").size()) {
    layer.error(node, path + ": must be a file directly in /etc/sysctl.d/ whose name ends in '.conf', got " +
                          squote(*value));
    return;
  }
  b.config.sysctl_file = std::move(*value);
}

void set_min_free(SiteBuilder& b, Layer& layer, const toml::node& node, const std::string& path) {
  const auto value = get_int(layer, node, path);
  if (!value) {
    return;
  }
  if (*value <= 0) {
    layer.error(node, path + ": must be greater than 0, got " + std::to_string(*value));
    return;
  }
  b.config.min_free_mib = static_cast<std::uint64_t>(*value);
}

// [stack]: overrides of the profile's stack. Container and port names are checked against the
// profile in resolve_stack(), which reports them at the position recorded here.

SourcePos source_pos(const Layer& layer, Pos where) {
  return {layer.file(), where.line, where.col};
}

void set_site_domain(SiteBuilder& b, Layer& layer, const toml::node& node, const std::string& path) {
  const auto domain = get_string(layer, node, path);
  if (!domain) {
    return;
  }
  if (const auto problem = domain_problem(*domain)) {
    layer.error(node, path + ": " + *problem);
    return;
  }
  b.config.stack.domain = *domain;
}

/// Replaces the entry for `name` or appends one: a later layer (--set) wins over an earlier one.
template <typename T, typename Key> void upsert(std::vector<T>& entries, Key T::*key, T entry) {
  const auto found = std::ranges::find(entries, entry.*key, key);
  if (found != entries.end()) {
    *found = std::move(entry);
  } else {
    entries.push_back(std::move(entry));
  }
}

void set_site_images(SiteBuilder& b, Layer& layer, const toml::node& node, const std::string& path) {
  const toml::table* table = get_table(layer, node, path);
  if (table == nullptr) {
    return;
  }
  for (const auto& [key, value] : *table) {
    const std::string entry_path = path + "." + std::string(key.str());
    const Pos where = layer.pos(key.source());
    if (!is_stack_name(key.str())) {
      layer.error_at(where,
                     entry_path + ": invalid container name " + squote(key.str()) + " (a-z, 0-9, '-')");
      continue;
    }
    const auto image = get_string(layer, value, entry_path);
    if (!image) {
      continue;
    }
    if (const auto problem = image_problem(*image)) {
      layer.error(value, entry_path + ": " + *problem);
      continue;
    }
    upsert(b.config.stack.images, &ImageOverride::container,
           ImageOverride{std::string(key.str()), *image, source_pos(layer, where)});
  }
}

void set_site_port_map(std::vector<PortOverride>& entries,
                       std::int64_t low,
                       Layer& layer,
                       const toml::node& node,
                       const std::string& path) {
  const toml::table* table = get_table(layer, node, path);
  if (table == nullptr) {
    return;
  }
  for (const auto& [key, value] : *table) {
    const std::string entry_path = path + "." + std::string(key.str());
    const Pos where = layer.pos(key.source());
    if (!is_stack_name(key.str())) {
      layer.error_at(where, entry_path + ": invalid port name " + squote(key.str()) + " (a-z, 0-9, '-')");
      continue;
    }
    if (const auto port = get_int_in(layer, value, entry_path, low, k_max_port)) {
      upsert(
          entries, &PortOverride::port,
          PortOverride{std::string(key.str()), static_cast<std::uint32_t>(*port), source_pos(layer, where)});
    }
  }
}

void set_site_ports(SiteBuilder& b, Layer& layer, const toml::node& node, const std::string& path) {
  set_site_port_map(b.config.stack.ports, 1, layer, node, path);
}

void set_site_forward_ports(SiteBuilder& b, Layer& layer, const toml::node& node, const std::string& path) {
  set_site_port_map(b.config.stack.forward_ports, 0, layer, node, path);
}

using SiteField = Field<SiteBuilder>;

constexpr SiteField k_service_fields[] = {
    {.key = "user", .set = &set_user},           {.key = "system_user", .set = &set_system_user},
    {.key = "home", .set = &set_home},           {.key = "shell", .set = &set_shell},
    {.key = "data_root", .set = &set_data_root},
};
constexpr SiteField k_subids_fields[] = {{.key = "count", .set = &set_subid_count}};
constexpr SiteField k_data_fields[] = {{.key = "dirs", .set = &set_data_dirs}};
constexpr SiteField k_ports_fields[] = {
    {.key = "strategy", .set = &set_port_strategy},
    {.key = "unprivileged_port_start", .set = &set_port_start},
    {.key = "sysctl_file", .set = &set_sysctl_file},
};
constexpr SiteField k_site_preflight_fields[] = {{.key = "min_free_mib", .set = &set_min_free}};
constexpr SiteField k_site_stack_fields[] = {
    {.key = "domain", .set = &set_site_domain},
    {.key = "images", .set = &set_site_images, .map = true},
    {.key = "ports", .set = &set_site_ports, .map = true},
    {.key = "forward_ports", .set = &set_site_forward_ports, .map = true},
};
constexpr SiteField k_site_fields[] = {
    table_field<SiteBuilder>("service", k_service_fields),
    table_field<SiteBuilder>("subids", k_subids_fields),
    table_field<SiteBuilder>("data", k_data_fields),
    table_field<SiteBuilder>("ports", k_ports_fields),
    table_field<SiteBuilder>("preflight", k_site_preflight_fields),
    table_field<SiteBuilder>("stack", k_site_stack_fields),
};

/// The TOML value of an override: VALUE as TOML if "x = VALUE" is exactly that one key, else
/// VALUE as a string. Returned as a one-key document so the node lives as long as the table.
toml::table parse_override_value(std::string_view value) {
  try {
    const std::string document = "x = " + std::string(value);
    toml::table doc = toml::parse(std::string_view(document), std::string_view("--set"));
    if (doc.size() == 1 && doc.contains("x")) {
      return doc;
    }
  } catch (const toml::parse_error&) {
    // Not a TOML value: a bare string such as bob or /srv/data.
  }
  toml::table doc;
  doc.insert("x", std::string(value));
  return doc;
}

void apply_override(SiteBuilder& b, std::string_view override_text, int index, Diagnostics& out) {
  Layer layer("--set", index);
  const Pos where{index, 1};
  const std::size_t eq = override_text.find('=');
  if (eq == std::string_view::npos) {
    layer.error_at(where, "expected KEY=VALUE (e.g. service.user=ztnet), got " + squote(override_text));
    layer.flush_to(out);
    return;
  }
  const std::string_view key = util::trim(override_text.substr(0, eq));
  const std::string_view value = util::trim(override_text.substr(eq + 1));
  const SiteField* field = find_leaf<SiteBuilder>(k_site_fields, key);
  std::string_view map_key; // "postgres" in stack.images.postgres
  if (const std::size_t dot = key.rfind('.'); field == nullptr && dot != std::string_view::npos) {
    const SiteField* parent = find_leaf<SiteBuilder>(k_site_fields, key.substr(0, dot));
    if (parent != nullptr && parent->map && dot + 1 < key.size()) {
      field = parent;
      map_key = key.substr(dot + 1);
    }
  }
  if (field == nullptr) {
    std::vector<std::string> known;
    leaf_paths<SiteBuilder>(k_site_fields, "", known);
    const std::vector<std::string_view> known_views(known.begin(), known.end());
    std::string message = "unknown key " + squote(key);
    if (const auto hint = suggest(key, known_views)) {
      message += " (did you mean " + squote(*hint) + "?)";
    } else {
      message += " (known: " + util::join_views(known_views, ", ") + ")";
    }
    layer.error_at(where, std::move(message));
    layer.flush_to(out);
    return;
  }
  const toml::table doc = parse_override_value(value);
  if (!map_key.empty()) {
    toml::table entry;
    entry.insert(map_key, *doc.get("x"));
    field->set(b, layer, entry, std::string(key.substr(0, key.size() - map_key.size() - 1)));
  } else {
    field->set(b, layer, *doc.get("x"), std::string(key));
  }
  layer.flush_to(out);
}

} // namespace

Loaded<SiteConfig> load_site_config(std::string_view text,
                                    std::string_view source_name,
                                    const std::vector<std::string>& overrides) {
  SiteBuilder b;
  Diagnostics out;
  const std::string source(source_name);
  if (auto doc = parse_toml(text, source, out)) {
    doc->erase("waivers");  // [[waivers]]: profile/waivers.cpp reads and validates them
    Layer layer(source);
    walk_table<SiteBuilder>(b, layer, *doc, "", "", k_site_fields);
    layer.flush_to(out);
  }
  for (std::size_t i = 0; i < overrides.size(); ++i) {
    apply_override(b, overrides[i], static_cast<int>(i + 1), out);
  }
  if (!b.home_set) {
    b.config.home = "/home/" + b.config.user;
  }
  // service.data_root is chowned to the service user, mode 0750: never a system directory.
  if (auto problem = data_root_problem(b.config.data_root, b.config.home)) {
    const Origin where = b.data_root_origin.value_or(Origin{source, {1, 1}});
    out.push_back({where.file, where.pos.line, where.pos.col, "service.data_root: " + *problem});
  }
  if (b.config.port_strategy == PortStrategy::sysctl && b.config.unprivileged_port_start > k_http_port) {
    // The default start (80) passes, so an explicit value broke the rule: point at it.
    const Origin where = b.port_start_origin.value_or(Origin{source, {1, 1}});
    out.push_back({where.file, where.pos.line, where.pos.col,
                   "ports.unprivileged_port_start: must be at most 80 when ports.strategy is 'sysctl' (the "
                   "rootless stack binds port 80), got " +
                       std::to_string(b.config.unprivileged_port_start)});
  }
  if (!out.empty()) {
    return std::unexpected(std::move(out));
  }
  return std::move(b.config);
}

} // namespace zt::profile
