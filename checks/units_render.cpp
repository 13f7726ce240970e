// SPDX-License-Identifier: Apache-2.0
// The units renderer (checks/units.hpp): the exact bytes of every unit file per style and podman
// version, the stack's files, the enablement links and the names of each style's files. Pure: no
// host access. The units checks and resolve_units_context() are in units.cpp.
#include "checks/units.hpp"

#include "checks/units_versions.hpp"
#include "host/user_session.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <cctype>

namespace zt::checks {

namespace {

constexpr std::string_view k_header = "# Managed by ztagent (step \"units\"): local edits are overwritten.\n";
constexpr std::string_view k_podman = "/usr/bin/podman";
constexpr std::string_view k_auto_update_timer = "podman-auto-update.timer";
constexpr std::string_view k_auto_update_timer_path = "/usr/lib/systemd/user/podman-auto-update.timer";
constexpr std::string_view k_runuser = "/usr/sbin/runuser";
constexpr std::string_view k_systemctl = "/usr/bin/systemctl";

/// What systemd allows on top of the container's stop timeout (podman stop's SIGKILL after the
/// timeout, then the cleanup) before it kills podman itself. podman generate systemd uses 60 s; with
/// explicit stop timeouts 15 s is enough and keeps a stuck unit from stalling a reboot for minutes.
constexpr std::uint32_t k_stop_slack = 15;

/// A unit that may pull an image in its start job (podman run / pod create): systemd's default 90 s
/// would kill a pull on a slow link; podman-systemd.unit(5) recommends 900 for that.
constexpr std::string_view k_start_timeout = "TimeoutStartSec=900";

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
  /// The user unit every pod and container unit waits on for the host network, and whether ztagent
  /// writes it (podman < 5.3) or podman ships it.
  std::string network_wait;
  bool own_network_wait = true;

  /// Wants=/After= the network wait. Quadlet >= 5.3 adds its own (podman's unit) to every unit it
  /// generates, so ztagent writes none there.
  void wait_for_network(std::vector<std::string>& unit) const {
    if (own_network_wait) {
      unit.push_back("Wants=" + network_wait);
      unit.push_back("After=" + network_wait);
    }
  }

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
    std::vector<std::string> unit{description("pod " + spec.stack.pod)};
    wait_for_network(unit);
    return render_sections({{"Unit", unit},
                            {"Pod", pod},
                            {"Service", {std::string(k_start_timeout)}},
                            {"Install", {"WantedBy=default.target"}}});
  }

  [[nodiscard]] Result<std::string> quadlet_container_file(const profile::Container& c) const {
    ZT_TRY(check_container(c));
    const std::string what = "container " + c.name;
    ZT_TRY_ASSIGN(ordered, ordering(c, {}));
    std::vector<std::string> unit{description("container " + container_name(spec.stack, c))};
    wait_for_network(unit);
    if (style == UnitStyle::quadlet_container) {
      // Bound to the pod unit like podman 4.9's `generate systemd --new` binds a pod's containers
      // (BindsTo= + After=): when the pod unit fails (its infra died) they stop with it, and its
      // restart starts them again through its Wants=.
      unit.push_back("BindsTo=" + pod_service(spec.stack));
      unit.push_back("After=" + pod_service(spec.stack));
    }
    unit.insert(unit.end(), ordered.begin(), ordered.end());

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
          {"Restart=on-failure", std::string(k_start_timeout),
           "TimeoutStopSec=" + std::to_string(c.stop_timeout + k_stop_slack)}},
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

  /// The pod unit's [Unit]: the network wait, then Wants=/Before= its containers (podman's order).
  [[nodiscard]] std::vector<std::string> pod_unit_section() const {
    std::vector<std::string> unit{description("pod " + spec.stack.pod)};
    wait_for_network(unit);
    std::vector<std::string> services;
    for (const auto& c : spec.stack.containers) {
      services.push_back(container_service(spec.stack, c));
    }
    if (!services.empty()) {
      unit.push_back("Wants=" + util::join(services, " "));
      unit.push_back("Before=" + util::join(services, " "));
    }
    unit.push_back("RequiresMountsFor=%t/containers");
    return unit;
  }

  /// The quadlet_container (podman 4.6-4.9) pod unit, as podman 4.9.3's `podman generate systemd
  /// --new` writes one for a pod (pkg/systemd/generate/pods.go, podTemplate and the --new branch):
  /// Type=forking with the infra container's conmon as the main PID, so systemd notices when the
  /// infra dies and restarts the pod (Restart=on-failure); `pod create --exit-policy=stop --replace`.
  [[nodiscard]] Result<std::string> forking_pod_service_file() const {
    ZT_TRY_ASSIGN(ports, publish_args());
    const std::string pid_file = "%t/" + spec.stack.pod + "-pod.pid";
    std::vector<std::vector<std::string>> create{
        {std::string(k_podman), "pod", "create"},
        {"--infra-conmon-pidfile", pid_file},
        {"--pod-id-file", pod_id_file()},
        {"--exit-policy=stop"},
        {"--replace"},
        {"--name", spec.stack.pod},
        {"--network", std::string(pod_network(style))},
    };
    for (const auto& p : ports) {
      create.push_back({"-p", p});
    }
    const std::string t = std::to_string(pod_stop_timeout());
    std::vector<std::string> service{
        "Environment=PODMAN_SYSTEMD_UNIT=%n",
        "Restart=on-failure",
        std::string(k_start_timeout),
        "TimeoutStopSec=" + std::to_string(pod_stop_timeout() + k_stop_slack),
        "ExecStartPre=/bin/rm -f " + pid_file + " " + pod_id_file(),
        exec_lines("ExecStartPre", create),
        std::string("ExecStart=") + std::string(k_podman) + " pod start --pod-id-file " + pod_id_file(),
        std::string("ExecStop=") + std::string(k_podman) + " pod stop --ignore --pod-id-file " +
            pod_id_file() + " -t " + t,
        std::string("ExecStopPost=") + std::string(k_podman) + " pod rm --ignore -f --pod-id-file " +
            pod_id_file(),
        "PIDFile=" + pid_file,
        "Type=forking",
    };
    return render_sections(
        {{"Unit", pod_unit_section()}, {"Service", service}, {"Install", {"WantedBy=default.target"}}});
  }

