// SPDX-License-Identifier: Apache-2.0
#include "state/state.hpp"

#include "util/json.hpp"
#include "util/sha256.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>

namespace zt::state {

namespace {

constexpr std::array k_file_types = {host::FileType::missing,     host::FileType::regular,
                                     host::FileType::directory,   host::FileType::symlink,
                                     host::FileType::char_device, host::FileType::block_device,
                                     host::FileType::fifo,        host::FileType::socket};

std::optional<host::FileType> file_type_from(std::string_view name) {
  for (auto t : k_file_types) {
    if (host::to_string(t) == name) {
      return t;
    }
  }
  return std::nullopt;
}

std::string q(std::string_view s) {
  return report::json_quote(s);
}

// ---- parsing helpers ---------------------------------------------------------------------------

struct Reader {
  const std::string& source;

  std::unexpected<Error> bad(const std::string& what) const {
    return make_error(Errc::parse, source + ": " + what + " (not a " + std::string(k_state_schema) +
                                       " file; remove it and run `ztagent provision` to record a new one)");
  }

  Result<std::string> str(const util::Json& obj, std::string_view key, std::string_view where) const {
    const std::string* v = obj.find_string(key);
    if (v == nullptr) {
      return bad(std::string(where) + ": member \"" + std::string(key) + "\" missing or not a string");
    }
    return *v;
  }

  Result<std::uint32_t> u32(const util::Json& obj, std::string_view key, std::string_view where) const {
    const util::Json* v = obj.find(key);
    if (v == nullptr || !v->as_number()) {
      return bad(std::string(where) + ": member \"" + std::string(key) + "\" missing or not a number");
    }
    const double d = *v->as_number();
    if (d < 0 || d > 4294967295.0 || std::floor(d) != d) {
      return bad(std::string(where) + ": member \"" + std::string(key) + "\" out of range");
    }
    return static_cast<std::uint32_t>(d);
  }

