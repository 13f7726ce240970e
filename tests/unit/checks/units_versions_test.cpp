// SPDX-License-Identifier: Apache-2.0
// The podman version boundaries of the units: the style per version, every Quadlet key against the
// first podman that knows it (table read from containers/podman pkg/systemd/quadlet/quadlet.go at
// v4.4.0 ... v5.0.0), the network wait (ztagent's below 5.3, podman's own from 5.3), the start
// timeout of every unit that may pull, and the 4.6-4.9 pod unit modelled on podman 4.9.3's
// `generate systemd --new`. Real generators judge the same files in docs/podman-4.9.md and in the
// "units: real Quadlet generators" test (skipped without them).
#include "checks/units.hpp"
#include "checks/units_versions.hpp"
#include "provisioners/packages.hpp"
#include "support/catch.hpp"
#include "units_fixture.hpp"
#include "util/strings.hpp"

#include <string>
#include <vector>

using zt::checks::render_units;
using zt::checks::RenderedUnits;
using zt::checks::SecretStore;
using zt::checks::UnitsContext;
using zt::checks::UnitStyle;

namespace {

RenderedUnits render_for(const std::string& profile, const std::string& podman, SecretStore store) {
  const auto spec = zt::test::units_spec_for(profile);
  auto style = zt::checks::style_for_podman(podman);
  REQUIRE(style);
  UnitsContext ctx{zt::test::ztnet_account(), podman, *style, store};
  auto r = render_units(spec, ctx);
  INFO(podman << ": " << (r ? std::string() : r.error().message));
  REQUIRE(r);
  return *r;
}

const zt::checks::ManagedFile* file_named(const RenderedUnits& r, std::string_view suffix) {
  for (const auto& f : r.files) {
    if (f.path.ends_with(suffix)) {
      return &f;
    }
  }
  return nullptr;
}

bool has_line(const std::string& content, std::string_view line) {
  for (auto l : zt::util::lines(content)) {
    if (l == line) {
      return true;
    }
  }
  return false;
}

} // namespace

TEST_CASE("units: the style boundary per podman version", "[checks][units]") {
  struct Row {
    std::string version;
    UnitStyle style;
  };
  const std::vector<Row> rows = {
      {"4.3.1", UnitStyle::classic},           {"4.4.0", UnitStyle::classic},
      {"4.4.4", UnitStyle::classic},           {"4.5.1", UnitStyle::classic},
      {"4.6.0", UnitStyle::quadlet_container}, {"4.9.3", UnitStyle::quadlet_container},
      {"4.9.5", UnitStyle::quadlet_container}, {"5.0.0", UnitStyle::quadlet_pod},
      {"5.4.2", UnitStyle::quadlet_pod},       {"5.8.6", UnitStyle::quadlet_pod},
  };
  for (const auto& row : rows) {
    INFO(row.version);
    auto style = zt::checks::style_for_podman(row.version);
    REQUIRE(style);
    CHECK(*style == row.style);
  }
}

TEST_CASE("units: every Quadlet key is known to the lowest podman of its style", "[checks][units]") {
  // The lowest version of each Quadlet style, with both secret stores (Secret= vs EnvironmentFile=).
  for (const std::string podman : {"4.6.0", "5.0.0"}) {
    for (auto store : {SecretStore::podman, SecretStore::files}) {
      for (const std::string profile : {"debian-13", "fedora-41", "ubuntu-24.04"}) {
        INFO(profile << " podman " << podman);
        const auto r = render_for(profile, podman, store);
        std::size_t quadlet_files = 0;
        for (const auto& f : r.files) {
          if (f.path.ends_with(".container") || f.path.ends_with(".pod")) {
            ++quadlet_files;
            INFO(f.path);
            CHECK(zt::checks::unsupported_quadlet_keys(f.content, podman).empty());
          }
        }
        CHECK(quadlet_files >= 4);
      }
    }
  }
}

