// SPDX-License-Identifier: Apache-2.0
#include "checks/subids.hpp"
#include "support/catch.hpp"
#include "support/fake_runner.hpp"
#include "support/temp_root.hpp"

#include <map>
#include <memory>
#include <string>
#include <vector>

using zt::Errc;
using zt::checks::Outcome;
using zt::checks::SubIdEntry;
using zt::checks::SubIdKind;
using zt::checks::SubIdLimits;
using zt::checks::SubIdState;

namespace {

std::vector<SubIdEntry> parsed(std::string_view text, std::string_view path = "/etc/subuid") {
  auto entries = zt::checks::parse_subid_file(text, path);
  REQUIRE(entries);
  return *entries;
}

zt::host::Account account(std::string name, std::uint32_t uid, std::uint32_t gid) {
  return {std::move(name), uid, gid, "/home/x", "/bin/sh"};
}

/// A state with root, alice (1000) and ztnet (999) unless `accounts` says otherwise.
SubIdState state_with(std::string_view subuid,
                      std::string_view subgid,
                      std::vector<zt::host::Account> extra = {},
                      bool ztnet_exists = true) {
  SubIdState state;
  std::vector<zt::host::Account> accounts = {account("root", 0, 0), account("alice", 1000, 1000)};
  if (ztnet_exists) {
    state.account = account("ztnet", 999, 999);
    accounts.push_back(*state.account);
  }
  accounts.insert(accounts.end(), extra.begin(), extra.end());
  state.accounts = zt::host::share_ids(std::move(accounts));
  state.subuid = std::make_shared<const std::vector<SubIdEntry>>(parsed(subuid, "/etc/subuid"));
  state.subgid = std::make_shared<const std::vector<SubIdEntry>>(parsed(subgid, "/etc/subgid"));
  state.subuid_exists = true;
  state.subgid_exists = true;
  return state;
}

std::map<std::string, zt::checks::CheckResult> run_checks(const zt::host::HostView& view,
                                                          const zt::checks::SubIdsSpec& spec = {}) {
  std::map<std::string, zt::checks::CheckResult> out;
  for (const auto& check : zt::checks::make_subids_checks(spec)) {
    out.emplace(std::string(check->id()), check->run(view));
  }
  return out;
}

std::vector<std::string> not_passing(const std::map<std::string, zt::checks::CheckResult>& results) {
  std::vector<std::string> ids;
  for (const auto& [id, r] : results) {
    if (r.outcome == Outcome::fail || r.outcome == Outcome::error) {
      ids.push_back(id);
    }
  }
  return ids;
}

void good_tree(zt::test::TempRoot& root) {
  root.add_user("alice", 1000, 1000);
  root.add_user("ztnet", 999, 999);
  root.write("/etc/subuid", "alice:100000:65536\nztnet:165536:65536\n");
  root.write("/etc/subgid", "alice:100000:65536\nztnet:165536:65536\n");
}

} // namespace

TEST_CASE("parse_subid_file: entries, comments and blank lines", "[checks][subids]") {
  const auto entries = parsed("# managed\n\nalice:100000:65536\n  1000:165536:10  \nztnet:231072:65536");
  REQUIRE(entries.size() == 3);
  CHECK(entries[0] == SubIdEntry{"alice", 100000, 65536, 3});
  CHECK(entries[1] == SubIdEntry{"1000", 165536, 10, 4});
  CHECK(entries[2] == SubIdEntry{"ztnet", 231072, 65536, 5});
  CHECK(entries[2].to_text() == "ztnet:231072:65536");
  CHECK(entries[2].range_text() == "231072-296607");
  CHECK(entries[2].last() == 296607);
  CHECK(parsed("").empty());
}

TEST_CASE("parse_subid_file: malformed lines name file, line and reason", "[checks][subids]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"ztnet:100000", "/etc/subgid:1: expected owner:start:count"},
      {"ztnet:1:2:3", "/etc/subgid:1: expected owner:start:count"},
      {":100000:65536", "/etc/subgid:1: empty owner"},
      {"ztnet:x:65536", "/etc/subgid:1: start is not a decimal number"},
      {"ztnet:100000:-1", "/etc/subgid:1: count is not a decimal number"},
      {"ztnet:100000:", "/etc/subgid:1: count is not a decimal number"},
      {"ztnet:100000:0", "/etc/subgid:1: count is 0"},
      {"ztnet:4294967290:10", "/etc/subgid:1: range ends beyond the largest id 4294967294"},
      {"# c\n\nalice:1:2\nbroken\n", "/etc/subgid:4: expected owner:start:count"},
  };
  for (const auto& [text, message] : cases) {
    INFO(text);
    auto r = zt::checks::parse_subid_file(text, "/etc/subgid");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::parse);
    CHECK(r.error().message == message);
  }
}