  Result<const std::vector<util::Json>*> arr(const util::Json& obj,
                                             std::string_view key,
                                             std::string_view where) const {
    const util::Json* v = obj.find(key);
    if (v == nullptr || v->kind() != util::Json::Kind::array) {
      return bad(std::string(where) + ": member \"" + std::string(key) + "\" missing or not an array");
    }
    return &v->items();
  }
};

Result<std::uint32_t> parse_mode(const Reader& r, const std::string& text, const std::string& where) {
  if (text.empty() || text.size() > 6 || text.find_first_not_of("01234567") != std::string::npos) {
    return r.bad(where + ": invalid mode '" + text + "'");
  }
  return static_cast<std::uint32_t>(std::stoul(text, nullptr, 8));
}

// ---- ACL diff ----------------------------------------------------------------------------------

std::string entry_key(const host::AclEntry& e) {
  // "user:999", "group::" style key without perms
  host::Acl one;
  one.entries.push_back(e);
  std::string text = one.to_text();
  return text.substr(0, text.rfind(':'));
}

bool mode_entry(const host::AclEntry& e) {
  using Tag = host::AclEntry::Tag;
  return e.tag == Tag::user_obj || e.tag == Tag::group_obj || e.tag == Tag::other || e.tag == Tag::mask;
}

void diff_acl(const std::string& before_text,
              const std::string& after_text,
              bool is_default,
              std::vector<std::string>& out) {
  if (before_text == after_text) {
    return;
  }
  auto before = host::Acl::from_text(before_text);
  auto after = host::Acl::from_text(after_text);
  const std::string prefix = is_default ? "default:" : "";
  if (!before || !after) {
    out.push_back(std::string(is_default ? "default ACL" : "ACL") + " " + before_text + " -> " + after_text);
    return;
  }
  std::map<std::string, const host::AclEntry*> old_entries;
  std::map<std::string, const host::AclEntry*> new_entries;
  for (const auto& e : before->entries) {
    if (is_default || !mode_entry(e)) {
      old_entries[entry_key(e)] = &e;
    }
  }
  for (const auto& e : after->entries) {
    if (is_default || !mode_entry(e)) {
      new_entries[entry_key(e)] = &e;
    }
  }
  for (const auto& e : before->entries) {
    const std::string key = entry_key(e);
    if (old_entries.count(key) == 0) {
      continue;
    }
    auto it = new_entries.find(key);
    if (it == new_entries.end()) {
      out.push_back("ACL entry " + prefix + key + ":" + host::perms_to_text(e.perms) + " removed");
    } else if (it->second->perms != e.perms) {
      out.push_back("ACL entry " + prefix + key + " changed " + host::perms_to_text(e.perms) + " -> " +
                    host::perms_to_text(it->second->perms));
    }
  }
  for (const auto& e : after->entries) {
    const std::string key = entry_key(e);
    if (new_entries.count(key) != 0 && old_entries.count(key) == 0) {
      out.push_back("ACL entry " + prefix + key + ":" + host::perms_to_text(e.perms) + " added");
    }
  }
}

} // namespace

Result<FileDigest> digest_path(const host::Fs& fs, const std::string& path, const std::string& step,
                               const host::HostCache* cache) {
  FileDigest d;
  d.path = path;
  d.step = step;
  // One no-follow open: a symlink, FIFO or device is recorded by type, never followed, opened or read.
  const auto looked = host::inspect_seen(fs, cache, path);
  if (!*looked) {
    return std::unexpected(looked->error());
  }
  const host::FileSnapshot& snap = **looked;
  d.type = snap.st.type;
  if (!snap.st.exists()) {
    return d;
  }
  d.uid = snap.st.uid;
  d.gid = snap.st.gid;
  d.mode = snap.st.mode;
  if (d.type == host::FileType::regular) {
    d.sha256 = util::sha256_hex(snap.content);
  }
  if (snap.access_acl) {
    d.acl = snap.access_acl->to_text();
  }
  if (snap.default_acl) {
    d.default_acl = snap.default_acl->to_text();
  }
  return d;
}

Result<std::vector<FileDigest>> digest_step(const provisioners::Step& step, const host::HostView& view) {
  std::vector<FileDigest> out;
  if (!step.provisioner) {
    return out;
  }
  for (const auto& path : step.provisioner->managed_paths(view)) {
    auto d = digest_path(view.fs(), path, step.id, view.cache());
    if (!d) {
      return std::unexpected(prefixed(step.id, std::move(d).error()));
    }
    out.push_back(std::move(*d));
  }
  return out;
}

std::string render_state(const State& state) {
  std::string out = "{\"schema\":" + q(k_state_schema) + ",\n";
  out += " \"provisioned_at\":" + q(state.provisioned_at) + ",\"profile\":" + q(state.profile) +
         ",\"version\":" + q(state.version) + ",\n";
  out += " \"steps\":[";
  for (std::size_t i = 0; i < state.steps.size(); ++i) {
    const StepRecord& s = state.steps[i];
    out += i == 0 ? "\n  " : ",\n  ";
    out += "{\"id\":" + q(s.id) + ",\"status\":" + q(s.status) +
           ",\"provisioned_at\":" + q(s.provisioned_at) + ",\"changes\":[";
    for (std::size_t c = 0; c < s.changes.size(); ++c) {
      out += c == 0 ? "" : ",";
      out += "{\"target\":" + q(s.changes[c].target) + ",\"summary\":" + q(s.changes[c].summary) + "}";
    }
    out += "]}";
  }
  out += state.steps.empty() ? "],\n" : "\n ],\n";
  out += " \"files\":[";
  for (std::size_t i = 0; i < state.files.size(); ++i) {
    const FileDigest& f = state.files[i];
    out += i == 0 ? "\n  " : ",\n  ";
    out += "{\"path\":" + q(f.path) + ",\"step\":" + q(f.step) + ",\"type\":" + q(host::to_string(f.type));
    if (f.type != host::FileType::missing) {
      out += ",\"uid\":" + std::to_string(f.uid) + ",\"gid\":" + std::to_string(f.gid) +
             ",\"mode\":" + q(util::format_mode(f.mode));
    }
    if (f.type == host::FileType::regular) {
      out += ",\"sha256\":" + q(f.sha256);
    }
    if (!f.acl.empty()) {
      out += ",\"acl\":" + q(f.acl);
    }
    if (f.type == host::FileType::directory) {
      out += ",\"default_acl\":" + q(f.default_acl);
    }
    out += "}";
  }
  out += state.files.empty() ? "]}\n" : "\n ]}\n";
  return out;
}

Result<State> parse_state(std::string_view text, const std::string& source) {
  const Reader r{source};
  auto doc = util::parse_json(text);
  if (!doc) {
    return r.bad(doc.error().message);
  }
  if (doc->kind() != util::Json::Kind::object) {
    return r.bad("not a JSON object");
  }
  ZT_TRY_ASSIGN(schema, r.str(*doc, "schema", "document"));
  if (schema != k_state_schema) {
    return r.bad("schema \"" + schema + "\"");
  }
  State state;
  ZT_TRY_ASSIGN(at, r.str(*doc, "provisioned_at", "document"));
  ZT_TRY_ASSIGN(profile, r.str(*doc, "profile", "document"));
  ZT_TRY_ASSIGN(version, r.str(*doc, "version", "document"));
  state.provisioned_at = at;
  state.profile = profile;
  state.version = version;
  ZT_TRY_ASSIGN(steps, r.arr(*doc, "steps", "document"));
  for (std::size_t i = 0; i < steps->size(); ++i) {
    const util::Json& s = (*steps)[i];
    const std::string where = "steps[" + std::to_string(i) + "]";
    StepRecord rec;
    ZT_TRY_ASSIGN(id, r.str(s, "id", where));
    ZT_TRY_ASSIGN(status, r.str(s, "status", where));
    ZT_TRY_ASSIGN(step_at, r.str(s, "provisioned_at", where));
    rec.id = id;
    rec.status = status;
    rec.provisioned_at = step_at;
    ZT_TRY_ASSIGN(changes, r.arr(s, "changes", where));
    for (const util::Json& c : *changes) {
      ZT_TRY_ASSIGN(target, r.str(c, "target", where + ".changes"));
      ZT_TRY_ASSIGN(summary, r.str(c, "summary", where + ".changes"));
      rec.changes.push_back({target, summary});
    }
    state.steps.push_back(std::move(rec));
  }
  ZT_TRY_ASSIGN(files, r.arr(*doc, "files", "document"));
  for (std::size_t i = 0; i < files->size(); ++i) {
    const util::Json& f = (*files)[i];
    const std::string where = "files[" + std::to_string(i) + "]";
    FileDigest d;
    ZT_TRY_ASSIGN(path, r.str(f, "path", where));
    ZT_TRY_ASSIGN(step, r.str(f, "step", where));
    ZT_TRY_ASSIGN(type_name, r.str(f, "type", where));
    auto type = file_type_from(type_name);
    if (!type) {
      return r.bad(where + ": unknown type \"" + type_name + "\"");
    }
    d.path = path;
    d.step = step;
    d.type = *type;
    if (d.type != host::FileType::missing) {
      ZT_TRY_ASSIGN(uid, r.u32(f, "uid", where));
      ZT_TRY_ASSIGN(gid, r.u32(f, "gid", where));
      ZT_TRY_ASSIGN(mode_text, r.str(f, "mode", where));
      ZT_TRY_ASSIGN(mode, parse_mode(r, mode_text, where));
      d.uid = uid;
      d.gid = gid;
      d.mode = mode;
    }
    if (d.type == host::FileType::regular) {
      ZT_TRY_ASSIGN(sha, r.str(f, "sha256", where));
      d.sha256 = sha;
    }
    if (f.find("acl") != nullptr) {
      ZT_TRY_ASSIGN(acl, r.str(f, "acl", where));
      d.acl = acl;
    }
    if (d.type == host::FileType::directory) {
      ZT_TRY_ASSIGN(def, r.str(f, "default_acl", where));
      d.default_acl = def;
    }
    state.files.push_back(std::move(d));
  }
  return state;
}

Result<std::optional<State>> load_state(const host::Fs& fs) {
  auto text = fs.read_file(k_state_path);
  if (!text) {
    if (text.error().code == Errc::not_found) {
      return std::optional<State>{};
    }
    return std::unexpected(text.error());
  }
  ZT_TRY_ASSIGN(state, parse_state(*text, fs.real_path(k_state_path).string()));
  return std::optional<State>{std::move(state)};
}

Result<void> save_state(host::Fs& fs, const State& state) {
  ZT_TRY_ASSIGN(dir, fs.lstat(k_state_dir));
  if (!dir.exists()) {
    ZT_TRY(fs.make_directories("/var/lib", 0755));
    ZT_TRY(fs.make_directory(k_state_dir, 0700));
  } else if (dir.type != host::FileType::directory) {
    return make_error(Errc::refused, std::string(k_state_dir) + ": " + host::describe(dir.type) +
                                         ", not a directory; remove it so ztagent can record its state");
  }
  host::WriteSpec spec;
  spec.mode = 0600;
  spec.uid = 0;
  spec.gid = 0;
  return fs.write_file(k_state_path, render_state(state), spec);
}

State record_provision(const std::optional<State>& previous,
                       const report::Report& report,
                       const std::vector<FileDigest>& digests,
                       const std::vector<std::string>& step_order,
                       const std::string& now,
                       const std::string& version) {
  State out;
  out.provisioned_at = now;
  out.profile = report.profile;
  out.version = version;

  std::map<std::string, StepRecord> fresh;
  for (const report::StepReport& s : report.steps) {
    if (s.status == report::StepStatus::changed || s.status == report::StepStatus::unchanged) {
      fresh[s.id] = StepRecord{s.id, std::string(report::to_string(s.status)), now, s.changes};
    }
  }
  std::vector<std::string> order = step_order;
  if (previous) {
    for (const StepRecord& s : previous->steps) {
      if (std::find(order.begin(), order.end(), s.id) == order.end()) {
        order.push_back(s.id);
      }
    }
  }
  const auto files_of = [](const std::vector<FileDigest>& files, const std::string& id) {
    std::vector<FileDigest> out_files;
    for (const FileDigest& d : files) {
      if (d.step == id) {
        out_files.push_back(d);
      }
    }
    return out_files;
  };
  bool anything_new = !previous;
  for (const std::string& id : order) {
    if (auto it = fresh.find(id); it != fresh.end()) {
      auto files = files_of(digests, id);
      const StepRecord* old = nullptr;
      if (previous) {
        for (const StepRecord& s : previous->steps) {
          if (s.id == id) {
            old = &s;
          }
        }
      }
      // An unchanged step whose paths still match what was recorded keeps its record (and time): a
      // provision that changes nothing leaves the state as it was.
      if (it->second.status == "unchanged" && old != nullptr && files_of(previous->files, id) == files) {
        out.steps.push_back(*old);
      } else {
        out.steps.push_back(it->second);
        anything_new = true;
      }
      out.files.insert(out.files.end(), files.begin(), files.end());
      continue;
    }
    if (!previous) {
      continue;
    }
    for (const StepRecord& s : previous->steps) {
      if (s.id == id) {
        out.steps.push_back(s);
      }
    }
    for (const FileDigest& d : previous->files) {
      if (d.step == id) {
        out.files.push_back(d);
      }
    }
  }
  if (!anything_new && previous->profile == out.profile) {
    out.provisioned_at = previous->provisioned_at;
    out.version = previous->version;
  }
  return out;
}

std::vector<std::string> diff_digest(const FileDigest& recorded, const FileDigest& current) {
  std::vector<std::string> out;
  if (recorded.type != current.type) {
    if (current.type == host::FileType::missing) {
      out.push_back("missing (was " + host::describe(recorded.type) + ")");
    } else if (recorded.type == host::FileType::missing) {
      out.push_back("now " + host::describe(current.type) + " (was missing)");
    } else {
      out.push_back("now " + host::describe(current.type) + " (was " + host::describe(recorded.type) + ")");
    }
    return out;
  }
  if (current.type == host::FileType::missing) {
    return out;
  }
  if (recorded.type == host::FileType::regular && recorded.sha256 != current.sha256) {
    out.push_back("content changed");
  }
  if (recorded.uid != current.uid || recorded.gid != current.gid) {
    out.push_back("owner " + std::to_string(recorded.uid) + ":" + std::to_string(recorded.gid) + " -> " +
                  std::to_string(current.uid) + ":" + std::to_string(current.gid));
  }
  if (recorded.mode != current.mode) {
    out.push_back("mode " + util::format_mode(recorded.mode) + " -> " + util::format_mode(current.mode));
  }
  diff_acl(recorded.acl, current.acl, false, out);
  diff_acl(recorded.default_acl, current.default_acl, true, out);
  return out;
}

std::vector<Drift> find_drift(const State& state, const host::Fs& fs) {
  std::map<std::string, std::string> step_time;
  for (const StepRecord& s : state.steps) {
    step_time[s.id] = s.provisioned_at;
  }
  std::vector<Drift> out;
  for (const FileDigest& recorded : state.files) {
    Drift d{recorded.path,
            recorded.step,
            step_time.count(recorded.step) != 0 ? step_time[recorded.step] : state.provisioned_at,
            {}};
    auto now = digest_path(fs, recorded.path, recorded.step);
    if (!now) {
      d.differences.push_back("cannot read: " + now.error().message);
    } else {
      d.differences = diff_digest(recorded, *now);
    }
    if (!d.differences.empty()) {
      out.push_back(std::move(d));
    }
  }
  return out;
}

std::string describe(const Drift& drift, const std::string& difference) {
  return drift.path + ": " + difference + " since the provision of " + drift.provisioned_at;
}

std::vector<report::CheckReport> drift_checks(const State& state, const std::vector<Drift>& drift) {
  std::vector<report::CheckReport> out;
  for (const FileDigest& f : state.files) {
    report::CheckReport c;
    c.id = "drift:" + f.path;
    c.step = f.step;
    auto it = std::find_if(drift.begin(), drift.end(), [&](const Drift& d) { return d.path == f.path; });
    std::string at = state.provisioned_at;
    for (const StepRecord& s : state.steps) {
      if (s.id == f.step) {
        at = s.provisioned_at;
      }
    }
    c.expected = "as recorded by the provision of " + at;
    if (it == drift.end()) {
      c.outcome = checks::Outcome::pass;
      c.actual = "unchanged";
    } else {
      c.outcome = checks::Outcome::fail;
      c.actual = util::join(it->differences, "; ");
      c.fix = "ztagent drift --remediate (re-runs step " + f.step + "), or ztagent provision --only " +
              f.step + " to restore and record it";
    }
    out.push_back(std::move(c));
  }
  return out;
}

} // namespace zt::state
