// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "host/accounts.hpp"
#include "host/command_runner.hpp"
#include "host/fs.hpp"
#include "host/host_cache.hpp"

#include <memory>

namespace zt::host {

/// What checks and plan() get: read-only file access (const Fs&), accounts, and a runner that
/// refuses mutating commands.
class HostView {
public:
  HostView(const Fs& fs,
           const Accounts& accounts,
           CommandRunner& read_only_runner,
           const HostCache* cache = nullptr)
      : m_fs(fs), m_accounts(accounts), m_runner(read_only_runner), m_cache(cache) {}
  [[nodiscard]] const Fs& fs() const { return m_fs; }
  /// The run's parsed host files, or nullptr (then every reader reads the file itself).
  [[nodiscard]] const HostCache* cache() const { return m_cache; }
  [[nodiscard]] const Accounts& accounts() const { return m_accounts; }
  [[nodiscard]] CommandRunner& runner() const { return m_runner; }
  /// True when operating on "/" (live kernel, live services).
  [[nodiscard]] bool live() const { return m_fs.is_live(); }
  /// True when live and systemd is PID 1 (/run/systemd/system exists).
  [[nodiscard]] bool systemd_running() const;

private:
  const Fs& m_fs;
  const Accounts& m_accounts;
  CommandRunner& m_runner;
  const HostCache* m_cache = nullptr;
};

/// Fs::inspect(path), once per run when there is a cache: the one look at a host file that both
/// its parser (subuid, subgid) and the drift record's fingerprint use, so a run reads it once.
[[nodiscard]] inline std::shared_ptr<const Result<FileSnapshot>> inspect_once(const Fs& fs, const HostCache* cache,
                                                                             std::string_view path) {
  return cached<FileSnapshot>(cache, "inspect:" + std::string(path), [&] { return fs.inspect(std::string(path)); });
}
/// What inspect_once() already holds for `path`, else a fresh Fs::inspect that is not cached (the
/// drift fingerprint of a secret file must not keep its content in the cache).
[[nodiscard]] inline std::shared_ptr<const Result<FileSnapshot>> inspect_seen(const Fs& fs, const HostCache* cache,
                                                                             std::string_view path) {
  if (cache != nullptr) {
    if (auto seen = cache->peek<FileSnapshot>("inspect:" + std::string(path))) {
      return seen;
    }
  }
  return std::make_shared<const Result<FileSnapshot>>(fs.inspect(std::string(path)));
}

/// The Host's writable runner: forwards to the real one and drops the cached host files before
/// every mutating command (useradd, usermod, apt-get change what the cache holds).
class InvalidatingRunner final : public CommandRunner {
public:
  InvalidatingRunner(CommandRunner& inner, const HostCache& cache) : m_inner(inner), m_cache(cache) {}
  [[nodiscard]] Result<CommandResult> run(const Command& cmd) override;

private:
  CommandRunner& m_inner;
  const HostCache& m_cache;
};

/// The view's runner in a run with a cache: a read-only command that plans and checks start with
/// the same argv, environment and working directory (`podman ps`, `systemctl --user show`) runs
/// once until the cache is invalidated (a mutating command, a step's apply, a verify retry round);
/// the others get its result, waiting for it when it is still running. A command with stdin is
/// never shared. Without this, a no-op live provision started 7 of its 17 processes twice.
class SharingRunner final : public CommandRunner {
public:
  SharingRunner(CommandRunner& inner, const HostCache& cache) : m_inner(inner), m_cache(cache) {}
  [[nodiscard]] Result<CommandResult> run(const Command& cmd) override;

private:
  CommandRunner& m_inner;
  const HostCache& m_cache;
};

/// What apply() gets: the same plus write access and the real runner.
class Host {
public:
  Host(Fs fs, CommandRunner& runner)
      : m_fs(std::move(fs)), m_accounts(m_fs), m_runner(runner, m_cache), m_read_only(runner),
        m_sharing(m_read_only, m_cache) {}
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;
  ~Host() {
    if (m_abandon_cache) {
      m_cache.abandon();
    }
  }

  /// The writable Fs: drops the cached host files first (the caller may be about to write).
  [[nodiscard]] Fs& fs() {
    m_cache.invalidate();
    return m_fs;
  }
  [[nodiscard]] const Fs& fs() const { return m_fs; }
  [[nodiscard]] const Accounts& accounts() const { return m_accounts; }
  /// The writable runner; a mutating command drops the cached host files first.
  [[nodiscard]] CommandRunner& runner() { return m_runner; }
  [[nodiscard]] HostView view() const {
    if (m_cache_enabled) {
      return HostView(m_fs, m_accounts, m_sharing, &m_cache);
    }
    return HostView(m_fs, m_accounts, m_read_only, nullptr);
  }
  [[nodiscard]] bool live() const { return m_fs.is_live(); }

  /// Parse each host file once per run and share read-only commands (SharingRunner) until the host
  /// changes (the CLI switches this on; off by default so a test may edit the tree between two
  /// checks on one Host).
  void enable_cache() {
    m_cache_enabled = true;
    m_accounts.set_cache(&m_cache);
  }
  /// The CLI's run: the process exits right after this Host, so its cache is not freed (see
  /// HostCache::abandon()).
  void abandon_cache_on_destruction() { m_abandon_cache = true; }
  /// Drops every cached host file: the orchestrator calls this after a step applied changes.
  void invalidate_cache() const { m_cache.invalidate(); }
  [[nodiscard]] const HostCache& cache() const { return m_cache; }

private:
  HostCache m_cache;  // before m_accounts and m_runner, which refer to it
  bool m_cache_enabled = false;
  bool m_abandon_cache = false;
  Fs m_fs;
  FileAccounts m_accounts;
  InvalidatingRunner m_runner;
  mutable ReadOnlyRunner m_read_only;
  mutable SharingRunner m_sharing;
};

} // namespace zt::host
