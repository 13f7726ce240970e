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

#include "profile/data_root.hpp"
#include "profile/embedded.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <limits>
#include <map>
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

/// Pod, container and port names: [a-z0-9][a-z0-9-]*, at most 63 characters (they become unit,
/// container and DNS-like names).
bool is_stack_name(std::string_view name) {
  if (name.empty() || name.size() > 63 || !(is_lower(name[0]) || is_digit(name[0]))) {
    return false;
  }
  return std::ranges::all_of(name, [](char c) { return is_lower(c) || is_digit(c) || c == '-'; });
}

/// Environment variable names: [A-Za-z_][A-Za-z0-9_]*.
bool is_env_name(std::string_view name) {
  if (name.empty() || is_digit(name[0])) {
    return false;
  }
  return std::ranges::all_of(name,
                             [](char c) { return is_lower(c) || is_upper(c) || is_digit(c) || c == '_'; });
}

/// Secret names: [A-Z][A-Z0-9_]* (they also name the podman secret and the env file line).
bool is_secret_name(std::string_view name) {
  if (name.empty() || !is_upper(name[0])) {
    return false;
  }
  return std::ranges::all_of(name, [](char c) { return is_upper(c) || is_digit(c) || c == '_'; });
}

/// Capability names without the CAP_ prefix: [A-Z][A-Z0-9_]*.
bool is_capability(std::string_view name) {
  return is_secret_name(name) && !name.starts_with("CAP_");
}

/// A path under data_root: plain components joined by single '/'.
bool is_relative_path(std::string_view path) {
  if (path.empty() || path.front() == '/') {
    return false;
  }
  return std::ranges::all_of(util::split(path, '/'), is_plain_component);
}

/// A Go duration as podman reads it: one or more <digits><unit>, unit ms, s, m or h ("1m30s").
bool is_duration(std::string_view text) {
  if (text.empty()) {
    return false;
  }
  while (!text.empty()) {
    std::size_t digits = 0;
    while (digits < text.size() && is_digit(text[digits])) {
      ++digits;
    }
    if (digits == 0) {
      return false;
    }
    text.remove_prefix(digits);
    if (text.starts_with("ms")) {
      text.remove_prefix(2);
    } else if (!text.empty() && (text[0] == 's' || text[0] == 'm' || text[0] == 'h')) {
      text.remove_prefix(1);
    } else {
      return false;
    }
  }
  return true;
}

/// Why `image` is not a fully qualified image reference ("registry.host/path:tag"), or nothing.
std::optional<std::string> image_problem(std::string_view image) {
  if (image.empty()) {
    return "must not be empty";
  }
  for (const char c : image) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) {
      return "must not contain whitespace or control characters, got " + squote(image);
    }
  }
  const std::size_t slash = image.find('/');
  const std::string_view host = slash == std::string_view::npos ? std::string_view() : image.substr(0, slash);
  const bool qualified = !host.empty() && (host == "localhost" || host.find('.') != std::string_view::npos ||
                                           host.find(':') != std::string_view::npos);
  if (!qualified) {
    const std::string example = slash == std::string_view::npos ? "docker.io/library/" + std::string(image)
                                                                : "docker.io/" + std::string(image);
    return squote(image) + " is not fully qualified: name the registry, e.g. '" + example +
           "' (podman auto-update and pulls without short-name prompts need it)";
  }
  const std::string_view rest = image.substr(slash + 1);
  if (rest.empty() || rest.front() == '/' || rest.find("//") != std::string_view::npos ||
      image.back() == '/' || image.back() == ':' || image.back() == '@') {
    return "invalid image reference " + squote(image);
  }
  return std::nullopt;
}

/// Why `domain` cannot be the caddy site address and NEXTAUTH_URL host, or nothing.
std::optional<std::string> domain_problem(std::string_view domain) {
  const std::string hint = " (a DNS name such as 'ztnet.example.com', or an IPv4 address)";
  if (domain.empty() || domain.size() > 253) {
    return "must be 1 to 253 characters" + hint + ", got " + squote(domain);
  }
  for (const std::string_view label : util::split(domain, '.')) {
    const bool chars_ok =
        std::ranges::all_of(label, [](char c) { return is_lower(c) || is_digit(c) || c == '-'; });
    if (label.empty() || label.size() > 63 || !chars_ok || label.front() == '-' || label.back() == '-') {
      return "invalid domain " + squote(domain) + hint + "; use lower case a-z, 0-9, '-' and '.'";
    }
  }
  return std::nullopt;
}

constexpr std::string_view k_placeholders[] = {"domain", "pod"};

