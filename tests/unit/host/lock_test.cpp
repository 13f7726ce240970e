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
#include <sys/wait.h>
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

TEST_CASE("RunLock: creates its parent, writes nothing into the file, excludes a second holder", "[host][lock]") {
  ScratchDir dir("basic");
  std::filesystem::create_directories(dir.path);
  const auto path = dir.path / "run" / "ztagent.lock";

  auto first = RunLock::acquire(path, std::chrono::milliseconds(0));
  REQUIRE(first);
  CHECK(slurp(path).empty()); // the holder is named by the kernel, not by file content
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
  // Same process: POSIX record locks never conflict with their own process, so no pid to name.
  CHECK(second.error().message == "another ztagent run holds " + path.string() + "; wait for it to finish");
  CHECK(elapsed >= std::chrono::milliseconds(200));
  CHECK(elapsed < std::chrono::milliseconds(1000));
}

TEST_CASE("RunLock: the busy message names the holder's pid, not what a run wrote into the file",
          "[host][lock]") {
  ScratchDir dir("holder");
  std::filesystem::create_directories(dir.path);
  const auto path = dir.path / "ztagent.lock";
  {
    std::ofstream stale(path);
    stale << "4242\n"; // what an earlier ztagent (that wrote its pid) left behind
  }
  int ready[2];
  int release[2];
  REQUIRE(::pipe(ready) == 0);
  REQUIRE(::pipe(release) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    auto held = RunLock::acquire(path, std::chrono::milliseconds(0));
    char c = held ? 'y' : 'n';
    (void)::write(ready[1], &c, 1);
    (void)::read(release[0], &c, 1); // hold until the parent has looked
    ::_exit(0);
  }
  char c = 0;
  REQUIRE(::read(ready[0], &c, 1) == 1);
  REQUIRE(c == 'y');
  auto busy = RunLock::acquire(path, std::chrono::milliseconds(0));
  (void)::write(release[1], "x", 1);
  int status = 0;
  ::waitpid(child, &status, 0);
  for (int fd : {ready[0], ready[1], release[0], release[1]}) {
    ::close(fd);
  }
  REQUIRE_FALSE(busy);
  CHECK(busy.error().code == Errc::busy);
  CHECK(busy.error().message == "another ztagent run (pid " + std::to_string(child) + ") holds " +
                                    path.string() + "; wait for it to finish");
  // The holder is gone: the lock is free again.
  CHECK(RunLock::acquire(path, std::chrono::milliseconds(0)));
}

TEST_CASE("RunLock: a symlink or FIFO at the lock path is refused, never followed or waited on",
          "[host][lock]") {
  ScratchDir dir("planted");
  std::filesystem::create_directories(dir.path);
  {
    std::ofstream victim(dir.path / "victim");
    victim << "keep\n";
  }
  std::filesystem::create_symlink(dir.path / "victim", dir.path / "link.lock");
  auto link = RunLock::acquire(dir.path / "link.lock", std::chrono::milliseconds(0));
  REQUIRE_FALSE(link);
  CHECK(link.error().code == Errc::refused);
  CHECK(link.error().message == (dir.path / "link.lock").string() +
                                    ": is a symlink; remove it (a lock file is never followed)");
  CHECK(slurp(dir.path / "victim") == "keep\n");

  REQUIRE(::mkfifo((dir.path / "fifo.lock").c_str(), 0600) == 0);
  const auto start = std::chrono::steady_clock::now();
  auto fifo = RunLock::acquire(dir.path / "fifo.lock", std::chrono::milliseconds(0));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
  REQUIRE_FALSE(fifo);
  CHECK(fifo.error().code == Errc::refused);
  CHECK(fifo.error().message == (dir.path / "fifo.lock").string() + ": not a regular file; remove it");
}

TEST_CASE("RunLock: CreateParent::no leaves a missing directory missing", "[host][lock]") {
  ScratchDir dir("noparent");
  std::filesystem::create_directories(dir.path);
  auto r = RunLock::acquire(dir.path / "run" / "ztagent.lock", std::chrono::milliseconds(0),
                            zt::host::CreateParent::no);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::io);
  CHECK_FALSE(std::filesystem::exists(dir.path / "run"));
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
