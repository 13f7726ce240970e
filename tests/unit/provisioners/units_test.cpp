// SPDX-License-Identifier: Apache-2.0
#include "../checks/units_fixture.hpp"
#include "provisioners/units.hpp"
#include "support/catch.hpp"
#include "support/fake_runner.hpp"
#include "support/temp_root.hpp"

#include <filesystem>
#include <string>
#include <sys/stat.h>
#include <vector>

using zt::checks::Outcome;
using zt::checks::UnitStyle;
using zt::provisioners::Change;
using zt::provisioners::Units;

namespace {

const std::string k_home = "/home/ztnet";
const std::string k_user_dir = "/home/ztnet/.config/systemd/user";
const std::string k_quadlet_dir = "/home/ztnet/.config/containers/systemd";
const std::string k_dropin = "/etc/systemd/system/user@999.service.d/ztagent-ztnet.conf";

void require_checks_pass(const zt::host::HostView& view, const zt::checks::UnitsSpec& spec) {
  for (const auto& check : zt::checks::make_units_checks(spec)) {
    auto r = check->run(view);
    INFO(check->id() << ": " << r.actual);
    CHECK(r.outcome == Outcome::pass);
  }
}

} // namespace

TEST_CASE("Units: writes classic units for podman 4.3.1, then is a no-op", "[provisioners][units]") {
  zt::test::TempRoot root;
  zt::test::prepare_units_root(root, "4.3.1+ds1-8+deb12u1");
  zt::test::FakeRunner runner; // --root: no validation commands
  auto host = root.host(runner);
  const auto spec = zt::test::units_spec_for("debian-12");
  Units step{spec};

  auto plan = step.plan(host.view());
  REQUIRE(plan);
  CHECK(
      plan->changes ==
      std::vector<Change>{
          {"/home/ztnet/.config", "create directory 0755"},
          {"/home/ztnet/.config/systemd", "create directory 0755"},
          {k_user_dir, "create directory 0755"},
          {"/etc/systemd", "create directory 0755"},
          {"/etc/systemd/system", "create directory 0755"},
          {"/etc/systemd/system/user@999.service.d", "create directory 0755"},
          {"/opt/ztnet-data/caddy", "create directory 0755"},
          {"/home/ztnet/.config/systemd/user/default.target.wants", "create directory 0755"},
          {"/home/ztnet/.config/systemd/user/timers.target.wants", "create directory 0755"},
          {k_user_dir + "/ztnet-pod.service", "write (new)"},
          {k_user_dir + "/ztnet-postgres.service", "write (new)"},
          {k_user_dir + "/ztnet-zerotier.service", "write (new)"},
          {k_user_dir + "/ztnet-ztnet.service", "write (new)"},
          {k_user_dir + "/ztnet-caddy.service", "write (new)"},
          {k_dropin, "write (new)"},
          {"/opt/ztnet-data/caddy/Caddyfile", "write (new)"},
          {k_user_dir + "/default.target.wants/ztnet-pod.service", "link -> ../ztnet-pod.service"},
          {k_user_dir + "/default.target.wants/ztnet-postgres.service", "link -> ../ztnet-postgres.service"},
          {k_user_dir + "/default.target.wants/ztnet-zerotier.service", "link -> ../ztnet-zerotier.service"},
          {k_user_dir + "/default.target.wants/ztnet-ztnet.service", "link -> ../ztnet-ztnet.service"},
          {k_user_dir + "/default.target.wants/ztnet-caddy.service", "link -> ../ztnet-caddy.service"},
          {k_user_dir + "/timers.target.wants/podman-auto-update.timer",
           "link -> /usr/lib/systemd/user/podman-auto-update.timer"},
      });
  REQUIRE(step.apply(host, *plan));
  CHECK(runner.calls().empty());

  auto again = step.plan(host.view());
  REQUIRE(again);
  CHECK(again->empty());
  require_checks_pass(host.view(), spec);

  auto dir = host.fs().lstat(k_user_dir);
  REQUIRE(dir);
  CHECK(dir->mode == 0755);
  CHECK(dir->uid == 999);
  auto caddy = host.fs().lstat("/opt/ztnet-data/caddy");
  REQUIRE(caddy);
  CHECK(caddy->uid == 999);
  CHECK(caddy->gid == 999);
  auto link = host.fs().lstat(k_user_dir + "/default.target.wants/ztnet-pod.service");
  REQUIRE(link);
  CHECK(link->uid == 999);
  // The user manager's drop-in and the directories made for it are root's: the service user must
  // not be able to change what the system manager runs as root at its shutdown.
  for (const std::string& path : {k_dropin, std::string("/etc/systemd/system/user@999.service.d"),
                                 std::string("/etc/systemd")}) {
    auto st = host.fs().lstat(path);
    REQUIRE(st);
    INFO(path);
    CHECK(st->uid == 0);
    CHECK(st->gid == 0);
  }
  const std::string dropin = zt::test::read_text_file(root.real(k_dropin));
  CHECK(dropin.find("\nExecStop=-+/usr/sbin/runuser -u ztnet -- /usr/bin/env XDG_RUNTIME_DIR=/run/user/999 "
                    "/usr/bin/systemctl --user stop ztnet-pod.service\n") != std::string::npos);
}

