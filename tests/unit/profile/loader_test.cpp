// SPDX-License-Identifier: Apache-2.0
#include "profile/loader.hpp"
#include "support/catch.hpp"

#include <string>
#include <vector>

namespace {

using zt::profile::Diagnostics;
using zt::profile::load_profile;
using zt::profile::load_profile_file;
using zt::profile::load_profile_from_string;
using zt::profile::load_site_config;
using zt::profile::parse_os_release;
using zt::profile::PortStrategy;
using zt::profile::SiteConfig;

std::vector<std::string> lines_of(const Diagnostics& diagnostics) {
  std::vector<std::string> out;
  for (const auto& d : diagnostics) {
    out.push_back(d.to_string());
  }
  return out;
}

/// The full diagnostic list of a site config that must fail.
std::vector<std::string> site_errors(const std::string& text,
                                     const std::vector<std::string>& overrides = {}) {
  const auto loaded = load_site_config(text, "site.toml", overrides);
  REQUIRE_FALSE(loaded.has_value());
  return lines_of(loaded.error());
}

std::vector<std::string> profile_errors(const std::string& text) {
  const auto loaded = load_profile_from_string(text, "p.toml");
  REQUIRE_FALSE(loaded.has_value());
  return lines_of(loaded.error());
}

SiteConfig site_ok(const std::string& text, const std::vector<std::string>& overrides = {}) {
  const auto loaded = load_site_config(text, "site.toml", overrides);
  if (!loaded) {
    FAIL(zt::profile::to_string(loaded.error()));
  }
  return *loaded;
}

const std::string k_known_keys =
    "service.user, service.system_user, service.home, service.shell, service.data_root, subids.count, "
    "data.dirs, ports.strategy, ports.unprivileged_port_start, ports.sysctl_file, preflight.min_free_mib, "
    "stack.domain, stack.images, stack.ports, stack.forward_ports";

} // namespace

TEST_CASE("Diagnostic renders as file:line:col: message", "[profile][loader]") {
  const zt::profile::Diagnostic d{"/etc/ztagent/ztagent.toml", 3, 7,
                                  "service.user: expected a string, got integer"};
  CHECK(d.to_string() == "/etc/ztagent/ztagent.toml:3:7: service.user: expected a string, got integer");
  CHECK(zt::profile::to_string(Diagnostics{d, {"--set", 1, 1, "x"}}) ==
        "/etc/ztagent/ztagent.toml:3:7: service.user: expected a string, got integer\n--set:1:1: x\n");
}

TEST_CASE("parse_os_release handles quotes, comments and blank lines", "[profile][loader]") {
  const auto release = parse_os_release("# a comment\n"
                                        "\n"
                                        "PRETTY_NAME=\"Ubuntu 24.04.1 LTS\"\n"
                                        "NAME='Ubuntu'\n"
                                        "  VERSION_ID = \"24.04\"  \n"
                                        "ID=ubuntu\n"
                                        "ID_LIKE=debian\n"
                                        "garbage line without equals\n");
  CHECK(release.id == "ubuntu");
  CHECK(release.version_id == "24.04");
  CHECK(release.pretty_name == "Ubuntu 24.04.1 LTS");

  const auto escaped = parse_os_release("ID='debian'\nVERSION_ID=\"1\\\"2\"\nPRETTY_NAME=\"a \\\\ b\"");
  CHECK(escaped.id == "debian");
  CHECK(escaped.version_id == "1\"2");
  CHECK(escaped.pretty_name == "a \\ b");

  const auto empty = parse_os_release("");
  CHECK(empty.id.empty());
  CHECK(empty.version_id.empty());
}

