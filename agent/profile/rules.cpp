// SPDX-License-Identifier: Apache-2.0

#include "profile/rules.hpp"

#include "util/strings.hpp"

#include <algorithm>
#include <limits>

namespace zt::profile::detail {

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

bool is_plain_component(std::string_view name) {
  if (name.empty() || name == "." || name == "..") {
    return false;
  }
  return std::ranges::all_of(name, [](char c) {
    return is_lower(c) || is_upper(c) || is_digit(c) || c == '.' || c == '_' || c == '-';
  });
}

bool is_identifier(std::string_view id) {
  if (id.empty() || !(is_lower(id[0]) || is_digit(id[0]))) {
    return false;
  }
  return std::ranges::all_of(
      id, [](char c) { return is_lower(c) || is_digit(c) || c == '.' || c == '_' || c == '-'; });
}

bool is_package_name(std::string_view name) {
  if (name.empty() || !(is_lower(name[0]) || is_upper(name[0]) || is_digit(name[0]))) {
    return false;
  }
  return std::ranges::all_of(name, [](char c) {
    return is_lower(c) || is_upper(c) || is_digit(c) || c == '+' || c == '.' || c == '_' || c == '-';
  });
}

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

bool is_stack_name(std::string_view name) {
  if (name.empty() || name.size() > 63 || !(is_lower(name[0]) || is_digit(name[0]))) {
    return false;
  }
  return std::ranges::all_of(name, [](char c) { return is_lower(c) || is_digit(c) || c == '-'; });
}

bool is_env_name(std::string_view name) {
  if (name.empty() || is_digit(name[0])) {
    return false;
  }
  return std::ranges::all_of(name,
                             [](char c) { return is_lower(c) || is_upper(c) || is_digit(c) || c == '_'; });
}

bool is_secret_name(std::string_view name) {
  if (name.empty() || !is_upper(name[0])) {
    return false;
  }
  return std::ranges::all_of(name, [](char c) { return is_upper(c) || is_digit(c) || c == '_'; });
}

bool is_capability(std::string_view name) {
  return is_secret_name(name) && !name.starts_with("CAP_");
}

bool is_relative_path(std::string_view path) {
  if (path.empty() || path.front() == '/') {
    return false;
  }
  return std::ranges::all_of(util::split(path, '/'), is_plain_component);
}

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

std::vector<std::string> default_data_dir_names() {
  std::vector<std::string> names;
  for (const DataDir& dir : SiteConfig{}.data_dirs) {
    names.push_back(dir.name);
  }
  return names;
}

std::string unknown_name(std::string_view what,
                         std::string_view name,
                         const std::vector<std::string>& known,
                         std::string_view known_label) {
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

} // namespace zt::profile::detail
