// SPDX-License-Identifier: Apache-2.0
#include "host/acl.hpp"

#include "support/catch.hpp"

#include <string>
#include <vector>

using zt::Errc;
using zt::host::Acl;
using zt::host::AclEntry;

namespace {

struct TextCase {
  std::string input;
  std::string canonical;
};

struct ErrorCase {
  std::string input;
  std::string message;
};

} // namespace

TEST_CASE("Acl: from_text accepts long and short forms and prints them canonically", "[host][acl]") {
  const std::vector<TextCase> cases = {
      {"", ""},
      {"user::rwx,group::r-x,other::---", "user::rwx,group::r-x,other::---"},
      {"u::rwx,g::r-x,o::---", "user::rwx,group::r-x,other::---"},
      {"user::rwx,user:1000:rwx,group::r-x,mask::r-x,other::---",
       "user::rwx,user:1000:rwx,group::r-x,mask::r-x,other::---"},
      // Canonical order: user_obj, user (by id), group_obj, group (by id), mask, other.
      {"other::r--,mask::r-x,user:1001:r--,group:100:r--,user:1000:rwx,group::r-x,user::rw-,group:50:rw-",
       "user::rw-,user:1000:rwx,user:1001:r--,group::r-x,group:50:rw-,group:100:r--,mask::r-x,other::r--"},
      // Two-field mask/other and permission letters in any order or abbreviated.
      {"u::rw,g::r,m:rx,o:r", "user::rw-,group::r--,mask::r-x,other::r--"},
      {"u::xwr,g::-,o::--x", "user::rwx,group::---,other::--x"},
      // getfacl-style lines with whitespace.
      {"user::rwx\n  group::r-x \n other::---\n", "user::rwx,group::r-x,other::---"},
      {"u:0:rwx,g:0:r-x,u::rwx,g::r-x,m::rwx,o::---",
       "user::rwx,user:0:rwx,group::r-x,group:0:r-x,mask::rwx,other::---"},
  };
  for (const TextCase& c : cases) {
    CAPTURE(c.input);
    const auto acl = Acl::from_text(c.input);
    REQUIRE(acl.has_value());
    CHECK(acl->to_text() == c.canonical);
    // The canonical form parses back to the same ACL.
    const auto again = Acl::from_text(acl->to_text());
    REQUIRE(again.has_value());
    CHECK(*again == *acl);
  }
}

TEST_CASE("Acl: from_text rejects bad entries with the entry quoted", "[host][acl]") {
  const std::vector<ErrorCase> cases = {
      {"user:bob:rwx", "ACL entry \"user:bob:rwx\": the qualifier must be a numeric uid or gid"},
      {"group:-1:rwx", "ACL entry \"group:-1:rwx\": the qualifier must be a numeric uid or gid"},
      {"user:4294967295:rwx", "ACL entry \"user:4294967295:rwx\": the qualifier must be a numeric uid or gid"},
      {"foo::rwx", "ACL entry \"foo::rwx\": unknown tag \"foo\" (use user, group, mask or other)"},
      {"user::rwz", "ACL entry \"user::rwz\": bad permissions \"rwz\" (use r, w, x and -)"},
      {"user::rrx", "ACL entry \"user::rrx\": bad permissions \"rrx\" (use r, w, x and -)"},
      {"user::rwx-", "ACL entry \"user::rwx-\": bad permissions \"rwx-\" (use r, w, x and -)"},
      {"other::", "ACL entry \"other::\": bad permissions \"\" (use r, w, x and -)"},
      {"user", "ACL entry \"user\": expected tag:qualifier:perms"},
      {"user:rwx", "ACL entry \"user:rwx\": expected tag:qualifier:perms"},
      {"default:user::rwx", "ACL entry \"default:user::rwx\": expected tag:qualifier:perms"},
      {"mask:1:rwx", "ACL entry \"mask:1:rwx\": mask and other take no qualifier"},
      {"o:0:r--", "ACL entry \"o:0:r--\": mask and other take no qualifier"},
      {"user::rwx,u::r--", "ACL entry \"u::r--\": duplicate entry"},
      {"user::rwx, user:1000:rwx ,user:1000:r--", "ACL entry \"user:1000:r--\": duplicate entry"},
  };
  for (const ErrorCase& c : cases) {
    CAPTURE(c.input);
    const auto acl = Acl::from_text(c.input);
    REQUIRE_FALSE(acl.has_value());
    CHECK(acl.error().code == Errc::parse);
    CHECK(acl.error().message == c.message);
  }
}