/// The first `{word}` (word = a-z and '_') in `text` that is not a known placeholder.
std::optional<std::string> unknown_placeholder(std::string_view text) {
  for (std::size_t open = text.find('{'); open != std::string_view::npos; open = text.find('{', open + 1)) {
    const std::size_t close = text.find('}', open + 1);
    if (close == std::string_view::npos) {
      break;
    }
    const std::string_view word = text.substr(open + 1, close - open - 1);
    const bool is_word =
        !word.empty() && std::ranges::all_of(word, [](char c) { return is_lower(c) || c == '_'; });
    if (is_word && std::ranges::find(k_placeholders, word) == std::end(k_placeholders)) {
      return std::string(word);
    }
  }
  return std::nullopt;
}

/// `text` with {domain} and {pod} replaced; every other brace is left alone (Caddyfile blocks).
std::string substitute(std::string_view text, std::string_view domain, std::string_view pod) {
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    if (text.starts_with("{domain}")) {
      out += domain;
      text.remove_prefix(std::string_view("{domain}").size());
    } else if (text.starts_with("{pod}")) {
      out += pod;
      text.remove_prefix(std::string_view("{pod}").size());
    } else {
      out += text.front();
      text.remove_prefix(1);
    }
  }
  return out;
}

/// The data dir names a profile's volumes may use: the defaults of SiteConfig::data_dirs. A site
/// config that replaces [[data.dirs]] must keep them (resolve_stack() checks).
std::vector<std::string> default_data_dir_names() {
  std::vector<std::string> names;
  for (const DataDir& dir : SiteConfig{}.data_dirs) {
    names.push_back(dir.name);
  }
  return names;
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

// ---- the profile's [stack] -------------------------------------------------------------------

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

// [[stack.ports]]

using PortElement = Element<PublishedPort>;

void set_port_name(PortElement& e, Layer& layer, const toml::node& node, const std::string& path) {
  if (auto name = get_checked(e, layer, node, path, "name", is_stack_name, "port name", "a-z, 0-9, '-'")) {
    e.value.name = std::move(*name);
  }
}

void set_port_number(PortElement& e, Layer& layer, const toml::node& node, const std::string& path) {
  if (const auto port = get_int_in(layer, node, path, 1, k_max_port)) {
    e.value.port = static_cast<std::uint32_t>(*port);
    mark(e, layer, node, "port");
  }
}

void set_port_container(PortElement& e, Layer& layer, const toml::node& node, const std::string& path) {
  if (const auto port = get_int_in(layer, node, path, 1, k_max_port)) {
    e.value.container = static_cast<std::uint32_t>(*port);
    mark(e, layer, node, "container");
  }
}

constexpr std::string_view k_protocols[] = {"tcp", "udp"};

void set_port_protocol(PortElement& e, Layer& layer, const toml::node& node, const std::string& path) {
  if (const auto protocol = get_enum(layer, node, path, k_protocols)) {
    e.value.protocol = std::string(*protocol);
    mark(e, layer, node, "protocol");
  }
}

void set_port_forward(PortElement& e, Layer& layer, const toml::node& node, const std::string& path) {
  if (const auto port = get_int_in(layer, node, path, 0, k_max_port)) {
    e.value.forward_to = static_cast<std::uint32_t>(*port);
    mark(e, layer, node, "forward_to");
  }
}

constexpr Field<PortElement> k_port_fields[] = {
    {.key = "name", .set = &set_port_name},           {.key = "port", .set = &set_port_number},
    {.key = "container", .set = &set_port_container}, {.key = "protocol", .set = &set_port_protocol},
    {.key = "forward_to", .set = &set_port_forward},
};
constexpr std::string_view k_port_required[] = {"name", "port"};

/// Two ports that would publish the same host port and protocol, or nothing. Checked for the
/// profile and again after site overrides.
struct PortClash {
  std::size_t first;
  std::size_t second;
  std::string what; // "port 80/tcp"
};

std::optional<PortClash> find_port_clash(const std::vector<PublishedPort>& ports) {
  // Every host port a port may occupy: `port` (strategies sysctl, none) and `forward_to`.
  struct Use {
    std::uint32_t number;
    std::string protocol;
    std::size_t index;
  };
  std::vector<Use> uses;
  for (std::size_t i = 0; i < ports.size(); ++i) {
    uses.push_back({ports[i].port, ports[i].protocol, i});
    if (ports[i].forward_to != 0 && ports[i].forward_to != ports[i].port) {
      uses.push_back({ports[i].forward_to, ports[i].protocol, i});
    }
  }
  for (std::size_t j = 0; j < uses.size(); ++j) {
    for (std::size_t i = 0; i < j; ++i) {
      if (uses[i].index != uses[j].index && uses[i].number == uses[j].number &&
          uses[i].protocol == uses[j].protocol) {
        return PortClash{uses[i].index, uses[j].index,
                         "port " + std::to_string(uses[j].number) + "/" + uses[j].protocol};
      }
    }
  }
  return std::nullopt;
}

// [[stack.secrets]]

using SecretElement = Element<SecretSpec>;

void set_secret_name(SecretElement& e, Layer& layer, const toml::node& node, const std::string& path) {
  if (auto name = get_checked(e, layer, node, path, "name", is_secret_name, "secret name", "A-Z, 0-9, '_'")) {
    e.value.name = std::move(*name);
  }
}

void set_secret_bytes(SecretElement& e, Layer& layer, const toml::node& node, const std::string& path) {
  if (const auto bytes = get_int_in(layer, node, path, 16, 1024)) {
    e.value.bytes = static_cast<std::uint32_t>(*bytes);
    mark(e, layer, node, "bytes");
  }
}

constexpr Field<SecretElement> k_secret_fields[] = {
    {.key = "name", .set = &set_secret_name},
    {.key = "bytes", .set = &set_secret_bytes},
};
constexpr std::string_view k_secret_required[] = {"name"};

// [[stack.files]]

using FileElement = Element<StackFile>;

void set_file_path(FileElement& e, Layer& layer, const toml::node& node, const std::string& path) {
  if (auto text = get_checked(e, layer, node, path, "path", is_relative_path, "path",
                              "relative to data_root; components of letters, digits, '.', '_', '-'")) {
    e.value.path = std::move(*text);
  }
}

void set_file_content(FileElement& e, Layer& layer, const toml::node& node, const std::string& path) {
  if (auto text = get_string(layer, node, path)) {
    e.value.content = std::move(*text);
    mark(e, layer, node, "content");
  }
}

void set_file_mode(FileElement& e, Layer& layer, const toml::node& node, const std::string& path) {
  if (const auto mode = get_mode(layer, node, path)) {
    e.value.mode = *mode;
    mark(e, layer, node, "mode");
  }
}

constexpr Field<FileElement> k_file_fields[] = {
    {.key = "path", .set = &set_file_path},
    {.key = "content", .set = &set_file_content},
    {.key = "mode", .set = &set_file_mode},
};
constexpr std::string_view k_file_required[] = {"path", "content"};

// [[stack.containers]] secrets = [{ secret, env }]

using SecretRefElement = Element<SecretRef>;

void set_ref_secret(SecretRefElement& e, Layer& layer, const toml::node& node, const std::string& path) {
  if (auto name =
          get_checked(e, layer, node, path, "secret", is_secret_name, "secret name", "A-Z, 0-9, '_'")) {
    e.value.secret = std::move(*name);
  }
}

void set_ref_env(SecretRefElement& e, Layer& layer, const toml::node& node, const std::string& path) {
  if (auto name = get_checked(e, layer, node, path, "env", is_env_name, "environment variable name",
                              "letters, digits, '_'; not starting with a digit")) {
    e.value.env = std::move(*name);
  }
}

constexpr Field<SecretRefElement> k_ref_fields[] = {
    {.key = "secret", .set = &set_ref_secret},
    {.key = "env", .set = &set_ref_env},
};
constexpr std::string_view k_ref_required[] = {"secret"};

// [[stack.containers]] volumes = [{ source, target, read_only }]

using MountElement = Element<Mount>;

void set_mount_source(MountElement& e, Layer& layer, const toml::node& node, const std::string& path) {
  if (auto text = get_checked(e, layer, node, path, "source", is_relative_path, "mount source",
                              "a data dir name or a stack file path, relative to data_root")) {
    e.value.source = std::move(*text);
  }
}

void set_mount_target(MountElement& e, Layer& layer, const toml::node& node, const std::string& path) {
  if (auto text = get_path(layer, node, path)) {
    e.value.target = std::move(*text);
    mark(e, layer, node, "target");
  }
}

void set_mount_read_only(MountElement& e, Layer& layer, const toml::node& node, const std::string& path) {
  if (const auto value = get_bool(layer, node, path)) {
    e.value.read_only = *value;
    mark(e, layer, node, "read_only");
  }
}

constexpr Field<MountElement> k_mount_fields[] = {
    {.key = "source", .set = &set_mount_source},
    {.key = "target", .set = &set_mount_target},
    {.key = "read_only", .set = &set_mount_read_only},
};
constexpr std::string_view k_mount_required[] = {"source", "target"};

// [[stack.containers]]

struct ContainerElement {
  Container value;
  Pos pos;
  std::map<std::string, Pos, std::less<>> at;
  std::vector<Item> after;
  std::vector<Ref> secret_refs;
  std::vector<Ref> mount_sources;
  std::vector<std::pair<std::string, Pos>> ref_envs; // secret env names, with positions
};

void set_container_name(ContainerElement& e, Layer& layer, const toml::node& node, const std::string& path) {
  if (auto name =
          get_checked(e, layer, node, path, "name", is_stack_name, "container name", "a-z, 0-9, '-'")) {
    e.value.name = std::move(*name);
  }
}

void set_container_image(ContainerElement& e, Layer& layer, const toml::node& node, const std::string& path) {
  auto image = get_string(layer, node, path);
  if (!image) {
    return;
  }
  if (const auto problem = image_problem(*image)) {
    layer.error(node, path + ": " + *problem);
    return;
  }
  e.value.image = std::move(*image);
  mark(e, layer, node, "image");
}

void set_container_env(ContainerElement& e, Layer& layer, const toml::node& node, const std::string& path) {
  const toml::table* table = get_table(layer, node, path);
  if (table == nullptr) {
    return;
  }
  const std::size_t errors_before = layer.error_count();
  std::vector<std::pair<std::string, std::string>> env;
  for (const auto& [key, value] : *table) {
    const std::string var_path = path + "." + std::string(key.str());
    if (!is_env_name(key.str())) {
      layer.error_at(layer.pos(key.source()), var_path + ": invalid environment variable name " +
                                                  squote(key.str()) +
                                                  " (letters, digits, '_'; not starting with a digit)");
      continue;
    }
    auto text = get_string(layer, value, var_path);
    if (!text) {
      continue;
    }
    if (const auto word = unknown_placeholder(*text)) {
      layer.error(value, var_path + ": unknown placeholder '{" + *word + "}' (known: {domain}, {pod})");
      continue;
    }
    env.emplace_back(std::string(key.str()), std::move(*text));
  }
  if (layer.error_count() == errors_before) {
    e.value.env = std::move(env);
    mark(e, layer, node, "env");
  }
}

void set_container_secrets(ContainerElement& e,
                           Layer& layer,
                           const toml::node& node,
                           const std::string& path) {
  auto refs = get_table_array(layer, node, path, k_ref_fields, k_ref_required);
  if (!refs) {
    return;
  }
  e.value.secrets.clear();
  e.secret_refs.clear();
  e.ref_envs.clear();
  for (std::size_t i = 0; i < refs->size(); ++i) {
    SecretRefElement& ref = (*refs)[i];
    if (ref.value.env.empty()) {
      ref.value.env = ref.value.secret;
    }
    const std::string ref_path = element_path(path, i);
    e.secret_refs.push_back({ref.value.secret, {layer.file(), ref.at.at("secret")}, ref_path + ".secret"});
    e.ref_envs.emplace_back(ref.value.env, ref.at.contains("env") ? ref.at.at("env") : ref.at.at("secret"));
    e.value.secrets.push_back(std::move(ref.value));
  }
  mark(e, layer, node, "secrets");
}

void set_container_volumes(ContainerElement& e,
                           Layer& layer,
                           const toml::node& node,
                           const std::string& path) {
  auto mounts = get_table_array(layer, node, path, k_mount_fields, k_mount_required);
  if (!mounts) {
    return;
  }
  const std::size_t errors_before = layer.error_count();
  std::vector<Mount> volumes;
  std::vector<Ref> sources;
  for (std::size_t i = 0; i < mounts->size(); ++i) {
    MountElement& mount = (*mounts)[i];
    const std::string mount_path = element_path(path, i);
    const auto twin = std::ranges::find(volumes, mount.value.target, &Mount::target);
    if (twin != volumes.end()) {
      layer.error_at(mount.at.at("target"),
                     mount_path + ".target: " + squote(mount.value.target) + " is already mounted (" +
                         element_path(path, static_cast<std::size_t>(twin - volumes.begin())) + ")");
      continue;
    }
    sources.push_back({mount.value.source, {layer.file(), mount.at.at("source")}, mount_path + ".source"});
    volumes.push_back(std::move(mount.value));
  }
  if (layer.error_count() == errors_before) {
    e.value.volumes = std::move(volumes);
    e.mount_sources = std::move(sources);
    mark(e, layer, node, "volumes");
  }
}

bool is_device(std::string_view path) {
  return path.starts_with("/dev/") && !path_problem(path).has_value();
}

void set_container_devices(ContainerElement& e,
                           Layer& layer,
                           const toml::node& node,
                           const std::string& path) {
  const ItemList list = get_string_list(layer, node, path, Unique::yes);
  bool ok = list.ok;
  for (const Item& item : list.items) {
    if (!is_device(item.text)) {
      layer.error_at(item.pos, item.path + ": expected a device path under /dev/, got " + squote(item.text));
      ok = false;
    }
  }
  if (ok) {
    e.value.devices = texts(list.items);
    mark(e, layer, node, "devices");
  }
}

void set_container_caps(ContainerElement& e, Layer& layer, const toml::node& node, const std::string& path) {
  const ItemList list = get_string_list(layer, node, path, Unique::yes);
  bool ok = list.ok;
  for (const Item& item : list.items) {
    if (!is_capability(item.text)) {
      layer.error_at(item.pos, item.path + ": invalid capability " + squote(item.text) +
                                   " (upper case without 'CAP_', e.g. 'NET_ADMIN')");
      ok = false;
    }
  }
  if (ok) {
    e.value.add_capabilities = texts(list.items);
    mark(e, layer, node, "add_capabilities");
  }
}

void set_container_exec(ContainerElement& e, Layer& layer, const toml::node& node, const std::string& path) {
  const ItemList list = get_string_list(layer, node, path, Unique::no);
  if (list.ok) {
    e.value.exec = texts(list.items);
    mark(e, layer, node, "exec");
  }
}

void set_container_after(ContainerElement& e, Layer& layer, const toml::node& node, const std::string& path) {
  const ItemList list = get_string_list(layer, node, path, Unique::yes);
  if (list.ok) {
    e.after = list.items; // checked against the other containers by set_containers()
    mark(e, layer, node, "after");
  }
}

void set_container_init(ContainerElement& e, Layer& layer, const toml::node& node, const std::string& path) {
  if (const auto value = get_bool(layer, node, path)) {
    e.value.init = *value;
    mark(e, layer, node, "init");
  }
}

void set_container_stop_timeout(ContainerElement& e,
                                Layer& layer,
                                const toml::node& node,
                                const std::string& path) {
  if (const auto value = get_int_in(layer, node, path, 1, 3600)) {
    e.value.stop_timeout = static_cast<std::uint32_t>(*value);
    mark(e, layer, node, "stop_timeout");
  }
}

void set_health_command(ContainerElement& e, Layer& layer, const toml::node& node, const std::string& path) {
  auto text = get_string(layer, node, path);
  if (!text) {
    return;
  }
  if (util::trim(*text).empty()) {
    layer.error(node, path + ": must not be empty (leave out [health] for no health check)");
    return;
  }
  e.value.health.command = std::move(*text);
  mark(e, layer, node, "health.command");
}

std::optional<std::string> get_duration(Layer& layer, const toml::node& node, const std::string& path) {
  auto text = get_string(layer, node, path);
  if (text && !is_duration(*text)) {
    layer.error(node, path + ": expected a duration such as \"30s\" or \"1m30s\", got " + squote(*text));
    return std::nullopt;
  }
  return text;
}

void set_health_interval(ContainerElement& e, Layer& layer, const toml::node& node, const std::string& path) {
  if (auto value = get_duration(layer, node, path)) {
    e.value.health.interval = std::move(*value);
    mark(e, layer, node, "health.interval");
  }
}

void set_health_timeout(ContainerElement& e, Layer& layer, const toml::node& node, const std::string& path) {
  if (auto value = get_duration(layer, node, path)) {
    e.value.health.timeout = std::move(*value);
    mark(e, layer, node, "health.timeout");
  }
}

void set_health_start_period(ContainerElement& e,
                             Layer& layer,
                             const toml::node& node,
                             const std::string& path) {
  if (auto value = get_duration(layer, node, path)) {
    e.value.health.start_period = std::move(*value);
    mark(e, layer, node, "health.start_period");
  }
}

void set_health_retries(ContainerElement& e, Layer& layer, const toml::node& node, const std::string& path) {
  if (const auto value = get_int_in(layer, node, path, 1, 100)) {
    e.value.health.retries = static_cast<std::uint32_t>(*value);
    mark(e, layer, node, "health.retries");
  }
}

constexpr Field<ContainerElement> k_health_fields[] = {
    {.key = "command", .set = &set_health_command},
    {.key = "interval", .set = &set_health_interval},
    {.key = "timeout", .set = &set_health_timeout},
    {.key = "retries", .set = &set_health_retries},
    {.key = "start_period", .set = &set_health_start_period},
};
constexpr Field<ContainerElement> k_container_fields[] = {
    {.key = "name", .set = &set_container_name},
    {.key = "image", .set = &set_container_image},
    {.key = "env", .set = &set_container_env},
    {.key = "secrets", .set = &set_container_secrets},
    {.key = "volumes", .set = &set_container_volumes},
    {.key = "devices", .set = &set_container_devices},
    {.key = "add_capabilities", .set = &set_container_caps},
    {.key = "exec", .set = &set_container_exec},
    {.key = "after", .set = &set_container_after},
    {.key = "init", .set = &set_container_init},
    {.key = "stop_timeout", .set = &set_container_stop_timeout},
    table_field<ContainerElement>("health", k_health_fields),
};
constexpr std::string_view k_container_required[] = {"name", "image"};

// ---- profiles --------------------------------------------------------------------------------

struct ProfileBuilder {
  ProfileSpec spec;
  std::set<std::string, std::less<>> seen; // dotted keys that some layer set
  std::vector<Ref> secret_refs;            // every container's secrets[].secret
  std::vector<Ref> mount_sources;          // every container's volumes[].source
};

void set_stack_pod(ProfileBuilder& b, Layer& layer, const toml::node& node, const std::string& path) {
  const auto pod = get_string(layer, node, path);
  if (!pod) {
    return;
  }
  if (!is_stack_name(*pod)) {
    layer.error(node, path + ": invalid pod name " + squote(*pod) + " (a-z, 0-9, '-')");
    return;
  }
  b.spec.stack.pod = *pod;
  b.seen.insert(path);
}

void set_stack_domain(ProfileBuilder& b, Layer& layer, const toml::node& node, const std::string& path) {
  const auto domain = get_string(layer, node, path);
  if (!domain) {
    return;
  }
  if (const auto problem = domain_problem(*domain)) {
    layer.error(node, path + ": " + *problem);
    return;
  }
  b.spec.stack.domain = *domain;
  b.seen.insert(path);
}

void set_stack_ports(ProfileBuilder& b, Layer& layer, const toml::node& node, const std::string& path) {
  auto elements = get_table_array(layer, node, path, k_port_fields, k_port_required);
  if (!elements) {
    return;
  }
  const std::size_t errors_before = layer.error_count();
  std::vector<PublishedPort> ports;
  for (std::size_t i = 0; i < elements->size(); ++i) {
    PortElement& e = (*elements)[i];
    if (e.value.container == 0) {
      e.value.container = e.value.port;
    }
    report_duplicate(layer, e, path, i, "name", "port name", e.value.name, ports, &PublishedPort::name);
    ports.push_back(e.value);
  }
  if (layer.error_count() != errors_before) {
    return;
  }
  if (const auto clash = find_port_clash(ports)) {
    layer.error_at((*elements)[clash->second].pos,
                   element_path(path, clash->second) + ": " + clash->what + " is also used by " +
                       element_path(path, clash->first) + " (" + squote(ports[clash->first].name) + ")");
    return;
  }
  b.spec.stack.ports = std::move(ports);
  b.seen.insert(path);
}

void set_stack_secrets(ProfileBuilder& b, Layer& layer, const toml::node& node, const std::string& path) {
  auto elements = get_table_array(layer, node, path, k_secret_fields, k_secret_required);
  if (!elements) {
    return;
  }
  const std::size_t errors_before = layer.error_count();
  std::vector<SecretSpec> secrets;
  for (std::size_t i = 0; i < elements->size(); ++i) {
    const SecretElement& e = (*elements)[i];
    report_duplicate(layer, e, path, i, "name", "secret", e.value.name, secrets, &SecretSpec::name);
    secrets.push_back(e.value);
  }
  if (layer.error_count() == errors_before) {
    b.spec.stack.secrets = std::move(secrets);
    b.seen.insert(path);
  }
}

void set_stack_files(ProfileBuilder& b, Layer& layer, const toml::node& node, const std::string& path) {
  auto elements = get_table_array(layer, node, path, k_file_fields, k_file_required);
  if (!elements) {
    return;
  }
  const std::size_t errors_before = layer.error_count();
  const std::vector<std::string> data_dirs = default_data_dir_names();
  std::vector<StackFile> files;
  for (std::size_t i = 0; i < elements->size(); ++i) {
    const FileElement& e = (*elements)[i];
    const std::string file_path = element_path(path, i) + ".path";
    const std::string top(util::split(e.value.path, '/').front());
    const bool duplicate =
        report_duplicate(layer, e, path, i, "path", "file", e.value.path, files, &StackFile::path);
    if (!duplicate && std::ranges::find(data_dirs, top) != data_dirs.end()) {
      layer.error_at(e.at.at("path"), file_path + ": " + squote(e.value.path) + " is in the data dir " +
                                          squote(top) +
                                          ", which belongs to the containers; put stack files in a directory "
                                          "of their own");
    }
    files.push_back(e.value);
  }
  if (layer.error_count() == errors_before) {
    b.spec.stack.files = std::move(files);
    b.seen.insert(path);
  }
}

/// "unknown X 'y' (did you mean 'z'?)" or "(known: a, b)".
std::string unknown_name(std::string_view what,
                         std::string_view name,
                         const std::vector<std::string>& known,
                         std::string_view known_label = "known") {
  const std::vector<std::string_view> views(known.begin(), known.end());
  std::string message = "unknown " + std::string(what) + " " + squote(name);
  if (const auto hint = suggest(name, views)) {
    message += " (did you mean " + squote(*hint) + "?)";
  } else if (views.empty()) {
    message += " (" + std::string(known_label) + ": none)";
  } else {
    message += " (" + std::string(known_label) + ": " + util::join_views(views, ", ") + ")";
  }
  return message;
}

void set_stack_containers(ProfileBuilder& b, Layer& layer, const toml::node& node, const std::string& path) {
  auto elements = get_table_array(layer, node, path, k_container_fields, k_container_required);
  if (!elements) {
    return;
  }
  const std::size_t errors_before = layer.error_count();
  std::vector<std::string> names;
  for (const ContainerElement& e : *elements) {
    names.push_back(e.value.name);
  }
  for (std::size_t i = 0; i < elements->size(); ++i) {
    ContainerElement& e = (*elements)[i];
    const std::string container_path = element_path(path, i);
    report_duplicate(layer, e, path, i, "name", "container", e.value.name,
                     std::span<const std::string>(names).first(i), std::identity{});
    if (e.at.contains("health.interval") || e.at.contains("health.timeout") ||
        e.at.contains("health.retries") || e.at.contains("health.start_period")) {
      if (!e.at.contains("health.command")) {
        layer.error_at(e.pos, container_path + ".health: missing required key 'command'");
      }
    }
    for (const Item& item : e.after) {
      const auto named = std::ranges::find(names, item.text);
      const auto index = static_cast<std::size_t>(named - names.begin());
      if (named == names.end()) {
        const std::vector<std::string> earlier(names.begin(), names.begin() + static_cast<std::ptrdiff_t>(i));
        layer.error_at(item.pos, item.path + ": " +
                                     unknown_name("container", item.text, earlier, "earlier containers"));
      } else if (index == i) {
        layer.error_at(item.pos, item.path + ": a container cannot start after itself");
      } else if (index > i) {
        layer.error_at(item.pos, item.path + ": " + squote(item.text) +
                                     " is listed later (containers start in the order listed: move " +
                                     squote(item.text) + " before " + squote(e.value.name) + ")");
      } else {
        e.value.after.push_back(item.text);
      }
    }
    for (std::size_t r = 0; r < e.ref_envs.size(); ++r) {
      const auto& [env, where] = e.ref_envs[r];
      const std::string ref_path = container_path + ".secrets[" + std::to_string(r) + "]";
      const bool in_env = std::ranges::find(e.value.env, env, &std::pair<std::string, std::string>::first) !=
                          e.value.env.end();
      const bool repeated =
          std::ranges::any_of(e.ref_envs.begin(), e.ref_envs.begin() + static_cast<std::ptrdiff_t>(r),
                              [&](const auto& other) { return other.first == env; });
      if (in_env) {
        layer.error_at(where, ref_path + ": " + squote(env) + " is also set in " + container_path + ".env");
      } else if (repeated) {
        layer.error_at(where,
                       ref_path + ": " + squote(env) + " is set by an earlier secret of this container");
      }
    }
  }
  if (layer.error_count() != errors_before) {
    return;
  }
  b.spec.stack.containers.clear();
  b.secret_refs.clear();
  b.mount_sources.clear();
  for (ContainerElement& e : *elements) {
    std::ranges::move(e.secret_refs, std::back_inserter(b.secret_refs));
    std::ranges::move(e.mount_sources, std::back_inserter(b.mount_sources));
    b.spec.stack.containers.push_back(std::move(e.value));
  }
  b.seen.insert(path);
}

/// Rules between [stack] parts that may come from different layers: every secret a container
/// names is declared, every volume source is a data dir or a stack file.
void check_stack(const ProfileBuilder& b, Diagnostics& out) {
  const Stack& stack = b.spec.stack;
  std::vector<std::string> secret_names;
  for (const SecretSpec& secret : stack.secrets) {
    secret_names.push_back(secret.name);
  }
  for (const Ref& ref : b.secret_refs) {
    if (std::ranges::find(secret_names, ref.text) == secret_names.end()) {
      out.push_back({ref.origin.file, ref.origin.pos.line, ref.origin.pos.col,
                     ref.path + ": " +
                         unknown_name("secret", ref.text, secret_names, "declared in [[stack.secrets]]")});
    }
  }
  std::vector<std::string> sources = default_data_dir_names();
  for (const StackFile& file : stack.files) {
    sources.push_back(file.path);
  }
  for (const Ref& ref : b.mount_sources) {
    if (std::ranges::find(sources, ref.text) == sources.end()) {
      out.push_back(
          {ref.origin.file, ref.origin.pos.line, ref.origin.pos.col,
           ref.path + ": " + unknown_name("mount source", ref.text, sources, "data dirs and stack files")});
    }
  }
}

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
constexpr ProfileField k_profile_ports_fields[] = {{.key = "firewall", .set = &set_firewall}};
constexpr ProfileField k_profile_units_fields[] = {{.key = "selinux_labels", .set = &set_selinux_labels}};
constexpr ProfileField k_stack_fields[] = {
    {.key = "pod", .set = &set_stack_pod},     {.key = "domain", .set = &set_stack_domain},
    {.key = "ports", .set = &set_stack_ports}, {.key = "secrets", .set = &set_stack_secrets},
    {.key = "files", .set = &set_stack_files}, {.key = "containers", .set = &set_stack_containers},
};
constexpr ProfileField k_profile_root_fields[] = {
    {.key = "include"}, // applied before the walk, see apply_profile_layer()
    {.key = "steps", .set = &set_steps},
    table_field<ProfileBuilder>("profile", k_profile_fields),
    table_field<ProfileBuilder>("packages", k_packages_fields),
    table_field<ProfileBuilder>("preflight", k_profile_preflight_fields),
    table_field<ProfileBuilder>("ports", k_profile_ports_fields),
    table_field<ProfileBuilder>("units", k_profile_units_fields),
    table_field<ProfileBuilder>("stack", k_stack_fields),
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

Loaded<Stack> resolve_stack(const ProfileSpec& profile, const SiteConfig& site) {
  Stack stack = profile.stack;
  Diagnostics out;
  const auto error_at = [&out](const SourcePos& where, std::string message) {
    out.push_back({where.file, where.line, where.col, std::move(message)});
  };
  const StackOverrides& overrides = site.stack;
  if (!overrides.domain.empty()) {
    stack.domain = overrides.domain;
  }

  std::vector<std::string> container_names;
  for (const Container& container : stack.containers) {
    container_names.push_back(container.name);
  }
  for (const ImageOverride& image : overrides.images) {
    const auto found = std::ranges::find(stack.containers, image.container, &Container::name);
    if (found == stack.containers.end()) {
      error_at(image.where, "stack.images." + image.container + ": " +
                                unknown_name("container", image.container, container_names,
                                             "containers of profile " + profile.name));
      continue;
    }
    found->image = image.image;
  }

  std::vector<std::string> port_names;
  for (const PublishedPort& port : stack.ports) {
    port_names.push_back(port.name);
  }
  // Where each port's values were last set by the site config, for a clash after the overrides.
  std::vector<std::optional<SourcePos>> port_where(stack.ports.size());
  const auto apply_ports = [&](const std::vector<PortOverride>& entries, std::string_view table,
                               std::uint32_t PublishedPort::*field) {
    for (const PortOverride& entry : entries) {
      const auto found = std::ranges::find(stack.ports, entry.port, &PublishedPort::name);
      if (found == stack.ports.end()) {
        error_at(entry.where,
                 std::string(table) + "." + entry.port + ": " +
                     unknown_name("port", entry.port, port_names, "ports of profile " + profile.name));
        continue;
      }
      (*found).*field = entry.value;
      port_where[static_cast<std::size_t>(found - stack.ports.begin())] = entry.where;
    }
  };
  apply_ports(overrides.ports, "stack.ports", &PublishedPort::port);
  apply_ports(overrides.forward_ports, "stack.forward_ports", &PublishedPort::forward_to);
  if (out.empty()) {
    if (const auto clash = find_port_clash(stack.ports)) {
      const std::size_t blamed = port_where[clash->second] ? clash->second : clash->first;
      const std::size_t other = blamed == clash->second ? clash->first : clash->second;
      error_at(port_where[blamed].value_or(SourcePos{profile.source, 1, 1}),
               "stack.ports: " + clash->what + " is used by both " + squote(stack.ports[blamed].name) +
                   " and " + squote(stack.ports[other].name) + "; choose another port");
    }
  }

  // The volumes need their data dirs; a site config that replaced [[data.dirs]] may have dropped one.
  const SourcePos dirs_where =
      site.data_dirs_where.file.empty() ? SourcePos{profile.source, 1, 1} : site.data_dirs_where;
  std::vector<std::string> dir_names;
  for (const DataDir& dir : site.data_dirs) {
    dir_names.push_back(dir.name);
  }
  std::vector<std::string> missing; // each reported once, for the first container that mounts it
  for (const Container& container : stack.containers) {
    for (const Mount& mount : container.volumes) {
      const bool is_file =
          std::ranges::find(stack.files, mount.source, &StackFile::path) != stack.files.end();
      if (!is_file && std::ranges::find(dir_names, mount.source) == dir_names.end() &&
          std::ranges::find(missing, mount.source) == missing.end()) {
        missing.push_back(mount.source);
        error_at(dirs_where, "data.dirs: no data dir " + squote(mount.source) + " but container " +
                                 squote(container.name) + " mounts it at " + mount.target +
                                 "; add a [[data.dirs]] entry with name = \"" + mount.source + "\"");
      }
    }
  }
  for (const StackFile& file : stack.files) {
    const std::string top(util::split(file.path, '/').front());
    if (std::ranges::find(dir_names, top) != dir_names.end()) {
      error_at(dirs_where, "data.dirs: " + squote(top) + " is the directory of the stack file " +
                               squote(file.path) + "; give the data dir another name");
    }
  }
  if (!out.empty()) {
    return std::unexpected(std::move(out));
  }

  for (Container& container : stack.containers) {
    for (auto& [name, value] : container.env) {
      value = substitute(value, stack.domain, stack.pod);
    }
  }
  for (StackFile& file : stack.files) {
    file.content = substitute(file.content, stack.domain, stack.pod);
  }
  return stack;
}

} // namespace zt::profile
