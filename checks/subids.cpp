// SPDX-License-Identifier: Apache-2.0
#include "checks/subids.hpp"

#include "util/assert.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <utility>

namespace zt::checks {

namespace {

constexpr std::uint64_t k_max_id = 4294967294; // (uid_t)-1 is not a valid id
constexpr std::string_view k_login_defs = "/etc/login.defs";

std::string del_flag(SubIdKind kind) {
  return kind == SubIdKind::uid ? "--del-subuids" : "--del-subgids";
}

std::string add_flag(SubIdKind kind) {
  return kind == SubIdKind::uid ? "--add-subuids" : "--add-subgids";
}

std::string range_text(std::uint64_t start, std::uint64_t count) {
  return std::to_string(start) + "-" + std::to_string(start + count - 1);
}

std::string join_entries(const std::vector<SubIdEntry>& entries) {
  std::vector<std::string> parts;
  parts.reserve(entries.size());
  for (const auto& e : entries) {
    parts.push_back(e.to_text());
  }
  return util::join(parts, ", ");
}

SubIdLimits limits_of(const SubIdState& state, SubIdKind kind) {
  return kind == SubIdKind::uid ? state.limits.uid : state.limits.gid;
}

/// The user's entries that must go for one usable range to remain: every entry below `count`, and
/// every entry after the first big-enough one.
std::vector<SubIdEntry> entries_to_remove(const std::vector<SubIdEntry>& mine, std::uint64_t count) {
  std::vector<SubIdEntry> out;
  bool kept = false;
  for (const auto& e : mine) {
    if (!kept && e.count >= count) {
      kept = true;
      continue;
    }
    out.push_back(e);
  }
  return out;
}

std::vector<std::uint32_t> all_real_ids(const std::vector<host::AccountIds>& accounts) {
  std::vector<std::uint32_t> ids;
  ids.reserve(accounts.size() * 2);
  for (const auto& a : accounts) {
    ids.push_back(a.uid);
    ids.push_back(a.gid);
  }
  return ids;
}

std::string hit_text(const RealIdHit& hit, SubIdKind kind) {
  if (kind == SubIdKind::uid) {
    return "uid " + std::to_string(hit.id) + " of " + hit.account;
  }
  return "gid " + std::to_string(hit.id) + " of " + hit.account + "'s group";
}

/// The one usable existing range of the user in one file, nullopt when there is none, or an
/// Errc::invalid_config error naming what the admin must remove.
Result<std::optional<SubIdEntry>>
usable_range(const SubIdState& state, const SubIdsSpec& spec, SubIdKind kind) {
  const auto path = std::string(subid_path(kind));
  const auto mine = state.mine(kind, spec.user);
  if (mine.empty()) {
    return std::optional<SubIdEntry>{};
  }
  if (mine.size() > 1) {
    return make_error(Errc::invalid_config,
                      "subids: " + spec.user + " has " + std::to_string(mine.size()) + " ranges in " + path +
                          " (" + join_entries(mine) +
                          "); newuidmap needs exactly one and ztagent never removes ranges: run '" +
                          del_command(kind, entries_to_remove(mine, spec.count), spec.user) + "' and re-run");
  }
  const auto& entry = mine.front();
  if (entry.count < spec.count) {
    return make_error(Errc::invalid_config, "subids: " + spec.user + "'s range " + entry.to_text() + " in " +
                                                path + " has fewer than " + std::to_string(spec.count) +
                                                " ids and ztagent never rewrites ranges: run '" +
                                                del_command(kind, {entry}, spec.user) + "' and re-run");
  }
  for (const auto& other : state.entries(kind)) {
    if (!owned_by(other, spec.user, state.uid()) &&
        ranges_overlap(entry.start, entry.count, other.start, other.count)) {
      return make_error(Errc::invalid_config, "subids: " + spec.user + "'s range " + entry.to_text() +
                                                  " in " + path + " overlaps " + other.to_text() +
                                                  "; ztagent never rewrites ranges: remove one of them ('" +
                                                  del_command(kind, {entry}, spec.user) + "' or '" +
                                                  del_command(kind, {other}, other.owner) + "') and re-run");
    }
  }
  const auto hits = real_ids_in(entry, *state.accounts, kind);
  if (!hits.empty()) {
    return make_error(Errc::invalid_config, "subids: " + spec.user + "'s range " + entry.to_text() + " in " +
                                                path + " contains " + hit_text(hits.front(), kind) +
                                                "; ztagent never rewrites ranges: run '" +
                                                del_command(kind, {entry}, spec.user) + "' and re-run");
  }
  return std::optional<SubIdEntry>{entry};
}

/// True when [start, start + count) may be added to `kind`'s file: no overlap, no real id, in limits.
bool free_in(const SubIdState& state, SubIdKind kind, std::uint64_t start, std::uint64_t count) {
  const auto limits = limits_of(state, kind);
  if (start < limits.min || start + count - 1 > limits.max) {
    return false;
  }
  for (const auto& e : state.entries(kind)) {
    if (ranges_overlap(start, count, e.start, e.count)) {
      return false;
    }
  }
  const SubIdEntry probe{"", start, count, 0};
  return real_ids_in(probe, *state.accounts, kind).empty();
}

Result<std::uint64_t> compute_start(const SubIdState& state, const SubIdsSpec& spec, SubIdLimits limits) {
  std::vector<SubIdEntry> taken = *state.subuid;
  taken.insert(taken.end(), state.subgid->begin(), state.subgid->end());
  auto start = find_free_start(taken, all_real_ids(*state.accounts), spec.count, limits);
  if (!start) {
    return make_error(
        Errc::invalid_config,
        "subids: no free range of " + std::to_string(spec.count) + " ids between " +
            std::to_string(limits.min) + " and " + std::to_string(limits.max) +
            " in /etc/subuid and /etc/subgid; free one, or raise SUB_UID_MAX and SUB_GID_MAX in "
            "/etc/login.defs, and re-run");
  }
  return *start;
}

// --- checks ----------------------------------------------------------------------------------

std::string provision_fix(const SubIdState& state, const SubIdsSpec& spec, SubIdKind kind) {
  auto decision = decide_subids(state, spec);
  if (!decision) {
    return decision.error().message;
  }
  const auto start = kind == SubIdKind::uid ? decision->add_subuid : decision->add_subgid;
  if (!start) {
    return "run 'ztagent provision'";
  }
  return "run 'ztagent provision' (it runs 'usermod " + add_flag(kind) + " " +
         range_text(*start, spec.count) + " " + spec.user + "')";
}

class SubIdRangeCheck final : public BasicCheck {
public:
  SubIdRangeCheck(SubIdsSpec spec, SubIdKind kind)
      : BasicCheck(kind == SubIdKind::uid ? "subids.subuid-range" : "subids.subgid-range",
                   "subids",
                   spec.user + " has exactly one range of >= " + std::to_string(spec.count) + " ids in " +
                       std::string(subid_path(kind))),
        m_spec(std::move(spec)), m_kind(kind) {}

