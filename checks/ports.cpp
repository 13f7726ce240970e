// SPDX-License-Identifier: Apache-2.0
#include "checks/ports.hpp"

#include "util/strings.hpp"

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <utility>

namespace zt::checks {

namespace {

/// A check whose verdict comes from a function; all ports checks share the strategy gate.
class PortsCheck final : public Check {
public:
  using Body = std::function<CheckResult(const host::HostView&)>;
  PortsCheck(std::string id,
             std::string description,
             std::string expected,
             profile::PortStrategy strategy,
             Body body)
      : m_id(std::move(id)), m_description(std::move(description)), m_expected(std::move(expected)),
        m_strategy(strategy), m_body(std::move(body)) {}

  [[nodiscard]] std::string_view id() const override { return m_id; }
  [[nodiscard]] std::string_view step() const override { return "ports"; }
  [[nodiscard]] std::string_view description() const override { return m_description; }
  [[nodiscard]] CheckResult run(const host::HostView& host) const override {
    switch (m_strategy) {
    case profile::PortStrategy::none:
      return skip(m_expected, "ports.strategy = none");
    case profile::PortStrategy::forward:
      return error(m_expected, std::string(k_forward_unsupported));
    case profile::PortStrategy::sysctl:
      break;
    }
    return m_body(host);
  }

private:
  std::string m_id;
  std::string m_description;
  std::string m_expected;
  profile::PortStrategy m_strategy;
  Body m_body;
};

bool ends_with_conf(std::string_view name) {
  return name.size() > 5 && name.ends_with(".conf");
}

std::string key_line(std::uint32_t port_start) {
  return std::string(k_port_start_key) + " = " + std::to_string(port_start);
}

std::string setter(const EffectiveSetting& e) {
  return e.file + ":" + std::to_string(e.line);
}

/// Reads a file; nullopt when missing (a dangling symlink counts as missing).
Result<std::optional<std::string>> read_optional(const host::Fs& fs, const std::string& path) {
  auto content = fs.read_file(path);
  if (!content) {
    if (content.error().code == Errc::not_found) {
      return std::optional<std::string>{};
    }
    return std::unexpected(content.error());
  }
  return std::optional<std::string>{std::move(*content)};
}

} // namespace

std::string render_ports_sysctl(std::uint32_t port_start) {
  return "# Managed by ztagent: lets the rootless Podman stack bind ports 80/443.\n" + key_line(port_start) +
         "\n";
}

std::string normalize_sysctl_key(std::string_view key) {
  std::string out(key);
  auto first = out.find_first_of("./");
  if (first == std::string::npos || out[first] == '.') {
    return out;
  }
  for (char& c : out) {
    if (c == '/') {
      c = '.';
    } else if (c == '.') {
      c = '/';
    }
  }
  return out;
}

std::vector<SysctlAssignment> parse_sysctl_conf(std::string_view text) {
  std::vector<SysctlAssignment> out;
  std::size_t number = 0;
  for (auto raw : util::lines(text)) {
    ++number;
    auto line = util::trim(raw);
    if (line.empty() || line.front() == '#' || line.front() == ';') {
      continue;
    }
    auto eq = line.find('=');
    if (eq == std::string_view::npos) {
      continue;
    }
    auto key = util::trim(line.substr(0, eq));
    if (!key.empty() && key.front() == '-') {
      key = util::trim(key.substr(1));
    }
    if (key.empty()) {
      continue;
    }
    out.push_back({normalize_sysctl_key(key), std::string(util::trim(line.substr(eq + 1))), number});
  }
  return out;
}

const std::vector<std::string>& sysctl_dirs() {
  static const std::vector<std::string> dirs = {"/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d",
                                                "/usr/lib/sysctl.d", "/lib/sysctl.d"};
  return dirs;
}

std::vector<std::string> order_sysctl_files(const std::vector<SysctlDirListing>& listings) {
  std::map<std::string, std::string> by_name; // sorted by name; first listing wins
  for (const auto& listing : listings) {
    for (const auto& name : listing.names) {
      if (ends_with_conf(name) && !by_name.contains(name)) {
        by_name.emplace(name, listing.dir + "/" + name);
      }
    }
  }
  std::vector<std::string> out;
  out.reserve(by_name.size());
  for (auto& [name, path] : by_name) {
    out.push_back(std::move(path));
  }
  return out;
}

std::optional<EffectiveSetting> effective_sysctl(const std::vector<SysctlFile>& files, std::string_view key) {
  const std::string wanted = normalize_sysctl_key(key);
  std::optional<EffectiveSetting> out;
  for (const auto& file : files) {
    for (auto& a : parse_sysctl_conf(file.content)) {
      if (a.key == wanted) {
        out = EffectiveSetting{file.path, a.line, std::move(a.value)};
      }
    }
  }
  return out;
}

Result<std::vector<SysctlFile>> read_sysctl_files(const host::Fs& fs,
                                                  const std::optional<SysctlFile>& overlay) {
  auto read = [&](const std::string& path) -> Result<std::optional<std::string>> {
    if (overlay && overlay->path == path) {
      return std::optional<std::string>{overlay->content};
    }
    return read_optional(fs, path);
  };

  std::vector<SysctlDirListing> listings;
  for (const auto& dir : sysctl_dirs()) {
    SysctlDirListing listing{dir, {}};
    auto names = fs.list_dir(dir);
    if (!names && names.error().code != Errc::not_found) {
      return std::unexpected(names.error());
    }
    if (names) {
      for (auto& name : *names) {
        if (!ends_with_conf(name)) {
          continue;
        }
        ZT_TRY_ASSIGN(st, fs.stat(dir + "/" + name));
        if (st.type == host::FileType::directory) {
          continue;
        }
        listing.names.push_back(std::move(name));
      }
    }
    if (overlay) {
      std::filesystem::path p{overlay->path};
      std::string name = p.filename().string();
      if (p.parent_path() == dir && ends_with_conf(name) &&
          std::find(listing.names.begin(), listing.names.end(), name) == listing.names.end()) {
        listing.names.push_back(name);
      }
    }
    listings.push_back(std::move(listing));
  }

  const std::string conf_path{k_sysctl_conf};
  ZT_TRY_ASSIGN(conf, read(conf_path));
  std::vector<SysctlFile> out;
  for (const auto& path : order_sysctl_files(listings)) {
    ZT_TRY_ASSIGN(content, read(path));
    if (conf && content == conf && !(overlay && overlay->path == path)) {
      ZT_TRY_ASSIGN(lst, fs.lstat(path));
      if (lst.type == host::FileType::symlink) {
        continue; // Debian's 99-sysctl.conf -> ../sysctl.conf: applied once, last
      }
    }
    out.push_back({path, content.value_or("")});
  }
  if (conf) {
    out.push_back({conf_path, std::move(*conf)});
  }
  return out;
}

CheckResult evaluate_sysctl_persisted(std::string_view path,
                                      const host::FileStat& stat,
                                      const std::optional<std::string>& content,
                                      std::uint32_t port_start) {
  std::string expected = std::string(path) + ": " + key_line(port_start) + ", 0644 root:root";
  std::string fix = "run `ztagent provision` to write " + std::string(path);
  switch (stat.type) {
  case host::FileType::missing:
    return fail(expected, "missing", fix);
  case host::FileType::regular:
    break;
  case host::FileType::symlink:
    return fail(expected, "a symlink", "remove the symlink " + std::string(path) + ", then " + fix);
  default:
    return fail(expected, "not a regular file", "remove " + std::string(path) + ", then " + fix);
  }
  if (!content) {
    return fail(expected, "missing", fix);
  }
  if (*content != render_ports_sysctl(port_start)) {
    auto e = effective_sysctl({{std::string(path), *content}}, k_port_start_key);
    std::string what = e ? std::string(k_port_start_key) + " = " + e->value
                         : "no " + std::string(k_port_start_key) + " line";
    return fail(expected, "content differs (" + what + ")", fix);
  }
  if ((stat.mode & 07777) != 0644 || stat.uid != 0 || stat.gid != 0) {
    return fail(expected,
                "mode " + util::format_mode(stat.mode) + ", owner " + std::to_string(stat.uid) + ":" +
                    std::to_string(stat.gid),
                fix);
  }
  return pass(expected, key_line(port_start) + ", 0644 root:root");
}

CheckResult evaluate_sysctl_effective(const std::optional<EffectiveSetting>& effective,
                                      std::uint32_t port_start,
                                      std::string_view own_file) {
  std::string expected = "<= " + std::to_string(port_start) + " at boot";
  if (!effective) {
    return skip(expected, std::to_string(k_kernel_default_port_start) + " (kernel default; no sysctl file sets " +
                              std::string(k_port_start_key) + "; " + std::string(own_file) +
                              " is reported by ports.sysctl-persisted)");
  }
  std::string actual = effective->value + " (set by " + setter(*effective) + ")";
  auto value = util::parse_uint(effective->value);
  if (value && *value <= port_start) {
    return pass(expected, actual);
  }
  if (effective->file == own_file) {
    return skip(expected, actual + "; ztagent's own file is reported by ports.sysctl-persisted");
  }
  return fail(expected, actual,
              "remove " + std::string(k_port_start_key) + " from " + effective->file +
                  " or set ports.sysctl_file to sort after it, then run `ztagent provision`");
}

CheckResult evaluate_sysctl_live(std::string_view proc_value, std::uint32_t port_start) {
  std::string expected = "<= " + std::to_string(port_start);
  auto text = util::trim(proc_value);
  auto value = util::parse_uint(text);
  if (!value) {
    return error(expected,
                 "cannot parse " + std::string(k_port_start_proc) + ": '" + std::string(text) + "'");
  }
  if (*value <= port_start) {
    return pass(expected, std::string(text));
  }
  return fail(expected, std::string(text),
              "sysctl -w " + std::string(k_port_start_key) + "=" + std::to_string(port_start) +
                  " (or run `ztagent provision`)");
}

std::vector<std::unique_ptr<Check>> make_ports_checks(const profile::SiteConfig& site) {
  const std::uint32_t n = site.unprivileged_port_start;
  const std::string file = site.sysctl_file;
  std::vector<std::unique_ptr<Check>> out;

  out.push_back(std::make_unique<PortsCheck>(
      "ports.sysctl-persisted", "ztagent's sysctl.d file sets " + std::string(k_port_start_key) + " = N",
      file + ": " + key_line(n) + ", 0644 root:root", site.port_strategy,
      [file, n](const host::HostView& host) -> CheckResult {
        auto st = host.fs().lstat(file);
        if (!st) {
          return error(file, st.error().message);
        }
        std::optional<std::string> content;
        if (st->type == host::FileType::regular) {
          auto c = read_optional(host.fs(), file);
          if (!c) {
            return error(file, c.error().message);
          }
          content = std::move(*c);
        }
        return evaluate_sysctl_persisted(file, *st, content, n);
      }));

  out.push_back(std::make_unique<PortsCheck>(
      "ports.sysctl-effective",
      "no other sysctl file overrides ztagent's value at boot (last assignment over all sysctl files)",
      "<= " + std::to_string(n) + " at boot", site.port_strategy,
      [n, file](const host::HostView& host) -> CheckResult {
        auto files = read_sysctl_files(host.fs());
        if (!files) {
          return error("<= " + std::to_string(n) + " at boot", files.error().message);
        }
        return evaluate_sysctl_effective(effective_sysctl(*files, k_port_start_key), n, file);
      }));

  out.push_back(std::make_unique<PortsCheck>(
      "ports.sysctl-live", "the live kernel value " + std::string(k_port_start_proc) + " is <= N",
      "<= " + std::to_string(n), site.port_strategy, [n](const host::HostView& host) -> CheckResult {
        std::string expected = "<= " + std::to_string(n);
        if (!host.live()) {
          return skip(expected, "not live: --root " + host.fs().root().string());
        }
        auto value = host.fs().read_file(std::string(k_port_start_proc));
        if (!value) {
          return error(expected, value.error().message);
        }
        return evaluate_sysctl_live(*value, n);
      }));
  return out;
}

} // namespace zt::checks