TEST_CASE("profile auto picks the profile matching /etc/os-release", "[profile][loader]") {
  struct Sample {
    std::string os_release;
    std::string expected;
  };
  const std::vector<Sample> samples = {
      {"PRETTY_NAME=\"Ubuntu 24.04.1 LTS\"\nNAME=\"Ubuntu\"\nVERSION_ID=\"24.04\"\nVERSION=\"24.04.1 LTS "
       "(Noble "
       "Numbat)\"\nVERSION_CODENAME=noble\nID=ubuntu\nID_LIKE=debian\n",
       "ubuntu-24.04"},
      {"PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\n"
       "VERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\n",
       "debian-12"},
      {"NAME=\"Fedora Linux\"\nVERSION=\"41 (Server Edition)\"\nID=fedora\nVERSION_ID=41\n"
       "PRETTY_NAME=\"Fedora Linux 41 (Server Edition)\"\n",
       "fedora-41"},
      {"PRETTY_NAME=\"Debian GNU/Linux 13 (trixie)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"13\"\n"
       "VERSION=\"13 (trixie)\"\nVERSION_CODENAME=trixie\nID=debian\n",
       "debian-13"},
  };
  for (const auto& sample : samples) {
    INFO(sample.expected);
    const auto profile = load_profile("auto", sample.os_release);
    REQUIRE(profile.has_value());
    CHECK(profile->name == sample.expected);
    CHECK(profile->source == "embedded:" + sample.expected + ".toml");
  }
}

TEST_CASE("profile auto on an unknown OS names the known profiles", "[profile][loader]") {
  const auto fedora = load_profile("auto", "NAME=\"Fedora Linux\"\nVERSION_ID=40\nID=fedora\n");
  REQUIRE_FALSE(fedora.has_value());
  CHECK(lines_of(fedora.error()) ==
        std::vector<std::string>{
            "/etc/os-release:0:0: no shipped profile matches ID=fedora VERSION_ID=40 (known: "
            "debian-12, debian-13, fedora-41, ubuntu-24.04); pass --profile NAME or FILE"});

  const auto old_ubuntu = load_profile("auto", "ID=ubuntu\nVERSION_ID=\"22.04\"\n");
  REQUIRE_FALSE(old_ubuntu.has_value());
  CHECK(lines_of(old_ubuntu.error()) ==
        std::vector<std::string>{
            "/etc/os-release:0:0: no shipped profile matches ID=ubuntu VERSION_ID=22.04 "
            "(known: debian-12, debian-13, fedora-41, ubuntu-24.04); pass --profile NAME or FILE"});
}

TEST_CASE("profiles by name: known, unknown, base files and paths", "[profile][loader]") {
  const auto debian = load_profile("debian-12", "");
  REQUIRE(debian.has_value());
  CHECK(debian->name == "debian-12");

  const auto unknown = load_profile("centos-7", "");
  REQUIRE_FALSE(unknown.has_value());
  CHECK(
      lines_of(unknown.error()) ==
      std::vector<std::string>{
          "centos-7:0:0: unknown profile 'centos-7' (known: debian-12, debian-13, fedora-41, ubuntu-24.04)"});

  const auto base = load_profile("_base", "");
  REQUIRE_FALSE(base.has_value());
  CHECK(lines_of(base.error()) ==
        std::vector<std::string>{
            "_base:0:0: unknown profile '_base' (known: debian-12, debian-13, fedora-41, ubuntu-24.04)"});

  const auto path = load_profile("/etc/ztagent/site.toml", "");
  REQUIRE_FALSE(path.has_value());
  CHECK(lines_of(path.error()) ==
        std::vector<std::string>{
            "/etc/ztagent/site.toml:0:0: profile files are read by the caller and passed to "
            "load_profile_file()"});
}

TEST_CASE("a profile file includes embedded files, its own values win", "[profile][loader]") {
  const auto mine = load_profile_file(R"(include = ["ubuntu-24.04.toml"]
steps = ["preflight", "packages"]
[profile]
name = "my-ubuntu"
[packages]
install = ["podman", "passt"]
)",
                                      "/etc/ztagent/my-ubuntu.toml");
  REQUIRE(mine.has_value());
  CHECK(mine->name == "my-ubuntu");
  CHECK(mine->source == "/etc/ztagent/my-ubuntu.toml");
  CHECK(mine->description == "Ubuntu 24.04 LTS (noble)"); // from ubuntu-24.04.toml
  CHECK(mine->os_id == "ubuntu");
  CHECK(mine->steps == std::vector<std::string>{"preflight", "packages"});
  CHECK(mine->packages == std::vector<std::string>{"podman", "passt"}); // arrays replace
  CHECK(mine->package_manager == "apt");                                // from _base.toml
  CHECK(mine->podman_min_version == "4.4");
  CHECK(mine->apparmor_userns);

  // No [profile.match]: fine for a file given by path (it is never auto-selected).
  const auto minimal = load_profile_from_string(R"(steps = ["preflight"]
[profile]
name = "minimal"
[packages]
manager = "dnf"
podman_min_version = "5"
)",
                                                "minimal.toml");
  REQUIRE(minimal.has_value());
  CHECK(minimal->os_id.empty());
  CHECK(minimal->packages.empty());
  CHECK(minimal->package_manager == "dnf");
  CHECK_FALSE(minimal->apparmor_userns);
}

