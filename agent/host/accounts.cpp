// SPDX-License-Identifier: Apache-2.0
#include "host/accounts.hpp"

#include "host/fs.hpp"
#include "host/host_cache.hpp"
#include "util/strings.hpp"

#include <expected>
#include <limits>
#include <string>
#include <unordered_map>
#include <vector>

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

using Fields = std::vector<std::string_view>;

/// fields[index] as an id, or the line's error reason ("bad UID '<text>'").
std::expected<std::uint32_t, std::string>
id_field(const Fields& fields, std::size_t index, std::string_view what) {
  auto id = parse_id(fields[index]);
  if (!id) {
    return std::unexpected("bad " + std::string(what) + " '" + std::string(fields[index]) + "'");
  }
  return *id;
}

/// The records of a colon-separated account file: each line that is not skipped() must have
/// `field_count` fields and a non-empty name ("empty <what> name"); `make(fields)` builds the record
/// or gives the reason the line is bad. Errors are "<file>:<line>: <reason>".
template <typename Record, typename Make>
Result<std::vector<Record>> parse_records(
    std::string_view text, std::string_view file, std::size_t field_count, std::string_view what, Make make) {
  std::vector<Record> out;
  std::size_t number = 0;
  for (auto line : util::lines(text)) {
    ++number;
    if (skipped(line)) {
      continue;
    }
    auto fields = util::split(line, ':');
    if (fields.size() != field_count) {
      return std::unexpected(line_error(file, number, field_count_reason(field_count, fields.size())));
    }
    if (fields[0].empty()) {
      return std::unexpected(line_error(file, number, "empty " + std::string(what) + " name"));
    }
    std::expected<Record, std::string> record = make(fields);
    if (!record) {
      return std::unexpected(line_error(file, number, record.error()));
    }
    out.push_back(std::move(*record));
  }
  return out;
}

/// One /etc/passwd record: name:password:UID:GID:GECOS:home:shell.
std::expected<Account, std::string> make_account(const Fields& fields) {
  auto uid = id_field(fields, 2, "UID");
  if (!uid) {
    return std::unexpected(uid.error());
  }
  auto gid = id_field(fields, 3, "GID");
  if (!gid) {
    return std::unexpected(gid.error());
  }
  return Account{.name = std::string(fields[0]),
                 .uid = *uid,
                 .gid = *gid,
                 .home = std::string(fields[5]),
                 .shell = std::string(fields[6])};
}

/// One /etc/group record: name:password:GID:members.
std::expected<GroupEntry, std::string> make_group(const Fields& fields) {
  auto gid = id_field(fields, 2, "GID");
  if (!gid) {
    return std::unexpected(gid.error());
  }
  return GroupEntry{.name = std::string(fields[0]), .gid = *gid};
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
  return parse_records<Account>(text, k_passwd, 7, "user", make_account);
}

Result<std::vector<GroupEntry>> parse_group(std::string_view text) {
  return parse_records<GroupEntry>(text, k_group, 4, "group", make_group);
}