TEST_CASE("parse_login_defs_subids: defaults, overrides and errors", "[checks][subids]") {
  auto defaults = zt::checks::parse_login_defs_subids("# nothing\nUID_MIN 1000\n");
  REQUIRE(defaults);
  CHECK(defaults->uid == SubIdLimits{100000, 600100000});
  CHECK(defaults->gid == SubIdLimits{100000, 600100000});

  auto custom =
      zt::checks::parse_login_defs_subids("SUB_UID_MIN\t\t   200000\nSUB_UID_MAX 900000000\nSUB_GID_MIN "
                                          "300000\nSUB_GID_MAX\t400000\nSUB_UID_COUNT 65536\n");
  REQUIRE(custom);
  CHECK(custom->uid == SubIdLimits{200000, 900000000});
  CHECK(custom->gid == SubIdLimits{300000, 400000});

  auto bad = zt::checks::parse_login_defs_subids("MAIL_DIR /var/mail\nSUB_GID_MIN 0x100\n");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == Errc::parse);
  CHECK(bad.error().message == "/etc/login.defs:2: SUB_GID_MIN is not a decimal id");

  auto inverted = zt::checks::parse_login_defs_subids("SUB_UID_MIN 500\nSUB_UID_MAX 400\n");
  REQUIRE_FALSE(inverted);
  CHECK(inverted.error().message == "/etc/login.defs: SUB_UID_MIN 500 is above SUB_UID_MAX 400");
}

TEST_CASE("ranges_overlap and owned_by", "[checks][subids]") {
  struct Row {
    std::uint64_t a, ac, b, bc;
    bool overlap;
  };
  const std::vector<Row> rows = {
      {100000, 65536, 165536, 65536, false},                                 // adjacent
      {100000, 65537, 165536, 65536, true},                                  // one id shared
      {165536, 65536, 100000, 65536, false},                                 // adjacent, other order
      {100000, 10, 100005, 1, true},                                         // contained
      {100005, 1, 100000, 10, true},         {100000, 0, 100000, 10, false}, // empty range
  };
  for (const auto& r : rows) {
    INFO(r.a << "+" << r.ac << " vs " << r.b << "+" << r.bc);
    CHECK(zt::checks::ranges_overlap(r.a, r.ac, r.b, r.bc) == r.overlap);
  }
  const SubIdEntry by_name{"ztnet", 1, 1, 1};
  const SubIdEntry by_uid{"999", 1, 1, 1};
  CHECK(zt::checks::owned_by(by_name, "ztnet", std::nullopt));
  CHECK(zt::checks::owned_by(by_uid, "ztnet", 999u));
  CHECK_FALSE(zt::checks::owned_by(by_uid, "ztnet", std::nullopt));
  CHECK_FALSE(zt::checks::owned_by(by_uid, "ztnet", 1000u));
}

TEST_CASE("find_free_start: aligned, skipping entries and real ids, within the limits", "[checks][subids]") {
  struct Row {
    std::string name;
    std::string taken;
    std::vector<std::uint32_t> real_ids;
    std::uint64_t count;
    SubIdLimits limits;
    std::optional<std::uint64_t> start;
  };
  const SubIdLimits debian{100000, 600100000};
  const std::vector<Row> rows = {
      {"empty files", "", {}, 65536, debian, 100000},
      {"useradd's first range taken", "alice:100000:65536\n", {}, 65536, debian, 165536},
      {"unaligned entry rounds up", "alice:100000:70000\n", {}, 65536, debian, 231072},
      {"entry far above the minimum is no obstacle", "bob:1000000:65536\n", {}, 65536, debian, 100000},
      {"gap too small for the count", "a:100000:65536\nb:231072:65536\n", {}, 65537, debian, 296608},
      {"exact gap between entries", "a:100000:65536\nb:231072:65536\n", {}, 65536, debian, 165536},
      {"real uid inside the first candidate", "", {100500}, 65536, debian, 165536},
      {"real id at the candidate's last id", "", {165535}, 65536, debian, 165536},
      {"real id just above the range is fine", "", {165536}, 65536, debian, 100000},
      {"custom minimum", "", {}, 65536, {200000, 600100000}, 200000},
      {"range must end at or below the maximum", "", {}, 65536, {100000, 165535}, 100000},
      {"no room below the maximum", "alice:100000:65536\n", {}, 65536, {100000, 231070}, std::nullopt},
      {"maximum below the minimum range", "", {}, 65536, {100000, 100001}, std::nullopt},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    CHECK(zt::checks::find_free_start(parsed(row.taken), row.real_ids, row.count, row.limits) == row.start);
  }
}

