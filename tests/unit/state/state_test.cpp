// SPDX-License-Identifier: Apache-2.0
#include "state/state.hpp"
#include "support/catch.hpp"
#include "support/fake_runner.hpp"
#include "support/temp_root.hpp"
#include "util/json.hpp"
#include "util/sha256.hpp"

#include <filesystem>
#include <unistd.h>

using zt::host::FileType;
using zt::state::Drift;
using zt::state::FileDigest;
using zt::state::State;

namespace {

State sample_state() {
  State s;
  s.provisioned_at = "2026-11-22T09:00:00Z";
  s.profile = "debian-12";
  s.version = "0.1.0";
  s.steps = {{"subids", "changed", "2026-11-22T09:00:00Z", {{"/etc/subuid", "add ztnet:165536:65536"}}},
             {"data", "unchanged", "2026-11-21T08:00:00Z", {}}};
  FileDigest subuid{"/etc/subuid",
                    "subids",
                    FileType::regular,
                    zt::util::sha256_hex("ztnet:165536:65536\n"),
                    0,
                    0,
                    0644,
                    "user::rw-,group::r--,other::r--",
                    ""};
  FileDigest dir{"/opt/ztnet-data/postgres-data",
                 "data",
                 FileType::directory,
                 "",
                 999,
                 999,
                 0750,
                 "user::rwx,user:999:rwx,group::r-x,mask::r-x,other::---",
                 "user::rwx,user:999:rwx,user:165605:rwx,group::r-x,mask::rwx,other::---"};
  FileDigest gone{"/var/lib/systemd/linger/ztnet", "linger", FileType::missing, "", 0, 0, 0, "", ""};
  s.files = {subuid, dir, gone};
  return s;
}

} // namespace

TEST_CASE("state: render and parse round trip", "[state][state]") {
  const State s = sample_state();
  const std::string text = zt::state::render_state(s);
  auto back = zt::state::parse_state(text, "/var/lib/ztagent/state.json");
  REQUIRE(back);
  CHECK(*back == s);
  // It is JSON (one document) and never holds contents, only digests.
  CHECK(zt::util::parse_json(text).has_value());
  CHECK(text.find("ztnet:165536:65536\\n") == std::string::npos);
  CHECK(text.find("\"sha256\":\"" + zt::util::sha256_hex("ztnet:165536:65536\n") + "\"") !=
        std::string::npos);
  CHECK(text.find("\"mode\":\"0750\"") != std::string::npos);
}

TEST_CASE("state: parse errors name the file and the member", "[state][state]") {
  auto other = zt::state::parse_state("{\"schema\":\"x/1\"}", "/s.json");
  REQUIRE_FALSE(other);
  CHECK(other.error().message == "/s.json: schema \"x/1\" (not a ztagent.state/1 file; remove it and run "
                                 "`ztagent provision` to record a new one)");
  auto truncated = zt::state::parse_state("{\"schema\":", "/s.json");
  REQUIRE_FALSE(truncated);
  CHECK(truncated.error().message ==
        "/s.json: json: unexpected end of input at offset 10 (not a ztagent.state/1 file; "
        "remove it and run `ztagent provision` to record a new one)");
  auto bad_mode = zt::state::parse_state(
      R"({"schema":"ztagent.state/1","provisioned_at":"t","profile":"p","version":"v","steps":[],)"
      R"("files":[{"path":"/x","step":"s","type":"directory","uid":0,"gid":0,"mode":"0789","default_acl":""}]})",
      "/s.json");
  REQUIRE_FALSE(bad_mode);
  CHECK(bad_mode.error().message ==
        "/s.json: files[0]: invalid mode '0789' (not a ztagent.state/1 file; remove "
        "it and run `ztagent provision` to record a new one)");
}

