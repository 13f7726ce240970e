// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "checks/check.hpp"
#include "provisioners/provisioner.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace zt::report {

enum class StepStatus { unchanged, changed, would_change, failed, skipped };

struct StepReport {
  std::string id;
  StepStatus status = StepStatus::unchanged;
  std::vector<provisioners::Change> changes;
  double duration_s = 0;
  std::string error;  // why it failed or was skipped; empty otherwise
};

struct CheckReport {
  std::string id;
  std::string step;
  checks::Outcome outcome = checks::Outcome::error;
  std::string expected;
  std::string actual;
  std::string fix;
  double duration_s = 0;
};

struct Report {
  std::string command;     // provision | plan | verify
  std::string profile;     // profile name
  std::string root;        // "/" or the --root directory
  std::string started_at;  // RFC 3339 UTC, "2026-11-22T05:00:00Z"
  double duration_s = 0;
  std::vector<StepReport> steps;
  std::vector<CheckReport> checks;
};

struct StepCounts {
  int changed = 0, unchanged = 0, would_change = 0, failed = 0, skipped = 0;
};
struct CheckCounts {
  int pass = 0, fail = 0, skip = 0, error = 0;
};
[[nodiscard]] StepCounts count_steps(const Report& report);
[[nodiscard]] CheckCounts count_checks(const Report& report);
[[nodiscard]] std::string_view to_string(StepStatus status);

enum class Color { no, yes };

/// Pure Report -> text functions (golden files in tests/data/).
[[nodiscard]] std::string render_text(const Report& report, Color color);
/// The ztagent.report/1 JSON contract (see README.md). One line, '\n'-terminated.
[[nodiscard]] std::string render_json(const Report& report);
/// JUnit XML: testsuites > testsuite (one per step) > testcase (one per check).
[[nodiscard]] std::string render_junit(const Report& report);

/// JSON string escaping (quotes included in the output): "\"a\\nb\"".
[[nodiscard]] std::string json_quote(std::string_view text);
/// XML attribute/text escaping (&, <, >, ", ', and control characters dropped or escaped).
[[nodiscard]] std::string xml_escape(std::string_view text);
/// "%.6g"-free fixed seconds with a '.' decimal regardless of locale: 0.031 -> "0.031000".
[[nodiscard]] std::string format_seconds(double seconds);
/// Like format_seconds without trailing zeros (JSON "duration_s"): 0.031 -> "0.031", 0.0001 ->
/// "0.0001", 0 -> "0", 12 -> "12"; never exponent notation. Negative or non-finite -> "0".
[[nodiscard]] std::string format_duration(double seconds);

} // namespace zt::report
