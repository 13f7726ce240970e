// SPDX-License-Identifier: Apache-2.0
// The ZTNet stack as data: [stack] in the profiles, the site config's [stack] overrides, and
// resolve_stack(), which turns both into Config::stack.
#include "profile/embedded.hpp"
#include "profile/loader.hpp"
#include "profile/stack_contract.hpp"
#include "support/catch.hpp"
#include "unit/profile/describe_stack.hpp"

#include <algorithm>
#include <string>
#include <vector>

namespace {

using zt::profile::Diagnostics;
using zt::profile::load_profile;
using zt::profile::load_profile_from_string;
using zt::profile::load_site_config;
using zt::profile::ProfileSpec;
using zt::profile::resolve_stack;
using zt::profile::SiteConfig;
using zt::profile::Stack;
using zt::test::describe;

std::vector<std::string> lines_of(const Diagnostics& diagnostics) {
  std::vector<std::string> out;
  for (const auto& d : diagnostics) {
    out.push_back(d.to_string());
  }
  return out;
}

ProfileSpec debian12() {
  auto profile = load_profile("debian-12", "");
  if (!profile) {
    FAIL(zt::profile::to_string(profile.error()));
  }
  return *profile;
}

SiteConfig site_ok(const std::string& text, const std::vector<std::string>& overrides = {}) {
  const auto loaded = load_site_config(text, "site.toml", overrides);
  if (!loaded) {
    FAIL(zt::profile::to_string(loaded.error()));
  }
  return *loaded;
}

Stack resolved(const ProfileSpec& profile, const SiteConfig& site) {
  auto stack = resolve_stack(profile, site);
  if (!stack) {
    FAIL(zt::profile::to_string(stack.error()));
  }
  return *stack;
}

/// resolve_stack() errors for debian-12 and this site config (which itself must load).
std::vector<std::string> resolve_errors(const std::string& text,
                                        const std::vector<std::string>& overrides = {}) {
  const auto stack = resolve_stack(debian12(), site_ok(text, overrides));
  REQUIRE_FALSE(stack.has_value());
  return lines_of(stack.error());
}

std::vector<std::string> site_errors(const std::string& text,
                                     const std::vector<std::string>& overrides = {}) {
  const auto loaded = load_site_config(text, "site.toml", overrides);
  REQUIRE_FALSE(loaded.has_value());
  return lines_of(loaded.error());
}

/// The value of env variable `key` of container `c` ("<unset>" when it has none).
std::string env_of(const zt::profile::Container& c, const std::string& key) {
  const auto it = std::ranges::find(c.env, key, &std::pair<std::string, std::string>::first);
  return it == c.env.end() ? std::string("<unset>") : it->second;
}

/// Six lines that make a profile loadable; [stack] parts follow from line 7.
const std::string k_head = "steps = [\"preflight\"]\n"
                           "[profile]\n"
                           "name = \"t\"\n"
                           "[packages]\n"
                           "manager = \"apt\"\n"
                           "podman_min_version = \"5.0\"\n";

std::vector<std::string> profile_errors(const std::string& stack_part) {
  const auto loaded = load_profile_from_string(k_head + stack_part, "p.toml");
  REQUIRE_FALSE(loaded.has_value());
  return lines_of(loaded.error());
}

const std::string k_shipped_stack = R"(pod ztnet
domain localhost
port http 80->80/tcp forward_to 8080
port https 443->443/tcp forward_to 8443
port zerotier 9993->9993/udp forward_to 0
secret POSTGRES_PASSWORD 32 bytes
secret NEXTAUTH_SECRET 32 bytes
file caddy/Caddyfile mode 420
localhost {
	reverse_proxy 127.0.0.1:3000
}
end of file
container postgres docker.io/library/postgres:15-alpine
  env PGDATA=/var/lib/postgresql/data/pgdata
  env POSTGRES_DB=ztnet
  env POSTGRES_USER=postgres
  secret POSTGRES_PASSWORD as POSTGRES_PASSWORD
  volume postgres-data -> /var/lib/postgresql/data
  init no, stop_timeout 10
  health 'pg_isready -U postgres -d ztnet' every 30s, timeout 10s, 3 retries, start period 60s
container zerotier docker.io/zyclonite/zerotier:latest
  volume zerotier -> /var/lib/zerotier-one
  device /dev/net/tun
  cap NET_ADMIN
  init no, stop_timeout 10
  health 'zerotier-cli info' every 30s, timeout 10s, 3 retries, start period 60s
container ztnet docker.io/sinamics/ztnet:latest
  env NEXTAUTH_URL=https://localhost
  env NEXTAUTH_URL_INTERNAL=http://127.0.0.1:3000
  env PORT=3000
  env POSTGRES_DB=ztnet
  env POSTGRES_HOST=127.0.0.1
  env POSTGRES_PORT=5432
  env POSTGRES_USER=postgres
  env ZT_ADDR=http://127.0.0.1:9993
  secret POSTGRES_PASSWORD as POSTGRES_PASSWORD
  secret NEXTAUTH_SECRET as NEXTAUTH_SECRET
  volume zerotier -> /var/lib/zerotier-one
  exec env
  exec HOSTNAME=0.0.0.0
  exec node
  exec server.js
  after postgres
  after zerotier
  init yes, stop_timeout 10
  health 'curl -fsS -o /dev/null http://127.0.0.1:3000/ || exit 1' every 30s, timeout 10s, 3 retries, start period 120s
container caddy docker.io/library/caddy:2
  volume caddy_data -> /data
  volume caddy/Caddyfile -> /etc/caddy/Caddyfile read-only
  after ztnet
  init no, stop_timeout 10
  health 'wget -q -O /dev/null http://127.0.0.1:2019/config/ || exit 1' every 30s, timeout 10s, 3 retries, start period 60s
)";

} // namespace