  [[nodiscard]] CheckResult run(const host::HostView& host) const override {
    const auto expected = "one range of >= " + std::to_string(m_spec.count) + " ids for " + m_spec.user;
    auto shared = shared_subid_state(host, m_spec.user);
    const Result<SubIdState>& state = *shared;
    if (!state) {
      return error(expected, "subids: " + state.error().message);
    }
    const auto mine = state->mine(m_kind, m_spec.user);
    if (mine.size() == 1 && mine.front().count >= m_spec.count) {
      return pass(expected, mine.front().to_text());
    }
    if (mine.empty()) {
      const auto actual = state->file_exists(m_kind) ? "no range for " + m_spec.user
                                                     : std::string(subid_path(m_kind)) + " is missing";
      return fail(expected, actual, provision_fix(*state, m_spec, m_kind));
    }
    return fail(expected, join_entries(mine),
                "run '" + del_command(m_kind, entries_to_remove(mine, m_spec.count), m_spec.user) +
                    "', then 'ztagent provision'");
  }

private:
  SubIdsSpec m_spec;
  SubIdKind m_kind;
};

class SubIdNoOverlapCheck final : public BasicCheck {
public:
  explicit SubIdNoOverlapCheck(SubIdsSpec spec)
      : BasicCheck("subids.no-overlap",
                   "subids",
                   spec.user + "'s ranges overlap no other entry in /etc/subuid or /etc/subgid"),
        m_spec(std::move(spec)) {}

