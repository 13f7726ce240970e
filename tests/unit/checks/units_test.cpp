// SPDX-License-Identifier: Apache-2.0
// Unit rendering (quoting, the three styles, golden files), a real `systemd-analyze --user verify`
// of the classic units where that works, and the units checks on good and tampered trees.
//
// Golden files: tests/data/units/<style>/<profile>/ hold each rendered file by name, plus files.txt
// (host path and mode of every file) and links.txt (enablement symlinks). Regenerate with
//   ZTAGENT_UPDATE_GOLDEN=1 build-<you>/tests/ztagent_unit_tests "[units]"
// then review the diff.
#include "check_fixture.hpp"
#include "checks/units.hpp"
#include "support/catch.hpp"
#include "support/fake_runner.hpp"
#include "support/temp_root.hpp"
#include "units_fixture.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <vector>

using zt::checks::environment_assignment;
using zt::checks::Outcome;
using zt::checks::render_units;
using zt::checks::RenderedUnits;
using zt::checks::SecretStore;
using zt::checks::systemd_word;
using zt::checks::UnitsSpec;
using zt::checks::UnitStyle;

namespace {

const std::vector<std::string> k_profiles = {"debian-12", "debian-13", "fedora-41", "ubuntu-24.04"};
const std::vector<UnitStyle> k_styles = {UnitStyle::quadlet_pod, UnitStyle::quadlet_container,
                                         UnitStyle::classic};

std::string golden_dir(const std::string& sub) {
  return std::string(ZT_TEST_DATA_DIR) + "/units/" + sub;
}

std::string describe_files(const RenderedUnits& r) {
  std::string out;
  for (const auto& f : r.files) {
    out += f.path + " " + zt::util::format_mode(f.mode) + "\n";
  }
  return out;
}

std::string describe_links(const RenderedUnits& r) {
  std::string out;
  for (const auto& l : r.links) {
    out += l.path + " -> " + l.target + "\n";
  }
  return out;
}

/// Compares (or with ZTAGENT_UPDATE_GOLDEN=1 rewrites) every rendered file by its base name.
void check_golden_dir(const std::string& dir, const RenderedUnits& r) {
  std::vector<std::pair<std::string, std::string>> expected;
  for (const auto& f : r.files) {
    expected.emplace_back(std::filesystem::path(f.path).filename().string(), f.content);
  }
  expected.emplace_back("files.txt", describe_files(r));
  expected.emplace_back("links.txt", describe_links(r));

  const char* update = std::getenv("ZTAGENT_UPDATE_GOLDEN");
  if (update != nullptr && std::string_view(update) == "1") {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    for (const auto& [name, content] : expected) {
      std::ofstream out(dir + "/" + name, std::ios::binary | std::ios::trunc);
      out << content;
      REQUIRE(out.good());
    }
    WARN("updated golden files in " << dir);
    return;
  }
  std::vector<std::string> on_disk;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    on_disk.push_back(entry.path().filename().string());
  }
  std::sort(on_disk.begin(), on_disk.end());
  std::vector<std::string> names;
  for (const auto& e : expected) {
    names.push_back(e.first);
  }
  std::sort(names.begin(), names.end());
  INFO("golden dir " << dir << " (regenerate with ZTAGENT_UPDATE_GOLDEN=1)");
  CHECK(on_disk == names);
  for (const auto& [name, content] : expected) {
    INFO("golden file " << dir << "/" << name);
    CHECK(content == zt::test::read_text_file(dir + "/" + name));
  }
}

/// Writes what render_units says, as the provisioner would (owner, mode, links), into `host`.
void install(zt::host::Host& host, const RenderedUnits& r, const zt::host::Account& account) {
  for (const auto& f : r.files) {
    REQUIRE(host.fs().make_directories(std::filesystem::path(f.path).parent_path(), 0755));
    zt::host::WriteSpec spec;
    spec.mode = f.mode;
    spec.uid = account.uid;
    spec.gid = account.gid;
    REQUIRE(host.fs().write_file(f.path, f.content, spec));
  }
  for (const auto& l : r.links) {
    REQUIRE(host.fs().make_directories(std::filesystem::path(l.path).parent_path(), 0755));
    REQUIRE(host.fs().make_symlink(l.path, l.target, account.uid, account.gid));
  }
}

