// SPDX-License-Identifier: Apache-2.0
#pragma once

// The representative report and golden-file helper shared by report_test.cpp and
// monitoring_test.cpp: every format is rendered from the same report.

#include "report/report.hpp"

#include "support/catch.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

namespace zt::test {

// ---- a representative report ------------------------------------------------------------------

inline zt::report::Report representative_report() {
  using zt::checks::Outcome;
  using zt::report::CheckReport;
  using zt::report::Report;
  using zt::report::StepReport;
  using zt::report::StepStatus;
  Report report;
  report.command = "provision";
  report.profile = "debian-12";
  report.root = "/tmp/zt root";
  report.started_at = "2026-11-22T05:00:00Z";
  report.duration_s = 0.031;
  report.steps = {
      StepReport{"subids",
                 StepStatus::changed,
                 {{"/etc/subuid", "add ztnet:165536:65536"}, {"/etc/subgid", "add ztnet:165536:65536"}},
                 0.002,
                 {}},
      StepReport{"sysctl", StepStatus::unchanged, {}, 0.0001, {}},
      StepReport{"containers-conf",
                 StepStatus::would_change,
                 {{"/etc/containers/containers.conf",
                   "set \"network_backend\" = <netavark> & 'restart'"}},
                 0.0125,
                 {}},
      StepReport{"linger",
                 StepStatus::failed,
                 {},
                 0.25,
                 "linger: loginctl enable-linger ztnet exited 1: Failed to connect to bus\n"
                 "run it on a host with systemd"},
      StepReport{"firewall", StepStatus::failed, {}, 0.004, "firewall: nft not found; install nftables"},
      StepReport{"quadlet", StepStatus::skipped, {}, 0, "skipped: an earlier step failed"},
  };
  report.checks = {
      CheckReport{"preflight.podman-version", "preflight", Outcome::pass, ">= 4.3", "4.3.1", {}, 0.000123, {}, {}},
      CheckReport{"preflight.kernel-ping", "preflight", Outcome::skip, "ping_group_range set",
                  "live kernel state is not checked under --root", {}, 0.000001, {}, {}},
      CheckReport{"subids.subuid-range", "subids", Outcome::pass, "ztnet:165536:65536",
                  "ztnet:165536:65536", {}, 0.0004, {}, {}},
      CheckReport{"containers-conf.network-backend", "containers-conf", Outcome::fail,
                  "network_backend = \"netavark\"", "<missing> & 'cni'",
                  "run `ztagent provision` or edit /etc/containers/containers.conf", 0.0002, {}, {}},
      CheckReport{"linger.enabled", "linger", Outcome::error, "linger enabled for ztnet",
                  "cannot read /var/lib/systemd/linger:\nPermission denied", {}, 0.00005, {}, {}},
      CheckReport{"subids.subgid-range", "subids", Outcome::fail, "ztnet:165536:65536",
                  "Grüße \xE2\x9C\x93 tab\there bell\x07 bad\xFF byte", "fix the \x1b[31mfile", 1.5, {}, {}},
  };
  return report;
}

// ---- golden files -----------------------------------------------------------------------------

inline std::string golden_path(std::string_view name) {
  return std::string(ZT_TEST_DATA_DIR) + "/report/" + std::string(name);
}

inline void check_golden(std::string_view name, const std::string& actual) {
  const std::string path = golden_path(name);
  const char* update = std::getenv("ZTAGENT_UPDATE_GOLDEN");
  if (update != nullptr && std::string_view(update) == "1") {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << actual;
    REQUIRE(out.good());
    WARN("updated golden file " << path);
    return;
  }
  std::ifstream in(path, std::ios::binary);
  INFO("golden file " << path << " (regenerate with ZTAGENT_UPDATE_GOLDEN=1)");
  REQUIRE(in.good());
  std::ostringstream expected;
  expected << in.rdbuf();  // not istreambuf_iterator: GCC 12 -Wnull-dereference false positive
  CHECK(actual == expected.str());
}

} // namespace zt::test
