// SPDX-License-Identifier: Apache-2.0
#include "cli/explain.hpp"
#include "profile/loader.hpp"
#include "provisioners/registry.hpp"
#include "support/catch.hpp"
#include "util/strings.hpp"

#include <set>

using zt::cli::closest_match;
using zt::cli::find_check_doc;
using zt::cli::id_matches;

TEST_CASE("explain: every check of every shipped profile has a catalog entry", "[cli][explain]") {
  std::set<std::string> missing;
  std::size_t seen = 0;
  for (const auto& name : zt::profile::profile_names()) {
    INFO("profile " << name);
    auto spec = zt::profile::load_profile(name, "");
    REQUIRE(spec);
    auto site = zt::profile::load_site_config("", "<defaults>", {});
    REQUIRE(site);
    auto stack = zt::profile::resolve_stack(*spec, *site);
    REQUIRE(stack);
    zt::profile::Config config{std::move(*spec), std::move(*site), "", std::move(*stack)};
    for (const bool provisioning : {false, true}) {
      auto steps = zt::provisioners::build_steps(config, zt::provisioners::StepContext{true, provisioning});
      REQUIRE(steps);
      for (const auto& step : *steps) {
        for (const auto& check : step.checks) {
          ++seen;
          const auto* doc = find_check_doc(check->id());
          if (doc == nullptr) {
            missing.insert(std::string(check->id()));
            continue;
          }
          CHECK_FALSE(doc->why.empty());
          CHECK_FALSE(doc->source.empty());
          CHECK_FALSE(doc->fix.empty());
          CHECK_FALSE(check->description().empty());
        }
      }
    }
  }
  CHECK(seen > 0);
  // New check ids need a row in agent/cli/explain.cpp (why, source, fix).
  CHECK(zt::util::join(std::vector<std::string>(missing.begin(), missing.end()), ", ") == "");
}

TEST_CASE("explain: patterns match one dotted segment, exact entries win", "[cli][explain]") {
  CHECK(id_matches("data.*.mode", "data.zerotier.mode"));
  CHECK(id_matches("data.*.mode", "data.caddy_data.mode"));
  CHECK_FALSE(id_matches("data.*.mode", "data.a.b.mode"));
  CHECK_FALSE(id_matches("data.*.mode", "data..mode"));
  CHECK_FALSE(id_matches("data.*.mode", "data.zerotier.modes"));
  CHECK(id_matches("packages.*", "packages.podman"));
  CHECK_FALSE(id_matches("packages.*", "packages."));
  CHECK(id_matches("user.account", "user.account"));
  CHECK_FALSE(id_matches("user.account", "user.accounts"));
  REQUIRE(find_check_doc("packages.podman-version") != nullptr);
  CHECK(find_check_doc("packages.podman-version")->id == "packages.podman-version");
  CHECK(find_check_doc("packages.uidmap")->id == "packages.*");
  CHECK(find_check_doc("data.postgres-data.default-acl")->id == "data.*.default-acl");
  CHECK(find_check_doc("nope.nothing") == nullptr);
}

TEST_CASE("explain: did-you-mean picks a close id only", "[cli][explain]") {
  const std::vector<std::string> ids = {"subids.subuid-range", "subids.subgid-range", "data.zerotier.mode"};
  CHECK(closest_match("subids.subgid-rang", ids) == "subids.subgid-range");
  CHECK(closest_match("data.zerotier.mod", ids) == "data.zerotier.mode");
  CHECK(closest_match("subid.subuid-range", ids) == "subids.subuid-range");
  CHECK(closest_match("frobnicate", ids).empty());
  CHECK(closest_match("x", {}).empty());
}