using zt::test::find_check;

} // namespace

TEST_CASE("units: systemd quoting of words and Environment= values", "[checks][units]") {
  struct Row {
    std::string in;
    bool exec_line;
    std::string out;
  };
  const std::vector<Row> rows = {
      {"postgres", true, "postgres"},
      {"", true, "\"\""},
      {"100%", false, "100%%"},
      {"a$b", false, "a$b"},
      {"a$b", true, "a$$b"},
      {"two words", true, "\"two words\""},
      {"say \"hi\"", true, "\"say \\\"hi\\\"\""},
      {"back\\slash", false, "\"back\\\\slash\""},
      {"a;b", true, "\"a;b\""},
      {"it's", true, "\"it's\""},
      {"%h/x", true, "%%h/x"},
  };
  for (const auto& row : rows) {
    INFO(row.in);
    auto got = systemd_word(row.in, row.exec_line);
    REQUIRE(got);
    CHECK(*got == row.out);
  }

  auto env = environment_assignment("GREETING", "hello world 100%", false);
  REQUIRE(env);
  CHECK(*env == "\"GREETING=hello world 100%%\"");
  auto quadlet = environment_assignment("PRICE", "5$ or 10% off", true);
  REQUIRE(quadlet);
  CHECK(*quadlet == "\"PRICE=5$$ or 10%% off\"");

  auto newline = systemd_word("a\nb", false);
  REQUIRE_FALSE(newline);
  CHECK(newline.error().code == zt::Errc::invalid_config);
  CHECK(newline.error().message == "contains a control character (newline?), which a unit file cannot hold");
  auto bad_key = environment_assignment("1X", "y", false);
  REQUIRE_FALSE(bad_key);
  CHECK(bad_key.error().message == "'1X' is not a valid environment variable name");
}

TEST_CASE("units: published host port follows the port strategy", "[checks][units]") {
  UnitsSpec spec;
  zt::profile::PublishedPort http{"http", 80, 80, "tcp", 8080};
  zt::profile::PublishedPort zt_port{"zerotier", 9993, 9993, "udp", 0};
  CHECK(zt::checks::published_host_port(spec.port_strategy, http) == 80);
  spec.port_strategy = zt::profile::PortStrategy::forward;
  CHECK(zt::checks::published_host_port(spec.port_strategy, http) == 8080);
  CHECK(zt::checks::published_host_port(spec.port_strategy, zt_port) == 9993);
  spec.port_strategy = zt::profile::PortStrategy::none;
  CHECK(zt::checks::published_host_port(spec.port_strategy, http) == 80);
}

TEST_CASE("units: golden files for every style and shipped profile", "[checks][units]") {
  const auto account = zt::test::ztnet_account();
  for (const auto& profile : k_profiles) {
    const UnitsSpec spec = zt::test::units_spec_for(profile);
    for (auto style : k_styles) {
      INFO(profile << " " << zt::checks::to_string(style));
      auto r = render_units(spec, account, style, SecretStore::podman);
      REQUIRE(r);
      check_golden_dir(golden_dir(std::string(zt::checks::to_string(style)) + "/" + profile), *r);
    }
  }
}

TEST_CASE("units: golden files for podman 5.0-5.2 (Quadlet pods with ztagent's network wait)", "[checks][units]") {
  const UnitsSpec spec = zt::test::units_spec_for("fedora-41");
  const zt::checks::UnitsContext ctx{zt::test::ztnet_account(), "5.2.5", UnitStyle::quadlet_pod,
                                     SecretStore::podman};
  auto r = render_units(spec, ctx);
  REQUIRE(r);
  check_golden_dir(golden_dir("variants/podman-5.2/quadlet-pod"), *r);
}

