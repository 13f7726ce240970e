// SPDX-License-Identifier: Apache-2.0
#pragma once

// Runs the built ztagent binary (ZT_AGENT_BINARY) against --root trees, through the same
// RealCommandRunner the agent uses (argv, captured stdout/stderr, timeout).

#include "host/command_runner.hpp"
#include "support/catch.hpp"
#include "support/temp_root.hpp"

#include <algorithm>
#include <filesystem>
#include <initializer_list>
#include <string>
#include <unistd.h>
#include <vector>

namespace zt::test {

/// Tests that need the real shadow tools (useradd --prefix) skip without root.
inline bool is_root() {
  return ::geteuid() == 0;
}

/// VERB --profile debian-12 --root ROOT --format json: the common start of an integration run.
inline std::vector<std::string> base_args(const std::string& verb, const TempRoot& root) {
  return {verb, "--profile", "debian-12", "--root", root.str(), "--format", "json"};
}

/// `a` with `more` appended.
inline std::vector<std::string> with(std::vector<std::string> a, std::initializer_list<std::string> more) {
  a.insert(a.end(), more);
  return a;
}

struct AgentRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline AgentRun run_agent(std::vector<std::string> args, std::vector<std::pair<std::string, std::string>> env = {}) {
  host::RealCommandRunner runner(host::RunnerPolicy{true, true, false});
  host::Command cmd;
  cmd.argv = {ZT_AGENT_BINARY};
  cmd.argv.insert(cmd.argv.end(), args.begin(), args.end());
  cmd.effect = host::Effect::read_only;
  cmd.env = std::move(env);
  cmd.timeout = std::chrono::seconds(120);
  auto r = runner.run(cmd);
  REQUIRE(r);
  return {r->exit_code, r->out, r->err};
}

/// A Debian 12 image tree in which every step can converge offline: os-release, the shadow files
/// useradd --prefix needs, a dpkg status database listing the profile's packages as installed, and
/// a setuid newuidmap/newgidmap.
inline void make_debian12_tree(TempRoot& root) {
  root.write("/etc/os-release", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\n"
                                "VERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nID=debian\n");
  root.write("/etc/shadow", "root:*:19000:0:99999:7:::\n");
  root.write("/etc/gshadow", "root:*::\n");
  root.write("/etc/subuid", "");
  root.write("/etc/subgid", "");
  std::string status;
  for (const char* p : {"podman", "passt", "slirp4netns", "uidmap", "acl", "dbus-user-session", "catatonit", "nftables"}) {
    status += std::string("Package: ") + p + "\nStatus: install ok installed\nArchitecture: amd64\nVersion: " +
              (std::string(p) == "podman" ? "4.3.1+ds1-8+deb12u1+b3" : "1.0-1") + "\n\n";
  }
  root.write("/var/lib/dpkg/status", status);
  // Shipped by the podman package; the units step links it into the user's timers.target.wants.
  root.write("/usr/lib/systemd/user/podman-auto-update.timer", "[Timer]\nOnCalendar=daily\n");
  root.write("/usr/bin/newuidmap", "");
  root.write("/usr/bin/newgidmap", "");
  std::filesystem::permissions(root.real("/usr/bin/newuidmap"), static_cast<std::filesystem::perms>(04755));
  std::filesystem::permissions(root.real("/usr/bin/newgidmap"), static_cast<std::filesystem::perms>(04755));
  root.mkdir("/opt");
  root.mkdir("/home");
  root.mkdir("/etc/sysctl.d");
}

/// Every regular file and directory below the tree with its mode, owner and content size, for
/// "nothing changed" assertions.
inline std::string snapshot(const TempRoot& root) {
  std::string out;
  std::vector<std::string> rows;
  for (auto it = std::filesystem::recursive_directory_iterator(root.path());
       it != std::filesystem::recursive_directory_iterator(); ++it) {
    auto st = it->symlink_status();
    std::string row = std::filesystem::relative(it->path(), root.path()).string() + " " +
                      std::to_string(static_cast<unsigned>(st.permissions()));
    if (st.type() == std::filesystem::file_type::regular) {
      row += " " + root.read("/" + std::filesystem::relative(it->path(), root.path()).string());
    }
    rows.push_back(row);
  }
  std::sort(rows.begin(), rows.end());
  for (auto& r : rows) {
    out += r + "\n";
  }
  return out;
}

/// Ids of the checks with the given outcome in a JSON report (a small scan; the report format
/// itself is covered by golden files).
inline std::vector<std::string> check_ids_with(const std::string& json, const std::string& outcome) {
  std::vector<std::string> ids;
  std::size_t pos = 0;
  const std::string key = "{\"id\":\"";
  while ((pos = json.find(key, pos)) != std::string::npos) {
    auto start = pos + key.size();
    auto end = json.find('"', start);
    auto obj_end = json.find('}', end);
    auto obj = json.substr(pos, obj_end - pos);
    if (obj.find("\"outcome\":\"" + outcome + "\"") != std::string::npos) {
      ids.push_back(json.substr(start, end - start));
    }
    pos = end;
  }
  return ids;
}

} // namespace zt::test