namespace {

/// Parsed /etc/passwd with the first entry of each name and uid (getpwnam/getpwuid answer the
/// first match too), and the accounts of each primary gid in file order.
struct PasswdTable {
  std::vector<Account> all;
  std::unordered_map<std::string_view, std::size_t> by_name;
  std::unordered_map<std::uint32_t, std::size_t> by_uid;
  std::unordered_map<std::uint32_t, std::vector<std::size_t>> by_gid;
};

struct GroupTable {
  std::vector<GroupEntry> all;
  std::unordered_map<std::string_view, std::size_t> by_name;
};

std::shared_ptr<const Result<PasswdTable>> passwd_table(const Fs& fs, const HostCache* cache) {
  return cached<PasswdTable>(cache, "accounts:/etc/passwd", [&]() -> Result<PasswdTable> {
    ZT_TRY_ASSIGN(text, read_optional(fs, k_passwd));
    ZT_TRY_ASSIGN(all, parse_passwd(text));
    PasswdTable table;
    table.all = std::move(all);
    table.by_name.reserve(table.all.size());
    table.by_uid.reserve(table.all.size());
    for (std::size_t i = 0; i < table.all.size(); ++i) {
      const Account& a = table.all[i];
      table.by_name.try_emplace(a.name, i);
      table.by_uid.try_emplace(a.uid, i);
      table.by_gid[a.gid].push_back(i);
    }
    return table;
  });
}

std::shared_ptr<const Result<GroupTable>> group_table(const Fs& fs, const HostCache* cache) {
  return cached<GroupTable>(cache, "accounts:/etc/group", [&]() -> Result<GroupTable> {
    ZT_TRY_ASSIGN(text, read_optional(fs, k_group));
    ZT_TRY_ASSIGN(all, parse_group(text));
    GroupTable table;
    table.all = std::move(all);
    table.by_name.reserve(table.all.size());
    for (std::size_t i = 0; i < table.all.size(); ++i) {
      table.by_name.try_emplace(table.all[i].name, i);
    }
    return table;
  });
}

} // namespace

Result<std::optional<std::string>> Accounts::user_private_group(std::uint32_t gid) const {
  ZT_TRY_ASSIGN(all, users());
  for (const auto& a : all) {
    if (a.gid != gid) {
      continue;
    }
    ZT_TRY_ASSIGN(g, group(a.name));
    if (g && g->gid == gid) {
      return std::optional<std::string>(g->name);
    }
  }
  return std::optional<std::string>();
}

Result<std::vector<Account>> FileAccounts::users() const {
  auto table = passwd_table(m_fs, m_cache);
  if (!*table) {
    return std::unexpected(table->error());
  }
  return (*table)->all;
}

Result<std::optional<Account>> FileAccounts::user(std::string_view name) const {
  auto table = passwd_table(m_fs, m_cache);
  if (!*table) {
    return std::unexpected(table->error());
  }
  auto it = (*table)->by_name.find(name);
  if (it == (*table)->by_name.end()) {
    return std::optional<Account>();
  }
  return std::optional<Account>((*table)->all[it->second]);
}

Result<std::optional<Account>> FileAccounts::user_by_uid(std::uint32_t uid) const {
  auto table = passwd_table(m_fs, m_cache);
  if (!*table) {
    return std::unexpected(table->error());
  }
  auto it = (*table)->by_uid.find(uid);
  if (it == (*table)->by_uid.end()) {
    return std::optional<Account>();
  }
  return std::optional<Account>((*table)->all[it->second]);
}

Result<std::optional<GroupEntry>> FileAccounts::group(std::string_view name) const {
  auto table = group_table(m_fs, m_cache);
  if (!*table) {
    return std::unexpected(table->error());
  }
  auto it = (*table)->by_name.find(name);
  if (it == (*table)->by_name.end()) {
    return std::optional<GroupEntry>();
  }
  return std::optional<GroupEntry>((*table)->all[it->second]);
}

Result<std::optional<std::string>> FileAccounts::user_private_group(std::uint32_t gid) const {
  auto users = passwd_table(m_fs, m_cache);
  if (!*users) {
    return std::unexpected(users->error());
  }
  auto accounts = (*users)->by_gid.find(gid);
  if (accounts == (*users)->by_gid.end()) {
    return std::optional<std::string>();
  }
  auto groups = group_table(m_fs, m_cache);
  if (!*groups) {
    return std::unexpected(groups->error());
  }
  for (const std::size_t i : accounts->second) {
    auto g = (*groups)->by_name.find((*users)->all[i].name);
    if (g != (*groups)->by_name.end() && (*groups)->all[g->second].gid == gid) {
      return std::optional<std::string>((*groups)->all[g->second].name);
    }
  }
  return std::optional<std::string>();
}

} // namespace zt::host