TEST_CASE("units: golden files for forwarded ports, secret files and SELinux labels", "[checks][units]") {
  const auto account = zt::test::ztnet_account();
  UnitsSpec spec = zt::test::units_spec_for("debian-12");
  spec.port_strategy = zt::profile::PortStrategy::forward;
  spec.selinux_labels = true;
  spec.stack.containers[2].env.emplace_back("MOTD", "50% off \"today\" $HOME");
  for (auto style : k_styles) {
    INFO(zt::checks::to_string(style));
    auto r = render_units(spec, account, style, SecretStore::files);
    REQUIRE(r);
    check_golden_dir(
        golden_dir("variants/forward-files-selinux/" + std::string(zt::checks::to_string(style))), *r);
  }
}

TEST_CASE("units: rendering refuses what cannot be a unit", "[checks][units]") {
  const auto account = zt::test::ztnet_account();
  UnitsSpec spec = zt::test::units_spec_for("debian-12");
  SECTION("unknown container in after") {
    spec.stack.containers[3].after = {"redis"};
    auto r = render_units(spec, account, UnitStyle::classic, SecretStore::podman);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == zt::Errc::invalid_config);
    CHECK(r.error().message ==
          "units: container caddy: after = 'redis' is not another container of the stack");
  }
  SECTION("undeclared secret") {
    spec.stack.secrets.pop_back();
    auto r = render_units(spec, account, UnitStyle::quadlet_pod, SecretStore::podman);
    REQUIRE_FALSE(r);
    CHECK(r.error().message ==
          "units: container ztnet: secret 'NEXTAUTH_SECRET' is not declared in [stack.secrets]");
  }
  SECTION("short image name") {
    spec.stack.containers[0].image = "postgres:15";
    auto r = render_units(spec, account, UnitStyle::quadlet_container, SecretStore::podman);
    REQUIRE_FALSE(r);
    CHECK(r.error().message == "units: container postgres: image 'postgres:15' is not fully qualified "
                               "(registry/name:tag); podman auto-update needs the registry");
  }
  SECTION("newline in an environment value") {
    spec.stack.containers[0].env.emplace_back("BAD", "a\nb");
    auto r = render_units(spec, account, UnitStyle::classic, SecretStore::podman);
    REQUIRE_FALSE(r);
    CHECK(r.error().message == "units: container postgres: env BAD: contains a control character (newline?), "
                               "which a unit file cannot hold");
  }
  SECTION("stack file outside data_root") {
    spec.stack.files[0].path = "../etc/passwd";
    auto r = render_units(spec, account, UnitStyle::classic, SecretStore::podman);
    REQUIRE_FALSE(r);
    CHECK(r.error().message == "units: stack file '../etc/passwd': path must be relative to data_root");
  }
}

TEST_CASE("units: unit paths per style name only the stack's units", "[checks][units]") {
  const auto account = zt::test::ztnet_account();
  const auto stack = zt::test::units_spec_for("debian-12").stack;
  CHECK(zt::checks::style_unit_paths(stack, account, UnitStyle::quadlet_pod) ==
        std::vector<std::string>{"/home/ztnet/.config/containers/systemd/ztnet.pod",
                                 "/home/ztnet/.config/containers/systemd/ztnet-postgres.container",
                                 "/home/ztnet/.config/containers/systemd/ztnet-zerotier.container",
                                 "/home/ztnet/.config/containers/systemd/ztnet-ztnet.container",
                                 "/home/ztnet/.config/containers/systemd/ztnet-caddy.container"});
  CHECK(zt::checks::style_unit_paths(stack, account, UnitStyle::classic) ==
        std::vector<std::string>{"/home/ztnet/.config/systemd/user/ztnet-pod.service",
                                 "/home/ztnet/.config/systemd/user/ztnet-postgres.service",
                                 "/home/ztnet/.config/systemd/user/ztnet-zerotier.service",
                                 "/home/ztnet/.config/systemd/user/ztnet-ztnet.service",
                                 "/home/ztnet/.config/systemd/user/ztnet-caddy.service"});
  CHECK(zt::checks::style_link_paths(stack, account, UnitStyle::quadlet_container) ==
        std::vector<std::string>{
            "/home/ztnet/.config/systemd/user/default.target.wants/ztnet-pod.service",
            "/home/ztnet/.config/systemd/user/timers.target.wants/podman-auto-update.timer"});
}