  [[nodiscard]] CheckResult run(const host::HostView& host) const override {
    const std::string expected = "no overlap with other entries";
    auto shared = shared_subid_state(host, m_spec.user);
    const Result<SubIdState>& state = *shared;
    if (!state) {
      return error(expected, "subids: " + state.error().message);
    }
    std::vector<std::string> found;
    std::string fix;
    bool any = false;
    for (const auto kind : {SubIdKind::uid, SubIdKind::gid}) {
      const auto own = state->mine(kind, m_spec.user);
      any = any || !own.empty();
      for (const auto& o : find_overlaps(own, state->entries(kind), m_spec.user, state->uid())) {
        found.push_back(o.mine.to_text() + " overlaps " + o.other.to_text() + " in " +
                        std::string(subid_path(kind)));
        if (fix.empty()) {
          fix = "remove one of them ('" + del_command(kind, {o.mine}, m_spec.user) + "' or '" +
                del_command(kind, {o.other}, o.other.owner) + "'), then run 'ztagent provision'";
        }
      }
    }
    if (!any) {
      return skip(expected, m_spec.user + " has no ranges yet");
    }
    if (found.empty()) {
      return pass(expected, "no overlap");
    }
    return fail(expected, util::join(found, "; "), fix);
  }

private:
  SubIdsSpec m_spec;
};

class SubIdNoRealIdCheck final : public BasicCheck {
public:
  explicit SubIdNoRealIdCheck(SubIdsSpec spec)
      : BasicCheck("subids.no-real-uid",
                   "subids",
                   spec.user + "'s ranges contain no existing account's uid (or gid)"),
        m_spec(std::move(spec)) {}

  [[nodiscard]] CheckResult run(const host::HostView& host) const override {
    const std::string expected = "no account uid/gid inside " + m_spec.user + "'s ranges";
    auto shared = shared_subid_state(host, m_spec.user);
    const Result<SubIdState>& state = *shared;
    if (!state) {
      return error(expected, "subids: " + state.error().message);
    }
    std::vector<std::string> found;
    std::string fix;
    bool any = false;
    for (const auto kind : {SubIdKind::uid, SubIdKind::gid}) {
      for (const auto& mine : state->mine(kind, m_spec.user)) {
        any = true;
        for (const auto& hit : real_ids_in(mine, *state->accounts, kind)) {
          found.push_back(mine.to_text() + " in " + std::string(subid_path(kind)) + " contains " +
                          hit_text(hit, kind));
          if (fix.empty()) {
            fix = "run '" + del_command(kind, {mine}, m_spec.user) +
                  "', then 'ztagent provision' (it picks a free range)";
          }
        }
      }
    }
    if (!any) {
      return skip(expected, m_spec.user + " has no ranges yet");
    }
    if (found.empty()) {
      return pass(expected, "none");
    }
    return fail(expected, util::join(found, "; "), fix);
  }

private:
  SubIdsSpec m_spec;
};

/// "         0        999          1" -> "0 999 1".
std::string squeeze(std::string_view line) {
  std::string out;
  for (const auto word : util::split(util::trim(line), ' ')) {
    if (word.empty()) {
      continue;
    }
    if (!out.empty()) {
      out += ' ';
    }
    out += util::trim(word);
  }
  return out;
}

class SubIdUidMapCheck final : public BasicCheck {
public:
  explicit SubIdUidMapCheck(SubIdsSpec spec)
      : BasicCheck("subids.uid-map",
                   "subids",
                   "'podman unshare cat /proc/self/uid_map' as " + spec.user +
                       " shows two lines (own uid and the subuid range)"),
        m_spec(std::move(spec)) {}
  [[nodiscard]] bool runtime() const override { return true; }

