// SPDX-License-Identifier: Apache-2.0
// The loader's value rules (agent/profile/rules.hpp), called directly: each rule's accepted and
// refused values at its edges. The loader tests (loader_test.cpp, stack_test.cpp) show the same
// rules through TOML with their file:line:col messages.
#include "profile/rules.hpp"
#include "support/catch.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace zt::profile::detail;

TEST_CASE("rules: squote escapes control characters and keeps the rest", "[profile][rules]") {
  CHECK(squote("bob") == "'bob'");
  CHECK(squote("a\nb\x7f") == "'a\\x0ab\\x7f'");
  CHECK(squote("") == "''");
}

TEST_CASE("rules: suggest finds close matches only, counting a transposition as one edit", "[profile][rules]") {
  constexpr std::string_view candidates[] = {"user", "home", "shell", "data_root"};
  CHECK(edit_distance("suer", "user") == 1);
  CHECK(edit_distance("", "abc") == 3);
  CHECK(suggest("suer", candidates) == std::optional<std::string_view>("user"));
  CHECK(suggest("data-root", candidates) == std::optional<std::string_view>("data_root"));
  CHECK_FALSE(suggest("xyzzy", candidates).has_value());
  CHECK_FALSE(suggest("x", std::span<const std::string_view>{}).has_value());
}

TEST_CASE("rules: unknown_name suggests, lists or says none", "[profile][rules]") {
  CHECK(unknown_name("container", "ztnt", {"ztnet", "caddy"}) ==
        "unknown container 'ztnt' (did you mean 'ztnet'?)");
  CHECK(unknown_name("port", "web", {"http", "https"}, "ports") == "unknown port 'web' (ports: http, https)");
  CHECK(unknown_name("secret", "X", {}) == "unknown secret 'X' (known: none)");
}

TEST_CASE("rules: user names follow shadow's rule", "[profile][rules]") {
  for (const std::string_view good : {"ztnet", "_svc", "a-b_c", "machine$", "a"}) {
    INFO(good);
    CHECK(is_valid_user_name(good));
  }
  const std::string too_long(33, 'a');
  for (const std::string_view bad : {std::string_view(), std::string_view("Bob"), std::string_view("1abc"),
                                     std::string_view("a$b"), std::string_view("-x"), std::string_view(too_long)}) {
    INFO(bad);
    CHECK_FALSE(is_valid_user_name(bad));
  }
  CHECK(is_valid_user_name(std::string(32, 'a')));
}

TEST_CASE("rules: path_problem accepts clean absolute paths only", "[profile][rules]") {
  CHECK_FALSE(path_problem("/opt/ztnet-data").has_value());
  CHECK(path_problem("") == std::optional<std::string_view>("must not be empty"));
  CHECK(path_problem("opt") == std::optional<std::string_view>("must be an absolute path"));
  CHECK(path_problem("/") == std::optional<std::string_view>("must not be '/'"));
  CHECK(path_problem("/opt/") == std::optional<std::string_view>("must not end in '/'"));
  CHECK(path_problem("/opt/a b").has_value());
  CHECK(path_problem("/opt/../etc").has_value());
  CHECK(path_problem("/opt//x").has_value());
  CHECK(path_problem("/opt/./x").has_value());
}

TEST_CASE("rules: identifiers, package names, versions, relative paths", "[profile][rules]") {
  CHECK(is_identifier("debian-12"));
  CHECK(is_identifier("ubuntu-24.04"));
  CHECK_FALSE(is_identifier("-x"));
  CHECK_FALSE(is_identifier("Debian"));
  CHECK(is_package_name("libstdc++6"));
  CHECK_FALSE(is_package_name("-o"));
  CHECK(is_version("4.9"));
  CHECK(is_version("5.0.1"));
  CHECK_FALSE(is_version("4."));
  CHECK_FALSE(is_version("v4"));
  CHECK(is_relative_path("caddy/Caddyfile"));
  CHECK_FALSE(is_relative_path("/caddy"));
  CHECK_FALSE(is_relative_path("a/../b"));
  CHECK_FALSE(is_relative_path("a//b"));
  CHECK(is_plain_component("pgdata"));
  CHECK_FALSE(is_plain_component(".."));
}