TEST_CASE("units: the key boundaries that keep 4.4 and 4.5 on classic units", "[checks][units]") {
  // What the 4.6-4.9 style writes, judged by the table for the versions below its boundary.
  const auto r = render_for("ubuntu-24.04", "4.9.3", SecretStore::podman);
  const auto* ztnet = file_named(r, "/ztnet-ztnet.container");
  const auto* caddy = file_named(r, "/ztnet-caddy.container");
  REQUIRE(ztnet != nullptr);
  REQUIRE(caddy != nullptr);
  // AutoUpdate= from 4.6.
  CHECK(zt::checks::unsupported_quadlet_keys(caddy->content, "4.5.1") ==
        std::vector<std::string>{"Container.AutoUpdate= (podman >= 4.6)"});
  // Health*= from 4.5 (caddy has a health check), Secret= from 4.5 (ztnet has secrets).
  CHECK(zt::checks::unsupported_quadlet_keys(caddy->content, "4.4.4") ==
        std::vector<std::string>{"Container.AutoUpdate= (podman >= 4.6)", "Container.HealthCmd= (podman >= 4.5)",
                                 "Container.HealthInterval= (podman >= 4.5)",
                                 "Container.HealthTimeout= (podman >= 4.5)",
                                 "Container.HealthRetries= (podman >= 4.5)",
                                 "Container.HealthStartPeriod= (podman >= 4.5)"});
  const auto ztnet_44 = zt::checks::unsupported_quadlet_keys(ztnet->content, "4.4.0");
  CHECK(std::find(ztnet_44.begin(), ztnet_44.end(), "Container.Secret= (podman >= 4.5)") != ztnet_44.end());
  // Pod= and StopTimeout= (the 5.x style) from 5.0: never in the 4.x style.
  const auto pod_style = render_for("ubuntu-24.04", "5.0.0", SecretStore::podman);
  const auto* pod_caddy = file_named(pod_style, "/ztnet-caddy.container");
  REQUIRE(pod_caddy != nullptr);
  CHECK(zt::checks::unsupported_quadlet_keys(pod_caddy->content, "4.9.3") ==
        std::vector<std::string>{"Container.Pod= (podman >= 5.0)", "Container.StopTimeout= (podman >= 5.0)"});
  const auto* pod = file_named(pod_style, "/ztnet.pod");
  REQUIRE(pod != nullptr);
  CHECK(zt::checks::unsupported_quadlet_keys(pod->content, "4.9.3") ==
        std::vector<std::string>{"Pod.PodName= (podman >= 5.0)", "Pod.Network= (podman >= 5.0)",
                                 "Pod.PublishPort= (podman >= 5.0)"});
  // A key ztagent does not know is reported, never assumed supported; [Service] is systemd's.
  CHECK(zt::checks::unsupported_quadlet_keys("[Container]\nBogus=1\n[Service]\nAnything=2\n", "5.8.6") ==
        std::vector<std::string>{"Container.Bogus= (not in ztagent's key table)"});
}

TEST_CASE("units: the Quadlet network wait is ztagent's below podman 5.3 and podman's own from 5.3",
          "[checks][units]") {
  const std::string wait = "/home/ztnet/.config/systemd/user/ztnet-wait-network-online.service";
  for (const std::string podman : {"4.6.0", "4.9.3", "5.2.5"}) {
    INFO(podman);
    const auto r = render_for("debian-13", podman, SecretStore::podman);
    const auto* unit = file_named(r, wait);
    REQUIRE(unit != nullptr);
    CHECK(has_line(unit->content, "Type=oneshot"));
    CHECK(has_line(unit->content, "RemainAfterExit=yes"));
    CHECK(has_line(unit->content, "TimeoutStartSec=90s"));
    CHECK(has_line(unit->content,
                   "ExecStart=/bin/sh -c 'until systemctl is-active --quiet network-online.target; do sleep "
                   "0.5; done'"));
    // Every pod and container unit wants it and starts after it.
    std::size_t ordered = 0;
    for (const auto& f : r.files) {
      if (f.kind != zt::checks::ManagedFile::Kind::unit || f.path == wait) {
        continue;
      }
      INFO(f.path);
      CHECK(has_line(f.content, "Wants=ztnet-wait-network-online.service"));
      CHECK(has_line(f.content, "After=ztnet-wait-network-online.service"));
      ++ordered;
    }
    CHECK(ordered == 5);
  }
  // From 5.3 podman's own; classic units (slirp4netns, podman < 4.6) need none.
  for (const std::string podman : {"4.3.1", "4.5.1", "5.3.0", "5.4.2", "5.8.6"}) {
    INFO(podman);
    const auto r = render_for("debian-13", podman, SecretStore::podman);
    CHECK(file_named(r, wait) == nullptr);
    for (const auto& f : r.files) {
      CHECK(f.content.find("wait-network-online") == std::string::npos);
    }
  }
  CHECK(zt::checks::network_wait_service(zt::test::units_spec_for("debian-13").stack, "5.3.0") ==
        "podman-user-wait-network-online.service");
}

