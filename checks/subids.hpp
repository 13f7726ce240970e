// SPDX-License-Identifier: Apache-2.0
#pragma once

// Subordinate id ranges of the service user (/etc/subuid, /etc/subgid).
//
// Pure functions (parsing, overlap and free-range arithmetic, the provisioning decision) on plain
// data, one read-only loader (read_subid_state) shared with provisioners/subids, and the checks.
//
// Rules (HOST-SPEC step 3, E2E-LAB pitfall 1): the user must have exactly one range of at least
// `count` ids in each file, overlapping no other entry and containing no real account's id. ztagent
// never rewrites or removes a range: an existing usable range is kept (Debian's useradd already writes
// user:100000:65536 for regular users), and a second range is never added, because newuidmap then
// fails with "write to uid_map failed: Invalid argument". Unusable ranges make the decision fail with
// the exact usermod command the admin should run.

#include "checks/check.hpp"
#include "host/host.hpp"
#include "util/result.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zt::checks {

/// New ranges start at SUB_UID_MIN + k * k_subid_alignment.
inline constexpr std::uint64_t k_subid_alignment = 65536;

enum class SubIdKind { uid, gid };

/// "/etc/subuid" or "/etc/subgid".
[[nodiscard]] std::string_view subid_path(SubIdKind kind);

/// One line "owner:start:count" of /etc/subuid or /etc/subgid.
struct SubIdEntry {
  std::string owner; // user name or numeric uid, as written
  std::uint64_t start = 0;
  std::uint64_t count = 0;
  std::size_t line = 0; // 1-based line number in its file
  /// Last id in the range (inclusive); count is never 0 after parsing.
  [[nodiscard]] std::uint64_t last() const { return start + count - 1; }
  /// "ztnet:165536:65536".
  [[nodiscard]] std::string to_text() const;
  /// "165536-231071", the form usermod's --add-subuids/--del-subuids take.
  [[nodiscard]] std::string range_text() const;
  friend bool operator==(const SubIdEntry&, const SubIdEntry&) = default;
};

struct SubIdLimits {
  std::uint64_t min = 100000;
  std::uint64_t max = 600100000;
  friend bool operator==(const SubIdLimits&, const SubIdLimits&) = default;
};

/// SUB_UID_MIN/MAX and SUB_GID_MIN/MAX.
struct SubIdLoginDefs {
  SubIdLimits uid;
  SubIdLimits gid;
};

/// Parses /etc/subuid or /etc/subgid content. Blank lines and '#' comments are skipped.
/// Errc::parse "<path>:<line>: <reason>" on a malformed line.
[[nodiscard]] Result<std::vector<SubIdEntry>> parse_subid_file(std::string_view text,
                                                               std::string_view path = "/etc/subuid");

/// Reads SUB_UID_MIN, SUB_UID_MAX, SUB_GID_MIN, SUB_GID_MAX from /etc/login.defs content; keys not
/// present keep the shadow defaults (100000 / 600100000). Errc::parse "/etc/login.defs:<line>: ..."
/// when one of these keys has a value that is not a decimal number, or a MIN above its MAX.
[[nodiscard]] Result<SubIdLoginDefs> parse_login_defs_subids(std::string_view text);

/// True when the entry belongs to `user`: owner is the name, or the numeric uid when known.
[[nodiscard]] bool owned_by(const SubIdEntry& entry, std::string_view user, std::optional<std::uint32_t> uid);
/// The entries of `user`, in file order.
[[nodiscard]] std::vector<SubIdEntry>
entries_of(const std::vector<SubIdEntry>& entries, std::string_view user, std::optional<std::uint32_t> uid);
/// True when [a_start, a_start + a_count) and [b_start, b_start + b_count) share an id.
[[nodiscard]] bool
ranges_overlap(std::uint64_t a_start, std::uint64_t a_count, std::uint64_t b_start, std::uint64_t b_count);

struct SubIdOverlap {
  SubIdEntry mine;
  SubIdEntry other;
};
/// Each pair (entry of the user, entry of another owner) in the same file that overlap.
[[nodiscard]] std::vector<SubIdOverlap> find_overlaps(const std::vector<SubIdEntry>& entries,
                                                      std::string_view user,
                                                      std::optional<std::uint32_t> uid);
/// The same with the user's lines of `entries` already found (`own`: entries_of(entries, user,
/// uid), e.g. SubIdState::mine), so the file is not scanned for them again.
[[nodiscard]] std::vector<SubIdOverlap> find_overlaps(const std::vector<SubIdEntry>& own,
                                                      const std::vector<SubIdEntry>& entries,
                                                      std::string_view user,
                                                      std::optional<std::uint32_t> uid);

/// A real account id inside a range: its id and the account's name.
struct RealIdHit {
  std::uint32_t id = 0;
  std::string account;
};
/// Uids (kind uid) or primary gids (kind gid) of `accounts` that lie inside `entry`.
[[nodiscard]] std::vector<RealIdHit>
real_ids_in(const SubIdEntry& entry, const std::vector<host::AccountIds>& accounts, SubIdKind kind);

/// Lowest start = limits.min + k * k_subid_alignment such that [start, start + count) overlaps no
/// entry of `taken`, contains none of `real_ids`, and its last id is <= limits.max. nullopt if none.
[[nodiscard]] std::optional<std::uint64_t> find_free_start(const std::vector<SubIdEntry>& taken,
                                                           const std::vector<std::uint32_t>& real_ids,
                                                           std::uint64_t count,
                                                           SubIdLimits limits);

