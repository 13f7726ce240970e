// SPDX-License-Identifier: Apache-2.0
#include "checks/secrets.hpp"

#include "checks/common.hpp"
#include "host/user_session.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <filesystem>
#include <utility>

namespace zt::checks {

namespace {

constexpr std::string_view k_fix = "ztagent provision --only secrets";

bool valid_env_name(std::string_view name) {
  if (name.empty()) {
    return false;
  }
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
    const bool digit = c >= '0' && c <= '9';
    if (!(alpha || (digit && i > 0))) {
      return false;
    }
  }
  return true;
}

std::string base_name(const std::string& path) {
  return std::filesystem::path(path).filename().string();
}

std::string owner_text(std::uint32_t uid, std::uint32_t gid) {
  return std::to_string(uid) + ":" + std::to_string(gid);
}

/// Shared by the three checks: the user and the store.
class SecretsCheck : public BasicCheck {
public:
  SecretsCheck(std::string user, profile::Stack stack, std::string id, std::string description)
      : BasicCheck(std::move(id), "secrets", std::move(description)), m_user(std::move(user)),
        m_stack(std::move(stack)) {}

  [[nodiscard]] CheckResult run(const host::HostView& host) const override {
    const std::string expected = expected_text();
    if (auto valid = validate_stack_secrets(m_stack); !valid) {
      return error(expected, valid.error().message, "fix the [stack] secrets of the profile or site config");
    }
    auto account = find_user(host, m_user, expected, "ztagent provision --only user,secrets");
    if (!account) {
      return account.error();
    }
    auto store = choose_secret_store(host, *account);
    if (!store) {
      return error(expected, store.error().message);
    }
    if (*store == SecretStore::podman) {
      if (!host.live()) {
        return skip(expected, "not live: podman secrets are checked on the running host");
      }
      return run_podman(host, *account);
    }
    return run_files(host, *account);
  }

protected:
  [[nodiscard]] virtual std::string expected_text() const = 0;
  [[nodiscard]] virtual CheckResult run_podman(const host::HostView& host,
                                               const host::Account& account) const = 0;
  [[nodiscard]] virtual CheckResult run_files(const host::HostView& host,
                                              const host::Account& account) const = 0;

  /// read_secret_files(), or the verdict: fail for a malformed file, error when unreadable.
  [[nodiscard]] std::expected<SecretFilesState, CheckResult>
  read_files(const host::HostView& host, const host::Account& account, const std::string& expected) const {
    auto state = read_secret_files(host, account, m_stack);
    if (!state) {
      if (state.error().code == Errc::parse || state.error().code == Errc::refused) {
        return std::unexpected(
            fail(expected, state.error().message, "fix or remove the file, then: " + std::string(k_fix)));
      }
      return std::unexpected(error(expected, state.error().message));
    }
    return std::move(*state);
  }

  std::string m_user;
  profile::Stack m_stack;
};

class SecretsPresent final : public SecretsCheck {
public:
  /// `podman secret ls` as the user (the podman secrets backend on a live host).
  [[nodiscard]] bool waits_on_process(const host::HostView& host) const override { return host.live(); }
  SecretsPresent(const std::string& user, const profile::Stack& stack)
      : SecretsCheck(user, stack, "secrets.present", "every declared secret exists in the secret store") {}

protected:
  [[nodiscard]] std::string expected_text() const override { return "every secret of the stack set"; }

  [[nodiscard]] CheckResult run_podman(const host::HostView& host,
                                       const host::Account& account) const override {
    return judge_podman_secrets_present(m_stack, list_podman_secrets(host, account));
  }