TEST_CASE("real_ids_in and find_overlaps", "[checks][subids]") {
  const auto shared = zt::host::share_ids(
      {account("root", 0, 0), account("bob", 100500, 200000), account("carol", 200000, 100600)});
  const auto& accounts = *shared;
  const SubIdEntry range{"ztnet", 100000, 65536, 1};
  const auto uids = zt::checks::real_ids_in(range, accounts, SubIdKind::uid);
  REQUIRE(uids.size() == 1);
  CHECK(uids[0].id == 100500);
  CHECK(uids[0].account == "bob");
  const auto gids = zt::checks::real_ids_in(range, accounts, SubIdKind::gid);
  REQUIRE(gids.size() == 1);
  CHECK(gids[0].id == 100600);
  CHECK(gids[0].account == "carol");

  const auto entries = parsed("alice:100000:65536\nztnet:150000:65536\nbob:300000:65536\n999:210000:10\n");
  const auto by_name = zt::checks::find_overlaps(entries, "ztnet", std::nullopt);
  REQUIRE(by_name.size() == 2); // alice, and 999 (not known to be ztnet without its uid)
  CHECK(by_name[0].other.owner == "alice");
  CHECK(by_name[1].other.owner == "999");
  const auto with_uid = zt::checks::find_overlaps(entries, "ztnet", 999u);
  REQUIRE(with_uid.size() == 1);
  CHECK(with_uid[0].mine.owner == "ztnet");
  CHECK(with_uid[0].other.owner == "alice");
}

TEST_CASE("decide_subids: what to add", "[checks][subids]") {
  struct Row {
    std::string name;
    SubIdState state;
    std::optional<std::uint64_t> add_subuid;
    std::optional<std::uint64_t> add_subgid;
  };
  auto custom_min = state_with("", "");
  custom_min.limits.uid.min = 200000;
  custom_min.limits.gid.min = 131072;
  const std::vector<Row> rows = {
      {"fresh files: one start for both", state_with("", ""), 100000, 100000},
      {"useradd's range of another user", state_with("alice:100000:65536\n", "alice:100000:65536\n"), 165536,
       165536},
      {"start free in both files", state_with("alice:100000:65536\n", "bob:165536:65536\n"), 231072, 231072},
      {"existing range (Debian useradd) is kept", state_with("ztnet:100000:65536\n", "ztnet:100000:65536\n"),
       std::nullopt, std::nullopt},
      {"range owned by numeric uid counts", state_with("999:100000:65536\n", "ztnet:100000:65536\n"),
       std::nullopt, std::nullopt},
      {"bigger range than needed is kept", state_with("ztnet:100000:131072\n", "ztnet:100000:131072\n"),
       std::nullopt, std::nullopt},
      {"subgid missing: reuse the subuid start",
       state_with("alice:100000:65536\nztnet:165536:65536\n", "alice:100000:65536\n"), std::nullopt, 165536},
      {"subuid missing: reuse the subgid start", state_with("", "ztnet:300000:65536\n"), 300000,
       std::nullopt},
      {"subgid missing and the start is taken there: compute",
       state_with("alice:100000:65536\nztnet:165536:65536\n", "alice:100000:65536\nbob:165536:10\n"),
       std::nullopt, 231072},
      {"real uid in the first candidate", state_with("", "", {account("bob", 100500, 100500)}), 165536,
       165536},
      {"both minimums apply to a shared start", custom_min, 200000, 200000},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    auto decision = zt::checks::decide_subids(row.state, {"ztnet", 65536});
    REQUIRE(decision);
    CHECK(decision->add_subuid == row.add_subuid);
    CHECK(decision->add_subgid == row.add_subgid);
    CHECK(decision->empty() == (!row.add_subuid && !row.add_subgid));
  }
}

