// SPDX-License-Identifier: Apache-2.0
// Loads every shipped profile and the example site config, so a broken profiles/*.toml fails CI.
#include "profile/embedded.hpp"
#include "profile/loader.hpp"
#include "support/catch.hpp"
#include "unit/profile/describe_stack.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace {

using zt::profile::embedded_files;
using zt::profile::load_profile;
using zt::profile::load_site_config;
using zt::profile::profile_names;

const std::filesystem::path k_profile_dir = std::filesystem::path(ZT_SOURCE_DIR) / "profiles";

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

struct Expected {
  std::string os_id;
  std::string version_id;
  std::string manager;
  std::vector<std::string> packages;
  std::string podman_min_version;
  bool apparmor_userns = false;
  std::string firewall;
  bool selinux_labels = false;
};

/// Every step in run order; a profile runs a prefix of it (the lead wires new steps in).
const std::vector<std::string> k_step_order = {"preflight", "packages", "user",  "subids", "data",   "linger",
                                               "ports",     "secrets",  "units", "start",  "runtime"};

const std::map<std::string, Expected>& expected_profiles() {
  static const std::map<std::string, Expected> k_expected = {
      {"ubuntu-24.04",
       {"ubuntu",
        "24.04",
        "apt",
        {"podman", "passt", "uidmap", "acl", "dbus-user-session", "catatonit", "nftables"},
        "4.4",
        true,
        "nftables",
        false}},
      {"debian-12",
       {"debian",
        "12",
        "apt",
        {"podman", "passt", "slirp4netns", "uidmap", "acl", "dbus-user-session", "catatonit", "nftables"},
        "4.3",
        false,
        "nftables",
        false}},
      {"debian-13",
       {"debian",
        "13",
        "apt",
        {"podman", "passt", "uidmap", "acl", "dbus-user-session", "catatonit", "nftables"},
        "5.0",
        false,
        "nftables",
        false}},
      {"fedora-41",
       {"fedora", "41", "dnf", {"podman", "passt", "shadow-utils", "acl", "catatonit", "iptables-nft"}, "5.0", false, "firewalld", true}},
  };
  return k_expected;
}

} // namespace

TEST_CASE("profile_names lists the shipped profiles, not base files", "[profile][profiles]") {
  CHECK(profile_names() == std::vector<std::string>{"debian-12", "debian-13", "fedora-41", "ubuntu-24.04"});
}

TEST_CASE("every shipped profile loads cleanly and says what its distribution needs", "[profile][profiles]") {
  for (const std::string& name : profile_names()) {
    INFO(name);
    const auto profile = load_profile(name, "");
    if (!profile) {
      FAIL(zt::profile::to_string(profile.error()));
    }
    const auto found = expected_profiles().find(name);
    REQUIRE(found != expected_profiles().end());
    const Expected& expected = found->second;
    CHECK(profile->name == name);
    CHECK(profile->source == "embedded:" + name + ".toml");
    CHECK_FALSE(profile->description.empty());
    CHECK(profile->os_id == expected.os_id);
    CHECK(profile->os_version_ids == std::vector<std::string>{expected.version_id});
    REQUIRE(profile->steps.size() >= 7); // preflight ... ports
    REQUIRE(profile->steps.size() <= k_step_order.size());
    CHECK(profile->steps == std::vector<std::string>(k_step_order.begin(),
                                                     k_step_order.begin() +
                                                         static_cast<std::ptrdiff_t>(profile->steps.size())));
    CHECK(profile->package_manager == expected.manager);
    CHECK(profile->packages == expected.packages);
    CHECK(profile->podman_min_version == expected.podman_min_version);
    CHECK(profile->apparmor_userns == expected.apparmor_userns);
    CHECK(profile->firewall == expected.firewall);
    CHECK(profile->selinux_labels == expected.selinux_labels);

    // --profile auto on that very release picks this profile.
    const auto automatic =
        load_profile("auto", "ID=" + expected.os_id + "\nVERSION_ID=\"" + expected.version_id + "\"\n");
    REQUIRE(automatic.has_value());
    CHECK(automatic->name == name);
  }
}

