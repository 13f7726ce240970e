// SPDX-License-Identifier: Apache-2.0
#pragma once

// Step 1 (packages): which distribution packages are installed, read from the package database in one
// go (never one process per package): apt parses /var/lib/dpkg/status, dnf runs one read-only
// `rpm -q --qf '%{NAME} %{VERSION}\n' <names>`.

#include "checks/check.hpp"
#include "profile/spec.hpp"

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace zt::checks {

/// Package name -> version for installed packages, as the database reports them.
using InstalledPackages = std::map<std::string, std::string>;

/// Parses dpkg's status file: paragraphs separated by blank lines, "Field: value" lines, continuation
/// lines starting with a space or tab. A package counts as installed when the third word of its
/// Status field is "installed" ("install ok installed", "hold ok installed"). Errc::parse
/// ("line N: ...") for a line that is neither a field nor a continuation.
[[nodiscard]] Result<InstalledPackages> parse_dpkg_status(std::string_view text);

/// Parses the output of `rpm -q --qf '%{NAME} %{VERSION}\n' names...`: "name version" lines. rpm's
/// "package x is not installed" lines are skipped.
[[nodiscard]] InstalledPackages parse_rpm_query(std::string_view out);

/// The leading dotted-number part of a package version, without epoch and revision:
/// "1:4.3.1+ds1-8+deb12u1+b3" -> "4.3.1", "5.2.3" -> "5.2.3". Empty when there is none.
[[nodiscard]] std::string upstream_version(std::string_view version);

/// The installed subset of `names` (absent = not installed). `package_manager` is "apt" or "dnf"
/// (anything else: Errc::invalid_config). apt: reads /var/lib/dpkg/status through Fs (missing file =
/// nothing installed). dnf: one read-only rpm query, with --root under --root.
[[nodiscard]] Result<InstalledPackages> query_installed(const host::HostView& host,
                                                        std::string_view package_manager,
                                                        const std::vector<std::string>& names);

/// One "packages.<name>" check per profile package, then "packages.podman-version" when the profile
/// sets podman_min_version.
[[nodiscard]] std::vector<std::unique_ptr<Check>> make_packages_checks(const profile::ProfileSpec& profile);

} // namespace zt::checks
