// SPDX-License-Identifier: Apache-2.0
#include "checks/data.hpp"

#include "util/strings.hpp"

#include <filesystem>
#include <utility>

namespace zt::checks {

namespace {

using host::Acl;
using host::AclEntry;
using Tag = host::AclEntry::Tag;

std::filesystem::path normalized_root(const DataSpec& spec) {
  auto p = std::filesystem::path(spec.data_root).lexically_normal();
  if (!p.has_filename() && p != p.root_path()) {
    p = p.parent_path(); // "/opt/ztnet-data/" -> "/opt/ztnet-data"
  }
  return p;
}

std::uint8_t owner_bits(std::uint32_t mode) {
  return static_cast<std::uint8_t>((mode >> 6) & 7);
}
std::uint8_t group_bits(std::uint32_t mode) {
  return static_cast<std::uint8_t>((mode >> 3) & 7);
}
std::uint8_t other_bits(std::uint32_t mode) {
  return static_cast<std::uint8_t>(mode & 7);
}

std::string entry_text(const AclEntry& e) {
  Acl one;
  one.entries.push_back(e);
  return one.to_text();
}

Acl normalized(Acl acl) {
  acl.normalize();
  return acl;
}

std::string provision_fix() {
  return "run 'ztagent provision'";
}

enum class Aspect { owner, mode, acl, default_acl };

std::string_view aspect_name(Aspect aspect) {
  switch (aspect) {
  case Aspect::owner:
    return "owner";
  case Aspect::mode:
    return "mode";
  case Aspect::acl:
    return "acl";
  case Aspect::default_acl:
    return "default-acl";
  }
  return "unknown";
}

std::string aspect_description(Aspect aspect, const DataTarget& target, const DataSpec& spec) {
  switch (aspect) {
  case Aspect::owner:
    return target.path + " is a directory owned by " + spec.user;
  case Aspect::mode:
    return target.path + " has mode " + util::format_mode(target.mode);
  case Aspect::acl:
    return target.path + " has the access ACL entry user:" + spec.user + ":rwx";
  case Aspect::default_acl:
    return target.path + " has a default ACL for " + spec.user + " and the container uids writing there";
  }
  return {};
}

/// A managed path that is not a plain directory, as a check verdict; nullopt when it is a directory.
std::optional<CheckResult> not_a_directory(const host::HostView& host,
                                           const std::string& path,
                                           const std::string& expected,
                                           host::FileStat& st) {
  auto got = host.fs().lstat(path);
  if (!got && got.error().code == Errc::refused) {
    return fail(expected, "below a symlink (" + got.error().message + ")",
                "remove the symlink in the data tree (see data.no-symlinks), then " + provision_fix());
  }
  if (!got) {
    return error(expected, "data: " + got.error().message);
  }
  st = *got;
  switch (st.type) {
  case host::FileType::directory:
    return std::nullopt;
  case host::FileType::missing:
    return fail(expected, "missing", provision_fix());
  case host::FileType::symlink:
    return fail(expected, "symlink",
                "remove the symlink " + path + " (ztagent never follows links in the data tree), then " +
                    provision_fix());
  default:
    return fail(expected, std::string(host::to_string(st.type)),
                "move " + path + " away, then " + provision_fix());
  }
}

class DataDirCheck final : public BasicCheck {
public:
  DataDirCheck(DataSpec spec, DataTarget target, Aspect aspect)
      : BasicCheck("data." + target.name + "." + std::string(aspect_name(aspect)),
                   "data",
                   aspect_description(aspect, target, spec)),
        m_spec(std::move(spec)), m_target(std::move(target)), m_aspect(aspect) {}

