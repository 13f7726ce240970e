// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "util/result.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zt::host {

class Fs;
class HostCache;

struct Account {
  std::string name;
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::string home;
  std::string shell;
};

struct GroupEntry {
  std::string name;
  std::uint32_t gid = 0;
};

/// An account's name and ids without its other fields: what "no real id in a subuid range" needs
/// of every account. `name` views text that the shared_ptr handing these out keeps alive (the
/// cached /etc/passwd text for FileAccounts): 24 bytes per account, no allocation per account.
struct AccountIds {
  std::string_view name;
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
};

/// `accounts` as AccountIds, the names viewing the accounts that the returned pointer owns.
[[nodiscard]] std::shared_ptr<const std::vector<AccountIds>> share_ids(std::vector<Account> accounts);

/// User and group lookups. Checks and provisioners never call getpwnam themselves.
class Accounts {
public:
  virtual ~Accounts() = default;
  [[nodiscard]] virtual Result<std::optional<Account>> user(std::string_view name) const = 0;
  [[nodiscard]] virtual Result<std::optional<Account>> user_by_uid(std::uint32_t uid) const = 0;
  [[nodiscard]] virtual Result<std::optional<GroupEntry>> group(std::string_view name) const = 0;
  /// Every account known (for "a subuid range must not contain a real UID"), a copy.
  [[nodiscard]] virtual Result<std::vector<Account>> users() const = 0;
  /// Every account's name and ids in file order, without a copy: FileAccounts shares its cached
  /// parse (100,000 accounts are 2.3 MiB of AccountIds). The default wraps users().
  [[nodiscard]] virtual Result<std::shared_ptr<const std::vector<AccountIds>>> shared_users() const;
  /// The name of the group named like an account whose primary gid is `gid` and that has that gid
  /// (a user private group), trying the accounts in file order; nullopt when there is none.
  /// The default asks shared_users() and group(); FileAccounts answers from an index.
  [[nodiscard]] virtual Result<std::optional<std::string>> user_private_group(std::uint32_t gid) const;
};

/// Reads <root>/etc/passwd and <root>/etc/group through Fs (under --root the host's NSS would answer
/// for the wrong machine). Without a cache every call reads the files again (they change under us
/// when useradd runs); with the run's HostCache each file is read and parsed once until the cache is
/// invalidated, and lookups by name, uid and gid are index lookups.
class FileAccounts final : public Accounts {
public:
  explicit FileAccounts(const Fs& fs, const HostCache* cache = nullptr) : m_fs(fs), m_cache(cache) {}
  void set_cache(const HostCache* cache) { m_cache = cache; }
  [[nodiscard]] Result<std::optional<Account>> user(std::string_view name) const override;
  [[nodiscard]] Result<std::optional<Account>> user_by_uid(std::uint32_t uid) const override;
  [[nodiscard]] Result<std::optional<GroupEntry>> group(std::string_view name) const override;
  [[nodiscard]] Result<std::vector<Account>> users() const override;
  [[nodiscard]] Result<std::shared_ptr<const std::vector<AccountIds>>> shared_users() const override;
  [[nodiscard]] Result<std::optional<std::string>> user_private_group(std::uint32_t gid) const override;

private:
  const Fs& m_fs;
  const HostCache* m_cache = nullptr;
};

/// Pure parsers, exposed for table-driven tests.
[[nodiscard]] Result<std::vector<Account>> parse_passwd(std::string_view text);
[[nodiscard]] Result<std::vector<GroupEntry>> parse_group(std::string_view text);

} // namespace zt::host
