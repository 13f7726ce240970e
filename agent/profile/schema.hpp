// SPDX-License-Identifier: Apache-2.0
#pragma once

// The generic part of the loader: layers, diagnostics, typed getters, the schema walker and the
// reader of arrays of tables. The schema itself is data, one table of Field entries per part:
// the site config in site_fields.cpp, the profile in profile_fields.cpp, the profile's [stack] in
// stack_fields.cpp; loader.cpp applies the layers. Only these files include toml++.
//
// - Each input ("layer") is walked against a static schema: a tree of Field entries, one per
//   known key, each with a setter that type-checks the node, validates the value and stores it.
//   Unknown keys and tables are reported with a close-match suggestion; every error is collected
//   (nothing stops at the first one) and carries the node's own source position.
// - Profiles are layered: `include = ["_base.toml", ...]` files (embedded, by name) are applied
//   first, in order, then the including file's own values. Applying layers in order is the same
//   as merging the tables with the profile's own values winning; arrays are replaced, never
//   concatenated. Validating each layer separately keeps each diagnostic's file exact (toml++
//   does not copy source positions when nodes are copied, so a merged tree would lose them).
// - The site config is one file layer, then one layer per `--set KEY=VALUE` override. An
//   override's VALUE is parsed as the TOML document "x = VALUE"; if that is not exactly one valid
//   key, VALUE is taken as a plain string. Override diagnostics read "--set:<index>:1: ...".
// - Cross-field rules (home defaults to /home/<user>; unprivileged_port_start <= 80 under the
//   sysctl strategy) run after all layers, at the position of the value that broke them.
// - A layer's diagnostics are sorted by line and column; layers appear in the order applied.
//   A TOML syntax error ends that file's layer (toml++ stops at the first), other layers still
//   run so that the user sees as much as possible at once.

#include "profile/loader.hpp"
#include "profile/rules.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <toml++/toml.h>
#include <utility>
#include <vector>

namespace zt::profile::detail {

// ---- layers and diagnostics ------------------------------------------------------------------

[[nodiscard]] std::string_view type_name(toml::node_type type);

struct Pos {
  int line = 0;
  int col = 0;
};

/// Where a value came from, for errors found after all layers are applied.
struct Origin {
  std::string file;
  Pos pos;
};

/// One input being applied: a file, or one --set override (whose positions are all line
/// `fixed_line`, column 1).
class Layer {
public:
  explicit Layer(std::string file, std::optional<int> fixed_line = std::nullopt)
      : m_file(std::move(file)), m_fixed_line(fixed_line) {}

  [[nodiscard]] const std::string& file() const { return m_file; }

  [[nodiscard]] Pos pos(const toml::source_region& region) const {
    if (m_fixed_line) {
      return {*m_fixed_line, 1};
    }
    return {static_cast<int>(region.begin.line), static_cast<int>(region.begin.column)};
  }
  [[nodiscard]] Pos pos(const toml::node& node) const { return pos(node.source()); }
  [[nodiscard]] Origin origin(const toml::node& node) const { return {m_file, pos(node)}; }

  void error_at(Pos where, std::string message) {
    m_diagnostics.push_back({m_file, where.line, where.col, std::move(message)});
  }
  void error(const toml::node& node, std::string message) { error_at(pos(node), std::move(message)); }

  [[nodiscard]] std::size_t error_count() const { return m_diagnostics.size(); }