// systemd 252 here runs `systemd-analyze --user verify` without a running manager as long as
// XDG_RUNTIME_DIR points at a private directory. Skips cleanly where systemd-analyze is missing.
TEST_CASE("units: classic units pass systemd-analyze --user verify", "[checks][units][systemd-analyze]") {
  if (!std::filesystem::exists("/usr/bin/systemd-analyze") || !std::filesystem::exists("/usr/bin/podman")) {
    ZT_SKIP("systemd-analyze or podman (ExecStart= binary) not installed");
  }
  zt::test::TempRoot scratch;
  const std::string units = scratch.str() + "/units";
  const std::string runtime = scratch.str() + "/run";
  std::filesystem::create_directories(units);
  std::filesystem::create_directories(runtime);
  std::filesystem::permissions(runtime, std::filesystem::perms::owner_all);

  UnitsSpec spec = zt::test::units_spec_for("debian-12");
  spec.stack.containers[2].env.emplace_back("MOTD", "50% off \"today\" $HOME");
  for (auto store : {SecretStore::podman, SecretStore::files}) {
    auto r = render_units(spec, zt::test::ztnet_account(), UnitStyle::classic, store);
    REQUIRE(r);
    std::string args;
    for (const auto& f : r->files) {
      if (f.kind != zt::checks::ManagedFile::Kind::unit) {
        continue;
      }
      const std::string path = units + "/" + std::filesystem::path(f.path).filename().string();
      std::ofstream(path) << f.content;
      args += " " + path;
    }
    // A test may use a shell: this is the test harness, not ztagent.
    const std::string log = scratch.str() + "/verify.log";
    const std::string cmd = "cd / && XDG_RUNTIME_DIR=" + runtime +
                            " SYSTEMD_LOG_COLOR=0 systemd-analyze --user verify" + args + " >" + log +
                            " 2>&1";
    const int status = std::system(cmd.c_str());
    const std::string output = zt::test::read_text_file(log);
    INFO("store " << zt::checks::to_string(store) << ", systemd-analyze output:\n" << output);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    // Warnings ("Unknown key", "ignoring") exit 0 too: none may name our files.
    CHECK(output.find(units) == std::string::npos);
  }
}

// The classic style's drop-in for the system's user@<uid>.service, read by systemd's own parser
// together with the user@.service this host ships: nothing in it may be warned about, and a key
// systemd does not know would be (the second run shows the check can fail).
TEST_CASE("units: the user manager drop-in passes systemd-analyze verify with user@.service",
          "[checks][units][systemd-analyze]") {
  const std::string shipped = "/lib/systemd/system/user@.service";
  if (!std::filesystem::exists("/usr/bin/systemd-analyze") || !std::filesystem::exists(shipped)) {
    ZT_SKIP("systemd-analyze or " + shipped + " not installed");
  }
  auto r = render_units(zt::test::units_spec_for("debian-12"), zt::test::ztnet_account(), UnitStyle::classic,
                        SecretStore::podman);
  REQUIRE(r);
  const auto dropin = std::find_if(r->files.begin(), r->files.end(), [](const auto& f) {
    return f.kind == zt::checks::ManagedFile::Kind::user_manager_dropin;
  });
  REQUIRE(dropin != r->files.end());
  CHECK(dropin->path == "/etc/systemd/system/user@999.service.d/ztagent-ztnet.conf");
  CHECK(dropin->base_dir == "/etc");

  zt::test::TempRoot scratch;
  const std::string dir = scratch.str() + "/system";
  std::filesystem::create_directories(dir + "/user@999.service.d");
  std::filesystem::copy_file(shipped, dir + "/user@999.service");
  auto verify = [&](const std::string& content) {
    std::ofstream(dir + "/user@999.service.d/ztagent-ztnet.conf") << content;
    const std::string log = scratch.str() + "/verify.log";
    // A test may use a shell: this is the test harness, not ztagent.
    const std::string cmd = "SYSTEMD_UNIT_PATH=" + dir + ": SYSTEMD_LOG_COLOR=0 systemd-analyze verify " +
                            dir + "/user@999.service >" + log + " 2>&1";
    const int status = std::system(cmd.c_str());
    REQUIRE(WIFEXITED(status));
    return zt::test::read_text_file(log);
  };
  const std::string output = verify(dropin->content);
  INFO("systemd-analyze output:\n" << output);
  CHECK(output.find("ztagent-ztnet.conf") == std::string::npos);
  const std::string bogus = verify(dropin->content + "Bogus=1\n");
  CHECK(bogus.find("ztagent-ztnet.conf") != std::string::npos);
}

