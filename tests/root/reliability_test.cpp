// SPDX-License-Identifier: Apache-2.0
// Root tests for runs that race or hit a broken filesystem: two provisions of one --root tree from
// two mount namespaces (each with a /run of its own, as image builders give them), and a tree whose
// /etc is read-only or full. They need mount namespaces (unshare -m) and tmpfs mounts, so root.
// ZTAGENT_TEST_AGENT=/path/to/ztagent runs the same tests against another build (e.g. an older one,
// to see them fail there).
#include "host/command_runner.hpp"
#include "host/fs.hpp"
#include "integration/support.hpp"
#include "util/strings.hpp"

#include <chrono>
#include <cstdlib>
#include <map>
#include <set>
#include <thread>
#include <unistd.h>

using zt::test::AgentRun;
using zt::test::TempRoot;

namespace {

std::string agent_binary() {
  const char* other = std::getenv("ZTAGENT_TEST_AGENT");
  return other != nullptr && *other != '\0' ? other : ZT_AGENT_BINARY;
}

/// Runs argv without Catch2 assertions (safe on any thread).
AgentRun run_plain(std::vector<std::string> argv, std::chrono::seconds timeout = std::chrono::seconds(120)) {
  zt::host::RealCommandRunner runner(zt::host::RunnerPolicy{true, true, false});
  zt::host::Command cmd;
  cmd.argv = std::move(argv);
  cmd.effect = zt::host::Effect::read_only;
  cmd.timeout = timeout;
  auto r = runner.run(cmd);
  if (!r) {
    return {-1, "", r.error().message};
  }
  return {r->exit_code, r->out, r->err};
}

/// `ztagent ARGS...` in a new mount namespace whose /run is a fresh tmpfs.
std::vector<std::string> in_own_namespace(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"unshare", "--mount", "--propagation", "private", "--", "sh", "-c",
                                   "mount -t tmpfs ztagent-test-run /run && exec \"$0\" \"$@\"",
                                   agent_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

/// NAME=value lines of every env file in the secrets directory, by file name.
std::map<std::string, std::map<std::string, std::string>> env_files(const TempRoot& root, const std::string& home) {
  std::map<std::string, std::map<std::string, std::string>> out;
  const auto dir = root.real(home + "/.config/ztagent/secrets");
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    auto& vars = out[entry.path().filename().string()];
    const std::string text = root.read(home + "/.config/ztagent/secrets/" + entry.path().filename().string());
    for (auto line : zt::util::lines(text)) {
      auto eq = line.find('=');
      if (eq != std::string_view::npos) {
        vars[std::string(line.substr(0, eq))] = std::string(line.substr(eq + 1));
      }
    }
  }
  return out;
}

} // namespace

TEST_CASE("root: two provisions of one tree from two mount namespaces are serialized and agree on the "
          "secrets, 20 times",
          "[root][lock]") {
  if (::geteuid() != 0) {
    ZT_SKIP("needs root (unshare -m, mount, useradd --prefix)");
  }
  const std::string user = "ztlk" + std::to_string(::getpid() % 100000);
  int both_ok = 0;
  int serialized = 0;
  int agreed = 0;
  for (int round = 0; round < 20; ++round) {
    INFO("round " << round);
    TempRoot root;
    zt::test::make_debian12_tree(root);
    root.mkdir("/run");
    const std::vector<std::string> args = {"provision", "--profile", "debian-12", "--root", root.str(),
                                           "--only", "user,secrets", "--set", "service.user=" + user,
                                           "--format", "json"};
    AgentRun a;
    AgentRun b;
    std::thread ta([&] { a = run_plain(in_own_namespace(args)); });
    std::thread tb([&] { b = run_plain(in_own_namespace(args)); });
    ta.join();
    tb.join();
    INFO("a: " << a.exit_code << " " << a.err);
    INFO("b: " << b.exit_code << " " << b.err);
    if (a.exit_code == 0 && b.exit_code == 0) {
      ++both_ok;
    }
    // Serialized: exactly one of the two generated the secrets, the other found them.
    const std::string changed = "{\"id\":\"secrets\",\"status\":\"changed\"";
    const std::string unchanged = "{\"id\":\"secrets\",\"status\":\"unchanged\"";
    if ((a.out.find(changed) != std::string::npos && b.out.find(unchanged) != std::string::npos) ||
        (b.out.find(changed) != std::string::npos && a.out.find(unchanged) != std::string::npos)) {
      ++serialized;
    }
    auto files = env_files(root, "/home/" + user);
    std::set<std::string> passwords;
    for (const auto& [name, vars] : files) {
      if (vars.contains("POSTGRES_PASSWORD")) {
        passwords.insert(vars.at("POSTGRES_PASSWORD"));
      }
    }
    INFO("env files: " << files.size() << ", distinct POSTGRES_PASSWORDs: " << passwords.size());
    if (files.size() >= 2 && passwords.size() == 1 && !passwords.begin()->empty()) {
      ++agreed;
    }
    // And a third run from the host's namespace finds nothing to do and every secrets check passes.
    auto verify = run_plain({agent_binary(), "verify", "--profile", "debian-12", "--root", root.str(), "--only",
                             "user,secrets", "--set", "service.user=" + user, "--format", "json"});
    INFO(verify.out);
    CHECK(verify.exit_code == 0);
  }
  CHECK(both_ok == 20);
  CHECK(serialized == 20);
  CHECK(agreed == 20);
}