TEST_CASE("malformed profiles list every error", "[profile][loader]") {
  struct Case {
    std::string name;
    std::string text;
    std::vector<std::string> expected;
  };
  const std::vector<Case> cases = {
      {"every kind of error at once",
       R"(include = ["_bse.toml", "_base.toml", "_base.toml", 3]
steps = ["preflight", "user", "user", "Bad Step"]
[profile]
name = "My Profile"
descripton = "x"
[profile.match]
id = 12
[packages]
manager = "yum"
install = ["podman", "-oops", "podman"]
podman_min_version = "four"
[preflight]
apparmor_userns = "yes"
[extra.sub]
a = 1
)",
       {
           "p.toml:1:12: include[0]: unknown file '_bse.toml' (did you mean '_base.toml'?)",
           "p.toml:1:39: include[2]: duplicate '_base.toml' (also include[1])",
           "p.toml:1:53: include[3]: expected a string, got integer",
           "p.toml:2:31: steps[2]: duplicate 'user' (also steps[1])",
           "p.toml:2:39: steps[3]: invalid step id 'Bad Step' (a-z, 0-9, '.', '_', '-')",
           "p.toml:4:8: profile.name: invalid profile name 'My Profile' (a-z, 0-9, '.', '_', '-')",
           "p.toml:5:1: unknown key 'descripton' in [profile] (did you mean 'description'?)",
           "p.toml:7:6: profile.match.id: expected a string, got integer",
           "p.toml:9:11: packages.manager: unknown value 'yum' (allowed: apt, dnf)",
           "p.toml:10:22: packages.install[1]: invalid package name '-oops' (letters, digits, '+', '.', '_', "
           "'-'; "
           "not starting with '-')",
           "p.toml:10:31: packages.install[2]: duplicate 'podman' (also packages.install[0])",
           "p.toml:11:22: packages.podman_min_version: expected a version such as \"4.4\", got 'four'",
           "p.toml:13:19: preflight.apparmor_userns: expected a boolean, got string",
           "p.toml:14:2: unknown table [extra]",
       }},
      {"wrong container types and empty lists",
       R"(steps = []
include = "_base.toml"
[profile]
match = "debian"
[profile.matc]
[packages]
install = { a = 1 }
[profile2]
)",
       {
           "p.toml:1:9: steps: must list at least one step",
           "p.toml:2:11: include: expected an array, got string",
           "p.toml:4:9: profile.match: expected a table, got string",
           "p.toml:5:10: unknown table [profile.matc] (did you mean [profile.match]?)",
           "p.toml:7:11: packages.install: expected an array, got table",
           "p.toml:8:2: unknown table [profile2] (did you mean [profile]?)",
       }},
      {"missing required keys",
       "[profile]\ndescription = \"no name\"\n[profile.match]\nid = \"debian\"\n",
       {
           "p.toml:1:1: missing required key 'profile.name'",
           "p.toml:1:1: missing required key 'steps'",
           "p.toml:1:1: missing required key 'packages.manager'",
           "p.toml:1:1: missing required key 'packages.podman_min_version'",
           "p.toml:1:1: missing required key 'profile.match.version_ids' ([profile.match] needs both)",
       }},
      {"version ids",
       R"(include = ["_base.toml"]
[profile]
name = "x"
[profile.match]
id = "Debian"
version_ids = []
[packages]
podman_min_version = "4.3"
)",
       {
           "p.toml:5:6: profile.match.id: invalid os-release ID 'Debian' (a-z, 0-9, '.', '_', '-')",
           "p.toml:6:15: profile.match.version_ids: must list at least one VERSION_ID",
       }},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    CHECK(profile_errors(c.text) == c.expected);
  }
}

