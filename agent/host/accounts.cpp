// SPDX-License-Identifier: Apache-2.0
#include "host/accounts.hpp"

#include "host/fs.hpp"
#include "host/host_cache.hpp"
#include "util/first_index.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <array>
#include <expected>
#include <limits>
#include <memory>
#include <span>
#include <string>
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

/// The fields of one line: passwd has 7, group 4 (split_into stores no more than these).
using Fields = std::span<const std::string_view>;
constexpr std::size_t k_max_fields = 7;

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
  ZT_ASSERT(field_count <= k_max_fields);
  std::vector<Record> out;
  // One allocation for the records (100,000 lines and more on big hosts); none per line.
  out.reserve(util::count_char(text, '\n') + 1);
  std::array<std::string_view, k_max_fields> storage;
  const std::span<std::string_view> fields(storage.data(), field_count);
  std::size_t number = 0;
  std::size_t pos = 0;
  while (auto line = util::next_line(text, pos)) {
    ++number;
    if (skipped(*line)) {
      continue;
    }
    const std::size_t found = util::split_into(*line, ':', fields);
    if (found != field_count) {
      return std::unexpected(line_error(file, number, field_count_reason(field_count, found)));
    }
    if (fields[0].empty()) {
      return std::unexpected(line_error(file, number, "empty " + std::string(what) + " name"));
    }
    std::expected<Record, std::string> record = make(Fields(fields));
    if (!record) {
      return std::unexpected(line_error(file, number, record.error()));
    }
    out.push_back(std::move(*record));
  }
  return out;
}

/// The name and ids of one /etc/passwd record: name:password:UID:GID:GECOS:home:shell. The name
/// views the line.
std::expected<AccountIds, std::string> make_ids(const Fields& fields) {
  auto uid = id_field(fields, 2, "UID");
  if (!uid) {
    return std::unexpected(uid.error());
  }
  auto gid = id_field(fields, 3, "GID");
  if (!gid) {
    return std::unexpected(gid.error());
  }
  return AccountIds{.name = fields[0], .uid = *uid, .gid = *gid};
}

/// One /etc/passwd record, every field it keeps copied.
std::expected<Account, std::string> make_account(const Fields& fields) {
  auto ids = make_ids(fields);
  if (!ids) {
    return std::unexpected(ids.error());
  }
  return Account{.name = std::string(ids->name),
                 .uid = ids->uid,
                 .gid = ids->gid,
                 .home = std::string(fields[5]),
                 .shell = std::string(fields[6])};
}

/// One /etc/group record (name:password:GID:members), the name viewing the line.
struct GroupRow {
  std::string_view name;
  std::uint32_t gid = 0;
};

std::expected<GroupRow, std::string> make_group_row(const Fields& fields) {
  auto gid = id_field(fields, 2, "GID");
  if (!gid) {
    return std::unexpected(gid.error());
  }
  return GroupRow{.name = fields[0], .gid = *gid};
}

std::expected<GroupEntry, std::string> make_group(const Fields& fields) {
  auto row = make_group_row(fields);
  if (!row) {
    return std::unexpected(row.error());
  }
  return GroupEntry{.name = std::string(row->name), .gid = row->gid};
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

/// Parsed /etc/passwd: the text as read and, per record, its name (viewing the text) and ids. A
/// 100,000-line file is 5 MiB of text and 2.3 MiB of rows, where whole Account records were 13 MiB
/// and 200,000 allocations; the rest of a record is parsed again from its line when a lookup returns
/// it (account(i)). The indexes hold the first entry of each name and uid (getpwnam/getpwuid answer
/// the first match too) and the accounts of each primary gid in file order (by_gid gives the first,
/// next_same_gid[i] the one after i).
struct PasswdTable {
  // A unique_ptr: moving the table never moves the bytes the rows view (a short string would).
  std::unique_ptr<const std::string> text;
  std::vector<AccountIds> all;
  util::FirstIndex by_name;
  util::FirstIndex by_uid;
  util::FirstIndex by_gid;
  std::vector<std::uint32_t> next_same_gid;

  [[nodiscard]] std::string_view name_of(std::size_t i) const { return all[i].name; }
  [[nodiscard]] std::uint32_t uid_of(std::size_t i) const { return all[i].uid; }
  [[nodiscard]] std::uint32_t gid_of(std::size_t i) const { return all[i].gid; }

  /// Record i in full: its line (where its name starts) split again. The parse accepted the line,
  /// so this cannot fail.
  [[nodiscard]] Account account(std::size_t i) const {
    const std::string_view whole(*text);
    std::size_t pos = static_cast<std::size_t>(all[i].name.data() - whole.data());
    const auto line = util::next_line(whole, pos);
    ZT_ASSERT(line.has_value());
    std::array<std::string_view, 7> fields;
    const std::size_t found = util::split_into(*line, ':', fields);
    ZT_ASSERT(found == fields.size());
    auto record = make_account(Fields(fields));
    ZT_ASSERT(record.has_value());
    return std::move(*record);
  }
};

struct GroupTable {
  std::unique_ptr<const std::string> text;
  std::vector<GroupRow> all;
  util::FirstIndex by_name;

  [[nodiscard]] std::string_view name_of(std::size_t i) const { return all[i].name; }
  [[nodiscard]] GroupEntry entry(std::size_t i) const { return GroupEntry{std::string(all[i].name), all[i].gid}; }
};

std::shared_ptr<const Result<PasswdTable>> passwd_table(const Fs& fs, const HostCache* cache) {
  return cached<PasswdTable>(cache, "accounts:/etc/passwd", [&]() -> Result<PasswdTable> {
    ZT_TRY_ASSIGN(text, read_optional(fs, k_passwd));
    PasswdTable table;
    table.text = std::make_unique<const std::string>(std::move(text));
    ZT_TRY_ASSIGN(all, parse_records<AccountIds>(*table.text, k_passwd, 7, "user", make_ids));
    table.all = std::move(all);
    const std::size_t n = table.all.size();
    table.by_name = util::FirstIndex(n, [&](std::size_t i) { return table.name_of(i); });
    table.by_uid = util::FirstIndex(n, [&](std::size_t i) { return table.uid_of(i); });
    table.by_gid = util::FirstIndex(n, [&](std::size_t i) { return table.gid_of(i); }, &table.next_same_gid);
    return table;
  });
}

std::shared_ptr<const Result<GroupTable>> group_table(const Fs& fs, const HostCache* cache) {
  return cached<GroupTable>(cache, "accounts:/etc/group", [&]() -> Result<GroupTable> {
    ZT_TRY_ASSIGN(text, read_optional(fs, k_group));
    GroupTable table;
    table.text = std::make_unique<const std::string>(std::move(text));
    ZT_TRY_ASSIGN(all, parse_records<GroupRow>(*table.text, k_group, 4, "group", make_group_row));
    table.all = std::move(all);
    table.by_name = util::FirstIndex(table.all.size(), [&](std::size_t i) { return table.name_of(i); });
    return table;
  });
}

std::optional<std::size_t> find_name(const PasswdTable& t, std::string_view name) {
  return t.by_name.find(name, [&](std::size_t i) { return t.name_of(i); });
}

std::optional<std::size_t> find_uid(const PasswdTable& t, std::uint32_t uid) {
  return t.by_uid.find(uid, [&](std::size_t i) { return t.uid_of(i); });
}

std::optional<std::size_t> find_gid(const PasswdTable& t, std::uint32_t gid) {
  return t.by_gid.find(gid, [&](std::size_t i) { return t.gid_of(i); });
}

std::optional<std::size_t> find_name(const GroupTable& t, std::string_view name) {
  return t.by_name.find(name, [&](std::size_t i) { return t.name_of(i); });
}

} // namespace