  /// Appends this layer's diagnostics, in source order, to `out`.
  void flush_to(Diagnostics& out) {
    std::ranges::stable_sort(m_diagnostics, [](const Diagnostic& a, const Diagnostic& b) {
      return std::pair(a.line, a.col) < std::pair(b.line, b.col);
    });
    std::ranges::move(m_diagnostics, std::back_inserter(out));
    m_diagnostics.clear();
  }

private:
  std::string m_file;
  std::optional<int> m_fixed_line;
  Diagnostics m_diagnostics;
};

/// Parses `text`; a syntax error becomes a diagnostic at toml++'s reported position.
[[nodiscard]] std::optional<toml::table> parse_toml(std::string_view text, const std::string& file, Diagnostics& out);

[[nodiscard]] std::string expected_got(const std::string& path, std::string_view expected, const toml::node& node);

[[nodiscard]] std::optional<std::string> get_string(Layer& layer, const toml::node& node, const std::string& path);

[[nodiscard]] std::optional<bool> get_bool(Layer& layer, const toml::node& node, const std::string& path);

[[nodiscard]] std::optional<std::int64_t> get_int(Layer& layer, const toml::node& node, const std::string& path);

[[nodiscard]] std::optional<std::int64_t> get_int_in(
    Layer& layer, const toml::node& node, const std::string& path, std::int64_t low, std::int64_t high);

[[nodiscard]] const toml::table* get_table(Layer& layer, const toml::node& node, const std::string& path);

[[nodiscard]] const toml::array* get_array(Layer& layer, const toml::node& node, const std::string& path);

[[nodiscard]] std::string element_path(const std::string& path, std::size_t index);

struct Item {
  std::string text;
  Pos pos;
  std::string path; // "steps[2]"
};

/// The string elements of an array. `ok` is false when the node is not an array or some element
/// was rejected (not a string, or a repeat under Unique::yes); `items` still holds the good ones
/// so that callers can report their own problems too.
struct ItemList {
  std::vector<Item> items;
  bool ok = false;
};

enum class Unique { no, yes };

[[nodiscard]] ItemList get_string_list(Layer& layer, const toml::node& node, const std::string& path, Unique unique);

[[nodiscard]] std::vector<std::string> texts(const std::vector<Item>& items);

/// A string that must be one of `allowed`.
[[nodiscard]] std::optional<std::string_view> get_enum(Layer& layer,
                                         const toml::node& node,
                                         const std::string& path,
                                         std::span<const std::string_view> allowed);

[[nodiscard]] std::optional<std::string> get_path(Layer& layer, const toml::node& node, const std::string& path);

[[nodiscard]] std::optional<std::uint32_t> get_mode(Layer& layer, const toml::node& node, const std::string& path);

// ---- the schema walker -----------------------------------------------------------------------

/// One known key. A leaf has `set`; a table has `children` (and no `set`). A leaf with neither
/// is accepted and ignored by the walker (profiles handle `include` before walking).
template <typename Builder> struct Field {
  using Setter = void (*)(Builder&, Layer&, const toml::node&, const std::string& path);
  std::string_view key;
  Setter set = nullptr;
  const Field* children = nullptr;
  std::size_t child_count = 0;
  /// A leaf whose value is a table of user-chosen keys ([stack.images]); `--set a.b.KEY=V` calls
  /// `set` with the table { KEY = V }.
  bool map = false;

  [[nodiscard]] std::span<const Field> kids() const { return {children, child_count}; }
  [[nodiscard]] bool is_table() const { return child_count != 0; }
};

template <typename Builder>
const Field<Builder>* find_field(std::span<const Field<Builder>> fields, std::string_view key) {
  const auto found = std::ranges::find(fields, key, &Field<Builder>::key);
  return found == fields.end() ? nullptr : &*found;
}

template <typename Builder> std::vector<std::string_view> field_keys(std::span<const Field<Builder>> fields) {
  std::vector<std::string_view> keys;
  for (const Field<Builder>& field : fields) {
    keys.push_back(field.key);
  }
  return keys;
}

[[nodiscard]] std::string join_path(const std::string& parent, std::string_view key);

/// "unknown key 'usr' in [service] (did you mean 'user'?)" / "unknown table [servce] (...)".
/// `container` is "" for the document root, "[service]" for a table, "data.dirs[0]" for an
/// element of an array of tables.
void report_unknown(Layer& layer,
                    const toml::key& key,
                    const toml::node& node,
                    const std::string& parent,
                    const std::string& container,
                    const std::vector<std::string_view>& known);

template <typename Builder>
void walk_table(Builder& builder,
                Layer& layer,
                const toml::table& table,
                const std::string& path,
                const std::string& container,
                std::span<const Field<Builder>> fields) {
  for (const auto& [key, node] : table) {
    const Field<Builder>* field = find_field(fields, key.str());
    const std::string child = join_path(path, key.str());
    if (field == nullptr) {
      report_unknown(layer, key, node, path, container, field_keys(fields));
      continue;
    }
    if (field->is_table()) {
      if (const toml::table* sub = get_table(layer, node, child)) {
        walk_table(builder, layer, *sub, child, "[" + child + "]", field->kids());
      }
    } else if (field->set != nullptr) {
      field->set(builder, layer, node, child);
    }
  }
}

/// All leaf keys as dotted paths ("service.user"), for --set.
template <typename Builder>
void leaf_paths(std::span<const Field<Builder>> fields,
                const std::string& prefix,
                std::vector<std::string>& out) {
  for (const Field<Builder>& field : fields) {
    const std::string path = join_path(prefix, field.key);
    if (field.is_table()) {
      leaf_paths(field.kids(), path, out);
    } else {
      out.push_back(path);
    }
  }
}

template <typename Builder>
const Field<Builder>* find_leaf(std::span<const Field<Builder>> fields, std::string_view dotted) {
  const Field<Builder>* field = nullptr;
  for (const std::string_view part : util::split(dotted, '.')) {
    if (field != nullptr) {
      if (!field->is_table()) {
        return nullptr;
      }
      fields = field->kids();
    }
    field = find_field(fields, part);
    if (field == nullptr) {
      return nullptr;
    }
  }
  return field != nullptr && !field->is_table() ? field : nullptr;
}

template <typename Builder, std::size_t N>
constexpr Field<Builder> table_field(std::string_view key, const Field<Builder> (&children)[N]) {
  return Field<Builder>{.key = key, .set = nullptr, .children = children, .child_count = N};
}

// ---- arrays of tables ([[stack.ports]], [[stack.containers]], ...) ---------------------------

/// A value that a cross-check after all layers looks at (a secret or mount source named by a
/// container), with where it was written.
struct Ref {
  std::string text;
  Origin origin;
  std::string path; // "stack.containers[0].secrets[0].secret"
};

/// One element of an array of tables while it is read: the value and where each key was set.
template <typename T> struct Element {
  T value;
  Pos pos;
  std::map<std::string, Pos, std::less<>> at; // key -> position of its value
};

template <typename E> void mark(E& e, Layer& layer, const toml::node& node, std::string_view key) {
  e.at[std::string(key)] = layer.pos(node);
}

/// Reads an array of tables, each walked with `fields`; every element must set the `required`
/// keys. Nothing (and diagnostics) when any element has a problem.
template <typename E, std::size_t N>
std::optional<std::vector<E>> get_table_array(Layer& layer,
                                              const toml::node& node,
                                              const std::string& path,
                                              const Field<E> (&fields)[N],
                                              std::span<const std::string_view> required) {
  const toml::array* array = get_array(layer, node, path);
  if (array == nullptr) {
    return std::nullopt;
  }
  const std::size_t errors_before = layer.error_count();
  std::vector<E> out;
  for (std::size_t i = 0; i < array->size(); ++i) {
    const toml::node& element = *array->get(i);
    const std::string item_path = element_path(path, i);
    const toml::table* table = get_table(layer, element, item_path);
    if (table == nullptr) {
      continue;
    }
    E e;
    e.pos = layer.pos(element);
    walk_table<E>(e, layer, *table, item_path, item_path, std::span<const Field<E>>(fields));
    for (const std::string_view key : required) {
      if (!table->contains(key)) { // present but invalid was reported by its setter
        layer.error(element, item_path + ": missing required key " + squote(key));
      }
    }
    out.push_back(std::move(e));
  }
  if (layer.error_count() != errors_before) {
    return std::nullopt;
  }
  return out;
}

/// The text of a string that must pass `valid`; `what` and `rule` explain it in the message.
template <typename E>
std::optional<std::string> get_checked(E& e,
                                       Layer& layer,
                                       const toml::node& node,
                                       const std::string& path,
                                       std::string_view key,
                                       bool (*valid)(std::string_view),
                                       std::string_view what,
                                       std::string_view rule) {
  auto text = get_string(layer, node, path);
  if (!text) {
    return std::nullopt;
  }
  if (!valid(*text)) {
    layer.error(node, path + ": invalid " + std::string(what) + " " + squote(*text) + " (" +
                          std::string(rule) + ")");
    return std::nullopt;
  }
  mark(e, layer, node, key);
  return text;
}

/// Reports "<path>[i].<key>: duplicate <what> '<value>' (also <path>[j])" at the position of element
/// `e`'s key when element j of `earlier` (the elements before i) has the same value under
/// `projection`; whether it did.
template <typename E, typename Range, typename Projection>
bool report_duplicate(Layer& layer,
                      const E& e,
                      const std::string& path,
                      std::size_t i,
                      std::string_view key,
                      std::string_view what,
                      const std::string& value,
                      const Range& earlier,
                      Projection projection) {
  const auto twin = std::ranges::find(earlier, value, projection);
  if (twin == std::ranges::end(earlier)) {
    return false;
  }
  const auto j = static_cast<std::size_t>(twin - std::ranges::begin(earlier));
  layer.error_at(e.at.at(std::string(key)), element_path(path, i) + "." + std::string(key) + ": duplicate " +
                                                std::string(what) + " " + squote(value) + " (also " +
                                                element_path(path, j) + ")");
  return true;
}

} // namespace zt::profile::detail