TEST_CASE("root: a run on one tree does not block a run on another tree or on the host", "[root][lock]") {
  if (::geteuid() != 0) {
    ZT_SKIP("needs root");
  }
  TempRoot held_tree;
  zt::test::make_debian12_tree(held_tree);
  TempRoot other_tree;
  zt::test::make_debian12_tree(other_tree);
  // Hold held_tree's lock with flock(1) for longer than a run waits (10 s), as a long run would.
  held_tree.mkdir("/run");
  const std::string lock = held_tree.real("/run/ztagent.lock").string();
  AgentRun blocked;
  AgentRun free_tree;
  std::thread holder([&] { (void)run_plain({"flock", "--exclusive", lock, "sleep", "12"}); });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const auto start = std::chrono::steady_clock::now();
  free_tree = run_plain({agent_binary(), "plan", "--profile", "debian-12", "--root", other_tree.str(), "--only",
                         "user", "--format", "json"});
  const auto free_elapsed = std::chrono::steady_clock::now() - start;
  blocked = run_plain({agent_binary(), "plan", "--profile", "debian-12", "--root", held_tree.str(), "--only", "user",
                       "--format", "json"});
  holder.join();
  INFO(free_tree.err);
  CHECK(free_tree.exit_code == 0);
  CHECK(free_elapsed < std::chrono::seconds(3)); // it did not wait for the other tree's lock
  INFO(blocked.err);
  CHECK(blocked.exit_code == 75);
  CHECK(blocked.err.find("holds " + lock + "; wait for it to finish") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(other_tree.real("/run/ztagent.lock"))); // plan creates no /run
}

TEST_CASE("root: a read-only or full /etc is named before shadow runs, in seconds, not after its retries",
          "[root][reliability]") {
  if (::geteuid() != 0) {
    ZT_SKIP("needs root (unshare -m, mount)");
  }
  const std::string user = "ztro" + std::to_string(::getpid() % 100000);
  struct Case {
    std::string name, setup, message;
  };
  const std::vector<Case> cases = {
      {"read-only", "mount --bind \"$1/etc\" \"$1/etc\" && mount -o remount,bind,ro \"$1/etc\"",
       "/etc: read-only file system; remount it read-write"},
      {"full", "cp -a \"$1/etc\" \"$1/etc.orig\" && mount -t tmpfs -o size=256k ztagent-full \"$1/etc\" && "
               "cp -a \"$1/etc.orig/.\" \"$1/etc/\" && { dd if=/dev/zero of=\"$1/etc/fill\" bs=4k 2>/dev/null; true; }",
       "/etc: no space left on the file system"},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    TempRoot root;
    zt::test::make_debian12_tree(root);
    root.write("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n");
    root.write("/etc/group", "root:x:0:\n");
    std::vector<std::string> argv = {"unshare", "--mount", "--propagation", "private", "--", "sh", "-c",
                                     c.setup + " && shift && exec \"$@\"", "sh", root.str(), agent_binary(),
                                     "provision", "--profile", "debian-12", "--root", root.str(), "--only", "user",
                                     "--set", "service.user=" + user, "--format", "json"};
    const auto start = std::chrono::steady_clock::now();
    auto run = run_plain(argv);
    const auto elapsed = std::chrono::steady_clock::now() - start;
    INFO(run.out);
    INFO(run.err);
    CHECK(run.exit_code == 2);
    CHECK(run.out.find(c.message) != std::string::npos);
    CHECK(run.err.find("cannot lock") == std::string::npos);
    CHECK(elapsed < std::chrono::seconds(5)); // shadow alone retries for about 14 s
    CHECK(root.read("/etc/passwd").find(user) == std::string::npos);
  }
}