TEST_CASE("every shipped profile carries the whole ZTNet stack", "[profile][stack]") {
  for (const std::string& name : zt::profile::profile_names()) {
    INFO(name);
    const auto profile = load_profile(name, "");
    if (!profile) {
      FAIL(zt::profile::to_string(profile.error()));
    }
    CHECK(describe(resolved(*profile, SiteConfig{})) == k_shipped_stack);
    // The profile keeps [stack] as written; only Config::stack has the placeholders filled in.
    const auto ztnet = std::ranges::find(profile->stack.containers, "ztnet", &zt::profile::Container::name);
    REQUIRE(ztnet != profile->stack.containers.end());
    CHECK(std::ranges::find(ztnet->env, std::pair<std::string, std::string>{
                                            "NEXTAUTH_URL", "https://{domain}"}) != ztnet->env.end());
    REQUIRE(profile->stack.files.size() == 1);
    CHECK(profile->stack.files[0].content.starts_with("{domain} {\n"));
  }
}

TEST_CASE("site overrides: domain, images, public and forwarded ports", "[profile][stack]") {
  const SiteConfig site = site_ok(R"([data]
[[data.dirs]]
name = "postgres-data"
container_uids = [70]
[[data.dirs]]
name = "zerotier"
[[data.dirs]]
name = "caddy_data"
[stack]
domain = "ztnet.example.com"
[stack.images]
postgres = "localhost/postgres:15"
caddy = "registry.example.com:5000/caddy:2.8"
[stack.ports]
zerotier = 19993
[stack.forward_ports]
https = 9443
http = 0
)");
  const Stack stack = resolved(debian12(), site);
  CHECK(stack.domain == "ztnet.example.com");
  REQUIRE(stack.containers.size() == 4);
  CHECK(stack.containers[0].image == "localhost/postgres:15");
  CHECK(stack.containers[1].image == "docker.io/zyclonite/zerotier:latest");
  CHECK(stack.containers[2].image == "docker.io/sinamics/ztnet:latest");
  CHECK(stack.containers[3].image == "registry.example.com:5000/caddy:2.8");
  CHECK(env_of(stack.containers[2], "NEXTAUTH_URL") == "https://ztnet.example.com");
  REQUIRE(stack.files.size() == 1);
  CHECK(stack.files[0].content == "ztnet.example.com {\n\treverse_proxy 127.0.0.1:3000\n}\n");
  REQUIRE(stack.ports.size() == 3);
  CHECK(stack.ports[0].port == 80);
  CHECK(stack.ports[0].forward_to == 0);
  CHECK(stack.ports[1].port == 443);
  CHECK(stack.ports[1].forward_to == 9443);
  CHECK(stack.ports[2].port == 19993);
  CHECK(stack.ports[2].container == 9993);

  // --set wins over the file, a later --set over an earlier one; --set reaches into the tables.
  const SiteConfig set =
      site_ok("[[data.dirs]]\nname = \"postgres-data\"\ncontainer_uids = [70]\n[[data.dirs]]\nname = "
              "\"zerotier\"\n[[data.dirs]]\nname = \"caddy_data\"\n"
              "[stack]\ndomain = \"a.example.com\"\n[stack.images]\npostgres = \"localhost/pg:1\"\n",
              {"stack.domain=10.0.0.5", "stack.images.postgres=localhost/postgres:15",
               "stack.images.postgres=\"quay.io/pg/postgres:16\"", "stack.ports.https=8443",
               "stack.forward_ports.http=18080"});
  const Stack overridden = resolved(debian12(), set);
  CHECK(overridden.domain == "10.0.0.5");
  CHECK(overridden.containers[0].image == "quay.io/pg/postgres:16");
  CHECK(env_of(overridden.containers[2], "NEXTAUTH_URL") == "https://10.0.0.5");
  CHECK(overridden.files[0].content == "10.0.0.5 {\n\treverse_proxy 127.0.0.1:3000\n}\n");
  CHECK(overridden.ports[0].forward_to == 18080);
  CHECK(overridden.ports[1].port == 8443);

  // No overrides: the profile's values, placeholders filled in.
  CHECK(describe(resolved(debian12(), site_ok(""))) == k_shipped_stack);
}