TEST_CASE("decide_subids: never a second range, unusable ranges name the usermod fix", "[checks][subids]") {
  struct Row {
    std::string name;
    SubIdState state;
    std::string message;
  };
  auto no_room = state_with("alice:100000:65536\n", "");
  no_room.limits.uid.max = 231070;
  const std::vector<Row> rows = {
      {"too small", state_with("ztnet:100000:1000\n", "ztnet:100000:65536\n"),
       "subids: ztnet's range ztnet:100000:1000 in /etc/subuid has fewer than 65536 ids and ztagent never "
       "rewrites ranges: run 'usermod --del-subuids 100000-100999 ztnet' and re-run"},
      {"two ranges", state_with("ztnet:100000:65536\n", "ztnet:100000:65536\nztnet:300000:65536\n"),
       "subids: ztnet has 2 ranges in /etc/subgid (ztnet:100000:65536, ztnet:300000:65536); newuidmap needs "
       "exactly one and ztagent never removes ranges: run 'usermod --del-subgids 300000-365535 ztnet' and "
       "re-run"},
      {"two small ranges, by name and by uid", state_with("ztnet:100000:10\n999:200000:10\n", ""),
       "subids: ztnet has 2 ranges in /etc/subuid (ztnet:100000:10, 999:200000:10); newuidmap needs exactly "
       "one "
       "and ztagent never removes ranges: run 'usermod --del-subuids 100000-100009 --del-subuids "
       "200000-200009 "
       "ztnet' and re-run"},
      {"overlap", state_with("alice:150000:65536\nztnet:100000:65536\n", "ztnet:100000:65536\n"),
       "subids: ztnet's range ztnet:100000:65536 in /etc/subuid overlaps alice:150000:65536; ztagent never "
       "rewrites ranges: remove one of them ('usermod --del-subuids 100000-165535 ztnet' or 'usermod "
       "--del-subuids 150000-215535 alice') and re-run"},
      {"real uid inside",
       state_with("ztnet:100000:65536\n", "ztnet:100000:65536\n", {account("bob", 100500, 5000)}),
       "subids: ztnet's range ztnet:100000:65536 in /etc/subuid contains uid 100500 of bob; ztagent never "
       "rewrites ranges: run 'usermod --del-subuids 100000-165535 ztnet' and re-run"},
      {"real gid inside",
       state_with("ztnet:100000:65536\n", "ztnet:100000:65536\n", {account("bob", 5000, 100500)}),
       "subids: ztnet's range ztnet:100000:65536 in /etc/subgid contains gid 100500 of bob's group; ztagent "
       "never rewrites ranges: run 'usermod --del-subgids 100000-165535 ztnet' and re-run"},
      {"no free range", no_room,
       "subids: no free range of 65536 ids between 100000 and 231070 in /etc/subuid and /etc/subgid; free "
       "one, "
       "or raise SUB_UID_MAX and SUB_GID_MAX in /etc/login.defs, and re-run"},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    auto decision = zt::checks::decide_subids(row.state, {"ztnet", 65536});
    REQUIRE_FALSE(decision);
    CHECK(decision.error().code == Errc::invalid_config);
    CHECK(decision.error().message == row.message);
  }
}

TEST_CASE("decide_subids: a user that does not exist yet is matched by name only", "[checks][subids]") {
  auto state = state_with("999:100000:65536\n", "999:100000:65536\n", {}, false);
  auto decision = zt::checks::decide_subids(state, {"ztnet", 65536});
  REQUIRE(decision);
  CHECK(decision->add_subuid == 165536);
  CHECK(decision->add_subgid == 165536);
}

