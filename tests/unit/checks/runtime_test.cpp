// SPDX-License-Identifier: Apache-2.0
#include "checks/runtime.hpp"
#include "checks/stack.hpp"
#include "support/catch.hpp"
#include "support/fake_runner.hpp"
#include "support/temp_root.hpp"

#include <arpa/inet.h>
#include <chrono>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace std::chrono_literals;
using zt::checks::CheckResult;
using zt::checks::Outcome;

namespace {

// The stack of profiles/_base.toml, as a C++ fixture (its TOML loading lands separately).
zt::profile::Config fixture_config() {
  zt::profile::Config config;
  config.profile.name = "debian-12";
  config.profile.package_manager = "apt";
  config.site.user = "ztnet";
  zt::profile::Stack& s = config.stack;
  s.pod = "ztnet";
  s.domain = "ztnet.example.test";
  s.ports = {
      {"http", 80, 80, "tcp", 8080}, {"https", 443, 443, "tcp", 8443}, {"zerotier", 9993, 9993, "udp", 0}};
  zt::profile::Container postgres;
  postgres.name = "postgres";
  postgres.image = "docker.io/library/postgres:15.2-alpine";
  postgres.health.command = "pg_isready -U postgres";
  zt::profile::Container zerotier;
  zerotier.name = "zerotier";
  zerotier.image = "docker.io/zyclonite/zerotier:1.14.2";
  zt::profile::Container ztnet;
  ztnet.name = "ztnet";
  ztnet.image = "docker.io/sinamics/ztnet:latest";
  ztnet.health.command = "wget -q --spider http://127.0.0.1:3000/";
  zt::profile::Container caddy;
  caddy.name = "caddy";
  caddy.image = "docker.io/library/caddy:2";
  s.containers = {postgres, zerotier, ztnet, caddy};
  return config;
}

const std::vector<std::string> k_prefix = {"runuser", "-u", "ztnet", "--", "podman"};

std::vector<std::string> podman(std::vector<std::string> args) {
  std::vector<std::string> argv = k_prefix;
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

const std::vector<std::string> k_ps = podman({"ps", "--all", "--format", "json"});
const std::vector<std::string> k_info = podman({"info", "--format", "json"});
const std::vector<std::string> k_pod_inspect = podman({"pod", "inspect", "ztnet", "--format", "json"});
const std::vector<std::string> k_infra_inspect =
    podman({"container", "inspect", "b80fcf0b276dfad89d6f66f1946491a7905095894e21ea62bec606978fa43ccc",
            "--format", "json"});
const std::vector<std::string> k_auto_update = podman({"auto-update", "--dry-run", "--format", "json"});

zt::host::CommandResult ok(std::string out) {
  return {0, std::move(out), ""};
}

/// One `podman ps --all --format json` entry in podman 4.3.1's exact shape (captured on Debian 12:
/// `podman ps --all --format json`); only names, states and status strings vary. The status strings
/// follow podman's psReporter.Status(): "Up <duration> (<health>)", "Exited (<code>) <duration> ago".
std::string
ps43_entry(const std::string& name, const std::string& state, const std::string& status, int exit_code) {
  return R"({
    "AutoRemove": false,
    "Command": [
      "/usr/bin/sleep",
      "100000"
    ],
    "CreatedAt": "6 seconds ago",
    "Exited": )" +
         std::string(state == "exited" ? "true" : "false") + R"(,
    "ExitedAt": -62135596800,
    "ExitCode": )" +
         std::to_string(exit_code) + R"(,
    "Id": "aff8a695ede752579fd19bb5f8e827c0e75dff86683bd741899e4040439b27ed",
    "Image": "docker.io/library/postgres:15.2-alpine",
    "ImageID": "6c58d6090e78040e23d495fbdb76f3ba00f2ca9d63bf5f9446c8f7928d5a9860",
    "IsInfra": false,
    "Labels": {
      "io.containers.autoupdate": "registry"
    },
    "Mounts": [],
    "Names": [
      ")" +
         name + R"("
    ],
    "Namespaces": {},
    "Networks": [],
    "Pid": 0,
    "Pod": "5444e21fd1f46d33d04b47c692fe32326fbebe7f9d41cb3b1618c738822a92a7",
    "PodName": "",
    "Ports": [
      {
        "host_ip": "127.0.0.1",
        "container_port": 80,
        "host_port": 18080,
        "range": 1,
        "protocol": "tcp"
      }
    ],
    "Size": null,
    "StartedAt": -62135596800,
    "State": ")" +
         state + R"(",
    "Status": ")" +
         status + R"(",
    "Created": 1795337386
  })";
}

/// The infra container entry exactly as podman 4.3.1 printed it.
const std::string k_ps43_infra = R"({
    "AutoRemove": false,
    "Command": null,
    "CreatedAt": "32 seconds ago",
    "Exited": false,
    "ExitedAt": -62135596800,
    "ExitCode": 0,
    "Id": "b80fcf0b276dfad89d6f66f1946491a7905095894e21ea62bec606978fa43ccc",
    "Image": "localhost/rt-sleeper:latest",
    "ImageID": "6c58d6090e78040e23d495fbdb76f3ba00f2ca9d63bf5f9446c8f7928d5a9860",
    "IsInfra": true,
    "Labels": null,
    "Mounts": [],
    "Names": [
      "5444e21fd1f4-infra"
    ],
    "Namespaces": {},
    "Networks": [],
    "Pid": 0,
    "Pod": "5444e21fd1f46d33d04b47c692fe32326fbebe7f9d41cb3b1618c738822a92a7",
    "PodName": "",
    "Ports": [],
    "Size": null,
    "StartedAt": -62135596800,
    "State": "created",
    "Status": "Created",
    "Created": 1795337386
  })";

std::string ps_array(const std::vector<std::string>& entries) {
  std::string out = "[\n  ";
  for (std::size_t i = 0; i < entries.size(); ++i) {
    out += (i ? ",\n  " : "") + entries[i];
  }
  return out + "\n]\n";
}

