// SPDX-License-Identifier: Apache-2.0
#include "host/acl.hpp"

#include "util/strings.hpp"

#include <acl/libacl.h>
#include <sys/acl.h>

#include <algorithm>
#include <optional>
#include <cerrno>
#include <cstring>
#include <string>
#include <sys/types.h>

namespace zt::host {

namespace {

bool has_qualifier(AclEntry::Tag tag) { return tag == AclEntry::Tag::user || tag == AclEntry::Tag::group; }

std::string_view tag_name(AclEntry::Tag tag) {
  switch (tag) {
  case AclEntry::Tag::user_obj:
  case AclEntry::Tag::user:
    return "user";
  case AclEntry::Tag::group_obj:
  case AclEntry::Tag::group:
    return "group";
  case AclEntry::Tag::mask:
    return "mask";
  case AclEntry::Tag::other:
    return "other";
  }
  return "other";
}

std::unexpected<Error> entry_error(std::string_view entry, std::string_view reason) {
  return make_error(Errc::parse, "ACL entry \"" + std::string(entry) + "\": " + std::string(reason));
}

std::optional<std::uint8_t> parse_perms(std::string_view text) {
  if (text.empty() || text.size() > 3) {
    return std::nullopt;
  }
  std::uint8_t perms = 0;
  for (const char c : text) {
    std::uint8_t bit = 0;
    switch (c) {
    case 'r':
      bit = 4;
      break;
    case 'w':
      bit = 2;
      break;
    case 'x':
      bit = 1;
      break;
    case '-':
      continue;
    default:
      return std::nullopt;
    }
    if ((perms & bit) != 0) {
      return std::nullopt;
    }
    perms = static_cast<std::uint8_t>(perms | bit);
  }
  return perms;
}

Result<AclEntry> parse_entry(std::string_view entry) {
  const std::vector<std::string_view> fields = util::split(entry, ':');
  if (fields.size() != 2 && fields.size() != 3) {
    return entry_error(entry, "expected tag:qualifier:perms");
  }
  const std::string_view tag = fields[0];
  const std::string_view qualifier = fields.size() == 3 ? fields[1] : std::string_view{};
  const std::string_view perms_text = fields.back();

  AclEntry out;
  if (tag == "user" || tag == "u") {
    out.tag = qualifier.empty() ? AclEntry::Tag::user_obj : AclEntry::Tag::user;
  } else if (tag == "group" || tag == "g") {
    out.tag = qualifier.empty() ? AclEntry::Tag::group_obj : AclEntry::Tag::group;
  } else if (tag == "mask" || tag == "m") {
    out.tag = AclEntry::Tag::mask;
  } else if (tag == "other" || tag == "o") {
    out.tag = AclEntry::Tag::other;
  } else {
    return entry_error(entry, "unknown tag \"" + std::string(tag) + "\" (use user, group, mask or other)");
  }
  if (fields.size() == 2 && (out.tag == AclEntry::Tag::user_obj || out.tag == AclEntry::Tag::group_obj)) {
    return entry_error(entry, "expected tag:qualifier:perms");
  }
  if (!qualifier.empty()) {
    if (!has_qualifier(out.tag)) {
      return entry_error(entry, "mask and other take no qualifier");
    }
    const std::optional<std::uint64_t> id = util::parse_uint(qualifier);
    if (!id || *id > 0xFFFFFFFEU) {
      return entry_error(entry, "the qualifier must be a numeric uid or gid");
    }
    out.id = static_cast<std::uint32_t>(*id);
  }
  const std::optional<std::uint8_t> perms = parse_perms(perms_text);
  if (!perms) {
    return entry_error(entry, "bad permissions \"" + std::string(perms_text) + "\" (use r, w, x and -)");
  }
  out.perms = *perms;
  return out;
}

bool same_key(const AclEntry& a, const AclEntry& b) { return a.tag == b.tag && a.id == b.id; }

bool key_less(const AclEntry& a, const AclEntry& b) {
  if (a.tag != b.tag) {
    return static_cast<int>(a.tag) < static_cast<int>(b.tag);
  }
  return a.id < b.id;
}

// --- libacl adapters ------------------------------------------------------------------------

class AclHandle {
public:
  explicit AclHandle(acl_t acl) : m_acl(acl) {}
  ~AclHandle() {
    if (m_acl != nullptr) {
      acl_free(m_acl);
    }
  }
  AclHandle(const AclHandle&) = delete;
  AclHandle& operator=(const AclHandle&) = delete;
  [[nodiscard]] acl_t get() const { return m_acl; }
  [[nodiscard]] acl_t* ptr() { return &m_acl; }

private:
  acl_t m_acl;
};

std::string proc_fd_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

bool is_unsupported(int err) { return err == ENOTSUP || err == EOPNOTSUPP; }

std::unexpected<Error> acl_sys_error(const std::string& subject, std::string_view what, int err) {
  if (is_unsupported(err)) {
    return make_error(Errc::unsupported, subject + ": the filesystem does not support ACLs (mount with acl)");
  }
  return make_error(err == ENOENT ? Errc::not_found : Errc::io,
                    subject + ": " + std::string(what) + ": " + std::strerror(err));
}

Result<Acl> from_libacl(acl_t acl, const std::string& subject) {
  Acl out;
  acl_entry_t entry = nullptr;
  int more = acl_get_entry(acl, ACL_FIRST_ENTRY, &entry);
  while (more == 1) {
    acl_tag_t tag = ACL_UNDEFINED_TAG;
    if (acl_get_tag_type(entry, &tag) != 0) {
      return acl_sys_error(subject, "cannot read ACL entry", errno);
    }
    AclEntry e;
    switch (tag) {
    case ACL_USER_OBJ:
      e.tag = AclEntry::Tag::user_obj;
      break;
    case ACL_USER:
      e.tag = AclEntry::Tag::user;
      break;
    case ACL_GROUP_OBJ:
      e.tag = AclEntry::Tag::group_obj;
      break;
    case ACL_GROUP:
      e.tag = AclEntry::Tag::group;
      break;
    case ACL_MASK:
      e.tag = AclEntry::Tag::mask;
      break;
    case ACL_OTHER:
      e.tag = AclEntry::Tag::other;
      break;
    default:
      return make_error(Errc::io, subject + ": unknown ACL entry tag " + std::to_string(tag));
    }
    if (has_qualifier(e.tag)) {
      void* qualifier = acl_get_qualifier(entry);
      if (qualifier == nullptr) {
        return acl_sys_error(subject, "cannot read ACL qualifier", errno);
      }
      // uid_t and gid_t are both unsigned 32-bit on Linux.
      e.id = *static_cast<uid_t*>(qualifier);
      acl_free(qualifier);
    }
    acl_permset_t permset = nullptr;
    if (acl_get_permset(entry, &permset) != 0) {
      return acl_sys_error(subject, "cannot read ACL permissions", errno);
    }
    e.perms = static_cast<std::uint8_t>((acl_get_perm(permset, ACL_READ) == 1 ? 4 : 0) |
                                        (acl_get_perm(permset, ACL_WRITE) == 1 ? 2 : 0) |
                                        (acl_get_perm(permset, ACL_EXECUTE) == 1 ? 1 : 0));
    out.entries.push_back(e);
    more = acl_get_entry(acl, ACL_NEXT_ENTRY, &entry);
  }
  if (more < 0) {
    return acl_sys_error(subject, "cannot read ACL", errno);
  }
  out.normalize();
  return out;
}

acl_tag_t to_libacl_tag(AclEntry::Tag tag) {
  switch (tag) {
  case AclEntry::Tag::user_obj:
    return ACL_USER_OBJ;
  case AclEntry::Tag::user:
    return ACL_USER;
  case AclEntry::Tag::group_obj:
    return ACL_GROUP_OBJ;
  case AclEntry::Tag::group:
    return ACL_GROUP;
  case AclEntry::Tag::mask:
    return ACL_MASK;
  case AclEntry::Tag::other:
    return ACL_OTHER;
  }
  return ACL_UNDEFINED_TAG;
}

Result<void> to_libacl(const Acl& acl, AclHandle& out, const std::string& subject) {
  for (const AclEntry& e : acl.entries) {
    acl_entry_t entry = nullptr;
    if (acl_create_entry(out.ptr(), &entry) != 0 || acl_set_tag_type(entry, to_libacl_tag(e.tag)) != 0) {
      return acl_sys_error(subject, "cannot build ACL", errno);
    }
    if (has_qualifier(e.tag)) {
      const uid_t id = e.id;
      if (acl_set_qualifier(entry, &id) != 0) {
        return acl_sys_error(subject, "cannot build ACL", errno);
      }
    }
    acl_permset_t permset = nullptr;
    if (acl_get_permset(entry, &permset) != 0 || acl_clear_perms(permset) != 0) {
      return acl_sys_error(subject, "cannot build ACL", errno);
    }
    if (((e.perms & 4) != 0 && acl_add_perm(permset, ACL_READ) != 0) ||
        ((e.perms & 2) != 0 && acl_add_perm(permset, ACL_WRITE) != 0) ||
        ((e.perms & 1) != 0 && acl_add_perm(permset, ACL_EXECUTE) != 0) || acl_set_permset(entry, permset) != 0) {
      return acl_sys_error(subject, "cannot build ACL", errno);
    }
  }
  return {};
}

} // namespace

void Acl::normalize() {
  for (AclEntry& e : entries) {
    if (!has_qualifier(e.tag)) {
      e.id = 0;
    }
  }
  std::stable_sort(entries.begin(), entries.end(), key_less);
  entries.erase(std::unique(entries.begin(), entries.end(), same_key), entries.end());
}

std::string Acl::to_text() const {
  std::string out;
  for (const AclEntry& e : entries) {
    if (!out.empty()) {
      out += ',';
    }
    out += tag_name(e.tag);
    out += ':';
    if (has_qualifier(e.tag)) {
      out += std::to_string(e.id);
    }
    out += ':';
    out += perms_to_text(e.perms);
  }
  return out;
}

Result<Acl> Acl::from_text(std::string_view text) {
  Acl acl;
  std::string flat(text);
  std::replace(flat.begin(), flat.end(), '\n', ',');
  for (const std::string_view raw : util::split(flat, ',')) {
    const std::string_view entry = util::trim(raw);
    if (entry.empty()) {
      continue;
    }
    ZT_TRY_ASSIGN(parsed, parse_entry(entry));
    const bool duplicate = std::any_of(acl.entries.begin(), acl.entries.end(),
                                       [&](const AclEntry& e) { return same_key(e, parsed); });
    if (duplicate) {
      return entry_error(entry, "duplicate entry");
    }
    acl.entries.push_back(parsed);
  }
  acl.normalize();
  return acl;
}

const AclEntry* Acl::find(AclEntry::Tag tag, std::uint32_t id) const {
  for (const AclEntry& e : entries) {
    if (e.tag == tag && (!has_qualifier(tag) || e.id == id)) {
      return &e;
    }
  }
  return nullptr;
}

bool Acl::is_minimal() const {
  if (entries.size() != 3) {
    return false;
  }
  return find(AclEntry::Tag::user_obj) != nullptr && find(AclEntry::Tag::group_obj) != nullptr &&
         find(AclEntry::Tag::other) != nullptr;
}

std::string perms_to_text(std::uint8_t perms) {
  std::string out = "---";
  if ((perms & 4) != 0) {
    out[0] = 'r';
  }
  if ((perms & 2) != 0) {
    out[1] = 'w';
  }
  if ((perms & 1) != 0) {
    out[2] = 'x';
  }
  return out;
}

namespace detail {

Result<Acl> get_acl_fd(int fd, AclType type, const std::string& subject) {
  AclHandle acl(type == AclType::access ? acl_get_fd(fd)
                                        : acl_get_file(proc_fd_path(fd).c_str(), ACL_TYPE_DEFAULT));
  if (acl.get() == nullptr) {
    return acl_sys_error(subject, type == AclType::access ? "cannot read ACL" : "cannot read default ACL", errno);
  }
  return from_libacl(acl.get(), subject);
}

Result<void> set_acl_fd(int fd, AclType type, const Acl& acl, const std::string& subject) {
  if (type == AclType::default_acl && acl.empty()) {
    if (acl_delete_def_file(proc_fd_path(fd).c_str()) != 0) {
      return acl_sys_error(subject, "cannot remove default ACL", errno);
    }
    return {};
  }
  Acl normalized = acl;
  normalized.normalize();
  AclHandle handle(acl_init(static_cast<int>(normalized.entries.size())));
  if (handle.get() == nullptr) {
    return acl_sys_error(subject, "cannot build ACL", errno);
  }
  ZT_TRY(to_libacl(normalized, handle, subject));
  if (acl_valid(handle.get()) != 0) {
    return make_error(Errc::io, subject + ": invalid ACL \"" + normalized.to_text() +
                                    "\": it needs one user::, group:: and other:: entry, and a mask:: entry when "
                                    "it has named user or group entries");
  }
  const int rc = type == AclType::access
                     ? acl_set_fd(fd, handle.get())
                     : acl_set_file(proc_fd_path(fd).c_str(), ACL_TYPE_DEFAULT, handle.get());
  if (rc != 0) {
    return acl_sys_error(subject, type == AclType::access ? "cannot set ACL" : "cannot set default ACL", errno);
  }
  return {};
}

} // namespace detail

} // namespace zt::host
