// SPDX-License-Identifier: Apache-2.0
// The image contracts (tests/e2e/images/<name>/CONTRACT.md) against what ztagent renders: for
// every shipped profile and every unit style, each contract point that shows in the stack data or
// in the rendered unit files. One TEST_CASE per image; the section names cite the contract point.
#include "checks/units.hpp"
#include "support/catch.hpp"
#include "unit/checks/units_fixture.hpp"

#include <algorithm>
#include <string>
#include <vector>

using zt::checks::render_units;
using zt::checks::RenderedUnits;
using zt::checks::SecretStore;
using zt::checks::UnitStyle;

namespace {

const std::vector<std::string> k_profiles = {"debian-12", "debian-13", "fedora-41", "ubuntu-24.04"};
const std::vector<UnitStyle> k_styles = {UnitStyle::quadlet_pod, UnitStyle::quadlet_container,
                                         UnitStyle::classic};

const zt::profile::Container& container(const zt::profile::Stack& stack, const std::string& name) {
  const auto it = std::ranges::find(stack.containers, name, &zt::profile::Container::name);
  REQUIRE(it != stack.containers.end());
  return *it;
}

std::string env(const zt::profile::Container& c, const std::string& key) {
  const auto it = std::ranges::find(c.env, key, &std::pair<std::string, std::string>::first);
  return it == c.env.end() ? std::string("<unset>") : it->second;
}

std::string target_of(const zt::profile::Container& c, const std::string& source) {
  const auto it = std::ranges::find(c.volumes, source, &zt::profile::Mount::source);
  return it == c.volumes.end() ? std::string("<not mounted>") : it->target;
}

bool has_secret(const zt::profile::Container& c, const std::string& env_name) {
  return std::ranges::any_of(c.secrets, [&](const auto& s) { return s.env == env_name; });
}

/// The rendered unit file of container `name` (its file name contains "-<name>."), for a style.
std::string unit_text(const RenderedUnits& r, const std::string& pod, const std::string& name) {
  const std::string needle = pod + "-" + name + ".";
  for (const auto& f : r.files) {
    const std::string base = f.path.substr(f.path.rfind('/') + 1);
    if (base.starts_with(needle)) {
      return f.content;
    }
  }
  FAIL("no unit for " << name);
  return "";
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

} // namespace

TEST_CASE("contract ztnet: every profile and unit style", "[checks][units][contract]") {
  for (const auto& profile : k_profiles) {
    const auto spec = zt::test::units_spec_for(profile);
    const auto& stack = spec.stack;
    const auto& ztnet = container(stack, "ztnet");
    INFO(profile);
    // §3: node:*-bookworm-slim has curl, not wget.
    CHECK(ztnet.health.command.starts_with("curl "));
    CHECK_FALSE(contains(ztnet.health.command, "wget"));
    // §6: the standalone server binds $HOSTNAME:$PORT; podman overrides an env HOSTNAME in a pod, so
    // upstream's CMD runs behind env HOSTNAME=0.0.0.0 (init-db.sh execs it after the migrations);
    // caddy and the health check use 127.0.0.1:3000.
    CHECK(ztnet.exec == std::vector<std::string>{"env", "HOSTNAME=0.0.0.0", "node", "server.js"});
    CHECK(env(ztnet, "HOSTNAME") == "<unset>");
    CHECK(env(ztnet, "PORT") == "3000");
    CHECK(contains(ztnet.health.command, "http://127.0.0.1:3000/"));
    CHECK(env(ztnet, "NEXTAUTH_URL_INTERNAL") == "http://127.0.0.1:3000");
    REQUIRE(stack.files.size() == 1);
    CHECK(contains(stack.files[0].content, "reverse_proxy 127.0.0.1:3000"));
    // §4: init-db.sh's variables point at the pod's postgres with the same user and database.
    const auto& postgres = container(stack, "postgres");
    CHECK(env(ztnet, "POSTGRES_HOST") == "127.0.0.1");
    CHECK(env(ztnet, "POSTGRES_PORT") == "5432");
    CHECK(env(ztnet, "POSTGRES_USER") == env(postgres, "POSTGRES_USER"));
    CHECK(env(ztnet, "POSTGRES_DB") == env(postgres, "POSTGRES_DB"));
    CHECK(has_secret(ztnet, "POSTGRES_PASSWORD"));
    CHECK(has_secret(ztnet, "NEXTAUTH_SECRET"));
    CHECK(env(ztnet, "NEXTAUTH_URL") == "https://" + stack.domain);
    // §4 and zerotier §4: the controller's API on the pod's loopback, its token from the shared dir.
    CHECK(env(ztnet, "ZT_ADDR") == "http://127.0.0.1:9993");
    CHECK(target_of(ztnet, "zerotier") == "/var/lib/zerotier-one");
    CHECK(target_of(container(stack, "zerotier"), "zerotier") == "/var/lib/zerotier-one");
    // §5: ztnet waits for postgres and zerotier, and gets time for its migrations.
    CHECK(std::ranges::find(ztnet.after, "postgres") != ztnet.after.end());
    CHECK(std::ranges::find(ztnet.after, "zerotier") != ztnet.after.end());
    CHECK(ztnet.health.start_period == "120s");
    for (auto style : k_styles) {
      INFO(zt::checks::to_string(style));
      auto r = render_units(spec, zt::test::ztnet_account(), style, SecretStore::podman);
      REQUIRE(r);
      const std::string unit = unit_text(*r, stack.pod, "ztnet");
      CHECK(contains(unit, "HOSTNAME=0.0.0.0"));
      CHECK(contains(unit, "PORT=3000"));
      CHECK(contains(unit, "curl -fsS -o /dev/null http://127.0.0.1:3000/"));
      CHECK_FALSE(contains(unit, "wget"));
      CHECK(contains(unit, "ZT_ADDR=http://127.0.0.1:9993"));
      CHECK(contains(unit, ":/var/lib/zerotier-one"));
    }
  }
}

TEST_CASE("contract zerotier: every profile and unit style", "[checks][units][contract]") {
  for (const auto& profile : k_profiles) {
    const auto spec = zt::test::units_spec_for(profile);
    const auto& zerotier = container(spec.stack, "zerotier");
    INFO(profile);
    // §7: a network port needs /dev/net/tun and NET_ADMIN; SYS_ADMIN is not needed.
    CHECK(zerotier.devices == std::vector<std::string>{"/dev/net/tun"});
    CHECK(zerotier.add_capabilities == std::vector<std::string>{"NET_ADMIN"});
    // §6: the API is for the pod only: no allowManagementFrom from outside.
    CHECK(env(zerotier, "ZT_ALLOW_MANAGEMENT_FROM") == "<unset>");
    // §6: UDP 9993 published.
    const auto udp = std::ranges::find(spec.stack.ports, "zerotier", &zt::profile::PublishedPort::name);
    REQUIRE(udp != spec.stack.ports.end());
    CHECK(udp->container == 9993);
    CHECK(udp->protocol == "udp");
    // §3: the health check is zerotier-cli (a symlink to zerotier-one in the image).
    CHECK(zerotier.health.command == "zerotier-cli info");
    for (auto style : k_styles) {
      INFO(zt::checks::to_string(style));
      auto r = render_units(spec, zt::test::ztnet_account(), style, SecretStore::podman);
      REQUIRE(r);
      const std::string unit = unit_text(*r, spec.stack.pod, "zerotier");
      CHECK(contains(unit, "/dev/net/tun"));
      CHECK(contains(unit, "NET_ADMIN"));
      CHECK_FALSE(contains(unit, "SYS_ADMIN"));
    }
  }
}

TEST_CASE("contract postgres: every profile and unit style", "[checks][units][contract]") {
  for (const auto& profile : k_profiles) {
    const auto spec = zt::test::units_spec_for(profile);
    const auto& postgres = container(spec.stack, "postgres");
    INFO(profile);
    // §1, §2: the Alpine image, whose postgres is uid 70: the default data dir ACL is for 70.
    CHECK(postgres.image.ends_with("-alpine"));
    const zt::profile::SiteConfig defaults;
    const auto dir = std::ranges::find(defaults.data_dirs, "postgres-data", &zt::profile::DataDir::name);
    REQUIRE(dir != defaults.data_dirs.end());
    CHECK(dir->container_uids == std::vector<std::uint32_t>{70});
    // §5: PGDATA is a subdirectory of the mount (the entrypoint chowns and chmods PGDATA).
    const std::string mount = target_of(postgres, "postgres-data");
    CHECK(mount == "/var/lib/postgresql/data");
    CHECK(env(postgres, "PGDATA").starts_with(mount + "/"));
    // §3, §4: pg_isready for the user and database the entrypoint creates.
    CHECK(postgres.health.command ==
          "pg_isready -U " + env(postgres, "POSTGRES_USER") + " -d " + env(postgres, "POSTGRES_DB"));
    CHECK(has_secret(postgres, "POSTGRES_PASSWORD"));
    for (auto style : k_styles) {
      INFO(zt::checks::to_string(style));
      auto r = render_units(spec, zt::test::ztnet_account(), style, SecretStore::podman);
      REQUIRE(r);
      const std::string unit = unit_text(*r, spec.stack.pod, "postgres");
      CHECK(contains(unit, "PGDATA=/var/lib/postgresql/data/pgdata"));
      CHECK(contains(unit, ":/var/lib/postgresql/data"));
    }
  }
}

TEST_CASE("contract caddy: every profile and unit style", "[checks][units][contract]") {
  for (const auto& profile : k_profiles) {
    const auto spec = zt::test::units_spec_for(profile);
    const auto& caddy = container(spec.stack, "caddy");
    INFO(profile);
    // §4: certificates in /data (XDG_DATA_HOME); §5: the Caddyfile where the image's CMD reads it.
    CHECK(target_of(caddy, "caddy_data") == "/data");
    CHECK(target_of(caddy, "caddy/Caddyfile") == "/etc/caddy/Caddyfile");
    CHECK(caddy.exec.empty());
    // §3: Alpine busybox wget for the admin API.
    CHECK(contains(caddy.health.command, "http://127.0.0.1:2019/config/"));
    // §6: 80 and 443 over TCP.
    for (const std::string name : {"http", "https"}) {
      const auto p = std::ranges::find(spec.stack.ports, name, &zt::profile::PublishedPort::name);
      REQUIRE(p != spec.stack.ports.end());
      CHECK(p->protocol == "tcp");
      CHECK(p->container == (name == "http" ? 80U : 443U));
    }
    for (auto style : k_styles) {
      INFO(zt::checks::to_string(style));
      auto r = render_units(spec, zt::test::ztnet_account(), style, SecretStore::podman);
      REQUIRE(r);
      CHECK(contains(unit_text(*r, spec.stack.pod, "caddy"), ":/etc/caddy/Caddyfile:ro"));
    }
  }
}
