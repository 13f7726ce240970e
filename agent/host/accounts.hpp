// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "util/result.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zt::host {

class Fs;

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

/// User and group lookups. Checks and provisioners never call getpwnam themselves.
class Accounts {
public:
  virtual ~Accounts() = default;
  [[nodiscard]] virtual Result<std::optional<Account>> user(std::string_view name) const = 0;
  [[nodiscard]] virtual Result<std::optional<Account>> user_by_uid(std::uint32_t uid) const = 0;
  [[nodiscard]] virtual Result<std::optional<GroupEntry>> group(std::string_view name) const = 0;
  /// Every account known (for "a subuid range must not contain a real UID").
  [[nodiscard]] virtual Result<std::vector<Account>> users() const = 0;
};

/// Reads <root>/etc/passwd and <root>/etc/group through Fs on every call (they change under us when
/// useradd runs). Used for every root: under --root the host's NSS would answer for the wrong machine.
class FileAccounts final : public Accounts {
public:
  explicit FileAccounts(const Fs& fs) : m_fs(fs) {}
  [[nodiscard]] Result<std::optional<Account>> user(std::string_view name) const override;
  [[nodiscard]] Result<std::optional<Account>> user_by_uid(std::uint32_t uid) const override;
  [[nodiscard]] Result<std::optional<GroupEntry>> group(std::string_view name) const override;
  [[nodiscard]] Result<std::vector<Account>> users() const override;

private:
  const Fs& m_fs;
};

/// Pure parsers, exposed for table-driven tests.
[[nodiscard]] Result<std::vector<Account>> parse_passwd(std::string_view text);
[[nodiscard]] Result<std::vector<GroupEntry>> parse_group(std::string_view text);

} // namespace zt::host
