// SPDX-License-Identifier: Apache-2.0
#pragma once

// The stack's secrets (HOST-SPEC step 7): random values generated once and reused forever.
//
// Two stores (checks/stack.hpp, choose_secret_store):
//   - podman: one podman secret of the service user per SecretSpec, named podman_secret_name();
//   - files: secrets_dir() (0700, user:group) holding one env file per container that references
//     secrets (secret_env_file(), 0600, owned by the user, "ENV=value" lines in podman --env-file
//     format). Containers that share a secret must see the same value in every file.
//
// Secret values never leave this module's callers: nothing here puts a value into an error message,
// a CheckResult, a Change or a command's argv/env. Messages name files and variables, never content.

#include "checks/check.hpp"
#include "checks/stack.hpp"
#include "host/acl.hpp"
#include "profile/spec.hpp"

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace zt::checks {

/// Every SecretRef names a declared secret and every secret has bytes >= 1. Errc::invalid_config
/// "stack: container ztnet references undeclared secret X".
[[nodiscard]] Result<void> validate_stack_secrets(const profile::Stack& stack);

/// Containers with at least one SecretRef, in stack order (the ones that get an env file).
[[nodiscard]] std::vector<const profile::Container*> secret_containers(const profile::Stack& stack);

// ---- files store ----------------------------------------------------------------------------

struct EnvEntry {
  std::string name;
  std::string value;
  std::size_t line = 0; // 1-based
};

/// Parses an env file: "NAME=value" lines (value taken verbatim up to the end of the line), blank
/// lines and '#' comments ignored. Errc::parse "<subject>: line N is not NAME=value" or
/// "<subject>: NAME is set twice (lines A and B)"; never quotes content.
[[nodiscard]] Result<std::vector<EnvEntry>> parse_env_file(std::string_view text, std::string_view subject);

/// One container's env file as found on disk.
struct SecretFile {
  std::string container;         // container name ("ztnet")
  std::string path;              // secret_env_file()
  host::FileStat st;             // lstat: a symlink is reported as such, never followed
  std::vector<EnvEntry> entries; // parsed when st is a regular file
  std::string text;              // raw content when regular (for rewriting; never printed)
};

/// Env files are read with Fs::read_untrusted under these rules: at most k_max_env_file_bytes,
/// owned by the service user (or root), one hard link.
constexpr std::uint64_t k_max_env_file_bytes = 64 * 1024;
[[nodiscard]] host::UntrustedRead env_file_rules(const host::Account& account);

/// The secrets directory and every env file of secret_containers(), each env file opened once
/// without following a symlink (a symlink, FIFO or device is reported by type, never read).
/// Errc::parse for a malformed file (message names the path and line only), Errc::refused for a
/// hard-linked, foreign-owned or oversized file, Errc::io when unreadable.
struct SecretFilesState {
  host::FileStat dir;
  std::vector<SecretFile> files;
};
[[nodiscard]] Result<SecretFilesState>
read_secret_files(const host::HostView& host, const host::Account& account, const profile::Stack& stack);

/// The value of each secret found in any env file (empty values count as unset). Errc::parse
/// "POSTGRES_PASSWORD differs between ztnet-postgres.env and ztnet-ztnet.env" when two files disagree.
[[nodiscard]] Result<std::map<std::string, std::string>> existing_secret_values(const SecretFilesState& state,
                                                                                const profile::Stack& stack);

/// Permission problems of one managed path, in words ("mode 0644 -> 0600", "owner 0:0 -> 999:999",
/// "remove extended ACL entries", "remove default ACL"); empty when right. `want_mode` is 0700 for
/// the directory, 0600 for files.
struct PathPermissions {
  std::string path;
  host::FileStat st;
  host::Acl access;
  host::Acl default_acl; // directories only
};
[[nodiscard]] Result<PathPermissions> read_permissions(const host::HostView& host, const std::string& path);
[[nodiscard]] std::vector<std::string>
permission_problems(const PathPermissions& p, const host::Account& account, std::uint32_t want_mode);
/// The three base entries for `mode` (what chmod alone leaves).
[[nodiscard]] host::Acl minimal_acl(std::uint32_t mode);

constexpr std::uint32_t k_secrets_dir_mode = 0700;
constexpr std::uint32_t k_secret_file_mode = 0600;

// ---- podman store ---------------------------------------------------------------------------

/// `podman secret ls --format {{.Name}}` as the user (read-only).
[[nodiscard]] host::Command podman_secret_ls_command(const host::Account& account);
/// Names of the user's podman secrets. Errc::command_failed "podman secret ls failed (exit N): <last
/// stderr line>".
[[nodiscard]] Result<std::set<std::string>> list_podman_secrets(const host::HostView& host,
                                                                const host::Account& account);
/// Verdict of secrets.present for the podman store from the listed names (or the error listing them).
[[nodiscard]] CheckResult judge_podman_secrets_present(const profile::Stack& stack,
                                                       const Result<std::set<std::string>>& names);

/// Temp files (".NAME.ztagent-*", Fs::list_leftovers) that an interrupted write left in
/// secrets_dir(), as host paths; empty when the directory is missing or not a directory.
[[nodiscard]] Result<std::vector<std::string>> secret_leftovers(const host::HostView& host,
                                                                const host::Account& account);

/// "secrets.present", "secrets.consistent", "secrets.permissions", "secrets.no-leftovers".
[[nodiscard]] std::vector<std::unique_ptr<Check>> make_secrets_checks(const std::string& user,
                                                                      const profile::Stack& stack);

} // namespace zt::checks