TEST_CASE("profile syntax errors carry toml++'s position", "[profile][loader]") {
  const auto errors = profile_errors("[profile]\nname = \"x\nsteps = []\n");
  REQUIRE(errors.size() == 1);
  // The description text is toml++'s own and may change between its releases; the position and
  // our prefix are ours.
  CHECK(errors[0].starts_with("p.toml:2:10: TOML syntax error: "));
}

TEST_CASE("include cycles are refused", "[profile][loader]") {
  // Simulates an embedded base file that includes itself.
  const auto loaded = load_profile_from_string("include = [\"_base.toml\"]\n", "embedded:_base.toml");
  REQUIRE_FALSE(loaded.has_value());
  CHECK(
      lines_of(loaded.error()) ==
      std::vector<std::string>{
          "embedded:_base.toml:1:12: include[0]: include cycle: embedded:_base.toml -> embedded:_base.toml"});
}

TEST_CASE("an empty site config gives the defaults", "[profile][loader]") {
  for (const std::string text : {"", "\n# only a comment\n", "[service]\n[ports]\n"}) {
    const SiteConfig config = site_ok(text);
    const SiteConfig defaults;
    CHECK(config.user == "ztnet");
    CHECK(config.system_user);
    CHECK(config.home == "/home/ztnet");
    CHECK(config.shell == "/usr/sbin/nologin");
    CHECK(config.data_root == "/opt/ztnet-data");
    CHECK(config.subid_count == 65536);
    REQUIRE(config.data_dirs.size() == 3);
    CHECK(config.data_dirs[0].name == "postgres-data");
    CHECK(config.data_dirs[0].mode == 0750);
    CHECK(config.data_dirs[0].container_uids == std::vector<std::uint32_t>{70});
    CHECK(config.data_dirs[1].name == "zerotier");
    CHECK(config.data_dirs[2].name == "caddy_data");
    CHECK(config.port_strategy == PortStrategy::sysctl);
    CHECK(config.unprivileged_port_start == 80);
    CHECK(config.sysctl_file == "/etc/sysctl.d/60-ztagent.conf");
    CHECK(config.min_free_mib == 1024);
    CHECK(config.min_free_mib == defaults.min_free_mib);
  }
}

TEST_CASE("a full site config is read into SiteConfig", "[profile][loader]") {
  const SiteConfig config = site_ok(R"(
[service]
user = "svc_zt-1"
system_user = false
shell = "/bin/bash"
data_root = "/srv/zt"

[subids]
count = 131072

[[data.dirs]]
name = "db"
mode = 0o700
container_uids = [70, 999]

[[data.dirs]]
name = "web.d"
mode = "755"

[ports]
strategy = "forward"
unprivileged_port_start = 1024
sysctl_file = "/etc/sysctl.d/99-zt.conf"

[preflight]
min_free_mib = 4096
)");
  CHECK(config.user == "svc_zt-1");
  CHECK_FALSE(config.system_user);
  CHECK(config.home == "/home/svc_zt-1"); // follows the user
  CHECK(config.shell == "/bin/bash");
  CHECK(config.data_root == "/srv/zt");
  CHECK(config.subid_count == 131072);
  REQUIRE(config.data_dirs.size() == 2);
  CHECK(config.data_dirs[0].name == "db");
  CHECK(config.data_dirs[0].mode == 0700);
  CHECK(config.data_dirs[0].container_uids == std::vector<std::uint32_t>{70, 999});
  CHECK(config.data_dirs[1].name == "web.d");
  CHECK(config.data_dirs[1].mode == 0755);
  CHECK(config.data_dirs[1].container_uids.empty());
  CHECK(config.port_strategy == PortStrategy::forward);
  CHECK(config.unprivileged_port_start == 1024); // allowed: strategy is not sysctl
  CHECK(config.sysctl_file == "/etc/sysctl.d/99-zt.conf");
  CHECK(config.min_free_mib == 4096);

  CHECK(site_ok("[service]\nuser = \"bob\"\nhome = \"/var/lib/bob\"\n").home == "/var/lib/bob");
  CHECK(site_ok("[data]\ndirs = []\n").data_dirs.empty());
  CHECK(site_ok("[ports]\nstrategy = \"none\"\n").port_strategy == PortStrategy::none);
  CHECK(site_ok("[ports]\nunprivileged_port_start = 0\n").unprivileged_port_start == 0);
}

