// SPDX-License-Identifier: Apache-2.0
#pragma once

// TempRoot: a throwaway image tree for --root style tests. Lives under one per-process scratch
// directory (/tmp/ztagent-tests-<pid>/); removed on destruction unless ZTAGENT_KEEP_TEST_ROOTS is set,
// in which case its path is printed for inspection.

#include "host/host.hpp"

#include <filesystem>
#include <string>
#include <string_view>

namespace zt::test {

class TempRoot {
public:
  TempRoot();
  ~TempRoot();
  TempRoot(const TempRoot&) = delete;
  TempRoot& operator=(const TempRoot&) = delete;

  /// The real directory ("/tmp/ztagent-tests-123/root-4").
  [[nodiscard]] const std::filesystem::path& path() const { return m_path; }
  [[nodiscard]] std::string str() const { return m_path.string(); }
  /// The real path of a host path inside the tree.
  [[nodiscard]] std::filesystem::path real(std::string_view host_path) const;

  /// Writes a file (creating parent directories) at a host path, e.g. write("/etc/subuid", "...").
  void write(std::string_view host_path, std::string_view content);
  void append(std::string_view host_path, std::string_view content);
  [[nodiscard]] std::string read(std::string_view host_path) const;
  [[nodiscard]] bool exists(std::string_view host_path) const;
  void mkdir(std::string_view host_path);
  /// Writes a minimal /etc/passwd and /etc/group with root and the given users.
  void add_user(std::string_view name, unsigned uid, unsigned gid, std::string_view home = {});

  /// A Host over this tree using `runner`.
  [[nodiscard]] host::Host host(host::CommandRunner& runner) const;

private:
  std::filesystem::path m_path;
};

} // namespace zt::test