  [[nodiscard]] CheckResult run(const host::HostView& host) const override {
    if (m_aspect == Aspect::mode) {
      const auto expected = util::format_mode(m_target.mode);
      host::FileStat st;
      if (auto bad = not_a_directory(host, m_target.path, expected, st)) {
        return *bad;
      }
      const auto actual = util::format_mode(st.mode);
      if ((st.mode & 07777) == m_target.mode) {
        return pass(expected, actual);
      }
      return fail(expected, actual,
                  "chmod " + expected + " " + m_target.path + " (or " + provision_fix() + ")");
    }
    auto owner = read_data_owner(host, m_spec);
    if (!owner) {
      return error(m_spec.user + ":" + m_spec.user, "data: " + owner.error().message);
    }
    if (!*owner) {
      return fail(m_spec.user + ":" + m_spec.user, "user " + m_spec.user + " does not exist",
                  provision_fix());
    }
    switch (m_aspect) {
    case Aspect::owner:
      return run_owner(host, **owner);
    case Aspect::acl:
      return run_acl(host, **owner);
    default:
      return run_default_acl(host, **owner);
    }
  }

private:
  [[nodiscard]] CheckResult run_owner(const host::HostView& host, const DataOwner& owner) const {
    host::FileStat st;
    if (auto bad = not_a_directory(host, m_target.path, owner.text, st)) {
      return *bad;
    }
    if (st.uid == owner.uid && st.gid == owner.gid) {
      return pass(owner.text, owner.text);
    }
    return fail(owner.text, owner_text(host.accounts(), st.uid, st.gid),
                "chown " + owner.text + " " + m_target.path + " (or " + provision_fix() + ")");
  }

  [[nodiscard]] CheckResult run_acl(const host::HostView& host, const DataOwner& owner) const {
    auto wanted = desired_access_for(m_target, owner);
    if (!wanted && wanted.error().code == Errc::not_found) {
      // As for the default ACL: the missing range is subids.subuid-range's failure, not this one's.
      return skip("access ACL with the container uid mappings",
                  m_spec.user + " has no range in /etc/subuid (reported by subids.subuid-range)");
    }
    if (!wanted) {
      return error("access ACL with the container uid mappings", wanted.error().message);
    }
    const Acl desired = *wanted;
    host::FileStat st;
    if (auto bad = not_a_directory(host, m_target.path, desired.to_text(), st)) {
      return *bad;
    }
    // user::, mask:: and other:: belong to the mode check; compare with them taken from the mode.
    const Acl expected = with_mode_bits(desired, st.mode);
    auto current = host.fs().read_acl(m_target.path, host::AclType::access);
    if (!current) {
      return error(expected.to_text(), "data: " + current.error().message);
    }
    const Acl actual = normalized(*current);
    if (actual == expected) {
      return pass(expected.to_text(), actual.to_text());
    }
    return fail(expected.to_text(), actual.to_text(),
                "setfacl --set '" + expected.to_text() + "' " + m_target.path + " (or " + provision_fix() +
                    ")");
  }

  [[nodiscard]] CheckResult run_default_acl(const host::HostView& host, const DataOwner& owner) const {
    auto desired = desired_default_for(m_target, owner);
    if (!desired && desired.error().code == Errc::not_found) {
      // Without the range the mapped container uids are unknown; the missing range itself fails
      // subids.subuid-range, so this is a skip: one tampered line, one failing check.
      return skip("default ACL with the container uid mappings",
                  m_spec.user + " has no range in /etc/subuid (reported by subids.subuid-range)");
    }
    if (!desired) {
      return error("default ACL with the container uid mappings", desired.error().message);
    }
    const auto expected = desired->to_text();
    host::FileStat st;
    if (auto bad = not_a_directory(host, m_target.path, expected, st)) {
      return *bad;
    }
    auto current = host.fs().read_acl(m_target.path, host::AclType::default_acl);
    if (!current) {
      return error(expected, "data: " + current.error().message);
    }
    const Acl actual = normalized(*current);
    if (actual == *desired) {
      return pass(expected, actual.to_text());
    }
    return fail(expected, actual.empty() ? "none" : actual.to_text(),
                "setfacl -d --set '" + expected + "' " + m_target.path + " (or " + provision_fix() + ")");
  }

  DataSpec m_spec;
  DataTarget m_target;
  Aspect m_aspect;
};

class ParentsTraversableCheck final : public BasicCheck {
public:
  explicit ParentsTraversableCheck(DataSpec spec)
      : BasicCheck("data.parents-traversable",
                   "data",
                   "every parent of " + normalized_root(spec).string() + " is searchable by " + spec.user),
        m_spec(std::move(spec)) {}