TEST_CASE("del_command and podman_as_user", "[checks][subids]") {
  CHECK(zt::checks::del_command(SubIdKind::gid, {{"ztnet", 100000, 10, 1}}, "ztnet") ==
        "usermod --del-subgids 100000-100009 ztnet");
  const auto ztnet = account("ztnet", 999, 999);
  const auto with_dir = zt::checks::podman_as_user(ztnet, {"unshare", "cat", "/proc/self/uid_map"},
                                                   zt::host::Effect::read_only, true);
  CHECK(with_dir.argv == std::vector<std::string>{"runuser", "-u", "ztnet", "--", "podman", "unshare", "cat",
                                                  "/proc/self/uid_map"});
  CHECK(with_dir.effect == zt::host::Effect::read_only);
  CHECK(with_dir.env ==
        std::vector<std::pair<std::string, std::string>>{{"XDG_RUNTIME_DIR", "/run/user/999"}});
  const auto without_dir =
      zt::checks::podman_as_user(ztnet, {"system", "migrate"}, zt::host::Effect::mutating, false);
  CHECK(without_dir.argv ==
        std::vector<std::string>{"runuser", "-u", "ztnet", "--", "podman", "system", "migrate"});
  CHECK(without_dir.effect == zt::host::Effect::mutating);
  CHECK(without_dir.env.empty());
}

TEST_CASE("read_subid_state: missing files, login.defs, parse errors", "[checks][subids]") {
  zt::test::TempRoot root;
  root.add_user("ztnet", 999, 999);
  zt::test::FakeRunner runner;
  zt::host::Host host = root.host(runner);

  auto empty = zt::checks::read_subid_state(host.view(), "ztnet");
  REQUIRE(empty);
  CHECK_FALSE(empty->subuid_exists);
  CHECK_FALSE(empty->subgid_exists);
  CHECK(empty->uid() == 999u);
  CHECK(empty->accounts->size() == 2);
  CHECK(empty->limits.uid == SubIdLimits{100000, 600100000});

  root.write("/etc/login.defs", "SUB_UID_MIN 200000\n");
  root.write("/etc/subuid", "ztnet:200000:65536\n");
  auto some = zt::checks::read_subid_state(host.view(), "ztnet");
  REQUIRE(some);
  CHECK(some->subuid_exists);
  CHECK(some->subuid->size() == 1);
  CHECK(some->limits.uid.min == 200000);

  root.write("/etc/subgid", "ztnet:200000:65536\nnonsense\n");
  auto bad = zt::checks::read_subid_state(host.view(), "ztnet");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message == "/etc/subgid:2: expected owner:start:count");
  CHECK(runner.calls().empty());
}

TEST_CASE("subids checks pass on a good state", "[checks][subids]") {
  zt::test::TempRoot root;
  good_tree(root);
  zt::test::FakeRunner runner;
  zt::host::Host host = root.host(runner);
  const auto results = run_checks(host.view());
  REQUIRE(results.size() == 5);
  CHECK(not_passing(results).empty());
  CHECK(results.at("subids.subuid-range").outcome == Outcome::pass);
  CHECK(results.at("subids.subuid-range").expected == "one range of >= 65536 ids for ztnet");
  CHECK(results.at("subids.subuid-range").actual == "ztnet:165536:65536");
  CHECK(results.at("subids.subgid-range").actual == "ztnet:165536:65536");
  CHECK(results.at("subids.no-overlap").outcome == Outcome::pass);
  CHECK(results.at("subids.no-real-uid").outcome == Outcome::pass);
  CHECK(results.at("subids.uid-map").outcome == Outcome::skip);
  CHECK(results.at("subids.uid-map").actual == "not the live host (--root): no user namespace to inspect");
  CHECK(runner.calls().empty());
  for (const auto& check : zt::checks::make_subids_checks({})) {
    CHECK(check->step() == "subids");
    CHECK_FALSE(check->description().empty());
    CHECK(check->runtime() == (check->id() == "subids.uid-map"));
  }
}

