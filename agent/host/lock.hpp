// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "util/result.hpp"

#include <chrono>
#include <filesystem>

namespace zt::host {

/// An exclusive flock(2) on a lock file, so two ztagent runs never interleave. Released by the
/// destructor (or when the process dies: the kernel drops flocks).
class RunLock {
public:
  /// Waits up to `wait` for the lock; Errc::busy "another ztagent run (pid N) holds <path>" after.
  /// Creates the parent directory (0755) if needed.
  [[nodiscard]] static Result<RunLock> acquire(const std::filesystem::path& real_path,
                                               std::chrono::milliseconds wait);
  RunLock(RunLock&& other) noexcept;
  RunLock& operator=(RunLock&& other) noexcept;
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;
  ~RunLock();

private:
  explicit RunLock(int fd) : m_fd(fd) {}
  int m_fd = -1;
};

} // namespace zt::host