  [[nodiscard]] CheckResult run(const host::HostView& host) const override {
    const auto parents = data_parents(m_spec);
    const auto expected = m_spec.user + " can traverse " + util::join(parents, ", ");
    auto owner = read_data_owner(host, m_spec);
    if (!owner) {
      return error(expected, "data: " + owner.error().message);
    }
    if (!*owner) {
      return fail(expected, "user " + m_spec.user + " does not exist", provision_fix());
    }
    for (const auto& parent : parents) {
      auto st = host.fs().lstat(parent);
      if (!st) {
        return error(expected, "data: " + st.error().message);
      }
      if (st->type == host::FileType::missing) {
        return fail(expected, parent + " is missing",
                    provision_fix() + " (it creates " + parent + " with mode 0755)");
      }
      if (st->type == host::FileType::symlink) {
        return fail(
            expected, parent + " is a symlink",
            "set data_root to the real path (ztagent does not follow links on the way to the data tree)");
      }
      if (st->type != host::FileType::directory) {
        return fail(expected, parent + " is a " + std::string(host::to_string(st->type)),
                    "set data_root to a path below directories only");
      }
      auto acl = host.fs().read_acl(parent, host::AclType::access);
      if (!acl) {
        return error(expected, "data: " + acl.error().message);
      }
      if (!can_traverse(*st, *acl, (*owner)->uid, (*owner)->gid)) {
        return fail(expected,
                    parent + " is not searchable by " + m_spec.user + " (" + util::format_mode(st->mode) +
                        " " + owner_text(host.accounts(), st->uid, st->gid) + ")",
                    "chmod o+x " + parent + " (or setfacl -m u:" + m_spec.user + ":x " + parent +
                        "); ztagent does not change parents of the data root");
      }
    }
    return pass(expected, "all searchable");
  }

private:
  DataSpec m_spec;
};

class NoSymlinksCheck final : public BasicCheck {
public:
  explicit NoSymlinksCheck(DataSpec spec)
      : BasicCheck("data.no-symlinks", "data", "neither the data root nor a data dir is a symlink"),
        m_spec(std::move(spec)) {}