TEST_CASE("site [stack] values are checked while loading", "[profile][stack]") {
  CHECK(
      site_errors(R"([stack]
domian = "x"
domain = "Ztnet.Example.com"
[stack.images]
postgres = "postgres:15"
Caddy = "docker.io/library/caddy:2"
ztnet = 3
zerotier = "zyclonite/zerotier"
[stack.ports]
https = 0
http = 70000
[stack.forward_ports]
http = -1
)") ==
      std::vector<std::string>{
          "site.toml:2:1: unknown key 'domian' in [stack] (did you mean 'domain'?)",
          "site.toml:3:10: stack.domain: invalid domain 'Ztnet.Example.com' (a DNS name such as "
          "'ztnet.example.com', or an IPv4 address); use lower case a-z, 0-9, '-' and '.'",
          "site.toml:5:12: stack.images.postgres: 'postgres:15' is not fully qualified: name the registry, "
          "e.g. "
          "'docker.io/library/postgres:15' (podman auto-update and pulls without short-name prompts need it)",
          "site.toml:6:1: stack.images.Caddy: invalid container name 'Caddy' (a-z, 0-9, '-')",
          "site.toml:7:9: stack.images.ztnet: expected a string, got integer",
          "site.toml:8:12: stack.images.zerotier: 'zyclonite/zerotier' is not fully qualified: name the "
          "registry, e.g. 'docker.io/zyclonite/zerotier' (podman auto-update and pulls without short-name "
          "prompts need it)",
          "site.toml:10:9: stack.ports.https: must be between 1 and 65535, got 0",
          "site.toml:11:8: stack.ports.http: must be between 1 and 65535, got 70000",
          "site.toml:13:8: stack.forward_ports.http: must be between 0 and 65535, got -1",
      });

  CHECK(site_errors("", {"stack.images=docker.io/library/caddy:2", "stack.images.caddy=caddy",
                         "stack.domian=x", "stack.ports.http=x"}) ==
        std::vector<std::string>{
            "--set:1:1: stack.images: expected a table, got string",
            "--set:2:1: stack.images.caddy: 'caddy' is not fully qualified: name the registry, e.g. "
            "'docker.io/library/caddy' (podman auto-update and pulls without short-name prompts need it)",
            "--set:3:1: unknown key 'stack.domian' (did you mean 'stack.domain'?)",
            "--set:4:1: stack.ports.http: expected an integer, got string",
        });
}

