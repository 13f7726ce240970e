// SPDX-License-Identifier: Apache-2.0
#include "host/command_runner.hpp"

#include "support/catch.hpp"
#include "support/fake_runner.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

using zt::Errc;
using zt::host::Command;
using zt::host::Effect;
using zt::host::ReadOnlyRunner;
using zt::host::RealCommandRunner;
using zt::host::RunnerPolicy;
using zt::host::Scope;

namespace {

constexpr RunnerPolicy k_apply{.allow_mutating = true, .root_is_live = true, .allow_host_commands = false};

// Commands are built field by field: GCC 12 -Wextra warns on designated initializers that omit
// members, and Command has many.
Command command(std::vector<std::string> argv, Effect effect = Effect::read_only, Scope scope = Scope::host) {
  Command c;
  c.argv = std::move(argv);
  c.effect = effect;
  c.scope = scope;
  return c;
}

Command with_input(Command c, std::string input) {
  c.input = std::move(input);
  return c;
}

Command with_timeout(Command c, std::chrono::seconds timeout) {
  c.timeout = timeout;
  return c;
}

/// A scratch file path unique to this process; removed on construction and destruction.
struct ScratchFile {
  std::filesystem::path path;
  explicit ScratchFile(std::string_view name)
      : path(std::filesystem::temp_directory_path() /
             ("ztagent-runner-" + std::to_string(::getpid()) + "-" + std::string(name))) {
    std::filesystem::remove(path);
  }
  ~ScratchFile() {
    std::error_code ec;
    std::filesystem::remove(path, ec);
  }
  ScratchFile(const ScratchFile&) = delete;
  ScratchFile& operator=(const ScratchFile&) = delete;
};

} // namespace

TEST_CASE("RealCommandRunner: /bin/true exits 0 with no output", "[host][command_runner]") {
  RealCommandRunner runner{k_apply};
  auto r = runner.run(command({"true"}));
  REQUIRE(r);
  CHECK(r->exit_code == 0);
  CHECK(r->out.empty());
  CHECK(r->err.empty());

  auto abs = runner.run(command({"/bin/true"}));
  REQUIRE(abs);
  CHECK(abs->exit_code == 0);
}

TEST_CASE("RealCommandRunner: a non-zero exit is a value, not an error", "[host][command_runner]") {
  RealCommandRunner runner{k_apply};
  auto r = runner.run(command({"/bin/sh", "-c", "exit 3"}));
  REQUIRE(r);
  CHECK(r->exit_code == 3);
}

TEST_CASE("RealCommandRunner: death by signal reports 128 + signal", "[host][command_runner]") {
  RealCommandRunner runner{k_apply};
  auto r = runner.run(command({"/bin/sh", "-c", "kill -TERM $$"}));
  REQUIRE(r);
  CHECK(r->exit_code == 128 + 15);
}

TEST_CASE("RealCommandRunner: stdout and stderr are captured separately", "[host][command_runner]") {
  RealCommandRunner runner{k_apply};
  auto r = runner.run(command({"/bin/sh", "-c", "echo out1; echo err1 >&2; echo out2; echo err2 >&2"}));
  REQUIRE(r);
  CHECK(r->exit_code == 0);
  CHECK(r->out == "out1\nout2\n");
  CHECK(r->err == "err1\nerr2\n");
}

TEST_CASE("RealCommandRunner: large output on both streams does not deadlock", "[host][command_runner]") {
  RealCommandRunner runner{k_apply};
  // 1 MiB on each stream, far past a pipe buffer, interleaved.
  auto r = runner.run(with_timeout(
      command({"/bin/sh", "-c", "head -c 1048576 /dev/zero & head -c 1048576 /dev/zero >&2; wait"}),
      std::chrono::seconds(20)));
  REQUIRE(r);
  CHECK(r->exit_code == 0);
  CHECK(r->out.size() == 1048576);
  CHECK(r->err.size() == 1048576);
}

TEST_CASE("RealCommandRunner: stdin gets cmd.input, or /dev/null without it", "[host][command_runner]") {
  RealCommandRunner runner{k_apply};
  auto r = runner.run(with_input(command({"cat"}), "secret line\nsecond\n"));
  REQUIRE(r);
  CHECK(r->exit_code == 0);
  CHECK(r->out == "secret line\nsecond\n");

  // Small input arrives through a pipe: `podman secret create NAME -` refuses any other stdin.
  auto fifo = runner.run(with_input(command({"test", "-p", "/dev/stdin"}), "value"));
  REQUIRE(fifo);
  CHECK(fifo->exit_code == 0);

  std::string big(300000, 'x');
  auto large = runner.run(with_input(command({"wc", "-c"}), big));
  REQUIRE(large);
  CHECK(zt::util::trim(large->out) == "300000");

  // A command that ignores its input must not hang or die of SIGPIPE.
  auto ignored = runner.run(with_input(command({"true"}), big));
  REQUIRE(ignored);
  CHECK(ignored->exit_code == 0);

  auto none = runner.run(command({"cat"}));
  REQUIRE(none);
  CHECK(none->exit_code == 0);
  CHECK(none->out.empty());
}