TEST_CASE("subids checks: each tampered state fails exactly the matching check", "[checks][subids]") {
  zt::test::TempRoot root;
  good_tree(root);
  zt::test::FakeRunner runner;
  zt::host::Host host = root.host(runner);

  SECTION("subuid line removed") {
    root.write("/etc/subuid", "alice:100000:65536\n");
    const auto results = run_checks(host.view());
    CHECK(not_passing(results) == std::vector<std::string>{"subids.subuid-range"});
    const auto& r = results.at("subids.subuid-range");
    CHECK(r.actual == "no range for ztnet");
    CHECK(r.fix == "run 'ztagent provision' (it runs 'usermod --add-subuids 165536-231071 ztnet')");
  }
  SECTION("subgid file removed") {
    std::filesystem::remove(root.real("/etc/subgid"));
    const auto results = run_checks(host.view());
    CHECK(not_passing(results) == std::vector<std::string>{"subids.subgid-range"});
    CHECK(results.at("subids.subgid-range").actual == "/etc/subgid is missing");
  }
  SECTION("subuid range shrunk") {
    root.write("/etc/subuid", "alice:100000:65536\nztnet:165536:1000\n");
    const auto results = run_checks(host.view());
    CHECK(not_passing(results) == std::vector<std::string>{"subids.subuid-range"});
    const auto& r = results.at("subids.subuid-range");
    CHECK(r.actual == "ztnet:165536:1000");
    CHECK(r.fix == "run 'usermod --del-subuids 165536-166535 ztnet', then 'ztagent provision'");
  }
  SECTION("second subgid range") {
    root.append("/etc/subgid", "ztnet:300000:65536\n");
    const auto results = run_checks(host.view());
    CHECK(not_passing(results) == std::vector<std::string>{"subids.subgid-range"});
    CHECK(results.at("subids.subgid-range").actual == "ztnet:165536:65536, ztnet:300000:65536");
    CHECK(results.at("subids.subgid-range").fix ==
          "run 'usermod --del-subgids 300000-365535 ztnet', then 'ztagent provision'");
  }
  SECTION("subgid range moved onto another user's") {
    root.write("/etc/subgid", "alice:100000:65536\nztnet:150000:65536\n");
    const auto results = run_checks(host.view());
    CHECK(not_passing(results) == std::vector<std::string>{"subids.no-overlap"});
    const auto& r = results.at("subids.no-overlap");
    CHECK(r.actual == "ztnet:150000:65536 overlaps alice:100000:65536 in /etc/subgid");
    CHECK(r.fix ==
          "remove one of them ('usermod --del-subgids 150000-215535 ztnet' or 'usermod --del-subgids "
          "100000-165535 alice'), then run 'ztagent provision'");
  }
  SECTION("an account's uid inside the range") {
    root.add_user("bob", 170000, 170000);
    const auto results = run_checks(host.view());
    CHECK(not_passing(results) == std::vector<std::string>{"subids.no-real-uid"});
    const auto& r = results.at("subids.no-real-uid");
    CHECK(r.actual == "ztnet:165536:65536 in /etc/subuid contains uid 170000 of bob; ztnet:165536:65536 in "
                      "/etc/subgid contains gid 170000 of bob's group");
    CHECK(
        r.fix ==
        "run 'usermod --del-subuids 165536-231071 ztnet', then 'ztagent provision' (it picks a free range)");
  }
  SECTION("unparsable file is an error, not a pass") {
    root.append("/etc/subuid", "garbage\n");
    const auto results = run_checks(host.view());
    CHECK(not_passing(results) == std::vector<std::string>{"subids.no-overlap", "subids.no-real-uid",
                                                           "subids.subgid-range", "subids.subuid-range"});
    CHECK(results.at("subids.subuid-range").outcome == Outcome::error);
    CHECK(results.at("subids.subuid-range").actual == "subids: /etc/subuid:3: expected owner:start:count");
  }
  SECTION("no ranges at all: the range checks fail, the others do not apply") {
    root.write("/etc/subuid", "alice:100000:65536\n");
    root.write("/etc/subgid", "alice:100000:65536\n");
    const auto results = run_checks(host.view());
    CHECK(not_passing(results) == std::vector<std::string>{"subids.subgid-range", "subids.subuid-range"});
    CHECK(results.at("subids.no-overlap").outcome == Outcome::skip);
    CHECK(results.at("subids.no-real-uid").outcome == Outcome::skip);
  }
  CHECK(runner.calls().empty());
}

