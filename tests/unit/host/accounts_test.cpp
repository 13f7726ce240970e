// SPDX-License-Identifier: Apache-2.0
#include "host/accounts.hpp"

#include "host/fs.hpp"
#include "host/host_cache.hpp"
#include "support/catch.hpp"
#include "support/temp_root.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

using zt::Errc;
using zt::host::Account;
using zt::host::GroupEntry;

namespace {

std::string describe(const std::vector<Account>& accounts) {
  std::string out;
  for (const auto& a : accounts) {
    out += a.name + "|" + std::to_string(a.uid) + "|" + std::to_string(a.gid) + "|" + a.home + "|" + a.shell + "\n";
  }
  return out;
}

std::string describe(const std::vector<zt::host::AccountIds>& accounts) {
  std::string out;
  for (const auto& a : accounts) {
    out += std::string(a.name) + "|" + std::to_string(a.uid) + "|" + std::to_string(a.gid) + "\n";
  }
  return out;
}

std::string describe(const std::vector<GroupEntry>& groups) {
  std::string out;
  for (const auto& g : groups) {
    out += g.name + "|" + std::to_string(g.gid) + "\n";
  }
  return out;
}

} // namespace

TEST_CASE("parse_passwd: valid inputs", "[host][accounts]") {
  struct Row {
    const char* name;
    const char* text;
    const char* expected;
  };
  const std::vector<Row> rows{
      {"empty", "", ""},
      {"one entry", "root:x:0:0:root:/root:/bin/bash\n", "root|0|0|/root|/bin/bash\n"},
      {"no trailing newline", "root:x:0:0:root:/root:/bin/bash", "root|0|0|/root|/bin/bash\n"},
      {"empty gecos, home and shell", "ztnet:x:1001:1001:::\n", "ztnet|1001|1001||\n"},
      {"blank lines and comments skipped",
       "# users\n\nroot:x:0:0::/root:/bin/sh\n   \n#ztnet:x:1:1:::\nztnet:x:1001:100::/home/ztnet:/usr/sbin/nologin\n",
       "root|0|0|/root|/bin/sh\nztnet|1001|100|/home/ztnet|/usr/sbin/nologin\n"},
      {"NIS compat lines skipped", "root:x:0:0::/root:/bin/sh\n+::::::\n+@admins::::::\n-baduser\n",
       "root|0|0|/root|/bin/sh\n"},
      {"max uid", "nobody:x:4294967295:65534::/nonexistent:/usr/sbin/nologin\n",
       "nobody|4294967295|65534|/nonexistent|/usr/sbin/nologin\n"},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    auto parsed = zt::host::parse_passwd(row.text);
    REQUIRE(parsed);
    CHECK(describe(*parsed) == row.expected);
  }
}

TEST_CASE("parse_passwd: errors name the line", "[host][accounts]") {
  struct Row {
    const char* text;
    const char* message;
  };
  const std::vector<Row> rows{
      {"root:x:0:0:root:/root\n", "/etc/passwd:1: expected 7 colon-separated fields, found 6"},
      {"root:x:0:0::/root:/bin/sh\nextra:x:1:1::/:/bin/sh:more\n",
       "/etc/passwd:2: expected 7 colon-separated fields, found 8"},
      {"# c\n\nalice:x:abc:100::/home/alice:/bin/sh\n", "/etc/passwd:3: bad UID 'abc'"},
      {"alice:x:-1:100::/home/alice:/bin/sh\n", "/etc/passwd:1: bad UID '-1'"},
      {"alice:x::100::/home/alice:/bin/sh\n", "/etc/passwd:1: bad UID ''"},
      {"alice:x:4294967296:100::/home/alice:/bin/sh\n", "/etc/passwd:1: bad UID '4294967296'"},
      {"alice:x:1000: 100::/home/alice:/bin/sh\n", "/etc/passwd:1: bad GID ' 100'"},
      {":x:1000:100::/home/alice:/bin/sh\n", "/etc/passwd:1: empty user name"},
  };
  for (const auto& row : rows) {
    INFO(row.text);
    auto parsed = zt::host::parse_passwd(row.text);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().code == Errc::parse);
    CHECK(parsed.error().message == row.message);
  }
}

TEST_CASE("parse_group: valid inputs", "[host][accounts]") {
  struct Row {
    const char* name;
    const char* text;
    const char* expected;
  };
  const std::vector<Row> rows{
      {"empty", "", ""},
      {"members ignored", "root:x:0:\nsudo:x:27:alice,bob\n", "root|0\nsudo|27\n"},
      {"comments, blanks and NIS skipped", "# g\n\nroot:x:0:\n+:::\n", "root|0\n"},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    auto parsed = zt::host::parse_group(row.text);
    REQUIRE(parsed);
    CHECK(describe(*parsed) == row.expected);
  }
}