TEST_CASE("site overrides that do not fit the profile point at the override", "[profile][stack]") {
  CHECK(resolve_errors(R"([stack.images]
postgrs = "localhost/postgres:15"
redis = "docker.io/library/redis:7"
[stack.ports]
htps = 8443
[stack.forward_ports]
ssh = 2222
)") == std::vector<std::string>{
           "site.toml:2:1: stack.images.postgrs: unknown container 'postgrs' (did you mean 'postgres'?)",
           "site.toml:3:1: stack.images.redis: unknown container 'redis' (containers of profile debian-12: "
           "postgres, zerotier, ztnet, caddy)",
           "site.toml:5:1: stack.ports.htps: unknown port 'htps' (did you mean 'https'?)",
           "site.toml:7:1: stack.forward_ports.ssh: unknown port 'ssh' (ports of profile debian-12: http, "
           "https, "
           "zerotier)",
       });

  CHECK(resolve_errors("", {"stack.images.postgrs=localhost/pg:15"}) ==
        std::vector<std::string>{
            "--set:1:1: stack.images.postgrs: unknown container 'postgrs' (did you mean 'postgres'?)"});

  // Ports that clash once the overrides are applied.
  CHECK(resolve_errors("", {"stack.ports.https=80"}) ==
        std::vector<std::string>{
            "--set:1:1: stack.ports: port 80/tcp is used by both 'https' and 'http'; choose another port"});
  CHECK(resolve_errors("[stack.forward_ports]\nhttps = 8080\n") ==
        std::vector<std::string>{"site.toml:2:1: stack.ports: port 8080/tcp is used by both 'https' and "
                                 "'http'; choose another port"});
  // Same number, other protocol: no clash.
  CHECK(resolved(debian12(), site_ok("", {"stack.ports.zerotier=443"})).ports[2].port == 443);

  // [[data.dirs]] replaced without the dirs the volumes need, or with the stack files' directory.
  CHECK(resolve_errors(R"(
[[data.dirs]]
name = "postgres-data"
container_uids = [70]
[[data.dirs]]
name = "caddy"
)") == std::vector<std::string>{
           "site.toml:2:1: data.dirs: no data dir 'zerotier' but container 'zerotier' mounts it at "
           "/var/lib/zerotier-one; add a [[data.dirs]] entry with name = \"zerotier\"",
           "site.toml:2:1: data.dirs: no data dir 'caddy_data' but container 'caddy' mounts it at /data; add "
           "a "
           "[[data.dirs]] entry with name = \"caddy_data\"",
           "site.toml:2:1: data.dirs: 'caddy' is the directory of the stack file 'caddy/Caddyfile'; give the "
           "data dir another name",
       });
}

