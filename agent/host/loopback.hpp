// SPDX-License-Identifier: Apache-2.0
#pragma once

// The socket plumbing of the loopback probes (net.cpp: HTTP, tls_probe.cpp: HTTPS): a non-blocking
// TCP connect to 127.0.0.1:<port> and waits, all bounded by one deadline. Internal to agent/host.

#include "util/result.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace zt::host::loopback {

using Clock = std::chrono::steady_clock;

/// An owned socket descriptor, closed on destruction.
class SocketFd {
public:
  explicit SocketFd(int fd) : m_fd(fd) {}
  ~SocketFd();
  SocketFd(SocketFd&& other) noexcept : m_fd(other.m_fd) { other.m_fd = -1; }
  SocketFd& operator=(SocketFd&&) = delete;
  SocketFd(const SocketFd&) = delete;
  SocketFd& operator=(const SocketFd&) = delete;
  [[nodiscard]] int get() const { return m_fd; }

private:
  int m_fd;
};

/// Waits for `events` (POLLIN/POLLOUT) on fd until `deadline`: true when ready, false on timeout.
/// Errc::io "<subject>: poll: ..." when poll fails.
[[nodiscard]] Result<bool> wait_for(int fd, short events, Clock::time_point deadline, const std::string& subject);

/// "connection refused" for ECONNREFUSED, else strerror(err).
[[nodiscard]] std::string reason(int err);

/// A connected non-blocking socket to 127.0.0.1:<port>, or nullopt when `deadline` passed first
/// (the caller words its own timeout). Errc::io "<subject>: connection refused" (or another
/// socket/connect failure).
[[nodiscard]] Result<std::optional<SocketFd>>
connect(std::uint16_t port, Clock::time_point deadline, const std::string& subject);

} // namespace zt::host::loopback
