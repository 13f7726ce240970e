// SPDX-License-Identifier: Apache-2.0
#include "cli/run_output.hpp"

#include "cli/exit_codes.hpp"
#include "host/fs.hpp"
#include "util/strings.hpp"

#include <algorithm>
#include <iterator>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <spdlog/spdlog.h>
#include <unistd.h>

namespace zt::cli {

namespace {

std::filesystem::path absolute(const std::string& p) {
  std::error_code ec;
  auto abs = std::filesystem::absolute(p, ec);
  return (ec ? std::filesystem::path(p) : abs).lexically_normal();
}

/// What a renderer needs beyond the report: the wall clock and whether the run passed (exit 0).
struct ReportContext {
  double now_unix_seconds = 0;
  bool passed = false;
};

/// The last-success time to write into a Prometheus file: now after a passing run, else the value
/// the previous file at `path` held (none when there is no readable previous file).
std::optional<double> last_success(const ReportContext& context, const std::filesystem::path* path) {
  if (context.passed) {
    return context.now_unix_seconds;
  }
  if (path == nullptr) {
    return std::nullopt;
  }
  host::Fs local("/");
  auto previous = local.read_file(*path);
  if (!previous) {
    if (previous.error().code != Errc::not_found) {
      spdlog::warn("{}: cannot read the previous last-success time ({})", path->string(),
                   previous.error().message);
    }
    return std::nullopt;
  }
  return report::parse_last_success(*previous);
}

/// `path` is the file the report goes to (nullptr for stdout).
std::string render_report(Format format,
                          const report::Report& rep,
                          report::Color color,
                          const ReportContext& context,
                          const std::filesystem::path* path) {
  switch (format) {
  case Format::json:
    return report::render_json(rep);
  case Format::junit:
    return report::render_junit(rep);
  case Format::tap:
    return report::render_tap(rep);
  case Format::nagios:
    return report::render_nagios(rep);
  case Format::prometheus:
    return report::render_prometheus(rep, context.now_unix_seconds, last_success(context, path));
  case Format::text:
    return report::render_text(rep, color);
  }
  return report::render_text(rep, color);
}

} // namespace

std::string_view verb_name(Verb verb) {
  switch (verb) {
  case Verb::provision: return "provision";
  case Verb::plan: return "plan";
  case Verb::verify: return "verify";
  case Verb::drift: return "drift";
  case Verb::explain: return "explain";
  case Verb::list: return "list";
  case Verb::schedule: return "schedule";
  case Verb::profiles: return "profiles";
  case Verb::help: return "help";
  case Verb::version: return "version";
  }
  return "verify";
}

std::string utc_now_rfc3339() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

/// The host a report is about: the tree's /etc/hostname under --root (first line, bounded), else
/// this machine's name.
std::string report_hostname(const std::filesystem::path& root) {
  if (root != "/") {
    host::Fs tree(root);
    if (auto text = tree.read_file("/etc/hostname"); text) {
      std::string_view name = util::trim(std::string_view(*text).substr(0, std::min<std::size_t>(text->size(), 256)));
      name = name.substr(0, name.find('\n'));
      if (!name.empty()) {
        return std::string(name);
      }
    }
  }
  char buffer[256] = {};
  if (::gethostname(buffer, sizeof buffer - 1) == 0 && buffer[0] != '\0') {
    return buffer;
  }
  return "localhost";
}

Outputs outputs_of(const Options& o) {
  return Outputs{std::string(verb_name(o.verb)), o.format, o.output, o.reports, o.profile, o.root};
}

/// The outputs of a command line that did not parse, read the simple way (-f/--format, -o/--output,
/// --report), so that a monitoring caller still gets its plugin line or report file.
Outputs sniff_outputs(const std::vector<std::string>& args) {
  Outputs out;
  bool have_verb = false;
  const auto value = [&](std::size_t& i, std::string_view lng, std::string_view shrt) -> std::optional<std::string> {
    const std::string& a = args[i];
    if (a.size() > lng.size() && a.starts_with(lng) && a[lng.size()] == '=') {
      return a.substr(lng.size() + 1);
    }
    if ((a == lng || (!shrt.empty() && a == shrt)) && i + 1 < args.size()) {
      return args[++i];
    }
    if (!shrt.empty() && a.size() > 2 && a.starts_with(shrt)) {
      return a.substr(2);
    }
    return std::nullopt;
  };
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (auto f = value(i, "--format", "-f")) {
      if (auto parsed = parse_format(*f)) {
        out.format = *parsed;
      }
    } else if (auto file = value(i, "--output", "-o")) {
      out.output = *file;
    } else if (auto r = value(i, "--report", "")) {
      const std::size_t colon = r->find(':');
      if (colon != std::string::npos && colon + 1 < r->size()) {
        if (auto parsed = parse_format(r->substr(0, colon))) {
          out.reports.push_back({*parsed, r->substr(colon + 1)});
        }
      }
    } else if (!have_verb && !args[i].starts_with('-')) {
      out.command = args[i];
      have_verb = true;
    }
  }
  return out;
}

