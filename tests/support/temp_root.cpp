// SPDX-License-Identifier: Apache-2.0
#include "support/temp_root.hpp"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <unistd.h>

namespace zt::test {

namespace {
std::filesystem::path scratch_dir() {
  static const std::filesystem::path dir = [] {
    auto p = std::filesystem::temp_directory_path() / ("ztagent-tests-" + std::to_string(::getpid()));
    std::filesystem::create_directories(p);
    return p;
  }();
  return dir;
}
std::atomic<int> g_counter{0};
} // namespace

TempRoot::TempRoot() {
  m_path = scratch_dir() / ("root-" + std::to_string(++g_counter));
  std::filesystem::remove_all(m_path);
  std::filesystem::create_directories(m_path);
  std::filesystem::create_directories(m_path / "etc");
  add_user("root", 0, 0, "/root");
}

TempRoot::~TempRoot() {
  if (std::getenv("ZTAGENT_KEEP_TEST_ROOTS") != nullptr) {
    std::fprintf(stderr, "kept test root: %s\n", m_path.c_str());
    return;
  }
  std::error_code ec;
  std::filesystem::remove_all(m_path, ec);
}

std::filesystem::path TempRoot::real(std::string_view host_path) const {
  std::filesystem::path p{host_path};
  if (!p.is_absolute()) {
    throw std::invalid_argument("TempRoot: host path must be absolute: " + p.string());
  }
  return m_path / p.relative_path();
}

void TempRoot::write(std::string_view host_path, std::string_view content) {
  auto p = real(host_path);
  std::filesystem::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << content;
  if (!out) {
    throw std::runtime_error("TempRoot: cannot write " + p.string());
  }
}

void TempRoot::append(std::string_view host_path, std::string_view content) {
  auto p = real(host_path);
  std::filesystem::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::app);
  out << content;
}

std::string TempRoot::read(std::string_view host_path) const {
  std::ifstream in(real(host_path), std::ios::binary);
  if (!in) {
    throw std::runtime_error("TempRoot: cannot read " + std::string(host_path));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool TempRoot::exists(std::string_view host_path) const {
  std::error_code ec;
  return std::filesystem::symlink_status(real(host_path), ec).type() != std::filesystem::file_type::not_found;
}

void TempRoot::mkdir(std::string_view host_path) { std::filesystem::create_directories(real(host_path)); }

void TempRoot::add_user(std::string_view name, unsigned uid, unsigned gid, std::string_view home) {
  std::string h = home.empty() ? "/home/" + std::string(name) : std::string(home);
  append("/etc/passwd", std::string(name) + ":x:" + std::to_string(uid) + ":" + std::to_string(gid) + "::" + h +
                            ":/bin/sh\n");
  append("/etc/group", std::string(name) + ":x:" + std::to_string(gid) + ":\n");
}

host::Host TempRoot::host(host::CommandRunner& runner) const { return host::Host(host::Fs(m_path), runner); }

} // namespace zt::test
