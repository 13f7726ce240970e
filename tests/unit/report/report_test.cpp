// SPDX-License-Identifier: Apache-2.0
#include "report/report.hpp"

#include "representative.hpp"
#include "support/catch.hpp"

#include <clocale>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// Golden files live in tests/data/report/. After an intended change to a writer, regenerate them with
//   ZTAGENT_UPDATE_GOLDEN=1 build-<you>/tests/ztagent_unit_tests "[report]"
// then review the diff (git diff tests/data/report/) before committing. Without the variable the test
// compares byte for byte and never writes.

namespace {

using zt::checks::Outcome;
using zt::report::CheckReport;
using zt::report::Color;
using zt::report::Report;
using zt::report::StepReport;
using zt::report::StepStatus;

using zt::test::check_golden;
using zt::test::representative_report;

// ---- small well-formedness checkers (python3 is not guaranteed where the tests run) -----------

bool valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto b0 = static_cast<std::uint8_t>(text[i]);
    std::size_t size = 1;
    std::uint32_t cp = b0;
    std::uint32_t min = 0;
    if (b0 >= 0x80) {
      if ((b0 & 0xE0) == 0xC0) {
        size = 2, cp = b0 & 0x1F, min = 0x80;
      } else if ((b0 & 0xF0) == 0xE0) {
        size = 3, cp = b0 & 0x0F, min = 0x800;
      } else if ((b0 & 0xF8) == 0xF0) {
        size = 4, cp = b0 & 0x07, min = 0x10000;
      } else {
        return false;
      }
      if (i + size > text.size()) {
        return false;
      }
      for (std::size_t k = 1; k < size; ++k) {
        const auto b = static_cast<std::uint8_t>(text[i + k]);
        if ((b & 0xC0) != 0x80) {
          return false;
        }
        cp = (cp << 6) | (b & 0x3F);
      }
      if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        return false;
      }
    }
    i += size;
  }
  return true;
}

/// A strict recursive-descent JSON validator (RFC 8259); returns an error or "" when valid.
class JsonChecker {
public:
  explicit JsonChecker(std::string_view text) : m_text(text) {}

  std::string check() {
    if (!valid_utf8(m_text)) {
      return "invalid UTF-8";
    }
    if (!value()) {
      return m_error + " at offset " + std::to_string(m_pos);
    }
    skip_ws();
    if (m_pos != m_text.size()) {
      return "trailing data at offset " + std::to_string(m_pos);
    }
    return {};
  }

private:
  bool fail(std::string message) {
    m_error = std::move(message);
    return false;
  }
  void skip_ws() {
    while (m_pos < m_text.size() && (m_text[m_pos] == ' ' || m_text[m_pos] == '\n' ||
                                     m_text[m_pos] == '\t' || m_text[m_pos] == '\r')) {
      ++m_pos;
    }
  }
  bool eat(char c) {
    skip_ws();
    if (m_pos < m_text.size() && m_text[m_pos] == c) {
      ++m_pos;
      return true;
    }
    return false;
  }
  bool value() {
    skip_ws();
    if (m_pos >= m_text.size()) {
      return fail("unexpected end");
    }
    const char c = m_text[m_pos];
    if (c == '{') {
      return object();
    }
    if (c == '[') {
      return array();
    }
    if (c == '"') {
      return string();
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
      return number();
    }
    for (std::string_view word : {"true", "false", "null"}) {
      if (m_text.substr(m_pos, word.size()) == word) {
        m_pos += word.size();
        return true;
      }
    }
    return fail("unexpected character");
  }
  bool object() {
    ++m_pos;
    if (eat('}')) {
      return true;
    }
    std::set<std::string> keys;
    do {
      skip_ws();
      const std::size_t start = m_pos;
      if (m_pos >= m_text.size() || m_text[m_pos] != '"' || !string()) {
        return fail("expected a key");
      }
      if (!keys.insert(std::string(m_text.substr(start, m_pos - start))).second) {
        return fail("duplicate key");
      }
      if (!eat(':')) {
        return fail("expected ':'");
      }
      if (!value()) {
        return false;
      }
    } while (eat(','));
    return eat('}') || fail("expected '}'");
  }
  bool array() {
    ++m_pos;
    if (eat(']')) {
      return true;
    }
    do {
      if (!value()) {
        return false;
      }
    } while (eat(','));
    return eat(']') || fail("expected ']'");
  }
  bool string() {
    ++m_pos;
    while (m_pos < m_text.size()) {
      const auto c = static_cast<unsigned char>(m_text[m_pos++]);
      if (c == '"') {
        return true;
      }
      if (c < 0x20) {
        return fail("raw control character in string");
      }
      if (c == '\\') {
        if (m_pos >= m_text.size()) {
          return fail("unterminated escape");
        }
        const char e = m_text[m_pos++];
        if (e == 'u') {
          for (int k = 0; k < 4; ++k) {
            if (m_pos >= m_text.size() || std::string_view("0123456789abcdefABCDEF").find(
                                              m_text[m_pos++]) == std::string_view::npos) {
              return fail("bad \\u escape");
            }
          }
        } else if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
          return fail("bad escape");
        }
      }
    }
    return fail("unterminated string");
  }
  bool number() {
    const auto digit = [&] { return m_pos < m_text.size() && m_text[m_pos] >= '0' && m_text[m_pos] <= '9'; };
    if (m_text[m_pos] == '-') {
      ++m_pos;
    }
    if (!digit()) {
      return fail("bad number");
    }
    if (m_text[m_pos] == '0') {
      ++m_pos;
    } else {
      while (digit()) {
        ++m_pos;
      }
    }
    if (m_pos < m_text.size() && m_text[m_pos] == '.') {
      ++m_pos;
      if (!digit()) {
        return fail("bad fraction");
      }
      while (digit()) {
        ++m_pos;
      }
    }
    if (m_pos < m_text.size() && (m_text[m_pos] == 'e' || m_text[m_pos] == 'E')) {
      return fail("exponent in a number (the contract says fixed notation)");
    }
    return true;
  }

  std::string_view m_text;
  std::size_t m_pos = 0;
  std::string m_error;
};

