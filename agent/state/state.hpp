// SPDX-License-Identifier: Apache-2.0
#pragma once

// The state of the last provision, kept in /var/lib/ztagent/state.json (under --root:
// ROOT/var/lib/ztagent/state.json), written atomically with mode 0600, owner root, in a 0700
// directory. It records which steps ran, what each changed, when, with which profile, and a digest of
// every path a step declares through Provisioner::managed_paths(): content sha256 (regular files),
// owner, mode, access and default ACL. It never holds file contents: a sha256 of a secret file
// (32 random bytes or more) does not reveal it.
//
// `ztagent drift` recomputes the digests of the recorded paths and describes every difference in
// words (diff_digest). A later provision replaces the records of the steps it ran and keeps the
// others, so `provision --only data` does not forget the subids files.

#include "host/fs.hpp"
#include "provisioners/registry.hpp"
#include "report/report.hpp"
#include "util/result.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zt::state {

inline constexpr std::string_view k_state_dir = "/var/lib/ztagent";
inline constexpr std::string_view k_state_path = "/var/lib/ztagent/state.json";
inline constexpr std::string_view k_state_schema = "ztagent.state/1";

/// What ztagent recorded about one managed path. Type missing: nothing was there.
struct FileDigest {
  std::string path; // host path
  std::string step; // the step that manages it
  host::FileType type = host::FileType::missing;
  std::string sha256; // lower-case hex of the content; regular files only
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::uint32_t mode = 0;
  std::string acl;         // access ACL text (Acl::to_text); empty for missing paths and symlinks
  std::string default_acl; // default ACL text; directories only, "" when none
  friend bool operator==(const FileDigest&, const FileDigest&) = default;
};

/// One step of a provision: its status then ("changed" or "unchanged") and what it changed.
struct StepRecord {
  std::string id;
  std::string status;
  std::string provisioned_at; // RFC 3339 UTC of the provision that last ran this step
  std::vector<provisioners::Change> changes;
  friend bool operator==(const StepRecord&, const StepRecord&) = default;
};

struct State {
  std::string provisioned_at; // the latest provision (RFC 3339 UTC)
  std::string profile;
  std::string version; // ztagent version that wrote it
  std::vector<StepRecord> steps;
  std::vector<FileDigest> files;
  friend bool operator==(const State&, const State&) = default;
};

/// Digest of one path as it is now (lstat; a symlink is recorded as such and never followed).
/// Errors only when the path exists but cannot be read. With the run's cache, a file the run has
/// already looked at (host::inspect_once: /etc/subuid, /etc/subgid) is not read again; nothing new
/// is cached.
[[nodiscard]] Result<FileDigest> digest_path(const host::Fs& fs, const std::string& path, const std::string& step,
                                             const host::HostCache* cache = nullptr);

/// Digests of every managed path of `step` (none without a provisioner).
[[nodiscard]] Result<std::vector<FileDigest>> digest_step(const provisioners::Step& step,
                                                          const host::HostView& view);

/// The JSON document, '\n'-terminated, one step or file per line.
[[nodiscard]] std::string render_state(const State& state);
/// Parses render_state()'s output. Errc::parse "<source>: <what>" for anything else (another schema,
/// a missing member, a bad mode).
[[nodiscard]] Result<State> parse_state(std::string_view text, const std::string& source);

/// Reads k_state_path from `fs`. nullopt when there is none (no provision recorded yet).
[[nodiscard]] Result<std::optional<State>> load_state(const host::Fs& fs);
/// Writes k_state_path atomically (0600 root:root), creating k_state_dir 0700 (and /var/lib 0755)
/// when missing.
[[nodiscard]] Result<void> save_state(host::Fs& fs, const State& state);

/// The state after a provision: steps of `report` that ran to the end (changed or unchanged) get a
/// fresh record and fresh digests (`digests`, for those steps); other steps keep their previous record.
/// An unchanged step whose digests equal the recorded ones keeps its old record and time, so a
/// provision that changes nothing returns `previous` unchanged (and nothing needs writing).
/// Steps are kept in the order of `step_order`, then any unknown older ones.
[[nodiscard]] State record_provision(const std::optional<State>& previous,
                                     const report::Report& report,
                                     const std::vector<FileDigest>& digests,
                                     const std::vector<std::string>& step_order,
                                     const std::string& now,
                                     const std::string& version);

/// The differences between what was recorded and what is there now, each in words:
/// "missing (was a regular file)", "now a symlink (was a directory)", "content changed",
/// "owner 999:999 -> 0:0", "mode 0750 -> 0755", "ACL entry user:999:rwx removed",
/// "ACL entry default:user:100069:rwx added", "ACL entry user:999 changed rwx -> r-x".
/// Access-ACL base entries (user::, group::, other::, mask::) belong to the mode and are not repeated.
/// Empty when nothing changed.
[[nodiscard]] std::vector<std::string> diff_digest(const FileDigest& recorded, const FileDigest& current);

/// One drifted path, for logs and reports.
struct Drift {
  std::string path;
  std::string step;
  std::string provisioned_at;
  std::vector<std::string> differences;
};

/// Recomputes each recorded path: one Drift per path with differences, in recorded order. A path that
/// cannot be read is a Drift too ("cannot read: ...").
[[nodiscard]] std::vector<Drift> find_drift(const State& state, const host::Fs& fs);

/// "/etc/subuid: content changed since the provision of 2026-11-22T09:00:00Z".
[[nodiscard]] std::string describe(const Drift& drift, const std::string& difference);

/// The drift of each recorded path as report checks ("drift:/etc/subuid", step of the path): pass when
/// unchanged, fail with the differences in `actual` and the step to re-run in `fix`.
[[nodiscard]] std::vector<report::CheckReport> drift_checks(const State& state,
                                                            const std::vector<Drift>& drift);

} // namespace zt::state
