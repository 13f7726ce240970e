// SPDX-License-Identifier: Apache-2.0
#include "host/host_cache.hpp"

#include "checks/packages.hpp"
#include "checks/data.hpp"
#include "checks/subids.hpp"
#include "checks/user.hpp"
#include "host/host.hpp"
#include "state/state.hpp"
#include "support/catch.hpp"
#include "support/fake_runner.hpp"
#include "support/temp_root.hpp"

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

using zt::host::HostCache;

TEST_CASE("HostCache: makes each key once until invalidated, errors included", "[host][cache]") {
  HostCache cache;
  int made = 0;
  auto make = [&]() -> zt::Result<int> { return ++made; };
  CHECK(**cache.get<int>("a", make) == 1);
  CHECK(**cache.get<int>("a", make) == 1);
  CHECK(**cache.get<int>("b", make) == 2);
  CHECK(cache.computed("a") == 1);
  CHECK(cache.computed("b") == 1);
  CHECK(cache.computed("never") == 0);

  // A failed read is cached as well: every reader gets the same error without reparsing.
  int failures = 0;
  auto broken = [&]() -> zt::Result<int> {
    ++failures;
    return zt::make_error(zt::Errc::parse, "line 3: bad");
  };
  auto first = cache.get<int>("bad", broken);
  auto second = cache.get<int>("bad", broken);
  REQUIRE_FALSE(*first);
  CHECK(second->error().message == "line 3: bad");
  CHECK(failures == 1);

  cache.invalidate();
  CHECK(**cache.get<int>("a", make) == 3);
  CHECK(cache.computed("a") == 2);

  // No cache: made on every call.
  made = 0;
  CHECK(**zt::host::cached<int>(nullptr, "a", make) == 1);
  CHECK(**zt::host::cached<int>(nullptr, "a", make) == 2);
}

TEST_CASE("HostCache: concurrent readers share one computation", "[host][cache]") {
  HostCache cache;
  std::atomic<int> made{0};
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        auto v = cache.get<std::string>("k", [&]() -> zt::Result<std::string> {
          ++made;
          return std::string("value");
        });
        if (!*v || **v != "value") {
          ++wrong;
        }
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  CHECK(made == 1);
  CHECK(wrong == 0);
}

namespace {

void write_tree(zt::test::TempRoot& root) {
  root.add_user("ztnet", 999, 998, "/home/ztnet");
  root.write("/etc/subuid", "ztnet:165536:65536\n");
  root.write("/etc/subgid", "ztnet:165536:65536\n");
  root.write("/var/lib/dpkg/status", "Package: podman\nStatus: install ok installed\nVersion: 4.3.1+ds1-8\n\n"
                                     "Package: uidmap\nStatus: install ok installed\nVersion: 1:4.13+dfsg1-1\n\n");
}

} // namespace

TEST_CASE("Host cache: a run parses passwd, group, subuid, subgid and the package database once",
          "[host][cache]") {
  zt::test::TempRoot root;
  write_tree(root);
  zt::test::FakeRunner runner;
  zt::host::Host host = root.host(runner);
  host.enable_cache();
  const zt::host::HostView view = host.view();
  REQUIRE(view.cache() != nullptr);
  for (int i = 0; i < 20; ++i) {
    REQUIRE(view.accounts().user("ztnet").value()->uid == 999);
    REQUIRE(view.accounts().user_by_uid(0).value()->name == "root");
    REQUIRE(view.accounts().group("ztnet").value()->gid == 998);
    REQUIRE(view.accounts().users().value().size() == 2);
    auto installed = zt::checks::query_installed(view, "apt", {"podman", "uidmap", "acl"});
    REQUIRE(installed);
    CHECK(installed->size() == 2);
    auto state = zt::checks::read_subid_state(view, "ztnet");
    REQUIRE(state);
    CHECK(state->subuid->size() == 1);
    CHECK(state->subgid->size() == 1);
  }
  for (const char* key : {"accounts:/etc/passwd", "accounts:/etc/group", "packages:/var/lib/dpkg/status",
                          "subids:/etc/subuid", "subids:/etc/subgid"}) {
    INFO(key);
    CHECK(host.cache().computed(key) == 1);
  }

  // What the cache holds is what the file said: a change behind ztagent's back is not seen until
  // the cache is invalidated (the orchestrator does that after every apply).
  root.append("/etc/passwd", "bob:x:1001:1001::/home/bob:/bin/sh\n");
  CHECK_FALSE(view.accounts().user("bob").value());
  host.invalidate_cache();
  CHECK(view.accounts().user("bob").value()->uid == 1001);
  CHECK(host.cache().computed("accounts:/etc/passwd") == 2);
}