TEST_CASE("Units: second run plans nothing and runs no mutating command", "[provisioners][units]") {
  zt::test::TempRoot root;
  zt::test::prepare_units_root(root, "5.4.2+ds1-1");
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  const auto spec = zt::test::units_spec_for("debian-13");
  Units step{spec};
  auto first = step.plan(host.view());
  REQUIRE(first);
  REQUIRE(step.apply(host, *first));
  require_checks_pass(host.view(), spec);

  struct stat before {};
  REQUIRE(::lstat(root.real(k_quadlet_dir + "/ztnet.pod").c_str(), &before) == 0);
  auto plan = step.plan(host.view());
  REQUIRE(plan);
  CHECK(plan->empty());
  REQUIRE(step.apply(host, *plan));
  struct stat after {};
  REQUIRE(::lstat(root.real(k_quadlet_dir + "/ztnet.pod").c_str(), &after) == 0);
  CHECK(before.st_ino == after.st_ino); // not rewritten
  CHECK(runner.mutating_calls() == 0);
  CHECK(runner.calls().empty());
}

TEST_CASE("Units: dry run leaves disk and runner untouched", "[provisioners][units]") {
  zt::test::TempRoot root;
  zt::test::prepare_units_root(root, "4.9.3+ds1-1ubuntu0.2");
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  Units step{zt::test::units_spec_for("ubuntu-24.04")};
  auto plan = step.plan(host.view());
  REQUIRE(plan);
  CHECK(plan->changes.size() == 17); // 8 directories, 7 files (with the network wait), 2 links
  CHECK_FALSE(root.exists("/home/ztnet/.config"));
  CHECK_FALSE(root.exists("/opt/ztnet-data/caddy"));
  CHECK(runner.calls().empty());
}