std::shared_ptr<const std::vector<AccountIds>> share_ids(std::vector<Account> accounts) {
  struct Owner {
    std::vector<Account> accounts;
    std::vector<AccountIds> ids;
  };
  auto owner = std::make_shared<Owner>();
  owner->accounts = std::move(accounts);
  owner->ids.reserve(owner->accounts.size());
  for (const auto& a : owner->accounts) {
    owner->ids.push_back({a.name, a.uid, a.gid});
  }
  return {owner, &owner->ids};
}

Result<std::shared_ptr<const std::vector<AccountIds>>> Accounts::shared_users() const {
  ZT_TRY_ASSIGN(all, users());
  return share_ids(std::move(all));
}

Result<std::optional<std::string>> Accounts::user_private_group(std::uint32_t gid) const {
  ZT_TRY_ASSIGN(all, shared_users());
  for (const auto& a : *all) {
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

Result<std::shared_ptr<const std::vector<AccountIds>>> FileAccounts::shared_users() const {
  auto table = passwd_table(m_fs, m_cache);
  if (!*table) {
    return std::unexpected(table->error());
  }
  // Shares the cached table: no copy of the accounts.
  return std::shared_ptr<const std::vector<AccountIds>>(table, &(*table)->all);
}

Result<std::vector<Account>> FileAccounts::users() const {
  auto table = passwd_table(m_fs, m_cache);
  if (!*table) {
    return std::unexpected(table->error());
  }
  std::vector<Account> out;
  out.reserve((*table)->all.size());
  for (std::size_t i = 0; i < (*table)->all.size(); ++i) {
    out.push_back((*table)->account(i));
  }
  return out;
}

Result<std::optional<Account>> FileAccounts::user(std::string_view name) const {
  auto table = passwd_table(m_fs, m_cache);
  if (!*table) {
    return std::unexpected(table->error());
  }
  auto i = find_name(**table, name);
  if (!i) {
    return std::optional<Account>();
  }
  return std::optional<Account>((*table)->account(*i));
}

Result<std::optional<Account>> FileAccounts::user_by_uid(std::uint32_t uid) const {
  auto table = passwd_table(m_fs, m_cache);
  if (!*table) {
    return std::unexpected(table->error());
  }
  auto i = find_uid(**table, uid);
  if (!i) {
    return std::optional<Account>();
  }
  return std::optional<Account>((*table)->account(*i));
}

Result<std::optional<GroupEntry>> FileAccounts::group(std::string_view name) const {
  auto table = group_table(m_fs, m_cache);
  if (!*table) {
    return std::unexpected(table->error());
  }
  auto i = find_name(**table, name);
  if (!i) {
    return std::optional<GroupEntry>();
  }
  return std::optional<GroupEntry>((*table)->entry(*i));
}

Result<std::optional<std::string>> FileAccounts::user_private_group(std::uint32_t gid) const {
  auto users = passwd_table(m_fs, m_cache);
  if (!*users) {
    return std::unexpected(users->error());
  }
  const PasswdTable& accounts = **users;
  auto first = find_gid(accounts, gid);
  if (!first) {
    return std::optional<std::string>();
  }
  auto groups = group_table(m_fs, m_cache);
  if (!*groups) {
    return std::unexpected(groups->error());
  }
  for (std::size_t i = *first; i != util::FirstIndex::k_end; i = accounts.next_same_gid[i]) {
    auto g = find_name(**groups, accounts.all[i].name);
    if (g && (*groups)->all[*g].gid == gid) {
      return std::optional<std::string>(std::string((*groups)->all[*g].name));
    }
  }
  return std::optional<std::string>();
}

} // namespace zt::host
