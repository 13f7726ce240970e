// SPDX-License-Identifier: Apache-2.0
#include "host/host.hpp"

#include "support/catch.hpp"
#include "support/fake_runner.hpp"
#include "support/temp_root.hpp"

#include <filesystem>

TEST_CASE("HostView::systemd_running: an image tree never has a running systemd", "[host][host]") {
  zt::test::TempRoot root;
  root.mkdir("/run/systemd/system");  // what a booted systemd host has
  zt::test::FakeRunner runner;
  zt::host::Host host = root.host(runner);
  CHECK_FALSE(host.view().live());
  CHECK_FALSE(host.view().systemd_running());
}

TEST_CASE("HostView::systemd_running: on the live root, follows /run/systemd/system", "[host][host]") {
  zt::host::Fs fs(std::filesystem::path("/"));
  zt::host::FileAccounts accounts(fs);
  zt::test::FakeRunner runner;
  zt::host::HostView view(fs, accounts, runner);
  REQUIRE(view.live());
  std::error_code ec;
  const bool booted = std::filesystem::is_directory("/run/systemd/system", ec) &&
                      !std::filesystem::is_symlink("/run/systemd/system", ec);
  CHECK(view.systemd_running() == booted);
  CHECK(runner.calls().empty());
}

namespace {

std::size_t calls_of(const zt::test::FakeRunner& runner, const std::vector<std::string>& argv) {
  std::size_t n = 0;
  for (const auto& c : runner.calls()) {
    n += c.argv == argv ? 1 : 0;
  }
  return n;
}

zt::host::Command read(const std::vector<std::string>& argv) {
  zt::host::Command cmd;
  cmd.argv = argv;
  return cmd;
}

} // namespace

TEST_CASE("Host: with the run's cache, the view shares a read-only command until the host changes",
          "[host][host]") {
  zt::test::TempRoot root;
  zt::test::FakeRunner runner;
  const std::vector<std::string> ps = {"podman", "ps", "--all", "--format", "json"};
  const std::vector<std::string> change = {"usermod", "--add-subuids", "100000-165535", "ztnet"};
  runner.on(ps, {0, "[]", ""});
  runner.on(change);
  zt::host::Host host = root.host(runner);

  // Without the cache (tests, callers outside a run) every call runs.
  CHECK(host.view().runner().run(read(ps)).value().out == "[]");
  CHECK(host.view().runner().run(read(ps)).value().out == "[]");
  CHECK(calls_of(runner, ps) == 2);

  host.enable_cache();
  CHECK(host.view().runner().run(read(ps)).value().out == "[]");
  CHECK(host.view().runner().run(read(ps)).value().out == "[]");
  CHECK(calls_of(runner, ps) == 3);
  // Another environment or working directory is another command.
  zt::host::Command with_env = read(ps);
  with_env.env = {{"XDG_RUNTIME_DIR", "/run/user/999"}};
  CHECK(host.view().runner().run(with_env));
  CHECK(host.view().runner().run(with_env));
  CHECK(calls_of(runner, ps) == 4);
  zt::host::Command with_cwd = read(ps);
  with_cwd.cwd = "/";
  CHECK(host.view().runner().run(with_cwd));
  CHECK(calls_of(runner, ps) == 5);
  // Stdin is never shared.
  zt::host::Command with_input = read(ps);
  with_input.input = "x";
  CHECK(host.view().runner().run(with_input));
  CHECK(host.view().runner().run(with_input));
  CHECK(calls_of(runner, ps) == 7);

  // A mutating command through the Host's runner: the next read runs again.
  zt::host::Command mutating = read(change);
  mutating.effect = zt::host::Effect::mutating;
  CHECK(host.runner().run(mutating));
  CHECK(host.view().runner().run(read(ps)));
  CHECK(calls_of(runner, ps) == 8);
  // So does an explicit invalidation (a step's apply, a verify retry round).
  host.invalidate_cache();
  CHECK(host.view().runner().run(read(ps)));
  CHECK(calls_of(runner, ps) == 9);
  // The view still refuses mutating commands.
  CHECK_FALSE(host.view().runner().run(mutating));
  CHECK(calls_of(runner, change) == 1);
}