TEST_CASE("malformed site configs list every error", "[profile][loader]") {
  struct Case {
    std::string name;
    std::string text;
    std::vector<std::string> expected;
  };
  const std::vector<Case> cases = {
      {"service, subids, data, ports and preflight errors together",
       R"([service]
usr = "bob"
user = 5
home = "relative/home"
shell = "/bin/../bash"
data_root = "/opt/data/"
system_user = "yes"

[servce]
x = 1

[subids]
count = 1000

[data]
dirs = [
  { name = "a/b", mode = 750 },
  { name = "x", mode = "0999", container_uids = [70, 70000, "a"] },
  { name = "x", mdoe = "0750" },
  { mode = 0o700 },
  3,
]

[ports]
strategy = "sysclt"
unprivileged_port_start = 70000
sysctl_file = "/etc/sysctl.conf"

[preflight]
min_free_mib = 0
extra = true
)",
       {
           "site.toml:2:1: unknown key 'usr' in [service] (did you mean 'user'?)",
           "site.toml:3:8: service.user: expected a string, got integer",
           "site.toml:4:8: service.home: must be an absolute path, got 'relative/home'",
           "site.toml:5:9: service.shell: must not contain '..' components, got '/bin/../bash'",
           "site.toml:6:13: service.data_root: must not end in '/', got '/opt/data/'",
           "site.toml:7:15: service.system_user: expected a boolean, got string",
           "site.toml:9:2: unknown table [servce] (did you mean [service]?)",
           "site.toml:13:9: subids.count: must be at least 65536 (podman maps 65536 ids into each "
           "container), "
           "got 1000",
           "site.toml:17:12: data.dirs[0].name: must be one plain path component (letters, digits, '.', '_', "
           "'-'; not '.' or '..'), got 'a/b'",
           "site.toml:17:26: data.dirs[0].mode: write the mode as a string (\"0750\") or an octal integer "
           "(0o750), not decimal 750",
           "site.toml:18:24: data.dirs[1].mode: expected an octal mode such as \"0750\" (at most 0777), got "
           "'0999'",
           "site.toml:18:54: data.dirs[1].container_uids[1]: must be between 0 and 65535, got 70000",
           "site.toml:18:61: data.dirs[1].container_uids[2]: expected an integer, got string",
           "site.toml:19:12: data.dirs[2].name: duplicate data dir 'x' (also data.dirs[1])",
           "site.toml:19:17: unknown key 'mdoe' in data.dirs[2] (did you mean 'mode'?)",
           "site.toml:20:3: data.dirs[3]: missing required key 'name'",
           "site.toml:21:3: data.dirs[4]: expected a table, got integer",
           "site.toml:25:12: ports.strategy: unknown value 'sysclt' (allowed: sysctl, forward, none)",
           "site.toml:26:27: ports.unprivileged_port_start: must be between 0 and 65535, got 70000",
           "site.toml:27:15: ports.sysctl_file: must be a file directly in /etc/sysctl.d/ whose name ends in "
           "'.conf', got '/etc/sysctl.conf'",
           "site.toml:30:16: preflight.min_free_mib: must be greater than 0, got 0",
           "site.toml:31:1: unknown key 'extra' in [preflight]",
       }},
      {"user names",
       "[service]\nuser = \"root\"\n",
       {"site.toml:2:8: service.user: must not be 'root' (the stack runs rootless, as an unprivileged "
        "user)"}},
      {"upper case user",
       "[service]\nuser = \"Bob\"\n",
       {"site.toml:2:8: service.user: invalid user name 'Bob' (1-32 characters: a-z, 0-9, '_', '-', starting "
        "with a-z or '_')"}},
      {"user name too long and leading digit",
       "service.user = \"abcdefghijklmnopqrstuvwxyz0123456\"\n[data]\ndirs = [{ name = \"..\" }]\n",
       {"site.toml:1:16: service.user: invalid user name 'abcdefghijklmnopqrstuvwxyz0123456' (1-32 "
        "characters: "
        "a-z, 0-9, '_', '-', starting with a-z or '_')",
        "site.toml:3:18: data.dirs[0].name: must be one plain path component (letters, digits, '.', '_', "
        "'-'; "
        "not '.' or '..'), got '..'"}},
      {"paths",
       R"([service]
home = "/home/bob\n"
shell = "/bin//sh"
data_root = "/"
[ports]
sysctl_file = "/etc/sysctl.d/.conf"
)",
       {"site.toml:2:8: service.home: must not contain whitespace or control characters, got "
        "'/home/bob\\x0a'",
        "site.toml:3:9: service.shell: must not contain empty components ('//'), got '/bin//sh'",
        "site.toml:4:13: service.data_root: must not be '/', got '/'",
        "site.toml:6:15: ports.sysctl_file: must be a file directly in /etc/sysctl.d/ whose name ends in "
        "'.conf', got '/etc/sysctl.d/.conf'"}},
      {"more paths",
       "[service]\nhome = \"/home/./bob\"\ndata_root = \"\"\n[ports]\nsysctl_file = "
       "\"/etc/sysctl.d/sub/x.conf\"\n",
       {"site.toml:2:8: service.home: must not contain '.' components, got '/home/./bob'",
        "site.toml:3:13: service.data_root: must not be empty, got ''",
        "site.toml:5:15: ports.sysctl_file: must be a file directly in /etc/sysctl.d/ whose name ends in "
        "'.conf', got '/etc/sysctl.d/sub/x.conf'"}},
      {"subids upper bound, modes and duplicate uids",
       R"(subids.count = 1000000001
data.dirs = [{ name = "a", mode = 0o1777, container_uids = [5, 5, -1] }, { name = "b", mode = 1.5 }]
)",
       {"site.toml:1:16: subids.count: must be at most 1000000000, got 1000000001",
        "site.toml:2:35: data.dirs[0].mode: must be at most 0o777 (no setuid, setgid or sticky bits)",
        "site.toml:2:64: data.dirs[0].container_uids[1]: duplicate uid 5 (also "
        "data.dirs[0].container_uids[0])",
        "site.toml:2:67: data.dirs[0].container_uids[2]: must be between 0 and 65535, got -1",
        "site.toml:2:95: data.dirs[1].mode: expected a mode (\"0750\" or 0o750), got float"}},
      {"wrong types for tables and unknown root keys",
       "user = \"bob\"\nservice = 1\n[data]\ndirs = { name = \"x\" }\n[preflight]\nmin_free_mib = -5\n",
       {"site.toml:1:1: unknown key 'user'", "site.toml:2:11: service: expected a table, got integer",
        "site.toml:4:8: data.dirs: expected an array, got table",
        "site.toml:6:16: preflight.min_free_mib: must be greater than 0, got -5"}},
      {"port start above 80 under the sysctl strategy (explicit)",
       "[ports]\nstrategy = \"sysctl\"\nunprivileged_port_start = 443\n",
       {"site.toml:3:27: ports.unprivileged_port_start: must be at most 80 when ports.strategy is 'sysctl' "
        "(the "
        "rootless stack binds port 80), got 443"}},
      {"port start above 80 under the default strategy",
       "[ports]\nunprivileged_port_start = 81\n",
       {"site.toml:2:27: ports.unprivileged_port_start: must be at most 80 when ports.strategy is 'sysctl' "
        "(the "
        "rootless stack binds port 80), got 81"}},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    CHECK(site_errors(c.text) == c.expected);
  }
}