TEST_CASE("Units: podman upgrade replaces classic units, removes only the stack's stale names",
          "[provisioners][units]") {
  zt::test::TempRoot root;
  zt::test::prepare_units_root(root, "4.3.1+ds1-8+deb12u1");
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  const auto spec = zt::test::units_spec_for("ubuntu-24.04");
  Units step{spec};
  auto classic = step.plan(host.view());
  REQUIRE(classic);
  REQUIRE(step.apply(host, *classic));
  root.write(k_user_dir + "/unrelated.service", "[Service]\nExecStart=/bin/true\n");

  root.write("/var/lib/dpkg/status", zt::test::dpkg_status_with_podman("4.9.3+ds1-1ubuntu0.2"));
  auto style = zt::checks::make_units_checks(spec).back()->run(host.view());
  CHECK(style.actual == "podman 4.9.3 needs quadlet-container units, found classic files");

  auto plan = step.plan(host.view());
  REQUIRE(plan);
  CHECK(plan->changes == std::vector<Change>{
                             {"/home/ztnet/.config/containers", "create directory 0755"},
                             {k_quadlet_dir, "create directory 0755"},
                             {k_user_dir + "/ztnet-pod.service", "rewrite (content differs)"},
                             {k_quadlet_dir + "/ztnet-postgres.container", "write (new)"},
                             {k_quadlet_dir + "/ztnet-zerotier.container", "write (new)"},
                             {k_quadlet_dir + "/ztnet-ztnet.container", "write (new)"},
                             {k_quadlet_dir + "/ztnet-caddy.container", "write (new)"},
                             {k_user_dir + "/ztnet-wait-network-online.service", "write (new)"},
                             {k_user_dir + "/ztnet-postgres.service",
                              "remove (stale: not a quadlet-container unit for podman 4.9.3)"},
                             {k_user_dir + "/ztnet-zerotier.service",
                              "remove (stale: not a quadlet-container unit for podman 4.9.3)"},
                             {k_user_dir + "/ztnet-ztnet.service",
                              "remove (stale: not a quadlet-container unit for podman 4.9.3)"},
                             {k_user_dir + "/ztnet-caddy.service",
                              "remove (stale: not a quadlet-container unit for podman 4.9.3)"},
                             {k_user_dir + "/default.target.wants/ztnet-postgres.service",
                              "remove (stale: not a quadlet-container unit for podman 4.9.3)"},
                             {k_user_dir + "/default.target.wants/ztnet-zerotier.service",
                              "remove (stale: not a quadlet-container unit for podman 4.9.3)"},
                             {k_user_dir + "/default.target.wants/ztnet-ztnet.service",
                              "remove (stale: not a quadlet-container unit for podman 4.9.3)"},
                             {k_user_dir + "/default.target.wants/ztnet-caddy.service",
                              "remove (stale: not a quadlet-container unit for podman 4.9.3)"},
                             {k_dropin, "remove (stale: not a quadlet-container unit for podman 4.9.3)"},
                         });
  REQUIRE(step.apply(host, *plan));
  auto again = step.plan(host.view());
  REQUIRE(again);
  CHECK(again->empty());
  require_checks_pass(host.view(), spec);
  CHECK(root.exists(k_user_dir + "/unrelated.service"));
  CHECK_FALSE(root.exists(k_user_dir + "/ztnet-caddy.service"));
  CHECK_FALSE(root.exists(k_dropin));
}

TEST_CASE("Units: repairs drifted owner, mode, content and links", "[provisioners][units]") {
  zt::test::TempRoot root;
  zt::test::prepare_units_root(root, "5.4.2+ds1-1");
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  const auto spec = zt::test::units_spec_for("debian-13");
  Units step{spec};
  auto first = step.plan(host.view());
  REQUIRE(first);
  REQUIRE(step.apply(host, *first));

  const std::string pod = k_quadlet_dir + "/ztnet.pod";
  const std::string timer = k_user_dir + "/timers.target.wants/podman-auto-update.timer";
  REQUIRE(host.fs().set_mode(pod, 0600));
  REQUIRE(host.fs().set_owner(pod, 0, 0));
  root.append(k_quadlet_dir + "/ztnet-caddy.container", "# local edit\n");
  REQUIRE(host.fs().make_symlink(timer, "/dev/null", 999, 999));

  auto plan = step.plan(host.view());
  REQUIRE(plan);
  CHECK(plan->changes ==
        std::vector<Change>{
            {pod, "rewrite (owner root:root -> ztnet:ztnet, mode 0600 -> 0644)"},
            {k_quadlet_dir + "/ztnet-caddy.container", "rewrite (content differs)"},
            {timer, "relink -> /usr/lib/systemd/user/podman-auto-update.timer (was /dev/null)"},
        });
  REQUIRE(step.apply(host, *plan));
  auto again = step.plan(host.view());
  REQUIRE(again);
  CHECK(again->empty());
  require_checks_pass(host.view(), spec);
}