TEST_CASE("a profile's own stack: placeholders, defaults, order", "[profile][stack]") {
  const auto profile = load_profile_from_string(k_head + R"([stack]
pod = "mypod"
[[stack.ports]]
name = "web"
port = 8000
[[stack.secrets]]
name = "TOKEN"
[[stack.files]]
path = "conf/app.conf"
content = "{pod} {unknown} {domain} { }"
[[stack.containers]]
name = "app"
image = "localhost/app"
secrets = [{ secret = "TOKEN" }]
volumes = [{ source = "conf/app.conf", target = "/etc/app.conf", read_only = true }, { source = "zerotier", target = "/z" }]
exec = ["--listen", "127.0.0.1:8000"]
[stack.containers.env]
NAME = "{pod}-{domain}"
)",
                                                "p.toml");
  if (!profile) {
    FAIL(zt::profile::to_string(profile.error()));
  }
  CHECK(describe(resolved(*profile, SiteConfig{})) == R"(pod mypod
domain localhost
port web 8000->8000/tcp forward_to 0
secret TOKEN 32 bytes
file conf/app.conf mode 420
mypod {unknown} localhost { }end of file
container app localhost/app
  env NAME=mypod-localhost
  secret TOKEN as TOKEN
  volume conf/app.conf -> /etc/app.conf read-only
  volume zerotier -> /z
  exec --listen
  exec 127.0.0.1:8000
  init no, stop_timeout 10
)");

  // A profile without [stack] (e.g. only host preparation) resolves to an empty stack.
  const auto bare = load_profile_from_string(k_head, "p.toml");
  REQUIRE(bare.has_value());
  const Stack empty = resolved(*bare, SiteConfig{});
  CHECK(empty.containers.empty());
  CHECK(empty.ports.empty());
}