bool output_is_stdout(const std::optional<std::string>& output) {
  return !output || *output == "-";
}

std::vector<std::string> write_reports(const Outputs& out,
                                       const report::Report& rep,
                                       bool passed,
                                       bool color,
                                       bool stdout_too) {
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  const ReportContext context{now, passed};
  std::vector<std::string> failed;
  const auto write_file = [&](const std::filesystem::path& path, Format format) {
    host::Fs local("/");
    host::WriteSpec ws;
    ws.mode = 0644;
    const std::string text = render_report(format, rep, report::Color::no, context, &path);
    if (auto w = local.write_file(path, text, ws); !w) {
      std::fprintf(stderr, "ztagent: error: cannot write report: %s\n", w.error().message.c_str());
      failed.push_back(path.string());
    }
  };
  for (const ReportTarget& extra : out.reports) {
    write_file(absolute(extra.path), extra.format);
  }
  if (!output_is_stdout(out.output)) {
    write_file(absolute(*out.output), out.format);
  } else if (stdout_too) {
    const std::string text =
        render_report(out.format, rep, color ? report::Color::yes : report::Color::no, context, nullptr);
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
  }
  return failed;
}

std::string utc_today() {
  return utc_now_rfc3339().substr(0, 10);
}

void apply_waivers(report::Report& rep, const std::vector<profile::Waiver>& waivers, std::string_view today) {
  // Idempotent: a report that was waived before (verify, then again after --remediate) starts over.
  rep.waivers.clear();
  std::erase_if(rep.checks, [](const report::CheckReport& c) { return c.step == "waivers" && c.id.starts_with("waiver:"); });
  for (report::CheckReport& c : rep.checks) {
    c.waiver_reason.reset();
    c.waiver_expires.clear();
  }
  std::vector<report::CheckReport> expired;
  for (const profile::Waiver& w : waivers) {
    const std::string where = w.where.file + ":" + std::to_string(w.where.line) + ":" + std::to_string(w.where.col);
    if (!w.expires.empty() && w.expires < today) {
      report::CheckReport c;
      c.id = "waiver:" + w.check;
      c.step = "waivers";
      c.outcome = checks::Outcome::fail;
      c.expected = "waiver '" + w.check + "' valid on " + std::string(today);
      c.actual = "expired on " + w.expires + " (" + where + "; reason was: " + w.reason + ")";
      c.fix = "renew its expires date or remove the waiver at " + where +
              "; until then the checks it covered count as they are";
      expired.push_back(std::move(c));
      spdlog::error("waiver '{}' at {} expired on {}: it no longer applies", w.check, where, w.expires);
      continue;
    }
    report::WaiverReport listed{w.check, w.reason, w.expires, 0};
    for (report::CheckReport& c : rep.checks) {
      if (!c.waiver_reason && profile::glob_match(w.check, c.id)) {
        c.waiver_reason = w.reason;
        c.waiver_expires = w.expires;
        ++listed.matched;
      }
    }
    rep.waivers.push_back(std::move(listed));
  }
  rep.checks.insert(rep.checks.end(), std::make_move_iterator(expired.begin()),
                    std::make_move_iterator(expired.end()));
}

int nagios_exit(int code) {
  return code == k_exit_ok ? 0 : 3;
}

int stop_run(const Outputs& out, int code, std::string_view reason, const std::string& message, bool text_to_stdout) {
  report::Report rep;
  rep.command = out.command;
  rep.profile = out.profile;
  rep.root = absolute(out.root).string();
  rep.started_at = utc_now_rfc3339();
  rep.hostname = report_hostname(rep.root);
  rep.end = report::RunEnd::stopped;
  rep.exit_code = out.format == Format::nagios ? nagios_exit(code) : code;
  rep.stop_reason = std::string(reason);
  rep.stop_error = message;
  const bool stdout_too = out.format != Format::text || text_to_stdout;
  (void)write_reports(out, rep, false, false, stdout_too);
  return rep.exit_code;
}

} // namespace zt::cli