TEST_CASE("Units: failures give exact messages", "[provisioners][units]") {
  zt::test::TempRoot root;
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  auto spec = zt::test::units_spec_for("debian-12");

  SECTION("the user does not exist yet") {
    Units step{spec};
    auto plan = step.plan(host.view());
    REQUIRE(plan);
    CHECK(plan->changes ==
          std::vector<Change>{{"units", "write the stack's units (blocked: user ztnet does not "
                                        "exist (run the user step first))"}});
    auto applied = step.apply(host, *plan);
    REQUIRE_FALSE(applied);
    CHECK(applied.error().code == zt::Errc::not_found);
    CHECK(applied.error().message == "units: user ztnet does not exist (run the user step first)");
  }
  SECTION("podman is not installed") {
    root.add_user("ztnet", 999, 999, k_home);
    Units step{spec};
    auto applied = step.apply(host, {});
    REQUIRE_FALSE(applied);
    CHECK(applied.error().message ==
          "units: podman: not installed (run `ztagent provision --only packages`)");
  }
  SECTION("data_root does not exist yet") {
    zt::test::prepare_units_root(root, "4.3.1+ds1-8+deb12u1");
    std::filesystem::remove(root.real("/opt/ztnet-data"));
    Units step{spec};
    auto plan = step.plan(host.view());
    REQUIRE(plan);
    CHECK(std::find(plan->changes.begin(), plan->changes.end(),
                    Change{"/opt/ztnet-data/caddy/Caddyfile", "write (new) once /opt/ztnet-data exists"}) !=
          plan->changes.end());
    auto applied = step.apply(host, *plan);
    REQUIRE_FALSE(applied);
    CHECK(applied.error().message ==
          "units: /opt/ztnet-data does not exist (run the user and data steps first)");
    CHECK_FALSE(root.exists("/home/ztnet/.config"));
  }
  SECTION("a symlink where a unit goes") {
    zt::test::prepare_units_root(root, "4.3.1+ds1-8+deb12u1");
    root.mkdir(k_user_dir);
    std::filesystem::create_symlink("/etc/passwd", root.real(k_user_dir + "/ztnet-pod.service"));
    Units step{spec};
    auto plan = step.plan(host.view());
    REQUIRE_FALSE(plan);
    CHECK(plan.error().code == zt::Errc::refused);
    CHECK(plan.error().message == "units: " + k_user_dir +
                                      "/ztnet-pod.service is a symlink, not a regular file; ztagent does not "
                                      "replace it: move it away and re-run");
  }
  SECTION("a symlinked directory on the way") {
    zt::test::prepare_units_root(root, "4.3.1+ds1-8+deb12u1");
    root.mkdir("/tmp/elsewhere");
    std::filesystem::create_directory_symlink(root.real("/tmp/elsewhere"), root.real("/home/ztnet/.config"));
    Units step{spec};
    auto plan = step.plan(host.view());
    REQUIRE_FALSE(plan);
    CHECK(plan.error().code == zt::Errc::refused);
    // The first lookup below it (the secret store's directory) already refuses.
    CHECK(plan.error().message ==
          "units: /home/ztnet/.config/ztagent/secrets: refusing to follow symlink at /home/ztnet/.config");
    CHECK(std::filesystem::is_empty(root.real("/tmp/elsewhere")));
  }
  SECTION("a regular file where an enablement link goes") {
    zt::test::prepare_units_root(root, "4.3.1+ds1-8+deb12u1");
    root.write(k_user_dir + "/timers.target.wants/podman-auto-update.timer", "");
    Units step{spec};
    auto plan = step.plan(host.view());
    REQUIRE_FALSE(plan);
    CHECK(plan.error().message ==
          "units: " + k_user_dir +
              "/timers.target.wants/podman-auto-update.timer is a regular file, not a "
              "symlink; ztagent does not replace it: move it away and re-run");
  }
  SECTION("a stack that cannot be rendered") {
    zt::test::prepare_units_root(root, "4.3.1+ds1-8+deb12u1");
    spec.stack.containers[1].after = {"zerotier"};
    Units step{spec};
    auto plan = step.plan(host.view());
    REQUIRE_FALSE(plan);
    CHECK(plan.error().code == zt::Errc::invalid_config);
    CHECK(plan.error().message ==
          "units: container zerotier: after = 'zerotier' is not another container of the stack");
  }
}

// ---- validation ---------------------------------------------------------------------------------

