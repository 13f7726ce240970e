// SPDX-License-Identifier: Apache-2.0
//
// Profiles and the site config: TOML in, validated plain structs out. This is the only TU that
// includes toml++ (slow to compile, and its exceptions must not leak: toml::parse_error is caught
// here and turned into a Diagnostic).
//
// Design
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

#include "profile/embedded.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <limits>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <toml++/toml.h>
#include <utility>
#include <vector>

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

constexpr std::string_view k_embedded_prefix = "embedded:";
constexpr std::int64_t k_min_subids = 65536; // podman maps 65536 ids into each container
constexpr std::int64_t k_max_subids = 1000000000;
constexpr std::int64_t k_max_port = 65535;
constexpr std::int64_t k_max_container_uid = 65535;
constexpr std::int64_t k_http_port = 80;

// ---- text helpers ----------------------------------------------------------------------------

/// 'text' with control characters escaped, for messages.
std::string squote(std::string_view text) {
  static constexpr std::string_view k_hex = "0123456789abcdef";
  std::string out = "'";
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      out += "\\x";
      out += k_hex[u >> 4U];
      out += k_hex[u & 0xfU];
    } else {
      out += c;
    }
  }
  out += "'";
  return out;
}

std::string join_views(std::span<const std::string_view> parts, std::string_view sep) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i != 0) {
      out += sep;
    }
    out += parts[i];
  }
  return out;
}

bool is_lower(char c) {
  return c >= 'a' && c <= 'z';
}
bool is_upper(char c) {
  return c >= 'A' && c <= 'Z';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

/// Edit distance counting an adjacent transposition as one edit ("suer" -> "user" is 1).
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) {
    d[i][0] = i;
  }
  for (std::size_t j = 0; j <= b.size(); ++j) {
    d[0][j] = j;
  }
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

/// The closest candidate, if it is close enough to be what the user meant.
std::optional<std::string_view> suggest(std::string_view word, std::span<const std::string_view> candidates) {
  std::optional<std::string_view> best;
  std::size_t best_distance = std::numeric_limits<std::size_t>::max();
  for (const std::string_view candidate : candidates) {
    const std::size_t limit = std::clamp<std::size_t>(candidate.size() / 3, 1, 2);
    const std::size_t distance = edit_distance(word, candidate);
    if (distance <= limit && distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

// ---- value rules -----------------------------------------------------------------------------

/// Debian/shadow rule ^[a-z_][a-z0-9_-]*[$]?$, at most 32 characters.
bool is_valid_user_name(std::string_view name) {
  if (name.empty() || name.size() > 32) {
    return false;
  }
  if (!is_lower(name[0]) && name[0] != '_') {
    return false;
  }
  for (std::size_t i = 1; i < name.size(); ++i) {
    const char c = name[i];
    const bool last = i + 1 == name.size();
    if (!(is_lower(c) || is_digit(c) || c == '_' || c == '-' || (last && c == '$'))) {
      return false;
    }
  }
  return true;
}

/// Why `path` is not a clean absolute path, or nothing when it is one.
std::optional<std::string_view> path_problem(std::string_view path) {
  if (path.empty()) {
    return "must not be empty";
  }
  if (path.front() != '/') {
    return "must be an absolute path";
  }
  for (const char c : path) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) {
      return "must not contain whitespace or control characters";
    }
  }
  if (path == "/") {
    return "must not be '/'";
  }
  if (path.back() == '/') {
    return "must not end in '/'";
  }
  for (const std::string_view component : util::split(path.substr(1), '/')) {
    if (component == "..") {
      return "must not contain '..' components";
    }
    if (component == ".") {
      return "must not contain '.' components";
    }
    if (component.empty()) {
      return "must not contain empty components ('//')";
    }
  }
  return std::nullopt;
}

/// One plain path component: [A-Za-z0-9._-]+, not "." or "..".
bool is_plain_component(std::string_view name) {
  if (name.empty() || name == "." || name == "..") {
    return false;
  }
  return std::ranges::all_of(name, [](char c) {
    return is_lower(c) || is_upper(c) || is_digit(c) || c == '.' || c == '_' || c == '-';
  });
}

/// Step ids, profile names and os-release IDs: [a-z0-9][a-z0-9._-]*.
bool is_identifier(std::string_view id) {
  if (id.empty() || !(is_lower(id[0]) || is_digit(id[0]))) {
    return false;
  }
  return std::ranges::all_of(
      id, [](char c) { return is_lower(c) || is_digit(c) || c == '.' || c == '_' || c == '-'; });
}

/// apt and dnf package names; never starting with '-' so a name cannot become an option.
bool is_package_name(std::string_view name) {
  if (name.empty() || !(is_lower(name[0]) || is_upper(name[0]) || is_digit(name[0]))) {
    return false;
  }
  return std::ranges::all_of(name, [](char c) {
    return is_lower(c) || is_upper(c) || is_digit(c) || c == '+' || c == '.' || c == '_' || c == '-';
  });
}

/// "4", "4.4", "5.0.1".
bool is_version(std::string_view version) {
  if (version.empty()) {
    return false;
  }
  for (const std::string_view part : util::split(version, '.')) {
    if (part.empty() || !std::ranges::all_of(part, is_digit)) {
      return false;
    }
  }
  return true;
}

/// "0750" or "750" -> 0750 (at most 0777).
std::optional<std::uint32_t> parse_mode_string(std::string_view text) {
  if (text.size() == 4 && text[0] == '0') {
    text.remove_prefix(1);
  }
  if (text.size() != 3) {
    return std::nullopt;
  }
  std::uint32_t mode = 0;
  for (const char c : text) {
    if (c < '0' || c > '7') {
      return std::nullopt;
    }
    mode = mode * 8 + static_cast<std::uint32_t>(c - '0');
  }
  return mode;
}

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

// ---- layers and diagnostics ------------------------------------------------------------------

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
std::optional<toml::table> parse_toml(std::string_view text, const std::string& file, Diagnostics& out) {
  try {
    return toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    out.push_back({file, static_cast<int>(e.source().begin.line), static_cast<int>(e.source().begin.column),
                   "TOML syntax error: " + std::string(e.description())});
    return std::nullopt;
  }
}

// ---- typed getters: report "path: expected a T, got U" and return nothing on mismatch ----------

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

/// A string that must be one of `allowed`.
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
                path + ": unknown value " + squote(*text) + " (allowed: " + join_views(allowed, ", ") + ")");
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