  [[nodiscard]] Result<std::string> pod_service_file() const {
    ZT_TRY_ASSIGN(ports, publish_args());
    std::vector<std::string> unit = pod_unit_section();
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
        std::string(k_start_timeout),
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

  /// The drop-in for the system's user@<uid>.service (classic only): before the user manager gets
  /// its SIGTERM, stop the pod unit as the user, so that every container unit runs its own ExecStop
  /// (the image's stop signal) while the user manager, its bus and podman's scopes are still up.
  /// '+': run as root (no User=, no PAM session of user@.service), then runuser drops to the user;
  /// '-': a manager that is already gone is no error.
  [[nodiscard]] Result<std::string> user_manager_dropin() const {
    ZT_TRY_ASSIGN(user, systemd_word(account.name, true));
    std::vector<std::string> service{
        "# Stop the stack before this user manager stops: its own shutdown stops podman's scopes",
        "# alongside the units (podman 4.3), and their podman commands then hang until the stop timeouts.",
        "ExecStop=-+" + std::string(k_runuser) + " -u " + user + " -- /usr/bin/env XDG_RUNTIME_DIR=" +
            host::runtime_dir(account.uid) + " " + std::string(k_systemctl) + " --user stop " +
            pod_service(spec.stack),
    };
    return render_sections({{"Service", service}});
  }

  [[nodiscard]] Result<std::string> classic_container_file(const profile::Container& c) const {
    ZT_TRY(check_container(c));
    const std::string what = "container " + c.name;
    ZT_TRY_ASSIGN(ordered, ordering(c, {pod_service(spec.stack)}));
    std::vector<std::string> unit{description("container " + container_name(spec.stack, c))};
    wait_for_network(unit);
    unit.insert(unit.end(), ordered.begin(), ordered.end());
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
    service.push_back(std::string(k_start_timeout));
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

std::string user_manager_dropin_path(const profile::Stack& stack, const host::Account& account) {
  return "/etc/systemd/system/user@" + std::to_string(account.uid) + ".service.d/ztagent-" + stack.pod +
         ".conf";
}

std::string_view auto_update_timer_unit() {
  return k_auto_update_timer_path;
}

namespace {

Result<RenderedUnits> render_for(const UnitsSpec& spec, const host::Account& account, UnitStyle style,
                                 SecretStore store, bool podman_waits) {
  // The wait matters for pasta, which copies the host's addresses and routes when the pod starts
  // (podman#22197): the Quadlet styles. Classic units (podman < 4.6) use slirp4netns.
  const bool own_wait = !podman_waits && style != UnitStyle::classic;
  const Renderer r{spec, account, style, store,
                   podman_waits ? std::string(k_podman_network_wait) : own_network_wait_service(spec.stack),
                   own_wait};
  RenderedUnits out;
  auto add_unit = [&](std::string path, Result<std::string> content) -> Result<void> {
    if (!content) {
      return std::unexpected(prefixed("units", content.error()));
    }
    out.files.push_back({std::move(path), std::move(*content), 0644, ManagedFile::Kind::unit, account.home});
    return {};
  };
  auto add_dropin = [&](Result<std::string> content) -> Result<void> {
    if (!content) {
      return std::unexpected(prefixed("units", content.error()));
    }
    out.files.push_back({user_manager_dropin_path(spec.stack, account), std::move(*content), 0644,
                         ManagedFile::Kind::user_manager_dropin, "/etc"});
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
    ZT_TRY(add_unit(r.systemd_dir() + "/" + pod_service(spec.stack), r.forking_pod_service_file()));
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
    ZT_TRY(add_dropin(r.user_manager_dropin()));
    break;
  }
  if (r.own_network_wait) {
    ZT_TRY(add_unit(network_wait_unit_path(spec.stack, account), network_wait_unit(spec.stack)));
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

} // namespace

Result<RenderedUnits>
render_units(const UnitsSpec& spec, const host::Account& account, UnitStyle style, SecretStore store) {
  return render_for(spec, account, style, store, style == UnitStyle::quadlet_pod);
}

Result<RenderedUnits> render_units(const UnitsSpec& spec, const UnitsContext& ctx) {
  ZT_TRY_ASSIGN(out, render_for(spec, ctx.account, ctx.style, ctx.store,
                                podman_has_user_network_wait(ctx.podman_version)));
  if (ctx.style != UnitStyle::classic) {
    for (const auto& file : out.files) {
      if (file.kind != ManagedFile::Kind::unit || !(file.path.ends_with(".container") || file.path.ends_with(".pod"))) {
        continue;
      }
      const auto bad = unsupported_quadlet_keys(file.content, ctx.podman_version);
      if (!bad.empty()) {
        return make_error(Errc::unsupported, "units: " + file.path + ": the Quadlet of podman " +
                                                 ctx.podman_version + " does not know " +
                                                 util::join(bad, ", "));
      }
    }
  }
  return out;
}

std::string network_wait_unit_path(const profile::Stack& stack, const host::Account& account) {
  return user_systemd_dir(account) + "/" + own_network_wait_service(stack);
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

} // namespace zt::checks