std::string ps_good() {
  return ps_array({k_ps43_infra, ps43_entry("ztnet-postgres", "running", "Up 5 minutes (healthy)", 0),
                   ps43_entry("ztnet-zerotier", "running", "Up 5 minutes", 0),
                   ps43_entry("ztnet-ztnet", "running", "Up 4 minutes (healthy)", 0),
                   ps43_entry("ztnet-caddy", "running", "Up 4 minutes", 0)});
}

/// A podman 5.x entry (cmd/podman/containers/ps.go jsonOut: ListContainer with Status rendered by
/// psReporter.Status(), plus Restarts/ExposedPorts/CIDFile), trimmed to the members we read and a few more.
std::string ps5_entry(const std::string& name, const std::string& state, const std::string& status) {
  return R"({"AutoRemove":false,"CIDFile":"","Command":["postgres"],"CreatedAt":"5 minutes ago","Exited":false,)"
         R"("ExitedAt":1717000000,"ExitCode":0,"ExposedPorts":null,"Id":"3f1c","Image":"docker.io/library/postgres:15",)"
         R"("IsInfra":false,"Labels":{"PODMAN_SYSTEMD_UNIT":"ztnet-postgres.service"},"Mounts":[],"Names":[")" +
         name +
         R"("],"Namespaces":{},"Networks":[],"Pid":4242,"Pod":"9b1e","PodName":"ztnet","Ports":null,)"
         R"("Restarts":0,"Size":null,"StartedAt":1717000000,"State":")" +
         state + R"(","Status":")" + status + R"(","Created":1717000000})";
}

/// A TCP listener on 127.0.0.1 with an ephemeral port, answering one request per serve_once().
class Listener {
public:
  Listener() {
    m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(m_fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(m_fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(m_fd, 4) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(m_fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    m_port = ntohs(addr.sin_port);
  }
  ~Listener() { close(); }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;
  [[nodiscard]] std::uint16_t port() const { return m_port; }
  void close() {
    if (m_fd >= 0) {
      ::close(m_fd);
      m_fd = -1;
    }
  }
  void serve_once(const std::string& reply) const {
    int c = ::accept4(m_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) {
      return;
    }
    std::string request;
    char buf[512];
    while (request.find("\r\n\r\n") == std::string::npos) {
      ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) {
        break;
      }
      request.append(buf, static_cast<std::size_t>(n));
    }
    (void)!::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
    ::close(c);
  }

private:
  int m_fd = -1;
  std::uint16_t m_port = 0;
};

std::uint16_t closed_port() {
  Listener l;
  std::uint16_t port = l.port();
  l.close();
  return port;
}

const std::string k_redirect = "HTTP/1.1 308 Permanent Redirect\r\nConnection: close\r\nLocation: "
                               "https://ztnet.example.test/\r\nServer: Caddy\r\nContent-Length: 0\r\n\r\n";

// Real /proc/net/udp and /proc/net/udp6 (Linux 6.x) with 0.0.0.0:9993, [::]:9993 and 127.0.0.1:5353 bound.
const std::string k_udp4 =
    "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref "
    "pointer "
    "drops            \n"
    " 4636: 0100007F:14E9 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 906457 2 "
    "00000000d0ce69ff 0        \n"
    " 9276: 00000000:2709 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 906455 2 "
    "00000000944c9671 0        \n";
const std::string k_udp6 =
    "  sl  local_address                         remote_address                        st tx_queue rx_queue "
    "tr "
    "tm->when retrnsmt   uid  timeout inode ref pointer drops\n"
    " 9276: 00000000000000000000000000000000:2709 00000000000000000000000000000000:0000 07 00000000:00000000 "
    "00:00000000 00000000     0        0 906456 2 00000000124c88aa 0\n";
const std::string k_udp4_empty = "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when "
                                 "retrnsmt   uid  timeout inode ref pointer "
                                 "drops            \n";

// `podman info --format json`, podman 4.3.1 on Debian 12 (run as root here, hence rootless false),
// abridged: the members around the ones read are verbatim.
const std::string k_info43_root = R"J({
  "host": {
    "arch": "amd64",
    "buildahVersion": "1.28.2",
    "cgroupManager": "cgroupfs",
    "cgroupVersion": "v1",
    "networkBackend": "cni",
    "ociRuntime": {
      "name": "crun",
      "package": "crun_1.8.1-1+deb12u1_amd64",
      "path": "/usr/bin/crun",
      "version": "crun version 1.8.1\ncommit: f8a096be060b22ccd3d5f3ebe44108517fbf6c30\nrundir: /run/crun\nspec: 1.0.0\n+SYSTEMD +SELINUX +APPARMOR +CAP +SECCOMP +EBPF +YAJL"
    },
    "os": "linux",
    "remoteSocket": {
      "path": "/run/podman/podman.sock"
    },
    "serviceIsRemote": false,
    "security": {
      "apparmorEnabled": false,
      "capabilities": "CAP_CHOWN,CAP_DAC_OVERRIDE,CAP_FOWNER,CAP_FSETID,CAP_KILL,CAP_NET_BIND_SERVICE,CAP_SETFCAP,CAP_SETGID,CAP_SETPCAP,CAP_SETUID,CAP_SYS_CHROOT",
      "rootless": false,
      "seccompEnabled": true,
      "seccompProfilePath": "/usr/share/containers/seccomp.json",
      "selinuxEnabled": false
    },
    "slirp4netns": {
      "executable": "/usr/bin/slirp4netns",
      "package": "slirp4netns_1.2.0-1_amd64",
      "version": "slirp4netns version 1.2.0\ncommit: 656041d45cfca7a4176f6b7eed9e4fe6c11e8383\nlibslirp: 4.7.0\nSLIRP_CONFIG_VERSION_MAX: 4\nlibseccomp: 2.5.4"
    },
    "swapFree": 0,
    "uptime": "3h 2m 8.00s (Approximately 0.12 days)",
    "linkmode": "dynamic"
  },
  "registries": {
    
  },
  "version": {
    "APIVersion": "4.3.1",
    "Version": "4.3.1",
    "GoVersion": "go1.19.8",
    "GitCommit": "",
    "BuiltTime": "Thu Jan  1 00:00:00 1970",
    "Built": 0,
    "OsArch": "linux/amd64",
    "Os": "linux"
  }
}
)J";

