// SPDX-License-Identifier: Apache-2.0
#include "checks/packages.hpp"

#include "util/strings.hpp"

#include <algorithm>

namespace zt::checks {

namespace {

constexpr std::string_view k_dpkg_status = "/var/lib/dpkg/status";

/// Case-insensitive equality with a field name `b` of ASCII letters only (for a letter, x | 0x20 is
/// its lower case, and only the two cases of it map there): no locale lookup per byte.
bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if ((static_cast<unsigned char>(a[i]) | 0x20) != (static_cast<unsigned char>(b[i]) | 0x20)) {
      return false;
    }
  }
  return true;
}

/// Status: <want> <flag> <status>; only the third word says whether the files are on disk.
bool status_installed(std::string_view status) {
  std::vector<std::string_view> words;
  for (auto word : util::split(util::trim(status), ' ')) {
    if (!word.empty()) {
      words.push_back(word);
    }
  }
  return words.size() == 3 && words[2] == "installed";
}

/// The installed packages of the dpkg database; a missing file (a bare image tree) = none.
Result<InstalledPackages> read_dpkg_database(const host::Fs& fs) {
  auto text = fs.read_file(k_dpkg_status);
  if (!text) {
    if (text.error().code != Errc::not_found) {
      return std::unexpected(text.error());
    }
    return InstalledPackages{};
  }
  auto parsed = parse_dpkg_status(*text);
  if (!parsed) {
    return std::unexpected(prefixed(k_dpkg_status, parsed.error()));
  }
  return parsed;
}

std::string install_hint(std::string_view package_manager, const std::string& name) {
  if (package_manager == "apt") {
    return "apt-get install " + name;
  }
  if (package_manager == "dnf") {
    return "dnf install " + name;
  }
  return "ztagent provision --only packages";
}

class PackageInstalled final : public BasicCheck {
public:
  PackageInstalled(std::string package_manager, std::string name)
      : BasicCheck("packages." + name, "packages", "package " + name + " is installed"),
        m_package_manager(std::move(package_manager)), m_name(std::move(name)) {}

  [[nodiscard]] CheckResult run(const host::HostView& host) const override {
    auto installed = query_installed(host, m_package_manager, {m_name});
    if (!installed) {
      return error("installed", installed.error().message);
    }
    auto it = installed->find(m_name);
    if (it == installed->end()) {
      return fail("installed", "not installed", install_hint(m_package_manager, m_name));
    }
    return pass("installed", "installed " + it->second);
  }

private:
  std::string m_package_manager;
  std::string m_name;
};

class PodmanVersion final : public BasicCheck {
public:
  PodmanVersion(std::string package_manager, std::string min_version)
      : BasicCheck("packages.podman-version",
                   "packages",
                   "the installed podman is at least the version the unit style needs (" + min_version + ")"),
        m_package_manager(std::move(package_manager)), m_min_version(std::move(min_version)),
        m_expected(">= " + m_min_version) {}

  [[nodiscard]] CheckResult run(const host::HostView& host) const override {
    auto installed = query_installed(host, m_package_manager, {"podman"});
    if (!installed) {
      return error(m_expected, installed.error().message);
    }
    auto it = installed->find("podman");
    if (it == installed->end()) {
      return fail(m_expected, "not installed", install_hint(m_package_manager, "podman"));
    }
    std::string version = upstream_version(it->second);
    if (version.empty()) {
      return error(m_expected, "cannot read podman's version from \"" + it->second + "\"");
    }
    if (util::compare_versions(version, m_min_version) < 0) {
      return fail(m_expected, version,
                  "podman " + m_min_version +
                      " or newer is needed: use a distribution release (or backports) that ships it");
    }
    return pass(m_expected, version);
  }

private:
  std::string m_package_manager;
  std::string m_min_version;
  std::string m_expected;
};

} // namespace

