// SPDX-License-Identifier: Apache-2.0
// The ZTNet stack in image mode (--root): secrets as 0600 files, units for the podman version the
// tree has, enablement links, start/runtime skipped; the generated secrets appear in no other file,
// log line or report; a second provision changes nothing; a podman upgrade switches the unit style.

#include "integration/support.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace {

using zt::test::is_root;
using zt::test::run_agent;
using zt::test::TempRoot;

std::vector<std::string> args(const std::string& verb, const TempRoot& root, const std::string& user,
                              std::initializer_list<std::string> more = {}) {
  std::vector<std::string> a = {verb,    "--profile", "debian-12", "--root",
                                root.str(), "--format", "json",    "--set",
                                "service.user=" + user, "--set", "stack.domain=ztnet.example.org", "-v"};
  a.insert(a.end(), more);
  return a;
}

std::string summary(const std::string& json) {
  auto pos = json.find("\"summary\":");
  REQUIRE(pos != std::string::npos);
  return json.substr(pos);
}

/// Sets the podman version in the tree's dpkg status (the units step renders for it).
void set_podman_version(TempRoot& root, const std::string& version) {
  std::string status = root.read("/var/lib/dpkg/status");
  const std::string key = "Package: podman\n";
  auto at = status.find(key);
  REQUIRE(at != std::string::npos);
  auto v = status.find("Version: ", at);
  auto end = status.find('\n', v);
  status.replace(v, end - v, "Version: " + version);
  root.write("/var/lib/dpkg/status", status);
}

/// The values of "NAME=value" lines in a secrets env file.
std::vector<std::string> env_values(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    auto eq = line.find('=');
    if (eq != std::string::npos && line[0] != '#' && eq + 1 < line.size()) {
      out.push_back(line.substr(eq + 1));
    }
  }
  return out;
}

/// Every regular file of the tree (real paths) except `skip_dir` and below.
std::vector<std::filesystem::path> files_except(const TempRoot& root, const std::filesystem::path& skip_dir) {
  std::vector<std::filesystem::path> out;
  for (auto it = std::filesystem::recursive_directory_iterator(root.path());
       it != std::filesystem::recursive_directory_iterator(); ++it) {
    if (it->path() == skip_dir) {
      it.disable_recursion_pending();
      continue;
    }
    if (it->symlink_status().type() == std::filesystem::file_type::regular) {
      out.push_back(it->path());
    }
  }
  return out;
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct StatInfo {
  unsigned mode = 0;
  unsigned uid = 0;
};

StatInfo stat_of(const std::filesystem::path& p) {
  struct stat st {};
  REQUIRE(::lstat(p.c_str(), &st) == 0);
  return {static_cast<unsigned>(st.st_mode & 07777), static_cast<unsigned>(st.st_uid)};
}

} // namespace

TEST_CASE("stack: image mode writes secrets and classic units, leaks no secret, converges", "[integration][stack]") {
  if (!is_root()) {
    ZT_SKIP("needs root (chown, useradd --prefix)");
  }
  TempRoot root;
  zt::test::make_debian12_tree(root);
  const std::string user = "ztst" + std::to_string(::getpid() % 100000);
  const std::string home = "/home/" + user;

  auto first = run_agent(args("provision", root, user));
  INFO(first.out);
  INFO(first.err);
  REQUIRE(first.exit_code == 0);

  // Secrets: 0600 env files owned by the user, in a 0700 directory.
  const std::string dir = home + "/.config/ztagent/secrets";
  REQUIRE(root.exists(dir + "/ztnet-postgres.env"));
  REQUIRE(root.exists(dir + "/ztnet-ztnet.env"));
  const auto uid = stat_of(root.real(home)).uid;
  CHECK(stat_of(root.real(dir)).mode == 0700);
  CHECK(stat_of(root.real(dir + "/ztnet-ztnet.env")).mode == 0600);
  CHECK(stat_of(root.real(dir + "/ztnet-ztnet.env")).uid == uid);
  const auto values = env_values(root.read(dir + "/ztnet-ztnet.env"));
  REQUIRE(values.size() == 2);
  for (const auto& v : values) {
    CHECK(v.size() == 64);  // 32 random bytes, hex
  }
  // The postgres container gets the same POSTGRES_PASSWORD as ztnet.
  const auto pg = env_values(root.read(dir + "/ztnet-postgres.env"));
  REQUIRE(pg.size() == 1);
  CHECK(std::find(values.begin(), values.end(), pg[0]) != values.end());

  // Classic units (the tree has podman 4.3.1), user-owned 0644, enabled by links.
  const std::string units = home + "/.config/systemd/user";
  for (const char* name : {"ztnet-pod.service", "ztnet-postgres.service", "ztnet-zerotier.service",
                           "ztnet-ztnet.service", "ztnet-caddy.service"}) {
    INFO(name);
    REQUIRE(root.exists(units + "/" + name));
    CHECK(stat_of(root.real(units + "/" + name)).mode == 0644);
    CHECK(stat_of(root.real(units + "/" + name)).uid == uid);
    CHECK(std::filesystem::is_symlink(root.real(units + "/default.target.wants/" + name)));
  }
  CHECK(std::filesystem::read_symlink(root.real(units + "/timers.target.wants/podman-auto-update.timer")) ==
        "/usr/lib/systemd/user/podman-auto-update.timer");
  const std::string ztnet_unit = root.read(units + "/ztnet-ztnet.service");
  CHECK(ztnet_unit.find("NEXTAUTH_URL=https://ztnet.example.org") != std::string::npos);
  CHECK(ztnet_unit.find("--env-file") != std::string::npos);
  CHECK(root.read("/opt/ztnet-data/caddy/Caddyfile").find("ztnet.example.org {") != std::string::npos);

  // No secret value anywhere but in its env files: not in units, state, logs or the report.
  for (const auto& path : files_except(root, root.real(dir))) {
    const std::string text = slurp(path);
    for (const auto& v : values) {
      INFO(path.string());
      CHECK(text.find(v) == std::string::npos);
    }
  }
  for (const auto& v : values) {
    CHECK(first.out.find(v) == std::string::npos);
    CHECK(first.err.find(v) == std::string::npos);
  }

  // start and runtime cannot happen offline: skipped, not failed.
  CHECK(first.out.find("\"id\":\"start.units-active\",\"step\":\"start\",\"outcome\":\"skip\"") != std::string::npos);
  CHECK(first.out.find("\"id\":\"runtime.containers\",\"step\":\"runtime\",\"outcome\":\"skip\"") !=
        std::string::npos);

  // Second run: nothing changes, no mutating command, the secrets are reused.
  auto before = zt::test::snapshot(root);
  auto second = run_agent(args("provision", root, user));
  INFO(second.err);
  CHECK(second.exit_code == 0);
  CHECK(summary(second.out).find("\"changed\":0,") != std::string::npos);
  CHECK(second.err.find("run: ") == std::string::npos);
  CHECK(zt::test::snapshot(root) == before);

  auto verify = run_agent(args("verify", root, user));
  CHECK(verify.exit_code == 0);
  for (const auto& v : values) {
    CHECK(verify.out.find(v) == std::string::npos);
    CHECK(verify.err.find(v) == std::string::npos);
  }
}

