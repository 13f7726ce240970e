// SPDX-License-Identifier: Apache-2.0
#include "host/accounts.hpp"

#include "host/fs.hpp"
#include "support/catch.hpp"
#include "support/temp_root.hpp"

#include <filesystem>
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