// ---- checks ---------------------------------------------------------------------------------

TEST_CASE("units checks: pass on a converged tree, fail on each tampered state", "[checks][units]") {
  zt::test::TempRoot root;
  zt::test::prepare_units_root(root, "4.9.3+ds1-1ubuntu0.2"); // quadlet_container
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  const UnitsSpec spec = zt::test::units_spec_for("ubuntu-24.04");
  const auto account = zt::test::ztnet_account();
  auto all = zt::checks::make_units_checks(spec);
  std::vector<std::string> ids;
  for (const auto& c : all) {
    ids.emplace_back(c->id());
    CHECK(c->step() == "units");
  }
  CHECK(ids == std::vector<std::string>{"units.files", "units.owner-mode", "units.enabled",
                                        "units.no-secrets", "units.style"});

  // --root: no secrets dir, not live -> files store.
  auto r = render_units(spec, account, UnitStyle::quadlet_container, SecretStore::files);
  REQUIRE(r);
  install(host, *r, account);
  root.write("/home/ztnet/.config/ztagent/secrets/ztnet-postgres.env",
             "POSTGRES_PASSWORD=0123456789abcdef\n");
  root.write("/home/ztnet/.config/ztagent/secrets/ztnet-ztnet.env",
             "POSTGRES_PASSWORD=0123456789abcdef\nNEXTAUTH_SECRET=fedcba9876543210\n");
  for (const auto& c : all) {
    INFO(c->id() << ": " << c->run(host.view()).actual);
    CHECK(c->run(host.view()).outcome == Outcome::pass);
  }
  CHECK(find_check(all, "units.style").run(host.view()).actual == "quadlet-container files");
  CHECK(runner.calls().empty());

  const std::string caddy = "/home/ztnet/.config/containers/systemd/ztnet-caddy.container";
  const std::string pod = "/home/ztnet/.config/systemd/user/ztnet-pod.service";

  SECTION("a unit file is missing") {
    REQUIRE(host.fs().remove_file(caddy));
    auto res = find_check(all, "units.files").run(host.view());
    CHECK(res.outcome == Outcome::fail);
    CHECK(res.actual == caddy + " is missing");
    CHECK(res.fix == "ztagent provision --only units");
  }
  SECTION("a unit file was edited") {
    std::string text = root.read(caddy);
    text.replace(text.find("Image="), 6, "Image=evil.example/");
    root.write(caddy, text);
    auto res = find_check(all, "units.files").run(host.view());
    CHECK(res.outcome == Outcome::fail);
    CHECK(res.actual == caddy + ": line 14 differs");
  }
  SECTION("a unit file has extra lines") {
    root.append(caddy, "Environment=EXTRA=1\n");
    auto res = find_check(all, "units.files").run(host.view());
    CHECK(res.outcome == Outcome::fail);
    CHECK(res.actual == caddy + ": has extra lines from line 32");
  }
  SECTION("the Caddyfile was edited") {
    root.write("/opt/ztnet-data/caddy/Caddyfile", "localhost {\n}\n");
    auto res = find_check(all, "units.files").run(host.view());
    CHECK(res.outcome == Outcome::fail);
    CHECK(res.actual == "/opt/ztnet-data/caddy/Caddyfile: line 2 differs");
  }
  SECTION("wrong owner") {
    REQUIRE(host.fs().set_owner(pod, 0, 0));
    auto res = find_check(all, "units.owner-mode").run(host.view());
    CHECK(res.outcome == Outcome::fail);
    CHECK(res.actual == pod + ": owner root:root, mode 0644 (want 0644)");
  }
  SECTION("wrong mode") {
    REQUIRE(host.fs().set_mode(pod, 0666));
    auto res = find_check(all, "units.owner-mode").run(host.view());
    CHECK(res.outcome == Outcome::fail);
    CHECK(res.actual == pod + ": owner ztnet:ztnet, mode 0666 (want 0644)");
  }
  SECTION("the pod unit is not enabled") {
    const std::string link = "/home/ztnet/.config/systemd/user/default.target.wants/ztnet-pod.service";
    REQUIRE(host.fs().remove_file(link));
    auto res = find_check(all, "units.enabled").run(host.view());
    CHECK(res.outcome == Outcome::fail);
    CHECK(res.actual == link + " is missing");
  }
  SECTION("the timer link points elsewhere") {
    const std::string link = "/home/ztnet/.config/systemd/user/timers.target.wants/podman-auto-update.timer";
    REQUIRE(host.fs().make_symlink(link, "/dev/null", 999, 999));
    auto res = find_check(all, "units.enabled").run(host.view());
    CHECK(res.outcome == Outcome::fail);
    CHECK(res.actual == link + " -> /dev/null (want /usr/lib/systemd/user/podman-auto-update.timer)");
  }
  SECTION("an enablement link is a regular file") {
    const std::string link = "/home/ztnet/.config/systemd/user/default.target.wants/ztnet-pod.service";
    REQUIRE(host.fs().remove_file(link));
    root.write(link, "");
    auto res = find_check(all, "units.enabled").run(host.view());
    CHECK(res.outcome == Outcome::fail);
    CHECK(res.actual == link + " is a regular file, not a symlink");
  }
  SECTION("a secret value was pasted into a unit") {
    root.append(caddy, "# 0123456789abcdef\n");
    auto res = find_check(all, "units.no-secrets").run(host.view());
    CHECK(res.outcome == Outcome::fail);
    CHECK(res.actual == caddy + " contains the value of POSTGRES_PASSWORD");
    CHECK(res.actual.find("0123456789abcdef") == std::string::npos);
  }
  SECTION("a secret variable is assigned literally (podman store has no values to compare)") {
    root.append(caddy, "Environment=\"NEXTAUTH_SECRET=x\"\n");
    auto res = find_check(all, "units.no-secrets").run(host.view());
    CHECK(res.outcome == Outcome::fail);
    CHECK(res.actual == caddy + ": line 32 assigns NEXTAUTH_SECRET");
  }
  SECTION("a stale classic unit next to the quadlet units") {
    root.write("/home/ztnet/.config/systemd/user/ztnet-caddy.service", "[Service]\n");
    auto res = find_check(all, "units.style").run(host.view());
    CHECK(res.outcome == Outcome::fail);
    CHECK(res.actual ==
          "podman 4.9.3 needs quadlet-container units, found quadlet-container and classic files");
  }
  SECTION("podman was upgraded past the installed units' style") {
    root.write("/var/lib/dpkg/status", zt::test::dpkg_status_with_podman("5.4.2+ds1-1"));
    auto res = find_check(all, "units.style").run(host.view());
    CHECK(res.outcome == Outcome::fail);
    CHECK(res.expected == "podman 5.4.2 needs quadlet-pod units");
    CHECK(res.actual == "podman 5.4.2 needs quadlet-pod units, found quadlet-container files");
  }
}

