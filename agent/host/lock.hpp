// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "util/result.hpp"

#include <chrono>
#include <filesystem>

namespace zt::host {

/// The run lock's host path; every run maps it into its target (ROOT/run/ztagent.lock under --root).
inline constexpr const char* k_run_lock_path = "/run/ztagent.lock";

enum class CreateParent { no, yes };

/// The run lock: an exclusive flock(2) on a lock file, so two ztagent runs never interleave, plus a
/// POSIX record lock (fcntl F_SETLK) on the same file whose only purpose is that the kernel can
/// name the holder: a loser asks F_GETLK and reports that pid, never a number some earlier run
/// wrote into the file (nothing is written into it). Both locks belong to the file's inode, so two
/// runs in different mount namespaces that open the same file (ROOT/run/ztagent.lock of one tree)
/// exclude each other. Released by the destructor, or when the process dies.
class RunLock {
public:
  /// Waits up to `wait` for the lock; Errc::busy "another ztagent run (pid N) holds <path>; wait
  /// for it to finish" after (without "(pid N)" when the kernel cannot name the holder, e.g. a
  /// ztagent that predates the record lock). The final component is opened with O_NOFOLLOW and
  /// must be a regular file (Errc::refused otherwise). With CreateParent::yes a missing parent
  /// directory (only the last one) is created 0755; Errc::io when the file cannot be opened.
  [[nodiscard]] static Result<RunLock> acquire(const std::filesystem::path& real_path,
                                               std::chrono::milliseconds wait,
                                               CreateParent create_parent = CreateParent::yes);
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