TEST_CASE("malformed [stack] parts give file:line:col errors", "[profile][stack]") {
  struct Case {
    std::string name;
    std::string text; // from line 7
    std::vector<std::string> expected;
  };
  const std::vector<Case> cases = {
      {"ports",
       R"([[stack.ports]]
name = "web"
port = 0
protocol = "sctp"
[[stack.ports]]
name = "Web"
port = 70000
forward_to = 8080
[[stack.ports]]
prot = 1
)",
       {
           "p.toml:9:8: stack.ports[0].port: must be between 1 and 65535, got 0",
           "p.toml:10:12: stack.ports[0].protocol: unknown value 'sctp' (allowed: tcp, udp)",
           "p.toml:12:8: stack.ports[1].name: invalid port name 'Web' (a-z, 0-9, '-')",
           "p.toml:13:8: stack.ports[1].port: must be between 1 and 65535, got 70000",
           "p.toml:15:1: stack.ports[2]: missing required key 'name'",
           "p.toml:15:1: stack.ports[2]: missing required key 'port'",
           "p.toml:16:1: unknown key 'prot' in stack.ports[2] (did you mean 'port'?)",
       }},
      {"a host port used twice",
       R"([[stack.ports]]
name = "http"
port = 80
forward_to = 8080
[[stack.ports]]
name = "alt"
port = 8080
[[stack.ports]]
name = "http"
port = 81
)",
       {
           "p.toml:15:8: stack.ports[2].name: duplicate port name 'http' (also stack.ports[0])",
       }},
      {"a forward port that is another port's public port",
       R"([[stack.ports]]
name = "http"
port = 80
forward_to = 8080
[[stack.ports]]
name = "alt"
port = 8080
)",
       {
           "p.toml:11:1: stack.ports[1]: port 8080/tcp is also used by stack.ports[0] ('http')",
       }},
      {"container names, images, unknown keys",
       R"([[stack.containers]]
name = "db"
image = "postgres:15"
[[stack.containers]]
name = "Web_1"
image = "quay.io/x/y:1"
imgae = "x"
[[stack.containers]]
name = "x"
)",
       {
           "p.toml:9:9: stack.containers[0].image: 'postgres:15' is not fully qualified: name the registry, "
           "e.g. "
           "'docker.io/library/postgres:15' (podman auto-update and pulls without short-name prompts need "
           "it)",
           "p.toml:11:8: stack.containers[1].name: invalid container name 'Web_1' (a-z, 0-9, '-')",
           "p.toml:13:1: unknown key 'imgae' in stack.containers[1] (did you mean 'image'?)",
           "p.toml:14:1: stack.containers[2]: missing required key 'image'",
       }},
      {"after names earlier containers only",
       R"([[stack.containers]]
name = "db"
image = "docker.io/library/postgres:15"
after = ["web", "db", "cache"]
[[stack.containers]]
name = "cache"
image = "localhost/cache"
after = ["db", "dbb"]
[[stack.containers]]
name = "db"
image = "localhost/db"
)",
       {
           "p.toml:10:10: stack.containers[0].after[0]: unknown container 'web' (earlier containers: none)",
           "p.toml:10:17: stack.containers[0].after[1]: a container cannot start after itself",
           "p.toml:10:23: stack.containers[0].after[2]: 'cache' is listed later (containers start in the "
           "order "
           "listed: move 'cache' before 'db')",
           "p.toml:14:16: stack.containers[1].after[1]: unknown container 'dbb' (did you mean 'db'?)",
           "p.toml:16:8: stack.containers[2].name: duplicate container 'db' (also stack.containers[0])",
       }},
      {"secrets and mount sources must be declared",
       R"([[stack.secrets]]
name = "DB_PASSWORD"
[[stack.files]]
path = "conf/app.conf"
content = "x"
[[stack.containers]]
name = "db"
image = "docker.io/library/postgres:15"
secrets = [{ secret = "DB_PASSWRD" }, { secret = "API_KEY", env = "TOKEN" }]
volumes = [{ source = "postgres-data", target = "/data" }, { source = "conf/app.conf", target = "/c" }, { source = "cache", target = "/cache" }]
)",
       {
           "p.toml:15:23: stack.containers[0].secrets[0].secret: unknown secret 'DB_PASSWRD' (did you mean "
           "'DB_PASSWORD'?)",
           "p.toml:15:50: stack.containers[0].secrets[1].secret: unknown secret 'API_KEY' (declared in "
           "[[stack.secrets]]: DB_PASSWORD)",
           "p.toml:16:116: stack.containers[0].volumes[2].source: unknown mount source 'cache' (data dirs "
           "and "
           "stack files: postgres-data, zerotier, caddy_data, conf/app.conf)",
       }},
      {"container details",
       R"([[stack.containers]]
name = "app"
image = "docker.io/library/app:1"
secrets = [{ secret = "token" }]
volumes = [{ source = "../etc", target = "data" }]
devices = ["/dev/net/tun", "tun"]
add_capabilities = ["CAP_NET_ADMIN"]
stop_timeout = 0
health = { interval = "30 s", command = "" }
[stack.containers.env]
URL = "https://{domain}:{port}/"
1BAD = "x"
)",
       {
           "p.toml:10:23: stack.containers[0].secrets[0].secret: invalid secret name 'token' (A-Z, 0-9, '_')",
           "p.toml:11:23: stack.containers[0].volumes[0].source: invalid mount source '../etc' (a data dir "
           "name "
           "or a stack file path, relative to data_root)",
           "p.toml:11:42: stack.containers[0].volumes[0].target: must be an absolute path, got 'data'",
           "p.toml:12:28: stack.containers[0].devices[1]: expected a device path under /dev/, got 'tun'",
           "p.toml:13:21: stack.containers[0].add_capabilities[0]: invalid capability 'CAP_NET_ADMIN' (upper "
           "case without 'CAP_', e.g. 'NET_ADMIN')",
           "p.toml:14:16: stack.containers[0].stop_timeout: must be between 1 and 3600, got 0",
           "p.toml:15:23: stack.containers[0].health.interval: expected a duration such as \"30s\" or "
           "\"1m30s\", "
           "got '30 s'",
           "p.toml:15:41: stack.containers[0].health.command: must not be empty (leave out [health] for no "
           "health check)",
           "p.toml:17:7: stack.containers[0].env.URL: unknown placeholder '{port}' (known: {domain}, {pod})",
           "p.toml:18:1: stack.containers[0].env.1BAD: invalid environment variable name '1BAD' (letters, "
           "digits, '_'; not starting with a digit)",
       }},
      {"environment set twice, health without a command",
       R"([[stack.secrets]]
name = "TOKEN"
[[stack.containers]]
name = "app"
image = "docker.io/library/app:1"
secrets = [{ secret = "TOKEN" }, { secret = "TOKEN", env = "T2" }, { secret = "TOKEN", env = "T2" }]
health = { retries = 3 }
[stack.containers.env]
TOKEN = "x"
)",
       {
           "p.toml:9:1: stack.containers[0].health: missing required key 'command'",
           "p.toml:12:23: stack.containers[0].secrets[0]: 'TOKEN' is also set in stack.containers[0].env",
           "p.toml:12:94: stack.containers[0].secrets[2]: 'T2' is set by an earlier secret of this container",
       }},
      {"stack files",
       R"([[stack.files]]
path = "zerotier/local.conf"
content = "x"
[[stack.files]]
path = "caddy/Caddyfile"
content = "x"
[[stack.files]]
path = "caddy/Caddyfile"
content = "y"
mode = 0o4755
[[stack.files]]
path = "/etc/x"
)",
       {
           "p.toml:16:8: stack.files[2].mode: must be at most 0o777 (no setuid, setgid or sticky bits)",
           "p.toml:17:1: stack.files[3]: missing required key 'content'",
           "p.toml:18:8: stack.files[3].path: invalid path '/etc/x' (relative to data_root; components of "
           "letters, digits, '.', '_', '-')",
       }},
      {"stack files in data dirs or twice",
       R"([[stack.files]]
path = "zerotier/local.conf"
content = "x"
[[stack.files]]
path = "caddy/Caddyfile"
content = "x"
[[stack.files]]
path = "caddy/Caddyfile"
content = "y"
)",
       {
           "p.toml:8:8: stack.files[0].path: 'zerotier/local.conf' is in the data dir 'zerotier', which "
           "belongs "
           "to the containers; put stack files in a directory of their own",
           "p.toml:14:8: stack.files[2].path: duplicate file 'caddy/Caddyfile' (also stack.files[1])",
       }},
      {"pod, domain, secrets",
       R"([stack]
pod = "ZT"
domain = "-bad.example.com"
[[stack.secrets]]
name = "A"
bytes = 8
[[stack.secrets]]
name = "A"
)",
       {
           "p.toml:8:7: stack.pod: invalid pod name 'ZT' (a-z, 0-9, '-')",
           "p.toml:9:10: stack.domain: invalid domain '-bad.example.com' (a DNS name such as "
           "'ztnet.example.com', "
           "or an IPv4 address); use lower case a-z, 0-9, '-' and '.'",
           "p.toml:12:9: stack.secrets[0].bytes: must be between 16 and 1024, got 8",
       }},
      {"[ports] and [units]",
       "[ports]\nfirewall = \"iptables\"\n[units]\nselinux_labels = \"yes\"\nselinux = true\n",
       {
           "p.toml:8:12: ports.firewall: unknown value 'iptables' (allowed: nftables, firewalld)",
           "p.toml:10:18: units.selinux_labels: expected a boolean, got string",
           "p.toml:11:1: unknown key 'selinux' in [units]",
       }},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    CHECK(profile_errors(c.text) == c.expected);
  }
}