std::string info43_rootless() {
  std::string s = k_info43_root;
  s.replace(s.find("\"rootless\": false"), 17, "\"rootless\": true");
  return s;
}

/// podman 5.x `podman info --format json` shape (docs: host.rootlessNetworkCmd, host.pasta), abridged.
std::string info5(const std::string& network_cmd) {
  return R"({"host":{"arch":"amd64","networkBackend":"netavark","pasta":{"executable":"/usr/bin/pasta",)"
         R"("package":"passt-0^20250217.ga1e48a0-2.fc42.x86_64","version":""},"rootlessNetworkCmd":")" +
         network_cmd +
         R"(","security":{"apparmorEnabled":false,"rootless":true,"seccompEnabled":true,"selinuxEnabled":true}},)"
         R"("version":{"APIVersion":"5.4.2","Version":"5.4.2","Os":"linux"}})";
}

// `podman pod inspect <pod> --format json`, podman 4.3.1 (an object), abridged verbatim.
const std::string k_pod43 = R"({
     "Id": "5444e21fd1f46d33d04b47c692fe32326fbebe7f9d41cb3b1618c738822a92a7",
     "Name": "ztnet",
     "ExitPolicy": "continue",
     "State": "Running",
     "CreateInfra": true,
     "InfraContainerID": "b80fcf0b276dfad89d6f66f1946491a7905095894e21ea62bec606978fa43ccc",
     "InfraConfig": {
          "PortBindings": {
               "80/tcp": [
                    {
                         "HostIp": "",
                         "HostPort": "80"
                    }
               ]
          },
          "HostNetwork": false,
          "Networks": null,
          "NetworkOptions": null,
          "pid_ns": "private",
          "userns": "host",
          "uts_ns": "private"
     },
     "NumContainers": 5
}
)";

// podman 5.x prints an array of pods.
const std::string k_pod5 = "[\n" + k_pod43 + "]\n";

std::string infra_inspect(const std::string& mode) {
  return R"([
     {
          "Id": "b80fcf0b276dfad89d6f66f1946491a7905095894e21ea62bec606978fa43ccc",
          "Name": "5444e21fd1f4-infra",
          "IsInfra": true,
          "HostConfig": {
               "NetworkMode": ")" +
         mode + R"(",
               "PortBindings": {
                    "80/tcp": [
                         {
                              "HostIp": "",
                              "HostPort": "80"
                         }
                    ]
               }
          }
     }
]
)";
}

// `podman auto-update --dry-run --format json`, 5.x (cmd/podman/auto-update.go autoUpdateOutput).
std::string au5_entry(const std::string& name, const std::string& image, const std::string& updated) {
  return "{\n        \"Unit\": \"" + name + ".service\",\n        \"Container\": \"3f1c2d4e5a6b (" + name +
         ")\",\n        \"ContainerName\": \"" + name +
         "\",\n        \"ContainerID\": \"3f1c2d4e5a6b7c8d9e0f\",\n        \"Image\": \"" + image +
         "\",\n        \"Policy\": \"registry\",\n        \"Updated\": \"" + updated + "\"\n    }";
}

std::string au_array(const std::vector<std::string>& entries) {
  std::string out = "[\n    ";
  for (std::size_t i = 0; i < entries.size(); ++i) {
    out += (i ? ",\n    " : "") + entries[i];
  }
  return out + "\n]\n";
}

std::string au_good(const std::string& ztnet_updated = "false") {
  return au_array({au5_entry("ztnet-postgres", "docker.io/library/postgres:15.2-alpine", "false"),
                   au5_entry("ztnet-zerotier", "docker.io/zyclonite/zerotier:1.14.2", "false"),
                   au5_entry("ztnet-ztnet", "docker.io/sinamics/ztnet:latest", ztnet_updated),
                   au5_entry("ztnet-caddy", "docker.io/library/caddy:2", "false")});
}

struct Env {
  zt::test::TempRoot root;
  zt::test::FakeRunner runner;
  zt::host::Host host;
  zt::profile::Config config = fixture_config();
  explicit Env(const std::string& podman_version = "4.3.1+ds1-8+deb12u1+b3") : host(root.host(runner)) {
    root.add_user("ztnet", 999, 999, "/home/ztnet");
    root.write("/var/lib/dpkg/status",
               "Package: podman\nStatus: install ok installed\nVersion: " + podman_version + "\n");
  }
};

} // namespace

TEST_CASE("runtime checks: ids, runtime kind, and skipped in image mode without running anything",
          "[checks][runtime]") {
  Env env;
  auto all = zt::checks::make_runtime_checks(env.config);
  std::vector<std::string> ids;
  for (const auto& c : all) {
    ids.emplace_back(c->id());
    CHECK(c->step() == "runtime");
    CHECK(c->runtime());
    CHECK_FALSE(c->description().empty());
    CheckResult r = c->run(env.host.view());
    CHECK(r.outcome == Outcome::skip);
    CHECK(r.actual == "not a running system (image mode): checked after boot");
  }
  CHECK(ids == std::vector<std::string>{"runtime.containers", "runtime.http", "runtime.zerotier-udp",
                                        "runtime.podman-info", "runtime.auto-update"});
  CHECK(env.runner.calls().empty());
  CHECK(zt::checks::runtime_gate(env.host.view()) == "not a running system (image mode): checked after boot");
}

TEST_CASE("runtime: published port and port lookup", "[checks][runtime]") {
  auto config = fixture_config();
  const auto* http = zt::checks::find_port(config.stack, "http");
  REQUIRE(http != nullptr);
  CHECK(zt::checks::find_port(config.stack, "gopher") == nullptr);
  CHECK(zt::checks::published_host_port(config.site.port_strategy, *http) == 80);
  config.site.port_strategy = zt::profile::PortStrategy::forward;
  CHECK(zt::checks::published_host_port(config.site.port_strategy, *http) == 8080);
  const auto* zerotier = zt::checks::find_port(config.stack, "zerotier");
  REQUIRE(zerotier != nullptr);
  CHECK(zt::checks::published_host_port(config.site.port_strategy, *zerotier) == 9993);
  config.site.port_strategy = zt::profile::PortStrategy::none;
  CHECK(zt::checks::published_host_port(config.site.port_strategy, *http) == 80);
}