TEST_CASE("site config syntax errors carry toml++'s position, --set still checked", "[profile][loader]") {
  const auto errors = site_errors("[service]\nuser = \"bob\n", {"subids.count=1"});
  REQUIRE(errors.size() == 2);
  // toml++'s description may change between its releases; the position and our prefix are ours.
  CHECK(errors[0].starts_with("site.toml:2:12: TOML syntax error: "));
  CHECK(errors[1] == "--set:1:1: subids.count: must be at least 65536 (podman maps 65536 ids into each "
                     "container), got 1");

  const auto redefined = site_errors("[service]\nuser = \"a\"\n[service]\n");
  REQUIRE(redefined.size() == 1);
  CHECK(redefined[0].starts_with("site.toml:3:1: TOML syntax error: "));
}

TEST_CASE("set overrides: typed values, strings, and their precedence", "[profile][loader]") {
  const SiteConfig config = site_ok(
      "[service]\nuser = \"alice\"\n[subids]\ncount = 100000\n",
      {"service.user=bob", "subids.count=70000", "service.system_user=false", " service.home = /srv/bob ",
       "data.dirs=[{name=\"pg\", mode=0o700, container_uids=[70]}]", "ports.strategy=forward",
       "ports.unprivileged_port_start=8080", "preflight.min_free_mib=1", "service.shell=/bin/sh",
       "service.data_root=/srv/data", "ports.sysctl_file=/etc/sysctl.d/10-x.conf"});
  CHECK(config.user == "bob");
  CHECK(config.subid_count == 70000);
  CHECK_FALSE(config.system_user);
  CHECK(config.home == "/srv/bob");
  REQUIRE(config.data_dirs.size() == 1);
  CHECK(config.data_dirs[0].name == "pg");
  CHECK(config.data_dirs[0].mode == 0700);
  CHECK(config.data_dirs[0].container_uids == std::vector<std::uint32_t>{70});
  CHECK(config.port_strategy == PortStrategy::forward);
  CHECK(config.unprivileged_port_start == 8080);
  CHECK(config.min_free_mib == 1);
  CHECK(config.shell == "/bin/sh");
  CHECK(config.data_root == "/srv/data");
  CHECK(config.sysctl_file == "/etc/sysctl.d/10-x.conf");

  // A quoted TOML string, the later override winning, home following the final user.
  const SiteConfig quoted = site_ok("", {"service.user=\"carol\"", "service.user=dave"});
  CHECK(quoted.user == "dave");
  CHECK(quoted.home == "/home/dave");

  // The sysctl rule applies to the final values: a later --set can repair an earlier one.
  CHECK(
      site_ok("[ports]\nunprivileged_port_start = 443\n", {"ports.strategy=none"}).unprivileged_port_start ==
      443);
  CHECK(site_ok("[ports]\nstrategy = \"forward\"\n", {"ports.unprivileged_port_start=1024"}).port_strategy ==
        PortStrategy::forward);
}