TEST_CASE("state: diff_digest says each kind of difference in words", "[state][state]") {
  const State s = sample_state();
  const FileDigest& file = s.files[0];
  const FileDigest& dir = s.files[1];
  const FileDigest& missing = s.files[2];

  CHECK(zt::state::diff_digest(file, file).empty());
  CHECK(zt::state::diff_digest(dir, dir).empty());
  CHECK(zt::state::diff_digest(missing, missing).empty());

  FileDigest content = file;
  content.sha256 = zt::util::sha256_hex("");
  CHECK(zt::state::diff_digest(file, content) == std::vector<std::string>{"content changed"});

  FileDigest mode = dir;
  mode.mode = 0755;
  CHECK(zt::state::diff_digest(dir, mode) == std::vector<std::string>{"mode 0750 -> 0755"});

  FileDigest owner = dir;
  owner.uid = 0;
  owner.gid = 0;
  CHECK(zt::state::diff_digest(dir, owner) == std::vector<std::string>{"owner 999:999 -> 0:0"});

  FileDigest acl_removed = dir;
  acl_removed.default_acl = "user::rwx,user:999:rwx,group::r-x,mask::rwx,other::---";
  CHECK(zt::state::diff_digest(dir, acl_removed) ==
        std::vector<std::string>{"ACL entry default:user:165605:rwx removed"});

  FileDigest acl_added = dir;
  acl_added.acl = "user::rwx,user:999:rwx,user:1000:r-x,group::r-x,mask::r-x,other::---";
  CHECK(zt::state::diff_digest(dir, acl_added) == std::vector<std::string>{"ACL entry user:1000:r-x added"});

  FileDigest acl_changed = dir;
  acl_changed.acl = "user::rwx,user:999:r-x,group::r-x,mask::r-x,other::---";
  CHECK(zt::state::diff_digest(dir, acl_changed) ==
        std::vector<std::string>{"ACL entry user:999 changed rwx -> r-x"});

  // Base entries of the access ACL are the mode: a chmod is reported once, as the mode.
  FileDigest chmod = dir;
  chmod.mode = 0755;
  chmod.acl = "user::rwx,user:999:rwx,group::r-x,mask::r-x,other::r-x";
  CHECK(zt::state::diff_digest(dir, chmod) == std::vector<std::string>{"mode 0750 -> 0755"});

  FileDigest gone = file;
  gone.type = FileType::missing;
  CHECK(zt::state::diff_digest(file, gone) == std::vector<std::string>{"missing (was a regular file)"});
  FileDigest link = dir;
  link.type = FileType::symlink;
  CHECK(zt::state::diff_digest(dir, link) == std::vector<std::string>{"now a symlink (was a directory)"});
  FileDigest appeared = file;
  appeared.path = missing.path;
  CHECK(zt::state::diff_digest(missing, appeared) ==
        std::vector<std::string>{"now a regular file (was missing)"});

  FileDigest several = file;
  several.sha256 = "00";
  several.mode = 0600;
  CHECK(zt::state::diff_digest(file, several) ==
        std::vector<std::string>{"content changed", "mode 0644 -> 0600"});

  const Drift d{"/etc/subuid", "subids", "2026-11-22T09:00:00Z", {"content changed"}};
  CHECK(zt::state::describe(d, d.differences[0]) ==
        "/etc/subuid: content changed since the provision of 2026-11-22T09:00:00Z");
}

TEST_CASE("state: record_provision keeps steps that did not run, refreshes those that did",
          "[state][state]") {
  const State previous = sample_state();
  zt::report::Report rep;
  rep.profile = "debian-12";
  rep.steps = {{"subids", zt::report::StepStatus::unchanged, {}, 0, ""},
               {"data", zt::report::StepStatus::failed, {}, 0, "boom"},
               {"linger",
                zt::report::StepStatus::changed,
                {{"/var/lib/systemd/linger/ztnet", "enable linger"}},
                0,
                ""}};
  FileDigest new_subuid = previous.files[0];
  new_subuid.sha256 = "ab";
  FileDigest linger{
      "/var/lib/systemd/linger/ztnet",   "linger", FileType::regular, zt::util::sha256_hex(""), 0, 0, 0644,
      "user::rw-,group::r--,other::r--", ""};
  const State next = zt::state::record_provision(
      previous, rep, {new_subuid, linger}, {"subids", "data", "linger"}, "2026-11-23T10:00:00Z", "0.2.0");
  CHECK(next.provisioned_at == "2026-11-23T10:00:00Z");
  CHECK(next.version == "0.2.0");
  REQUIRE(next.steps.size() == 3);
  CHECK(next.steps[0] == zt::state::StepRecord{"subids", "unchanged", "2026-11-23T10:00:00Z", {}});
  CHECK(next.steps[1] == previous.steps[1]); // failed: the old record stays
  CHECK(next.steps[2] == zt::state::StepRecord{"linger",
                                               "changed",
                                               "2026-11-23T10:00:00Z",
                                               {{"/var/lib/systemd/linger/ztnet", "enable linger"}}});
  CHECK(next.files == std::vector<FileDigest>{new_subuid, previous.files[1], linger});

  // Nothing changed and the digests match: the state stays exactly as it was (time included).
  zt::report::Report same;
  same.profile = "debian-12";
  same.steps = {{"subids", zt::report::StepStatus::unchanged, {}, 0, ""},
                {"data", zt::report::StepStatus::unchanged, {}, 0, ""}};
  CHECK(zt::state::record_provision(previous, same, previous.files, {"subids", "data", "linger"},
                                    "2026-11-23T10:00:00Z", "0.1.0") == previous);

  // The first provision: nothing previous, only steps that ran.
  const State first = zt::state::record_provision(std::nullopt, rep, {new_subuid, linger},
                                                  {"subids", "data", "linger"}, "t", "v");
  CHECK(first.steps.size() == 2);
  CHECK(first.files == std::vector<FileDigest>{new_subuid, linger});
}

