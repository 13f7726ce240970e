// SPDX-License-Identifier: Apache-2.0
// The units checks (units.files, units.owner-mode, units.enabled, units.no-secrets, units.style)
// and the facts they share with the provisioner (resolve_units_context, styles_on_disk). The
// renderer is in units_render.cpp.
#include "checks/units.hpp"

#include "checks/data.hpp"
#include "checks/secrets.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <cctype>
#include <set>

namespace zt::checks {

Result<UnitsContext> resolve_units_context(const host::HostView& host, const UnitsSpec& spec) {
  auto account = host.accounts().user(spec.user);
  if (!account) {
    return std::unexpected(account.error());
  }
  if (!*account) {
    return make_error(Errc::not_found, "user " + spec.user + " does not exist (run the user step first)");
  }
  UnitsContext ctx;
  ctx.account = **account;
  ZT_TRY_ASSIGN(version, installed_podman_version(host, spec.profile));
  ctx.podman_version = version;
  ZT_TRY_ASSIGN(style, style_for_podman(version));
  ctx.style = style;
  ZT_TRY_ASSIGN(store, choose_secret_store(host, ctx.account));
  ctx.store = store;
  return ctx;
}

Result<std::vector<UnitStyle>>
styles_on_disk(const host::HostView& host, const UnitsSpec& spec, const host::Account& account) {
  auto exists = [&](const std::string& path) -> Result<bool> {
    ZT_TRY_ASSIGN(st, host.fs().lstat(path));
    return st.exists();
  };
  const auto& stack = spec.stack;
  // Distinguishing files: the .pod (quadlet_pod), a .container without a .pod (quadlet_container),
  // a ztagent-written <pod>-<name>.service (classic). The pod .service alone is shared by
  // quadlet_container and classic and decides nothing.
  ZT_TRY_ASSIGN(pod_file, exists(style_unit_paths(stack, account, UnitStyle::quadlet_pod).front()));
  bool any_container = false;
  bool any_classic = false;
  const auto quadlet_paths = style_unit_paths(stack, account, UnitStyle::quadlet_container);
  const auto classic_paths = style_unit_paths(stack, account, UnitStyle::classic);
  for (std::size_t i = 1; i < quadlet_paths.size(); ++i) {
    ZT_TRY_ASSIGN(q, exists(quadlet_paths[i]));
    ZT_TRY_ASSIGN(c, exists(classic_paths[i]));
    any_container = any_container || q;
    any_classic = any_classic || c;
  }
  std::vector<UnitStyle> out;
  if (pod_file) {
    out.push_back(UnitStyle::quadlet_pod);
  }
  if (any_container && !pod_file) {
    out.push_back(UnitStyle::quadlet_container);
  }
  if (any_classic) {
    out.push_back(UnitStyle::classic);
  }
  return out;
}

// ---- checks -----------------------------------------------------------------------------------

namespace {

class UnitsCheck : public BasicCheck {
public:
  UnitsCheck(UnitsSpec spec, std::string id, std::string description, std::string expected)
      : BasicCheck(std::move(id), "units", std::move(description)), m_spec(std::move(spec)),
        m_expected(std::move(expected)) {}

  [[nodiscard]] CheckResult run(const host::HostView& host) const override {
    auto ctx = resolve_units_context(host, m_spec);
    if (!ctx) {
      if (ctx.error().code == Errc::not_found) {
        return fail(m_expected, ctx.error().message, "ztagent provision");
      }
      return error(m_expected, ctx.error().message);
    }
    return judge(host, *ctx);
  }

protected:
  [[nodiscard]] virtual CheckResult judge(const host::HostView& host, const UnitsContext& ctx) const = 0;

  [[nodiscard]] Result<RenderedUnits> rendered(const UnitsContext& ctx) const {
    return render_units(m_spec, ctx);
  }