TEST_CASE("Host cache: a mutating command through the Host's runner drops the cached files", "[host][cache]") {
  zt::test::TempRoot root;
  write_tree(root);
  zt::test::FakeRunner runner;
  // useradd, as the user step runs it: passwd changes while the command runs.
  runner.on({"useradd", "carol"}, {}, [&] { root.append("/etc/passwd", "carol:x:1002:1002::/home/carol:/bin/sh\n"); });
  runner.on({"getent", "passwd"});
  zt::host::Host host = root.host(runner);
  host.enable_cache();
  CHECK_FALSE(host.view().accounts().user("carol").value());

  zt::host::Command read_only;
  read_only.argv = {"getent", "passwd"};
  REQUIRE(host.runner().run(read_only));
  CHECK(host.cache().computed("accounts:/etc/passwd") == 1); // read-only commands keep the cache

  zt::host::Command useradd;
  useradd.argv = {"useradd", "carol"};
  useradd.effect = zt::host::Effect::mutating;
  REQUIRE(host.runner().run(useradd));
  CHECK(host.view().accounts().user("carol").value()->uid == 1002);
  CHECK(host.accounts().user("carol").value()->uid == 1002);
}

TEST_CASE("Host cache: off unless enabled, so every lookup reads the file", "[host][cache]") {
  zt::test::TempRoot root;
  write_tree(root);
  zt::test::FakeRunner runner;
  zt::host::Host host = root.host(runner);
  CHECK(host.view().cache() == nullptr);
  CHECK_FALSE(host.view().accounts().user("dave").value());
  root.append("/etc/passwd", "dave:x:1003:1003::/home/dave:/bin/sh\n");
  CHECK(host.view().accounts().user("dave").value()->uid == 1003);
}

TEST_CASE("FileAccounts: user_private_group answers like the scan over users() and group()", "[host][cache]") {
  zt::test::TempRoot root;
  root.write("/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"
                            "a:x:1000:500::/home/a:/bin/sh\n"   // group "a" has another gid
                            "b:x:1001:500::/home/b:/bin/sh\n"   // group "b" has gid 500: the answer
                            "c:x:1002:600::/home/c:/bin/sh\n");  // no group "c"
  root.write("/etc/group", "root:x:0:\na:x:1000:\nb:x:500:\nstaff:x:600:\n");
  zt::test::FakeRunner runner;
  zt::host::Host host = root.host(runner);
  for (bool cached : {false, true}) {
    INFO("cached " << cached);
    if (cached) {
      host.enable_cache();
    }
    const auto& accounts = host.view().accounts();
    CHECK(accounts.user_private_group(500).value() == std::optional<std::string>("b"));
    CHECK(accounts.user_private_group(0).value() == std::optional<std::string>("root"));
    CHECK_FALSE(accounts.user_private_group(600).value());
    CHECK_FALSE(accounts.user_private_group(12345).value());
    // The interface's default (users() + group()) gives the same answers.
    CHECK(accounts.Accounts::user_private_group(500).value() == std::optional<std::string>("b"));
    CHECK_FALSE(accounts.Accounts::user_private_group(600).value());
  }
}

TEST_CASE("Host cache: the subids state, the user checks and the data owner share one parse, without copies",
          "[host][cache]") {
  zt::test::TempRoot root;
  write_tree(root);
  zt::test::FakeRunner runner;
  zt::host::Host host = root.host(runner);
  host.enable_cache();
  const zt::host::HostView view = host.view();
  for (int i = 0; i < 3; ++i) {
    auto state = zt::checks::read_subid_state(view, "ztnet");
    REQUIRE(state);
    auto subuid = zt::checks::read_subid_file(view, zt::checks::SubIdKind::uid);
    auto subgid = zt::checks::read_subid_file(view, zt::checks::SubIdKind::gid);
    REQUIRE(*subuid);
    REQUIRE(**subuid);
    REQUIRE(*subgid);
    REQUIRE(**subgid);
    // The state points at the cached vectors: the same objects, not copies.
    CHECK(state->subuid.get() == &***subuid);
    CHECK(state->subgid.get() == &***subgid);
    CHECK(state->accounts.get() == view.accounts().shared_users().value().get());
    auto problems = zt::checks::read_account_id_problems(view, *view.accounts().user("ztnet").value(), true);
    REQUIRE(problems);
    zt::checks::DataSpec spec;
    auto owner = zt::checks::read_data_owner(view, spec);
    REQUIRE(owner);
    REQUIRE(*owner);
    CHECK((*owner)->uid == 999);
    REQUIRE((*owner)->subuid);
    CHECK((*owner)->subuid->to_text() == "ztnet:165536:65536");
  }
  for (const char* key : {"accounts:/etc/passwd", "subids:/etc/subuid", "subids:/etc/subgid", "data:owner:ztnet"}) {
    INFO(key);
    CHECK(host.cache().computed(key) == 1);
  }
  // A change is seen after invalidation, by the data owner too.
  root.write("/etc/subuid", "ztnet:231072:65536\n");
  host.invalidate_cache();
  CHECK(zt::checks::read_data_owner(view, {}).value()->subuid->to_text() == "ztnet:231072:65536");
  CHECK(zt::checks::read_subid_state(view, "ztnet").value().subuid->front().start == 231072);
}