/// Checks the XML we emit: the declaration, balanced and properly nested tags, one root, quoted and
/// unique attributes, only the five named entities, no raw '<' or '>' in text, no illegal characters.
/// Returns an error or "" when well-formed.
std::string check_xml(std::string_view xml) {
  if (!valid_utf8(xml)) {
    return "invalid UTF-8";
  }
  for (const char c : xml) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 && c != '\t' && c != '\n' && c != '\r') {
      return "illegal control character";
    }
  }
  constexpr std::string_view k_decl = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  if (xml.substr(0, k_decl.size()) != k_decl) {
    return "missing XML declaration";
  }
  const auto entity_ok = [](std::string_view rest) {
    for (std::string_view e : {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"}) {
      if (rest.substr(0, e.size()) == e) {
        return true;
      }
    }
    return false;
  };
  const auto name_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.' || c == ':';
  };
  std::vector<std::string> stack;
  int roots = 0;
  std::size_t i = k_decl.size();
  while (i < xml.size()) {
    if (xml[i] != '<') {
      if (xml[i] == '>') {
        return "raw '>' in text at " + std::to_string(i);
      }
      if (stack.empty() && xml[i] != '\n' && xml[i] != ' ') {
        return "text outside the root element at " + std::to_string(i);
      }
      if (xml[i] == '&' && !entity_ok(xml.substr(i))) {
        return "bad entity in text at " + std::to_string(i);
      }
      ++i;
      continue;
    }
    ++i;
    const bool closing = i < xml.size() && xml[i] == '/';
    if (closing) {
      ++i;
    }
    const std::size_t name_start = i;
    while (i < xml.size() && name_char(xml[i])) {
      ++i;
    }
    const std::string name(xml.substr(name_start, i - name_start));
    if (name.empty()) {
      return "empty tag name at " + std::to_string(i);
    }
    if (closing) {
      if (i >= xml.size() || xml[i] != '>') {
        return "bad closing tag </" + name;
      }
      ++i;
      if (stack.empty() || stack.back() != name) {
        return "unbalanced </" + name + ">";
      }
      stack.pop_back();
      continue;
    }
    std::set<std::string> attributes;
    while (true) {
      while (i < xml.size() && xml[i] == ' ') {
        ++i;
      }
      if (i >= xml.size()) {
        return "unterminated tag <" + name;
      }
      if (xml[i] == '>' || xml.substr(i, 2) == "/>") {
        break;
      }
      const std::size_t attr_start = i;
      while (i < xml.size() && name_char(xml[i])) {
        ++i;
      }
      const std::string attr(xml.substr(attr_start, i - attr_start));
      if (attr.empty() || xml.substr(i, 2) != "=\"") {
        return "bad attribute in <" + name;
      }
      if (!attributes.insert(attr).second) {
        return "duplicate attribute " + attr + " in <" + name;
      }
      i += 2;
      while (i < xml.size() && xml[i] != '"') {
        if (xml[i] == '<') {
          return "raw '<' in attribute " + attr;
        }
        if (xml[i] == '&' && !entity_ok(xml.substr(i))) {
          return "bad entity in attribute " + attr;
        }
        ++i;
      }
      if (i >= xml.size()) {
        return "unterminated attribute " + attr;
      }
      ++i;
    }
    if (stack.empty()) {
      ++roots;
    }
    if (xml[i] == '>') {
      stack.push_back(name);
      ++i;
    } else {
      i += 2;
    }
  }
  if (!stack.empty()) {
    return "unclosed <" + stack.back() + ">";
  }
  if (roots != 1) {
    return "expected one root element, got " + std::to_string(roots);
  }
  return {};
}

} // namespace