TEST_CASE("stack: a podman upgrade to 5.x switches to Quadlet units and keeps the secrets", "[integration][stack]") {
  if (!is_root()) {
    ZT_SKIP("needs root (chown, useradd --prefix)");
  }
  TempRoot root;
  zt::test::make_debian12_tree(root);
  const std::string user = "ztsu" + std::to_string(::getpid() % 100000);
  const std::string home = "/home/" + user;
  REQUIRE(run_agent(args("provision", root, user)).exit_code == 0);
  const std::string secrets = root.read(home + "/.config/ztagent/secrets/ztnet-ztnet.env");
  REQUIRE(root.exists(home + "/.config/systemd/user/ztnet-postgres.service"));

  set_podman_version(root, "5.4.2+ds1-1");
  auto stale = run_agent(args("verify", root, user));
  CHECK(stale.exit_code == 1);
  // units.enabled too: the classic units' default.target.wants links are not links of Quadlet
  // .pod units (the units step removes them; a planted one is judged the same way).
  CHECK(zt::test::check_ids_with(stale.out, "fail") ==
        std::vector<std::string>{"units.files", "units.enabled", "units.style"});

  auto upgraded = run_agent(args("provision", root, user));
  INFO(upgraded.err);
  REQUIRE(upgraded.exit_code == 0);
  const std::string quadlet = home + "/.config/containers/systemd";
  CHECK(root.exists(quadlet + "/ztnet.pod"));
  CHECK(root.read(quadlet + "/ztnet-postgres.container").find("Pod=ztnet.pod") != std::string::npos);
  CHECK_FALSE(root.exists(home + "/.config/systemd/user/ztnet-postgres.service"));
  CHECK_FALSE(root.exists(home + "/.config/systemd/user/default.target.wants/ztnet-postgres.service"));
  CHECK(root.read(home + "/.config/ztagent/secrets/ztnet-ztnet.env") == secrets);

  auto again = run_agent(args("provision", root, user));
  CHECK(again.exit_code == 0);
  CHECK(summary(again.out).find("\"changed\":0,") != std::string::npos);
}

TEST_CASE("stack: drift names an edited unit file, --remediate re-runs only the units step", "[integration][stack][drift]") {
  if (!is_root()) {
    ZT_SKIP("needs root (chown, useradd --prefix)");
  }
  TempRoot root;
  zt::test::make_debian12_tree(root);
  const std::string user = "ztsd" + std::to_string(::getpid() % 100000);
  const std::string unit = "/home/" + user + "/.config/systemd/user/ztnet-caddy.service";
  REQUIRE(run_agent(args("provision", root, user)).exit_code == 0);
  const std::string original = root.read(unit);
  const std::string env_file = root.read("/home/" + user + "/.config/ztagent/secrets/ztnet-ztnet.env");

  root.write(unit, original + "# edited by hand\n");
  auto drift = run_agent(args("drift", root, user));
  INFO(drift.err);
  CHECK(drift.exit_code == 1);
  CHECK(zt::test::check_ids_with(drift.out, "fail") == std::vector<std::string>{"units.files", "drift:" + unit});
  CHECK(drift.err.find(unit + ": content changed since the provision of ") != std::string::npos);

  auto fixed = run_agent(args("verify", root, user, {"--remediate"}));
  INFO(fixed.err);
  CHECK(fixed.exit_code == 0);
  CHECK(fixed.out.find("\"steps\":[{\"id\":\"units\",\"status\":\"changed\"") != std::string::npos);
  CHECK(fixed.out.find("{\"id\":\"secrets\",\"status\"") == std::string::npos);
  CHECK(root.read(unit) == original);
  CHECK(root.read("/home/" + user + "/.config/ztagent/secrets/ztnet-ztnet.env") == env_file);
  CHECK(run_agent(args("drift", root, user)).exit_code == 0);
}