TEST_CASE("HostCache: abandon() keeps the entries alive without the cache, which starts empty", "[host][cache]") {
  std::weak_ptr<const zt::Result<std::string>> kept;
  {
    HostCache cache;
    auto entry = cache.get<std::string>("big", []() -> zt::Result<std::string> { return std::string(1 << 20, 'x'); });
    kept = entry;
    entry.reset();
    cache.abandon();
    // The cache forgets the entry (the next get makes it again) ...
    int made = 0;
    CHECK(**cache.get<int>("other", [&]() -> zt::Result<int> { return ++made; }) == 1);
    CHECK(cache.computed("big") == 1);
  }
  // ... but the abandoned value was not freed with the cache: it lives until the process exits
  // (reachable from a static, so LeakSanitizer in the ASan build does not count it as a leak).
  auto alive = kept.lock();
  REQUIRE(alive);
  CHECK((*alive)->size() == std::size_t{1} << 20);
}

TEST_CASE("Host cache: /etc/subuid is read once for its parse and the drift fingerprint", "[host][cache]") {
  zt::test::TempRoot root;
  write_tree(root);
  zt::test::FakeRunner runner;
  zt::host::Host host = root.host(runner);
  const auto uncached = zt::state::digest_path(host.fs(), "/etc/subuid", "subids");
  REQUIRE(uncached);
  host.enable_cache();
  const zt::host::HostView view = host.view();
  REQUIRE(**zt::checks::read_subid_file(view, zt::checks::SubIdKind::uid));
  const auto cached = zt::state::digest_path(view.fs(), "/etc/subuid", "subids", view.cache());
  REQUIRE(cached);
  CHECK(*cached == *uncached);
  CHECK(host.cache().computed("inspect:/etc/subuid") == 1);
  // A path no parser looked at is inspected afresh and not kept (a secret's content stays out).
  REQUIRE(zt::state::digest_path(view.fs(), "/etc/passwd", "user", view.cache()));
  CHECK(host.cache().computed("inspect:/etc/passwd") == 0);
}

TEST_CASE("HostCache::once: concurrent callers share one run, and other keys do not wait for it", "[host][cache]") {
  HostCache cache;
  std::atomic<int> runs{0};
  std::atomic<bool> release{false};
  std::atomic<bool> other_done{false};
  auto slow = [&]() -> zt::Result<int> {
    ++runs;
    // Held until the other key has been answered: once() must not block other keys meanwhile.
    while (!release.load()) {
      std::this_thread::yield();
    }
    return 42;
  };
  std::vector<std::thread> threads;
  std::vector<int> seen(4, 0);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] { seen[static_cast<std::size_t>(i)] = **cache.once<int>("slow", slow); });
  }
  while (runs.load() == 0) {
    std::this_thread::yield();
  }
  std::thread other([&] {
    CHECK(**cache.once<int>("other", []() -> zt::Result<int> { return 7; }) == 7);
    CHECK(**cache.get<int>("file", []() -> zt::Result<int> { return 8; }) == 8);
    other_done = true;
  });
  other.join();
  CHECK(other_done.load());
  release = true;
  for (auto& t : threads) {
    t.join();
  }
  CHECK(runs.load() == 1);
  CHECK(seen == std::vector<int>{42, 42, 42, 42});
  CHECK(cache.computed("slow") == 1);

  // Until invalidated; then it runs again.
  CHECK(**cache.once<int>("slow", slow) == 42);
  CHECK(runs.load() == 1);
  cache.invalidate();
  CHECK(**cache.once<int>("slow", slow) == 42);
  CHECK(runs.load() == 2);
  CHECK(cache.computed("slow") == 2);
}

TEST_CASE("HostCache::once inside a get() of another thread does not deadlock", "[host][cache]") {
  // Thread A is inside get()'s make() (holding the cache's lock) when thread B starts once("cmd");
  // then A asks once("cmd") too and waits for B. B must finish without the lock A holds.
  HostCache cache;
  std::atomic<bool> a_in_make{false};
  int a_saw = 0;
  int b_saw = 0;
  std::thread a([&] {
    auto v = cache.get<int>("file", [&]() -> zt::Result<int> {
      a_in_make = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100)); // B takes the slot meanwhile
      return **cache.once<int>("cmd", []() -> zt::Result<int> { return 2; });
    });
    a_saw = **v;
  });
  while (!a_in_make.load()) {
    std::this_thread::yield();
  }
  std::thread b([&] { b_saw = **cache.once<int>("cmd", []() -> zt::Result<int> { return 3; }); });
  b.join();
  a.join();
  CHECK(a_saw == b_saw); // one run, whichever thread made it
  CHECK(cache.computed("cmd") == 1);
  CHECK(cache.computed_all().at("cmd") == 1);
}
