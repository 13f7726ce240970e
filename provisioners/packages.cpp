// SPDX-License-Identifier: Apache-2.0
#include "provisioners/packages.hpp"

#include "checks/packages.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <spdlog/spdlog.h>
#include <utility>

namespace zt::provisioners {

namespace {

constexpr std::string_view k_target_prefix = "package:";
constexpr std::string_view k_apt_lists = "/var/lib/apt/lists";

/// apt has never fetched indexes in this tree (fresh debootstrap/container image): install would
/// find nothing. Compressed indexes (…_Packages.lz4) count too.
Result<bool> apt_lists_missing(const host::Fs& fs) {
  auto names = fs.list_dir(k_apt_lists);
  if (!names) {
    if (names.error().code == Errc::not_found) {
      return true;
    }
    return std::unexpected(prefixed("packages", std::move(names).error()));
  }
  return std::ranges::none_of(*names,
                              [](const std::string& n) { return n.find("_Packages") != std::string::npos; });
}

/// Runs one package-manager command; `what` is "apt-get update", "apt-get install", "dnf install".
Result<void> run_package_command(host::Host& host, std::vector<std::string> argv, std::string_view what) {
  const std::string tool = argv.front();
  host::Command cmd;
  cmd.effect = host::Effect::mutating;
  cmd.timeout = k_package_timeout;
  if (tool == "apt-get") {
    cmd.env = {{"DEBIAN_FRONTEND", "noninteractive"}, {"NEEDRESTART_MODE", "a"}};
  }
  if (!host.live()) {
    // chroot confines the package manager to the image tree, so the runner may allow it under --root.
    argv.insert(argv.begin(), {"chroot", host.fs().root().string()});
    cmd.scope = host::Scope::target_root;
  }
  cmd.argv = std::move(argv);
  auto result = host.runner().run(cmd);
  if (!result) {
    if (result.error().code == Errc::timeout) {
      const std::string holder = tool == "apt-get" ? "apt/dpkg" : "dnf/rpm";
      return make_error(Errc::timeout, "packages: " + tool + " did not finish within " +
                                           std::to_string(k_package_timeout.count()) + " s (is another " +
                                           holder + " holding the lock?)");
    }
    return std::unexpected(prefixed("packages", std::move(result).error()));
  }
  if (result->exit_code != 0) {
    std::string message =
        "packages: " + std::string(what) + " failed (exit " + std::to_string(result->exit_code) + ")";
    std::string err = util::last_nonempty_line(result->err);
    if (!err.empty()) {
      message += ": " + err;
    }
    return make_error(Errc::command_failed, std::move(message));
  }
  return {};
}

} // namespace

Error with_universe_hint(Error error) {
  const std::string& m = error.message;
  if (m.find("Unable to locate package") == std::string::npos &&
      m.find("has no installation candidate") == std::string::npos) {
    return error;
  }
  error.message += "; on Ubuntu podman, passt and catatonit are in the 'universe' component: enable it "
                   "(add-apt-repository universe, or add universe to Components: in "
                   "/etc/apt/sources.list.d/ubuntu.sources), run apt-get update, then re-run";
  return error;
}

Packages::Packages(PackagesOptions options) : m_options(std::move(options)) {}

Result<void> Packages::validate_inputs(const host::HostView& host) const {
  if (m_options.package_manager != "apt") {
    return {};
  }
  auto installed = checks::query_installed(host, m_options.package_manager, m_options.packages);
  if (!installed) {
    return std::unexpected(prefixed("packages", std::move(installed).error()));
  }
  return {};
}

Result<Plan> Packages::plan(const host::HostView& host) const {
  auto installed = checks::query_installed(host, m_options.package_manager, m_options.packages);
  if (!installed) {
    return std::unexpected(prefixed("packages", std::move(installed).error()));
  }
  std::vector<std::string> missing;
  for (const auto& name : m_options.packages) {
    if (!installed->contains(name)) {
      missing.push_back(name);
    }
  }
  std::ranges::sort(missing);
  auto dup = std::ranges::unique(missing);
  missing.erase(dup.begin(), dup.end());
  Plan plan;
  for (const auto& name : missing) {
    plan.changes.push_back({std::string(k_target_prefix) + name, "install " + name});
  }
  return plan;
}

Result<void> Packages::apply(host::Host& host, const Plan& plan) {
  std::vector<std::string> missing;
  for (const auto& change : plan.changes) {
    if (change.target.starts_with(k_target_prefix)) {
      missing.push_back(change.target.substr(k_target_prefix.size()));
    }
  }
  std::ranges::sort(missing);
  if (missing.empty()) {
    return {};
  }
  if (m_options.package_manager == "apt") {
    ZT_TRY_ASSIGN(need_update, apt_lists_missing(host.fs()));
    if (need_update) {
      spdlog::info("packages: {} has no package indexes; running apt-get update first", k_apt_lists);
      ZT_TRY(run_package_command(host, {"apt-get", "update", "-q"}, "apt-get update"));
    }
    auto installed = run_package_command(host, render_install_argv("apt", missing), "apt-get install");
    if (!installed && m_options.os_id == "ubuntu") {
      return std::unexpected(with_universe_hint(std::move(installed).error()));
    }
    return installed;
  }
  if (m_options.package_manager == "dnf") {
    return run_package_command(host, render_install_argv("dnf", missing), "dnf install");
  }
  return make_error(Errc::invalid_config, "packages: unsupported package manager '" +
                                              m_options.package_manager + "' (expected apt or dnf)");
}

std::vector<std::string> render_install_argv(std::string_view package_manager,
                                             const std::vector<std::string>& missing) {
  std::vector<std::string> argv;
  if (package_manager == "dnf") {
    argv = {"dnf", "install", "-y"};
  } else {
    argv = {"apt-get", "install", "-y", "-q", "--no-install-recommends", "-o", "DPkg::Lock::Timeout=120"};
  }
  argv.insert(argv.end(), missing.begin(), missing.end());
  return argv;
}

Step make_packages_step(const profile::Config& config, const StepContext& /*context*/) {
  Step step;
  step.id = "packages";
  step.provisioner = std::make_unique<Packages>(PackagesOptions{
      .package_manager = config.profile.package_manager,
                                                  .packages = config.profile.packages,
                                                  .os_id = config.profile.os_id});
  step.checks = checks::make_packages_checks(config.profile);
  return step;
}

} // namespace zt::provisioners