  UnitsSpec m_spec;
  std::string m_expected;
};

const std::string k_fix = "ztagent provision --only units";

} // namespace

host::UntrustedRead unit_file_rules(const host::Account& account) {
  (void)account; // any owner: the bytes are only compared, never copied; units.owner-mode judges it
  return host::UntrustedRead{.max_bytes = host::k_max_config_bytes, .owners = {}};
}

namespace {

class UnitsFiles final : public UnitsCheck {
public:
  explicit UnitsFiles(const UnitsSpec& spec)
      : UnitsCheck(spec,
                   "units.files",
                   "every unit file and stack file has exactly the rendered content",
                   "unit and stack files as rendered") {}

protected:
  [[nodiscard]] CheckResult judge(const host::HostView& host, const UnitsContext& ctx) const override {
    auto r = rendered(ctx);
    if (!r) {
      return error(m_expected, r.error().message);
    }
    for (const auto& file : r->files) {
      // One no-follow open of a file the user controls: never a FIFO, device or symlink target.
      auto opened = host.fs().read_untrusted(file.path, unit_file_rules(ctx.account));
      if (!opened) {
        if (opened.error().code == Errc::refused) {
          return fail(m_expected, opened.error().message, "remove it, then: " + k_fix);
        }
        return error(m_expected, opened.error().message);
      }
      const host::FileStat* st = &opened->st;
      if (!st->exists()) {
        return fail(m_expected, file.path + " is missing", k_fix);
      }
      if (st->type != host::FileType::regular) {
        return fail(m_expected, file.path + " is " + host::describe(st->type), "remove it, then: " + k_fix);
      }
      const std::string* content = &opened->content;
      if (*content == file.content) {
        continue;
      }
      // Name the first differing line, never its content (a tampered file may hold a secret).
      const auto want = util::lines(file.content);
      const auto have = util::lines(*content);
      std::size_t i = 0;
      while (i < want.size() && i < have.size() && want[i] == have[i]) {
        ++i;
      }
      std::string where = i < want.size() && i < have.size() ? "line " + std::to_string(i + 1) + " differs"
                          : i < want.size()                  ? "ends before line " + std::to_string(i + 1)
                          : i < have.size() ? "has extra lines from line " + std::to_string(i + 1)
                                            : "differs in line endings";
      return fail(m_expected, file.path + ": " + where, k_fix);
    }
    return pass(m_expected, std::to_string(r->files.size()) + " files as rendered (" +
                                std::string(to_string(ctx.style)) + ", secrets in " +
                                std::string(to_string(ctx.store)) + ")");
  }
};

class UnitsOwnerMode final : public UnitsCheck {
public:
  explicit UnitsOwnerMode(const UnitsSpec& spec)
      : UnitsCheck(spec,
                   "units.owner-mode",
                   "unit and stack files are owned by the service user (the user manager's drop-in "
                   "by root), mode 0644",
                   "owned by " + spec.user + ", mode 0644") {}

protected:
  [[nodiscard]] CheckResult judge(const host::HostView& host, const UnitsContext& ctx) const override {
    auto r = rendered(ctx);
    if (!r) {
      return error(m_expected, r.error().message);
    }
    std::size_t present = 0;
    for (const auto& file : r->files) {
      auto st = host.fs().lstat(file.path);
      if (!st) {
        return error(m_expected, st.error().message);
      }
      if (!st->exists()) {
        continue; // units.files reports it
      }
      ++present;
      const bool root_owned = file.kind == ManagedFile::Kind::user_manager_dropin;
      const std::uint32_t uid = root_owned ? 0 : ctx.account.uid;
      const std::uint32_t gid = root_owned ? 0 : ctx.account.gid;
      if (st->uid != uid || st->gid != gid || (st->mode & 07777) != file.mode ||
          st->type != host::FileType::regular) {
        return fail(m_expected,
                    file.path + ": " +
                        (st->type == host::FileType::regular ? "" : host::describe(st->type) + ", ") +
                        "owner " + owner_text(host.accounts(), st->uid, st->gid) + ", mode " +
                        util::format_mode(st->mode & 07777) + " (want " + util::format_mode(file.mode) + ")",
                    k_fix);
      }
    }
    if (present == 0) {
      return skip(m_expected, "no unit files present (units.files reports them)");
    }
    return pass(m_expected, std::to_string(present) + " files owned by " +
                                owner_text(host.accounts(), ctx.account.uid, ctx.account.gid) +
                                " with the right mode");
  }
};

class UnitsEnabled final : public UnitsCheck {
public:
  explicit UnitsEnabled(const UnitsSpec& spec)
      : UnitsCheck(spec,
                   "units.enabled",
                   "the stack's units and podman-auto-update.timer are enabled",
                   "enablement symlinks present") {}

protected:
  [[nodiscard]] CheckResult judge(const host::HostView& host, const UnitsContext& ctx) const override {
    auto r = rendered(ctx);
    if (!r) {
      return error(m_expected, r.error().message);
    }
    for (const auto& link : r->links) {
      auto st = host.fs().lstat(link.path);
      if (!st) {
        return error(m_expected, st.error().message);
      }
      if (!st->exists()) {
        return fail(m_expected, link.path + " is missing", k_fix);
      }
      if (st->type != host::FileType::symlink) {
        return fail(m_expected, link.path + " is " + host::describe(st->type) + ", not a symlink",
                    "remove it, then: " + k_fix);
      }
      auto target = host.fs().read_link(link.path);
      if (!target) {
        return error(m_expected, target.error().message);
      }
      if (*target != link.target) {
        return fail(m_expected, link.path + " -> " + *target + " (want " + link.target + ")", k_fix);
      }
    }
    // A link under a name of this stack's units that the installed style does not use (e.g. a
    // planted default.target.wants/ztnet-pod.service -> /etc/shadow next to Quadlet .pod units):
    // the units step removes exactly these names.
    std::set<std::string> wanted;
    for (const auto& link : r->links) {
      wanted.insert(link.path);
    }
    for (UnitStyle other : {UnitStyle::quadlet_pod, UnitStyle::quadlet_container, UnitStyle::classic}) {
      for (const auto& path : style_link_paths(m_spec.stack, ctx.account, other)) {
        if (!wanted.insert(path).second) {
          continue;
        }
        auto st = host.fs().lstat(path);
        if (!st) {
          return error(m_expected, st.error().message);
        }
        if (!st->exists()) {
          continue;
        }
        std::string what = path + " is " + host::describe(st->type);
        if (st->type == host::FileType::symlink) {
          auto target = host.fs().read_link(path);
          what = path + " -> " + (target ? *target : std::string("?"));
        }
        return fail(m_expected,
                    what + ": not a link of " + std::string(to_string(ctx.style)) + " units for podman " +
                        ctx.podman_version,
                    k_fix);
      }
    }
    auto timer = host.fs().lstat(std::string(auto_update_timer_unit()));
    if (!timer) {
      return error(m_expected, timer.error().message);
    }
    if (!timer->exists()) {
      return fail(m_expected,
                  std::string(auto_update_timer_unit()) + " is missing (podman package incomplete?)",
                  "reinstall podman: ztagent provision --only packages");
    }
    return pass(m_expected, std::to_string(r->links.size()) + " symlinks present");
  }
};

/// "ENV=value" lines of a secret env file; values only (for the no-secrets scan).
std::vector<std::pair<std::string, std::string>> parse_env_lines(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  for (auto line : util::lines(text)) {
    auto eq = line.find('=');
    if (eq == std::string_view::npos || line.starts_with('#')) {
      continue;
    }
    out.emplace_back(std::string(line.substr(0, eq)), std::string(line.substr(eq + 1)));
  }
  return out;
}

/// Line number (1-based) where `name=` appears as a whole word (a literal assignment), or 0.
std::size_t assignment_line(std::string_view content, std::string_view name) {
  const std::string needle = std::string(name) + "=";
  std::size_t line_no = 0;
  for (auto line : util::lines(content)) {
    ++line_no;
    for (std::size_t pos = line.find(needle); pos != std::string_view::npos;
         pos = line.find(needle, pos + 1)) {
      const char before = pos == 0 ? ' ' : line[pos - 1];
      if (std::isalnum(static_cast<unsigned char>(before)) == 0 && before != '_') {
        return line_no;
      }
    }
  }
  return 0;
}

class UnitsNoSecrets final : public UnitsCheck {
public:
  explicit UnitsNoSecrets(const UnitsSpec& spec)
      : UnitsCheck(spec,
                   "units.no-secrets",
                   "no unit file holds a secret value or assigns a secret variable",
                   "no secret in any unit file") {}

protected:
  [[nodiscard]] CheckResult judge(const host::HostView& host, const UnitsContext& ctx) const override {
    // Values known from the files store (podman secrets cannot be read back without running podman).
    std::vector<std::pair<std::string, std::string>> values;
    if (ctx.store == SecretStore::files) {
      for (const auto& c : m_spec.stack.containers) {
        if (c.secrets.empty()) {
          continue;
        }
        // Opened once without following a symlink; a FIFO or device is never opened for reading
        // (a FIFO here used to block verify forever) and secrets.present reports it.
        auto text = host.fs().read_untrusted(secret_env_file(ctx.account, m_spec.stack, c),
                                             env_file_rules(ctx.account));
        if (!text) {
          if (text.error().code == Errc::refused) {
            continue; // secrets.present fails naming the file
          }
          return error(m_expected, text.error().message);
        }
        for (auto& kv : parse_env_lines(text->content)) {
          if (!kv.second.empty()) {
            values.push_back(std::move(kv));
          }
        }
      }
    }
    std::set<std::string> names;
    for (const auto& s : m_spec.stack.secrets) {
      names.insert(s.name);
    }
    for (const auto& c : m_spec.stack.containers) {
      for (const auto& ref : c.secrets) {
        names.insert(ref.env);
      }
    }
    std::size_t scanned = 0;
    for (UnitStyle style : {UnitStyle::quadlet_pod, UnitStyle::quadlet_container, UnitStyle::classic}) {
      for (const auto& path : style_unit_paths(m_spec.stack, ctx.account, style)) {
        auto opened = host.fs().read_untrusted(path, unit_file_rules(ctx.account));
        if (!opened) {
          if (opened.error().code == Errc::refused) {
            return fail(m_expected, opened.error().message, "remove it, then: " + k_fix);
          }
          return error(m_expected, opened.error().message);
        }
        if (opened->st.type != host::FileType::regular) {
          continue;
        }
        const std::string* content = &opened->content;
        ++scanned;
        for (const auto& [env, value] : values) {
          if (content->find(value) != std::string::npos) {
            return fail(m_expected, path + " contains the value of " + env,
                        "remove the value from the file (and rotate the secret), then: " + k_fix);
          }
        }
        for (const auto& name : names) {
          if (auto line = assignment_line(*content, name); line != 0) {
            return fail(m_expected, path + ": line " + std::to_string(line) + " assigns " + name,
                        "remove the assignment (and rotate the secret), then: " + k_fix);
          }
        }
      }
    }
    return pass(m_expected, std::to_string(scanned) + " unit files hold no secret");
  }
};

std::string style_list(const std::vector<UnitStyle>& styles) {
  std::vector<std::string> names;
  for (auto s : styles) {
    names.emplace_back(to_string(s));
  }
  return util::join(names, " and ");
}

class UnitsStyle final : public UnitsCheck {
public:
  explicit UnitsStyle(const UnitsSpec& spec)
      : UnitsCheck(spec,
                   "units.style",
                   "the unit files on disk have the style the installed podman needs",
                   "units in the style of the installed podman") {}

protected:
  [[nodiscard]] CheckResult judge(const host::HostView& host, const UnitsContext& ctx) const override {
    const std::string expected =
        "podman " + ctx.podman_version + " needs " + std::string(to_string(ctx.style)) + " units";
    auto found = styles_on_disk(host, m_spec, ctx.account);
    if (!found) {
      return error(expected, found.error().message);
    }
    if (found->size() == 1 && found->front() == ctx.style) {
      return pass(expected, std::string(to_string(ctx.style)) + " files");
    }
    const std::string actual =
        expected + ", found " + (found->empty() ? "no unit files" : style_list(*found) + " files");
    return fail(expected, actual, k_fix);
  }
};

} // namespace

std::vector<std::unique_ptr<Check>> make_units_checks(const UnitsSpec& spec) {
  std::vector<std::unique_ptr<Check>> out;
  out.push_back(std::make_unique<UnitsFiles>(spec));
  out.push_back(std::make_unique<UnitsOwnerMode>(spec));
  out.push_back(std::make_unique<UnitsEnabled>(spec));
  out.push_back(std::make_unique<UnitsNoSecrets>(spec));
  out.push_back(std::make_unique<UnitsStyle>(spec));
  return out;
}

} // namespace zt::checks