TEST_CASE("stack checks across layers name the file that broke the rule", "[profile][stack]") {
  // A profile that drops NEXTAUTH_SECRET from the base's secrets: the base's ztnet container still
  // uses it, and the error points into embedded:_base.toml.
  const auto& files = zt::profile::embedded_files();
  const auto base =
      std::ranges::find(files, std::string_view("_base.toml"), &zt::profile::EmbeddedFile::name);
  REQUIRE(base != files.end());
  const std::string_view text = base->text;
  const std::size_t ref = text.find("{ secret = \"NEXTAUTH_SECRET\"");
  REQUIRE(ref != std::string_view::npos);
  const std::size_t value = ref + std::string_view("{ secret = ").size();
  const auto line = 1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(value), '\n');
  const std::size_t col = value - text.rfind('\n', value);

  const auto loaded = load_profile_from_string(R"(include = ["debian-12.toml"]
[profile]
name = "mine"
[[stack.secrets]]
name = "POSTGRES_PASSWORD"
)",
                                               "mine.toml");
  REQUIRE_FALSE(loaded.has_value());
  CHECK(lines_of(loaded.error()) ==
        std::vector<std::string>{"embedded:_base.toml:" + std::to_string(line) + ":" + std::to_string(col) +
                                 ": stack.containers[2].secrets[1].secret: unknown secret 'NEXTAUTH_SECRET' "
                                 "(declared in [[stack.secrets]]: POSTGRES_PASSWORD)"});

  // Tables merge key by key: a profile may change the pod and domain alone and keep the rest.
  const auto renamed = load_profile_from_string(R"(include = ["debian-12.toml"]
[profile]
name = "mine"
[stack]
pod = "zt"
domain = "zt.example.com"
)",
                                                "mine.toml");
  REQUIRE(renamed.has_value());
  const Stack stack = resolved(*renamed, SiteConfig{});
  CHECK(stack.pod == "zt");
  CHECK(stack.containers.size() == 4);
  CHECK(env_of(stack.containers[2], "NEXTAUTH_URL") == "https://zt.example.com");
}