TEST_CASE("runtime.containers: health from the ps Status string", "[checks][runtime]") {
  using zt::checks::health_from_status;
  CHECK(health_from_status("Up 5 minutes (healthy)") == "healthy");
  CHECK(health_from_status("Up 2 seconds (starting)") == "starting");
  CHECK(health_from_status("Up About an hour (unhealthy)") == "unhealthy");
  CHECK(health_from_status("Up 5 minutes") == "");
  CHECK(health_from_status("Exited (1) 2 minutes ago") == "");
  CHECK(health_from_status("Exited (0) Less than a second ago") == "");
  CHECK(health_from_status("Created") == "");
  CHECK(health_from_status("Created (starting)") == "starting");
  CHECK(health_from_status("odd (137)") == "");
  CHECK(health_from_status("") == "");
}

TEST_CASE("runtime.containers: parse podman ps JSON of 4.3 and 5.x", "[checks][runtime]") {
  SECTION("podman 4.3.1 with the infra container") {
    auto got = zt::checks::parse_podman_ps(
        ps_array({k_ps43_infra, ps43_entry("ztnet-postgres", "exited", "Exited (1) 3 minutes ago", 1)}));
    REQUIRE(got);
    REQUIRE(got->size() == 2);
    CHECK((*got)[0].name == "5444e21fd1f4-infra");
    CHECK((*got)[0].state == "created");
    CHECK((*got)[0].health == "");
    CHECK((*got)[1].name == "ztnet-postgres");
    CHECK((*got)[1].state == "exited");
    CHECK((*got)[1].exit_code == 1);
  }
  SECTION("podman 5.x: health in Status") {
    auto got = zt::checks::parse_podman_ps(
        "[" + ps5_entry("ztnet-ztnet", "running", "Up 5 minutes (starting)") + "]");
    REQUIRE(got);
    REQUIRE(got->size() == 1);
    CHECK((*got)[0].health == "starting");
    CHECK((*got)[0].exit_code == 0);
  }
  SECTION("a Health member wins (string or object)") {
    auto got = zt::checks::parse_podman_ps(
        R"J([{"Names":["a"],"State":"running","Status":"Up 1 minute (starting)","Health":"healthy"},)J"
        R"J({"Names":["b"],"State":"running","Status":"Up 1 minute","Health":{"Status":"unhealthy","FailingStreak":3}}])J");
    REQUIRE(got);
    CHECK((*got)[0].health == "healthy");
    CHECK((*got)[1].health == "unhealthy");
    CHECK((*got)[1].exit_code == std::nullopt);
  }
  SECTION("no containers") {
    auto got = zt::checks::parse_podman_ps("[]\n");
    REQUIRE(got);
    CHECK(got->empty());
  }
  SECTION("errors") {
    auto not_array = zt::checks::parse_podman_ps("{}");
    REQUIRE_FALSE(not_array);
    CHECK(not_array.error().message == "podman ps: expected a JSON array, got object");
    auto no_names = zt::checks::parse_podman_ps(R"([{"State":"running"}])");
    REQUIRE_FALSE(no_names);
    CHECK(no_names.error().message == "podman ps: entry 0 has no Names or State");
    auto bad = zt::checks::parse_podman_ps("[");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == zt::Errc::parse);
    CHECK(bad.error().message == "podman ps: json: unexpected end of input at offset 1");
  }
}

