// SPDX-License-Identifier: Apache-2.0
#include "checks/units.hpp"

#include "checks/data.hpp"
#include "checks/secrets.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <cctype>
#include <optional>
#include <set>

namespace zt::checks {

namespace {

constexpr std::string_view k_header = "# Managed by ztagent (step \"units\"): local edits are overwritten.\n";
constexpr std::string_view k_podman = "/usr/bin/podman";
constexpr std::string_view k_auto_update_timer = "podman-auto-update.timer";
constexpr std::string_view k_auto_update_timer_path = "/usr/lib/systemd/user/podman-auto-update.timer";

/// What systemd allows on top of the container's stop timeout (podman stop's SIGKILL after the
/// timeout, then the cleanup) before it kills podman itself. podman generate systemd uses 60 s; with
/// explicit stop timeouts 15 s is enough and keeps a stuck unit from stalling a reboot for minutes.
constexpr std::uint32_t k_stop_slack = 15;

struct Section {
  std::string name;
  std::vector<std::string> lines;
};

std::string render_sections(const std::vector<Section>& sections) {
  std::string out(k_header);
  for (const auto& section : sections) {
    if (section.lines.empty()) {
      continue;
    }
    out += "\n[" + section.name + "]\n";
    for (const auto& line : section.lines) {
      out += line;
      out += '\n';
    }
  }
  return out;
}

bool has_control(std::string_view text) {
  return std::any_of(text.begin(), text.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

/// '%' -> "%%" and, for ExecStart= values, '$' -> "$$". No quoting: for Quadlet keys podman reads
/// verbatim (Image=, Volume=, HealthCmd=, ...).
std::string escape_specifiers(std::string_view text, bool exec_line) {
  std::string out;
  for (char c : text) {
    if (c == '%') {
      out += "%%";
    } else if (c == '$' && exec_line) {
      out += "$$";
    } else {
      out += c;
    }
  }
  return out;
}

/// A value for a Quadlet key that podman takes verbatim; `what` names it in errors.
Result<std::string> raw_value(std::string_view value, std::string_view what) {
  if (has_control(value)) {
    return make_error(Errc::invalid_config, std::string(what) + ": contains a control character (newline?)");
  }
  return escape_specifiers(value, true);
}

bool valid_env_name(std::string_view key) {
  if (key.empty() || (std::isdigit(static_cast<unsigned char>(key.front())) != 0)) {
    return false;
  }
  return std::all_of(key.begin(), key.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; });
}

struct Renderer {
  const UnitsSpec& spec;
  const host::Account& account;
  UnitStyle style;
  SecretStore store;

  [[nodiscard]] std::string quadlet_dir() const { return account.home + "/.config/containers/systemd"; }
  [[nodiscard]] std::string systemd_dir() const { return user_systemd_dir(account); }
  [[nodiscard]] std::string pod_id_file() const { return "%t/" + spec.stack.pod + "-pod.pod-id"; }
  [[nodiscard]] std::string description(std::string_view what) const {
    return "Description=ZTNet stack: " + std::string(what);
  }

  [[nodiscard]] std::uint32_t pod_stop_timeout() const {
    std::uint32_t t = 10;
    for (const auto& c : spec.stack.containers) {
      t = std::max(t, c.stop_timeout);
    }
    return t;
  }

  [[nodiscard]] Result<std::vector<std::string>> publish_args() const {
    std::vector<std::string> out;
    for (const auto& port : spec.stack.ports) {
      if (port.protocol != "tcp" && port.protocol != "udp") {
        return make_error(Errc::invalid_config,
                          "port " + port.name + ": protocol '" + port.protocol + "' is not tcp or udp");
      }
      out.push_back(std::to_string(published_host_port(spec.port_strategy, port)) + ":" +
                    std::to_string(port.container) + "/" + port.protocol);
    }
    return out;
  }

  /// "<data_root>/<source>:<target>[:ro,Z]" — 'Z' (private label) when only this container mounts
  /// the source, 'z' (shared) when several do: a private label would lock the others out.
  [[nodiscard]] Result<std::string> volume(const profile::Mount& mount) const {
    if (mount.source.empty() || mount.source.front() == '/' || mount.source.find("..") != std::string::npos) {
      return make_error(Errc::invalid_config,
                        "volume '" + mount.source + "': source must be a path relative to data_root");
    }
    std::string out = spec.data_root + "/" + mount.source + ":" + mount.target;
    std::vector<std::string> opts;
    if (mount.read_only) {
      opts.emplace_back("ro");
    }
    if (spec.selinux_labels) {
      int users = 0;
      for (const auto& c : spec.stack.containers) {
        for (const auto& v : c.volumes) {
          users += v.source == mount.source ? 1 : 0;
        }
      }
      opts.emplace_back(users > 1 ? "z" : "Z");
    }
    if (!opts.empty()) {
      out += ":" + util::join(opts, ",");
    }
    return out;
  }

  [[nodiscard]] Result<const profile::SecretSpec*> secret_spec(const profile::Container& c,
                                                               const profile::SecretRef& ref) const {
    for (const auto& s : spec.stack.secrets) {
      if (s.name == ref.secret) {
        return &s;
      }
    }
    return make_error(Errc::invalid_config, "container " + c.name + ": secret '" + ref.secret +
                                                "' is not declared in [stack.secrets]");
  }

  /// "After="/"Requires=" on the services of c.after (and `extra` first).
  [[nodiscard]] Result<std::vector<std::string>> ordering(const profile::Container& c,
                                                          const std::vector<std::string>& extra) const {
    std::vector<std::string> services = extra;
    for (const auto& name : c.after) {
      auto it = std::find_if(spec.stack.containers.begin(), spec.stack.containers.end(),
                             [&](const profile::Container& o) { return o.name == name; });
      if (it == spec.stack.containers.end() || it->name == c.name) {
        return make_error(Errc::invalid_config, "container " + c.name + ": after = '" + name +
                                                    "' is not another container of the stack");
      }
      services.push_back(container_service(spec.stack, *it));
    }
    std::vector<std::string> lines;
    for (const auto& s : services) {
      lines.push_back("Requires=" + s);
      lines.push_back("After=" + s);
    }
    return lines;
  }

  [[nodiscard]] Result<void> check_container(const profile::Container& c) const {
    const std::string what = "container " + c.name;
    const auto slash = c.image.find('/');
    const std::string registry = slash == std::string::npos ? std::string() : c.image.substr(0, slash);
    if (registry.empty() || (registry.find_first_of(".:") == std::string::npos && registry != "localhost")) {
      return make_error(Errc::invalid_config, what + ": image '" + c.image +
                                                  "' is not fully qualified (registry/name:tag); podman "
                                                  "auto-update needs the registry");
    }
    for (const auto& [key, value] : c.env) {
      if (!valid_env_name(key)) {
        return make_error(Errc::invalid_config,
                          what + ": '" + key + "' is not a valid environment variable name");
      }
    }
    for (const auto& ref : c.secrets) {
      if (!valid_env_name(ref.env)) {
        return make_error(Errc::invalid_config, what + ": secret target '" + ref.env +
                                                    "' is not a valid environment variable name");
      }
    }
    return {};
  }

  // ---- Quadlet ----------------------------------------------------------------------------

  [[nodiscard]] Result<std::string> quadlet_pod_file() const {
    ZT_TRY_ASSIGN(ports, publish_args());
    std::vector<std::string> pod{"PodName=" + spec.stack.pod, "Network=" + std::string(pod_network(style))};
    for (const auto& p : ports) {
      pod.push_back("PublishPort=" + p);
    }
    return render_sections({{"Unit", {description("pod " + spec.stack.pod)}},
                            {"Pod", pod},
                            {"Install", {"WantedBy=default.target"}}});
  }

  [[nodiscard]] Result<std::string> quadlet_container_file(const profile::Container& c) const {
    ZT_TRY(check_container(c));
    const std::string what = "container " + c.name;
    std::vector<std::string> extra;
    if (style == UnitStyle::quadlet_container) {
      extra.push_back(pod_service(spec.stack));
    }
    ZT_TRY_ASSIGN(unit, ordering(c, extra));
    unit.insert(unit.begin(), description("container " + container_name(spec.stack, c)));

    std::vector<std::string> ctr;
    ctr.push_back("ContainerName=" + container_name(spec.stack, c));
    ZT_TRY_ASSIGN(image, raw_value(c.image, what + ": image"));
    ctr.push_back("Image=" + image);
    if (style == UnitStyle::quadlet_pod) {
      ctr.push_back("Pod=" + spec.stack.pod + ".pod");
    }
    ctr.push_back("AutoUpdate=" + std::string(auto_update_policy(c.image)));
    for (const auto& [key, value] : c.env) {
      auto assignment = environment_assignment(key, value, true);
      if (!assignment) {
        return std::unexpected(prefixed(what + ": env " + key, assignment.error()));
      }
      ctr.push_back("Environment=" + *assignment);
    }
    ZT_TRY(secret_lines(c, ctr));
    for (const auto& mount : c.volumes) {
      ZT_TRY_ASSIGN(v, volume(mount));
      ZT_TRY_ASSIGN(escaped, raw_value(v, what + ": volume"));
      ctr.push_back("Volume=" + escaped);
    }
    for (const auto& dev : c.devices) {
      ZT_TRY_ASSIGN(escaped, raw_value(dev, what + ": device"));
      ctr.push_back("AddDevice=" + escaped);
    }
    for (const auto& cap : c.add_capabilities) {
      ZT_TRY_ASSIGN(escaped, raw_value(cap, what + ": capability"));
      ctr.push_back("AddCapability=" + escaped);
    }
    if (c.init) {
      ctr.push_back("RunInit=true");
    }
    if (!c.health.command.empty()) {
      ZT_TRY_ASSIGN(cmd, raw_value(c.health.command, what + ": health command"));
      ctr.push_back("HealthCmd=" + cmd);
      ctr.push_back("HealthInterval=" + c.health.interval);
      ctr.push_back("HealthTimeout=" + c.health.timeout);
      ctr.push_back("HealthRetries=" + std::to_string(c.health.retries));
      ctr.push_back("HealthStartPeriod=" + c.health.start_period);
    }
    if (style == UnitStyle::quadlet_pod) {
      ctr.push_back("StopTimeout=" + std::to_string(c.stop_timeout));
    } else {
      // Podman 4.4-4.9 Quadlet has neither Pod= nor StopTimeout= (both 5.0): pass them through.
      ctr.push_back("PodmanArgs=--pod=" + spec.stack.pod +
                    " --stop-timeout=" + std::to_string(c.stop_timeout));
    }
    if (!c.exec.empty()) {
      std::vector<std::string> words;
      for (const auto& arg : c.exec) {
        auto word = systemd_word(arg, true);
        if (!word) {
          return std::unexpected(prefixed(what + ": exec", word.error()));
        }
        words.push_back(*word);
      }
      ctr.push_back("Exec=" + util::join(words, " "));
    }
    return render_sections(
        {{"Unit", unit},
         {"Container", ctr},
         {"Service",
          {"Restart=on-failure", "TimeoutStopSec=" + std::to_string(c.stop_timeout + k_stop_slack)}},
         {"Install", {"WantedBy=default.target"}}});
  }

  /// Secret= lines (podman store) or one EnvironmentFile= (files store).
  [[nodiscard]] Result<void> secret_lines(const profile::Container& c, std::vector<std::string>& out) const {
    if (c.secrets.empty()) {
      return {};
    }
    if (store == SecretStore::files) {
      ZT_TRY_ASSIGN(path,
                    raw_value(secret_env_file(account, spec.stack, c), "container " + c.name + ": env file"));
      out.push_back("EnvironmentFile=" + path);
      return {};
    }
    for (const auto& ref : c.secrets) {
      ZT_TRY_ASSIGN(secret, secret_spec(c, ref));
      out.push_back("Secret=" + podman_secret_name(spec.stack, *secret) + ",type=env,target=" + ref.env);
    }
    return {};
  }

  // ---- ztagent-written .service units (classic, and the quadlet_container pod) ------------

  static std::string exec_lines(std::string_view key, const std::vector<std::vector<std::string>>& groups) {
    std::vector<std::string> parts;
    for (const auto& g : groups) {
      parts.push_back(util::join(g, " "));
    }
    return std::string(key) + "=" + util::join(parts, " \\\n    ");
  }

  [[nodiscard]] Result<std::string> pod_service_file() const {
    ZT_TRY_ASSIGN(ports, publish_args());
    std::vector<std::string> unit{description("pod " + spec.stack.pod)};
    std::vector<std::string> services;
    for (const auto& c : spec.stack.containers) {
      services.push_back(container_service(spec.stack, c));
    }
    if (!services.empty()) {
      unit.push_back("Wants=" + util::join(services, " "));
      unit.push_back("Before=" + util::join(services, " "));
    }
    unit.push_back("RequiresMountsFor=%t/containers");

    std::vector<std::vector<std::string>> create{
        {std::string(k_podman), "pod", "create"},
        {"--pod-id-file", pod_id_file()},
        {"--replace"},
        {"--name", spec.stack.pod},
        {"--network", std::string(pod_network(style))},
    };
    for (const auto& p : ports) {
      create.push_back({"-p", p});
    }
    const std::string t = std::to_string(pod_stop_timeout());
    // A oneshot that stays active, not Type=forking with the infra conmon's PID file: systemd 252
    // (Debian 12) refuses that PID ("New main PID ... does not belong to service, and PID file is not
    // owned by root. Refusing." [podman#15032]); the containers are supervised by their own units,
    // which are bound to this one.
    std::vector<std::string> service{
        "Type=oneshot",
        "RemainAfterExit=yes",
        "Environment=PODMAN_SYSTEMD_UNIT=%n",
        "TimeoutStopSec=" + std::to_string(pod_stop_timeout() + k_stop_slack),
        "ExecStartPre=/bin/rm -f " + pod_id_file(),
        exec_lines("ExecStartPre", create),
        std::string("ExecStart=") + std::string(k_podman) + " pod start --pod-id-file " + pod_id_file(),
        std::string("ExecStop=") + std::string(k_podman) + " pod stop --ignore --pod-id-file " +
            pod_id_file() + " -t " + t,
        std::string("ExecStopPost=") + std::string(k_podman) + " pod rm --ignore -f --pod-id-file " +
            pod_id_file(),
    };
    return render_sections({{"Unit", unit}, {"Service", service}, {"Install", {"WantedBy=default.target"}}});
  }

  [[nodiscard]] Result<std::string> classic_container_file(const profile::Container& c) const {
    ZT_TRY(check_container(c));
    const std::string what = "container " + c.name;
    ZT_TRY_ASSIGN(unit, ordering(c, {pod_service(spec.stack)}));
    unit.insert(unit.begin(), description("container " + container_name(spec.stack, c)));
    unit.push_back("RequiresMountsFor=%t/containers");

    // `podman run` in the foreground as the main process (Type=simple), not `-d --sdnotify=conmon`
    // with Type=notify: under systemd 252's user manager (Debian 12) conmon's MAINPID is not accepted
    // for a container in a pod and every start ends in result 'protocol' (seen in the debian12-classic
    // e2e scenario). systemd supervises podman, podman its container; stopping runs `podman stop`.
    std::vector<std::string> service{"Type=simple", "Environment=PODMAN_SYSTEMD_UNIT=%n"};
    std::vector<std::vector<std::string>> run{
        {std::string(k_podman), "run"},
        {"--cidfile=%t/%n.ctr-id"},
        {"--rm"},
        {"--pod-id-file", pod_id_file()},
        {"--replace"},
        {"--name", container_name(spec.stack, c)},
        {"--label", "io.containers.autoupdate=" + std::string(auto_update_policy(c.image))},
    };
    // Values go into Environment= (quoted once, for systemd) and podman takes them from there with
    // `--env NAME`: one quoting rule instead of two nested ones.
    for (const auto& [key, value] : c.env) {
      auto assignment = environment_assignment(key, value, false);
      if (!assignment) {
        return std::unexpected(prefixed(what + ": env " + key, assignment.error()));
      }
      service.push_back("Environment=" + *assignment);
      run.push_back({"--env", key});
    }
    if (!c.secrets.empty()) {
      if (store == SecretStore::files) {
        ZT_TRY_ASSIGN(path, systemd_word(secret_env_file(account, spec.stack, c), true));
        run.push_back({"--env-file", path});
      } else {
        for (const auto& ref : c.secrets) {
          ZT_TRY_ASSIGN(secret, secret_spec(c, ref));
          run.push_back(
              {"--secret", podman_secret_name(spec.stack, *secret) + ",type=env,target=" + ref.env});
        }
      }
    }
    for (const auto& mount : c.volumes) {
      ZT_TRY_ASSIGN(v, volume(mount));
      auto word = systemd_word(v, true);
      if (!word) {
        return std::unexpected(prefixed(what + ": volume", word.error()));
      }
      run.push_back({"-v", *word});
    }
    for (const auto& dev : c.devices) {
      ZT_TRY_ASSIGN(word, systemd_word(dev, true));
      run.push_back({"--device", word});
    }
    for (const auto& cap : c.add_capabilities) {
      ZT_TRY_ASSIGN(word, systemd_word(cap, true));
      run.push_back({"--cap-add", word});
    }
    if (c.init) {
      run.push_back({"--init"});
    }
    if (!c.health.command.empty()) {
      auto cmd = systemd_word(c.health.command, true);
      if (!cmd) {
        return std::unexpected(prefixed(what + ": health command", cmd.error()));
      }
      run.push_back({"--health-cmd", *cmd});
      run.push_back({"--health-interval", c.health.interval});
      run.push_back({"--health-timeout", c.health.timeout});
      run.push_back({"--health-retries", std::to_string(c.health.retries)});
      run.push_back({"--health-start-period", c.health.start_period});
    }
    run.push_back({"--stop-timeout", std::to_string(c.stop_timeout)});
    ZT_TRY_ASSIGN(image, systemd_word(c.image, true));
    std::vector<std::string> last{image};
    for (const auto& arg : c.exec) {
      auto word = systemd_word(arg, true);
      if (!word) {
        return std::unexpected(prefixed(what + ": exec", word.error()));
      }
      last.push_back(*word);
    }
    run.push_back(last);

    const std::string t = std::to_string(c.stop_timeout);
    service.push_back("Restart=on-failure");
    service.push_back("TimeoutStopSec=" + std::to_string(c.stop_timeout + k_stop_slack));
    service.push_back("ExecStartPre=/bin/rm -f %t/%n.ctr-id");
    service.push_back(exec_lines("ExecStart", run));
    service.push_back(std::string("ExecStop=") + std::string(k_podman) + " stop --ignore -t " + t +
                      " --cidfile=%t/%n.ctr-id");
    service.push_back(std::string("ExecStopPost=") + std::string(k_podman) + " rm -f --ignore -t " + t +
                      " --cidfile=%t/%n.ctr-id");
    return render_sections({{"Unit", unit}, {"Service", service}, {"Install", {"WantedBy=default.target"}}});
  }
};

std::string wants_dir(const host::Account& account, std::string_view target) {
  return user_systemd_dir(account) + "/" + std::string(target) + ".wants";
}

} // namespace

UnitsSpec units_spec_from(const profile::Config& config) {
  UnitsSpec spec;
  spec.user = config.site.user;
  spec.data_root = config.site.data_root;
  spec.port_strategy = config.site.port_strategy;
  spec.selinux_labels = config.profile.selinux_labels;
  spec.profile = config.profile;
  spec.stack = config.stack;
  return spec;
}


Result<std::string> systemd_word(std::string_view word, bool exec_line) {
  if (has_control(word)) {
    return make_error(Errc::invalid_config,
                      "contains a control character (newline?), which a unit file cannot hold");
  }
  const std::string escaped = escape_specifiers(word, exec_line);
  const bool quote = escaped.empty() || escaped.find_first_of(" \"'\\;") != std::string::npos;
  if (!quote) {
    return escaped;
  }
  std::string out = "\"";
  for (char c : escaped) {
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  out += '"';
  return out;
}

Result<std::string> environment_assignment(std::string_view key, std::string_view value, bool exec_line) {
  if (!valid_env_name(key)) {
    return make_error(Errc::invalid_config,
                      "'" + std::string(key) + "' is not a valid environment variable name");
  }
  return systemd_word(std::string(key) + "=" + std::string(value), exec_line);
}

std::string_view auto_update_policy(std::string_view image) {
  return image.starts_with("localhost/") ? "local" : "registry";
}

std::string_view auto_update_timer_unit() {
  return k_auto_update_timer_path;
}

Result<RenderedUnits>
render_units(const UnitsSpec& spec, const host::Account& account, UnitStyle style, SecretStore store) {
  const Renderer r{spec, account, style, store};
  RenderedUnits out;
  auto add_unit = [&](std::string path, Result<std::string> content) -> Result<void> {
    if (!content) {
      return std::unexpected(prefixed("units", content.error()));
    }
    out.files.push_back({std::move(path), std::move(*content), 0644, ManagedFile::Kind::unit, account.home});
    return {};
  };
  auto link = [&](const std::string& service) {
    out.links.push_back({wants_dir(account, "default.target") + "/" + service, "../" + service});
  };

  switch (style) {
  case UnitStyle::quadlet_pod:
    ZT_TRY(add_unit(r.quadlet_dir() + "/" + spec.stack.pod + ".pod", r.quadlet_pod_file()));
    for (const auto& c : spec.stack.containers) {
      ZT_TRY(add_unit(r.quadlet_dir() + "/" + container_name(spec.stack, c) + ".container",
                      r.quadlet_container_file(c)));
    }
    break;
  case UnitStyle::quadlet_container:
    ZT_TRY(add_unit(r.systemd_dir() + "/" + pod_service(spec.stack), r.pod_service_file()));
    link(pod_service(spec.stack));
    for (const auto& c : spec.stack.containers) {
      ZT_TRY(add_unit(r.quadlet_dir() + "/" + container_name(spec.stack, c) + ".container",
                      r.quadlet_container_file(c)));
    }
    break;
  case UnitStyle::classic:
    ZT_TRY(add_unit(r.systemd_dir() + "/" + pod_service(spec.stack), r.pod_service_file()));
    link(pod_service(spec.stack));
    for (const auto& c : spec.stack.containers) {
      ZT_TRY(add_unit(r.systemd_dir() + "/" + container_service(spec.stack, c), r.classic_container_file(c)));
      link(container_service(spec.stack, c));
    }
    break;
  }
  out.links.push_back({wants_dir(account, "timers.target") + "/" + std::string(k_auto_update_timer),
                       std::string(k_auto_update_timer_path)});

  for (const auto& file : spec.stack.files) {
    if (file.path.empty() || file.path.front() == '/' || file.path.find("..") != std::string::npos) {
      return make_error(Errc::invalid_config,
                        "units: stack file '" + file.path + "': path must be relative to data_root");
    }
    out.files.push_back({spec.data_root + "/" + file.path, file.content, file.mode,
                         ManagedFile::Kind::stack_file, spec.data_root});
  }
  return out;
}

std::vector<std::string>
style_unit_paths(const profile::Stack& stack, const host::Account& account, UnitStyle style) {
  const std::string quadlet = account.home + "/.config/containers/systemd";
  const std::string user = user_systemd_dir(account);
  std::vector<std::string> out;
  if (style == UnitStyle::quadlet_pod) {
    out.push_back(quadlet + "/" + stack.pod + ".pod");
  } else {
    out.push_back(user + "/" + pod_service(stack));
  }
  for (const auto& c : stack.containers) {
    out.push_back(style == UnitStyle::classic ? user + "/" + container_service(stack, c)
                                              : quadlet + "/" + container_name(stack, c) + ".container");
  }
  return out;
}

std::vector<std::string>
style_link_paths(const profile::Stack& stack, const host::Account& account, UnitStyle style) {
  std::vector<std::string> out;
  if (style != UnitStyle::quadlet_pod) {
    out.push_back(wants_dir(account, "default.target") + "/" + pod_service(stack));
  }
  if (style == UnitStyle::classic) {
    for (const auto& c : stack.containers) {
      out.push_back(wants_dir(account, "default.target") + "/" + container_service(stack, c));
    }
  }
  out.push_back(wants_dir(account, "timers.target") + "/" + std::string(k_auto_update_timer));
  return out;
}

Result<UnitsContext> resolve_units_context(const host::HostView& host, const UnitsSpec& spec) {
  auto account = host.accounts().user(spec.user);
  if (!account) {
    return std::unexpected(account.error());
  }
  if (!*account) {
    return make_error(Errc::not_found, "user " + spec.user + " does not exist (run the user step first)");
  }
  UnitsContext ctx;
  ctx.account = **account;
  ZT_TRY_ASSIGN(version, installed_podman_version(host, spec.profile));
  ctx.podman_version = version;
  ZT_TRY_ASSIGN(style, style_for_podman(version));
  ctx.style = style;
  ZT_TRY_ASSIGN(store, choose_secret_store(host, ctx.account));
  ctx.store = store;
  return ctx;
}

Result<std::vector<UnitStyle>>
styles_on_disk(const host::HostView& host, const UnitsSpec& spec, const host::Account& account) {
  auto exists = [&](const std::string& path) -> Result<bool> {
    ZT_TRY_ASSIGN(st, host.fs().lstat(path));
    return st.exists();
  };
  const auto& stack = spec.stack;
  // Distinguishing files: the .pod (quadlet_pod), a .container without a .pod (quadlet_container),
  // a ztagent-written <pod>-<name>.service (classic). The pod .service alone is shared by
  // quadlet_container and classic and decides nothing.
  ZT_TRY_ASSIGN(pod_file, exists(style_unit_paths(stack, account, UnitStyle::quadlet_pod).front()));
  bool any_container = false;
  bool any_classic = false;
  const auto quadlet_paths = style_unit_paths(stack, account, UnitStyle::quadlet_container);
  const auto classic_paths = style_unit_paths(stack, account, UnitStyle::classic);
  for (std::size_t i = 1; i < quadlet_paths.size(); ++i) {
    ZT_TRY_ASSIGN(q, exists(quadlet_paths[i]));
    ZT_TRY_ASSIGN(c, exists(classic_paths[i]));
    any_container = any_container || q;
    any_classic = any_classic || c;
  }
  std::vector<UnitStyle> out;
  if (pod_file) {
    out.push_back(UnitStyle::quadlet_pod);
  }
  if (any_container && !pod_file) {
    out.push_back(UnitStyle::quadlet_container);
  }
  if (any_classic) {
    out.push_back(UnitStyle::classic);
  }
  return out;
}

// ---- checks -----------------------------------------------------------------------------------

namespace {

class UnitsCheck : public BasicCheck {
public:
  UnitsCheck(UnitsSpec spec, std::string id, std::string description, std::string expected)
      : BasicCheck(std::move(id), "units", std::move(description)), m_spec(std::move(spec)),
        m_expected(std::move(expected)) {}

  [[nodiscard]] CheckResult run(const host::HostView& host) const override {
    auto ctx = resolve_units_context(host, m_spec);
    if (!ctx) {
      if (ctx.error().code == Errc::not_found) {
        return fail(m_expected, ctx.error().message, "ztagent provision");
      }
      return error(m_expected, ctx.error().message);
    }
    return judge(host, *ctx);
  }

protected:
  [[nodiscard]] virtual CheckResult judge(const host::HostView& host, const UnitsContext& ctx) const = 0;

  [[nodiscard]] Result<RenderedUnits> rendered(const UnitsContext& ctx) const {
    return render_units(m_spec, ctx.account, ctx.style, ctx.store);
  }

  UnitsSpec m_spec;
  std::string m_expected;
};

const std::string k_fix = "ztagent provision --only units";

} // namespace

host::UntrustedRead unit_file_rules(const host::Account& account) {
  (void)account; // any owner: the bytes are only compared, never copied; units.owner-mode judges it
  return host::UntrustedRead{.max_bytes = host::k_max_config_bytes, .owners = {}};
}

namespace {

class UnitsFiles final : public UnitsCheck {
public:
  explicit UnitsFiles(const UnitsSpec& spec)
      : UnitsCheck(spec,
                   "units.files",
                   "every unit file and stack file has exactly the rendered content",
                   "unit and stack files as rendered") {}

protected:
  [[nodiscard]] CheckResult judge(const host::HostView& host, const UnitsContext& ctx) const override {
    auto r = rendered(ctx);
    if (!r) {
      return error(m_expected, r.error().message);
    }
    for (const auto& file : r->files) {
      // One no-follow open of a file the user controls: never a FIFO, device or symlink target.
      auto opened = host.fs().read_untrusted(file.path, unit_file_rules(ctx.account));
      if (!opened) {
        if (opened.error().code == Errc::refused) {
          return fail(m_expected, opened.error().message, "remove it, then: " + k_fix);
        }
        return error(m_expected, opened.error().message);
      }
      const host::FileStat* st = &opened->st;
      if (!st->exists()) {
        return fail(m_expected, file.path + " is missing", k_fix);
      }
      if (st->type != host::FileType::regular) {
        return fail(m_expected, file.path + " is " + host::describe(st->type), "remove it, then: " + k_fix);
      }
      const std::string* content = &opened->content;
      if (*content == file.content) {
        continue;
      }
      // Name the first differing line, never its content (a tampered file may hold a secret).
      const auto want = util::lines(file.content);
      const auto have = util::lines(*content);
      std::size_t i = 0;
      while (i < want.size() && i < have.size() && want[i] == have[i]) {
        ++i;
      }
      std::string where = i < want.size() && i < have.size() ? "line " + std::to_string(i + 1) + " differs"
                          : i < want.size()                  ? "ends before line " + std::to_string(i + 1)
                          : i < have.size() ? "has extra lines from line " + std::to_string(i + 1)
                                            : "differs in line endings";
      return fail(m_expected, file.path + ": " + where, k_fix);
    }
    return pass(m_expected, std::to_string(r->files.size()) + " files as rendered (" +
                                std::string(to_string(ctx.style)) + ", secrets in " +
                                std::string(to_string(ctx.store)) + ")");
  }
};

class UnitsOwnerMode final : public UnitsCheck {
public:
  explicit UnitsOwnerMode(const UnitsSpec& spec)
      : UnitsCheck(spec,
                   "units.owner-mode",
                   "unit and stack files are owned by the service user, mode 0644",
                   "owned by " + spec.user + ", mode 0644") {}

protected:
  [[nodiscard]] CheckResult judge(const host::HostView& host, const UnitsContext& ctx) const override {
    auto r = rendered(ctx);
    if (!r) {
      return error(m_expected, r.error().message);
    }
    std::size_t present = 0;
    for (const auto& file : r->files) {
      auto st = host.fs().lstat(file.path);
      if (!st) {
        return error(m_expected, st.error().message);
      }
      if (!st->exists()) {
        continue; // units.files reports it
      }
      ++present;
      if (st->uid != ctx.account.uid || st->gid != ctx.account.gid || (st->mode & 07777) != file.mode ||
          st->type != host::FileType::regular) {
        return fail(m_expected,
                    file.path + ": " +
                        (st->type == host::FileType::regular ? "" : host::describe(st->type) + ", ") +
                        "owner " + owner_text(host.accounts(), st->uid, st->gid) + ", mode " +
                        util::format_mode(st->mode & 07777) + " (want " + util::format_mode(file.mode) + ")",
                    k_fix);
      }
    }
    if (present == 0) {
      return skip(m_expected, "no unit files present (units.files reports them)");
    }
    return pass(m_expected, std::to_string(present) + " files owned by " +
                                owner_text(host.accounts(), ctx.account.uid, ctx.account.gid) +
                                " with the right mode");
  }
};

class UnitsEnabled final : public UnitsCheck {
public:
  explicit UnitsEnabled(const UnitsSpec& spec)
      : UnitsCheck(spec,
                   "units.enabled",
                   "the stack's units and podman-auto-update.timer are enabled",
                   "enablement symlinks present") {}

protected:
  [[nodiscard]] CheckResult judge(const host::HostView& host, const UnitsContext& ctx) const override {
    auto r = rendered(ctx);
    if (!r) {
      return error(m_expected, r.error().message);
    }
    for (const auto& link : r->links) {
      auto st = host.fs().lstat(link.path);
      if (!st) {
        return error(m_expected, st.error().message);
      }
      if (!st->exists()) {
        return fail(m_expected, link.path + " is missing", k_fix);
      }
      if (st->type != host::FileType::symlink) {
        return fail(m_expected, link.path + " is " + host::describe(st->type) + ", not a symlink",
                    "remove it, then: " + k_fix);
      }
      auto target = host.fs().read_link(link.path);
      if (!target) {
        return error(m_expected, target.error().message);
      }
      if (*target != link.target) {
        return fail(m_expected, link.path + " -> " + *target + " (want " + link.target + ")", k_fix);
      }
    }
    // A link under a name of this stack's units that the installed style does not use (e.g. a
    // planted default.target.wants/ztnet-pod.service -> /etc/shadow next to Quadlet .pod units):
    // the units step removes exactly these names.
    std::set<std::string> wanted;
    for (const auto& link : r->links) {
      wanted.insert(link.path);
    }
    for (UnitStyle other : {UnitStyle::quadlet_pod, UnitStyle::quadlet_container, UnitStyle::classic}) {
      for (const auto& path : style_link_paths(m_spec.stack, ctx.account, other)) {
        if (!wanted.insert(path).second) {
          continue;
        }
        auto st = host.fs().lstat(path);
        if (!st) {
          return error(m_expected, st.error().message);
        }
        if (!st->exists()) {
          continue;
        }
        std::string what = path + " is " + host::describe(st->type);
        if (st->type == host::FileType::symlink) {
          auto target = host.fs().read_link(path);
          what = path + " -> " + (target ? *target : std::string("?"));
        }
        return fail(m_expected,
                    what + ": not a link of " + std::string(to_string(ctx.style)) + " units for podman " +
                        ctx.podman_version,
                    k_fix);
      }
    }
    auto timer = host.fs().lstat(std::string(auto_update_timer_unit()));
    if (!timer) {
      return error(m_expected, timer.error().message);
    }
    if (!timer->exists()) {
      return fail(m_expected,
                  std::string(auto_update_timer_unit()) + " is missing (podman package incomplete?)",
                  "reinstall podman: ztagent provision --only packages");
    }
    return pass(m_expected, std::to_string(r->links.size()) + " symlinks present");
  }
};

/// "ENV=value" lines of a secret env file; values only (for the no-secrets scan).
std::vector<std::pair<std::string, std::string>> parse_env_lines(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  for (auto line : util::lines(text)) {
    auto eq = line.find('=');
    if (eq == std::string_view::npos || line.starts_with('#')) {
      continue;
    }
    out.emplace_back(std::string(line.substr(0, eq)), std::string(line.substr(eq + 1)));
  }
  return out;
}

/// Line number (1-based) where `name=` appears as a whole word (a literal assignment), or 0.
std::size_t assignment_line(std::string_view content, std::string_view name) {
  const std::string needle = std::string(name) + "=";
  std::size_t line_no = 0;
  for (auto line : util::lines(content)) {
    ++line_no;
    for (std::size_t pos = line.find(needle); pos != std::string_view::npos;
         pos = line.find(needle, pos + 1)) {
      const char before = pos == 0 ? ' ' : line[pos - 1];
      if (std::isalnum(static_cast<unsigned char>(before)) == 0 && before != '_') {
        return line_no;
      }
    }
  }
  return 0;
}

class UnitsNoSecrets final : public UnitsCheck {
public:
  explicit UnitsNoSecrets(const UnitsSpec& spec)
      : UnitsCheck(spec,
                   "units.no-secrets",
                   "no unit file holds a secret value or assigns a secret variable",
                   "no secret in any unit file") {}

protected:
  [[nodiscard]] CheckResult judge(const host::HostView& host, const UnitsContext& ctx) const override {
    // Values known from the files store (podman secrets cannot be read back without running podman).
    std::vector<std::pair<std::string, std::string>> values;
    if (ctx.store == SecretStore::files) {
      for (const auto& c : m_spec.stack.containers) {
        if (c.secrets.empty()) {
          continue;
        }
        // Opened once without following a symlink; a FIFO or device is never opened for reading
        // (a FIFO here used to block verify forever) and secrets.present reports it.
        auto text = host.fs().read_untrusted(secret_env_file(ctx.account, m_spec.stack, c),
                                             env_file_rules(ctx.account));
        if (!text) {
          if (text.error().code == Errc::refused) {
            continue; // secrets.present fails naming the file
          }
          return error(m_expected, text.error().message);
        }
        for (auto& kv : parse_env_lines(text->content)) {
          if (!kv.second.empty()) {
            values.push_back(std::move(kv));
          }
        }
      }
    }
    std::set<std::string> names;
    for (const auto& s : m_spec.stack.secrets) {
      names.insert(s.name);
    }
    for (const auto& c : m_spec.stack.containers) {
      for (const auto& ref : c.secrets) {
        names.insert(ref.env);
      }
    }
    std::size_t scanned = 0;
    for (UnitStyle style : {UnitStyle::quadlet_pod, UnitStyle::quadlet_container, UnitStyle::classic}) {
      for (const auto& path : style_unit_paths(m_spec.stack, ctx.account, style)) {
        auto opened = host.fs().read_untrusted(path, unit_file_rules(ctx.account));
        if (!opened) {
          if (opened.error().code == Errc::refused) {
            return fail(m_expected, opened.error().message, "remove it, then: " + k_fix);
          }
          return error(m_expected, opened.error().message);
        }
        if (opened->st.type != host::FileType::regular) {
          continue;
        }
        const std::string* content = &opened->content;
        ++scanned;
        for (const auto& [env, value] : values) {
          if (content->find(value) != std::string::npos) {
            return fail(m_expected, path + " contains the value of " + env,
                        "remove the value from the file (and rotate the secret), then: " + k_fix);
          }
        }
        for (const auto& name : names) {
          if (auto line = assignment_line(*content, name); line != 0) {
            return fail(m_expected, path + ": line " + std::to_string(line) + " assigns " + name,
                        "remove the assignment (and rotate the secret), then: " + k_fix);
          }
        }
      }
    }
    return pass(m_expected, std::to_string(scanned) + " unit files hold no secret");
  }
};

std::string style_list(const std::vector<UnitStyle>& styles) {
  std::vector<std::string> names;
  for (auto s : styles) {
    names.emplace_back(to_string(s));
  }
  return util::join(names, " and ");
}

class UnitsStyle final : public UnitsCheck {
public:
  explicit UnitsStyle(const UnitsSpec& spec)
      : UnitsCheck(spec,
                   "units.style",
                   "the unit files on disk have the style the installed podman needs",
                   "units in the style of the installed podman") {}

protected:
  [[nodiscard]] CheckResult judge(const host::HostView& host, const UnitsContext& ctx) const override {
    const std::string expected =
        "podman " + ctx.podman_version + " needs " + std::string(to_string(ctx.style)) + " units";
    auto found = styles_on_disk(host, m_spec, ctx.account);
    if (!found) {
      return error(expected, found.error().message);
    }
    if (found->size() == 1 && found->front() == ctx.style) {
      return pass(expected, std::string(to_string(ctx.style)) + " files");
    }
    const std::string actual =
        expected + ", found " + (found->empty() ? "no unit files" : style_list(*found) + " files");
    return fail(expected, actual, k_fix);
  }
};

} // namespace

std::vector<std::unique_ptr<Check>> make_units_checks(const UnitsSpec& spec) {
  std::vector<std::unique_ptr<Check>> out;
  out.push_back(std::make_unique<UnitsFiles>(spec));
  out.push_back(std::make_unique<UnitsOwnerMode>(spec));
  out.push_back(std::make_unique<UnitsEnabled>(spec));
  out.push_back(std::make_unique<UnitsNoSecrets>(spec));
  out.push_back(std::make_unique<UnitsStyle>(spec));
  return out;
}

} // namespace zt::checks
