// SPDX-License-Identifier: Apache-2.0
#include "run/orchestrator.hpp"

#include "support/catch.hpp"
#include "support/fake_runner.hpp"
#include "support/temp_root.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

namespace {

using zt::Result;
using zt::provisioners::Change;
using zt::provisioners::Plan;
using zt::provisioners::Step;
using zt::report::StepStatus;

/// A provisioner over one marker file in the tree: wants it to hold `want`; `sticky` never converges.
class MarkerFile final : public zt::provisioners::Provisioner {
public:
  MarkerFile(std::string id, std::string want, bool sticky = false, bool fail_apply = false)
      : m_id(std::move(id)), m_want(std::move(want)), m_sticky(sticky), m_fail_apply(fail_apply) {}
  std::string_view id() const override { return m_id; }
  Result<Plan> plan(const zt::host::HostView& host) const override {
    ++plans;
    auto text = host.fs().read_file("/marker-" + m_id);
    if ((text && *text == m_want) && !m_sticky) {
      return Plan{};
    }
    return Plan{{Change{"/marker-" + m_id, "write " + m_want}}};
  }
  Result<void> apply(zt::host::Host& host, const Plan& /*plan*/) override {
    ++applies;
    if (m_fail_apply) {
      return zt::make_error(zt::Errc::command_failed, m_id + ": boom");
    }
    return host.fs().write_file("/marker-" + m_id, m_want, {});
  }
  mutable int plans = 0;
  int applies = 0;

private:
  std::string m_id, m_want;
  bool m_sticky, m_fail_apply;
};

class MarkerCheck final : public zt::checks::Check {
public:
  MarkerCheck(std::string step, std::string want, bool runtime = false)
      : m_step(std::move(step)), m_id(m_step + ".marker"), m_want(std::move(want)), m_runtime(runtime) {}
  std::string_view id() const override { return m_id; }
  std::string_view step() const override { return m_step; }
  std::string_view description() const override { return "marker file holds the wanted text"; }
  bool runtime() const override { return m_runtime; }
  zt::checks::CheckResult run(const zt::host::HostView& host) const override {
    auto text = host.fs().read_file("/marker-" + m_step);
    if (text && *text == m_want) {
      return zt::checks::pass(m_want, *text);
    }
    return zt::checks::fail(m_want, text ? *text : "missing", "ztagent provision --only " + m_step);
  }

private:
  std::string m_step, m_id, m_want;
  bool m_runtime;
};

Step make_step(std::string id, std::unique_ptr<zt::provisioners::Provisioner> p, std::string want) {
  Step s;
  s.id = id;
  s.provisioner = std::move(p);
  s.checks.push_back(std::make_unique<MarkerCheck>(id, std::move(want)));
  return s;
}

std::vector<Step> two_steps() {
  std::vector<Step> steps;
  steps.push_back(make_step("one", std::make_unique<MarkerFile>("one", "1"), "1"));
  steps.push_back(make_step("two", std::make_unique<MarkerFile>("two", "2"), "2"));
  return steps;
}

zt::run::RunOptions opts(zt::run::Command c) {
  zt::run::RunOptions o;
  o.command = c;
  o.jobs = 1;
  return o;
}

} // namespace

TEST_CASE("Orchestrator: provision converges, then a second run changes nothing", "[run][orchestrator]") {
  zt::test::TempRoot root;
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  auto steps = two_steps();

  auto first = zt::run::execute(steps, host, opts(zt::run::Command::provision), "test");
  REQUIRE(first.steps.size() == 2);
  CHECK(first.steps[0].status == StepStatus::changed);
  CHECK(first.steps[0].changes == std::vector<Change>{{"/marker-one", "write 1"}});
  CHECK(first.steps[1].status == StepStatus::changed);
  REQUIRE(first.checks.size() == 2);
  CHECK(first.checks[0].outcome == zt::checks::Outcome::pass);
  CHECK(first.checks[1].outcome == zt::checks::Outcome::pass);
  CHECK(first.command == "provision");
  CHECK(first.profile == "test");
  CHECK(first.root == root.str());
  CHECK_FALSE(zt::run::any_step_failed(first));

  auto second = zt::run::execute(steps, host, opts(zt::run::Command::provision), "test");
  CHECK(second.steps[0].status == StepStatus::unchanged);
  CHECK(second.steps[1].status == StepStatus::unchanged);
  CHECK(zt::report::count_steps(second).changed == 0);
  CHECK(runner.calls().empty());
}