Result<InstalledPackages> parse_dpkg_status(std::string_view text) {
  InstalledPackages out;
  std::string package;
  std::string version;
  std::string status;
  auto flush = [&] {
    if (!package.empty() && status_installed(status)) {
      out[package] = version;
    }
    package.clear();
    version.clear();
    status.clear();
  };
  std::size_t line_no = 0;
  // A real database is ~1 MB, mostly Description and Conffiles continuation lines: those are
  // skipped on their first character, and only the three fields read are trimmed.
  constexpr std::string_view k_space = " \t\r\n\v\f";
  // Lines found with memchr as the loop goes: no vector of the ~25,000 lines of a real database.
  for (std::size_t pos = 0; pos < text.size();) {
    const std::size_t eol = text.find('\n', pos);
    const std::size_t end = eol == std::string_view::npos ? text.size() : eol;
    const std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (line.empty() || k_space.find(line.front()) != std::string_view::npos) {
      if (line.find_first_not_of(k_space) == std::string_view::npos) {
        flush();
        continue;
      }
      if (line.front() == ' ' || line.front() == '\t') {
        continue; // continuation of a multi-line field (Description, Conffiles)
      }
    }
    auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return make_error(Errc::parse, "line " + std::to_string(line_no) + ": expected 'Field: value'");
    }
    auto field = line.substr(0, colon);
    if (iequals(field, "Package")) {
      package = util::trim(line.substr(colon + 1));
    } else if (iequals(field, "Version")) {
      version = util::trim(line.substr(colon + 1));
    } else if (iequals(field, "Status")) {
      status = util::trim(line.substr(colon + 1));
    }
  }
  flush();
  return out;
}

InstalledPackages parse_rpm_query(std::string_view out) {
  InstalledPackages result;
  for (auto line : util::lines(out)) {
    std::vector<std::string_view> words;
    for (auto word : util::split(util::trim(line), ' ')) {
      if (!word.empty()) {
        words.push_back(word);
      }
    }
    if (words.size() == 2) {
      result[std::string(words[0])] = std::string(words[1]);
    }
  }
  return result;
}

std::string upstream_version(std::string_view version) {
  // An epoch is digits followed by ':' ("1:4.3.1").
  auto colon = version.find(':');
  if (colon != std::string_view::npos &&
      std::ranges::all_of(version.substr(0, colon), [](char c) { return c >= '0' && c <= '9'; })) {
    version.remove_prefix(colon + 1);
  }
  std::size_t end = 0;
  while (end < version.size() && ((version[end] >= '0' && version[end] <= '9') || version[end] == '.')) {
    ++end;
  }
  auto result = version.substr(0, end);
  while (!result.empty() && result.back() == '.') {
    result.remove_suffix(1);
  }
  return std::string(result);
}

Result<InstalledPackages> query_installed(const host::HostView& host,
                                          std::string_view package_manager,
                                          const std::vector<std::string>& names) {
  InstalledPackages all;
  if (package_manager == "apt") {
    // Read and parsed once per run (HostCache): every packages.* check, the podman version of the
    // units and runtime checks, and the packages step share it.
    auto database = host::cached<InstalledPackages>(host.cache(), "packages:/var/lib/dpkg/status",
                                                    [&] { return read_dpkg_database(host.fs()); });
    if (!*database) {
      return std::unexpected(database->error());
    }
    InstalledPackages wanted;
    for (const auto& name : names) {
      auto it = (*database)->find(name);
      if (it != (*database)->end()) {
        wanted.insert(*it);
      }
    }
    return wanted;
  } else if (package_manager == "dnf") {
    if (names.empty()) {
      return all;
    }
    host::Command cmd;
    cmd.argv = {"rpm"};
    if (!host.live()) {
      cmd.argv.insert(cmd.argv.end(), {"--root", host.fs().root().string()});
    }
    cmd.argv.insert(cmd.argv.end(), {"-q", "--qf", "%{NAME} %{VERSION}\\n"});
    cmd.argv.insert(cmd.argv.end(), names.begin(), names.end());
    cmd.effect = host::Effect::read_only;
    ZT_TRY_ASSIGN(result, host.runner().run(cmd));
    all = parse_rpm_query(result.out);
    // rpm exits with the number of packages that are not installed; only complain when it said
    // nothing useful on stdout but something on stderr (broken database, bad option).
    std::string err = util::last_nonempty_line(result.err);
    if (result.exit_code != 0 && all.empty() && !err.empty()) {
      return make_error(Errc::command_failed,
                        "rpm -q failed (exit " + std::to_string(result.exit_code) + "): " + err);
    }
  } else {
    return make_error(Errc::invalid_config, "unsupported package manager '" + std::string(package_manager) +
                                                "' (expected apt or dnf)");
  }
  InstalledPackages wanted;
  for (const auto& name : names) {
    auto it = all.find(name);
    if (it != all.end()) {
      wanted.insert(*it);
    }
  }
  return wanted;
}

std::vector<std::unique_ptr<Check>> make_packages_checks(const profile::ProfileSpec& profile) {
  std::vector<std::unique_ptr<Check>> out;
  for (const auto& name : profile.packages) {
    out.push_back(std::make_unique<PackageInstalled>(profile.package_manager, name));
  }
  if (!profile.podman_min_version.empty()) {
    out.push_back(std::make_unique<PodmanVersion>(profile.package_manager, profile.podman_min_version));
  }
  return out;
}

} // namespace zt::checks
