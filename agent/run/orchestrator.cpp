// SPDX-License-Identifier: Apache-2.0
#include "run/orchestrator.hpp"

#include "run/preapply.hpp"
#include "util/strings.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <ctime>
#include <mutex>
#include <thread>

namespace zt::run {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string utc_now_rfc3339() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

bool contains(const std::vector<std::string>& list, std::string_view id) {
  return std::find(list.begin(), list.end(), id) != list.end();
}

bool selected(const RunOptions& options, std::string_view id) {
  return (options.only.empty() || contains(options.only, id)) && !contains(options.skip, id);
}

/// plan -> (apply -> plan) for one step.
report::StepReport run_step(provisioners::Step& step, host::Host& host, Command command) {
  report::StepReport out;
  out.id = step.id;
  auto& prov = *step.provisioner;
  auto first = prov.plan(host.view());
  if (!first) {
    out.status = report::StepStatus::failed;
    out.error = first.error().message;
    spdlog::error("{}: plan failed: {}", step.id, out.error);
    return out;
  }
  if (first->empty()) {
    out.status = report::StepStatus::unchanged;
    spdlog::debug("{}: nothing to do", step.id);
    return out;
  }
  out.changes = first->changes;
  if (command == Command::plan) {
    out.status = report::StepStatus::would_change;
    for (const auto& c : first->changes) {
      spdlog::info("{}: would change {}: {}", step.id, c.target, c.summary);
    }
    return out;
  }
  // The provisioner logs each change as it makes it; here only for debugging.
  spdlog::debug("{}: applying {} change(s)", step.id, first->changes.size());
  auto applied = prov.apply(host, *first);
  // The step changed the host (or tried to): the re-plan and later steps read the files again.
  host.invalidate_cache();
  if (!applied) {
    out.status = report::StepStatus::failed;
    out.error = applied.error().message;
    spdlog::error("{}: {}", step.id, out.error);
    return out;
  }
  auto again = prov.plan(host.view());
  if (!again) {
    out.status = report::StepStatus::failed;
    out.error = "re-plan after apply failed: " + again.error().message;
    spdlog::error("{}: {}", step.id, out.error);
    return out;
  }
  if (!again->empty()) {
    out.status = report::StepStatus::failed;
    out.error = "not converged: after apply it still wants to change " + again->describe();
    spdlog::error("{}: {}", step.id, out.error);
    return out;
  }
  out.status = report::StepStatus::changed;
  return out;
}

report::CheckReport run_check(const checks::Check& check, const host::HostView& view) {
  auto start = Clock::now();
  checks::CheckResult r;
  try {
    r = check.run(view);
  } catch (const std::exception& e) {
    // A check must not throw; if one does it is a bug, reported as this check's error, not a crash.
    r = checks::error("", std::string("internal error: ") + e.what());
  }
  report::CheckReport out;
  out.id = std::string(check.id());
  out.step = std::string(check.step());
  out.outcome = r.outcome;
  out.expected = std::move(r.expected);
  out.actual = std::move(r.actual);
  out.fix = std::move(r.fix);
  out.duration_s = seconds_since(start);
  return out;
}

/// Runs checks[i] into results[i] on up to `jobs` threads.
void run_checks(const std::vector<const checks::Check*>& list,
                const host::HostView& view,
                unsigned jobs,
                std::vector<report::CheckReport>& results) {
  results.resize(list.size());
  // Checks that wait on a process (podman as the user, systemctl) each get a thread of their own
  // and start at once: they take no CPU while they wait, so they overlap each other and the file
  // checks, and a live verify waits about as long as the slowest podman call, not the sum of them.
  // The file checks share `jobs` threads. With --jobs 1 everything runs in order on one thread.
  // Results keep the profile's order.
  std::vector<std::size_t> waiting;
  std::vector<std::size_t> rest;
  for (std::size_t i = 0; i < list.size(); ++i) {
    (list[i]->waits_on_process(view) ? waiting : rest).push_back(i);
  }
  if (jobs <= 1) {
    for (const auto* part : {&waiting, &rest}) {
      for (const std::size_t i : *part) {
        results[i] = run_check(*list[i], view);
      }
    }
    return;
  }
  constexpr std::size_t k_max_waiting_threads = 32;
  std::atomic<std::size_t> next_waiting{0};
  std::atomic<std::size_t> next_rest{0};
  auto take = [&](std::atomic<std::size_t>& next, const std::vector<std::size_t>& part) {
    while (true) {
      const std::size_t k = next.fetch_add(1);
      if (k >= part.size()) {
        return;
      }
      results[part[k]] = run_check(*list[part[k]], view);
    }
  };
  std::vector<std::thread> threads;
  const std::size_t waiting_threads = std::min(waiting.size(), k_max_waiting_threads);
  const std::size_t rest_threads = std::min<std::size_t>(jobs, rest.size());
  threads.reserve(waiting_threads + rest_threads);
  for (std::size_t t = 0; t < waiting_threads; ++t) {
    threads.emplace_back([&] { take(next_waiting, waiting); });
  }
  for (std::size_t t = 1; t < rest_threads; ++t) {
    threads.emplace_back([&] { take(next_rest, rest); });
  }
  take(next_rest, rest);  // this thread is one of the `jobs`
  for (auto& t : threads) {
    t.join();
  }
}

bool failing(const report::CheckReport& r) {
  return r.outcome == checks::Outcome::fail || r.outcome == checks::Outcome::error;
}

} // namespace