/// What the subids step is about.
struct SubIdsSpec {
  std::string user = "ztnet";
  std::uint64_t count = 65536;
};

/// An empty vector to share: what SubIdState's tables point to before anything is read.
template <typename T> [[nodiscard]] std::shared_ptr<const std::vector<T>> no_entries() {
  static const auto empty = std::make_shared<const std::vector<T>>();
  return empty;
}

/// Everything the subids step and checks read from the host. The tables are shared, never copied:
/// read_subid_state points them at the run's parsed /etc/passwd, /etc/subuid and /etc/subgid
/// (100,000 lines each on big hosts). Never null.
struct SubIdState {
  std::optional<host::Account> account; // nullopt: the user does not exist (yet)
  /// Every account, for "no real uid in the range".
  std::shared_ptr<const std::vector<host::AccountIds>> accounts = no_entries<host::AccountIds>();
  bool subuid_exists = false;
  bool subgid_exists = false;
  std::shared_ptr<const std::vector<SubIdEntry>> subuid = no_entries<SubIdEntry>();
  std::shared_ptr<const std::vector<SubIdEntry>> subgid = no_entries<SubIdEntry>();
  SubIdLoginDefs limits;

  [[nodiscard]] const std::vector<SubIdEntry>& entries(SubIdKind kind) const {
    return kind == SubIdKind::uid ? *subuid : *subgid;
  }
  [[nodiscard]] bool file_exists(SubIdKind kind) const {
    return kind == SubIdKind::uid ? subuid_exists : subgid_exists;
  }
  [[nodiscard]] std::optional<std::uint32_t> uid() const {
    return account ? std::optional<std::uint32_t>(account->uid) : std::nullopt;
  }
  /// entries_of(entries(kind), user, uid()): the lines of `user`, found in one scan per file when
  /// read_subid_state indexed them for that user (the subids checks ask 6 times per run).
  [[nodiscard]] std::vector<SubIdEntry> mine(SubIdKind kind, std::string_view user) const;
  /// Scans both files once for `user`'s lines; mine() answers from that afterwards.
  void index_own(std::string_view user);

private:
  // What the index was made from: mine() scans again when the user, the tables or the uid differ.
  std::optional<std::string> m_indexed_user;
  const std::vector<SubIdEntry>* m_indexed_subuid = nullptr;
  const std::vector<SubIdEntry>* m_indexed_subgid = nullptr;
  std::optional<std::uint32_t> m_indexed_uid;
  std::vector<SubIdEntry> m_own_subuid;
  std::vector<SubIdEntry> m_own_subgid;
};

/// Reads /etc/subuid, /etc/subgid (missing = no entries), /etc/login.defs (missing = defaults) and
/// the accounts. Errors: Errc::parse for malformed files, Errc::io when a file cannot be read.
/// Once per run with the run's HostCache (host.cache()); a copy of the shared state (its tables
/// stay shared).
[[nodiscard]] Result<SubIdState> read_subid_state(const host::HostView& host, std::string_view user);
/// The same state without a copy: shared by the subids checks of one run.
[[nodiscard]] std::shared_ptr<const Result<SubIdState>> shared_subid_state(const host::HostView& host,
                                                                          std::string_view user);
/// The parsed /etc/subuid or /etc/subgid (nullopt: the file is missing), once per run with the run's
/// HostCache; shared by the subids and data checks.
[[nodiscard]] std::shared_ptr<const Result<std::optional<std::vector<SubIdEntry>>>>
read_subid_file(const host::HostView& host, SubIdKind kind);

/// The ranges the step would add (start of each), or nothing when both files are fine.
struct SubIdDecision {
  std::optional<std::uint64_t> add_subuid;
  std::optional<std::uint64_t> add_subgid;
  [[nodiscard]] bool empty() const { return !add_subuid && !add_subgid; }
};

/// Decides what to add. Keeps one existing usable range per file. Errc::invalid_config when the
/// user's existing ranges cannot be used (too small, more than one, overlapping another entry,
/// containing a real account id): the message names the usermod command that removes them, since
/// ztagent never rewrites ranges itself. Errc::invalid_config too when no free range is left.
[[nodiscard]] Result<SubIdDecision> decide_subids(const SubIdState& state, const SubIdsSpec& spec);

/// "usermod --del-subuids 100000-100999 ztnet" (one flag per entry).
[[nodiscard]] std::string
del_command(SubIdKind kind, const std::vector<SubIdEntry>& entries, std::string_view user);

/// {"runuser", "-u", user, "--", "podman", args...} with XDG_RUNTIME_DIR=/run/user/<uid> when
/// `runtime_dir_exists` (rootless podman keeps its state there).
[[nodiscard]] host::Command podman_as_user(const host::Account& account,
                                           std::vector<std::string> podman_args,
                                           host::Effect effect,
                                           bool runtime_dir_exists);

/// The checks of the subids step: "subids.subuid-range", "subids.subgid-range", "subids.no-overlap",
/// "subids.no-real-uid", and the runtime check "subids.uid-map".
[[nodiscard]] std::vector<std::unique_ptr<Check>> make_subids_checks(const SubIdsSpec& spec);

} // namespace zt::checks