TEST_CASE("subids.uid-map on the live host without podman skips with the reason", "[checks][subids]") {
  zt::test::FakeRunner runner; // strict: any command fails the test
  zt::host::Host host(zt::host::Fs("/"), runner);
  auto podman = host.fs().stat("/usr/bin/podman");
  REQUIRE(podman);
  if (podman->exists()) {
    ZT_SKIP("podman is installed here; this test covers hosts without it");
  }
  for (const auto& check : zt::checks::make_subids_checks({})) {
    if (check->id() == "subids.uid-map") {
      const auto r = check->run(host.view());
      CHECK(r.outcome == Outcome::skip);
      CHECK(r.actual == "podman is not installed (/usr/bin/podman missing)");
    }
  }
  CHECK(runner.calls().empty());
}

TEST_CASE("subids.uid-map on the live host with podman reads the user namespace's uid_map",
          "[checks][subids]") {
  zt::test::FakeRunner runner;
  zt::host::Host host(zt::host::Fs("/"), runner);
  auto podman = host.fs().stat("/usr/bin/podman");
  REQUIRE(podman);
  if (!podman->exists()) {
    ZT_SKIP("podman is not installed here; this test covers hosts with it");
  }
  // The check's mechanics with an account that exists on every host (the fake runner answers).
  const zt::checks::SubIdsSpec spec{"root", 65536};
  const std::vector<std::string> argv = {"runuser", "-u",      "root", "--",
                                         "podman",  "unshare", "cat",  "/proc/self/uid_map"};
  const std::string fix =
      "run 'runuser -u root -- podman system migrate' and check /etc/subuid, /etc/subgid and "
      "that newuidmap/newgidmap are setuid";
  std::unique_ptr<zt::checks::Check> check;
  for (auto& c : zt::checks::make_subids_checks(spec)) {
    if (c->id() == "subids.uid-map") {
      check = std::move(c);
    }
  }
  REQUIRE(check);
  SECTION("own uid plus the subuid range: two lines") {
    runner.on(argv, {0, "         0          0          1\n         1     100000      65536\n", ""});
    const auto r = check->run(host.view());
    CHECK(r.outcome == Outcome::pass);
    CHECK(r.expected == "2 lines in the user namespace's uid_map");
    CHECK(r.actual == "2 line(s): 0 0 1 | 1 100000 65536");
  }
  SECTION("no subordinate range: one line") {
    runner.on(argv, {0, "         0          0          1\n", ""});
    const auto r = check->run(host.view());
    CHECK(r.outcome == Outcome::fail);
    CHECK(r.actual == "1 line(s): 0 0 1");
    CHECK(r.fix == fix);
  }
  SECTION("podman fails") {
    runner.on(argv,
              {125, "", "Error: cannot set up namespace using \"/usr/bin/newuidmap\": exit status 1\n"});
    const auto r = check->run(host.view());
    CHECK(r.outcome == Outcome::fail);
    CHECK(r.actual == "podman unshare exited 125: Error: cannot set up namespace using "
                      "\"/usr/bin/newuidmap\": exit status 1");
    CHECK(r.fix == fix);
  }
  REQUIRE(runner.calls().size() == 1);
  CHECK(runner.calls()[0].effect == zt::host::Effect::read_only);
}

TEST_CASE("SubIdState::mine: the indexed lines of the user, the same as a scan, rescanned when the tables change",
          "[checks][subids]") {
  auto state = state_with("alice:100000:65536\nztnet:165536:65536\n999:231072:1000\n", "ztnet:165536:65536\n");
  const auto scan_uid = zt::checks::entries_of(state.entries(SubIdKind::uid), "ztnet", state.uid());
  const auto scan_gid = zt::checks::entries_of(state.entries(SubIdKind::gid), "ztnet", state.uid());
  REQUIRE(scan_uid.size() == 2); // by name and by uid
  CHECK(state.mine(SubIdKind::uid, "ztnet") == scan_uid);
  state.index_own("ztnet");
  CHECK(state.mine(SubIdKind::uid, "ztnet") == scan_uid);
  CHECK(state.mine(SubIdKind::gid, "ztnet") == scan_gid);
  CHECK(state.mine(SubIdKind::uid, "alice") ==
        zt::checks::entries_of(state.entries(SubIdKind::uid), "alice", state.uid()));
  state.subuid = std::make_shared<const std::vector<SubIdEntry>>(parsed("ztnet:300000:65536\n", "/etc/subuid"));
  REQUIRE(state.mine(SubIdKind::uid, "ztnet").size() == 1);
  CHECK(state.mine(SubIdKind::uid, "ztnet").front().start == 300000);
}