  [[nodiscard]] CheckResult run(const host::HostView& host) const override {
    const std::string expected = "no symlinks";
    std::vector<std::string> links;
    for (const auto& target : data_targets(m_spec)) {
      auto st = host.fs().lstat(target.path);
      if (!st && st.error().code == Errc::refused) {
        break; // below a symlink already listed (data_root)
      }
      if (!st) {
        return error(expected, "data: " + st.error().message);
      }
      if (st->type == host::FileType::symlink) {
        links.push_back(target.path);
      }
    }
    if (links.empty()) {
      return pass(expected, "none");
    }
    return fail(expected, "symlink: " + util::join(links, ", "),
                "remove " + links.front() + " (ztagent never follows links in the data tree), then " +
                    provision_fix());
  }

private:
  DataSpec m_spec;
};

} // namespace

std::vector<DataTarget> data_targets(const DataSpec& spec) {
  const auto root = normalized_root(spec);
  std::vector<DataTarget> out;
  out.push_back({"root", root.string(), spec.root_mode, {}, false});
  for (const auto& dir : spec.dirs) {
    out.push_back({dir.name, (root / dir.name).string(), dir.mode, dir.container_uids, true});
  }
  return out;
}

std::vector<std::string> data_parents(const DataSpec& spec) {
  std::vector<std::string> out;
  auto p = normalized_root(spec);
  while (p != p.root_path()) {
    p = p.parent_path();
    out.insert(out.begin(), p.string());
  }
  return out;
}

Acl desired_access_acl(std::uint32_t mode, std::uint32_t uid, const std::vector<std::uint32_t>& mapped_uids) {
  Acl acl;
  acl.entries = {{Tag::user_obj, 0, owner_bits(mode)},
                 {Tag::user, uid, 7},
                 {Tag::group_obj, 0, group_bits(mode)},
                 {Tag::mask, 0, group_bits(mode)},
                 {Tag::other, 0, other_bits(mode)}};
  for (const auto mapped : mapped_uids) {
    acl.entries.push_back({Tag::user, mapped, 7});
  }
  acl.normalize();
  return acl;
}

Acl desired_default_acl(std::uint32_t uid, const std::vector<std::uint32_t>& mapped_uids) {
  Acl acl;
  acl.entries = {{Tag::user_obj, 0, 7},
                 {Tag::user, uid, 7},
                 {Tag::group_obj, 0, 5},
                 {Tag::mask, 0, 7},
                 {Tag::other, 0, 0}};
  for (const auto mapped : mapped_uids) {
    acl.entries.push_back({Tag::user, mapped, 7});
  }
  acl.normalize();
  return acl;
}

Acl with_mode_bits(Acl acl, std::uint32_t mode) {
  const bool has_mask = acl.find(Tag::mask) != nullptr;
  for (auto& e : acl.entries) {
    if (e.tag == Tag::user_obj) {
      e.perms = owner_bits(mode);
    } else if (e.tag == Tag::other) {
      e.perms = other_bits(mode);
    } else if (e.tag == Tag::mask || (e.tag == Tag::group_obj && !has_mask)) {
      e.perms = group_bits(mode);
    }
  }
  acl.normalize();
  return acl;
}

Result<std::uint32_t>
map_container_uid(std::uint32_t container_uid, std::uint32_t user_uid, const SubIdEntry& range) {
  if (container_uid == 0) {
    return user_uid;
  }
  if (container_uid > range.count) {
    return make_error(Errc::invalid_config, "data: container uid " + std::to_string(container_uid) +
                                                " has no host mapping in the range " + range.to_text() +
                                                "; raise subid_count or fix the data dir's container uids");
  }
  return static_cast<std::uint32_t>(range.start + container_uid - 1);
}

std::string describe_acl_diff(const Acl& current_in, const Acl& desired_in) {
  const Acl current = normalized(current_in);
  const Acl desired = normalized(desired_in);
  if (current == desired) {
    return {};
  }
  if (current.empty()) {
    return "set " + desired.to_text();
  }
  std::vector<std::string> parts;
  for (const auto& d : desired.entries) {
    const auto* c = current.find(d.tag, d.id);
    if (c == nullptr) {
      parts.push_back("add " + entry_text(d));
    } else if (c->perms != d.perms) {
      parts.push_back(entry_text(*c) + " -> " + entry_text(d));
    }
  }
  for (const auto& c : current.entries) {
    if (desired.find(c.tag, c.id) == nullptr) {
      parts.push_back("remove " + entry_text(c));
    }
  }
  return util::join(parts, ", ");
}

bool can_traverse(const host::FileStat& st, const Acl& access, std::uint32_t uid, std::uint32_t gid) {
  if (uid == 0) {
    return true;
  }
  if (st.uid == uid) {
    return (owner_bits(st.mode) & 1) != 0;
  }
  const auto* mask_entry = access.find(Tag::mask);
  const std::uint8_t mask = mask_entry != nullptr ? mask_entry->perms : 7;
  if (const auto* named = access.find(Tag::user, uid)) {
    return (named->perms & mask & 1) != 0;
  }
  bool matched = false;
  bool allowed = false;
  if (st.gid == gid) {
    matched = true;
    const auto* group_obj = access.find(Tag::group_obj);
    const std::uint8_t bits =
        group_obj != nullptr ? static_cast<std::uint8_t>(group_obj->perms & mask) : group_bits(st.mode);
    allowed = allowed || (bits & 1) != 0;
  }
  if (const auto* named_group = access.find(Tag::group, gid)) {
    matched = true;
    allowed = allowed || (named_group->perms & mask & 1) != 0;
  }
  if (matched) {
    return allowed;
  }
  return (other_bits(st.mode) & 1) != 0;
}

std::string owner_text(const host::Accounts& accounts, std::uint32_t uid, std::uint32_t gid) {
  std::string user = std::to_string(uid);
  if (auto account = accounts.user_by_uid(uid); account && *account) {
    user = (*account)->name;
  }
  std::string group = std::to_string(gid);
  // Accounts has no lookup by gid: try the groups named like the accounts (user private groups).
  if (auto name = accounts.user_private_group(gid); name && *name) {
    group = **name;
  }
  return user + ":" + group;
}

namespace {

Result<std::optional<DataOwner>> load_data_owner(const host::HostView& host, const DataSpec& spec) {
  ZT_TRY_ASSIGN(account, host.accounts().user(spec.user));
  if (!account) {
    return std::optional<DataOwner>{};
  }
  DataOwner owner;
  owner.uid = account->uid;
  owner.gid = account->gid;
  owner.text = owner_text(host.accounts(), owner.uid, owner.gid);
  auto subuid = read_subid_file(host, SubIdKind::uid);
  if (!*subuid) {
    return std::unexpected(subuid->error());
  }
  if (**subuid) {
    const auto mine = entries_of(***subuid, spec.user, account->uid);
    if (!mine.empty()) {
      owner.subuid = mine.front();
    }
  }
  return std::optional<DataOwner>{std::move(owner)};
}

} // namespace

Result<std::optional<DataOwner>> read_data_owner(const host::HostView& host, const DataSpec& spec) {
  // Every data check asks (13 in a verify of the profile), and the answer scans /etc/subuid: once
  // per run with the run's HostCache, invalidated with the files it was read from.
  return *host::cached<std::optional<DataOwner>>(host.cache(), "data:owner:" + spec.user,
                                                 [&] { return load_data_owner(host, spec); });
}

namespace {

Result<std::vector<std::uint32_t>> mapped_container_uids(const DataTarget& target, const DataOwner& owner) {
  std::vector<std::uint32_t> mapped;
  for (const auto container_uid : target.container_uids) {
    if (container_uid != 0 && !owner.subuid) {
      return make_error(Errc::not_found, "data: " + target.path +
                                             " needs the user's subuid range to map container uid " +
                                             std::to_string(container_uid) +
                                             ", but there is none in /etc/subuid; run the subids step first");
    }
    const SubIdEntry none{};
    ZT_TRY_ASSIGN(host_uid, map_container_uid(container_uid, owner.uid, owner.subuid ? *owner.subuid : none));
    mapped.push_back(host_uid);
  }
  return mapped;
}

} // namespace

Result<host::Acl> desired_default_for(const DataTarget& target, const DataOwner& owner) {
  ZT_TRY_ASSIGN(mapped, mapped_container_uids(target, owner));
  return desired_default_acl(owner.uid, mapped);
}

Result<host::Acl> desired_access_for(const DataTarget& target, const DataOwner& owner) {
  ZT_TRY_ASSIGN(mapped, mapped_container_uids(target, owner));
  return desired_access_acl(target.mode, owner.uid, mapped);
}

Result<host::FileStat> lstat_managed(const host::Fs& fs, const std::string& path) {
  auto st = fs.lstat(path);
  if (!st) {
    return std::unexpected(prefixed("data", st.error()));
  }
  if (st->type == host::FileType::symlink) {
    return make_error(Errc::refused,
                      "data: " + path +
                          " is a symlink; ztagent never follows links in the data tree: remove it "
                          "and re-run");
  }
  if (st->type != host::FileType::missing && st->type != host::FileType::directory) {
    return make_error(Errc::refused,
                      "data: " + path + " is a " + std::string(host::to_string(st->type)) +
                          ", not a directory; ztagent never replaces it: move it away and re-run");
  }
  return *st;
}

std::vector<std::unique_ptr<Check>> make_data_checks(const DataSpec& spec) {
  std::vector<std::unique_ptr<Check>> out;
  for (const auto& target : data_targets(spec)) {
    out.push_back(std::make_unique<DataDirCheck>(spec, target, Aspect::owner));
    out.push_back(std::make_unique<DataDirCheck>(spec, target, Aspect::mode));
    out.push_back(std::make_unique<DataDirCheck>(spec, target, Aspect::acl));
    if (target.default_acl) {
      out.push_back(std::make_unique<DataDirCheck>(spec, target, Aspect::default_acl));
    }
  }
  out.push_back(std::make_unique<ParentsTraversableCheck>(spec));
  out.push_back(std::make_unique<NoSymlinksCheck>(spec));
  return out;
}

} // namespace zt::checks