  [[nodiscard]] CheckResult run_files(const host::HostView& host,
                                      const host::Account& account) const override {
    const std::string expected = expected_text();
    auto state = read_files(host, account, expected);
    if (!state) {
      return state.error();
    }
    const std::string dir = secrets_dir(account);
    if (secret_containers(m_stack).empty()) {
      return pass(expected, "no container uses a secret");
    }
    if (!state->dir.exists()) {
      return fail(expected, dir + " is missing", std::string(k_fix));
    }
    if (state->dir.type != host::FileType::directory) {
      return fail(expected, dir + " is " + host::describe(state->dir.type),
                  "remove " + dir + ", then: " + std::string(k_fix));
    }
    std::vector<std::string> problems;
    for (const auto& file : state->files) {
      if (!file.st.exists()) {
        problems.push_back(base_name(file.path) + " is missing");
        continue;
      }
      if (file.st.type != host::FileType::regular) {
        problems.push_back(base_name(file.path) + " is " + host::describe(file.st.type));
        continue;
      }
      const auto* container = find_container(file.container);
      if (container == nullptr) {
        continue;
      }
      for (const auto& ref : container->secrets) {
        auto it = std::find_if(file.entries.begin(), file.entries.end(),
                               [&](const EnvEntry& e) { return e.name == ref.env; });
        if (it == file.entries.end() || it->value.empty()) {
          problems.push_back(base_name(file.path) + ": " + ref.env + " not set");
        }
      }
    }
    if (!problems.empty()) {
      return fail(expected, util::join(problems, "; "), std::string(k_fix));
    }
    return pass(expected, std::to_string(state->files.size()) + " env files in " + dir + " set every secret");
  }

private:
  [[nodiscard]] const profile::Container* find_container(const std::string& name) const {
    for (const auto& c : m_stack.containers) {
      if (c.name == name) {
        return &c;
      }
    }
    return nullptr;
  }
};

class SecretsConsistent final : public SecretsCheck {
public:
  SecretsConsistent(const std::string& user, const profile::Stack& stack)
      : SecretsCheck(user,
                     stack,
                     "secrets.consistent",
                     "containers sharing a secret see the same value in their env files") {}

protected:
  [[nodiscard]] std::string expected_text() const override { return "each secret has one value"; }

  [[nodiscard]] CheckResult run_podman(const host::HostView& /*host*/,
                                       const host::Account& /*account*/) const override {
    return skip(expected_text(), "podman secrets hold one value per secret");
  }

  [[nodiscard]] CheckResult run_files(const host::HostView& host,
                                      const host::Account& account) const override {
    const std::string expected = expected_text();
    auto state = read_files(host, account, expected);
    if (!state) {
      return state.error();
    }
    auto values = existing_secret_values(*state, m_stack);
    if (!values) {
      return fail(expected, values.error().message,
                  "make the values equal (keep the one the database was initialised with), then: " +
                      std::string(k_fix));
    }
    return pass(expected, "each secret has one value across the env files");
  }
};

class SecretsPermissions final : public SecretsCheck {
public:
  SecretsPermissions(const std::string& user, const profile::Stack& stack)
      : SecretsCheck(user,
                     stack,
                     "secrets.permissions",
                     "the secrets directory is 0700 and its env files 0600, owned by the user, no ACL "
                     "entries") {}

protected:
  [[nodiscard]] std::string expected_text() const override {
    return "directory 0700, files 0600, owned by " + m_user + ", no extended ACL";
  }

  [[nodiscard]] CheckResult run_podman(const host::HostView& /*host*/,
                                       const host::Account& /*account*/) const override {
    return skip(expected_text(), "podman secrets are kept in podman's own storage of the user");
  }