TEST_CASE("Units validation: commands and verdicts", "[provisioners][units]") {
  const auto account = zt::test::ztnet_account();
  const auto stack = zt::test::units_spec_for("debian-12").stack;

  auto dry = zt::provisioners::quadlet_dryrun_command(
      account, "/usr/lib/systemd/system-generators/podman-system-generator", k_quadlet_dir);
  CHECK(dry.argv == std::vector<std::string>{"runuser", "-u", "ztnet", "--",
                                             "/usr/lib/systemd/system-generators/podman-system-generator",
                                             "--user", "--dryrun"});
  CHECK(dry.effect == zt::host::Effect::read_only);
  CHECK(std::find(dry.env.begin(), dry.env.end(),
                  std::pair<std::string, std::string>{"QUADLET_UNIT_DIRS", k_quadlet_dir}) != dry.env.end());

  const auto services = zt::provisioners::quadlet_generated_services(stack, UnitStyle::quadlet_container);
  CHECK(services == std::vector<std::string>{"ztnet-postgres.service", "ztnet-zerotier.service",
                                             "ztnet-ztnet.service", "ztnet-caddy.service"});
  CHECK(zt::provisioners::quadlet_generated_services(stack, UnitStyle::quadlet_pod).front() ==
        "ztnet-pod.service");

  std::string all_generated;
  for (const auto& s : services) {
    all_generated += "---" + s + "---\n[Service]\n";
  }
  CHECK(zt::provisioners::judge_quadlet_dryrun(services, zt::host::CommandResult{0, all_generated, ""}));

  auto rejected = zt::provisioners::judge_quadlet_dryrun(
      services, zt::host::CommandResult{1, "",
                                        "quadlet-generator[1]: converting \"ztnet-caddy.container\": "
                                        "unsupported key 'Bogus' in group 'Container'\n"});
  REQUIRE_FALSE(rejected);
  CHECK(rejected.error().code == zt::Errc::command_failed);
  CHECK(rejected.error().message ==
        "units: the Quadlet generator rejected the units (exit 1): "
        "quadlet-generator[1]: converting \"ztnet-caddy.container\": unsupported key "
        "'Bogus' in group 'Container'");

  auto skipped = zt::provisioners::judge_quadlet_dryrun(
      services, zt::host::CommandResult{0, "---ztnet-postgres.service---\n", "some warning\n"});
  REQUIRE_FALSE(skipped);
  CHECK(skipped.error().message ==
        "units: the Quadlet generator did not generate ztnet-zerotier.service: some warning");

  const std::vector<std::string> files = {k_user_dir + "/ztnet-pod.service",
                                          k_user_dir + "/ztnet-caddy.service"};
  auto verify = zt::provisioners::verify_command(account, files);
  CHECK(verify.argv == std::vector<std::string>{"runuser", "-u", "ztnet", "--", "systemd-analyze", "--user",
                                                "verify", files[0], files[1]});
  CHECK(zt::provisioners::judge_verify(files, zt::host::CommandResult{0, "", ""}));
  auto warned = zt::provisioners::judge_verify(
      files, zt::host::CommandResult{
                 0, "", files[1] + ":12: Unknown key 'Bogus' in section [Service], ignoring.\n"});
  REQUIRE_FALSE(warned);
  CHECK(warned.error().message == "units: systemd-analyze --user verify rejected the units: " + files[1] +
                                      ":12: Unknown key 'Bogus' in section [Service], ignoring.");
  auto failed =
      zt::provisioners::judge_verify(files, zt::host::CommandResult{1, "", "Failed to initialize manager\n"});
  REQUIRE_FALSE(failed);
  CHECK(failed.error().message ==
        "units: systemd-analyze --user verify rejected the units (exit 1): Failed to initialize manager");
  auto not_started =
      zt::provisioners::judge_verify(files, zt::Result<zt::host::CommandResult>(std::unexpected(
                                                zt::Error{zt::Errc::timeout, "timed out after 60s"})));
  REQUIRE_FALSE(not_started);
  CHECK(not_started.error().message == "units: cannot run systemd-analyze: timed out after 60s");
}