TEST_CASE("parse_group: errors name the line", "[host][accounts]") {
  struct Row {
    const char* text;
    const char* message;
  };
  const std::vector<Row> rows{
      {"root:x:0\n", "/etc/group:1: expected 4 colon-separated fields, found 3"},
      {"root:x:0:\nwheel:x:10:a:b\n", "/etc/group:2: expected 4 colon-separated fields, found 5"},
      {"root:x:zero:\n", "/etc/group:1: bad GID 'zero'"},
      {":x:5:\n", "/etc/group:1: empty group name"},
  };
  for (const auto& row : rows) {
    INFO(row.text);
    auto parsed = zt::host::parse_group(row.text);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().code == Errc::parse);
    CHECK(parsed.error().message == row.message);
  }
}

TEST_CASE("FileAccounts: reads the image tree's passwd and group on every call", "[host][accounts]") {
  zt::test::TempRoot root;  // starts with root:0:0
  zt::host::Fs fs(root.path());
  zt::host::FileAccounts accounts(fs);

  auto missing = accounts.user("ztnet");
  REQUIRE(missing);
  CHECK_FALSE(missing->has_value());

  root.add_user("ztnet", 1001, 1001, "/home/ztnet");  // appended after construction: no caching

  auto user = accounts.user("ztnet");
  REQUIRE(user);
  REQUIRE(user->has_value());
  CHECK((*user)->uid == 1001);
  CHECK((*user)->gid == 1001);
  CHECK((*user)->home == "/home/ztnet");
  CHECK((*user)->shell == "/bin/sh");

  auto by_uid = accounts.user_by_uid(0);
  REQUIRE(by_uid);
  REQUIRE(by_uid->has_value());
  CHECK((*by_uid)->name == "root");
  auto no_uid = accounts.user_by_uid(4242);
  REQUIRE(no_uid);
  CHECK_FALSE(no_uid->has_value());

  auto group = accounts.group("ztnet");
  REQUIRE(group);
  REQUIRE(group->has_value());
  CHECK((*group)->gid == 1001);
  auto no_group = accounts.group("docker");
  REQUIRE(no_group);
  CHECK_FALSE(no_group->has_value());

  auto all = accounts.users();
  REQUIRE(all);
  CHECK(describe(*all) == "root|0|0|/root|/bin/sh\nztnet|1001|1001|/home/ztnet|/bin/sh\n");
}

TEST_CASE("FileAccounts: missing files mean no accounts, malformed ones are errors", "[host][accounts]") {
  zt::test::TempRoot root;
  std::filesystem::remove(root.real("/etc/passwd"));
  std::filesystem::remove(root.real("/etc/group"));
  zt::host::Fs fs(root.path());
  zt::host::FileAccounts accounts(fs);

  auto all = accounts.users();
  REQUIRE(all);
  CHECK(all->empty());
  auto group = accounts.group("root");
  REQUIRE(group);
  CHECK_FALSE(group->has_value());

  root.write("/etc/passwd", "root:x:0:0::/root:/bin/sh\nbroken:x:1:1\n");
  root.write("/etc/group", "root:x:0:\nwheel:x:ten:\n");
  auto bad_user = accounts.user("root");
  REQUIRE_FALSE(bad_user);
  CHECK(bad_user.error().code == Errc::parse);
  CHECK(bad_user.error().message == "/etc/passwd:2: expected 7 colon-separated fields, found 4");
  auto bad_group = accounts.group("root");
  REQUIRE_FALSE(bad_group);
  CHECK(bad_group.error().message == "/etc/group:2: bad GID 'ten'");
}

TEST_CASE("FileAccounts: the first entry of a name, uid or gid wins, like getpwnam", "[host][accounts]") {
  zt::test::TempRoot root;
  root.write("/etc/passwd", "root:x:0:0::/root:/bin/sh\n"
                            "dup:x:1000:1000::/first:/bin/sh\n"
                            "other:x:1000:2000::/other:/bin/sh\n"  // uid 1000 again
                            "dup:x:1001:1001::/second:/bin/sh\n"); // name dup again
  root.write("/etc/group", "root:x:0:\ndup:x:1000:\ndup:x:3000:\n");
  zt::host::Fs fs(root.path());
  zt::host::HostCache cache;
  const zt::host::HostCache* no_cache = nullptr;
  const zt::host::HostCache* with_cache = &cache;
  for (const zt::host::HostCache* c : {no_cache, with_cache}) {
    INFO("cached " << (c != nullptr));
    zt::host::FileAccounts accounts(fs, c);
    CHECK(accounts.user("dup").value()->home == "/first");
    CHECK(accounts.user_by_uid(1000).value()->name == "dup");
    CHECK(accounts.user_by_uid(1001).value()->home == "/second");
    CHECK(accounts.group("dup").value()->gid == 1000);
    CHECK(accounts.user_private_group(1000).value() == std::optional<std::string>("dup"));
    CHECK_FALSE(accounts.user_private_group(2000).value());
  }
}