TEST_CASE("units checks: style mismatch against classic files, missing user and podman", "[checks][units]") {
  zt::test::TempRoot root;
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  const UnitsSpec spec = zt::test::units_spec_for("ubuntu-24.04");
  auto all = zt::checks::make_units_checks(spec);

  SECTION("no user") {
    auto res = find_check(all, "units.files").run(host.view());
    CHECK(res.outcome == Outcome::fail);
    CHECK(res.actual == "user ztnet does not exist (run the user step first)");
  }
  SECTION("no podman") {
    root.add_user("ztnet", 999, 999, "/home/ztnet");
    root.write("/var/lib/dpkg/status", "");
    auto res = find_check(all, "units.style").run(host.view());
    CHECK(res.outcome == Outcome::fail);
    CHECK(res.actual == "podman: not installed (run `ztagent provision --only packages`)");
  }
  SECTION("classic files under podman 4.9.3") {
    zt::test::prepare_units_root(root, "4.9.3+ds1-1ubuntu0.2");
    auto r = render_units(spec, zt::test::ztnet_account(), UnitStyle::classic, SecretStore::files);
    REQUIRE(r);
    install(host, *r, zt::test::ztnet_account());
    auto res = find_check(all, "units.style").run(host.view());
    CHECK(res.outcome == Outcome::fail);
    CHECK(res.actual == "podman 4.9.3 needs quadlet-container units, found classic files");
    auto files = find_check(all, "units.files").run(host.view());
    CHECK(files.outcome == Outcome::fail);
    CHECK(files.actual ==
          "/home/ztnet/.config/systemd/user/ztnet-pod.service: line 5 differs"); // the network wait (4.9
                                                                                 // Quadlet), not classic
  }
  SECTION("nothing written yet") {
    zt::test::prepare_units_root(root, "4.3.1+ds1-8+deb12u1");
    auto res = find_check(all, "units.style").run(host.view());
    CHECK(res.outcome == Outcome::fail);
    CHECK(res.actual == "podman 4.3.1 needs classic units, found no unit files");
    auto owner = find_check(all, "units.owner-mode").run(host.view());
    CHECK(owner.outcome == Outcome::skip);
    CHECK(owner.actual == "no unit files present (units.files reports them)");
  }
}

