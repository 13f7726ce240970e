// SPDX-License-Identifier: Apache-2.0
// The rendered Quadlet files judged by real podman generators, not by golden files. Generators are
// taken from ZTAGENT_QUADLET_GENERATORS (':'-separated paths, e.g. a quadlet built from podman
// v4.9.3 and the ones extracted from Debian's podman 5.4.2 and 5.8.6 packages, docs/podman-4.9.md)
// and from /usr/libexec/podman/quadlet when installed; skipped when there is none. Each one renders
// the styles of its own version (`quadlet -version`) for every shipped profile, runs
// `quadlet -dryrun -user` on them and applies the units step's own verdict (every service
// generated, no warning), then looks at what the generator made of the network wait and the pod.
#include "../checks/units_fixture.hpp"
#include "host/command_runner.hpp"
#include "provisioners/units.hpp"
#include "support/catch.hpp"
#include "util/strings.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

using zt::checks::SecretStore;
using zt::checks::UnitStyle;

namespace {

std::vector<std::string> generators() {
  std::vector<std::string> out;
  if (const char* env = std::getenv("ZTAGENT_QUADLET_GENERATORS"); env != nullptr) {
    for (auto part : zt::util::split(env, ':')) {
      if (!part.empty()) {
        out.emplace_back(part);
      }
    }
  }
  if (std::filesystem::exists("/usr/libexec/podman/quadlet")) {
    out.emplace_back("/usr/libexec/podman/quadlet");
  }
  return out;
}

zt::host::Command command(std::vector<std::string> argv) {
  zt::host::Command cmd;
  cmd.argv = std::move(argv);
  return cmd;
}

zt::host::CommandResult run(zt::host::CommandRunner& runner, const zt::host::Command& cmd) {
  auto r = runner.run(cmd);
  REQUIRE(r);
  return *r;
}

} // namespace

TEST_CASE("units: real Quadlet generators accept every profile's files", "[provisioners][units][generator]") {
  const auto found = generators();
  if (found.empty()) {
    ZT_SKIP("no Quadlet generator (set ZTAGENT_QUADLET_GENERATORS, see docs/podman-4.9.md)");
  }
  zt::host::RealCommandRunner runner(zt::host::RunnerPolicy{});
  for (const auto& generator : found) {
    INFO(generator);
    REQUIRE(std::filesystem::exists(generator));
    const auto version_run = run(runner, command({generator, "-version"}));
    if (version_run.exit_code != 0) {
      WARN(generator << ": no -version (Quadlet before 4.5?): not judged");
      continue;
    }
    const std::string version(zt::util::trim(version_run.out));
    auto style = zt::checks::style_for_podman(version);
    REQUIRE(style);
    if (*style == UnitStyle::classic) {
      continue; // classic units are not Quadlet's input
    }
    for (const std::string profile : {"ubuntu-24.04", "debian-12", "debian-13", "fedora-41"}) {
      for (auto store : {SecretStore::podman, SecretStore::files}) {
        INFO("podman " << version << ", profile " << profile << ", " << zt::checks::to_string(store));
        const auto spec = zt::test::units_spec_for(profile);
        const zt::checks::UnitsContext ctx{zt::test::ztnet_account(), version, *style, store};
        auto rendered = zt::checks::render_units(spec, ctx);
        REQUIRE(rendered);
        const auto dir = std::filesystem::temp_directory_path() /
                         ("ztagent-quadlet-" + std::to_string(::getpid()) + "-" + version);
        std::filesystem::remove_all(dir);
        std::filesystem::create_directories(dir);
        std::size_t inputs = 0;
        for (const auto& f : rendered->files) {
          if (f.path.ends_with(".container") || f.path.ends_with(".pod")) {
            std::ofstream(dir / std::filesystem::path(f.path).filename(), std::ios::binary) << f.content;
            ++inputs;
          }
        }
        zt::host::Command cmd = command({generator, "-dryrun", "-user"});
        cmd.env.emplace_back("QUADLET_UNIT_DIRS", dir.string());
        const auto result = run(runner, cmd);
        std::filesystem::remove_all(dir);
        INFO(result.err);
        const auto services = zt::provisioners::quadlet_generated_services(spec.stack, *style);
        CHECK(inputs == services.size());
        auto verdict = zt::provisioners::judge_quadlet_dryrun(services, result);
        INFO((verdict ? std::string("accepted") : verdict.error().message));
        CHECK(verdict);
        // What the generator made of it: the network wait on every service (ztagent's below 5.3,
        // the one Quadlet adds itself from 5.3) and every container bound to the pod unit.
        const std::string wait = zt::checks::network_wait_service(spec.stack, version);
        std::size_t waits = 0;
        std::size_t bound = 0;
        for (auto line : zt::util::lines(result.out)) {
          waits += line == "After=" + wait ? 1 : 0;
          bound += line == "BindsTo=ztnet-pod.service" ? 1 : 0;
        }
        CHECK(waits >= services.size());
        CHECK(bound == spec.stack.containers.size());
      }
    }
  }
}