TEST_CASE("FileAccounts: shared_users shares the cached names and ids, users() copies whole accounts",
          "[host][accounts]") {
  zt::test::TempRoot root;
  root.add_user("ztnet", 1001, 1001, "/home/ztnet");
  zt::host::Fs fs(root.path());
  zt::host::HostCache cache;
  zt::host::FileAccounts accounts(fs, &cache);
  auto first = accounts.shared_users();
  auto second = accounts.shared_users();
  REQUIRE(first);
  REQUIRE(second);
  CHECK(first->get() == second->get());
  CHECK(describe(**first) == "root|0|0\nztnet|1001|1001\n");
  CHECK(describe(accounts.users().value()) == "root|0|0|/root|/bin/sh\nztnet|1001|1001|/home/ztnet|/bin/sh\n");
  CHECK(describe(*zt::host::share_ids(accounts.users().value())) == describe(**first));
  CHECK(cache.computed("accounts:/etc/passwd") == 1);
  // The shared table outlives the cache entry it came from.
  cache.invalidate();
  CHECK((*first)->size() == 2);

  // Errors are the same as users()'.
  root.write("/etc/passwd", "broken:x:1:1\n");
  cache.invalidate();
  auto bad = accounts.shared_users();
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message == "/etc/passwd:1: expected 7 colon-separated fields, found 4");
  // Without a cache: a fresh parse per call.
  zt::host::FileAccounts uncached(fs);
  CHECK(uncached.shared_users().error().message == bad.error().message);
}

TEST_CASE("FileAccounts: lookups in big files answer like the interface's scan", "[host][accounts]") {
  // 3,000 accounts in 40 primary gids; every 5th has a group of its name, every 10th with its gid;
  // names and uids repeat so that the first entry must win.
  std::string passwd = "root:x:0:0::/root:/bin/sh\n";
  std::string group = "root:x:0:\n";
  for (int i = 0; i < 3000; ++i) {
    const std::string name = "u" + std::to_string(i % 2500);
    const int gid = 10000 + (i % 40);
    passwd += name + ":x:" + std::to_string(20000 + i % 2800) + ":" + std::to_string(gid) + "::/h" +
              std::to_string(i) + ":/bin/sh\n";
    if (i % 5 == 0) {
      group += name + ":x:" + std::to_string(i % 10 == 0 ? gid : 50000 + i) + ":\n";
    }
  }
  zt::test::TempRoot root;
  root.write("/etc/passwd", passwd);
  root.write("/etc/group", group);
  zt::host::Fs fs(root.path());
  zt::host::HostCache cache;
  zt::host::FileAccounts accounts(fs, &cache);
  const auto all = accounts.users().value();
  REQUIRE(all.size() == 3001);
  for (int i = 0; i < 2600; i += 7) {
    const std::string name = "u" + std::to_string(i);
    std::optional<std::string> home;
    for (const auto& a : all) {
      if (a.name == name) {
        home = a.home;
        break;
      }
    }
    INFO(name);
    auto got = accounts.user(name).value();
    CHECK(got.has_value() == home.has_value());
    if (got && home) {
      CHECK(got->home == *home);
    }
    const std::uint32_t uid = 20000 + static_cast<std::uint32_t>(i);
    std::optional<std::string> by_uid;
    for (const auto& a : all) {
      if (a.uid == uid) {
        by_uid = a.home;
        break;
      }
    }
    auto got_uid = accounts.user_by_uid(uid).value();
    CHECK(got_uid.has_value() == by_uid.has_value());
    if (got_uid && by_uid) {
      CHECK(got_uid->home == *by_uid);
    }
  }
  for (std::uint32_t gid = 9999; gid <= 10041; ++gid) {
    INFO(gid);
    CHECK(accounts.user_private_group(gid).value() == accounts.Accounts::user_private_group(gid).value());
  }
  CHECK(cache.computed("accounts:/etc/passwd") == 1);
  CHECK(cache.computed("accounts:/etc/group") == 1);
}
