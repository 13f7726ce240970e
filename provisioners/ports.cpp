// SPDX-License-Identifier: Apache-2.0
#include "provisioners/ports.hpp"

#include "util/strings.hpp"

#include <algorithm>
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

PortsSpec ports_spec(const profile::Config& config) {
  return {.strategy = config.site.port_strategy,
          .port_start = config.site.unprivileged_port_start,
          .sysctl_file = config.site.sysctl_file,
          .firewall = config.profile.firewall,
          .forwards = checks::port_forwards(config.stack)};
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
    if (m_spec.firewall == "nftables") {
      return plan_nftables(host);
    }
    if (m_spec.firewall == "firewalld") {
      return plan_firewalld(host);
    }
    return make_error(Errc::invalid_config, "ports: unknown firewall '" + m_spec.firewall +
                                                "' for strategy forward; the profile must say \"nftables\" or "
                                                "\"firewalld\"");
  case profile::PortStrategy::sysctl:
    break;
  }
  return plan_sysctl(host);
}

Result<Plan> Ports::plan_sysctl(const host::HostView& host) const {
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

Result<std::optional<Change>> plan_nft_live(const host::CommandResult& listing,
                                            const std::vector<checks::PortForward>& forwards) {
  const std::string summary = "load " + std::string(checks::k_nft_conf) + " with nft -f";
  if (listing.exit_code != 0) {
    if (listing.err.find("No such file or directory") != std::string::npos) {
      return std::optional<Change>{Change{std::string(k_nft_live_target), summary + " (live table missing)"}};
    }
    std::string why = first_line(listing.err);
    return make_error(Errc::command_failed, "ports: nft list table inet ztagent failed (exit " +
                                                std::to_string(listing.exit_code) + ")" +
                                                (why.empty() ? "" : ": " + why));
  }
  if (checks::normalize_nft_listing(listing.out) ==
      checks::normalize_nft_listing(checks::render_nft_table(forwards))) {
    return std::optional<Change>{};
  }
  return std::optional<Change>{Change{std::string(k_nft_live_target), summary + " (live table differs)"}};
}

namespace {

/// A change for a root-owned 0644 file ztagent writes whole, or nullopt when it is right.
Result<std::optional<Change>> plan_owned_file(const host::HostView& host,
                                              std::string_view path,
                                              const std::string& desired) {
  const std::string file(path);
  auto st = host.fs().lstat(file);
  if (!st) {
    return std::unexpected(prefixed("ports", st.error()));
  }
  if (!st->exists()) {
    return std::optional<Change>{Change{file, "create"}};
  }
  if (st->type != host::FileType::regular) {
    return make_error(Errc::refused, "ports: " + file + " is " + host::describe(st->type) +
                                         "; remove it so ztagent can write the file");
  }
  std::vector<std::string> reasons;
  auto content = host.fs().read_file(file);
  if (!content) {
    return std::unexpected(prefixed("ports", content.error()));
  }
  if (*content != desired) {
    reasons.emplace_back("rewrite (content differs)");
  }
  if ((st->mode & 07777) != k_file_mode || st->uid != 0 || st->gid != 0) {
    reasons.push_back("set mode 0644, owner root:root (is " + util::format_mode(st->mode) + " " +
                      std::to_string(st->uid) + ":" + std::to_string(st->gid) + ")");
  }
  if (reasons.empty()) {
    return std::optional<Change>{};
  }
  return std::optional<Change>{Change{file, util::join(reasons, "; ")}};
}

Result<void> write_owned_file(host::Host& host, std::string_view path, const std::string& content) {
  const std::filesystem::path file{std::string(path)};
  auto made = host.fs().make_directories(file.parent_path(), k_dir_mode);
  if (!made) {
    return std::unexpected(prefixed("ports", made.error()));
  }
  host::WriteSpec spec;
  spec.mode = k_file_mode;
  spec.uid = 0;
  spec.gid = 0;
  auto written = host.fs().write_file(file, content, spec);
  if (!written) {
    return std::unexpected(prefixed("ports", written.error()));
  }
  return {};
}

Result<void> run_checked(host::Host& host, std::vector<std::string> argv) {
  host::Command cmd;
  cmd.argv = std::move(argv);
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
  return {};
}

std::string managed_sysctl_header() {
  return first_line(checks::render_ports_sysctl(0));
}

} // namespace

Result<void> Ports::add_sysctl_cleanup(const host::HostView& host, Plan& plan) const {
  const std::string& file = m_spec.sysctl_file;
  auto st = host.fs().lstat(file);
  if (!st) {
    return std::unexpected(prefixed("ports", st.error()));
  }
  if (st->type != host::FileType::regular) {
    return {}; // not ztagent's file (ztagent writes a regular file): leave it
  }
  auto content = host.fs().read_file(file);
  if (!content) {
    return std::unexpected(prefixed("ports", content.error()));
  }
  if (first_line(*content) == managed_sysctl_header()) {
    plan.changes.push_back({file, "remove ztagent's sysctl file (strategy forward does not need it; the live "
                                  "value stays until reboot)"});
  }
  return {};
}

Result<Plan> Ports::plan_nftables(const host::HostView& host) const {
  auto nft = host.fs().stat(std::string(checks::k_nft_binary));
  if (!nft) {
    return std::unexpected(prefixed("ports", nft.error()));
  }
  if (nft->type != host::FileType::regular) {
    return make_error(Errc::unsupported, "ports: " + std::string(checks::k_nft_missing));
  }
  Plan plan;
  ZT_TRY(add_sysctl_cleanup(host, plan));
  ZT_TRY_ASSIGN(conf, plan_owned_file(host, checks::k_nft_conf, checks::render_nft_conf(m_spec.forwards)));
  if (conf) {
    plan.changes.push_back(std::move(*conf));
  }
  ZT_TRY_ASSIGN(unit, plan_owned_file(host, checks::k_forward_unit_path, checks::render_forward_unit()));
  if (unit) {
    plan.changes.push_back(std::move(*unit));
  }
  const std::string link(checks::k_forward_wants_link);
  auto link_stat = host.fs().lstat(link);
  if (!link_stat) {
    return std::unexpected(prefixed("ports", link_stat.error()));
  }
  if (!link_stat->exists()) {
    plan.changes.push_back({link, "enable: symlink -> " + std::string(checks::k_forward_unit_path)});
  } else if (link_stat->type != host::FileType::symlink) {
    return make_error(Errc::refused, "ports: " + link + " is " + host::describe(link_stat->type) +
                                         ", not a symlink; remove it so ztagent can enable " +
                                         std::string(checks::k_forward_unit));
  } else {
    auto target = host.fs().read_link(link);
    if (!target) {
      return std::unexpected(prefixed("ports", target.error()));
    }
    if (*target != checks::k_forward_unit_path) {
      plan.changes.push_back({link, "enable: symlink -> " + std::string(checks::k_forward_unit_path) +
                                        " (points to " + *target + ")"});
    }
  }
  if (host.live()) {
    host::Command cmd;
    cmd.argv = {"nft", "list", "table", "inet", "ztagent"};
    auto listed = host.runner().run(cmd);
    if (!listed) {
      return std::unexpected(prefixed("ports", listed.error()));
    }
    ZT_TRY_ASSIGN(live, plan_nft_live(*listed, m_spec.forwards));
    if (live) {
      plan.changes.push_back(std::move(*live));
    }
  }
  return plan;
}

Result<Plan> Ports::plan_firewalld(const host::HostView& host) const {
  if (!host.live()) {
    return make_error(Errc::unsupported,
                      "ports: strategy forward with firewalld needs the live host (firewall-cmd configures "
                      "the running daemon); run without --root, or set ports.strategy = \"sysctl\"");
  }
  Plan plan;
  ZT_TRY(add_sysctl_cleanup(host, plan));
  const auto items = checks::firewalld_items(m_spec.forwards);
  auto permanent = checks::read_firewalld(host, checks::FirewalldConfig::permanent);
  if (!permanent) {
    return std::unexpected(prefixed("ports", permanent.error()));
  }
  for (const auto& item : checks::missing_firewalld_items(items, *permanent)) {
    plan.changes.push_back({std::string(k_firewalld_permanent_target), "add " + item.text});
  }
  auto runtime = checks::read_firewalld(host, checks::FirewalldConfig::runtime);
  if (!runtime) {
    return std::unexpected(prefixed("ports", runtime.error()));
  }
  auto lacking = checks::missing_firewalld_items(items, *runtime);
  if (!lacking.empty()) {
    std::vector<std::string> texts;
    for (const auto& item : lacking) {
      texts.push_back(item.text);
    }
    plan.changes.push_back(
        {std::string(k_firewalld_runtime_target), "firewall-cmd --reload (runtime lacks " + util::join(texts, ", ") + ")"});
  }
  return plan;
}

Result<void> Ports::apply(host::Host& host, const Plan& plan) {
  const std::string& file = m_spec.sysctl_file;
  const bool forward = m_spec.strategy == profile::PortStrategy::forward;
  const auto items = checks::firewalld_items(m_spec.forwards);
  for (const auto& change : plan.changes) {
    if (change.target == file && forward) {
      auto removed = host.fs().remove_file(file);
      if (!removed) {
        return std::unexpected(prefixed("ports", removed.error()));
      }
    } else if (change.target == file) {
      ZT_TRY(write_owned_file(host, file, checks::render_ports_sysctl(m_spec.port_start)));
    } else if (change.target == checks::k_port_start_proc) {
      ZT_TRY(run_checked(host, {"sysctl", "-w",
                                std::string(checks::k_port_start_key) + "=" + std::to_string(m_spec.port_start)}));
    } else if (change.target == checks::k_nft_conf) {
      ZT_TRY(write_owned_file(host, checks::k_nft_conf, checks::render_nft_conf(m_spec.forwards)));
    } else if (change.target == checks::k_forward_unit_path) {
      ZT_TRY(write_owned_file(host, checks::k_forward_unit_path, checks::render_forward_unit()));
    } else if (change.target == checks::k_forward_wants_link) {
      const std::filesystem::path link{std::string(checks::k_forward_wants_link)};
      auto made = host.fs().make_directories(link.parent_path(), k_dir_mode);
      if (!made) {
        return std::unexpected(prefixed("ports", made.error()));
      }
      auto linked = host.fs().make_symlink(link, std::string(checks::k_forward_unit_path), 0, 0);
      if (!linked) {
        return std::unexpected(prefixed("ports", linked.error()));
      }
    } else if (change.target == k_nft_live_target) {
      ZT_TRY(run_checked(host, {"nft", "-f", std::string(checks::k_nft_conf)}));
    } else if (change.target == k_firewalld_permanent_target) {
      auto item = std::find_if(items.begin(), items.end(),
                               [&](const checks::FirewalldItem& i) { return change.summary == "add " + i.text; });
      if (item == items.end()) {
        return make_error(Errc::internal, "ports: unexpected firewalld change " + change.summary);
      }
      ZT_TRY(run_checked(host, checks::firewalld_add_argv(*item)));
    } else if (change.target == k_firewalld_runtime_target) {
      ZT_TRY(run_checked(host, {"firewall-cmd", "--reload"}));
    } else {
      return make_error(Errc::internal, "ports: unexpected change target " + change.target);
    }
  }
  return {};
}

Step make_ports_step(const profile::Config& config, const StepContext& /*context*/) {
  Step step;
  step.id = "ports";
  step.provisioner = std::make_unique<Ports>(ports_spec(config));
  step.checks = checks::make_ports_checks(config);
  return step;
}

} // namespace zt::provisioners
