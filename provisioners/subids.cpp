// SPDX-License-Identifier: Apache-2.0
#include "provisioners/subids.hpp"

#include "host/writable.hpp"
#include "util/strings.hpp"

#include <memory>
#include <spdlog/spdlog.h>
#include <utility>

namespace zt::provisioners {

namespace {

using checks::SubIdKind;

std::optional<std::uint64_t> start_for(const checks::SubIdDecision& decision, SubIdKind kind) {
  return kind == SubIdKind::uid ? decision.add_subuid : decision.add_subgid;
}

std::string first_line(std::string_view text) {
  const auto all = util::lines(text);
  for (const auto line : all) {
    if (!util::trim(line).empty()) {
      return std::string(util::trim(line));
    }
  }
  return "no output";
}

/// `podman system migrate` as the user after the ranges changed, so podman re-creates its user
/// namespace with the new mapping (HOST-SPEC step 3). Only live and only when podman is installed;
/// a failure is a warning, not a step failure: the ranges themselves are in place.
void migrate_podman(host::Host& host, const host::Account& account) {
  if (!host.live()) {
    return;
  }
  auto podman = host.fs().stat("/usr/bin/podman");
  if (!podman || !podman->exists()) {
    return;
  }
  auto runtime_dir = host.fs().stat("/run/user/" + std::to_string(account.uid));
  const bool have_runtime_dir = runtime_dir && runtime_dir->type == host::FileType::directory;
  const auto cmd =
      checks::podman_as_user(account, {"system", "migrate"}, host::Effect::mutating, have_runtime_dir);
  auto result = host.runner().run(cmd);
  if (!result) {
    spdlog::warn("subids: '{}' failed: {}; run it by hand", util::quote_argv(cmd.argv),
                 result.error().message);
  } else if (result->exit_code != 0) {
    spdlog::warn("subids: '{}' exited {}: {}; run it by hand", util::quote_argv(cmd.argv), result->exit_code,
                 first_line(result->err));
  }
}

} // namespace

host::Command subids_usermod_command(const checks::SubIdDecision& decision,
                                     std::uint64_t count,
                                     const std::string& user,
                                     bool live,
                                     const std::string& root) {
  host::Command cmd;
  cmd.argv = {"usermod"};
  cmd.effect = host::Effect::mutating;
  if (!live) {
    // usermod --prefix confines itself to the image tree and takes the shadow locks there.
    cmd.argv.insert(cmd.argv.end(), {"--prefix", root});
    cmd.scope = host::Scope::target_root;
  }
  for (const auto kind : {SubIdKind::uid, SubIdKind::gid}) {
    if (const auto start = start_for(decision, kind)) {
      const checks::SubIdEntry entry{user, *start, count, 0};
      cmd.argv.push_back(kind == SubIdKind::uid ? "--add-subuids" : "--add-subgids");
      cmd.argv.push_back(entry.range_text());
    }
  }
  cmd.argv.push_back(user);
  return cmd;
}

Result<Plan> SubIds::plan(const host::HostView& host) const {
  auto state = checks::read_subid_state(host, m_spec.user);
  if (!state) {
    return std::unexpected(prefixed("subids", state.error()));
  }
  ZT_TRY_ASSIGN(decision, checks::decide_subids(*state, m_spec));
  const std::string later = state->account ? "" : " (once user " + m_spec.user + " exists)";
  Plan plan;
  for (const auto kind : {SubIdKind::uid, SubIdKind::gid}) {
    const auto start = start_for(decision, kind);
    if (!start) {
      continue;
    }
    const std::string path(checks::subid_path(kind));
    if (!state->file_exists(kind)) {
      // usermod refuses --add-subuids when /etc/subuid does not exist.
      plan.changes.push_back({path, "create empty file 0644"});
    }
    const checks::SubIdEntry entry{m_spec.user, *start, m_spec.count, 0};
    plan.changes.push_back({path, "add " + entry.to_text() + later});
  }
  return plan;
}

Result<void> SubIds::validate_inputs(const host::HostView& host) const {
  auto state = checks::read_subid_state(host, m_spec.user);
  if (!state) {
    return std::unexpected(prefixed("subids", state.error()));
  }
  return {};
}

Result<void> SubIds::apply(host::Host& host, const Plan& /*plan*/) {
  // Decide again from what is on disk now: the user step may have run since plan() (and a regular
  // user's useradd already wrote a range, which is then kept).
  auto state = checks::read_subid_state(host.view(), m_spec.user);
  if (!state) {
    return std::unexpected(prefixed("subids", state.error()));
  }
  if (!state->account) {
    return make_error(Errc::not_found,
                      "subids: user " + m_spec.user + " does not exist; run the user step first");
  }
  ZT_TRY_ASSIGN(decision, checks::decide_subids(*state, m_spec));
  if (decision.empty()) {
    return {};
  }
  // A read-only or full /etc: say so now, not after usermod's 14 s of "cannot lock".
  if (auto writable = host::ensure_shadow_writable(host.fs()); !writable) {
    return std::unexpected(prefixed("subids", writable.error()));
  }
  for (const auto kind : {SubIdKind::uid, SubIdKind::gid}) {
    if (start_for(decision, kind) && !state->file_exists(kind)) {
      host::WriteSpec spec;
      spec.mode = 0644;
      spec.uid = 0;
      spec.gid = 0;
      auto written = host.fs().write_file(checks::subid_path(kind), "", spec);
      if (!written) {
        return std::unexpected(prefixed("subids", written.error()));
      }
      spdlog::info("subids: created empty {}", checks::subid_path(kind));
    }
  }
  const auto cmd =
      subids_usermod_command(decision, m_spec.count, m_spec.user, host.live(), host.fs().root().string());
  auto result = host.runner().run(cmd);
  if (!result) {
    return std::unexpected(prefixed("subids", result.error()));
  }
  if (result->exit_code != 0) {
    return make_error(Errc::command_failed, "subids: '" + util::quote_argv(cmd.argv) + "' exited " +
                                                std::to_string(result->exit_code) + ": " +
                                                first_line(result->err));
  }
  for (const auto kind : {SubIdKind::uid, SubIdKind::gid}) {
    if (const auto start = start_for(decision, kind)) {
      spdlog::info("subids: added {}:{}:{} to {}", m_spec.user, *start, m_spec.count,
                   checks::subid_path(kind));
    }
  }
  migrate_podman(host, *state->account);
  return {};
}

Step make_subids_step(const profile::Config& config, const StepContext& /*context*/) {
  checks::SubIdsSpec spec{config.site.user, config.site.subid_count};
  Step step;
  step.id = "subids";
  step.provisioner = std::make_unique<SubIds>(spec);
  step.checks = checks::make_subids_checks(spec);
  return step;
}

} // namespace zt::provisioners