TEST_CASE("runtime.containers: passes on a healthy stack, fails on each bad container", "[checks][runtime]") {
  Env env;
  const std::string expected = "ztnet-postgres, ztnet-zerotier, ztnet-ztnet, ztnet-caddy running (healthy)";

  SECTION("good") {
    env.runner.on(k_ps, ok(ps_good()));
    CheckResult r = zt::checks::probe_containers(env.host.view(), env.config);
    CHECK(r.outcome == Outcome::pass);
    CHECK(r.expected == expected);
    CHECK(r.actual == "all 4 running, 2 healthy");
    REQUIRE(env.runner.calls().size() == 1);
    const auto& call = env.runner.calls()[0];
    CHECK(call.effect == zt::host::Effect::read_only);
    CHECK(call.cwd == "/");
    CHECK(call.env == std::vector<std::pair<std::string, std::string>>{
                          {"XDG_RUNTIME_DIR", "/run/user/999"},
                          {"DBUS_SESSION_BUS_ADDRESS", "unix:path=/run/user/999/bus"}});
  }

  struct Row {
    std::string name;
    std::string ps;
    std::string actual;
    std::string fix;
  };
  const std::vector<Row> rows = {
      {"exited and starting",
       ps_array({ps43_entry("ztnet-postgres", "exited", "Exited (1) 2 minutes ago", 1),
                 ps43_entry("ztnet-zerotier", "running", "Up 5 minutes", 0),
                 ps43_entry("ztnet-ztnet", "running", "Up 5 seconds (starting)", 0),
                 ps43_entry("ztnet-caddy", "running", "Up 4 minutes", 0)}),
       "ztnet-postgres: exited (1); ztnet-ztnet: running, health starting",
       "runuser -u ztnet -- journalctl --user -u ztnet-postgres.service -u ztnet-ztnet.service"},
      {"missing and created",
       ps_array({ps43_entry("ztnet-postgres", "running", "Up 5 minutes (healthy)", 0),
                 ps43_entry("ztnet-zerotier", "created", "Created", 0),
                 ps43_entry("ztnet-ztnet", "running", "Up 4 minutes (healthy)", 0)}),
       "ztnet-zerotier: created; ztnet-caddy: missing",
       "runuser -u ztnet -- journalctl --user -u ztnet-zerotier.service -u ztnet-caddy.service"},
      {"unhealthy without a health check of ours",
       ps_array({ps43_entry("ztnet-postgres", "running", "Up 5 minutes (healthy)", 0),
                 ps43_entry("ztnet-zerotier", "running", "Up 5 minutes", 0),
                 ps43_entry("ztnet-ztnet", "running", "Up 4 minutes (healthy)", 0),
                 ps43_entry("ztnet-caddy", "running", "Up 4 minutes (unhealthy)", 0)}),
       "ztnet-caddy: running, health unhealthy",
       "runuser -u ztnet -- journalctl --user -u ztnet-caddy.service"},
      {"health check defined but none reported",
       ps_array({ps43_entry("ztnet-postgres", "running", "Up 5 minutes", 0),
                 ps43_entry("ztnet-zerotier", "running", "Up 5 minutes", 0),
                 ps43_entry("ztnet-ztnet", "running", "Up 4 minutes (healthy)", 0),
                 ps43_entry("ztnet-caddy", "running", "Up 4 minutes", 0)}),
       "ztnet-postgres: running, health not reported",
       "runuser -u ztnet -- journalctl --user -u ztnet-postgres.service"},
      {"nothing at all", "[]\n",
       "ztnet-postgres: missing; ztnet-zerotier: missing; ztnet-ztnet: missing; ztnet-caddy: missing",
       "runuser -u ztnet -- journalctl --user -u ztnet-postgres.service -u ztnet-zerotier.service -u "
       "ztnet-ztnet.service -u ztnet-caddy.service"},
  };
  for (const auto& row : rows) {
    SECTION(row.name) {
      env.runner.on(k_ps, ok(row.ps));
      CheckResult r = zt::checks::probe_containers(env.host.view(), env.config);
      CHECK(r.outcome == Outcome::fail);
      CHECK(r.expected == expected);
      CHECK(r.actual == row.actual);
      CHECK(r.fix == row.fix);
    }
  }

  SECTION("podman ps fails") {
    env.runner.on(k_ps,
                  {125, "", "Error: cannot set up namespace using \"/usr/bin/newuidmap\": exit status 1\n"});
    CheckResult r = zt::checks::probe_containers(env.host.view(), env.config);
    CHECK(r.outcome == Outcome::fail);
    CHECK(r.actual == "podman ps failed (exit 125: Error: cannot set up namespace using "
                      "\"/usr/bin/newuidmap\": exit status 1)");
    CHECK(r.fix == "runuser -u ztnet -- podman ps --all");
  }
  SECTION("podman ps prints garbage") {
    env.runner.on(k_ps, ok("CONTAINER ID  IMAGE\n"));
    CheckResult r = zt::checks::probe_containers(env.host.view(), env.config);
    CHECK(r.outcome == Outcome::error);
    CHECK(r.actual == "podman ps: json: unexpected character at offset 0");
  }
  SECTION("podman cannot run") {
    env.runner.on_error(k_ps, zt::Error{zt::Errc::timeout, "podman ps: timed out after 120 s"});
    CheckResult r = zt::checks::probe_containers(env.host.view(), env.config);
    CHECK(r.outcome == Outcome::error);
    CHECK(r.actual == "podman ps: timed out after 120 s");
  }
  SECTION("the user is missing") {
    env.config.site.user = "nobody-here";
    CheckResult r = zt::checks::probe_containers(env.host.view(), env.config);
    CHECK(r.outcome == Outcome::fail);
    CHECK(r.actual == "user nobody-here does not exist");
    CHECK(r.fix == "ztagent provision --only user");
    CHECK(env.runner.calls().empty());
  }
}

TEST_CASE("runtime.http: a real listener answering 308 passes, a refused port fails", "[checks][runtime]") {
  auto config = fixture_config();
  SECTION("caddy redirects to https, but nothing serves the https port") {
    Listener caddy;
    config.stack.ports[0].port = caddy.port();
    const std::uint16_t https = closed_port();
    config.stack.ports[1].port = https;
    std::thread server([&] { caddy.serve_once(k_redirect); });
    CheckResult r = zt::checks::probe_http(config, 5000ms);
    server.join();
    CHECK(r.outcome == Outcome::fail);
    CHECK(r.actual == "http: HTTP/1.1 308 Permanent Redirect; https: 127.0.0.1:" + std::to_string(https) +
                          ": connection refused");
    CHECK(r.fix == "caddy does not serve HTTPS on the public port: runuser -u ztnet -- journalctl --user -u "
                   "ztnet-caddy.service");
  }
  SECTION("no https port in the stack: the http answer is all there is to check") {
    Listener caddy;
    config.stack.ports[0].port = caddy.port();
    config.stack.ports.erase(config.stack.ports.begin() + 1);
    std::thread server([&] { caddy.serve_once(k_redirect); });
    CheckResult r = zt::checks::probe_http(config, 5000ms);
    server.join();
    CHECK(r.outcome == Outcome::pass);
    CHECK(r.actual == "HTTP/1.1 308 Permanent Redirect (the stack publishes no port named \"https\")");
  }
  SECTION("nothing listens") {
    std::uint16_t port = closed_port();
    config.stack.ports[0].port = port;
    CheckResult r = zt::checks::probe_http(config, 2000ms);
    CHECK(r.outcome == Outcome::fail);
    CHECK(r.actual == "127.0.0.1:" + std::to_string(port) + ": connection refused");
    CHECK(r.fix == "runuser -u ztnet -- journalctl --user -u ztnet-caddy.service");
  }
  SECTION("forward strategy: the public port must answer; a working forward_to names the broken forward") {
    std::uint16_t public_port = closed_port();
    Listener caddy;
    config.site.port_strategy = zt::profile::PortStrategy::forward;
    config.stack.ports[0].port = public_port;
    config.stack.ports[0].forward_to = caddy.port();
    std::thread server([&] { caddy.serve_once(k_redirect); });
    CheckResult r = zt::checks::probe_http(config, 5000ms);
    server.join();
    CHECK(r.outcome == Outcome::fail);
    CHECK(r.actual == "127.0.0.1:" + std::to_string(public_port) + ": connection refused; 127.0.0.1:" +
                          std::to_string(caddy.port()) + " answers HTTP/1.1 308 Permanent Redirect");
    CHECK(r.fix == "the forward " + std::to_string(public_port) + " -> " + std::to_string(caddy.port()) +
                       " does not work: ztagent provision --only ports");
  }
  SECTION("forward strategy: both ports silent") {
    std::uint16_t public_port = closed_port();
    std::uint16_t fwd = closed_port();
    config.site.port_strategy = zt::profile::PortStrategy::forward;
    config.stack.ports[0].port = public_port;
    config.stack.ports[0].forward_to = fwd;
    CheckResult r = zt::checks::probe_http(config, 2000ms);
    CHECK(r.outcome == Outcome::fail);
    if (fwd != public_port) {
      CHECK(r.actual == "127.0.0.1:" + std::to_string(public_port) + ": connection refused; 127.0.0.1:" +
                            std::to_string(fwd) + ": connection refused");
    }
    CHECK(r.fix == "runuser -u ztnet -- journalctl --user -u ztnet-caddy.service");
  }
  SECTION("no http port in the stack") {
    config.stack.ports.erase(config.stack.ports.begin());
    CheckResult r = zt::checks::probe_http(config, 2000ms);
    CHECK(r.outcome == Outcome::skip);
    CHECK(r.actual == "the stack publishes no port named \"http\"");
  }
}