TEST_CASE("RealCommandRunner: minimal environment plus cmd.env", "[host][command_runner]") {
  RealCommandRunner runner{k_apply};
  const char* old_home = std::getenv("HOME");
  const std::optional<std::string> saved_home = old_home != nullptr ? std::optional<std::string>(old_home) : std::nullopt;
  ::setenv("ZT_RUNNER_TEST_PARENT", "leaked", 1);
  ::setenv("HOME", "/root-from-parent", 1);
  Command cmd = command({"env"});
  cmd.env = {{"ZT_ONE", "1"}, {"LANG", "en_US.UTF-8"}};
  auto r = runner.run(cmd);
  ::unsetenv("ZT_RUNNER_TEST_PARENT");
  if (saved_home) {
    ::setenv("HOME", saved_home->c_str(), 1);
  } else {
    ::unsetenv("HOME");
  }
  REQUIRE(r);
  REQUIRE(r->exit_code == 0);
  auto lines = zt::util::lines(r->out);
  std::vector<std::string> env(lines.begin(), lines.end());
  std::sort(env.begin(), env.end());
  const char* path = std::getenv("PATH");
  std::vector<std::string> expected{"LANG=en_US.UTF-8", "LC_ALL=C.UTF-8",
                                    "PATH=" + std::string(path != nullptr ? path : "/usr/sbin:/usr/bin:/sbin:/bin"),
                                    "ZT_ONE=1"};
  std::sort(expected.begin(), expected.end());
  CHECK(env == expected);
}

TEST_CASE("RealCommandRunner: the child inherits no descriptors beyond stdin/stdout/stderr",
          "[host][command_runner]") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);  // deliberately without O_CLOEXEC
  RealCommandRunner runner{k_apply};
  // ls opens /proc/self/fd itself as 3; anything else would be a leak.
  auto r = runner.run(command({"ls", "/proc/self/fd"}));
  ::close(fds[0]);
  ::close(fds[1]);
  REQUIRE(r);
  CHECK(r->out == "0\n1\n2\n3\n");
}

TEST_CASE("RealCommandRunner: concurrent runs do not block each other", "[host][command_runner]") {
  RealCommandRunner runner{k_apply};
  std::vector<std::thread> threads;
  std::vector<std::string> outs(6, "not run");
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < outs.size(); ++i) {
    threads.emplace_back([&, i] {
      auto r = runner.run(command({"/bin/sh", "-c", i % 2 == 0 ? "sleep 1; echo slow" : "echo fast"}));
      outs[i] = r ? r->out : "error: " + r.error().message;
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;
  for (std::size_t i = 0; i < outs.size(); ++i) {
    CHECK(outs[i] == (i % 2 == 0 ? "slow\n" : "fast\n"));
  }
  CHECK(elapsed < std::chrono::milliseconds(1500));
}

TEST_CASE("RealCommandRunner: argv[0] is looked up in ztagent's PATH", "[host][command_runner]") {
  ScratchFile dir("bin");
  std::filesystem::create_directories(dir.path);
  {
    auto stub = dir.path / "zt-stub-tool";
    FILE* f = std::fopen(stub.c_str(), "w");
    REQUIRE(f != nullptr);
    std::fputs("#!/bin/sh\necho stub \"$@\"\n", f);
    std::fclose(f);
    std::filesystem::permissions(stub, std::filesystem::perms::owner_all);
  }
  std::string old_path = std::getenv("PATH") != nullptr ? std::getenv("PATH") : "";
  ::setenv("PATH", (dir.path.string() + ":" + old_path).c_str(), 1);
  RealCommandRunner runner{k_apply};
  auto r = runner.run(command({"zt-stub-tool", "a b", "c"}));
  ::setenv("PATH", old_path.c_str(), 1);
  std::filesystem::remove_all(dir.path);
  REQUIRE(r);
  CHECK(r->out == "stub a b c\n");
}

TEST_CASE("RealCommandRunner: command not found", "[host][command_runner]") {
  RealCommandRunner runner{k_apply};
  auto r = runner.run(command({"zt-no-such-command-xyz", "--flag"}));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::not_found);
  CHECK(r.error().message == "zt-no-such-command-xyz: command not found (is the package installed?)");

  auto abs = runner.run(command({"/nonexistent/zt-tool"}));
  REQUIRE_FALSE(abs);
  CHECK(abs.error().code == Errc::not_found);
  CHECK(abs.error().message == "/nonexistent/zt-tool: command not found (is the package installed?)");
}

TEST_CASE("RealCommandRunner: timeout kills the child and reaps it", "[host][command_runner]") {
  RealCommandRunner runner{k_apply};
  const auto start = std::chrono::steady_clock::now();
  auto r = runner.run(with_timeout(command({"sleep", "5"}), std::chrono::seconds(1)));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::timeout);
  CHECK(r.error().message == "sleep: timed out after 1s");
  CHECK(elapsed >= std::chrono::milliseconds(900));
  CHECK(elapsed < std::chrono::seconds(2));
  // No zombie left behind: every child of ours has been waited for.
  CHECK(::waitpid(-1, nullptr, WNOHANG) == -1);
  CHECK(errno == ECHILD);
}

