// SPDX-License-Identifier: Apache-2.0
// Integration tests: the built binary against hostile inputs (issue 13, items 2, 4, 6, 15). Each
// plants the attack, runs ztagent with a deadline and asserts it neither hung nor touched anything
// outside the tree.
#include "integration/support.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

using zt::test::base_args;
using zt::test::check_ids_with;
using zt::test::is_root;
using zt::test::run_agent;
using zt::test::TempRoot;
using zt::test::with;

namespace {

/// Runs ztagent and returns it with the seconds it took.
std::pair<zt::test::AgentRun, double> timed(std::vector<std::string> args) {
  const auto start = std::chrono::steady_clock::now();
  auto r = run_agent(std::move(args));
  return {r, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()};
}

} // namespace

TEST_CASE("cli: -c and --profile from a device, FIFO or oversized file exit 78 at once", "[integration][cli][hostile]") {
  TempRoot root;
  zt::test::make_debian12_tree(root);
  TempRoot scratch;
  REQUIRE(::mkfifo(scratch.real("/fifo.toml").c_str(), 0600) == 0);
  scratch.write("/big.toml", "# " + std::string(2 << 20, 'x') + "\n");
  const std::string fifo = scratch.real("/fifo.toml").string();
  const std::string big = scratch.real("/big.toml").string();

  struct Row {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Row> rows = {
      {{"-c", "/dev/zero"}, "cannot read site config: /dev/zero: is a character device, not a regular file"},
      {{"-c", fifo}, "cannot read site config: " + fifo + ": is a fifo, not a regular file"},
      {{"-c", big}, "cannot read site config: " + big + ": larger than 1048576 bytes"},
  };
  for (const auto& row : rows) {
    INFO(row.args.back());
    auto [r, seconds] = timed(with(base_args("plan", root), {row.args[0], row.args[1]}));
    CHECK(seconds < 10);
    CHECK(r.exit_code == 78);
    CHECK(r.err.find(row.message) != std::string::npos);
  }
  auto [profile, seconds] = timed({"plan", "--profile", fifo, "--root", root.str()});
  CHECK(seconds < 10);
  CHECK(profile.exit_code == 78);
  CHECK(profile.err.find("cannot read profile: " + fifo + ": is a fifo, not a regular file") != std::string::npos);
  auto [zero, zero_seconds] = timed({"plan", "--profile", "/dev/zero", "--root", root.str()});
  CHECK(zero_seconds < 10);
  CHECK(zero.exit_code == 78);
  CHECK(zero.err.find("cannot read profile: /dev/zero: is a character device, not a regular file") !=
        std::string::npos);
}

TEST_CASE("cli: an os-release FIFO in the tree exits 78 at once", "[integration][cli][hostile]") {
  TempRoot root;
  zt::test::make_debian12_tree(root);
  std::filesystem::remove(root.real("/etc/os-release"));
  REQUIRE(::mkfifo(root.real("/etc/os-release").c_str(), 0644) == 0);
  auto [r, seconds] = timed({"plan", "--root", root.str()});
  CHECK(seconds < 10);
  CHECK(r.exit_code == 78);
  CHECK(r.err.find("/etc/os-release: is a fifo, not a regular file") != std::string::npos);
}

TEST_CASE("cli: a FIFO as env file: verify fails within seconds naming it, and keeps no lock",
          "[integration][cli][hostile]") {
  if (!is_root()) {
    ZT_SKIP("needs root (chown, useradd --prefix)");
  }
  TempRoot root;
  zt::test::make_debian12_tree(root);
  auto user = "ztfi" + std::to_string(::getpid() % 100000);
  auto set_user = "service.user=" + user;
  auto first = run_agent(with(base_args("provision", root), {"--set", set_user}));
  INFO(first.err);
  REQUIRE(first.exit_code == 0);
  const std::string env = "/home/" + user + "/.config/ztagent/secrets/ztnet-postgres.env";
  REQUIRE(root.exists(env));
  std::filesystem::remove(root.real(env));
  REQUIRE(::mkfifo(root.real(env).c_str(), 0600) == 0);

  for (int run = 0; run < 2; ++run) { // the second run shows the first left no lock behind (75)
    auto [v, seconds] = timed(with(base_args("verify", root), {"--set", set_user}));
    INFO(v.err);
    CHECK(seconds < 20);
    CHECK(v.exit_code == 1);
    auto failed = check_ids_with(v.out, "fail");
    CHECK(std::find(failed.begin(), failed.end(), "secrets.present") != failed.end());
    CHECK(v.out.find("ztnet-postgres.env is a fifo") != std::string::npos);
  }
  auto again = run_agent(with(base_args("provision", root), {"--set", set_user}));
  CHECK(again.exit_code == 2);
  CHECK(again.out.find(env + " is a fifo, not a regular file; remove it and run again") != std::string::npos);
  struct stat st {};
  REQUIRE(::lstat(root.real(env).c_str(), &st) == 0);
  CHECK(S_ISFIFO(st.st_mode)); // refused, not replaced behind the operator's back
}

TEST_CASE("cli: under --root, /home as an absolute symlink stops provision before useradd",
          "[integration][cli][hostile]") {
  if (!is_root()) {
    ZT_SKIP("needs root (useradd --prefix)");
  }
  TempRoot root;
  zt::test::make_debian12_tree(root);
  TempRoot outside; // outside.real("/home") stands for this machine's /home
  outside.mkdir("/home");
  std::filesystem::remove(root.real("/home"));
  std::filesystem::create_directory_symlink(outside.real("/home"), root.real("/home"));
  auto user = "ztho" + std::to_string(::getpid() % 100000);
  const std::string passwd_before = root.read("/etc/passwd");

  auto r = run_agent(with(base_args("provision", root), {"--set", "service.user=" + user}));
  INFO(r.err);
  CHECK(r.exit_code == 2);
  CHECK(r.out.find("refusing to follow symlink at /home") != std::string::npos);
  CHECK(r.err.find("run: useradd") == std::string::npos);
  CHECK(root.read("/etc/passwd") == passwd_before);
  CHECK(std::filesystem::is_empty(outside.real("/home")));
}