TEST_CASE("runtime.zerotier-udp: /proc/net/udp parsing", "[checks][runtime]") {
  auto v4 = zt::checks::parse_proc_net_udp(k_udp4, "/proc/net/udp");
  REQUIRE(v4);
  REQUIRE(v4->size() == 2);
  CHECK((*v4)[0].local_address == "0100007F");
  CHECK((*v4)[0].port == 5353);
  CHECK((*v4)[1].local_address == "00000000");
  CHECK((*v4)[1].port == 9993);
  auto v6 = zt::checks::parse_proc_net_udp(k_udp6, "/proc/net/udp6");
  REQUIRE(v6);
  REQUIRE(v6->size() == 1);
  CHECK((*v6)[0].local_address == "00000000000000000000000000000000");
  CHECK((*v6)[0].port == 9993);
  auto empty = zt::checks::parse_proc_net_udp(k_udp4_empty, "/proc/net/udp");
  REQUIRE(empty);
  CHECK(empty->empty());

  auto no_port =
      zt::checks::parse_proc_net_udp(k_udp4_empty + " 1: 00000000 00000000:0000 07\n", "/proc/net/udp");
  REQUIRE_FALSE(no_port);
  CHECK(no_port.error().message == "/proc/net/udp: line 2: local address '00000000' has no port");
  auto bad_hex =
      zt::checks::parse_proc_net_udp(k_udp4_empty + " 1: 00000000:27G9 00000000:0000 07\n", "/proc/net/udp");
  REQUIRE_FALSE(bad_hex);
  CHECK(bad_hex.error().message == "/proc/net/udp: line 2: malformed local address '00000000:27G9'");
  auto no_slot = zt::checks::parse_proc_net_udp(k_udp4_empty + "garbage\n", "/proc/net/udp");
  REQUIRE_FALSE(no_slot);
  CHECK(no_slot.error().message == "/proc/net/udp: line 2: expected '<slot>: <address>:<port> ...'");
}

TEST_CASE("runtime.zerotier-udp: bound passes, unbound fails, unreadable errors", "[checks][runtime]") {
  Env env;
  SECTION("bound on IPv4 and IPv6") {
    env.root.write("/proc/net/udp", k_udp4);
    env.root.write("/proc/net/udp6", k_udp6);
    CheckResult r = zt::checks::probe_zerotier_udp(env.host.view(), env.config);
    CHECK(r.outcome == Outcome::pass);
    CHECK(r.expected == "udp 9993 bound");
    CHECK(r.actual == "udp 9993 bound (2 sockets)");
  }
  SECTION("IPv6 disabled: no udp6 file") {
    env.root.write("/proc/net/udp", k_udp4);
    CheckResult r = zt::checks::probe_zerotier_udp(env.host.view(), env.config);
    CHECK(r.outcome == Outcome::pass);
    CHECK(r.actual == "udp 9993 bound (1 socket)");
  }
  SECTION("nothing bound") {
    env.root.write("/proc/net/udp", k_udp4_empty);
    env.root.write("/proc/net/udp6", k_udp6.substr(0, k_udp6.find('\n') + 1));
    CheckResult r = zt::checks::probe_zerotier_udp(env.host.view(), env.config);
    CHECK(r.outcome == Outcome::fail);
    CHECK(r.actual == "nothing bound on udp 9993");
    CHECK(r.fix == "runuser -u ztnet -- journalctl --user -u ztnet-pod.service -u ztnet-zerotier.service");
  }
  SECTION("only another port bound (5353)") {
    env.root.write("/proc/net/udp", k_udp4.substr(0, k_udp4.rfind(" 9276:")));
    CheckResult r = zt::checks::probe_zerotier_udp(env.host.view(), env.config);
    CHECK(r.outcome == Outcome::fail);
    CHECK(r.actual == "nothing bound on udp 9993");
  }
  SECTION("no /proc/net/udp") {
    CheckResult r = zt::checks::probe_zerotier_udp(env.host.view(), env.config);
    CHECK(r.outcome == Outcome::error);
    CHECK_FALSE(r.actual.empty());
  }
  SECTION("no zerotier port in the stack") {
    env.config.stack.ports.pop_back();
    CheckResult r = zt::checks::probe_zerotier_udp(env.host.view(), env.config);
    CHECK(r.outcome == Outcome::skip);
    CHECK(r.actual == "the stack publishes no port named \"zerotier\"");
  }
  CHECK(env.runner.calls().empty());
}