  [[nodiscard]] CheckResult run_files(const host::HostView& host,
                                      const host::Account& account) const override {
    const std::string expected = expected_text();
    const std::string dir = secrets_dir(account);
    auto dir_perm = read_permissions(host, dir);
    if (!dir_perm) {
      return error(expected, dir_perm.error().message);
    }
    if (!dir_perm->st.exists()) {
      return skip(expected, dir + " is missing (secrets.present fails)");
    }
    if (dir_perm->st.type != host::FileType::directory) {
      return skip(expected, dir + " is " + host::describe(dir_perm->st.type) + " (secrets.present fails)");
    }
    std::vector<std::string> problems;
    for (auto& p : permission_problems(*dir_perm, account, k_secrets_dir_mode)) {
      problems.push_back(dir + ": " + p);
    }
    for (const auto* container : secret_containers(m_stack)) {
      const std::string path = secret_env_file(account, m_stack, *container);
      auto perm = read_permissions(host, path);
      if (!perm) {
        return error(expected, perm.error().message);
      }
      if (perm->st.type != host::FileType::regular) {
        continue; // missing or not a file: secrets.present says so
      }
      for (auto& p : permission_problems(*perm, account, k_secret_file_mode)) {
        problems.push_back(base_name(path) + ": " + p);
      }
    }
    if (!problems.empty()) {
      return fail(expected, util::join(problems, "; "), std::string(k_fix));
    }
    return pass(expected, dir + " 0700 and its env files 0600, owned by " + m_user);
  }
};

class SecretsNoLeftovers final : public SecretsCheck {
public:
  SecretsNoLeftovers(const std::string& user, const profile::Stack& stack)
      : SecretsCheck(user,
                     stack,
                     "secrets.no-leftovers",
                     "no temporary file of an interrupted write (a possible copy of the secrets) is left "
                     "in the secrets directory") {}

protected:
  [[nodiscard]] std::string expected_text() const override {
    return "no .NAME.ztagent-* temporary files in the secrets directory";
  }

  [[nodiscard]] CheckResult run_podman(const host::HostView& /*host*/,
                                       const host::Account& /*account*/) const override {
    return skip(expected_text(), "podman secrets: no env files are written");
  }

  [[nodiscard]] CheckResult run_files(const host::HostView& host,
                                      const host::Account& account) const override {
    const std::string expected = expected_text();
    auto leftovers = secret_leftovers(host, account);
    if (!leftovers) {
      return error(expected, leftovers.error().message);
    }
    if (!leftovers->empty()) {
      std::vector<std::string> names;
      for (const auto& path : *leftovers) {
        names.push_back(base_name(path));
      }
      return fail(expected,
                  std::to_string(leftovers->size()) + " leftover temporary file" +
                      (leftovers->size() == 1 ? "" : "s") + " in " + secrets_dir(account) + ": " +
                      util::join(names, ", "),
                  std::string(k_fix) + " (removes them)");
    }
    return pass(expected, "no leftover temporary files in " + secrets_dir(account));
  }
};

} // namespace

Result<std::vector<std::string>> secret_leftovers(const host::HostView& host, const host::Account& account) {
  const std::string dir = secrets_dir(account);
  ZT_TRY_ASSIGN(st, host.fs().lstat(dir));
  if (st.type != host::FileType::directory) {
    return std::vector<std::string>{}; // missing or in the way: secrets.present reports it
  }
  ZT_TRY_ASSIGN(names, host.fs().list_leftovers(dir));
  std::vector<std::string> out;
  for (const auto& name : names) {
    out.push_back(dir + "/" + name);
  }
  return out;
}

Result<void> validate_stack_secrets(const profile::Stack& stack) {
  for (const auto& s : stack.secrets) {
    if (s.bytes == 0) {
      return make_error(Errc::invalid_config, "stack: secret " + s.name + " must have at least 1 byte");
    }
  }
  for (const auto& c : stack.containers) {
    for (const auto& ref : c.secrets) {
      auto it = std::find_if(stack.secrets.begin(), stack.secrets.end(),
                             [&](const profile::SecretSpec& s) { return s.name == ref.secret; });
      if (it == stack.secrets.end()) {
        return make_error(Errc::invalid_config,
                          "stack: container " + c.name + " references undeclared secret " + ref.secret);
      }
      if (!valid_env_name(ref.env)) {
        return make_error(Errc::invalid_config,
                          "stack: container " + c.name + ": '" + ref.env + "' is not a valid variable name");
      }
    }
  }
  return {};
}