TEST_CASE("state: digests from disk, save/load through Fs, drift found after tampering", "[state][state]") {
  zt::test::TempRoot root;
  root.write("/etc/subuid", "ztnet:165536:65536\n");
  root.mkdir("/opt/data");
  zt::test::FakeRunner runner;
  zt::host::Host host = root.host(runner);

  auto file = zt::state::digest_path(host.fs(), "/etc/subuid", "subids");
  REQUIRE(file);
  CHECK(file->type == FileType::regular);
  CHECK(file->sha256 == zt::util::sha256_hex("ztnet:165536:65536\n"));
  CHECK(file->acl ==
        "user::" + zt::host::perms_to_text(static_cast<std::uint8_t>((file->mode >> 6) & 7)) +
            ",group::" + zt::host::perms_to_text(static_cast<std::uint8_t>((file->mode >> 3) & 7)) +
            ",other::" + zt::host::perms_to_text(static_cast<std::uint8_t>(file->mode & 7)));
  auto dir = zt::state::digest_path(host.fs(), "/opt/data", "data");
  REQUIRE(dir);
  CHECK(dir->type == FileType::directory);
  CHECK(dir->sha256.empty());
  CHECK(dir->default_acl.empty());
  auto none = zt::state::digest_path(host.fs(), "/var/lib/systemd/linger/ztnet", "linger");
  REQUIRE(none);
  CHECK(none->type == FileType::missing);

  auto empty = zt::state::load_state(host.fs());
  REQUIRE(empty);
  CHECK_FALSE(empty->has_value());

  State s;
  s.provisioned_at = "2026-11-22T09:00:00Z";
  s.profile = "debian-12";
  s.version = "0.1.0";
  s.steps = {{"subids", "changed", "2026-11-22T09:00:00Z", {}},
             {"data", "changed", "2026-11-22T09:00:00Z", {}}};
  s.files = {*file, *dir, *none};
  REQUIRE(zt::state::save_state(host.fs(), s));
  auto st = host.fs().lstat(std::string(zt::state::k_state_path));
  REQUIRE(st);
  CHECK(st->mode == 0600);
  CHECK(st->uid == ::geteuid());
  auto dst = host.fs().lstat(std::string(zt::state::k_state_dir));
  REQUIRE(dst);
  CHECK(dst->mode == 0700);
  auto loaded = zt::state::load_state(host.fs());
  REQUIRE(loaded);
  REQUIRE(loaded->has_value());
  CHECK(**loaded == s);
  CHECK(zt::state::find_drift(s, host.fs()).empty());

  root.write("/etc/subuid", "");
  std::filesystem::permissions(root.real("/opt/data"), static_cast<std::filesystem::perms>(0777));
  auto drift = zt::state::find_drift(s, host.fs());
  REQUIRE(drift.size() == 2);
  CHECK(drift[0].path == "/etc/subuid");
  CHECK(drift[0].differences == std::vector<std::string>{"content changed"});
  CHECK(drift[1].path == "/opt/data");
  CHECK(drift[1].differences[0] == "mode " + zt::util::format_mode(dir->mode) + " -> 0777");

  auto checks = zt::state::drift_checks(s, drift);
  REQUIRE(checks.size() == 3);
  CHECK(checks[0].id == "drift:/etc/subuid");
  CHECK(checks[0].step == "subids");
  CHECK(checks[0].outcome == zt::checks::Outcome::fail);
  CHECK(checks[0].expected == "as recorded by the provision of 2026-11-22T09:00:00Z");
  CHECK(checks[0].actual == "content changed");
  CHECK(checks[0].fix ==
        "ztagent drift --remediate (re-runs step subids), or ztagent provision --only subids to "
        "restore and record it");
  CHECK(checks[2].outcome == zt::checks::Outcome::pass);
  CHECK(checks[2].actual == "unchanged");
}

TEST_CASE("state: save refuses a non-directory at the state dir", "[state][state]") {
  zt::test::TempRoot root;
  root.write("/var/lib/ztagent", "x");
  zt::test::FakeRunner runner;
  zt::host::Host host = root.host(runner);
  auto r = zt::state::save_state(host.fs(), State{});
  REQUIRE_FALSE(r);
  CHECK(r.error().message ==
        "/var/lib/ztagent: a regular file, not a directory; remove it so ztagent can record its state");
}