TEST_CASE("every profiles/*.toml on disk is embedded verbatim", "[profile][profiles]") {
  std::vector<std::string> on_disk;
  for (const auto& entry : std::filesystem::directory_iterator(k_profile_dir)) {
    if (entry.path().extension() == ".toml") {
      on_disk.push_back(entry.path().filename().string());
    }
  }
  std::ranges::sort(on_disk);
  std::vector<std::string> embedded;
  for (const auto& file : embedded_files()) {
    embedded.emplace_back(file.name);
    INFO(file.name);
    CHECK(read_text(k_profile_dir / std::string(file.name)) == file.text);
  }
  std::ranges::sort(embedded);
  CHECK(embedded == on_disk);
  CHECK(std::ranges::find(embedded, "_base.toml") != embedded.end());
}

TEST_CASE("the base file alone is not a profile", "[profile][profiles]") {
  const auto it =
      std::ranges::find(embedded_files(), std::string_view("_base.toml"), &zt::profile::EmbeddedFile::name);
  REQUIRE(it != embedded_files().end());
  const auto base = zt::profile::load_profile_from_string(it->text, "embedded:_base.toml");
  REQUIRE_FALSE(base.has_value());
  std::vector<std::string> errors;
  for (const auto& d : base.error()) {
    errors.push_back(d.to_string());
  }
  CHECK(errors == std::vector<std::string>{"embedded:_base.toml:1:1: missing required key 'profile.name'",
                                           "embedded:_base.toml:1:1: missing required key "
                                           "'packages.podman_min_version'"});
}

TEST_CASE("the example site config documents exactly the defaults", "[profile][profiles]") {
  const std::string example = read_text(k_profile_dir / "ztagent.toml.example");
  const zt::profile::SiteConfig defaults;

  // As shipped (every setting commented out).
  const auto as_shipped = load_site_config(example, "ztagent.toml.example", {});
  if (!as_shipped) {
    FAIL(zt::profile::to_string(as_shipped.error()));
  }

  // With every setting uncommented: settings are "#key = value" lines, prose is "# text".
  std::istringstream in(example);
  std::string uncommented;
  int settings = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.size() > 1 && line[0] == '#' && line[1] != ' ' && line[1] != '#') {
      line.erase(0, 1);
      ++settings;
    }
    uncommented += line + "\n";
  }
  // 11 keys, data.dirs written as 3 tables of 3 lines plus their headers, stack.domain, and the
  // [stack.images] (4), [stack.ports] (3) and [stack.forward_ports] (2) tables with their headers,
  // and one [[waivers]] table (check, reason, expires) with its header.
  CHECK(settings == 39);
  const auto all_set = load_site_config(uncommented, "uncommented", {});
  if (!all_set) {
    FAIL(zt::profile::to_string(all_set.error()));
  }

  for (const auto* config : {&*as_shipped, &*all_set}) {
    CHECK(config->user == defaults.user);
    CHECK(config->system_user == defaults.system_user);
    CHECK(config->home == "/home/" + defaults.user);
    CHECK(config->shell == defaults.shell);
    CHECK(config->data_root == defaults.data_root);
    CHECK(config->subid_count == defaults.subid_count);
    REQUIRE(config->data_dirs.size() == defaults.data_dirs.size());
    for (std::size_t i = 0; i < defaults.data_dirs.size(); ++i) {
      CHECK(config->data_dirs[i].name == defaults.data_dirs[i].name);
      CHECK(config->data_dirs[i].mode == defaults.data_dirs[i].mode);
      CHECK(config->data_dirs[i].container_uids == defaults.data_dirs[i].container_uids);
    }
    CHECK(config->port_strategy == defaults.port_strategy);
    CHECK(config->unprivileged_port_start == defaults.unprivileged_port_start);
    CHECK(config->sysctl_file == defaults.sysctl_file);
    CHECK(config->min_free_mib == defaults.min_free_mib);

    // The documented stack values are the profiles' own: resolving gives the same stack.
    for (const std::string& name : profile_names()) {
      INFO(name);
      const auto profile = load_profile(name, "");
      REQUIRE(profile.has_value());
      const auto documented = zt::profile::resolve_stack(*profile, *config);
      const auto plain = zt::profile::resolve_stack(*profile, defaults);
      REQUIRE(documented.has_value());
      REQUIRE(plain.has_value());
      CHECK(zt::test::describe(*documented) == zt::test::describe(*plain));
    }
  }
}