TEST_CASE("RealCommandRunner: a background process holding the pipes does not hang the run",
          "[host][command_runner]") {
  RealCommandRunner runner{k_apply};
  const auto start = std::chrono::steady_clock::now();
  auto r = runner.run(with_timeout(command({"/bin/sh", "-c", "sleep 3 & echo started"}), std::chrono::seconds(10)));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  REQUIRE(r);
  CHECK(r->exit_code == 0);
  CHECK(r->out == "started\n");
  CHECK(elapsed < std::chrono::seconds(2));
}

TEST_CASE("RealCommandRunner: refuses mutating commands in plan mode without starting them",
          "[host][command_runner]") {
  ScratchFile marker("plan-marker");
  RealCommandRunner runner{RunnerPolicy{.allow_mutating = false, .root_is_live = true, .allow_host_commands = false}};
  Command cmd = command({"touch", marker.path.string()}, Effect::mutating);
  auto r = runner.run(cmd);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::refused);
  CHECK(r.error().message == "refused to run mutating command in plan mode: touch " + marker.path.string());
  CHECK_FALSE(std::filesystem::exists(marker.path));

  // Read-only commands still run in plan mode.
  auto ro = runner.run(command({"true"}));
  REQUIRE(ro);
  CHECK(ro->exit_code == 0);
}

TEST_CASE("RealCommandRunner: under --root, host-scoped mutating commands need --allow-host-commands",
          "[host][command_runner]") {
  ScratchFile marker("root-marker");
  Command host_cmd = command({"touch", marker.path.string()}, Effect::mutating, Scope::host);

  RealCommandRunner under_root{RunnerPolicy{.allow_mutating = true, .root_is_live = false, .allow_host_commands = false}};
  auto refused = under_root.run(host_cmd);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == Errc::refused);
  CHECK(refused.error().message ==
        "refused to run mutating command under --root (it would change this machine, not the image; pass "
        "--allow-host-commands to allow): touch " +
            marker.path.string());
  CHECK_FALSE(std::filesystem::exists(marker.path));

  // Confined to the image tree: allowed.
  Command confined = host_cmd;
  confined.scope = Scope::target_root;
  auto ok = under_root.run(confined);
  REQUIRE(ok);
  CHECK(ok->exit_code == 0);
  CHECK(std::filesystem::exists(marker.path));
  std::filesystem::remove(marker.path);

  RealCommandRunner allowed{RunnerPolicy{.allow_mutating = true, .root_is_live = false, .allow_host_commands = true}};
  auto ran = allowed.run(host_cmd);
  REQUIRE(ran);
  CHECK(std::filesystem::exists(marker.path));
}

TEST_CASE("refusal: quotes argv words with spaces", "[host][command_runner]") {
  auto e = zt::host::refusal(command({"useradd", "--comment", "ZTNet service", "ztnet"}), "in plan mode");
  CHECK(e.code == Errc::refused);
  CHECK(e.message == "refused to run mutating command in plan mode: useradd --comment 'ZTNet service' ztnet");
}

TEST_CASE("ReadOnlyRunner: refuses mutating commands, forwards read-only ones", "[host][command_runner]") {
  zt::test::FakeRunner inner;
  inner.on({"id", "-u", "ztnet"}, {.exit_code = 0, .out = "1001\n", .err = ""});
  ReadOnlyRunner runner{inner};

  auto refused = runner.run(command({"useradd", "ztnet"}, Effect::mutating, Scope::target_root));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == Errc::refused);
  CHECK(refused.error().message == "refused to run mutating command from a check or plan: useradd ztnet");
  CHECK(inner.calls().empty());

  auto ro = runner.run(command({"id", "-u", "ztnet"}));
  REQUIRE(ro);
  CHECK(ro->out == "1001\n");
  CHECK(inner.calls().size() == 1);
}

TEST_CASE("ReadOnlyRunner: a real mutating command never starts", "[host][command_runner]") {
  ScratchFile marker("ro-marker");
  RealCommandRunner real{k_apply};
  ReadOnlyRunner runner{real};
  auto r = runner.run(command({"touch", marker.path.string()}, Effect::mutating));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::refused);
  CHECK_FALSE(std::filesystem::exists(marker.path));
}