TEST_CASE("Orchestrator: plan reports would_change and touches nothing", "[run][orchestrator]") {
  zt::test::TempRoot root;
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  auto steps = two_steps();
  auto rep = zt::run::execute(steps, host, opts(zt::run::Command::plan), "test");
  REQUIRE(rep.steps.size() == 2);
  CHECK(rep.steps[0].status == StepStatus::would_change);
  CHECK(rep.steps[1].status == StepStatus::would_change);
  CHECK(rep.checks.empty());
  CHECK_FALSE(root.exists("/marker-one"));
  CHECK_FALSE(root.exists("/marker-two"));
  CHECK(static_cast<MarkerFile&>(*steps[0].provisioner).applies == 0);
}

TEST_CASE("Orchestrator: a step whose plan stays non-empty fails as not converged", "[run][orchestrator]") {
  zt::test::TempRoot root;
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  std::vector<Step> steps;
  steps.push_back(make_step("one", std::make_unique<MarkerFile>("one", "1", /*sticky=*/true), "1"));
  steps.push_back(make_step("two", std::make_unique<MarkerFile>("two", "2"), "2"));
  auto rep = zt::run::execute(steps, host, opts(zt::run::Command::provision), "test");
  CHECK(rep.steps[0].status == StepStatus::failed);
  CHECK(rep.steps[0].error == "not converged: after apply it still wants to change /marker-one: write 1");
  CHECK(rep.steps[1].status == StepStatus::skipped);
  CHECK(rep.steps[1].error == "skipped because step 'one' failed (use --keep-going to continue)");
  CHECK_FALSE(root.exists("/marker-two"));
  // Checks always all run, so the report shows what is still wrong.
  REQUIRE(rep.checks.size() == 2);
  CHECK(rep.checks[1].outcome == zt::checks::Outcome::fail);
  CHECK(zt::run::any_step_failed(rep));
  CHECK(zt::run::any_check_failed(rep));
}

TEST_CASE("Orchestrator: --keep-going runs later steps after a failed apply", "[run][orchestrator]") {
  zt::test::TempRoot root;
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  std::vector<Step> steps;
  steps.push_back(make_step("one", std::make_unique<MarkerFile>("one", "1", false, /*fail_apply=*/true), "1"));
  steps.push_back(make_step("two", std::make_unique<MarkerFile>("two", "2"), "2"));
  auto o = opts(zt::run::Command::provision);
  o.keep_going = true;
  auto rep = zt::run::execute(steps, host, o, "test");
  CHECK(rep.steps[0].status == StepStatus::failed);
  CHECK(rep.steps[0].error == "one: boom");
  CHECK(rep.steps[1].status == StepStatus::changed);
  CHECK(root.read("/marker-two") == "2");
}

TEST_CASE("Orchestrator: --only and --skip select steps and their checks", "[run][orchestrator]") {
  zt::test::TempRoot root;
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  auto steps = two_steps();
  auto o = opts(zt::run::Command::provision);
  o.only = {"two"};
  REQUIRE(zt::run::validate_selection(steps, o));
  auto rep = zt::run::execute(steps, host, o, "test");
  CHECK(rep.steps[0].status == StepStatus::skipped);
  CHECK(rep.steps[0].error == "not selected (--only/--skip)");
  CHECK(rep.steps[1].status == StepStatus::changed);
  REQUIRE(rep.checks.size() == 1);
  CHECK(rep.checks[0].id == "two.marker");

  o.only = {"three"};
  auto bad = zt::run::validate_selection(steps, o);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message == "unknown step 'three' in --only (steps of this profile: one, two)");
  o.only.clear();
  o.skip = {"nope"};
  bad = zt::run::validate_selection(steps, o);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message == "unknown step 'nope' in --skip (steps of this profile: one, two)");
}