TEST_CASE("site overrides of the postgres image keep the data dir's uid (postgres contract 2)", "[profile][stack][contract]") {
  CHECK(zt::profile::known_postgres_uid("docker.io/library/postgres:15-alpine") == 70U);
  CHECK(zt::profile::known_postgres_uid("docker.io/library/postgres:16.4-alpine3.20") == 70U);
  CHECK(zt::profile::known_postgres_uid("docker.io/library/postgres:15") == 999U);
  CHECK(zt::profile::known_postgres_uid("docker.io/library/postgres:15-bookworm") == 999U);
  CHECK_FALSE(zt::profile::known_postgres_uid("localhost/postgres:15-alpine").has_value());
  CHECK_FALSE(zt::profile::known_postgres_uid("quay.io/pg/postgres:16").has_value());

  // The official Alpine image with the default data dirs (uid 70): accepted.
  CHECK(resolved(debian12(), site_ok("[stack.images]\npostgres = \"docker.io/library/postgres:16-alpine\"\n"))
            .containers[0]
            .image == "docker.io/library/postgres:16-alpine");
  // A Debian tag with the default data dirs: refused, with what to set.
  CHECK(resolve_errors("[stack.images]\npostgres = \"docker.io/library/postgres:15\"\n") ==
        std::vector<std::string>{
            "site.toml:2:1: stack.images.postgres: 'docker.io/library/postgres:15': the Debian-based postgres "
            "images run postgres as uid 999, but the default ACL of data dir 'postgres-data' is for uid 70 "
            "(postgres:*-alpine); use an -alpine tag, or set [[data.dirs]] in [data] (the whole list: "
            "postgres-data, zerotier, caddy_data) with container_uids = [UID] for postgres-data, UID being the "
            "uid the image runs postgres as (999)"});
  // An image ztagent cannot tell, with the default data dirs: refused; by --set too.
  const auto unknown = resolve_errors("", {"stack.images.postgres=localhost/postgres:15"});
  REQUIRE(unknown.size() == 1);
  CHECK(unknown[0].starts_with("--set:1:1: stack.images.postgres: 'localhost/postgres:15': ztagent cannot tell "
                               "which uid this image runs postgres as"));
  // Own data dirs: an unknown image is the site's word; a known uid must be listed.
  const std::string own = "[[data.dirs]]\nname = \"postgres-data\"\ncontainer_uids = [70]\n[[data.dirs]]\n"
                          "name = \"zerotier\"\n[[data.dirs]]\nname = \"caddy_data\"\n";
  CHECK(resolved(debian12(), site_ok(own + "[stack.images]\npostgres = \"localhost/postgres:15\"\n"))
            .containers[0]
            .image == "localhost/postgres:15");
  const auto debian_with_70 = resolve_errors(own + "[stack.images]\npostgres = \"docker.io/library/postgres:15\"\n");
  REQUIRE(debian_with_70.size() == 1);
  CHECK(debian_with_70[0] == "site.toml:1:1: data.dirs: 'postgres-data' has no container_uids entry for uid 999, "
                             "the uid 'docker.io/library/postgres:15' runs postgres as (stack.images.postgres); "
                             "add it to container_uids");
}
