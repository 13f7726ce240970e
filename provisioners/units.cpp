// SPDX-License-Identifier: Apache-2.0
#include "provisioners/units.hpp"

#include "checks/data.hpp"
#include "host/user_session.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <filesystem>
#include <memory>
#include <set>
#include <spdlog/spdlog.h>
#include <utility>

namespace zt::provisioners {

using checks::ManagedFile;
using checks::UnitStyle;
using host::FileType;

struct Units::Survey {
  std::optional<checks::UnitsContext> ctx;
  std::string waiting; // why nothing can be written yet; empty when ready
  checks::RenderedUnits rendered;
  std::vector<std::string> missing_bases;
  std::vector<std::string> missing_dirs;                  // outermost first
  std::set<std::string> root_dirs;                        // of missing_dirs: for the drop-in, root's
  std::vector<std::pair<std::size_t, std::string>> files; // index into rendered.files, summary
  std::vector<std::pair<std::size_t, std::string>> links; // index into rendered.links, summary
  std::vector<std::pair<std::string, std::string>> stale; // path, summary
};

namespace {

std::unexpected<Error> refuse_in_the_way(const std::string& path, FileType type, std::string_view wanted) {
  return make_error(Errc::refused, "units: " + path + " is " + host::describe(type) + ", not " +
                                       std::string(wanted) +
                                       "; ztagent does not replace it: move it away and re-run");
}

/// Directories strictly between `base` and `path`'s parent, outermost first.
std::vector<std::string> dirs_between(const std::string& base, const std::string& path) {
  std::vector<std::string> out;
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  const std::filesystem::path b(base);
  while (dir != b && dir.has_relative_path() && dir != dir.parent_path()) {
    out.push_back(dir.string());
    dir = dir.parent_path();
  }
  std::reverse(out.begin(), out.end());
  return out;
}

/// `systemctl daemon-reload` of the system manager, on the live host only (under --root the next
/// boot reads the drop-in).
Result<void> reload_system_manager(host::Host& host) {
  if (!host.view().live()) {
    spdlog::debug("units: not reloading the system manager under --root");
    return {};
  }
  host::Command cmd;
  cmd.argv = {"systemctl", "daemon-reload"};
  cmd.effect = host::Effect::mutating;
  cmd.scope = host::Scope::host;
  cmd.timeout = std::chrono::seconds{120};
  auto run = host.runner().run(cmd);
  if (!run) {
    return std::unexpected(prefixed("units: systemctl daemon-reload", run.error()));
  }
  if (run->exit_code != 0) {
    return make_error(Errc::command_failed, "units: systemctl daemon-reload failed (exit " +
                                                std::to_string(run->exit_code) +
                                                "): " + util::last_nonempty_line(run->err));
  }
  return {};
}

Result<host::FileStat> lstat(const host::HostView& host, const std::string& path) {
  auto st = host.fs().lstat(path);
  if (!st) {
    return std::unexpected(prefixed("units", st.error()));
  }
  return *st;
}

} // namespace

Result<Units::Survey> Units::survey(const host::HostView& host) const {
  Survey s;
  auto ctx = checks::resolve_units_context(host, m_spec);
  if (!ctx) {
    if (ctx.error().code != Errc::not_found) {
      return std::unexpected(prefixed("units", ctx.error()));
    }
    s.waiting = ctx.error().message;
    return s;
  }
  s.ctx = *ctx;
  ZT_TRY_ASSIGN(rendered, checks::render_units(m_spec, *ctx));
  s.rendered = std::move(rendered);
  const auto& account = ctx->account;
  const std::string owner_want = checks::owner_text(host.accounts(), account.uid, account.gid);

  std::set<std::string> seen_dirs;
  auto survey_parents = [&](const std::string& base, const std::string& path,
                            bool root_owned = false) -> Result<bool> {
    ZT_TRY_ASSIGN(base_st, lstat(host, base));
    if (base_st.type == FileType::missing) {
      if (std::find(s.missing_bases.begin(), s.missing_bases.end(), base) == s.missing_bases.end()) {
        s.missing_bases.push_back(base);
      }
      return false;
    }
    if (base_st.type != FileType::directory) {
      return refuse_in_the_way(base, base_st.type, "a directory");
    }
    for (const auto& dir : dirs_between(base, path)) {
      if (!seen_dirs.insert(dir).second) {
        continue;
      }
      ZT_TRY_ASSIGN(st, lstat(host, dir));
      if (st.type == FileType::missing) {
        s.missing_dirs.push_back(dir);
        if (root_owned) {
          s.root_dirs.insert(dir);
        }
      } else if (st.type != FileType::directory) {
        return refuse_in_the_way(dir, st.type, "a directory");
      }
    }
    return true;
  };

  for (std::size_t i = 0; i < s.rendered.files.size(); ++i) {
    const auto& file = s.rendered.files[i];
    const bool root_owned = file.kind == ManagedFile::Kind::user_manager_dropin;
    const std::uint32_t uid = root_owned ? 0 : account.uid;
    const std::uint32_t gid = root_owned ? 0 : account.gid;
    ZT_TRY_ASSIGN(base_ok, survey_parents(file.base_dir, file.path, root_owned));
    if (!base_ok) {
      s.files.emplace_back(i, "write (new) once " + file.base_dir + " exists");
      continue;
    }
    // One no-follow open: the type, owner and link count judged are those of the bytes compared.
    auto opened = host.fs().read_untrusted(file.path, checks::unit_file_rules(account));
    if (!opened) {
      return std::unexpected(prefixed("units", opened.error()));
    }
    const host::FileStat& st = opened->st;
    if (st.type == FileType::missing) {
      s.files.emplace_back(i, "write (new)");
      continue;
    }
    if (st.type != FileType::regular) {
      return refuse_in_the_way(file.path, st.type, "a regular file");
    }
    std::vector<std::string> why;
    if (opened->content != file.content) {
      why.emplace_back("content differs");
    }
    if (st.uid != uid || st.gid != gid) {
      why.push_back("owner " + checks::owner_text(host.accounts(), st.uid, st.gid) + " -> " +
                    (root_owned ? checks::owner_text(host.accounts(), 0, 0) : owner_want));
    }
    if ((st.mode & 07777) != file.mode) {
      why.push_back("mode " + util::format_mode(st.mode & 07777) + " -> " + util::format_mode(file.mode));
    }
    if (!why.empty()) {
      s.files.emplace_back(i, "rewrite (" + util::join(why, ", ") + ")");
    }
  }

  for (std::size_t i = 0; i < s.rendered.links.size(); ++i) {
    const auto& link = s.rendered.links[i];
    ZT_TRY_ASSIGN(base_ok, survey_parents(account.home, link.path));
    if (!base_ok) {
      s.links.emplace_back(i, "link -> " + link.target + " once " + account.home + " exists");
      continue;
    }
    ZT_TRY_ASSIGN(st, lstat(host, link.path));
    if (st.type == FileType::missing) {
      s.links.emplace_back(i, "link -> " + link.target);
      continue;
    }
    if (st.type != FileType::symlink) {
      return refuse_in_the_way(link.path, st.type, "a symlink");
    }
    auto target = host.fs().read_link(link.path);
    if (!target) {
      return std::unexpected(prefixed("units", target.error()));
    }
    if (*target != link.target) {
      s.links.emplace_back(i, "relink -> " + link.target + " (was " + *target + ")");
    } else if (st.uid != account.uid || st.gid != account.gid) {
      s.links.emplace_back(i, "relink (owner " + checks::owner_text(host.accounts(), st.uid, st.gid) +
                                  " -> " + owner_want + ")");
    }
  }

  // Names this stack's units have in the other styles: files and links an earlier run may have
  // written before podman was up- or downgraded. Nothing else is ever removed.
  std::set<std::string> wanted;
  for (const auto& f : s.rendered.files) {
    wanted.insert(f.path);
  }
  for (const auto& l : s.rendered.links) {
    wanted.insert(l.path);
  }
  std::set<std::string> considered;
  for (UnitStyle other : {UnitStyle::quadlet_pod, UnitStyle::quadlet_container, UnitStyle::classic}) {
    if (other == ctx->style) {
      continue;
    }
    auto paths = checks::style_unit_paths(m_spec.stack, account, other);
    const auto link_paths = checks::style_link_paths(m_spec.stack, account, other);
    paths.insert(paths.end(), link_paths.begin(), link_paths.end());
    // ztagent's network wait, once podman (>= 5.3) ships its own.
    paths.push_back(checks::network_wait_unit_path(m_spec.stack, account));
    if (other == UnitStyle::classic) {
      paths.push_back(checks::user_manager_dropin_path(m_spec.stack, account));
    }
    for (const auto& path : paths) {
      if (wanted.contains(path) || !considered.insert(path).second) {
        continue;
      }
      ZT_TRY_ASSIGN(st, lstat(host, path));
      if (st.type == FileType::missing) {
        continue;
      }
      if (st.type != FileType::regular && st.type != FileType::symlink) {
        return refuse_in_the_way(path, st.type, "a stale unit file or link");
      }
      s.stale.emplace_back(path, "remove (stale: not a " + std::string(checks::to_string(ctx->style)) +
                                     " unit for podman " + ctx->podman_version + ")");
    }
  }
  return s;
}

std::vector<std::string> Units::managed_paths(const host::HostView& host) const {
  auto ctx = checks::resolve_units_context(host, m_spec);
  if (!ctx) {
    return {};
  }
  auto rendered = checks::render_units(m_spec, *ctx);
  if (!rendered) {
    return {};
  }
  std::vector<std::string> paths;
  for (const auto& f : rendered->files) {
    paths.push_back(f.path);
  }
  for (const auto& l : rendered->links) {
    paths.push_back(l.path);
  }
  return paths;
}

Result<Plan> Units::plan(const host::HostView& host) const {
  ZT_TRY_ASSIGN(s, survey(host));
  Plan plan;
  if (!s.ctx) {
    plan.changes.push_back({"units", "write the stack's units (blocked: " + s.waiting + ")"});
    return plan;
  }
  for (const auto& dir : s.missing_dirs) {
    plan.changes.push_back({dir, "create directory 0755"});
  }
  for (const auto& [i, summary] : s.files) {
    plan.changes.push_back({s.rendered.files[i].path, summary});
  }
  for (const auto& [i, summary] : s.links) {
    plan.changes.push_back({s.rendered.links[i].path, summary});
  }
  const std::string dropin = checks::user_manager_dropin_path(m_spec.stack, s.ctx->account);
  bool system_changed = false;
  for (const auto& [path, summary] : s.stale) {
    plan.changes.push_back({path, summary});
    system_changed = system_changed || path == dropin;
  }
  for (const auto& [i, summary] : s.files) {
    system_changed = system_changed || s.rendered.files[i].kind == ManagedFile::Kind::user_manager_dropin;
  }
  if (system_changed && host.live()) {
    plan.changes.push_back({"system manager", "daemon-reload (reads " + dropin + ")"});
  }
  return plan;
}

Result<void> Units::apply(host::Host& host, const Plan& /*plan*/) {
  ZT_TRY_ASSIGN(s, survey(host.view()));
  if (!s.ctx) {
    return make_error(Errc::not_found, "units: " + s.waiting);
  }
  if (!s.missing_bases.empty()) {
    return make_error(Errc::not_found, "units: " + s.missing_bases.front() +
                                           " does not exist (run the user and data steps first)");
  }
  const auto& account = s.ctx->account;
  auto& fs = host.fs();
  for (const auto& dir : s.missing_dirs) {
    if (auto made = fs.make_directory(dir, 0755); !made) {
      return std::unexpected(prefixed("units", made.error()));
    }
    if (s.root_dirs.contains(dir)) {
      continue; // created by root, stays root's
    }
    if (auto owned = fs.set_owner(dir, account.uid, account.gid); !owned) {
      return std::unexpected(prefixed("units", owned.error()));
    }
  }
  bool system_changed = false;
  for (const auto& [i, summary] : s.files) {
    const ManagedFile& file = s.rendered.files[i];
    const bool root_owned = file.kind == ManagedFile::Kind::user_manager_dropin;
    host::WriteSpec spec;
    spec.mode = file.mode;
    spec.uid = root_owned ? 0 : account.uid;
    spec.gid = root_owned ? 0 : account.gid;
    if (auto written = fs.write_file(file.path, file.content, spec); !written) {
      return std::unexpected(prefixed("units", written.error()));
    }
    system_changed = system_changed || root_owned;
    spdlog::info("units: {}: {}", file.path, summary);
  }
  for (const auto& [i, summary] : s.links) {
    const auto& link = s.rendered.links[i];
    if (auto made = fs.make_symlink(link.path, link.target, account.uid, account.gid); !made) {
      return std::unexpected(prefixed("units", made.error()));
    }
  }
  const std::string dropin = checks::user_manager_dropin_path(m_spec.stack, account);
  for (const auto& [path, summary] : s.stale) {
    if (auto removed = fs.remove_file(path); !removed) {
      return std::unexpected(prefixed("units", removed.error()));
    }
    system_changed = system_changed || path == dropin;
    spdlog::info("units: {}: {}", path, summary);
  }
  // The system manager reads the user manager's drop-in on a reload: without it the next shutdown
  // would still stop the user manager the old way.
  if (system_changed) {
    ZT_TRY(reload_system_manager(host));
  }
  return validate_units(host.view(), host.runner(), m_spec.stack, *s.ctx, s.rendered);
}

// ---- validation -----------------------------------------------------------------------------

const std::vector<std::string>& quadlet_generators() {
  static const std::vector<std::string> k_generators = {
      "/usr/lib/systemd/system-generators/podman-system-generator", // Debian, Ubuntu
      "/usr/lib/systemd/user-generators/podman-user-generator",     // Fedora, RHEL
      "/usr/libexec/podman/quadlet",
  };
  return k_generators;
}

host::Command quadlet_dryrun_command(const host::Account& account,
                                     const std::string& generator,
                                     const std::string& unit_dir) {
  host::Command cmd = host::as_user(account, {generator, "--user", "--dryrun"});
  cmd.env.emplace_back("QUADLET_UNIT_DIRS", unit_dir);
  return cmd;
}

host::Command quadlet_dryrun_in_tree_command(const std::string& root,
                                             const std::string& generator,
                                             const std::string& unit_dir) {
  host::Command cmd;
  cmd.argv = {"chroot", root, generator, "--user", "--dryrun"};
  cmd.scope = host::Scope::target_root;
  cmd.env.emplace_back("QUADLET_UNIT_DIRS", unit_dir);
  return cmd;
}

std::vector<std::string> quadlet_generated_services(const profile::Stack& stack, UnitStyle style) {
  std::vector<std::string> out;
  if (style == UnitStyle::quadlet_pod) {
    out.push_back(checks::pod_service(stack));
  }
  for (const auto& c : stack.containers) {
    out.push_back(checks::container_service(stack, c));
  }
  return out;
}

Result<void> judge_quadlet_dryrun(const std::vector<std::string>& services,
                                  const Result<host::CommandResult>& run) {
  if (!run) {
    return std::unexpected(prefixed("units: cannot run the Quadlet generator", run.error()));
  }
  const std::string last = util::last_nonempty_line(run->err);
  if (run->exit_code != 0) {
    return make_error(Errc::command_failed, "units: the Quadlet generator rejected the units (exit " +
                                                std::to_string(run->exit_code) + "): " + last);
  }
  for (const auto& svc : services) {
    if (run->out.find("---" + svc + "---") == std::string::npos) {
      return make_error(Errc::command_failed, "units: the Quadlet generator did not generate " + svc +
                                                  (last.empty() ? std::string() : ": " + last));
    }
  }
  // In -dryrun mode Quadlet logs its debug lines to stderr ("quadlet-generator[PID]: Loading source
  // unit file ..."); anything else is a warning (a short image name, an unsupported key in a file it
  // skipped, ...) and fails the step.
  for (auto line : util::lines(run->err)) {
    const std::string_view text = util::trim(line);
    if (text.empty() || text.find("Loading source unit file ") != std::string_view::npos ||
        text.find("Starting quadlet-generator") != std::string_view::npos) {
      continue;
    }
    return make_error(Errc::command_failed, "units: the Quadlet generator warned: " + std::string(text));
  }
  return {};
}

host::Command verify_command(const host::Account& account, const std::vector<std::string>& files) {
  std::vector<std::string> argv = {"systemd-analyze", "--user", "verify"};
  argv.insert(argv.end(), files.begin(), files.end());
  return host::as_user(account, std::move(argv));
}

Result<void> judge_verify(const std::vector<std::string>& files, const Result<host::CommandResult>& run) {
  if (!run) {
    return std::unexpected(prefixed("units: cannot run systemd-analyze", run.error()));
  }
  const std::string output = run->err + run->out;
  for (auto line : util::lines(output)) {
    for (const auto& f : files) {
      if (line.starts_with(f + ":")) {
        return make_error(Errc::command_failed, "units: systemd-analyze --user verify rejected the units: " +
                                                    std::string(util::trim(line)));
      }
    }
  }
  if (run->exit_code != 0) {
    return make_error(Errc::command_failed, "units: systemd-analyze --user verify rejected the units (exit " +
                                                std::to_string(run->exit_code) +
                                                "): " + util::last_nonempty_line(run->err));
  }
  return {};
}

Result<void> validate_units(const host::HostView& view,
                            host::CommandRunner& runner,
                            const profile::Stack& stack,
                            const checks::UnitsContext& ctx,
                            const checks::RenderedUnits& rendered) {
  auto exists = [&](const std::string& path) -> Result<bool> {
    ZT_TRY_ASSIGN(st, view.fs().lstat(path));
    return st.exists();
  };
  if (!view.live()) {
    if (ctx.style == UnitStyle::classic) {
      spdlog::warn("units: classic units under --root are not validated (systemd-analyze needs the user's "
                   "manager); the tree's systemd loads them at boot");
      return {};
    }
    // The tree's own generator, run inside the tree: the podman the image will boot with judges the
    // files (the build host's podman may be another version, or none).
    for (const auto& generator : quadlet_generators()) {
      ZT_TRY_ASSIGN(found, exists(generator));
      if (!found) {
        continue;
      }
      const std::string root = view.fs().root().string();
      auto run = runner.run(
          quadlet_dryrun_in_tree_command(root, generator, checks::unit_dir(ctx.account, ctx.style)));
      if (run && run->exit_code != 0 && run->err.starts_with("chroot:")) {
        spdlog::warn("units: could not run the tree's Quadlet generator {} (not validated): {}", generator,
                     util::last_nonempty_line(run->err));
        return {};
      }
      if (!run) {
        spdlog::warn("units: could not run the tree's Quadlet generator {} (not validated): {}", generator,
                     run.error().message);
        return {};
      }
      return judge_quadlet_dryrun(quadlet_generated_services(stack, ctx.style), run);
    }
    spdlog::warn("units: the tree has no Quadlet generator ({}): the units were not validated",
                 util::join(quadlet_generators(), ", "));
    return {};
  }
  if (ctx.style == UnitStyle::classic) {
    ZT_TRY_ASSIGN(have_analyze, exists("/usr/bin/systemd-analyze"));
    ZT_TRY_ASSIGN(have_runtime, exists(host::runtime_dir(ctx.account.uid)));
    if (!have_analyze || !have_runtime) {
      spdlog::debug("units: not validating: {} missing",
                    have_analyze ? host::runtime_dir(ctx.account.uid) : std::string("systemd-analyze"));
      return {};
    }
    std::vector<std::string> files;
    for (const auto& f : rendered.files) {
      if (f.kind == ManagedFile::Kind::unit) {
        files.push_back(f.path);
      }
    }
    return judge_verify(files, runner.run(verify_command(ctx.account, files)));
  }
  for (const auto& generator : quadlet_generators()) {
    ZT_TRY_ASSIGN(found, exists(generator));
    if (!found) {
      continue;
    }
    const std::string dir = checks::unit_dir(ctx.account, ctx.style);
    return judge_quadlet_dryrun(quadlet_generated_services(stack, ctx.style),
                                runner.run(quadlet_dryrun_command(ctx.account, generator, dir)));
  }
  return make_error(Errc::unsupported, "units: no Quadlet generator found (looked for " +
                                           util::join(quadlet_generators(), ", ") +
                                           "); is podman >= 4.4 installed?");
}

Step make_units_step(const profile::Config& config, const StepContext& /*context*/) {
  auto spec = checks::units_spec_from(config);
  Step step;
  step.id = "units";
  step.checks = checks::make_units_checks(spec);
  step.provisioner = std::make_unique<Units>(std::move(spec));
  return step;
}

} // namespace zt::provisioners