TEST_CASE("bad --set overrides are errors at --set:<index>:1", "[profile][loader]") {
  CHECK(site_errors("", {"service.user=Bob", "noequals", "service.usr=x", "foo.bar=1", "subids.count=abc",
                         "service.user=true", "service=1", "ports.strategy=forward", "data.dirs=[1",
                         "service.home=relative"}) ==
        std::vector<std::string>{
            "--set:1:1: service.user: invalid user name 'Bob' (1-32 characters: a-z, 0-9, '_', '-', starting "
            "with "
            "a-z or '_')",
            "--set:2:1: expected KEY=VALUE (e.g. service.user=ztnet), got 'noequals'",
            "--set:3:1: unknown key 'service.usr' (did you mean 'service.user'?)",
            "--set:4:1: unknown key 'foo.bar' (known: " + k_known_keys + ")",
            "--set:5:1: subids.count: expected an integer, got string",
            "--set:6:1: service.user: expected a string, got boolean",
            "--set:7:1: unknown key 'service' (known: " + k_known_keys + ")",
            "--set:9:1: data.dirs: expected an array, got string",
            "--set:10:1: service.home: must be an absolute path, got 'relative'",
        });

  // File errors first, then the overrides in order; the cross-field rule points at the override.
  CHECK(
      site_errors("[service]\nshell = \"sh\"\n",
                  {"ports.strategy=sysctl", "ports.unprivileged_port_start=443"}) ==
      std::vector<std::string>{
          "site.toml:2:9: service.shell: must be an absolute path, got 'sh'",
          "--set:2:1: ports.unprivileged_port_start: must be at most 80 when ports.strategy is 'sysctl' (the "
          "rootless stack binds port 80), got 443",
      });

  // A later --set of the strategy breaks the rule for the file's value: the file's value is named.
  CHECK(
      site_errors("[ports]\nstrategy = \"forward\"\nunprivileged_port_start = 443\n",
                  {"ports.strategy=sysctl"}) ==
      std::vector<std::string>{
          "site.toml:3:27: ports.unprivileged_port_start: must be at most 80 when ports.strategy is 'sysctl' "
          "(the rootless stack binds port 80), got 443",
      });

  // "x = VALUE" that parses to more than one key is a plain string, not TOML.
  CHECK(site_errors("", {"service.user=a\ny = 1"}) ==
        std::vector<std::string>{
            "--set:1:1: service.user: invalid user name 'a\\x0ay = 1' (1-32 characters: a-z, "
            "0-9, '_', '-', starting with a-z or '_')"});
}
