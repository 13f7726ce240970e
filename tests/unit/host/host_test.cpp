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