TEST_CASE("runtime.podman-info: parse info, pod inspect, container inspect", "[checks][runtime]") {
  auto root43 = zt::checks::parse_podman_info(k_info43_root);
  REQUIRE(root43);
  CHECK(root43->rootless == false);
  CHECK(root43->network_cmd == std::nullopt);
  CHECK(root43->version == "4.3.1");
  auto v5 = zt::checks::parse_podman_info(info5("pasta"));
  REQUIRE(v5);
  CHECK(v5->rootless == true);
  CHECK(v5->network_cmd == "pasta");
  CHECK(v5->version == "5.4.2");
  auto no_host = zt::checks::parse_podman_info("{}");
  REQUIRE_FALSE(no_host);
  CHECK(no_host.error().message == "podman info: no \"host\" object");

  CHECK(zt::checks::parse_pod_infra_id(k_pod43) ==
        "b80fcf0b276dfad89d6f66f1946491a7905095894e21ea62bec606978fa43ccc");
  CHECK(zt::checks::parse_pod_infra_id(k_pod5) ==
        "b80fcf0b276dfad89d6f66f1946491a7905095894e21ea62bec606978fa43ccc");
  auto no_infra = zt::checks::parse_pod_infra_id(R"({"Name":"ztnet","InfraContainerID":""})");
  REQUIRE_FALSE(no_infra);
  CHECK(no_infra.error().message == "podman pod inspect: the pod has no infra container");
  auto two = zt::checks::parse_pod_infra_id("[{},{}]");
  REQUIRE_FALSE(two);
  CHECK(two.error().message == "podman pod inspect: expected one pod, got 2");

  CHECK(zt::checks::parse_network_mode(infra_inspect("slirp4netns")) == "slirp4netns");
  CHECK(zt::checks::parse_network_mode(infra_inspect("pasta")) == "pasta");
  CHECK(zt::checks::parse_network_mode(infra_inspect("slirp4netns:port_handler=slirp4netns")) ==
        "slirp4netns");
  auto no_mode = zt::checks::parse_network_mode(R"([{"HostConfig":{}}])");
  REQUIRE_FALSE(no_mode);
  CHECK(no_mode.error().message == "podman container inspect: no HostConfig.NetworkMode");
}

TEST_CASE("runtime.podman-info: podman 4.3 (classic, slirp4netns)", "[checks][runtime]") {
  Env env; // podman 4.3.1 installed -> classic -> slirp4netns
  SECTION("good") {
    env.runner.on(k_info, ok(info43_rootless()));
    env.runner.on(k_pod_inspect, ok(k_pod43));
    env.runner.on(k_infra_inspect, ok(infra_inspect("slirp4netns")));
    CheckResult r = zt::checks::probe_podman_info(env.host.view(), env.config);
    CHECK(r.outcome == Outcome::pass);
    CHECK(r.expected == "rootless, network slirp4netns");
    CHECK(r.actual == "rootless, pod network slirp4netns");
  }
  SECTION("the pod runs on another network") {
    env.runner.on(k_info, ok(info43_rootless()));
    env.runner.on(k_pod_inspect, ok(k_pod43));
    env.runner.on(k_infra_inspect, ok(infra_inspect("pasta")));
    CheckResult r = zt::checks::probe_podman_info(env.host.view(), env.config);
    CHECK(r.outcome == Outcome::fail);
    CHECK(r.actual == "rootless, pod network pasta");
    CHECK(r.fix == "ztagent provision --only units,start (the pod unit sets --network slirp4netns)");
  }
  SECTION("rootful") {
    env.runner.on(k_info, ok(k_info43_root));
    CheckResult r = zt::checks::probe_podman_info(env.host.view(), env.config);
    CHECK(r.outcome == Outcome::fail);
    CHECK(r.actual == "podman runs rootful (host.security.rootless false)");
    CHECK(r.fix == "runuser -u ztnet -- podman info");
  }
  SECTION("info without host.security.rootless") {
    env.runner.on(k_info, ok(R"({"host":{"arch":"amd64"},"version":{"Version":"4.3.1"}})"));
    CheckResult r = zt::checks::probe_podman_info(env.host.view(), env.config);
    CHECK(r.outcome == Outcome::error);
    CHECK(r.actual == "podman info reports no host.security.rootless");
  }
  SECTION("no pod yet: the network half is noted, not judged") {
    env.runner.on(k_info, ok(info43_rootless()));
    env.runner.on(k_pod_inspect, {125, "", "Error: no such pod ztnet\n"});
    CheckResult r = zt::checks::probe_podman_info(env.host.view(), env.config);
    CHECK(r.outcome == Outcome::pass);
    CHECK(r.actual == "rootless, pod ztnet not inspected (exit 125: Error: no such pod ztnet)");
  }
  SECTION("podman info fails") {
    env.runner.on(k_info, {125, "", "Error: cannot re-exec process\n"});
    CheckResult r = zt::checks::probe_podman_info(env.host.view(), env.config);
    CHECK(r.outcome == Outcome::fail);
    CHECK(r.actual == "podman info failed (exit 125: Error: cannot re-exec process)");
  }
  SECTION("podman cannot run") {
    env.runner.on_error(k_info, zt::Error{zt::Errc::io, "runuser: cannot start"});
    CheckResult r = zt::checks::probe_podman_info(env.host.view(), env.config);
    CHECK(r.outcome == Outcome::error);
    CHECK(r.actual == "runuser: cannot start");
  }
  SECTION("podman not installed") {
    env.root.write("/var/lib/dpkg/status", "Package: uidmap\nStatus: install ok installed\nVersion: 1\n");
    CheckResult r = zt::checks::probe_podman_info(env.host.view(), env.config);
    CHECK(r.outcome == Outcome::error);
    CHECK(r.actual == "podman: not installed (run `ztagent provision --only packages`)");
    CHECK(env.runner.calls().empty());
  }
}

TEST_CASE("runtime.podman-info: podman 5 (quadlet, pasta)", "[checks][runtime]") {
  Env env("5.4.2+ds1-2");
  SECTION("good") {
    env.runner.on(k_info, ok(info5("pasta")));
    env.runner.on(k_pod_inspect, ok(k_pod5));
    env.runner.on(k_infra_inspect, ok(infra_inspect("pasta")));
    CheckResult r = zt::checks::probe_podman_info(env.host.view(), env.config);
    CHECK(r.outcome == Outcome::pass);
    CHECK(r.expected == "rootless, network pasta");
    CHECK(r.actual == "rootless, default network pasta, pod network pasta");
  }
  SECTION("default network overridden to slirp4netns") {
    env.runner.on(k_info, ok(info5("slirp4netns")));
    env.runner.on(k_pod_inspect, ok(k_pod5));
    env.runner.on(k_infra_inspect, ok(infra_inspect("pasta")));
    CheckResult r = zt::checks::probe_podman_info(env.host.view(), env.config);
    CHECK(r.outcome == Outcome::fail);
    CHECK(r.actual == "rootless, default network slirp4netns");
    CHECK(r.fix ==
          "containers.conf: [network] default_rootless_network_cmd = \"pasta\" (or drop the override)");
  }
}