TEST_CASE("Orchestrator: verify runs only checks, concurrently, in a stable order", "[run][orchestrator]") {
  zt::test::TempRoot root;
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  std::vector<Step> steps;
  for (int i = 0; i < 12; ++i) {
    auto id = "s" + std::to_string(i);
    root.write("/marker-" + id, i % 3 == 0 ? "bad" : "ok");
    steps.push_back(make_step(id, std::make_unique<MarkerFile>(id, "ok"), "ok"));
  }
  auto o = opts(zt::run::Command::verify);
  o.jobs = 4;
  auto rep = zt::run::execute(steps, host, o, "test");
  CHECK(rep.steps.empty());
  REQUIRE(rep.checks.size() == 12);
  for (int i = 0; i < 12; ++i) {
    CHECK(rep.checks[i].id == "s" + std::to_string(i) + ".marker");
    CHECK(rep.checks[i].outcome == (i % 3 == 0 ? zt::checks::Outcome::fail : zt::checks::Outcome::pass));
  }
  CHECK(rep.checks[0].fix == "ztagent provision --only s0");
  CHECK(root.read("/marker-s0") == "bad");  // verify never changes anything
}

TEST_CASE("Orchestrator: runtime checks are retried until they pass", "[run][orchestrator]") {
  zt::test::TempRoot root;
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  std::vector<Step> steps;
  Step s;
  s.id = "late";
  s.checks.push_back(std::make_unique<MarkerCheck>("late", "up", /*runtime=*/true));
  steps.push_back(std::move(s));
  auto o = opts(zt::run::Command::verify);
  o.retry_timeout = std::chrono::milliseconds(5000);
  o.retry_interval = std::chrono::milliseconds(50);
  std::thread later([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    root.write("/marker-late", "up");
  });
  auto rep = zt::run::execute(steps, host, o, "test");
  later.join();
  REQUIRE(rep.checks.size() == 1);
  CHECK(rep.checks[0].outcome == zt::checks::Outcome::pass);
  CHECK(rep.duration_s < 4.0);
}

namespace {

/// Answers `podman ps` with "down" for the first `down_for` calls, then "up"; thread-safe.
class WarmingRunner final : public zt::host::CommandRunner {
public:
  explicit WarmingRunner(int down_for) : m_down_for(down_for) {}
  Result<zt::host::CommandResult> run(const zt::host::Command& /*cmd*/) override {
    const int n = ++calls;
    return zt::host::CommandResult{0, n <= m_down_for ? "down" : "up", ""};
  }
  std::atomic<int> calls{0};

private:
  int m_down_for;
};

/// A runtime check over a command's output, as runtime.containers is over `podman ps`.
class CommandCheck final : public zt::checks::Check {
public:
  std::string_view id() const override { return "late.ps"; }
  std::string_view step() const override { return "late"; }
  std::string_view description() const override { return "podman ps says up"; }
  bool runtime() const override { return true; }
  zt::checks::CheckResult run(const zt::host::HostView& host) const override {
    zt::host::Command ps;
    ps.argv = {"podman", "ps"};
    auto r = host.runner().run(ps);
    if (r && r->out == "up") {
      return zt::checks::pass("up", r->out);
    }
    return zt::checks::fail("up", r ? r->out : r.error().message, "");
  }
};

/// Counts its runs; `blocks`: may stop provision (like a preflight check with a gate).
class CountingCheck final : public zt::checks::Check {
public:
  CountingCheck(std::string id, bool blocks) : m_id(std::move(id)), m_blocks(blocks) {}
  std::string_view id() const override { return m_id; }
  std::string_view step() const override { return "gate"; }
  std::string_view description() const override { return "counts its runs"; }
  bool may_block_provision() const override { return m_blocks; }
  zt::checks::CheckResult run(const zt::host::HostView& /*host*/) const override {
    ++runs;
    return zt::checks::pass("x", "x");
  }
  mutable std::atomic<int> runs{0};

private:
  std::string m_id;
  bool m_blocks;
};

} // namespace

TEST_CASE("Orchestrator: with the run's cache, each retry round runs its commands again", "[run][orchestrator]") {
  zt::test::TempRoot root;
  WarmingRunner runner(3);
  auto host = root.host(runner);
  host.enable_cache();
  std::vector<Step> steps;
  Step s;
  s.id = "late";
  s.checks.push_back(std::make_unique<CommandCheck>());
  steps.push_back(std::move(s));
  auto o = opts(zt::run::Command::verify);
  o.retry_timeout = std::chrono::milliseconds(5000);
  o.retry_interval = std::chrono::milliseconds(20);
  auto rep = zt::run::execute(steps, host, o, "test");
  REQUIRE(rep.checks.size() == 1);
  CHECK(rep.checks[0].outcome == zt::checks::Outcome::pass);
  CHECK(runner.calls.load() == 4);
}

