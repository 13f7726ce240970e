// SPDX-License-Identifier: Apache-2.0
#include "provisioners/ports.hpp"

#include "util/strings.hpp"

#include <filesystem>
#include <utility>
#include <vector>

namespace zt::provisioners {

namespace {

constexpr std::uint32_t k_file_mode = 0644;
constexpr std::uint32_t k_dir_mode = 0755;

std::string key_assignment(std::uint32_t port_start) {
  return std::string(checks::k_port_start_key) + " = " + std::to_string(port_start);
}

std::string first_line(std::string_view text) {
  auto all = util::lines(util::trim(text));
  return all.empty() ? std::string() : std::string(util::trim(all.front()));
}

} // namespace

PortsSpec ports_spec(const profile::SiteConfig& site) {
  return {.strategy = site.port_strategy,
          .port_start = site.unprivileged_port_start,
          .sysctl_file = site.sysctl_file};
}

Result<std::optional<Change>> plan_live_port_start(std::string_view proc_value, std::uint32_t port_start) {
  auto text = util::trim(proc_value);
  auto live = util::parse_uint(text);
  if (!live) {
    return make_error(Errc::parse, "ports: cannot parse " + std::string(checks::k_port_start_proc) + ": '" +
                                       std::string(text) + "'");
  }
  if (*live <= port_start) {
    return std::optional<Change>{};
  }
  return std::optional<Change>{
      Change{std::string(checks::k_port_start_proc), "lower live value " + std::to_string(*live) + " -> " +
                                                         std::to_string(port_start) + " (sysctl -w)"}};
}

Result<void> check_sysctl_not_overridden(const std::optional<checks::EffectiveSetting>& effective,
                                         std::string_view our_file,
                                         std::uint32_t port_start) {
  if (effective) {
    auto value = util::parse_uint(effective->value);
    if (effective->file == our_file || (value && *value <= port_start)) {
      return {};
    }
    return make_error(Errc::invalid_config,
                      "ports: " + effective->file + " sets " + std::string(checks::k_port_start_key) + " = " +
                          effective->value +
                          " after ztagent's file; remove that line or set ports.sysctl_file "
                          "to sort after it");
  }
  return make_error(Errc::invalid_config,
                    "ports: " + std::string(our_file) +
                        " is not read by systemd-sysctl at boot; set ports.sysctl_file to a "
                        "*.conf file in /etc/sysctl.d");
}

Result<Plan> Ports::plan(const host::HostView& host) const {
  switch (m_spec.strategy) {
  case profile::PortStrategy::none:
    return Plan{};
  case profile::PortStrategy::forward:
    return make_error(Errc::unsupported, std::string(checks::k_forward_unsupported));
  case profile::PortStrategy::sysctl:
    break;
  }
  const std::string& file = m_spec.sysctl_file;
  const std::string desired = checks::render_ports_sysctl(m_spec.port_start);
  Plan plan;

  auto st = host.fs().lstat(file);
  if (!st) {
    return std::unexpected(prefixed("ports", st.error()));
  }
  if (st->type == host::FileType::symlink) {
    return make_error(Errc::refused,
                      "ports: " + file + " is a symlink; remove it so ztagent can write the file");
  }
  if (st->exists() && st->type != host::FileType::regular) {
    return make_error(Errc::refused, "ports: " + file + " is not a regular file; remove it");
  }
  if (!st->exists()) {
    plan.changes.push_back({file, "create with " + key_assignment(m_spec.port_start)});
  } else {
    std::vector<std::string> reasons;
    auto content = host.fs().read_file(file);
    if (!content) {
      return std::unexpected(prefixed("ports", content.error()));
    }
    if (*content != desired) {
      auto current = checks::effective_sysctl({{file, *content}}, checks::k_port_start_key);
      reasons.push_back("rewrite (has " +
                        (current ? std::string(checks::k_port_start_key) + " = " + current->value
                                 : "no " + std::string(checks::k_port_start_key) + " line") +
                        ")");
    }
    if ((st->mode & 07777) != k_file_mode || st->uid != 0 || st->gid != 0) {
      reasons.push_back("set mode 0644, owner root:root (is " + util::format_mode(st->mode) + " " +
                        std::to_string(st->uid) + ":" + std::to_string(st->gid) + ")");
    }
    if (!reasons.empty()) {
      plan.changes.push_back({file, util::join(reasons, "; ")});
    }
  }

  // What boot would apply once our file is in place: never converge into a state a reboot undoes.
  auto files = checks::read_sysctl_files(host.fs(), checks::SysctlFile{file, desired});
  if (!files) {
    return std::unexpected(prefixed("ports", files.error()));
  }
  ZT_TRY(check_sysctl_not_overridden(checks::effective_sysctl(*files, checks::k_port_start_key), file,
                                     m_spec.port_start));

  if (host.live()) {
    auto proc = host.fs().read_file(std::string(checks::k_port_start_proc));
    if (!proc) {
      return std::unexpected(prefixed("ports", proc.error()));
    }
    ZT_TRY_ASSIGN(live_change, plan_live_port_start(*proc, m_spec.port_start));
    if (live_change) {
      plan.changes.push_back(std::move(*live_change));
    }
  }
  return plan;
}

Result<void> Ports::apply(host::Host& host, const Plan& plan) {
  const std::string& file = m_spec.sysctl_file;
  for (const auto& change : plan.changes) {
    if (change.target == file) {
      auto parent = std::filesystem::path(file).parent_path();
      auto made = host.fs().make_directories(parent, k_dir_mode);
      if (!made) {
        return std::unexpected(prefixed("ports", made.error()));
      }
      host::WriteSpec spec;
      spec.mode = k_file_mode;
      spec.uid = 0;
      spec.gid = 0;
      auto written = host.fs().write_file(file, checks::render_ports_sysctl(m_spec.port_start), spec);
      if (!written) {
        return std::unexpected(prefixed("ports", written.error()));
      }
    } else if (change.target == checks::k_port_start_proc) {
      host::Command cmd;
      cmd.argv = {"sysctl", "-w",
                  std::string(checks::k_port_start_key) + "=" + std::to_string(m_spec.port_start)};
      cmd.effect = host::Effect::mutating;
      cmd.scope = host::Scope::host;
      auto result = host.runner().run(cmd);
      if (!result) {
        return std::unexpected(prefixed("ports", result.error()));
      }
      if (result->exit_code != 0) {
        std::string why = first_line(result->err);
        return make_error(Errc::command_failed, "ports: " + util::quote_argv(cmd.argv) + " failed (exit " +
                                                    std::to_string(result->exit_code) + ")" +
                                                    (why.empty() ? "" : ": " + why));
      }
    } else {
      return make_error(Errc::internal, "ports: unexpected change target " + change.target);
    }
  }
  return {};
}

Step make_ports_step(const profile::Config& config, const StepContext& /*context*/) {
  Step step;
  step.id = "ports";
  step.provisioner = std::make_unique<Ports>(ports_spec(config.site));
  step.checks = checks::make_ports_checks(config.site);
  return step;
}

} // namespace zt::provisioners