// ---- escaping tables --------------------------------------------------------------------------

TEST_CASE("json_quote escapes quotes, backslashes and control characters", "[report][json_quote]") {
  const std::vector<std::pair<std::string, std::string>> table = {
      {"", "\"\""},
      {"plain", "\"plain\""},
      {"say \"hi\"", "\"say \\\"hi\\\"\""},
      {"C:\\dir", "\"C:\\\\dir\""},
      {"a\nb", "\"a\\nb\""},
      {"a\tb\rc", "\"a\\tb\\rc\""},
      {"\b\f", "\"\\b\\f\""},
      {std::string("nul\0x", 5), "\"nul\\u0000x\""},
      {"\x01\x1f", "\"\\u0001\\u001f\""},
      {"esc\x1b[31m", "\"esc\\u001b[31m\""},
      {"del\x7f", "\"del\x7f\""},
      {"/etc/subuid", "\"/etc/subuid\""},
      {"<&>'", "\"<&>'\""},
      {"Gr\xC3\xBC\xC3\x9F" "e \xE2\x9C\x93 \xF0\x9F\x90\xB3", "\"Gr\xC3\xBC\xC3\x9F" "e \xE2\x9C\x93 \xF0\x9F\x90\xB3\""},
      {"bad\xFF", "\"bad\\ufffd\""},
      {"\xC3", "\"\\ufffd\""},                           // truncated sequence
      {"\x80x", "\"\\ufffdx\""},                         // stray continuation byte
      {"\xC0\xAF", "\"\\ufffd\\ufffd\""},                // overlong '/'
      {"\xED\xA0\x80", "\"\\ufffd\\ufffd\\ufffd\""},     // UTF-16 surrogate
      {"\xF4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""},  // above U+10FFFF
      {"\xE2\x82" "A", "\"\\ufffd\\ufffdA\""},           // one invalid byte -> one U+FFFD
  };
  for (const auto& [input, expected] : table) {
    INFO("input: " << input);
    CHECK(zt::report::json_quote(input) == expected);
  }
}

TEST_CASE("xml_escape escapes markup and drops characters XML 1.0 forbids", "[report][xml_escape]") {
  const std::vector<std::pair<std::string, std::string>> table = {
      {"", ""},
      {"plain", "plain"},
      {"a & b", "a &amp; b"},
      {"<tag>", "&lt;tag&gt;"},
      {"say \"hi\" 'x'", "say &quot;hi&quot; &apos;x&apos;"},
      {"&amp;", "&amp;amp;"},
      {"keep\ttab\nnewline\rcr", "keep\ttab\nnewline\rcr"},
      {std::string("nul\0x", 5), "nulx"},
      {"bell\x07 esc\x1b[0m", "bell esc[0m"},
      {"\x01\x08\x0b\x0c\x1f", ""},
      {"del\x7f", "del\x7f"},
      {"Gr\xC3\xBC\xC3\x9F" "e \xE2\x9C\x93", "Gr\xC3\xBC\xC3\x9F" "e \xE2\x9C\x93"},
      {"nonchar\xEF\xBF\xBE\xEF\xBF\xBF", "nonchar"},  // U+FFFE, U+FFFF
      {"bad\xFF", "bad\xEF\xBF\xBD"},
      {"\xED\xA0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},
  };
  for (const auto& [input, expected] : table) {
    INFO("input: " << input);
    CHECK(zt::report::xml_escape(input) == expected);
  }
}

TEST_CASE("format_seconds is fixed with six decimals and a '.'", "[report][format_seconds]") {
  const std::vector<std::pair<double, std::string>> table = {
      {0.0, "0.000000"},
      {-0.0, "0.000000"},
      {0.031, "0.031000"},
      {0.000123, "0.000123"},
      {0.0001, "0.000100"},
      {1e-7, "0.000000"},
      {0.0000005001, "0.000001"},
      {1.5, "1.500000"},
      {12.0, "12.000000"},
      {3600.25, "3600.250000"},
      {1e9, "1000000000.000000"},
      {-1.0, "0.000000"},
      {std::numeric_limits<double>::quiet_NaN(), "0.000000"},
      {std::numeric_limits<double>::infinity(), "0.000000"},
  };
  for (const auto& [input, expected] : table) {
    INFO("input: " << input);
    CHECK(zt::report::format_seconds(input) == expected);
  }
}

TEST_CASE("format_duration drops trailing zeros and never uses exponents", "[report][format_seconds]") {
  const std::vector<std::pair<double, std::string>> table = {
      {0.0, "0"},
      {-0.0, "0"},
      {0.031, "0.031"},
      {0.0001, "0.0001"},
      {0.000123, "0.000123"},
      {0.002, "0.002"},
      {1e-7, "0"},
      {1.5, "1.5"},
      {12.0, "12"},
      {10.0, "10"},
      {100.05, "100.05"},
      {1e9, "1000000000"},
      {-3.0, "0"},
      {std::numeric_limits<double>::quiet_NaN(), "0"},
      {-std::numeric_limits<double>::infinity(), "0"},
  };
  for (const auto& [input, expected] : table) {
    INFO("input: " << input);
    CHECK(zt::report::format_duration(input) == expected);
  }
}

TEST_CASE("numbers use '.' even under a ',' decimal locale", "[report][format_seconds]") {
  const std::string previous = std::setlocale(LC_ALL, nullptr);
  if (std::setlocale(LC_ALL, "de_DE.UTF-8") == nullptr && std::setlocale(LC_ALL, "de_DE") == nullptr &&
      std::setlocale(LC_ALL, "fr_FR.UTF-8") == nullptr) {
    ZT_SKIP("no locale with a ',' decimal separator is installed");
  }
  const std::string seconds = zt::report::format_seconds(0.031);
  const std::string duration = zt::report::format_duration(1.5);
  const std::string json = zt::report::render_json(representative_report());
  std::setlocale(LC_ALL, previous.c_str());
  CHECK(seconds == "0.031000");
  CHECK(duration == "1.5");
  CHECK(json == zt::report::render_json(representative_report()));
}

// ---- counts -----------------------------------------------------------------------------------

TEST_CASE("count_steps and count_checks tally by status", "[report][counts]") {
  const Report report = representative_report();
  const zt::report::StepCounts steps = zt::report::count_steps(report);
  CHECK(steps.changed == 1);
  CHECK(steps.unchanged == 1);
  CHECK(steps.would_change == 1);
  CHECK(steps.failed == 2);
  CHECK(steps.skipped == 1);
  const zt::report::CheckCounts checks = zt::report::count_checks(report);
  CHECK(checks.pass == 2);
  CHECK(checks.fail == 2);
  CHECK(checks.skip == 1);
  CHECK(checks.error == 1);

  const Report empty;
  const zt::report::StepCounts no_steps = zt::report::count_steps(empty);
  CHECK(no_steps.changed + no_steps.unchanged + no_steps.would_change + no_steps.failed + no_steps.skipped == 0);
  const zt::report::CheckCounts no_checks = zt::report::count_checks(empty);
  CHECK(no_checks.pass + no_checks.fail + no_checks.skip + no_checks.error == 0);
}

TEST_CASE("to_string(StepStatus) gives the JSON status words", "[report][counts]") {
  CHECK(zt::report::to_string(StepStatus::unchanged) == "unchanged");
  CHECK(zt::report::to_string(StepStatus::changed) == "changed");
  CHECK(zt::report::to_string(StepStatus::would_change) == "would_change");
  CHECK(zt::report::to_string(StepStatus::failed) == "failed");
  CHECK(zt::report::to_string(StepStatus::skipped) == "skipped");
}

// ---- golden files -----------------------------------------------------------------------------

TEST_CASE("render_json matches the golden file and is valid JSON", "[report][json]") {
  const std::string json = zt::report::render_json(representative_report());
  CHECK(JsonChecker(json).check() == "");
  CHECK(json.find('\n') == json.size() - 1);  // one line, '\n'-terminated
  check_golden("representative.json", json);
}

TEST_CASE("render_junit matches the golden file and is well-formed", "[report][junit]") {
  const std::string xml = zt::report::render_junit(representative_report());
  CHECK(check_xml(xml) == "");
  check_golden("representative.xml", xml);
}

TEST_CASE("render_text matches the golden files, with and without color", "[report][text]") {
  const std::string plain = zt::report::render_text(representative_report(), Color::no);
  CHECK(plain.find('\x1b') == std::string::npos);
  check_golden("representative.txt", plain);
  const std::string colored = zt::report::render_text(representative_report(), Color::yes);
  check_golden("representative.color.txt", colored);
}

TEST_CASE("the golden-file checkers reject broken documents", "[report][golden]") {
  CHECK(JsonChecker("{\"a\":1}").check() == "");
  CHECK(JsonChecker("{\"a\":1,\"a\":2}").check() == "duplicate key at offset 10");
  CHECK(JsonChecker("{\"a\":\"x\ny\"}").check() == "raw control character in string at offset 8");
  CHECK(JsonChecker("{\"a\":1e-4}").check() ==
        "exponent in a number (the contract says fixed notation) at offset 6");
  constexpr std::string_view k_decl = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  CHECK(check_xml(std::string(k_decl) + "<a><b/></a>\n") == "");
  CHECK(check_xml(std::string(k_decl) + "<a><b></a>\n") == "unbalanced </a>");
  CHECK(check_xml(std::string(k_decl) + "<a x=\"<\"/>\n") == "raw '<' in attribute x");
  CHECK(check_xml(std::string(k_decl) + "<a>&nbsp;</a>\n") == "bad entity in text at 42");
  CHECK(check_xml(std::string(k_decl) + "<a/><b/>\n") == "expected one root element, got 2");
}

// ---- exact small outputs ----------------------------------------------------------------------

TEST_CASE("render_json: an empty report and the step error rule", "[report][json]") {
  Report report;
  report.command = "verify";
  report.profile = "debian-12";
  report.root = "/";
  report.started_at = "2026-11-22T05:00:00Z";
  CHECK(zt::report::render_json(report) ==
        "{\"schema\":\"ztagent.report/1\",\"command\":\"verify\",\"profile\":\"debian-12\",\"root\":\"/\","
        "\"started_at\":\"2026-11-22T05:00:00Z\",\"duration_s\":0,\"steps\":[],\"checks\":[],"
        "\"summary\":{\"steps\":{\"changed\":0,\"unchanged\":0,\"would_change\":0,\"failed\":0,"
        "\"skipped\":0},\"checks\":{\"pass\":0,\"fail\":0,\"skip\":0,\"error\":0,\"waived\":0}},"
        "\"hostname\":\"\",\"run\":{\"end\":\"completed\",\"exit_code\":0},\"waivers\":[]}\n");

  // "error" appears only on failed/skipped steps, and only when non-empty.
  report.command = "plan";
  report.steps = {StepReport{"a", StepStatus::changed, {}, 0.5, "ignored"},
                  StepReport{"b", StepStatus::failed, {}, 0, ""},
                  StepReport{"c", StepStatus::skipped, {}, 0, "because"}};
  CHECK(zt::report::render_json(report) ==
        "{\"schema\":\"ztagent.report/1\",\"command\":\"plan\",\"profile\":\"debian-12\",\"root\":\"/\","
        "\"started_at\":\"2026-11-22T05:00:00Z\",\"duration_s\":0,\"steps\":["
        "{\"id\":\"a\",\"status\":\"changed\",\"changes\":[],\"duration_s\":0.5},"
        "{\"id\":\"b\",\"status\":\"failed\",\"changes\":[],\"duration_s\":0},"
        "{\"id\":\"c\",\"status\":\"skipped\",\"changes\":[],\"duration_s\":0,\"error\":\"because\"}],"
        "\"checks\":[],\"summary\":{\"steps\":{\"changed\":1,\"unchanged\":0,\"would_change\":0,"
        "\"failed\":1,\"skipped\":1},\"checks\":{\"pass\":0,\"fail\":0,\"skip\":0,\"error\":0,\"waived\":0}},"
        "\"hostname\":\"\",\"run\":{\"end\":\"completed\",\"exit_code\":0},\"waivers\":[]}\n");
}

TEST_CASE("render_junit: a failed step without checks gets its own suite after the checks' suites",
          "[report][junit]") {
  Report report;
  report.command = "provision";
  report.duration_s = 1.25;
  report.steps = {StepReport{"users", StepStatus::failed, {}, 0.5, "users: useradd exited 9\nname in use"},
                  StepReport{"subids", StepStatus::unchanged, {}, 0.1, {}}};
  report.checks = {CheckReport{"subids.subuid-range", "subids", Outcome::pass, "x", "x", {}, 0.25, {}, {}}};
  const std::string xml = zt::report::render_junit(report);
  // No `skipped` on <testsuites> (junit-10.xsd); the suite times share the 1.25 s wall time in
  // proportion to their serial times 0.25 : 0.5; hostname and timestamp on every suite.
  CHECK(xml == "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<testsuites name=\"ztagent provision\" tests=\"2\" failures=\"0\" errors=\"1\" "
               "time=\"1.250000\">\n"
               "  <testsuite name=\"subids\" tests=\"1\" failures=\"0\" errors=\"0\" skipped=\"0\" "
               "time=\"0.416666\" hostname=\"localhost\" timestamp=\"\">\n"
               "    <testcase classname=\"ztagent.subids\" name=\"subids.subuid-range\" time=\"0.250000\"/>\n"
               "  </testsuite>\n"
               "  <testsuite name=\"users\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\" "
               "time=\"0.833334\" hostname=\"localhost\" timestamp=\"\">\n"
               "    <testcase classname=\"ztagent.users\" name=\"users.apply\" time=\"0.500000\">\n"
               "      <error message=\"users: useradd exited 9 name in use\" type=\"apply\"/>\n"
               "    </testcase>\n"
               "  </testsuite>\n"
               "</testsuites>\n");
  CHECK(check_xml(xml) == "");

  const Report empty;
  CHECK(zt::report::render_junit(empty) ==
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<testsuites name=\"ztagent \" tests=\"0\" failures=\"0\" errors=\"0\" "
        "time=\"0.000000\">\n"
        "</testsuites>\n");
}

TEST_CASE("render_text: a passing verify ends with the CI-readable summary", "[report][text]") {
  Report report;
  report.command = "verify";
  report.profile = "debian-12";
  report.root = "/";
  report.started_at = "2026-11-22T05:00:00Z";
  report.duration_s = 0.034;
  report.checks = {CheckReport{"subids.subuid-range", "subids", Outcome::pass, "x", "x", {}, 0.001, {}, {}},
                   CheckReport{"runtime.socket", "runtime", Outcome::skip, "active", "", {}, 0, {}, {}}};
  const std::string text = zt::report::render_text(report, Color::no);
  CHECK(text == "ztagent verify: profile debian-12, root /, started 2026-11-22T05:00:00Z\n"
                "\n"
                "PASS  subids.subuid-range\n"
                "SKIP  runtime.socket\n"
                "\n"
                "verify: 1 passed, 0 failed, 1 skipped, 0 errors; steps: 0 changed, 0 unchanged (0.03 s)\n");
  // Color never touches the last line, so "N passed, N failed" stays greppable.
  const std::string colored = zt::report::render_text(report, Color::yes);
  const std::string last = colored.substr(colored.rfind('\n', colored.size() - 2) + 1);
  CHECK(last == "verify: 1 passed, 0 failed, 1 skipped, 0 errors; steps: 0 changed, 0 unchanged (0.03 s)\n");
  CHECK(colored.find("\x1b[32mPASS\x1b[0m  subids.subuid-range\n") != std::string::npos);
}

TEST_CASE("render_text: a plan always says how many steps would change", "[report][text]") {
  Report report;
  report.command = "plan";
  report.profile = "p";
  report.root = "/r";
  report.started_at = "t";
  report.steps = {StepReport{"subids", StepStatus::unchanged, {}, 0.0016, {}}};
  CHECK(zt::report::render_text(report, Color::no) ==
        "ztagent plan: profile p, root /r, started t\n"
        "\n"
        "unchanged    subids (0.002 s)\n"
        "\n"
        "plan: 0 passed, 0 failed, 0 skipped, 0 errors; steps: 0 changed, 1 unchanged, 0 would change "
        "(0.00 s)\n");
}
