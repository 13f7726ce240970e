// SPDX-License-Identifier: Apache-2.0
#include "profile/waivers.hpp"

#include "cli/run_output.hpp"
#include "support/catch.hpp"

#include <string>
#include <vector>

using zt::profile::glob_match;
using zt::profile::load_waivers;
using zt::profile::Waiver;

TEST_CASE("glob_match: * and ? over check ids", "[profile][waivers]") {
  CHECK(glob_match("runtime.http", "runtime.http"));
  CHECK_FALSE(glob_match("runtime.http", "runtime.https"));
  CHECK(glob_match("units.*", "units.no-secrets"));
  CHECK_FALSE(glob_match("units.*", "unit.x"));
  CHECK(glob_match("*.mode", "data.zerotier.mode"));
  CHECK(glob_match("data.*.mode", "data.zerotier.mode"));
  CHECK(glob_match("preflight.?group*", "preflight.cgroup-delegation"));
  CHECK(glob_match("*", "anything"));
  CHECK_FALSE(glob_match("", "x"));
  CHECK(glob_match("drift:/etc/*", "drift:/etc/subuid"));
}

TEST_CASE("load_waivers: check, reason, optional expiry as a TOML date or a string", "[profile][waivers]") {
  const auto w = load_waivers("[service]\nuser = \"ztnet\"\n\n[[waivers]]\ncheck = \"runtime.http\"\nreason = \"no DNS\"\n"
                              "expires = 2027-01-31\n\n[[waivers]]\ncheck = \"units.*\"\nreason = \"lab\"\n"
                              "expires = \"2027-02-01\"\n\n[[waivers]]\ncheck = \"x.y\"\nreason = \"forever\"\n",
                              "/etc/ztagent/ztagent.toml");
  REQUIRE(w);
  REQUIRE(w->size() == 3);
  CHECK((*w)[0].check == "runtime.http");
  CHECK((*w)[0].reason == "no DNS");
  CHECK((*w)[0].expires == "2027-01-31");
  CHECK((*w)[0].where.to_string() == "/etc/ztagent/ztagent.toml:5:9: ");
  CHECK((*w)[1].expires == "2027-02-01");
  CHECK((*w)[2].expires.empty());
  CHECK(load_waivers("", "f")->empty());
  CHECK(load_waivers("[service]\nuser = \"a\"\n", "f")->empty());
}

TEST_CASE("load_waivers: every mistake is located", "[profile][waivers]") {
  struct Case {
    std::string text;
    std::string diagnostic;
  };
  const std::vector<Case> cases = {
      {"[[waivers]]\nreason = \"x\"\n", "f:1:1: [[waivers]]: missing check = \"CHECK-ID or glob\""},
      {"[[waivers]]\ncheck = \"a.b\"\n", "f:1:1: [[waivers]] a.b: missing reason = \"...\" (a waiver must say why)"},
      {"[[waivers]]\ncheck = \"a.b\"\nreason = \"\"\n", "f:3:10: waivers.reason: expected a non-empty string"},
      {"[[waivers]]\ncheck = 5\nreason = \"r\"\n", "f:2:9: waivers.check: expected a non-empty string"},
      {"[[waivers]]\ncheck = \"a\"\nreason = \"r\"\nexpires = \"soon\"\n",
       "f:4:11: waivers.expires: expected a date, e.g. expires = 2027-01-31"},
      {"[[waivers]]\ncheck = \"a\"\nreason = \"r\"\nuntil = 2027-01-01\n",
       "f:4:1: unknown key 'until' in [[waivers]] (known: check, reason, expires)"},
      {"waivers = \"all\"\n", "f:1:11: waivers: expected [[waivers]] tables (check, reason, optional expires)"},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    const auto w = load_waivers(c.text, "f");
    REQUIRE_FALSE(w);
    REQUIRE(w.error().size() == 1);
    CHECK(w.error().front().to_string() == c.diagnostic);
  }
}

TEST_CASE("waivers_without_checks: a waiver naming no check is an error at its position", "[profile][waivers]") {
  const auto w = load_waivers("[[waivers]]\ncheck = \"runtime.htp\"\nreason = \"r\"\n\n[[waivers]]\ncheck = \"units.*\"\n"
                              "reason = \"r\"\n\n[[waivers]]\ncheck = \"nothing.like.it\"\nreason = \"r\"\n",
                              "site.toml");
  REQUIRE(w);
  const auto diags = zt::profile::waivers_without_checks(*w, {"runtime.http", "units.no-secrets", "user.account"});
  REQUIRE(diags.size() == 2);
  CHECK(diags[0].to_string() == "site.toml:2:9: waiver 'runtime.htp' names no check of this profile (did you mean "
                                "'runtime.http'?)");
  CHECK(diags[1].to_string() == "site.toml:10:9: waiver 'nothing.like.it' names no check of this profile "
                                "(`ztagent list` shows the check ids)");
}

TEST_CASE("apply_waivers: active waivers cover checks, expired ones fail the run naming themselves",
          "[cli][waivers]") {
  using zt::checks::Outcome;
  zt::report::Report rep;
  rep.checks = {zt::report::CheckReport{"runtime.http", "runtime", Outcome::fail, "200", "refused", {}, 0, {}, {}},
                zt::report::CheckReport{"units.no-secrets", "units", Outcome::pass, "", "", {}, 0, {}, {}},
                zt::report::CheckReport{"user.account", "user", Outcome::fail, "x", "y", {}, 0, {}, {}}};
  auto w = load_waivers("[[waivers]]\ncheck = \"runtime.*\"\nreason = \"no DNS\"\nexpires = 2027-01-31\n\n"
                        "[[waivers]]\ncheck = \"user.account\"\nreason = \"old\"\nexpires = 2026-12-01\n",
                        "site.toml");
  REQUIRE(w);
  zt::cli::apply_waivers(rep, *w, "2026-12-06");
  REQUIRE(rep.checks.size() == 4);
  CHECK(rep.checks[0].waiver_reason == "no DNS");
  CHECK(rep.checks[0].waiver_expires == "2027-01-31");
  CHECK_FALSE(rep.checks[2].waiver_reason);  // its waiver expired
  CHECK(rep.checks[3].id == "waiver:user.account");
  CHECK(rep.checks[3].outcome == Outcome::fail);
  CHECK(rep.checks[3].actual == "expired on 2026-12-01 (site.toml:7:9; reason was: old)");
  REQUIRE(rep.waivers.size() == 1);
  CHECK(rep.waivers[0].matched == 1);
  CHECK(zt::report::any_unwaived_failure(rep));

  // Valid through its last day; applying again starts over (no duplicate waiver: checks).
  zt::cli::apply_waivers(rep, *w, "2026-12-01");
  CHECK(rep.checks.size() == 3);
  CHECK(rep.checks[2].waiver_reason == "old");
  CHECK_FALSE(zt::report::any_unwaived_failure(rep));
  CHECK(rep.waivers.size() == 2);
}