// ---- the schema walker -----------------------------------------------------------------------

/// One known key. A leaf has `set`; a table has `children` (and no `set`). A leaf with neither
/// is accepted and ignored by the walker (profiles handle `include` before walking).
template <typename Builder> struct Field {
  using Setter = void (*)(Builder&, Layer&, const toml::node&, const std::string& path);
  std::string_view key;
  Setter set = nullptr;
  const Field* children = nullptr;
  std::size_t child_count = 0;

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

std::string join_path(const std::string& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

/// "unknown key 'usr' in [service] (did you mean 'user'?)" / "unknown table [servce] (...)".
/// `container` is "" for the document root, "[service]" for a table, "data.dirs[0]" for an
/// element of an array of tables.
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

// ---- site config -----------------------------------------------------------------------------

struct SiteBuilder {
  SiteConfig config;
  bool home_set = false;
  std::optional<Origin> port_start_origin;
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
constexpr SiteField k_site_fields[] = {
    table_field<SiteBuilder>("service", k_service_fields),
    table_field<SiteBuilder>("subids", k_subids_fields),
    table_field<SiteBuilder>("data", k_data_fields),
    table_field<SiteBuilder>("ports", k_ports_fields),
    table_field<SiteBuilder>("preflight", k_site_preflight_fields),
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
  if (field == nullptr) {
    std::vector<std::string> known;
    leaf_paths<SiteBuilder>(k_site_fields, "", known);
    const std::vector<std::string_view> known_views(known.begin(), known.end());
    std::string message = "unknown key " + squote(key);
    if (const auto hint = suggest(key, known_views)) {
      message += " (did you mean " + squote(*hint) + "?)";
    } else {
      message += " (known: " + join_views(known_views, ", ") + ")";
    }
    layer.error_at(where, std::move(message));
    layer.flush_to(out);
    return;
  }
  const toml::table doc = parse_override_value(value);
  field->set(b, layer, *doc.get("x"), std::string(key));
  layer.flush_to(out);
}

// ---- profiles --------------------------------------------------------------------------------

struct ProfileBuilder {
  ProfileSpec spec;
  std::set<std::string, std::less<>> seen; // dotted keys that some layer set
};

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

using ProfileField = Field<ProfileBuilder>;

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
constexpr ProfileField k_profile_root_fields[] = {
    {.key = "include"}, // applied before the walk, see apply_profile_layer()
    {.key = "steps", .set = &set_steps},
    table_field<ProfileBuilder>("profile", k_profile_fields),
    table_field<ProfileBuilder>("packages", k_packages_fields),
    table_field<ProfileBuilder>("preflight", k_profile_preflight_fields),
};

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
          message += " (embedded: " + join_views(names, ", ") + ")";
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

Loaded<SiteConfig> load_site_config(std::string_view text,
                                    std::string_view source_name,
                                    const std::vector<std::string>& overrides) {
  SiteBuilder b;
  Diagnostics out;
  const std::string source(source_name);
  if (const auto doc = parse_toml(text, source, out)) {
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