TEST_CASE("Orchestrator: before the first change, provision runs only the checks that may block it",
          "[run][orchestrator]") {
  zt::test::TempRoot root;
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  std::vector<Step> steps;
  Step gate;
  gate.id = "gate";
  auto never = std::make_unique<CountingCheck>("gate.never", false);
  auto may = std::make_unique<CountingCheck>("gate.may", true);
  const auto& never_ref = *never;
  const auto& may_ref = *may;
  gate.checks.push_back(std::move(never));
  gate.checks.push_back(std::move(may));
  steps.push_back(std::move(gate));
  steps.push_back(make_step("one", std::make_unique<MarkerFile>("one", "1"), "1"));
  auto rep = zt::run::execute(steps, host, opts(zt::run::Command::provision), "test");
  CHECK(rep.steps.size() == 1);
  CHECK(never_ref.runs.load() == 1);  // the checks pass only
  CHECK(may_ref.runs.load() == 2);    // the pass before the first change, then the checks pass
}

namespace {

/// A check that waits on a "process": it passes only if all `expected` of its kind are running at
/// the same time (a rendezvous, given up after 10 s), which they are only when each has a thread.
class RendezvousCheck final : public zt::checks::Check {
public:
  struct Meeting {
    std::mutex mutex;
    std::condition_variable cv;
    int arrived = 0;
    int expected = 0;
  };
  RendezvousCheck(std::string id, Meeting& meeting) : m_id(std::move(id)), m_meeting(meeting) {}
  std::string_view id() const override { return m_id; }
  std::string_view step() const override { return "wait"; }
  std::string_view description() const override { return "meets the others"; }
  bool waits_on_process(const zt::host::HostView& /*host*/) const override { return true; }
  zt::checks::CheckResult run(const zt::host::HostView& /*host*/) const override {
    std::unique_lock lock(m_meeting.mutex);
    ++m_meeting.arrived;
    m_meeting.cv.notify_all();
    const bool met = m_meeting.cv.wait_for(lock, std::chrono::seconds(10),
                                           [&] { return m_meeting.arrived >= m_meeting.expected; });
    return met ? zt::checks::pass("all at once", "all at once")
               : zt::checks::fail("all at once", std::to_string(m_meeting.arrived) + " at once", "");
  }

private:
  std::string m_id;
  Meeting& m_meeting;
};

} // namespace

TEST_CASE("Orchestrator: checks that wait on a process all run at once, beyond --jobs", "[run][orchestrator]") {
  zt::test::TempRoot root;
  zt::test::FakeRunner runner;
  auto host = root.host(runner);
  RendezvousCheck::Meeting meeting;
  meeting.expected = 7;
  std::vector<Step> steps;
  Step waiting;
  waiting.id = "wait";
  for (int i = 0; i < meeting.expected; ++i) {
    waiting.checks.push_back(std::make_unique<RendezvousCheck>("wait.p" + std::to_string(i), meeting));
  }
  steps.push_back(std::move(waiting));
  for (int i = 0; i < 5; ++i) {
    auto id = "f" + std::to_string(i);
    root.write("/marker-" + id, "ok");
    steps.push_back(make_step(id, std::make_unique<MarkerFile>(id, "ok"), "ok"));
  }
  auto o = opts(zt::run::Command::verify);
  o.jobs = 2;  // fewer threads than process checks: they still all run at once
  auto rep = zt::run::execute(steps, host, o, "test");
  REQUIRE(rep.checks.size() == 12);
  for (int i = 0; i < 7; ++i) {
    CHECK(rep.checks[i].id == "wait.p" + std::to_string(i));
    CHECK(rep.checks[i].outcome == zt::checks::Outcome::pass);
  }
  for (int i = 7; i < 12; ++i) {
    CHECK(rep.checks[i].outcome == zt::checks::Outcome::pass);
  }
}