std::vector<const profile::Container*> secret_containers(const profile::Stack& stack) {
  std::vector<const profile::Container*> out;
  for (const auto& c : stack.containers) {
    if (!c.secrets.empty()) {
      out.push_back(&c);
    }
  }
  return out;
}

Result<std::vector<EnvEntry>> parse_env_file(std::string_view text, std::string_view subject) {
  std::vector<EnvEntry> out;
  std::size_t number = 0;
  for (std::string_view line : util::lines(text)) {
    ++number;
    std::string_view trimmed = util::trim(line);
    if (trimmed.empty() || trimmed.front() == '#') {
      continue;
    }
    const auto eq = line.find('=');
    if (eq == std::string_view::npos || !valid_env_name(line.substr(0, eq))) {
      return make_error(Errc::parse,
                        std::string(subject) + ": line " + std::to_string(number) + " is not NAME=value");
    }
    std::string name(line.substr(0, eq));
    for (const auto& e : out) {
      if (e.name == name) {
        return make_error(Errc::parse, std::string(subject) + ": " + name + " is set twice (lines " +
                                           std::to_string(e.line) + " and " + std::to_string(number) + ")");
      }
    }
    out.push_back({std::move(name), std::string(line.substr(eq + 1)), number});
  }
  return out;
}

host::UntrustedRead env_file_rules(const host::Account& account) {
  return host::UntrustedRead{.max_bytes = k_max_env_file_bytes, .owners = {account.uid}};
}

Result<SecretFilesState>
read_secret_files(const host::HostView& host, const host::Account& account, const profile::Stack& stack) {
  SecretFilesState state;
  ZT_TRY_ASSIGN(dir, host.fs().lstat(secrets_dir(account)));
  state.dir = dir;
  for (const auto* container : secret_containers(stack)) {
    SecretFile file;
    file.container = container->name;
    file.path = secret_env_file(account, stack, *container);
    if (dir.type == host::FileType::directory) {
      // One no-follow open: the type, owner and link count judged are those of the bytes read.
      ZT_TRY_ASSIGN(opened, host.fs().read_untrusted(file.path, env_file_rules(account)));
      file.st = opened.st;
      if (file.st.type == host::FileType::regular) {
        ZT_TRY_ASSIGN(entries, parse_env_file(opened.content, file.path));
        file.text = std::move(opened.content);
        file.entries = std::move(entries);
      }
    }
    state.files.push_back(std::move(file));
  }
  return state;
}

Result<std::map<std::string, std::string>> existing_secret_values(const SecretFilesState& state,
                                                                  const profile::Stack& stack) {
  std::map<std::string, std::string> values;
  std::map<std::string, std::string> found_in; // secret -> file base name
  for (const auto& file : state.files) {
    auto container = std::find_if(stack.containers.begin(), stack.containers.end(),
                                  [&](const profile::Container& c) { return c.name == file.container; });
    if (container == stack.containers.end()) {
      continue;
    }
    for (const auto& ref : container->secrets) {
      auto entry = std::find_if(file.entries.begin(), file.entries.end(),
                                [&](const EnvEntry& e) { return e.name == ref.env; });
      if (entry == file.entries.end() || entry->value.empty()) {
        continue;
      }
      auto [it, inserted] = values.emplace(ref.secret, entry->value);
      if (inserted) {
        found_in.emplace(ref.secret, base_name(file.path));
      } else if (it->second != entry->value) {
        return make_error(Errc::parse, ref.secret + " differs between " + found_in[ref.secret] + " and " +
                                           base_name(file.path));
      }
    }
  }
  return values;
}

