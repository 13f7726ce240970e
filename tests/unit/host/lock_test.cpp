// SPDX-License-Identifier: Apache-2.0
#include "host/lock.hpp"

#include "support/catch.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <sys/stat.h>
#include <unistd.h>

using zt::Errc;
using zt::host::RunLock;

namespace {

/// A fresh directory per test case, removed afterwards.
struct ScratchDir {
  std::filesystem::path path;
  explicit ScratchDir(std::string_view name)
      : path(std::filesystem::temp_directory_path() /
             ("ztagent-lock-" + std::to_string(::getpid()) + "-" + std::string(name))) {
    std::filesystem::remove_all(path);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
};

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

} // namespace

TEST_CASE("RunLock: creates parents, writes our pid, excludes a second holder", "[host][lock]") {
  ScratchDir dir("basic");
  const auto path = dir.path / "run" / "ztagent" / "lock";

  auto first = RunLock::acquire(path, std::chrono::milliseconds(0));
  REQUIRE(first);
  CHECK(slurp(path) == std::to_string(::getpid()) + "\n");
  struct stat st {};
  REQUIRE(::stat((dir.path / "run").c_str(), &st) == 0);
  const mode_t mask = ::umask(0);
  ::umask(mask);
  CHECK((st.st_mode & 07777) == (0755 & ~mask));

  const auto start = std::chrono::steady_clock::now();
  auto second = RunLock::acquire(path, std::chrono::milliseconds(200));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  REQUIRE_FALSE(second);
  CHECK(second.error().code == Errc::busy);
  CHECK(second.error().message == "another ztagent run (pid " + std::to_string(::getpid()) + ") holds " +
                                      path.string() + "; wait for it to finish");
  CHECK(elapsed >= std::chrono::milliseconds(200));
  CHECK(elapsed < std::chrono::milliseconds(1000));
  // The failed attempt must not have clobbered the holder's pid.
  CHECK(slurp(path) == std::to_string(::getpid()) + "\n");
}

TEST_CASE("RunLock: released by destruction, kept across moves", "[host][lock]") {
  ScratchDir dir("release");
  const auto path = dir.path / "lock";
  {
    auto first = RunLock::acquire(path, std::chrono::milliseconds(0));
    REQUIRE(first);
    RunLock moved = std::move(*first);  // the moved-from object must not release it
    auto blocked = RunLock::acquire(path, std::chrono::milliseconds(0));
    REQUIRE_FALSE(blocked);
    CHECK(blocked.error().code == Errc::busy);

    auto holder = RunLock::acquire(dir.path / "other", std::chrono::milliseconds(0));
    REQUIRE(holder);
    moved = std::move(*holder);  // move-assign releases the first lock
    auto now_free = RunLock::acquire(path, std::chrono::milliseconds(0));
    CHECK(now_free);
  }
  auto again = RunLock::acquire(path, std::chrono::milliseconds(0));
  CHECK(again);
}

TEST_CASE("RunLock: waits for the holder to go away", "[host][lock]") {
  ScratchDir dir("wait");
  const auto path = dir.path / "lock";
  std::optional<RunLock> first;
  {
    auto r = RunLock::acquire(path, std::chrono::milliseconds(0));
    REQUIRE(r);
    first.emplace(std::move(*r));
  }
  std::thread releaser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    first.reset();
  });
  auto second = RunLock::acquire(path, std::chrono::seconds(5));
  releaser.join();
  CHECK(second);
}

TEST_CASE("RunLock: busy message without a readable pid", "[host][lock]") {
  ScratchDir dir("nopid");
  const auto path = dir.path / "lock";
  auto first = RunLock::acquire(path, std::chrono::milliseconds(0));
  REQUIRE(first);
  std::filesystem::resize_file(path, 0);  // as if the holder had not written its pid yet
  auto second = RunLock::acquire(path, std::chrono::milliseconds(0));
  REQUIRE_FALSE(second);
  CHECK(second.error().code == Errc::busy);
  CHECK(second.error().message == "another ztagent run holds " + path.string() + "; wait for it to finish");
}

TEST_CASE("RunLock: a stale pid in the file is not named as the holder", "[host][lock]") {
  ScratchDir dir("stalepid");
  const auto path = dir.path / "lock";
  auto first = RunLock::acquire(path, std::chrono::milliseconds(0));
  REQUIRE(first);
  {
    std::ofstream out(path, std::ios::trunc);
    out << "99999999\n";  // above any pid_max: no such process
  }
  auto second = RunLock::acquire(path, std::chrono::milliseconds(0));
  REQUIRE_FALSE(second);
  CHECK(second.error().code == Errc::busy);
  CHECK(second.error().message == "another process (pid 99999999, which wrote the file last, has exited) holds " +
                                      path.string() + "; wait for it to finish");
}

TEST_CASE("RunLock: an unusable path is an io error", "[host][lock]") {
  ScratchDir dir("io");
  std::filesystem::create_directories(dir.path);
  {
    std::ofstream f(dir.path / "file");
  }
  auto r = RunLock::acquire(dir.path / "file" / "lock", std::chrono::milliseconds(0));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::io);
  CHECK(r.error().message == (dir.path / "file" / "lock").string() + ": cannot open lock file: Not a directory");
}
