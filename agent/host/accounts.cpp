// SPDX-License-Identifier: Apache-2.0
#include "host/accounts.hpp"

#include "host/fs.hpp"
#include "util/strings.hpp"

#include <limits>
#include <string>

namespace zt::host {

namespace {

constexpr const char* k_passwd = "/etc/passwd";
constexpr const char* k_group = "/etc/group";

Error line_error(std::string_view file, std::size_t line, std::string_view reason) {
  return Error{Errc::parse, std::string(file) + ":" + std::to_string(line) + ": " + std::string(reason)};
}

/// Blank lines, '#' comments and NIS compat lines ("+", "+@netgroup", "-user") carry no entry.
bool skipped(std::string_view line) {
  auto t = util::trim(line);
  return t.empty() || line.front() == '#' || line.front() == '+' || line.front() == '-';
}

std::optional<std::uint32_t> parse_id(std::string_view text) {
  auto v = util::parse_uint(text);
  if (!v || *v > std::numeric_limits<std::uint32_t>::max()) {
    return std::nullopt;
  }
  return static_cast<std::uint32_t>(*v);
}

std::string field_count_reason(std::size_t expected, std::size_t found) {
  return "expected " + std::to_string(expected) + " colon-separated fields, found " + std::to_string(found);
}

/// Missing file -> empty text: an empty image tree has no accounts yet.
Result<std::string> read_optional(const Fs& fs, const char* path) {
  auto text = fs.read_file(path);
  if (!text) {
    if (text.error().code == Errc::not_found) {
      return std::string();
    }
    return std::unexpected(std::move(text).error());
  }
  return std::move(text).value();
}

} // namespace

Result<std::vector<Account>> parse_passwd(std::string_view text) {
  std::vector<Account> out;
  std::size_t number = 0;
  for (auto line : util::lines(text)) {
    ++number;
    if (skipped(line)) {
      continue;
    }
    auto fields = util::split(line, ':');
    if (fields.size() != 7) {
      return std::unexpected(line_error(k_passwd, number, field_count_reason(7, fields.size())));
    }
    if (fields[0].empty()) {
      return std::unexpected(line_error(k_passwd, number, "empty user name"));
    }
    auto uid = parse_id(fields[2]);
    if (!uid) {
      return std::unexpected(line_error(k_passwd, number, "bad UID '" + std::string(fields[2]) + "'"));
    }
    auto gid = parse_id(fields[3]);
    if (!gid) {
      return std::unexpected(line_error(k_passwd, number, "bad GID '" + std::string(fields[3]) + "'"));
    }
    out.push_back(Account{.name = std::string(fields[0]),
                          .uid = *uid,
                          .gid = *gid,
                          .home = std::string(fields[5]),
                          .shell = std::string(fields[6])});
  }
  return out;
}

Result<std::vector<GroupEntry>> parse_group(std::string_view text) {
  std::vector<GroupEntry> out;
  std::size_t number = 0;
  for (auto line : util::lines(text)) {
    ++number;
    if (skipped(line)) {
      continue;
    }
    auto fields = util::split(line, ':');
    if (fields.size() != 4) {
      return std::unexpected(line_error(k_group, number, field_count_reason(4, fields.size())));
    }
    if (fields[0].empty()) {
      return std::unexpected(line_error(k_group, number, "empty group name"));
    }
    auto gid = parse_id(fields[2]);
    if (!gid) {
      return std::unexpected(line_error(k_group, number, "bad GID '" + std::string(fields[2]) + "'"));
    }
    out.push_back(GroupEntry{.name = std::string(fields[0]), .gid = *gid});
  }
  return out;
}

Result<std::vector<Account>> FileAccounts::users() const {
  ZT_TRY_ASSIGN(text, read_optional(m_fs, k_passwd));
  return parse_passwd(text);
}

Result<std::optional<Account>> FileAccounts::user(std::string_view name) const {
  ZT_TRY_ASSIGN(all, users());
  for (auto& a : all) {
    if (a.name == name) {
      return std::optional<Account>(std::move(a));
    }
  }
  return std::optional<Account>();
}

Result<std::optional<Account>> FileAccounts::user_by_uid(std::uint32_t uid) const {
  ZT_TRY_ASSIGN(all, users());
  for (auto& a : all) {
    if (a.uid == uid) {
      return std::optional<Account>(std::move(a));
    }
  }
  return std::optional<Account>();
}

Result<std::optional<GroupEntry>> FileAccounts::group(std::string_view name) const {
  ZT_TRY_ASSIGN(text, read_optional(m_fs, k_group));
  ZT_TRY_ASSIGN(all, parse_group(text));
  for (auto& g : all) {
    if (g.name == name) {
      return std::optional<GroupEntry>(std::move(g));
    }
  }
  return std::optional<GroupEntry>();
}

} // namespace zt::host