host::Acl minimal_acl(std::uint32_t mode) {
  using Tag = host::AclEntry::Tag;
  host::Acl acl;
  acl.entries = {{Tag::user_obj, 0, static_cast<std::uint8_t>((mode >> 6) & 7)},
                 {Tag::group_obj, 0, static_cast<std::uint8_t>((mode >> 3) & 7)},
                 {Tag::other, 0, static_cast<std::uint8_t>(mode & 7)}};
  acl.normalize();
  return acl;
}

Result<PathPermissions> read_permissions(const host::HostView& host, const std::string& path) {
  PathPermissions p;
  p.path = path;
  ZT_TRY_ASSIGN(st, host.fs().lstat(path));
  p.st = st;
  if (st.type == host::FileType::regular || st.type == host::FileType::directory) {
    ZT_TRY_ASSIGN(access, host.fs().read_acl(path, host::AclType::access));
    p.access = std::move(access);
  }
  if (st.type == host::FileType::directory) {
    ZT_TRY_ASSIGN(def, host.fs().read_acl(path, host::AclType::default_acl));
    p.default_acl = std::move(def);
  }
  return p;
}

std::vector<std::string>
permission_problems(const PathPermissions& p, const host::Account& account, std::uint32_t want_mode) {
  std::vector<std::string> out;
  if (p.st.uid != account.uid || p.st.gid != account.gid) {
    out.push_back("owner " + owner_text(p.st.uid, p.st.gid) + " -> " + owner_text(account.uid, account.gid));
  }
  if ((p.st.mode & 07777) != want_mode) {
    out.push_back("mode " + util::format_mode(p.st.mode & 07777) + " -> " + util::format_mode(want_mode));
  }
  if (!p.access.empty() && !p.access.is_minimal()) {
    out.push_back("remove extended ACL entries");
  }
  if (!p.default_acl.empty()) {
    out.push_back("remove default ACL");
  }
  return out;
}

host::Command podman_secret_ls_command(const host::Account& account) {
  return host::user_podman(account, {"secret", "ls", "--format", "{{.Name}}"});
}

Result<std::set<std::string>> list_podman_secrets(const host::HostView& host, const host::Account& account) {
  ZT_TRY_ASSIGN(result, host.runner().run(podman_secret_ls_command(account)));
  if (result.exit_code != 0) {
    std::string message = "podman secret ls failed (exit " + std::to_string(result.exit_code) + ")";
    std::string err = util::last_nonempty_line(result.err);
    if (!err.empty()) {
      message += ": " + err;
    }
    return make_error(Errc::command_failed, std::move(message));
  }
  std::set<std::string> names;
  for (std::string_view line : util::lines(result.out)) {
    std::string_view name = util::trim(line);
    if (!name.empty()) {
      names.emplace(name);
    }
  }
  return names;
}

CheckResult judge_podman_secrets_present(const profile::Stack& stack,
                                         const Result<std::set<std::string>>& names) {
  std::vector<std::string> wanted;
  for (const auto& s : stack.secrets) {
    wanted.push_back(podman_secret_name(stack, s));
  }
  const std::string expected = "podman secrets " + util::join(wanted, ", ");
  if (!names) {
    return error(expected, names.error().message);
  }
  std::vector<std::string> missing;
  for (const auto& w : wanted) {
    if (!names->contains(w)) {
      missing.push_back(w);
    }
  }
  if (!missing.empty()) {
    return fail(expected, "missing podman secret " + util::join(missing, ", "), std::string(k_fix));
  }
  return pass(expected, "all " + std::to_string(wanted.size()) + " podman secrets exist");
}

std::vector<std::unique_ptr<Check>> make_secrets_checks(const std::string& user,
                                                        const profile::Stack& stack) {
  std::vector<std::unique_ptr<Check>> out;
  out.push_back(std::make_unique<SecretsPresent>(user, stack));
  out.push_back(std::make_unique<SecretsConsistent>(user, stack));
  out.push_back(std::make_unique<SecretsPermissions>(user, stack));
  out.push_back(std::make_unique<SecretsNoLeftovers>(user, stack));
  return out;
}

} // namespace zt::checks