TEST_CASE("units: every unit that may pull has a 900 s start timeout", "[checks][units]") {
  for (const std::string podman : {"4.3.1", "4.9.3", "5.4.2"}) {
    INFO(podman);
    const auto r = render_for("ubuntu-24.04", podman, SecretStore::podman);
    for (const auto& f : r.files) {
      if (f.kind != zt::checks::ManagedFile::Kind::unit || f.path.ends_with("-wait-network-online.service")) {
        continue;
      }
      INFO(f.path);
      CHECK(has_line(f.content, "TimeoutStartSec=900"));
    }
  }
}

TEST_CASE("units: the 4.6-4.9 pod unit is podman 4.9's own pod unit shape", "[checks][units]") {
  const auto r = render_for("ubuntu-24.04", "4.9.3", SecretStore::podman);
  const auto* pod = file_named(r, "/ztnet-pod.service");
  REQUIRE(pod != nullptr);
  const std::string& c = pod->content;
  CHECK(has_line(c, "Type=forking"));
  CHECK(has_line(c, "PIDFile=%t/ztnet-pod.pid"));
  CHECK(has_line(c, "Restart=on-failure"));
  CHECK(has_line(c, "    --infra-conmon-pidfile %t/ztnet-pod.pid \\"));
  CHECK(has_line(c, "    --pod-id-file %t/ztnet-pod.pod-id \\"));
  CHECK(has_line(c, "    --exit-policy=stop \\"));
  CHECK(has_line(c, "    --replace \\"));
  CHECK(has_line(c, "ExecStart=/usr/bin/podman pod start --pod-id-file %t/ztnet-pod.pod-id"));
  CHECK(has_line(c, "ExecStop=/usr/bin/podman pod stop --ignore --pod-id-file %t/ztnet-pod.pod-id -t 10"));
  CHECK(has_line(c, "ExecStopPost=/usr/bin/podman pod rm --ignore -f --pod-id-file %t/ztnet-pod.pod-id"));
  CHECK_FALSE(has_line(c, "Type=oneshot"));
  // Its containers are bound to it, as podman binds a pod's container units.
  for (const auto& f : r.files) {
    if (f.path.ends_with(".container")) {
      INFO(f.path);
      CHECK(has_line(f.content, "BindsTo=ztnet-pod.service"));
      CHECK(has_line(f.content, "After=ztnet-pod.service"));
    }
  }
  // Debian 12's classic pod unit stays a oneshot (systemd 252 refused the infra conmon's PID file).
  const auto classic = render_for("debian-12", "4.3.1", SecretStore::podman);
  const auto* classic_pod = file_named(classic, "/ztnet-pod.service");
  REQUIRE(classic_pod != nullptr);
  CHECK(has_line(classic_pod->content, "Type=oneshot"));
}

TEST_CASE("units: rendering for a podman whose Quadlet lacks a key is refused", "[checks][units]") {
  const auto spec = zt::test::units_spec_for("ubuntu-24.04");
  // Never chosen by style_for_podman; a guard against a style/version mix-up.
  UnitsContext ctx{zt::test::ztnet_account(), "4.5.1", UnitStyle::quadlet_container, SecretStore::podman};
  auto r = render_units(spec, ctx);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == zt::Errc::unsupported);
  CHECK(r.error().message == "units: /home/ztnet/.config/containers/systemd/ztnet-postgres.container: the "
                             "Quadlet of podman 4.5.1 does not know Container.AutoUpdate= (podman >= 4.6)");
}

TEST_CASE("packages: apt that cannot find a package on Ubuntu says how to enable universe",
          "[provisioners][packages]") {
  auto hinted = zt::provisioners::with_universe_hint(
      zt::Error{zt::Errc::command_failed, "packages: apt-get install failed (exit 100): E: Unable to locate "
                                          "package passt"});
  CHECK(hinted.message == "packages: apt-get install failed (exit 100): E: Unable to locate package passt; on "
                          "Ubuntu podman, passt and catatonit are in the 'universe' component: enable it "
                          "(add-apt-repository universe, or add universe to Components: in "
                          "/etc/apt/sources.list.d/ubuntu.sources), run apt-get update, then re-run");
  auto candidate = zt::provisioners::with_universe_hint(zt::Error{
      zt::Errc::command_failed, "packages: apt-get install failed (exit 100): E: Package 'catatonit' has no "
                                "installation candidate"});
  CHECK(candidate.message.find("'universe' component") != std::string::npos);
  auto other = zt::provisioners::with_universe_hint(
      zt::Error{zt::Errc::command_failed, "packages: apt-get install failed (exit 100): E: disk full"});
  CHECK(other.message == "packages: apt-get install failed (exit 100): E: disk full");
}
