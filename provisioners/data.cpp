// SPDX-License-Identifier: Apache-2.0
#include "provisioners/data.hpp"

#include "util/strings.hpp"

#include <memory>
#include <spdlog/spdlog.h>
#include <utility>

namespace zt::provisioners {

namespace {

using host::Acl;
using host::AclType;
using host::FileType;

Acl normalized(Acl acl) {
  acl.normalize();
  return acl;
}

/// What a directory made with `mode` and no inherited default ACL reads as.
Acl base_acl(std::uint32_t mode) {
  Acl acl;
  acl.entries = {{host::AclEntry::Tag::user_obj, 0, static_cast<std::uint8_t>((mode >> 6) & 7)},
                 {host::AclEntry::Tag::group_obj, 0, static_cast<std::uint8_t>((mode >> 3) & 7)},
                 {host::AclEntry::Tag::other, 0, static_cast<std::uint8_t>(mode & 7)}};
  acl.normalize();
  return acl;
}

Result<Acl> read_acl(const host::Fs& fs, const std::string& path, AclType type) {
  auto acl = fs.read_acl(path, type);
  if (!acl) {
    return std::unexpected(prefixed("data", acl.error()));
  }
  return normalized(*acl);
}

} // namespace

Result<Data::Survey> Data::survey(const host::HostView& host) const {
  Survey survey;
  auto owner = checks::read_data_owner(host, m_spec);
  if (!owner) {
    return std::unexpected(prefixed("data", owner.error()));
  }
  survey.owner = *owner;

  for (const auto& parent : checks::data_parents(m_spec)) {
    auto st = host.fs().lstat(parent);
    if (!st) {
      return std::unexpected(prefixed("data", st.error()));
    }
    if (st->type == FileType::missing) {
      survey.missing_parents.push_back(parent);
      continue;
    }
    if (st->type == FileType::symlink) {
      return make_error(Errc::refused,
                        "data: " + parent +
                            " is a symlink; ztagent does not follow links on the way to the data "
                            "tree: set data_root to the real path and re-run");
    }
    if (st->type != FileType::directory) {
      return make_error(Errc::refused,
                        "data: " + parent + " is a " + std::string(host::to_string(st->type)) +
                            ", not a directory: set data_root to a path below directories only");
    }
    if (survey.owner) {
      ZT_TRY_ASSIGN(acl, read_acl(host.fs(), parent, AclType::access));
      if (!checks::can_traverse(*st, acl, survey.owner->uid, survey.owner->gid)) {
        return make_error(
            Errc::refused,
            "data: " + parent + " is not searchable by " + m_spec.user + " (" + util::format_mode(st->mode) +
                " " + checks::owner_text(host.accounts(), st->uid, st->gid) +
                "); ztagent does not change parents of the data root: run 'chmod o+x " + parent +
                "' (or 'setfacl -m u:" + m_spec.user + ":x " + parent + "') and re-run");
      }
    }
  }

  bool root_missing = false;
  for (const auto& target : checks::data_targets(m_spec)) {
    host::FileStat st; // missing
    if (!root_missing) {
      ZT_TRY_ASSIGN(got, checks::lstat_managed(host.fs(), target.path));
      st = got;
    }
    if (survey.targets.empty() && st.type == FileType::missing) {
      root_missing = true; // data_root (always first) is missing: nothing below it exists either
    }
    survey.targets.push_back({target, st});
  }
  return survey;
}

Result<Plan> Data::plan(const host::HostView& host) const {
  ZT_TRY_ASSIGN(survey, this->survey(host));
  Plan plan;
  for (const auto& parent : survey.missing_parents) {
    plan.changes.push_back({parent, "create directory 0755"});
  }
  for (const auto& [target, st] : survey.targets) {
    const bool missing = st.type == FileType::missing;
    if (missing) {
      plan.changes.push_back({target.path, "create directory " + util::format_mode(target.mode)});
    } else if ((st.mode & 07777) != target.mode) {
      plan.changes.push_back(
          {target.path, "mode " + util::format_mode(st.mode) + " -> " + util::format_mode(target.mode)});
    }
    if (!survey.owner) {
      plan.changes.push_back({target.path, "owner " + m_spec.user + ":" + m_spec.user +
                                               " and ACLs follow once user " + m_spec.user + " exists"});
      continue;
    }
    const auto& owner = *survey.owner;
    if (missing || st.uid != owner.uid || st.gid != owner.gid) {
      const auto current = missing ? checks::owner_text(host.accounts(), 0, 0)
                                   : checks::owner_text(host.accounts(), st.uid, st.gid);
      plan.changes.push_back({target.path, "owner " + current + " -> " + owner.text});
    }
    // Compare the ACL as it will read after the mode is fixed: the mode change owns user::, mask::
    // and other:: (see checks/data.hpp).
    Acl current_access = base_acl(target.mode);
    if (!missing) {
      ZT_TRY_ASSIGN(acl, read_acl(host.fs(), target.path, AclType::access));
      current_access = checks::with_mode_bits(acl, target.mode);
    }
    // Without the user's subuid range the mapped container uids are unknown: plan the user's entry;
    // the default ACL part below says the mappings follow once the range exists.
    auto desired_access = checks::desired_access_for(target, owner);
    if (!desired_access && desired_access.error().code != Errc::not_found) {
      return std::unexpected(desired_access.error());
    }
    const auto access_diff = checks::describe_acl_diff(
        current_access, desired_access ? *desired_access : checks::desired_access_acl(target.mode, owner.uid));
    if (!access_diff.empty()) {
      plan.changes.push_back({target.path, "ACL: " + access_diff});
    }
    if (!target.default_acl) {
      continue;
    }
    auto desired_default = checks::desired_default_for(target, owner);
    if (!desired_default && desired_default.error().code == Errc::not_found) {
      plan.changes.push_back({target.path, "default ACL: container uid mappings follow once " + m_spec.user +
                                               " has a range in /etc/subuid"});
      continue;
    }
    if (!desired_default) {
      return std::unexpected(desired_default.error());
    }
    Acl current_default;
    if (!missing) {
      ZT_TRY_ASSIGN(acl, read_acl(host.fs(), target.path, AclType::default_acl));
      current_default = acl;
    }
    const auto default_diff = checks::describe_acl_diff(current_default, *desired_default);
    if (!default_diff.empty()) {
      plan.changes.push_back({target.path, "default ACL: " + default_diff});
    }
  }
  return plan;
}

Result<void> Data::apply(host::Host& host, const Plan& /*plan*/) {
  // Survey again and validate everything before the first change: a symlink planted anywhere in the
  // managed set refuses the whole step, not half of it.
  ZT_TRY_ASSIGN(survey, this->survey(host.view()));
  if (!survey.owner) {
    return make_error(Errc::not_found,
                      "data: user " + m_spec.user + " does not exist; run the user step first");
  }
  const auto& owner = *survey.owner;
  std::vector<std::optional<Acl>> defaults;
  for (const auto& [target, st] : survey.targets) {
    if (!target.default_acl) {
      defaults.emplace_back();
      continue;
    }
    ZT_TRY_ASSIGN(acl, checks::desired_default_for(target, owner));
    defaults.emplace_back(std::move(acl));
  }

  auto& fs = host.fs();
  if (!survey.missing_parents.empty()) {
    if (auto made = fs.make_directories(survey.missing_parents.back(), 0755); !made) {
      return std::unexpected(prefixed("data", made.error()));
    }
  }
  for (std::size_t i = 0; i < survey.targets.size(); ++i) {
    const auto& target = survey.targets[i].target;
    const auto& path = target.path;
    // Directory first, then owner, mode, access ACL, default ACL: the default ACL goes on last so
    // nothing ztagent creates inherits a half-set one. Only this directory itself is changed; what
    // lies below a data dir belongs to the containers and is never touched (no recursion).
    if (survey.targets[i].st.type == FileType::missing) {
      if (auto made = fs.make_directory(path, target.mode); !made) {
        return std::unexpected(prefixed("data", made.error()));
      }
    }
    ZT_TRY_ASSIGN(st, checks::lstat_managed(fs, path));
    if (st.uid != owner.uid || st.gid != owner.gid) {
      if (auto done = fs.set_owner(path, owner.uid, owner.gid); !done) {
        return std::unexpected(prefixed("data", done.error()));
      }
      ZT_TRY_ASSIGN(after_chown, checks::lstat_managed(fs, path));
      st = after_chown;
    }
    if ((st.mode & 07777) != target.mode) {
      if (auto done = fs.set_mode(path, target.mode); !done) {
        return std::unexpected(prefixed("data", done.error()));
      }
    }
    auto wanted_access = checks::desired_access_for(target, owner);
    const Acl desired_access =
        wanted_access ? *wanted_access : checks::desired_access_acl(target.mode, owner.uid);
    ZT_TRY_ASSIGN(access, read_acl(fs, path, AclType::access));
    if (access != desired_access) {
      if (auto done = fs.set_acl(path, AclType::access, desired_access); !done) {
        return std::unexpected(prefixed("data", done.error()));
      }
    }
    if (defaults[i]) {
      ZT_TRY_ASSIGN(current_default, read_acl(fs, path, AclType::default_acl));
      if (current_default != *defaults[i]) {
        if (auto done = fs.set_acl(path, AclType::default_acl, *defaults[i]); !done) {
          return std::unexpected(prefixed("data", done.error()));
        }
      }
    }
  }
  return {};
}

checks::DataSpec data_spec_from(const profile::Config& config) {
  checks::DataSpec spec;
  spec.user = config.site.user;
  spec.data_root = config.site.data_root;
  spec.root_mode = 0750;
  spec.subid_count = config.site.subid_count;
  for (const auto& dir : config.site.data_dirs) {
    spec.dirs.push_back({dir.name, dir.mode, dir.container_uids});
  }
  return spec;
}

Step make_data_step(const profile::Config& config, const StepContext& /*context*/) {
  auto spec = data_spec_from(config);
  Step step;
  step.id = "data";
  step.checks = checks::make_data_checks(spec);
  step.provisioner = std::make_unique<Data>(std::move(spec));
  return step;
}

} // namespace zt::provisioners
