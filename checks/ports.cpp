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

std::string_view strategy_name(profile::PortStrategy strategy) {
  switch (strategy) {
  case profile::PortStrategy::sysctl:
    return "sysctl";
  case profile::PortStrategy::forward:
    return "forward";
  case profile::PortStrategy::none:
    break;
  }
  return "none";
}

/// A check whose verdict comes from a function; it runs only under its own strategy and is
/// skipped under the others.
class PortsCheck final : public BasicCheck {
public:
  using Body = std::function<CheckResult(const host::HostView&)>;
  PortsCheck(std::string id,
             std::string description,
             std::string expected,
             profile::PortStrategy strategy,
             profile::PortStrategy own,
             Body body)
      : BasicCheck(std::move(id), "ports", std::move(description)), m_expected(std::move(expected)),
        m_strategy(strategy), m_own(own), m_body(std::move(body)) {}

  [[nodiscard]] CheckResult run(const host::HostView& host) const override {
    if (m_strategy != m_own) {
      return skip(m_expected, "ports.strategy = " + std::string(strategy_name(m_strategy)));
    }
    return m_body(host);
  }

private:
  std::string m_expected;
  profile::PortStrategy m_strategy;
  profile::PortStrategy m_own;
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

// --- strategy forward ------------------------------------------------------------------------------

namespace {

std::string nft_rule(const PortForward& f) {
  return f.protocol + " dport " + std::to_string(f.port) + " redirect to :" + std::to_string(f.to);
}

std::string collapse_blanks(std::string_view line) {
  std::string out;
  bool blank = false;
  for (char c : util::trim(line)) {
    if (c == ' ' || c == '\t') {
      blank = true;
      continue;
    }
    if (blank && !out.empty()) {
      out += ' ';
    }
    blank = false;
    out += c;
  }
  return out;
}

std::string first_line_of(std::string_view text) {
  auto all = util::lines(util::trim(text));
  return all.empty() ? std::string() : std::string(util::trim(all.front()));
}

/// "line 5 is 'x', expected 'y'" / "missing line 'y'" / "extra line 'x'".
std::string first_difference(const std::vector<std::string>& have, const std::vector<std::string>& want) {
  const std::size_t n = std::min(have.size(), want.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (have[i] != want[i]) {
      return "line " + std::to_string(i + 1) + " is '" + have[i] + "', expected '" + want[i] + "'";
    }
  }
  if (have.size() < want.size()) {
    return "missing line '" + want[n] + "'";
  }
  return "extra line '" + have[n] + "'";
}

std::string describe_file_problem(std::string_view path,
                                  const host::FileStat& st,
                                  const std::optional<std::string>& content,
                                  const std::string& desired) {
  if (st.type == host::FileType::missing) {
    return std::string(path) + " missing";
  }
  if (st.type != host::FileType::regular || !content) {
    return std::string(path) + " is " + host::describe(st.type);
  }
  if (*content != desired) {
    return std::string(path) + " content differs";
  }
  if ((st.mode & 07777) != 0644 || st.uid != 0 || st.gid != 0) {
    return std::string(path) + " has mode " + util::format_mode(st.mode) + ", owner " + std::to_string(st.uid) +
           ":" + std::to_string(st.gid);
  }
  return {};
}

std::string without_empty_toaddr(std::string_view text) {
  constexpr std::string_view suffix = ":toaddr=";
  if (text.ends_with(suffix)) {
    text.remove_suffix(suffix.size());
  }
  return std::string(text);
}

std::string_view config_name(FirewalldConfig which) {
  return which == FirewalldConfig::permanent ? "permanent" : "runtime";
}

} // namespace

std::vector<PortForward> port_forwards(const profile::Stack& stack) {
  std::vector<PortForward> out;
  for (const auto& p : stack.ports) {
    if (p.forward_to != 0) {
      out.push_back({p.port, p.forward_to, p.protocol});
    }
  }
  return out;
}

std::string render_nft_table(const std::vector<PortForward>& forwards) {
  std::string out = "table inet ztagent {\n"
                    "\tchain prerouting {\n"
                    "\t\ttype nat hook prerouting priority dstnat; policy accept;\n";
  for (const auto& f : forwards) {
    out += "\t\t" + nft_rule(f) + "\n";
  }
  out += "\t}\n"
         "\n"
         "\tchain output {\n"
         "\t\ttype nat hook output priority -100; policy accept;\n";
  for (const auto& f : forwards) {
    out += "\t\tfib daddr type local " + nft_rule(f) + "\n";
  }
  out += "\t}\n"
         "}\n";
  return out;
}

std::string render_nft_conf(const std::vector<PortForward>& forwards) {
  return "# Managed by ztagent (ports.strategy = forward): redirects the public ports to the rootless pod's\n"
         "# ports, for incoming and for local traffic. Loaded at boot by ztagent-forward.service.\n"
         "# Re-runnable: `nft -f` replaces only this table, atomically.\n"
         "table inet ztagent {}\n"
         "delete table inet ztagent\n" +
         render_nft_table(forwards);
}

std::string render_forward_unit() {
  return "# Managed by ztagent (ports.strategy = forward).\n"
         "[Unit]\n"
         "Description=ztagent port redirects (nftables table inet ztagent)\n"
         "Documentation=man:ztagent(8)\n"
         "DefaultDependencies=no\n"
         "Wants=network-pre.target\n"
         "Before=network-pre.target shutdown.target\n"
         "# nftables.service starts with `flush ruleset`: load after it.\n"
         "After=nftables.service\n"
         "Conflicts=shutdown.target\n"
         "\n"
         "[Service]\n"
         "Type=oneshot\n"
         "RemainAfterExit=yes\n"
         "ExecStart=/usr/sbin/nft -f /etc/ztagent/nftables.conf\n"
         "ExecReload=/usr/sbin/nft -f /etc/ztagent/nftables.conf\n"
         "ExecStop=-/usr/sbin/nft delete table inet ztagent\n"
         "\n"
         "[Install]\n"
         "WantedBy=multi-user.target\n";
}

std::vector<std::string> normalize_nft_listing(std::string_view text) {
  std::vector<std::string> out;
  for (auto raw : util::lines(text)) {
    std::string line = collapse_blanks(raw);
    if (line.empty()) {
      continue;
    }
    for (auto [name, number] : {std::pair<std::string_view, std::string_view>{"priority dstnat;", "priority -100;"},
                                {"priority srcnat;", "priority 100;"}}) {
      if (auto at = line.find(name); at != std::string::npos) {
        line.replace(at, name.size(), number);
      }
    }
    out.push_back(std::move(line));
  }
  return out;
}

CheckResult evaluate_nft_live(const host::CommandResult& listing, const std::vector<PortForward>& forwards) {
  const std::string expected = "table inet ztagent as rendered";
  const std::string fix = "run `ztagent provision` (loads " + std::string(k_nft_conf) + " with nft -f)";
  if (listing.exit_code != 0) {
    if (listing.err.find("No such file or directory") != std::string::npos) {
      return fail(expected, "table inet ztagent missing", fix);
    }
    std::string why = first_line_of(listing.err);
    return error(expected, "nft list table inet ztagent failed (exit " + std::to_string(listing.exit_code) + ")" +
                               (why.empty() ? "" : ": " + why));
  }
  auto have = normalize_nft_listing(listing.out);
  auto want = normalize_nft_listing(render_nft_table(forwards));
  if (have != want) {
    return fail(expected, "differs: " + first_difference(have, want), fix);
  }
  return pass(expected, std::to_string(forwards.size()) + " redirect(s) in prerouting and output");
}

std::vector<FirewalldItem> firewalld_items(const std::vector<PortForward>& forwards) {
  std::vector<FirewalldItem> out;
  for (const auto& f : forwards) {
    const std::string port = std::to_string(f.port);
    const std::string to = std::to_string(f.to);
    out.push_back({FirewalldItem::Kind::forward_port, "port=" + port + ":proto=" + f.protocol + ":toport=" + to});
    for (std::string_view family : {"ipv4", "ipv6"}) {
      out.push_back({FirewalldItem::Kind::direct_rule, std::string(family) + " nat OUTPUT 0 -o lo -p " + f.protocol +
                                                           " --dport " + port + " -j REDIRECT --to-ports " + to});
    }
  }
  return out;
}

std::vector<std::string> firewalld_add_argv(const FirewalldItem& item) {
  if (item.kind == FirewalldItem::Kind::forward_port) {
    return {"firewall-cmd", "--permanent", "--add-forward-port=" + item.text};
  }
  std::vector<std::string> argv = {"firewall-cmd", "--permanent", "--direct", "--add-rule"};
  for (auto word : util::split(item.text, ' ')) {
    argv.emplace_back(word);
  }
  return argv;
}

std::vector<FirewalldItem> missing_firewalld_items(const std::vector<FirewalldItem>& wanted,
                                                   const FirewalldListing& listing) {
  std::vector<std::string> ports;
  for (auto line : util::lines(listing.forward_ports)) {
    const std::string collapsed = collapse_blanks(line);
    for (auto word : util::split(collapsed, ' ')) {
      if (!word.empty()) {
        ports.push_back(without_empty_toaddr(word));
      }
    }
  }
  std::vector<std::string> rules;
  for (auto line : util::lines(listing.direct_rules)) {
    rules.push_back(collapse_blanks(line));
  }
  std::vector<FirewalldItem> out;
  for (const auto& item : wanted) {
    const auto& have = item.kind == FirewalldItem::Kind::forward_port ? ports : rules;
    if (std::find(have.begin(), have.end(), item.text) == have.end()) {
      out.push_back(item);
    }
  }
  return out;
}

Result<FirewalldListing> read_firewalld(const host::HostView& host, FirewalldConfig which) {
  auto run = [&](std::vector<std::string> args) -> Result<host::CommandResult> {
    host::Command cmd;
    cmd.argv = {"firewall-cmd"};
    if (which == FirewalldConfig::permanent) {
      cmd.argv.emplace_back("--permanent");
    }
    cmd.argv.insert(cmd.argv.end(), args.begin(), args.end());
    ZT_TRY_ASSIGN(result, host.runner().run(cmd));
    if (result.exit_code != 0) {
      std::string why = first_line_of(result.err);
      return make_error(Errc::command_failed, "firewalld: " + util::quote_argv(cmd.argv) + " failed (exit " +
                                                  std::to_string(result.exit_code) + ")" +
                                                  (why.empty() ? "" : ": " + why));
    }
    return result;
  };

  host::Command state;
  state.argv = {"firewall-cmd", "--state"};
  ZT_TRY_ASSIGN(running, host.runner().run(state));
  if (running.exit_code != 0) {
    return make_error(Errc::unsupported, "firewalld: not running (firewall-cmd --state exit " +
                                             std::to_string(running.exit_code) +
                                             "); start it with `systemctl enable --now firewalld` or set "
                                             "ports.strategy = \"sysctl\"");
  }
  ZT_TRY_ASSIGN(ports, run({"--list-forward-ports"}));
  ZT_TRY_ASSIGN(rules, run({"--direct", "--get-all-rules"}));
  return FirewalldListing{std::move(ports.out), std::move(rules.out)};
}

CheckResult evaluate_firewalld(const std::vector<FirewalldItem>& wanted,
                               const FirewalldListing& listing,
                               FirewalldConfig which) {
  const std::string expected = std::string(config_name(which)) + " forward-ports and direct rules present";
  auto missing = missing_firewalld_items(wanted, listing);
  if (missing.empty()) {
    return pass(expected, std::to_string(wanted.size()) + " item(s) present");
  }
  std::vector<std::string> texts;
  for (const auto& m : missing) {
    texts.push_back(m.text);
  }
  return fail(expected, "missing: " + util::join(texts, ", "),
              which == FirewalldConfig::permanent ? "run `ztagent provision`"
                                                  : "run `firewall-cmd --reload` (or `ztagent provision`)");
}

CheckResult evaluate_nft_persisted(const NftPersistedState& state, const std::vector<PortForward>& forwards) {
  const std::string expected = std::string(k_nft_conf) + " + " + std::string(k_forward_unit) + " enabled";
  std::vector<std::string> problems;
  if (!state.nft_present) {
    problems.emplace_back(k_nft_missing);
  }
  for (auto& p : {describe_file_problem(k_nft_conf, state.conf_stat, state.conf, render_nft_conf(forwards)),
                  describe_file_problem(k_forward_unit_path, state.unit_stat, state.unit, render_forward_unit())}) {
    if (!p.empty()) {
      problems.push_back(p);
    }
  }
  const std::string link(k_forward_wants_link);
  if (state.link_type == host::FileType::missing) {
    problems.push_back(link + " missing (" + std::string(k_forward_unit) + " not enabled)");
  } else if (state.link_type != host::FileType::symlink || !state.link) {
    problems.push_back(link + " is " + host::describe(state.link_type) + ", not a symlink");
  } else if (*state.link != k_forward_unit_path) {
    problems.push_back(link + " points to " + *state.link);
  }
  if (!problems.empty()) {
    return fail(expected, util::join(problems, "; "), "run `ztagent provision`");
  }
  return pass(expected, "table with " + std::to_string(forwards.size()) + " redirect(s), unit enabled");
}

Result<NftPersistedState> read_nft_persisted(const host::Fs& fs) {
  NftPersistedState state;
  auto read_regular = [&](std::string_view path, host::FileStat& st,
                          std::optional<std::string>& content) -> Result<void> {
    ZT_TRY_ASSIGN(s, fs.lstat(std::string(path)));
    st = s;
    if (st.type == host::FileType::regular) {
      ZT_TRY_ASSIGN(c, read_optional(fs, std::string(path)));
      content = std::move(c);
    }
    return {};
  };
  ZT_TRY(read_regular(k_nft_conf, state.conf_stat, state.conf));
  ZT_TRY(read_regular(k_forward_unit_path, state.unit_stat, state.unit));
  ZT_TRY_ASSIGN(link_stat, fs.lstat(std::string(k_forward_wants_link)));
  state.link_type = link_stat.type;
  if (link_stat.type == host::FileType::symlink) {
    ZT_TRY_ASSIGN(target, fs.read_link(std::string(k_forward_wants_link)));
    state.link = std::move(target);
  }
  ZT_TRY_ASSIGN(nft, fs.stat(std::string(k_nft_binary)));
  state.nft_present = nft.type == host::FileType::regular;
  return state;
}

std::vector<std::unique_ptr<Check>> make_ports_checks(const profile::Config& config) {
  const profile::SiteConfig& site = config.site;
  const profile::PortStrategy strategy = site.port_strategy;
  constexpr auto sysctl = profile::PortStrategy::sysctl;
  const std::uint32_t n = site.unprivileged_port_start;
  const std::string file = site.sysctl_file;
  std::vector<std::unique_ptr<Check>> out;

  out.push_back(std::make_unique<PortsCheck>(
      "ports.sysctl-persisted", "ztagent's sysctl.d file sets " + std::string(k_port_start_key) + " = N",
      file + ": " + key_line(n) + ", 0644 root:root", strategy, sysctl,
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
      "<= " + std::to_string(n) + " at boot", strategy, sysctl,
      [n, file](const host::HostView& host) -> CheckResult {
        auto files = read_sysctl_files(host.fs());
        if (!files) {
          return error("<= " + std::to_string(n) + " at boot", files.error().message);
        }
        return evaluate_sysctl_effective(effective_sysctl(*files, k_port_start_key), n, file);
      }));

  out.push_back(std::make_unique<PortsCheck>(
      "ports.sysctl-live", "the live kernel value " + std::string(k_port_start_proc) + " is <= N",
      "<= " + std::to_string(n), strategy, sysctl, [n](const host::HostView& host) -> CheckResult {
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


  // Strategy forward.
  const auto forwards = port_forwards(config.stack);
  constexpr auto forward = profile::PortStrategy::forward;
  if (config.profile.firewall == "firewalld") {
    const auto items = firewalld_items(forwards);
    out.push_back(std::make_unique<PortsCheck>(
        "ports.forward-persisted",
        "firewalld's permanent configuration redirects each public port to the pod's port (forward-ports "
        "and lo direct rules)",
        "permanent forward-ports and direct rules present", strategy, forward,
        [items](const host::HostView& host) -> CheckResult {
          const std::string expected = "permanent forward-ports and direct rules present";
          if (!host.live()) {
            return skip(expected, "not live: --root " + host.fs().root().string() +
                                      " (firewalld is read through firewall-cmd on the live host)");
          }
          auto listing = read_firewalld(host, FirewalldConfig::permanent);
          if (!listing) {
            return error(expected, listing.error().message);
          }
          return evaluate_firewalld(items, *listing, FirewalldConfig::permanent);
        }));
    out.push_back(std::make_unique<PortsCheck>(
        "ports.forward-live", "firewalld's runtime configuration has the redirects",
        "runtime forward-ports and direct rules present", strategy, forward,
        [items](const host::HostView& host) -> CheckResult {
          const std::string expected = "runtime forward-ports and direct rules present";
          if (!host.live()) {
            return skip(expected, "not live: --root " + host.fs().root().string());
          }
          auto listing = read_firewalld(host, FirewalldConfig::runtime);
          if (!listing) {
            return error(expected, listing.error().message);
          }
          return evaluate_firewalld(items, *listing, FirewalldConfig::runtime);
        }));
    return out;
  }

  out.push_back(std::make_unique<PortsCheck>(
      "ports.forward-persisted",
      "ztagent's nftables table is persisted and loaded at boot (" + std::string(k_nft_conf) + ", " +
          std::string(k_forward_unit) + " enabled)",
      std::string(k_nft_conf) + " + " + std::string(k_forward_unit) + " enabled", strategy, forward,
      [forwards](const host::HostView& host) -> CheckResult {
        auto state = read_nft_persisted(host.fs());
        if (!state) {
          return error(std::string(k_nft_conf) + " + " + std::string(k_forward_unit) + " enabled",
                       state.error().message);
        }
        return evaluate_nft_persisted(*state, forwards);
      }));
  out.push_back(std::make_unique<PortsCheck>(
      "ports.forward-live", "the live nftables table inet ztagent equals the rendered one",
      "table inet ztagent as rendered", strategy, forward,
      [forwards](const host::HostView& host) -> CheckResult {
        const std::string expected = "table inet ztagent as rendered";
        if (!host.live()) {
          return skip(expected, "not live: --root " + host.fs().root().string());
        }
        host::Command cmd;
        cmd.argv = {"nft", "list", "table", "inet", "ztagent"};
        auto listed = host.runner().run(cmd);
        if (!listed) {
          return error(expected, listed.error().message);
        }
        return evaluate_nft_live(*listed, forwards);
      }));
  return out;
}

} // namespace zt::checks
