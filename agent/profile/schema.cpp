// SPDX-License-Identifier: Apache-2.0

#include "profile/schema.hpp"

namespace zt::profile::detail {

std::string_view type_name(toml::node_type type) {
  switch (type) {
  case toml::node_type::none:
    return "nothing";
  case toml::node_type::table:
    return "table";
  case toml::node_type::array:
    return "array";
  case toml::node_type::string:
    return "string";
  case toml::node_type::integer:
    return "integer";
  case toml::node_type::floating_point:
    return "float";
  case toml::node_type::boolean:
    return "boolean";
  case toml::node_type::date:
    return "date";
  case toml::node_type::time:
    return "time";
  case toml::node_type::date_time:
    return "date-time";
  }
  return "unknown";
}

std::optional<toml::table> parse_toml(std::string_view text, const std::string& file, Diagnostics& out) {
  try {
    return toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    out.push_back({file, static_cast<int>(e.source().begin.line), static_cast<int>(e.source().begin.column),
                   "TOML syntax error: " + std::string(e.description())});
    return std::nullopt;
  }
}

std::string expected_got(const std::string& path, std::string_view expected, const toml::node& node) {
  return path + ": expected " + std::string(expected) + ", got " + std::string(type_name(node.type()));
}

std::optional<std::string> get_string(Layer& layer, const toml::node& node, const std::string& path) {
  if (const auto* value = node.as_string()) {
    return value->get();
  }
  layer.error(node, expected_got(path, "a string", node));
  return std::nullopt;
}

std::optional<bool> get_bool(Layer& layer, const toml::node& node, const std::string& path) {
  if (const auto* value = node.as_boolean()) {
    return value->get();
  }
  layer.error(node, expected_got(path, "a boolean", node));
  return std::nullopt;
}

std::optional<std::int64_t> get_int(Layer& layer, const toml::node& node, const std::string& path) {
  if (const auto* value = node.as_integer()) {
    return value->get();
  }
  layer.error(node, expected_got(path, "an integer", node));
  return std::nullopt;
}

std::optional<std::int64_t> get_int_in(
    Layer& layer, const toml::node& node, const std::string& path, std::int64_t low, std::int64_t high) {
  const auto value = get_int(layer, node, path);
  if (!value) {
    return std::nullopt;
  }
  if (*value < low || *value > high) {
    layer.error(node, path + ": must be between " + std::to_string(low) + " and " + std::to_string(high) +
                          ", got " + std::to_string(*value));
    return std::nullopt;
  }
  return value;
}

const toml::table* get_table(Layer& layer, const toml::node& node, const std::string& path) {
  if (const auto* table = node.as_table()) {
    return table;
  }
  layer.error(node, expected_got(path, "a table", node));
  return nullptr;
}

const toml::array* get_array(Layer& layer, const toml::node& node, const std::string& path) {
  if (const auto* array = node.as_array()) {
    return array;
  }
  layer.error(node, expected_got(path, "an array", node));
  return nullptr;
}

std::string element_path(const std::string& path, std::size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

ItemList get_string_list(Layer& layer, const toml::node& node, const std::string& path, Unique unique) {
  ItemList list;
  const toml::array* array = get_array(layer, node, path);
  if (array == nullptr) {
    return list;
  }
  const std::size_t errors_before = layer.error_count();
  for (std::size_t i = 0; i < array->size(); ++i) {
    const toml::node& element = *array->get(i);
    std::string item_path = element_path(path, i);
    const auto text = get_string(layer, element, item_path);
    if (!text) {
      continue;
    }
    if (unique == Unique::yes) {
      const auto previous = std::ranges::find(list.items, *text, &Item::text);
      if (previous != list.items.end()) {
        layer.error(element, item_path + ": duplicate " + squote(*text) + " (also " + previous->path + ")");
        continue;
      }
    }
    list.items.push_back({*text, layer.pos(element), std::move(item_path)});
  }
  list.ok = layer.error_count() == errors_before;
  return list;
}

std::vector<std::string> texts(const std::vector<Item>& items) {
  std::vector<std::string> out;
  out.reserve(items.size());
  for (const Item& item : items) {
    out.push_back(item.text);
  }
  return out;
}

std::optional<std::string_view> get_enum(Layer& layer,
                                         const toml::node& node,
                                         const std::string& path,
                                         std::span<const std::string_view> allowed) {
  const auto text = get_string(layer, node, path);
  if (!text) {
    return std::nullopt;
  }
  const auto found = std::ranges::find(allowed, std::string_view(*text));
  if (found == allowed.end()) {
    layer.error(node,
                path + ": unknown value " + squote(*text) + " (allowed: " + util::join_views(allowed, ", ") + ")");
    return std::nullopt;
  }
  return *found;
}

std::optional<std::string> get_path(Layer& layer, const toml::node& node, const std::string& path) {
  auto text = get_string(layer, node, path);
  if (!text) {
    return std::nullopt;
  }
  if (const auto problem = path_problem(*text)) {
    layer.error(node, path + ": " + std::string(*problem) + ", got " + squote(*text));
    return std::nullopt;
  }
  return text;
}

std::optional<std::uint32_t> get_mode(Layer& layer, const toml::node& node, const std::string& path) {
  if (const auto* integer = node.as_integer()) {
    // A decimal 750 would silently mean 01356: only octal literals are accepted as integers.
    if ((integer->flags() & toml::value_flags::format_as_octal) != toml::value_flags::format_as_octal) {
      layer.error(node,
                  path + ": write the mode as a string (\"0750\") or an octal integer (0o750), not decimal " +
                      std::to_string(integer->get()));
      return std::nullopt;
    }
    if (integer->get() < 0 || integer->get() > 0777) {
      layer.error(node, path + ": must be at most 0o777 (no setuid, setgid or sticky bits)");
      return std::nullopt;
    }
    return static_cast<std::uint32_t>(integer->get());
  }
  if (const auto* text = node.as_string()) {
    const auto mode = parse_mode_string(text->get());
    if (!mode) {
      layer.error(node, path + ": expected an octal mode such as \"0750\" (at most 0777), got " +
                            squote(text->get()));
    }
    return mode;
  }
  layer.error(node, expected_got(path, "a mode (\"0750\" or 0o750)", node));
  return std::nullopt;
}

std::string join_path(const std::string& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

void report_unknown(Layer& layer,
                    const toml::key& key,
                    const toml::node& node,
                    const std::string& parent,
                    const std::string& container,
                    const std::vector<std::string_view>& known) {
  const auto hint = suggest(key.str(), known);
  std::string message;
  if (node.is_table() && (container.empty() || container.front() == '[')) {
    message = "unknown table [" + join_path(parent, key.str()) + "]";
    if (hint) {
      message += " (did you mean [" + join_path(parent, *hint) + "]?)";
    }
  } else {
    message = "unknown key " + squote(key.str());
    if (!container.empty()) {
      message += " in " + container;
    }
    if (hint) {
      message += " (did you mean " + squote(*hint) + "?)";
    }
  }
  layer.error_at(layer.pos(key.source()), std::move(message));
}

} // namespace zt::profile::detail
