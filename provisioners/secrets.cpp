// SPDX-License-Identifier: Apache-2.0
#include "provisioners/secrets.hpp"

#include "host/random.hpp"
#include "host/user_session.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <map>
#include <utility>

namespace zt::provisioners {

namespace {

template <typename T> Result<T> in_step(Result<T> r) {
  if (!r) {
    return std::unexpected(prefixed("secrets", std::move(r).error()));
  }
  return r;
}

/// Directories from below the home down to the secrets dir: ~/.config, ~/.config/ztagent,
/// ~/.config/ztagent/secrets.
std::vector<std::string> managed_dirs(const host::Account& account) {
  return {account.home + "/.config", account.home + "/.config/ztagent", checks::secrets_dir(account)};
}

/// What plan and apply both need to know about the files store, read without changing anything.
struct FilesSurvey {
  std::vector<std::string> missing_dirs;      // outermost first
  std::optional<checks::PathPermissions> dir; // the secrets dir when it exists
  checks::SecretFilesState files;
  std::map<std::string, std::string> values;       // existing values by secret name
  std::vector<checks::PathPermissions> file_perms; // parallel to files.files (regular ones only meaningful)
  std::vector<std::string> leftovers;              // temp files of interrupted writes in the secrets dir
};

Result<FilesSurvey>
survey_files(const host::HostView& host, const host::Account& account, const profile::Stack& stack) {
  FilesSurvey s;
  ZT_TRY_ASSIGN(home, host.fs().lstat(account.home));
  if (home.type != host::FileType::directory) {
    if (!home.exists()) {
      return make_error(Errc::not_found, "home directory " + account.home + " of " + account.name +
                                             " is missing; run the user step first");
    }
    return make_error(Errc::refused, account.home + " is " + host::describe(home.type) +
                                         ", not a directory; fix the home of " + account.name);
  }
  for (const auto& dir : managed_dirs(account)) {
    if (!s.missing_dirs.empty()) {
      s.missing_dirs.push_back(dir);
      continue;
    }
    ZT_TRY_ASSIGN(st, host.fs().lstat(dir));
    if (!st.exists()) {
      s.missing_dirs.push_back(dir);
    } else if (st.type != host::FileType::directory) {
      return make_error(Errc::refused, dir + " is " + host::describe(st.type) +
                                           ", not a directory; remove it and run again");
    }
  }
  if (s.missing_dirs.empty()) {
    ZT_TRY_ASSIGN(perm, checks::read_permissions(host, checks::secrets_dir(account)));
    s.dir = std::move(perm);
  }
  ZT_TRY_ASSIGN(files, checks::read_secret_files(host, account, stack));
  for (const auto& f : files.files) {
    if (f.st.exists() && f.st.type != host::FileType::regular) {
      return make_error(Errc::refused, f.path + " is " + host::describe(f.st.type) +
                                           ", not a regular file; remove it and run again");
    }
  }
  auto values = checks::existing_secret_values(files, stack);
  if (!values) {
    return make_error(Errc::refused, values.error().message +
                                         "; make them equal (keep the one the database was initialised "
                                         "with) and run again");
  }
  s.values = std::move(*values);
  for (const auto& f : files.files) {
    if (f.st.type == host::FileType::regular) {
      ZT_TRY_ASSIGN(perm, checks::read_permissions(host, f.path));
      s.file_perms.push_back(std::move(perm));
    } else {
      s.file_perms.push_back(checks::PathPermissions{f.path, f.st, {}, {}});
    }
  }
  s.files = std::move(files);
  ZT_TRY_ASSIGN(leftovers, checks::secret_leftovers(host, account));
  s.leftovers = std::move(leftovers);
  return s;
}

const profile::Container& container_named(const profile::Stack& stack, const std::string& name) {
  auto it = std::find_if(stack.containers.begin(), stack.containers.end(),
                         [&](const profile::Container& c) { return c.name == name; });
  return *it; // read_secret_files names only containers of this stack
}

const profile::SecretSpec& secret_named(const profile::Stack& stack, const std::string& name) {
  auto it = std::find_if(stack.secrets.begin(), stack.secrets.end(),
                         [&](const profile::SecretSpec& s) { return s.name == name; });
  return *it; // validate_stack_secrets ran first
}

/// Managed variables of `file` that are missing or empty.
std::vector<const profile::SecretRef*> unset_refs(const profile::Container& container,
                                                  const checks::SecretFile& file) {
  std::vector<const profile::SecretRef*> out;
  for (const auto& ref : container.secrets) {
    auto it = std::find_if(file.entries.begin(), file.entries.end(),
                           [&](const checks::EnvEntry& e) { return e.name == ref.env; });
    if (it == file.entries.end() || it->value.empty()) {
      out.push_back(&ref);
    }
  }
  return out;
}

/// The file's lines with empty managed variables filled in and missing ones appended.
std::string render_env_file(const profile::Container& container,
                            const checks::SecretFile& file,
                            const std::map<std::string, std::string>& values) {
  std::map<std::string, std::string> by_env;
  for (const auto& ref : container.secrets) {
    by_env.emplace(ref.env, values.at(ref.secret));
  }
  std::string out;
  std::size_t number = 0;
  for (std::string_view line : util::lines(file.text)) {
    ++number;
    auto entry = std::find_if(file.entries.begin(), file.entries.end(),
                              [&](const checks::EnvEntry& e) { return e.line == number; });
    if (entry != file.entries.end() && entry->value.empty() && by_env.contains(entry->name)) {
      out += entry->name + "=" + by_env.at(entry->name) + "\n";
    } else {
      out += std::string(line) + "\n";
    }
  }
  for (const auto& ref : container.secrets) {
    auto it = std::find_if(file.entries.begin(), file.entries.end(),
                           [&](const checks::EnvEntry& e) { return e.name == ref.env; });
    if (it == file.entries.end()) {
      out += ref.env + "=" + by_env.at(ref.env) + "\n";
    }
  }
  return out;
}

std::string command_failure(const std::string& what, const host::CommandResult& r) {
  std::string message = what + " failed (exit " + std::to_string(r.exit_code) + ")";
  std::string err = util::last_nonempty_line(r.err);
  if (!err.empty()) {
    message += ": " + err;
  }
  return message;
}

} // namespace

Secrets::Secrets(std::string user, profile::Stack stack)
    : m_user(std::move(user)), m_stack(std::move(stack)) {}

std::vector<std::string> Secrets::managed_paths(const host::HostView& host) const {
  auto account = host.accounts().user(m_user);
  if (!account || !*account || m_stack.secrets.empty()) {
    return {};
  }
  auto store = checks::choose_secret_store(host, **account);
  if (!store || *store != checks::SecretStore::files) {
    return {};
  }
  std::vector<std::string> paths{checks::secrets_dir(**account)};
  for (const auto& c : m_stack.containers) {
    if (!c.secrets.empty()) {
      paths.push_back(checks::secret_env_file(**account, m_stack, c));
    }
  }
  return paths;
}

Result<Plan> Secrets::plan(const host::HostView& host) const {
  ZT_TRY(in_step(checks::validate_stack_secrets(m_stack)));
  if (m_stack.secrets.empty()) {
    return Plan{};
  }
  ZT_TRY_ASSIGN(account, in_step(host.accounts().user(m_user)));
  if (!account) {
    std::vector<std::string> names;
    for (const auto& s : m_stack.secrets) {
      names.push_back(s.name);
    }
    Plan plan;
    plan.changes.push_back(
        {"secrets of " + m_user, "generate " + util::join(names, ", ") + " once user " + m_user + " exists"});
    return plan;
  }
  ZT_TRY_ASSIGN(store, in_step(checks::choose_secret_store(host, *account)));
  if (store == checks::SecretStore::podman) {
    return plan_podman_secrets(host, *account, m_stack);
  }
  return plan_secret_files(host, *account, m_stack);
}

Result<void> Secrets::apply(host::Host& host, const Plan& plan) {
  if (plan.empty()) {
    return {};
  }
  ZT_TRY(in_step(checks::validate_stack_secrets(m_stack)));
  ZT_TRY_ASSIGN(account, in_step(host.accounts().user(m_user)));
  if (!account) {
    return make_error(Errc::not_found, "secrets: user " + m_user +
                                           " does not exist; run the user step first (ztagent provision "
                                           "--only user,secrets)");
  }
  ZT_TRY_ASSIGN(store, in_step(checks::choose_secret_store(host.view(), *account)));
  if (store == checks::SecretStore::podman) {
    return apply_podman_secrets(host, *account, m_stack);
  }
  return apply_secret_files(host, *account, m_stack);
}

Result<Plan>
plan_podman_secrets(const host::HostView& host, const host::Account& account, const profile::Stack& stack) {
  ZT_TRY_ASSIGN(names, in_step(checks::list_podman_secrets(host, account)));
  Plan plan;
  for (const auto& s : stack.secrets) {
    const std::string name = checks::podman_secret_name(stack, s);
    if (!names.contains(name)) {
      plan.changes.push_back({"podman secrets of " + account.name, "create podman secret " + name});
    }
  }
  return plan;
}

Result<void>
apply_podman_secrets(host::Host& host, const host::Account& account, const profile::Stack& stack) {
  ZT_TRY_ASSIGN(names, in_step(checks::list_podman_secrets(host.view(), account)));
  for (const auto& s : stack.secrets) {
    const std::string name = checks::podman_secret_name(stack, s);
    if (names.contains(name)) {
      continue; // never replaced: the containers' data may already depend on it
    }
    ZT_TRY_ASSIGN(value, in_step(host::random_hex(s.bytes)));
    host::Command cmd = host::user_podman(account, {"secret", "create", name, "-"}, host::Effect::mutating);
    cmd.input = std::move(value); // stdin: never in argv, env or the log
    ZT_TRY_ASSIGN(result, in_step(host.runner().run(cmd)));
    if (result.exit_code != 0) {
      return make_error(Errc::command_failed,
                        "secrets: " + command_failure("podman secret create " + name, result));
    }
  }
  return {};
}

Result<Plan>
plan_secret_files(const host::HostView& host, const host::Account& account, const profile::Stack& stack) {
  ZT_TRY_ASSIGN(s, in_step(survey_files(host, account, stack)));
  Plan plan;
  const std::string owner = account.name;
  for (const auto& dir : s.missing_dirs) {
    plan.changes.push_back({dir, "create directory 0700 owned by " + owner});
  }
  if (s.dir) {
    auto problems = checks::permission_problems(*s.dir, account, checks::k_secrets_dir_mode);
    if (!problems.empty()) {
      plan.changes.push_back({s.dir->path, util::join(problems, ", ")});
    }
  }
  for (const auto& leftover : s.leftovers) {
    plan.changes.push_back({leftover, "remove (left over by an interrupted write)"});
  }
  for (std::size_t i = 0; i < s.files.files.size(); ++i) {
    const auto& file = s.files.files[i];
    const auto& container = container_named(stack, file.container);
    auto unset = unset_refs(container, file);
    std::vector<std::string> vars;
    for (const auto* ref : unset) {
      vars.push_back(ref->env +
                     (s.values.contains(ref->secret) ? " (existing value)" : " (new random value)"));
    }
    if (!file.st.exists()) {
      plan.changes.push_back({file.path, "create 0600 with " + util::join(vars, ", ")});
      continue;
    }
    if (!unset.empty()) {
      plan.changes.push_back({file.path, "set " + util::join(vars, ", ")});
    }
    auto problems = checks::permission_problems(s.file_perms[i], account, checks::k_secret_file_mode);
    if (!problems.empty()) {
      plan.changes.push_back({file.path, util::join(problems, ", ")});
    }
  }
  return plan;
}

Result<void> apply_secret_files(host::Host& host, const host::Account& account, const profile::Stack& stack) {
  ZT_TRY_ASSIGN(s, in_step(survey_files(host.view(), account, stack)));
  auto& fs = host.fs();
  for (const auto& dir : s.missing_dirs) {
    ZT_TRY(in_step(fs.make_directory(dir, checks::k_secrets_dir_mode)));
    ZT_TRY(in_step(fs.set_owner(dir, account.uid, account.gid)));
  }
  if (s.dir) {
    const std::string& dir = s.dir->path;
    if (s.dir->st.uid != account.uid || s.dir->st.gid != account.gid) {
      ZT_TRY(in_step(fs.set_owner(dir, account.uid, account.gid)));
    }
    if (!s.dir->default_acl.empty()) {
      ZT_TRY(in_step(fs.set_acl(dir, host::AclType::default_acl, host::Acl{})));
    }
    if (!s.dir->access.is_minimal()) {
      ZT_TRY(
          in_step(fs.set_acl(dir, host::AclType::access, checks::minimal_acl(checks::k_secrets_dir_mode))));
    }
    if ((s.dir->st.mode & 07777) != checks::k_secrets_dir_mode) {
      ZT_TRY(in_step(fs.set_mode(dir, checks::k_secrets_dir_mode)));
    }
  }

  for (const auto& leftover : s.leftovers) {
    ZT_TRY(in_step(fs.remove_file(leftover)));
  }

  // Existing values win; a secret nobody has yet is generated once and shared by every file.
  std::map<std::string, std::string> values = s.values;
  for (const auto& file : s.files.files) {
    for (const auto* ref : unset_refs(container_named(stack, file.container), file)) {
      if (!values.contains(ref->secret)) {
        ZT_TRY_ASSIGN(value, in_step(host::random_hex(secret_named(stack, ref->secret).bytes)));
        values.emplace(ref->secret, std::move(value));
      }
    }
  }

  host::WriteSpec spec;
  spec.mode = checks::k_secret_file_mode;
  spec.uid = account.uid;
  spec.gid = account.gid;
  spec.acl = checks::minimal_acl(checks::k_secret_file_mode);
  for (std::size_t i = 0; i < s.files.files.size(); ++i) {
    const auto& file = s.files.files[i];
    const auto& container = container_named(stack, file.container);
    if (!file.st.exists() || !unset_refs(container, file).empty()) {
      ZT_TRY(in_step(fs.write_file(file.path, render_env_file(container, file, values), spec)));
      continue;
    }
    const auto& perm = s.file_perms[i];
    if (perm.st.uid != account.uid || perm.st.gid != account.gid) {
      ZT_TRY(in_step(fs.set_owner(file.path, account.uid, account.gid)));
    }
    if (!perm.access.is_minimal()) {
      ZT_TRY(in_step(
          fs.set_acl(file.path, host::AclType::access, checks::minimal_acl(checks::k_secret_file_mode))));
    }
    if ((perm.st.mode & 07777) != checks::k_secret_file_mode) {
      ZT_TRY(in_step(fs.set_mode(file.path, checks::k_secret_file_mode)));
    }
  }
  return {};
}

Step make_secrets_step(const profile::Config& config, const StepContext& /*context*/) {
  Step step;
  step.id = "secrets";
  step.provisioner = std::make_unique<Secrets>(config.site.user, config.stack);
  step.checks = checks::make_secrets_checks(config.site.user, config.stack);
  return step;
}

} // namespace zt::provisioners