TEST_CASE("runtime.auto-update: parse dry-run JSON of 4.x and 5.x", "[checks][runtime]") {
  auto v5 = zt::checks::parse_auto_update(au_good("pending"));
  REQUIRE(v5);
  REQUIRE(v5->size() == 4);
  CHECK((*v5)[2].unit == "ztnet-ztnet.service");
  CHECK((*v5)[2].container == "ztnet-ztnet");
  CHECK((*v5)[2].image == "docker.io/sinamics/ztnet:latest");
  CHECK((*v5)[2].policy == "registry");
  CHECK((*v5)[2].updated == "pending");
  // 4.x: no ContainerName; "Container" is "<id> (<name>)".
  auto v4 = zt::checks::parse_auto_update(R"J([
    {
        "Unit": "ztnet-caddy.service",
        "Container": "0c4b0b1a2b3c (ztnet-caddy)",
        "Image": "docker.io/library/caddy:2",
        "Policy": "registry",
        "Updated": "false"
    }
])J");
  REQUIRE(v4);
  REQUIRE(v4->size() == 1);
  CHECK((*v4)[0].container == "ztnet-caddy");
  auto none = zt::checks::parse_auto_update("");
  REQUIRE(none);
  CHECK(none->empty());
  auto obj = zt::checks::parse_auto_update("{}");
  REQUIRE_FALSE(obj);
  CHECK(obj.error().message == "podman auto-update: expected a JSON array");
}

TEST_CASE("runtime.auto-update: passes when every container is covered, fails precisely",
          "[checks][runtime]") {
  Env env;
  const std::string expected = "dry run exits 0 and covers 4 containers";
  SECTION("good, one update pending") {
    env.runner.on(k_auto_update, ok(au_good("pending")));
    CheckResult r = zt::checks::probe_auto_update(env.host.view(), env.config);
    CHECK(r.outcome == Outcome::pass);
    CHECK(r.expected == expected);
    CHECK(r.actual == "4 covered, 1 update pending");
    REQUIRE(env.runner.calls().size() == 1);
    CHECK(env.runner.calls()[0].effect == zt::host::Effect::read_only);
  }
  SECTION("a container is not covered") {
    env.runner.on(k_auto_update,
                  ok(au_array({au5_entry("ztnet-postgres", "docker.io/library/postgres:15.2-alpine", "false"),
                               au5_entry("ztnet-ztnet", "docker.io/sinamics/ztnet:latest", "false")})));
    CheckResult r = zt::checks::probe_auto_update(env.host.view(), env.config);
    CHECK(r.outcome == Outcome::fail);
    CHECK(r.actual == "not covered (not running, or no AutoUpdate label): ztnet-zerotier, ztnet-caddy");
    CHECK(r.fix == "ztagent provision --only units,start");
  }
  SECTION("nothing running: empty output") {
    env.runner.on(k_auto_update, ok(""));
    CheckResult r = zt::checks::probe_auto_update(env.host.view(), env.config);
    CHECK(r.outcome == Outcome::fail);
    CHECK(r.actual == "not covered (not running, or no AutoUpdate label): ztnet-postgres, ztnet-zerotier, "
                      "ztnet-ztnet, ztnet-caddy");
  }
  SECTION("a localhost/ image under AutoUpdate=registry: the image check fails") {
    // podman prints the reports, then exits 125 with the joined errors (pkg/autoupdate: registry
    // policy always asks the image's registry, and "localhost" has none).
    env.runner.on(k_auto_update,
                  {125,
                   au_array({au5_entry("ztnet-postgres", "docker.io/library/postgres:15.2-alpine", "false"),
                             au5_entry("ztnet-zerotier", "docker.io/zyclonite/zerotier:1.14.2", "false"),
                             au5_entry("ztnet-ztnet", "localhost/ztnet:dev", "failed"),
                             au5_entry("ztnet-caddy", "docker.io/library/caddy:2", "false")}),
                   "Error: registry auto-updating container \"3f1c2d4e5a6b7c8d9e0f\": image check for "
                   "\"localhost/ztnet:dev\" failed: pinging container registry localhost: Get "
                   "\"https://localhost/v2/\": dial tcp 127.0.0.1:443: connect: connection refused\n"});
    CheckResult r = zt::checks::probe_auto_update(env.host.view(), env.config);
    CHECK(r.outcome == Outcome::fail);
    CHECK(r.actual ==
          "ztnet-ztnet: image check for localhost/ztnet:dev failed (a local image has no registry to check)");
    CHECK(r.fix == "localhost/ images need AutoUpdate=local (re-run `ztagent provision --only units`)");
  }
  SECTION("the registry is unreachable, no report printed") {
    env.runner.on(k_auto_update, {125, "",
                                  "Error: pinging container registry docker.io: dial tcp: lookup "
                                  "registry-1.docker.io: no such host\n"});
    CheckResult r = zt::checks::probe_auto_update(env.host.view(), env.config);
    CHECK(r.outcome == Outcome::fail);
    CHECK(r.actual == "exit 125: Error: pinging container registry docker.io: dial tcp: lookup "
                      "registry-1.docker.io: no such host");
    CHECK(r.fix == "runuser -u ztnet -- podman auto-update --dry-run (is the registry reachable?)");
  }
  SECTION("unparseable output with exit 0 is an error") {
    env.runner.on(k_auto_update, ok("UNIT  CONTAINER\n"));
    CheckResult r = zt::checks::probe_auto_update(env.host.view(), env.config);
    CHECK(r.outcome == Outcome::error);
    CHECK(r.actual == "podman auto-update: json: unexpected character at offset 0");
  }
  SECTION("podman cannot run") {
    env.runner.on_error(k_auto_update,
                        zt::Error{zt::Errc::timeout, "podman auto-update: timed out after 120 s"});
    CheckResult r = zt::checks::probe_auto_update(env.host.view(), env.config);
    CHECK(r.outcome == Outcome::error);
    CHECK(r.actual == "podman auto-update: timed out after 120 s");
  }
}
