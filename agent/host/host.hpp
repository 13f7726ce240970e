// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "host/accounts.hpp"
#include "host/command_runner.hpp"
#include "host/fs.hpp"

#include <memory>

namespace zt::host {

/// What checks and plan() get: read-only file access (const Fs&), accounts, and a runner that
/// refuses mutating commands.
class HostView {
public:
  HostView(const Fs& fs, const Accounts& accounts, CommandRunner& read_only_runner)
      : m_fs(fs), m_accounts(accounts), m_runner(read_only_runner) {}
  [[nodiscard]] const Fs& fs() const { return m_fs; }
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
};

/// What apply() gets: the same plus write access and the real runner.
class Host {
public:
  Host(Fs fs, CommandRunner& runner)
      : m_fs(std::move(fs)), m_accounts(m_fs), m_runner(runner), m_read_only(runner) {}
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;

  [[nodiscard]] Fs& fs() { return m_fs; }
  [[nodiscard]] const Fs& fs() const { return m_fs; }
  [[nodiscard]] const Accounts& accounts() const { return m_accounts; }
  [[nodiscard]] CommandRunner& runner() { return m_runner; }
  [[nodiscard]] HostView view() const { return HostView(m_fs, m_accounts, m_read_only); }
  [[nodiscard]] bool live() const { return m_fs.is_live(); }

private:
  Fs m_fs;
  FileAccounts m_accounts;
  CommandRunner& m_runner;
  mutable ReadOnlyRunner m_read_only;
};

} // namespace zt::host