  [[nodiscard]] CheckResult run(const host::HostView& host) const override {
    const std::string expected = "2 lines in the user namespace's uid_map";
    if (!host.live()) {
      return skip(expected, "not the live host (--root): no user namespace to inspect");
    }
    auto podman = host.fs().stat("/usr/bin/podman");
    if (!podman) {
      return error(expected, "subids: " + podman.error().message);
    }
    if (!podman->exists()) {
      return skip(expected, "podman is not installed (/usr/bin/podman missing)");
    }
    auto account = host.accounts().user(m_spec.user);
    if (!account) {
      return error(expected, "subids: " + account.error().message);
    }
    if (!*account) {
      return fail(expected, "user " + m_spec.user + " does not exist", "run 'ztagent provision'");
    }
    auto runtime_dir = host.fs().stat("/run/user/" + std::to_string((*account)->uid));
    const bool have_runtime_dir = runtime_dir && runtime_dir->type == host::FileType::directory;
    const auto cmd = podman_as_user(**account, {"unshare", "cat", "/proc/self/uid_map"},
                                    host::Effect::read_only, have_runtime_dir);
    const std::string fix = "run 'runuser -u " + m_spec.user +
                            " -- podman system migrate' and check /etc/subuid, /etc/subgid and that "
                            "newuidmap/newgidmap are setuid";
    auto result = host.runner().run(cmd);
    if (!result) {
      return error(expected, "subids: " + result.error().message);
    }
    if (result->exit_code != 0) {
      const auto err_lines = util::lines(result->err);
      const auto first =
          err_lines.empty() ? std::string() : ": " + std::string(util::trim(err_lines.front()));
      return fail(expected, "podman unshare exited " + std::to_string(result->exit_code) + first, fix);
    }
    std::vector<std::string> map_lines;
    for (const auto line : util::lines(result->out)) {
      if (!util::trim(line).empty()) {
        map_lines.push_back(squeeze(line));
      }
    }
    const auto actual = std::to_string(map_lines.size()) + " line(s): " + util::join(map_lines, " | ");
    if (map_lines.size() == 2) {
      return pass(expected, actual);
    }
    return fail(expected, actual, fix);
  }

private:
  SubIdsSpec m_spec;
};

} // namespace

std::string_view subid_path(SubIdKind kind) {
  return kind == SubIdKind::uid ? "/etc/subuid" : "/etc/subgid";
}

std::string SubIdEntry::to_text() const {
  return owner + ":" + std::to_string(start) + ":" + std::to_string(count);
}

std::string SubIdEntry::range_text() const {
  return checks::range_text(start, count);
}

Result<std::vector<SubIdEntry>> parse_subid_file(std::string_view text, std::string_view path) {
  std::vector<SubIdEntry> out;
  // One allocation for the entries (100,000 lines and more on big hosts); none per line.
  out.reserve(util::count_char(text, '\n') + 1);
  std::array<std::string_view, 3> fields;
  std::size_t number = 0;
  std::size_t pos = 0;
  while (const auto raw = util::next_line(text, pos)) {
    ++number;
    const auto line = util::trim(*raw);
    if (line.empty() || line.front() == '#') {
      continue;
    }
    auto bad = [&](std::string_view reason) {
      return make_error(Errc::parse,
                        std::string(path) + ":" + std::to_string(number) + ": " + std::string(reason));
    };
    if (util::split_into(line, ':', fields) != 3) {
      return bad("expected owner:start:count");
    }
    if (fields[0].empty()) {
      return bad("empty owner");
    }
    const auto start = util::parse_uint(fields[1]);
    if (!start) {
      return bad("start is not a decimal number");
    }
    const auto count = util::parse_uint(fields[2]);
    if (!count) {
      return bad("count is not a decimal number");
    }
    if (*count == 0) {
      return bad("count is 0");
    }
    if (*start > k_max_id || *count > k_max_id || *start + *count - 1 > k_max_id) {
      return bad("range ends beyond the largest id 4294967294");
    }
    out.push_back(SubIdEntry{std::string(fields[0]), *start, *count, number});
  }
  return out;
}

Result<SubIdLoginDefs> parse_login_defs_subids(std::string_view text) {
  SubIdLoginDefs defs;
  std::size_t number = 0;
  for (const auto raw : util::lines(text)) {
    ++number;
    const auto line = util::trim(raw);
    if (line.empty() || line.front() == '#') {
      continue;
    }
    const auto ws = line.find_first_of(" \t");
    if (ws == std::string_view::npos) {
      continue;
    }
    const auto key = line.substr(0, ws);
    std::uint64_t* target = nullptr;
    if (key == "SUB_UID_MIN") {
      target = &defs.uid.min;
    } else if (key == "SUB_UID_MAX") {
      target = &defs.uid.max;
    } else if (key == "SUB_GID_MIN") {
      target = &defs.gid.min;
    } else if (key == "SUB_GID_MAX") {
      target = &defs.gid.max;
    } else {
      continue;
    }
    const auto value = util::parse_uint(util::trim(line.substr(ws)));
    if (!value || *value > k_max_id) {
      return make_error(Errc::parse, std::string(k_login_defs) + ":" + std::to_string(number) + ": " +
                                         std::string(key) + " is not a decimal id");
    }
    *target = *value;
  }
  if (defs.uid.min > defs.uid.max) {
    return make_error(Errc::parse, std::string(k_login_defs) + ": SUB_UID_MIN " +
                                       std::to_string(defs.uid.min) + " is above SUB_UID_MAX " +
                                       std::to_string(defs.uid.max));
  }
  if (defs.gid.min > defs.gid.max) {
    return make_error(Errc::parse, std::string(k_login_defs) + ": SUB_GID_MIN " +
                                       std::to_string(defs.gid.min) + " is above SUB_GID_MAX " +
                                       std::to_string(defs.gid.max));
  }
  return defs;
}

bool owned_by(const SubIdEntry& entry, std::string_view user, std::optional<std::uint32_t> uid) {
  // Called for every line, often several times per run: the first byte rejects most other owners
  // without a memcmp call.
  if (entry.owner.size() == user.size() && (user.empty() || entry.owner.front() == user.front()) &&
      entry.owner == user) {
    return true;
  }
  if (!uid || entry.owner.empty() || entry.owner.front() < '0' || entry.owner.front() > '9') {
    return false;
  }
  // The owner spelled as the uid, without building a string per entry (called for every line).
  std::array<char, 16> digits{};
  const auto end = std::to_chars(digits.data(), digits.data() + digits.size(), *uid).ptr;
  return entry.owner == std::string_view(digits.data(), static_cast<std::size_t>(end - digits.data()));
}

std::vector<SubIdEntry>
entries_of(const std::vector<SubIdEntry>& entries, std::string_view user, std::optional<std::uint32_t> uid) {
  std::vector<SubIdEntry> out;
  for (const auto& e : entries) {
    if (owned_by(e, user, uid)) {
      out.push_back(e);
    }
  }
  return out;
}

bool ranges_overlap(std::uint64_t a_start,
                    std::uint64_t a_count,
                    std::uint64_t b_start,
                    std::uint64_t b_count) {
  if (a_count == 0 || b_count == 0) {
    return false;
  }
  return a_start < b_start + b_count && b_start < a_start + a_count;
}

std::vector<SubIdOverlap> find_overlaps(const std::vector<SubIdEntry>& entries,
                                        std::string_view user,
                                        std::optional<std::uint32_t> uid) {
  return find_overlaps(entries_of(entries, user, uid), entries, user, uid);
}

std::vector<SubIdOverlap> find_overlaps(const std::vector<SubIdEntry>& own,
                                        const std::vector<SubIdEntry>& entries,
                                        std::string_view user,
                                        std::optional<std::uint32_t> uid) {
  std::vector<SubIdOverlap> out;
  for (const auto& mine : own) {
    for (const auto& other : entries) {
      // The cheap test first: on a big host almost no line overlaps.
      if (ranges_overlap(mine.start, mine.count, other.start, other.count) && !owned_by(other, user, uid)) {
        out.push_back({mine, other});
      }
    }
  }
  return out;
}

std::vector<RealIdHit>
real_ids_in(const SubIdEntry& entry, const std::vector<host::AccountIds>& accounts, SubIdKind kind) {
  std::vector<RealIdHit> out;
  for (const auto& a : accounts) {
    const std::uint64_t id = kind == SubIdKind::uid ? a.uid : a.gid;
    if (id >= entry.start && id <= entry.last()) {
      out.push_back({static_cast<std::uint32_t>(id), std::string(a.name)});
    }
  }
  return out;
}

std::optional<std::uint64_t> find_free_start(const std::vector<SubIdEntry>& taken,
                                             const std::vector<std::uint32_t>& real_ids,
                                             std::uint64_t count,
                                             SubIdLimits limits) {
  ZT_ASSERT(count > 0);
  std::uint64_t start = limits.min;
  while (start + count - 1 <= limits.max) {
    // On a conflict jump past it to the next aligned start: at most one step per conflicting entry.
    std::uint64_t next = start;
    for (const auto& e : taken) {
      if (ranges_overlap(start, count, e.start, e.count)) {
        next = std::max(next, e.start + e.count);
      }
    }
    for (const auto id : real_ids) {
      if (id >= start && id < start + count) {
        next = std::max<std::uint64_t>(next, std::uint64_t{id} + 1);
      }
    }
    if (next == start) {
      return start;
    }
    start = limits.min + (next - limits.min + k_subid_alignment - 1) / k_subid_alignment * k_subid_alignment;
  }
  return std::nullopt;
}

std::shared_ptr<const Result<std::optional<std::vector<SubIdEntry>>>> read_subid_file(const host::HostView& host,
                                                                                      SubIdKind kind) {
  const std::string_view path = subid_path(kind);
  return host::cached<std::optional<std::vector<SubIdEntry>>>(
      host.cache(), "subids:" + std::string(path),
      [&]() -> Result<std::optional<std::vector<SubIdEntry>>> {
        // The run's one look at the file (shared with the drift fingerprint). Anything but a
        // regular file or nothing (a symlink, which a chroot would follow; a FIFO, refused; a
        // symlink among the parents) goes through read_file, which says what it is.
        auto snap = host::inspect_once(host.fs(), host.cache(), path);
        if (*snap && (*snap)->st.type == host::FileType::missing) {
          return std::optional<std::vector<SubIdEntry>>();
        }
        if (*snap && (*snap)->st.type == host::FileType::regular) {
          ZT_TRY_ASSIGN(entries, parse_subid_file((*snap)->content, path));
          return std::optional<std::vector<SubIdEntry>>(std::move(entries));
        }
        auto text = host.fs().read_file(path);
        if (!text && text.error().code == Errc::not_found) {
          return std::optional<std::vector<SubIdEntry>>();
        }
        if (!text) {
          return std::unexpected(text.error());
        }
        ZT_TRY_ASSIGN(entries, parse_subid_file(*text, path));
        return std::optional<std::vector<SubIdEntry>>(std::move(entries));
      });
}

std::vector<SubIdEntry> SubIdState::mine(SubIdKind kind, std::string_view user) const {
  if (m_indexed_user && *m_indexed_user == user && m_indexed_subuid == subuid.get() &&
      m_indexed_subgid == subgid.get() && m_indexed_uid == uid()) {
    return kind == SubIdKind::uid ? m_own_subuid : m_own_subgid;
  }
  return entries_of(entries(kind), user, uid());
}

void SubIdState::index_own(std::string_view user) {
  m_own_subuid = entries_of(*subuid, user, uid());
  m_own_subgid = entries_of(*subgid, user, uid());
  m_indexed_user = std::string(user);
  m_indexed_subuid = subuid.get();
  m_indexed_subgid = subgid.get();
  m_indexed_uid = uid();
}

namespace {

Result<SubIdState> load_subid_state(const host::HostView& host, std::string_view user) {
  SubIdState state;
  ZT_TRY_ASSIGN(account, host.accounts().user(user));
  state.account = std::move(account);
  ZT_TRY_ASSIGN(accounts, host.accounts().shared_users());
  state.accounts = std::move(accounts);
  for (const auto kind : {SubIdKind::uid, SubIdKind::gid}) {
    auto file = read_subid_file(host, kind);
    if (!*file) {
      return std::unexpected(file->error());
    }
    if (!**file) {
      continue;
    }
    // Shares the parsed file (the cache's entry, or the uncached parse) instead of copying it.
    const std::vector<SubIdEntry>& entries = ***file;
    (kind == SubIdKind::uid ? state.subuid : state.subgid) =
        std::shared_ptr<const std::vector<SubIdEntry>>(std::move(file), &entries);
    (kind == SubIdKind::uid ? state.subuid_exists : state.subgid_exists) = true;
  }
  auto defs = host.fs().read_file(k_login_defs);
  if (defs) {
    ZT_TRY_ASSIGN(limits, parse_login_defs_subids(*defs));
    state.limits = limits;
  } else if (defs.error().code != Errc::not_found) {
    return std::unexpected(defs.error());
  }
  state.index_own(user);
  return state;
}

} // namespace

std::shared_ptr<const Result<SubIdState>> shared_subid_state(const host::HostView& host, std::string_view user) {
  return host::cached<SubIdState>(host.cache(), "subids:state:" + std::string(user),
                                  [&] { return load_subid_state(host, user); });
}

Result<SubIdState> read_subid_state(const host::HostView& host, std::string_view user) {
  return *shared_subid_state(host, user);
}

Result<SubIdDecision> decide_subids(const SubIdState& state, const SubIdsSpec& spec) {
  ZT_TRY_ASSIGN(uid_range, usable_range(state, spec, SubIdKind::uid));
  ZT_TRY_ASSIGN(gid_range, usable_range(state, spec, SubIdKind::gid));
  SubIdDecision decision;
  if (uid_range && gid_range) {
    return decision;
  }
  if (!uid_range && !gid_range) {
    // One start for both files, free in both.
    const SubIdLimits both{std::max(state.limits.uid.min, state.limits.gid.min),
                           std::min(state.limits.uid.max, state.limits.gid.max)};
    ZT_TRY_ASSIGN(start, compute_start(state, spec, both));
    decision.add_subuid = start;
    decision.add_subgid = start;
    return decision;
  }
  // One file has the range: reuse its start for the other file when it is free there.
  const auto missing = uid_range ? SubIdKind::gid : SubIdKind::uid;
  const auto& present = uid_range ? *uid_range : *gid_range;
  std::uint64_t start = present.start;
  if (!free_in(state, missing, start, spec.count)) {
    ZT_TRY_ASSIGN(computed, compute_start(state, spec, limits_of(state, missing)));
    start = computed;
  }
  (missing == SubIdKind::uid ? decision.add_subuid : decision.add_subgid) = start;
  return decision;
}

std::string del_command(SubIdKind kind, const std::vector<SubIdEntry>& entries, std::string_view user) {
  std::string out = "usermod";
  for (const auto& e : entries) {
    out += " " + del_flag(kind) + " " + e.range_text();
  }
  return out + " " + std::string(user);
}

host::Command podman_as_user(const host::Account& account,
                             std::vector<std::string> podman_args,
                             host::Effect effect,
                             bool runtime_dir_exists) {
  host::Command cmd;
  cmd.argv = {"runuser", "-u", account.name, "--", "podman"};
  cmd.argv.insert(cmd.argv.end(), std::make_move_iterator(podman_args.begin()),
                  std::make_move_iterator(podman_args.end()));
  cmd.effect = effect;
  if (runtime_dir_exists) {
    cmd.env.emplace_back("XDG_RUNTIME_DIR", "/run/user/" + std::to_string(account.uid));
  }
  return cmd;
}

std::vector<std::unique_ptr<Check>> make_subids_checks(const SubIdsSpec& spec) {
  std::vector<std::unique_ptr<Check>> out;
  out.push_back(std::make_unique<SubIdRangeCheck>(spec, SubIdKind::uid));
  out.push_back(std::make_unique<SubIdRangeCheck>(spec, SubIdKind::gid));
  out.push_back(std::make_unique<SubIdNoOverlapCheck>(spec));
  out.push_back(std::make_unique<SubIdNoRealIdCheck>(spec));
  out.push_back(std::make_unique<SubIdUidMapCheck>(spec));
  return out;
}

} // namespace zt::checks