// ---- the service user against the units checks (issue 13, items 2 and 5) -------------------------

TEST_CASE("units checks: planted enablement links and FIFOs are caught, never followed or read",
          "[checks][units][hostile]") {
  zt::test::TempRoot root;
  zt::test::prepare_units_root(root, "5.4.2+ds1-1"); // quadlet_pod: ztagent writes no pod link
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  const UnitsSpec spec = zt::test::units_spec_for("debian-13");
  const auto account = zt::test::ztnet_account();
  auto all = zt::checks::make_units_checks(spec);
  auto r = render_units(spec, account, UnitStyle::quadlet_pod, SecretStore::files);
  REQUIRE(r);
  install(host, *r, account);
  REQUIRE(find_check(all, "units.enabled").run(host.view()).outcome == Outcome::pass);
  const std::string wants = "/home/ztnet/.config/systemd/user/default.target.wants";

  SECTION("default.target.wants/ztnet-pod.service -> /etc/shadow") {
    REQUIRE(host.fs().make_directories(wants, 0755));
    std::filesystem::create_symlink("/etc/shadow", root.real(wants + "/ztnet-pod.service"));
    auto res = find_check(all, "units.enabled").run(host.view());
    CHECK(res.outcome == Outcome::fail);
    CHECK(res.actual == wants + "/ztnet-pod.service -> /etc/shadow: not a link of quadlet-pod units for podman 5.4.2");
    CHECK(res.fix == "ztagent provision --only units");
  }
  SECTION("a FIFO as env file: units.no-secrets returns, the other checks do not hang") {
    root.mkdir("/home/ztnet/.config/ztagent/secrets");
    REQUIRE(::mkfifo(root.real("/home/ztnet/.config/ztagent/secrets/ztnet-postgres.env").c_str(), 0600) == 0);
    const auto start = std::chrono::steady_clock::now();
    auto res = find_check(all, "units.no-secrets").run(host.view());
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
    CHECK(res.outcome == Outcome::pass);
  }
  SECTION("a unit file replaced by a FIFO fails units.files at once") {
    const std::string pod = "/home/ztnet/.config/containers/systemd/ztnet.pod";
    REQUIRE(host.fs().remove_file(pod));
    REQUIRE(::mkfifo(root.real(pod).c_str(), 0644) == 0);
    const auto start = std::chrono::steady_clock::now();
    auto res = find_check(all, "units.files").run(host.view());
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
    CHECK(res.outcome == Outcome::fail);
    CHECK(res.actual == pod + " is a fifo");
  }
}