TEST_CASE("Acl: normalize sorts, drops duplicate keys and clears stray ids", "[host][acl]") {
  Acl acl;
  acl.entries = {
      {AclEntry::Tag::other, 0, 0},
      {AclEntry::Tag::mask, 7, 5},  // id means nothing for a mask
      {AclEntry::Tag::user, 1001, 4},
      {AclEntry::Tag::user, 1000, 7},
      {AclEntry::Tag::user, 1000, 1},  // same key as the previous one: the first one stays
      {AclEntry::Tag::group_obj, 0, 5},
      {AclEntry::Tag::user_obj, 0, 7},
  };
  acl.normalize();
  CHECK(acl.to_text() == "user::rwx,user:1000:rwx,user:1001:r--,group::r-x,mask::r-x,other::---");
  REQUIRE(acl.find(AclEntry::Tag::mask) != nullptr);
  CHECK(acl.find(AclEntry::Tag::mask)->id == 0);
}

TEST_CASE("Acl: find looks up by tag and id", "[host][acl]") {
  const auto acl = Acl::from_text("user::rwx,user:1000:rw-,group::r-x,group:70:r--,mask::rwx,other::---");
  REQUIRE(acl.has_value());
  REQUIRE(acl->find(AclEntry::Tag::user, 1000) != nullptr);
  CHECK(acl->find(AclEntry::Tag::user, 1000)->perms == 6);
  CHECK(acl->find(AclEntry::Tag::user, 1001) == nullptr);
  REQUIRE(acl->find(AclEntry::Tag::group, 70) != nullptr);
  CHECK(acl->find(AclEntry::Tag::group, 70)->perms == 4);
  CHECK(acl->find(AclEntry::Tag::group, 1000) == nullptr);
  REQUIRE(acl->find(AclEntry::Tag::mask) != nullptr);
  CHECK(acl->find(AclEntry::Tag::mask)->perms == 7);
  REQUIRE(acl->find(AclEntry::Tag::other) != nullptr);
  CHECK(acl->find(AclEntry::Tag::other)->perms == 0);
  REQUIRE(acl->find(AclEntry::Tag::user_obj) != nullptr);
  CHECK(acl->find(AclEntry::Tag::user_obj)->perms == 7);
}

TEST_CASE("Acl: is_minimal is true only for the three base entries", "[host][acl]") {
  const std::vector<std::pair<std::string, bool>> cases = {
      {"user::rwx,group::r-x,other::---", true},
      {"user::rwx,group::r-x,mask::r-x,other::---", false},
      {"user::rwx,user:1000:rwx,group::r-x,mask::r-x,other::---", false},
      {"user::rwx,group::r-x", false},
      {"", false},
  };
  for (const auto& [text, minimal] : cases) {
    CAPTURE(text);
    const auto acl = Acl::from_text(text);
    REQUIRE(acl.has_value());
    CHECK(acl->is_minimal() == minimal);
  }
}

TEST_CASE("Acl: perms_to_text", "[host][acl]") {
  const std::vector<std::string> expected = {"---", "--x", "-w-", "-wx", "r--", "r-x", "rw-", "rwx"};
  for (std::uint8_t p = 0; p < 8; ++p) {
    CAPTURE(static_cast<int>(p));
    CHECK(zt::host::perms_to_text(p) == expected[p]);
  }
}