TEST_CASE("Units validation: the tree's own generator under --root, no generator on a live host is an error",
          "[provisioners][units]") {
  const auto account = zt::test::ztnet_account();
  const auto spec = zt::test::units_spec_for("ubuntu-24.04");
  zt::checks::UnitsContext ctx{account, "4.9.3", UnitStyle::quadlet_container,
                               zt::checks::SecretStore::podman};
  auto rendered = zt::checks::render_units(spec, ctx);
  REQUIRE(rendered);

  zt::test::TempRoot root;
  zt::test::FakeRunner runner;
  auto image = root.host(runner);
  // A tree without podman's generator: nothing to run it with (a warning says so), not an error.
  CHECK(zt::provisioners::validate_units(image.view(), runner, spec.stack, ctx, *rendered));
  CHECK(runner.calls().empty());

  // A tree with it: the tree's generator runs inside the tree and its verdict is the step's.
  root.write("/usr/libexec/podman/quadlet", "#!/bin/false\n");
  const auto dry = zt::provisioners::quadlet_dryrun_in_tree_command(root.path().string(),
                                                                    "/usr/libexec/podman/quadlet", k_quadlet_dir);
  CHECK(dry.argv == std::vector<std::string>{"chroot", root.path().string(), "/usr/libexec/podman/quadlet",
                                             "--user", "--dryrun"});
  CHECK(dry.effect == zt::host::Effect::read_only);
  CHECK(dry.scope == zt::host::Scope::target_root);
  CHECK(std::find(dry.env.begin(), dry.env.end(),
                  std::pair<std::string, std::string>{"QUADLET_UNIT_DIRS", k_quadlet_dir}) != dry.env.end());
  std::string all_generated;
  for (const auto& s : zt::provisioners::quadlet_generated_services(spec.stack, ctx.style)) {
    all_generated += "---" + s + "---\n[Service]\n";
  }
  runner.on(dry.argv, zt::host::CommandResult{0, all_generated,
                                              "quadlet-generator[7]: Loading source unit file " + k_quadlet_dir +
                                                  "/ztnet-caddy.container\n"});
  CHECK(zt::provisioners::validate_units(image.view(), runner, spec.stack, ctx, *rendered));
  CHECK(runner.calls().size() == 1);

  zt::test::FakeRunner warning_runner;
  auto warned_image = root.host(warning_runner);
  warning_runner.on(dry.argv,
                    zt::host::CommandResult{0, all_generated,
                                            "quadlet-generator[7]: Warning: ztnet-caddy.container specifies the "
                                            "image \"caddy\" which not a fully qualified image name.\n"});
  auto warned = zt::provisioners::validate_units(warned_image.view(), warning_runner, spec.stack, ctx, *rendered);
  REQUIRE_FALSE(warned);
  CHECK(warned.error().message == "units: the Quadlet generator warned: quadlet-generator[7]: Warning: "
                                  "ztnet-caddy.container specifies the image \"caddy\" which not a fully "
                                  "qualified image name.");

  zt::test::FakeRunner no_chroot;
  auto unprivileged = root.host(no_chroot);
  no_chroot.on(dry.argv, zt::host::CommandResult{125, "", "chroot: cannot change root directory to '" +
                                                              root.path().string() + "': Operation not permitted\n"});
  CHECK(zt::provisioners::validate_units(unprivileged.view(), no_chroot, spec.stack, ctx, *rendered));

  // The live host ("/"): what happens depends on this machine; without any Quadlet generator (this
  // Debian 12 build host has podman 4.3.1) the step must say so instead of passing silently.
  bool any_generator = false;
  for (const auto& g : zt::provisioners::quadlet_generators()) {
    any_generator = any_generator || std::filesystem::exists(g);
  }
  if (any_generator) {
    ZT_SKIP("a Quadlet generator is installed here");
  }
  zt::test::FakeRunner live_runner;
  zt::host::Host live(zt::host::Fs("/"), live_runner);
  auto result = zt::provisioners::validate_units(live.view(), live_runner, spec.stack, ctx, *rendered);
  REQUIRE_FALSE(result);
  CHECK(result.error().code == zt::Errc::unsupported);
  CHECK(result.error().message == "units: no Quadlet generator found (looked for "
                                  "/usr/lib/systemd/system-generators/podman-system-generator, "
                                  "/usr/lib/systemd/user-generators/podman-user-generator, "
                                  "/usr/libexec/podman/quadlet); is podman >= 4.4 "
                                  "installed?");
  CHECK(live_runner.calls().empty());
}
