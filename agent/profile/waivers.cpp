// SPDX-License-Identifier: Apache-2.0
#include "profile/waivers.hpp"

#include "util/strings.hpp"

#include <algorithm>
#include <cstddef>
#include <string>
#include <toml++/toml.h>

// The site loader ignores the top-level key `waivers` and leaves it to this file, which parses the
// same text again (a site config is small) so that waivers keep their own positions.

namespace zt::profile {

namespace {

Diagnostic at(std::string_view file, const toml::source_region& region, std::string message) {
  return {std::string(file), static_cast<int>(region.begin.line), static_cast<int>(region.begin.column),
          std::move(message)};
}

bool valid_date(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') {
    return false;
  }
  for (std::size_t i : {0U, 1U, 2U, 3U, 5U, 6U, 8U, 9U}) {
    if (text[i] < '0' || text[i] > '9') {
      return false;
    }
  }
  const int month = (text[5] - '0') * 10 + (text[6] - '0');
  const int day = (text[8] - '0') * 10 + (text[9] - '0');
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

std::string two(int n) {
  return (n < 10 ? "0" : "") + std::to_string(n);
}

/// Levenshtein distance, for "did you mean".
std::size_t distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) {
    row[j] = j;
  }
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

void load_one(const toml::table& table, std::string_view file, std::vector<Waiver>& out, Diagnostics& diags) {
  Waiver w;
  w.where = at(file, table.source(), "");
  bool ok = true;
  for (const auto& [key, node] : table) {
    const std::string_view name = key.str();
    if (name == "check" || name == "reason") {
      const auto* value = node.as_string();
      if (value == nullptr || util::trim(value->get()).empty()) {
        diags.push_back(at(file, node.source(), "waivers." + std::string(name) + ": expected a non-empty string"));
        ok = false;
        continue;
      }
      if (name == "check") {
        w.check = std::string(util::trim(value->get()));
        w.where = at(file, node.source(), "");
      } else {
        w.reason = std::string(util::trim(value->get()));
      }
    } else if (name == "expires") {
      if (const auto* date = node.as_date()) {
        const toml::date d = date->get();
        w.expires = std::to_string(d.year) + "-" + two(d.month) + "-" + two(d.day);
      } else if (const auto* text = node.as_string(); text != nullptr && valid_date(text->get())) {
        w.expires = text->get();
      } else {
        diags.push_back(at(file, node.source(), "waivers.expires: expected a date, e.g. expires = 2027-01-31"));
        ok = false;
      }
    } else {
      diags.push_back(at(file, key.source(), "unknown key '" + std::string(name) +
                                                 "' in [[waivers]] (known: check, reason, expires)"));
      ok = false;
    }
  }
  if (w.check.empty() && ok) {
    diags.push_back(at(file, table.source(), "[[waivers]]: missing check = \"CHECK-ID or glob\""));
    ok = false;
  }
  if (w.reason.empty() && ok) {
    diags.push_back(at(file, table.source(), "[[waivers]] " + w.check +
                                                 ": missing reason = \"...\" (a waiver must say why)"));
    ok = false;
  }
  if (ok) {
    out.push_back(std::move(w));
  }
}

} // namespace

bool glob_match(std::string_view pattern, std::string_view text) {
  std::size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') {
    ++p;
  }
  return p == pattern.size();
}

Loaded<std::vector<Waiver>> load_waivers(std::string_view text, std::string_view source_name) {
  std::vector<Waiver> out;
  if (text.empty()) {
    return out;
  }
  toml::table doc;
  try {
    doc = toml::parse(text, source_name);
  } catch (const toml::parse_error&) {
    return out;  // the site loader reports the syntax error
  }
  const toml::node* node = doc.get("waivers");
  if (node == nullptr) {
    return out;
  }
  Diagnostics diags;
  const toml::array* array = node->as_array();
  if (array == nullptr) {
    diags.push_back(at(source_name, node->source(),
                       "waivers: expected [[waivers]] tables (check, reason, optional expires)"));
    return std::unexpected(std::move(diags));
  }
  for (const toml::node& element : *array) {
    if (const toml::table* table = element.as_table()) {
      load_one(*table, source_name, out, diags);
    } else {
      diags.push_back(at(source_name, element.source(), "waivers: expected a table (check, reason, expires)"));
    }
  }
  if (!diags.empty()) {
    return std::unexpected(std::move(diags));
  }
  return out;
}

Diagnostics waivers_without_checks(const std::vector<Waiver>& waivers, const std::vector<std::string>& check_ids) {
  Diagnostics out;
  for (const Waiver& w : waivers) {
    const bool any = std::any_of(check_ids.begin(), check_ids.end(),
                                 [&](const std::string& id) { return glob_match(w.check, id); });
    if (any) {
      continue;
    }
    std::string message = "waiver '" + w.check + "' names no check of this profile";
    const auto best = std::min_element(check_ids.begin(), check_ids.end(), [&](const auto& a, const auto& b) {
      return distance(w.check, a) < distance(w.check, b);
    });
    if (best != check_ids.end() && distance(w.check, *best) <= std::max<std::size_t>(2, w.check.size() / 4)) {
      message += " (did you mean '" + *best + "'?)";
    } else {
      message += " (`ztagent list` shows the check ids)";
    }
    Diagnostic d = w.where;
    d.message = std::move(message);
    out.push_back(std::move(d));
  }
  return out;
}

} // namespace zt::profile