std::string_view to_string(Command command) {
  switch (command) {
  case Command::provision: return "provision";
  case Command::plan: return "plan";
  case Command::verify: return "verify";
  }
  return "verify";
}

Result<void> validate_selection(const std::vector<provisioners::Step>& steps, const RunOptions& options) {
  std::vector<std::string> ids;
  for (const auto& s : steps) {
    ids.push_back(s.id);
  }
  auto check_list = [&](const std::vector<std::string>& list, std::string_view flag) -> Result<void> {
    for (const auto& id : list) {
      if (!contains(ids, id)) {
        return make_error(Errc::invalid_config, "unknown step '" + id + "' in " + std::string(flag) +
                                                    " (steps of this profile: " + util::join(ids, ", ") + ")");
      }
    }
    return {};
  };
  ZT_TRY(check_list(options.only, "--only"));
  ZT_TRY(check_list(options.skip, "--skip"));
  return {};
}

report::Report execute(std::vector<provisioners::Step>& steps,
                       host::Host& host,
                       const RunOptions& options,
                       const std::string& profile_name) {
  auto start = Clock::now();
  report::Report rep;
  rep.command = std::string(to_string(options.command));
  rep.profile = profile_name;
  rep.root = host.fs().root().string();
  rep.started_at = utc_now_rfc3339();

  std::vector<const checks::Check*> to_check;
  std::string stop_reason;
  // Before provision's first change: unusable host inputs and failing preflight checks that make
  // provisioning pointless stop the run while nothing has changed (run/preapply.hpp).
  std::map<std::string, std::string> blocked; // step id -> why
  const bool provisions = std::any_of(steps.begin(), steps.end(), [&](const provisioners::Step& s) {
    return s.provisioner && selected(options, s.id);
  });
  if (options.command == Command::provision && provisions) {
    auto blockers = find_blockers(steps, host.view(), [&](std::string_view id) { return selected(options, id); });
    for (const auto& b : blockers) {
      if (options.keep_going) {
        spdlog::warn("{}: {} (--keep-going: provisioning anyway)", b.step, b.reason);
      } else {
        spdlog::error("{}: {}", b.step, b.reason);
        auto& why = blocked[b.step];
        why += (why.empty() ? "" : "; ") + b.reason;
      }
    }
    for (auto& [id, why] : blocked) {
      why += "; nothing was changed (fix it, or --keep-going to provision anyway)";
    }
    if (!blocked.empty()) {
      stop_reason = "skipped because step '" + blockers.front().step +
                    "' cannot start; nothing was changed (use --keep-going to provision anyway)";
    }
  }
  for (auto& step : steps) {
    if (!selected(options, step.id)) {
      if (step.provisioner && options.command != Command::verify) {
        rep.steps.push_back({step.id, report::StepStatus::skipped, {}, 0, "not selected (--only/--skip)"});
      }
      continue;
    }
    if (options.interrupted != nullptr && options.interrupted->load() && stop_reason.empty()) {
      stop_reason = "interrupted";
    }
    if (auto it = blocked.find(step.id); it != blocked.end()) {
      rep.steps.push_back({step.id, report::StepStatus::failed, {}, 0, it->second});
    } else if (step.provisioner && options.command != Command::verify) {
      if (!stop_reason.empty()) {
        rep.steps.push_back({step.id, report::StepStatus::skipped, {}, 0, stop_reason});
      } else {
        auto step_start = Clock::now();
        auto sr = run_step(step, host, options.command);
        sr.duration_s = seconds_since(step_start);
        bool failed = sr.status == report::StepStatus::failed;
        rep.steps.push_back(std::move(sr));
        if (failed && !options.keep_going) {
          stop_reason = "skipped because step '" + step.id + "' failed (use --keep-going to continue)";
        }
      }
    }
    // Checks always all run (also for skipped steps), so the report shows what is still wrong.
    if (options.command != Command::plan) {
      for (const auto& c : step.checks) {
        to_check.push_back(c.get());
      }
    }
  }

  run_checks(to_check, host.view(), options.jobs, rep.checks);

  // verify --retry-timeout: services come up a while after boot; retry failing runtime checks.
  if (options.retry_timeout.count() > 0) {
    auto deadline = start + options.retry_timeout;
    while (true) {
      std::vector<std::size_t> retry;
      for (std::size_t i = 0; i < rep.checks.size(); ++i) {
        if (failing(rep.checks[i]) && to_check[i]->runtime()) {
          retry.push_back(i);
        }
      }
      bool stop = options.interrupted != nullptr && options.interrupted->load();
      if (retry.empty() || stop || Clock::now() + options.retry_interval > deadline) {
        break;
      }
      spdlog::info("{} runtime check(s) failing; retrying in {} ms", retry.size(), options.retry_interval.count());
      std::this_thread::sleep_for(options.retry_interval);
      // A retry must see the host as it is now, not the shared results of the last round.
      host.invalidate_cache();
      for (auto i : retry) {
        rep.checks[i] = run_check(*to_check[i], host.view());
      }
    }
  }

  rep.duration_s = seconds_since(start);
  return rep;
}

bool any_step_failed(const report::Report& report) {
  return std::any_of(report.steps.begin(), report.steps.end(),
                     [](const auto& s) { return s.status == report::StepStatus::failed; });
}

bool any_check_failed(const report::Report& report) {
  return std::any_of(report.checks.begin(), report.checks.end(), failing);
}

} // namespace zt::run