TEST_CASE("rules: modes are three octal digits with an optional leading 0", "[profile][rules]") {
  CHECK(parse_mode_string("0750") == std::optional<std::uint32_t>(0750));
  CHECK(parse_mode_string("644") == std::optional<std::uint32_t>(0644));
  CHECK_FALSE(parse_mode_string("1750").has_value());
  CHECK_FALSE(parse_mode_string("0758").has_value());
  CHECK_FALSE(parse_mode_string("75").has_value());
}

TEST_CASE("rules: stack, env, secret and capability names", "[profile][rules]") {
  CHECK(is_stack_name("ztnet"));
  CHECK(is_stack_name("pod-1"));
  CHECK_FALSE(is_stack_name("-pod"));
  CHECK_FALSE(is_stack_name(std::string(64, 'a')));
  CHECK(is_env_name("POSTGRES_USER"));
  CHECK(is_env_name("_x1"));
  CHECK_FALSE(is_env_name("1X"));
  CHECK_FALSE(is_env_name("A-B"));
  CHECK(is_secret_name("NEXTAUTH_SECRET"));
  CHECK_FALSE(is_secret_name("nextauth"));
  CHECK(is_capability("NET_ADMIN"));
  CHECK_FALSE(is_capability("CAP_NET_ADMIN"));
}

TEST_CASE("rules: durations as podman reads them", "[profile][rules]") {
  for (const std::string_view good : {"30s", "1m30s", "500ms", "2h", "1h2m3s4ms"}) {
    INFO(good);
    CHECK(is_duration(good));
  }
  for (const std::string_view bad : {"", "s", "30", "1d", "1.5s", "30 s"}) {
    INFO(bad);
    CHECK_FALSE(is_duration(bad));
  }
}

TEST_CASE("rules: image references must be fully qualified", "[profile][rules]") {
  CHECK_FALSE(image_problem("docker.io/library/postgres:15").has_value());
  CHECK_FALSE(image_problem("localhost/caddy:e2e").has_value());
  CHECK_FALSE(image_problem("registry:5000/x").has_value());
  const auto short_name = image_problem("postgres:15");
  REQUIRE(short_name.has_value());
  CHECK(short_name->find("docker.io/library/postgres:15") != std::string::npos);
  CHECK(image_problem("") == std::optional<std::string>("must not be empty"));
  CHECK(image_problem("docker.io/a b").has_value());
}

TEST_CASE("rules: domains are DNS names or IPv4 addresses", "[profile][rules]") {
  CHECK_FALSE(domain_problem("ztnet.example.org").has_value());
  CHECK_FALSE(domain_problem("192.168.1.10").has_value());
  CHECK_FALSE(domain_problem("localhost").has_value());
  CHECK(domain_problem("").has_value());
  CHECK(domain_problem("Ztnet.example.org").has_value());
  CHECK(domain_problem("-a.example").has_value());
  CHECK(domain_problem("a..b").has_value());
  CHECK(domain_problem("https://x").has_value());
}

TEST_CASE("rules: placeholders", "[profile][rules]") {
  CHECK(substitute("https://{domain}/x-{pod}", "ztnet.example.org", "ztnet") == "https://ztnet.example.org/x-ztnet");
  CHECK(substitute("{\n  reverse_proxy {pod}\n}", "d", "p") == "{\n  reverse_proxy p\n}");
  CHECK_FALSE(unknown_placeholder("{domain} {pod} { block } {Upper}").has_value());
  CHECK(unknown_placeholder("{domian}") == std::optional<std::string>("domian"));
}

TEST_CASE("rules: the default data dirs are what a profile's volumes may name", "[profile][rules]") {
  const std::vector<std::string> names = default_data_dir_names();
  CHECK(names == std::vector<std::string>{"postgres-data", "zerotier", "caddy_data"});
}

} // namespace
