// SPDX-License-Identifier: Apache-2.0
#include "host/command_runner.hpp"

// RealCommandRunner: the only place ztagent starts processes, and the only file that includes
// Boost.Process.
//
// Design:
// - Policy first: a refused command never reaches fork(), so plan/verify and a --root run cannot
//   touch the machine through a command by mistake.
// - argv[0] is resolved against ztagent's own PATH (integration tests put stubs first there); the
//   child gets a minimal environment (PATH, LANG, LC_ALL, then cmd.env), never ztagent's, so a
//   stray variable of the calling shell cannot change what a tool does.
// - stdin is a memfd holding cmd.input (or /dev/null): any size, no pipe to write, so no SIGPIPE
//   and no write/read deadlock. stdout and stderr are read on async pipes driven by one
//   io_context, so neither can fill up and block the child.
// - We poll waitpid(WNOHANG) rather than use bp::on_exit: on_exit installs a SIGCHLD handler that
//   would reap children it does not own. Polling costs nothing while output is flowing (the
//   io_context wakes us) and at most a few ms after the pipes close.
// - A background grandchild may keep the pipes open after the child exits; we give it a short
//   grace period and then stop reading instead of hanging until the timeout.
// - Every inherited descriptor above stderr is made close-on-exec in the child (mark_cloexec).
// - On timeout the child gets SIGKILL and is reaped with a blocking waitpid (Boost's terminate()
//   reaps with WNOHANG only, which can leave a zombie).

#include "util/assert.hpp"
#include "util/strings.hpp"

// GCC 12 at -O2 reports -Wnull-dereference inside Asio's scheduler once it is inlined here; the
// warning points into the Boost header, so silence it for these includes only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/filesystem.hpp>
#include <boost/process.hpp>
#include <boost/process/extend.hpp>
#pragma GCC diagnostic pop

#include <spdlog/spdlog.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fcntl.h>
#include <optional>
#include <signal.h>
#include <string>
#include <sys/mman.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace zt::host {

namespace {

namespace bp = boost::process;
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

constexpr const char* k_default_path = "/usr/sbin:/usr/bin:/sbin:/bin";
constexpr auto k_pipe_grace = std::chrono::milliseconds(500);
constexpr auto k_poll_slice = std::chrono::milliseconds(10);
constexpr std::size_t k_trace_limit = 512;

std::string own_path() {
  const char* p = std::getenv("PATH");
  if (p == nullptr || *p == '\0') {
    return k_default_path;
  }
  return p;
}

Error not_found_error(const std::string& argv0) {
  return Error{Errc::not_found, argv0 + ": command not found (is the package installed?)"};
}

/// argv0 with a '/' is used as given; otherwise the first executable regular file in `path`.
/// Empty PATH entries (meaning ".") are skipped: ztagent runs as root.
Result<boost::filesystem::path> resolve(const std::string& argv0, const std::string& path) {
  if (argv0.find('/') != std::string::npos) {
    boost::system::error_code ec;
    if (boost::filesystem::is_regular_file(argv0, ec) && ::access(argv0.c_str(), X_OK) == 0) {
      return boost::filesystem::path(argv0);
    }
    return std::unexpected(not_found_error(argv0));
  }
  std::vector<boost::filesystem::path> dirs;
  for (auto dir : util::split(path, ':')) {
    if (!dir.empty()) {
      dirs.emplace_back(std::string(dir));
    }
  }
  auto found = bp::search_path(argv0, dirs);
  if (found.empty()) {
    return std::unexpected(not_found_error(argv0));
  }
  return found;
}

/// A memfd holding `input`, rewound, as a FILE* for bp::std_in. Closed by the destructor.
class InputFile {
public:
  InputFile() = default;
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;
  ~InputFile() {
    if (m_file != nullptr) {
      std::fclose(m_file);
    }
  }

  [[nodiscard]] Result<void> open(const std::string& argv0, const std::string& input) {
    // A pipe when the input fits into its buffer (all of it is written before the child starts,
    // so no SIGPIPE and no deadlock): some tools insist on a pipe, e.g. `podman secret create
    // NAME -` refuses any stdin that is not a FIFO. Larger input goes through a memfd.
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) == 0) {
      const int capacity = ::fcntl(pipe_fds[1], F_GETPIPE_SZ);
      if (capacity > 0 && input.size() <= static_cast<std::size_t>(capacity)) {
        std::size_t written = 0;
        while (written < input.size()) {
          ssize_t n = ::write(pipe_fds[1], input.data() + written, input.size() - written);
          if (n < 0 && errno == EINTR) {
            continue;
          }
          if (n <= 0) {
            break;
          }
          written += static_cast<std::size_t>(n);
        }
        ::close(pipe_fds[1]);
        if (written == input.size()) {
          m_file = ::fdopen(pipe_fds[0], "r");
          if (m_file != nullptr) {
            return {};
          }
        }
        ::close(pipe_fds[0]);
      } else {
        ::close(pipe_fds[0]);
        ::close(pipe_fds[1]);
      }
    }
    int fd = ::memfd_create("ztagent-stdin", MFD_CLOEXEC);
    if (fd < 0) {
      return make_error(Errc::io, argv0 + ": cannot create stdin buffer: " + std::strerror(errno));
    }
    std::size_t done = 0;
    while (done < input.size()) {
      ssize_t n = ::write(fd, input.data() + done, input.size() - done);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {
        int saved = errno;
        ::close(fd);
        return make_error(Errc::io, argv0 + ": cannot write stdin buffer: " + std::strerror(saved));
      }
      done += static_cast<std::size_t>(n);
    }
    if (::lseek(fd, 0, SEEK_SET) != 0) {
      int saved = errno;
      ::close(fd);
      return make_error(Errc::io, argv0 + ": cannot rewind stdin buffer: " + std::strerror(saved));
    }
    m_file = ::fdopen(fd, "r");
    if (m_file == nullptr) {
      int saved = errno;
      ::close(fd);
      return make_error(Errc::io, argv0 + ": cannot open stdin buffer: " + std::strerror(saved));
    }
    return {};
  }

  [[nodiscard]] FILE* get() const { return m_file; }

private:
  FILE* m_file = nullptr;
};

std::string truncated(const std::string& text) {
  if (text.size() <= k_trace_limit) {
    return text;
  }
  return text.substr(0, k_trace_limit) + "... (" + std::to_string(text.size()) + " bytes)";
}

int fd_limit() {
  long n = ::sysconf(_SC_OPEN_MAX);
  return n <= 0 || n > 65536 ? 65536 : static_cast<int>(n);
}

/// Runs in the child between fork and exec (async-signal-safe calls only): every descriptor above
/// stderr becomes close-on-exec. Boost.Process 1.74 creates its pipes without O_CLOEXEC, so when
/// the orchestrator runs commands from several threads, one child could otherwise inherit another
/// command's pipe and keep it open (that command would never see EOF). Marking rather than
/// closing keeps Boost's exec-error pipe working.
void mark_cloexec(int limit) {
  if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0) {
    return;
  }
  for (int fd = 3; fd < limit; ++fd) {  // kernels before 5.11
    int flags = ::fcntl(fd, F_GETFD);
    if (flags >= 0 && (flags & FD_CLOEXEC) == 0) {
      ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
    }
  }
}

/// Exit status as a shell reports it: the exit code, or 128 + signal number.
int exit_code_of(int status) {
  if (WIFEXITED(status)) {
    return WEXITSTATUS(status);
  }
  if (WIFSIGNALED(status)) {
    return 128 + WTERMSIG(status);
  }
  return status;
}

Result<CommandResult> run_process(const Command& cmd) {
  const std::string& argv0 = cmd.argv.front();
  const std::string path = own_path();
  ZT_TRY_ASSIGN(exe, resolve(argv0, path));

  const auto level = cmd.effect == Effect::mutating ? spdlog::level::info : spdlog::level::debug;
  const std::string quoted = util::quote_argv(cmd.argv);
  spdlog::log(level, "run: {}", quoted);

  bp::environment env;
  env["PATH"] = path;
  env["LANG"] = "C.UTF-8";
  env["LC_ALL"] = "C.UTF-8";
  for (const auto& [key, value] : cmd.env) {
    env[key] = value;
  }
  const std::vector<std::string> args(cmd.argv.begin() + 1, cmd.argv.end());

  InputFile input;
  if (cmd.input) {
    ZT_TRY(input.open(argv0, *cmd.input));
  }

  asio::io_context ios;
  bp::async_pipe out_pipe(ios);
  bp::async_pipe err_pipe(ios);
  CommandResult result;
  bool out_done = false;
  bool err_done = false;

  const auto start = Clock::now();
  std::error_code start_ec;
  const auto no_inherit = bp::extend::on_exec_setup = [fd_limit = fd_limit()](auto&) { mark_cloexec(fd_limit); };
  const std::string cwd = cmd.cwd.value_or(".");
  bp::child child = cmd.input ? bp::child(bp::exe = exe, bp::args = args, env, bp::start_dir = cwd,
                                          bp::std_in < input.get(), bp::std_out > out_pipe, bp::std_err > err_pipe,
                                          no_inherit, start_ec)
                              : bp::child(bp::exe = exe, bp::args = args, env, bp::start_dir = cwd,
                                          bp::std_in < bp::null, bp::std_out > out_pipe, bp::std_err > err_pipe,
                                          no_inherit, start_ec);
  if (start_ec) {
    return make_error(Errc::io, argv0 + ": cannot start: " + start_ec.message());
  }

  asio::async_read(out_pipe, asio::dynamic_buffer(result.out),
                   [&](const boost::system::error_code&, std::size_t) { out_done = true; });
  asio::async_read(err_pipe, asio::dynamic_buffer(result.err),
                   [&](const boost::system::error_code&, std::size_t) { err_done = true; });

  const auto deadline = start + cmd.timeout;
  std::optional<Clock::time_point> exited_at;
  bool timed_out = false;
  bool pipes_abandoned = false;
  while (true) {
    if (!out_done || !err_done) {
      ios.restart();
      ios.run_for(k_poll_slice);  // returns early once both reads hit EOF
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    const auto now = Clock::now();
    if (!exited_at) {
      std::error_code ec;
      if (!child.running(ec)) {
        if (ec) {
          return make_error(Errc::io, argv0 + ": cannot wait for the process: " + ec.message());
        }
        exited_at = now;
      }
    }
    if (exited_at && out_done && err_done) {
      break;
    }
    if (exited_at && now - *exited_at >= k_pipe_grace) {
      pipes_abandoned = true;
      break;
    }
    if (now >= deadline) {
      timed_out = true;
      break;
    }
  }

  if (timed_out) {
    ::kill(child.id(), SIGKILL);
    std::error_code ec;
    child.wait(ec);  // blocking waitpid: no zombie
    spdlog::log(level, "{}: timed out after {}s, killed", argv0, cmd.timeout.count());
    return make_error(Errc::timeout, argv0 + ": timed out after " + std::to_string(cmd.timeout.count()) + "s");
  }
  if (pipes_abandoned) {
    // Closing cancels the pending reads; running their handlers lets async_read commit what it
    // has (until then the dynamic buffer's string still holds the unfilled prepared space).
    out_pipe.close();
    err_pipe.close();
    ios.restart();
    ios.run();
    spdlog::warn("{}: exited, but a background process keeps its output open; stopped reading", argv0);
  }

  const int status = child.native_exit_code();
  if (!WIFEXITED(status) && !WIFSIGNALED(status)) {
    // Someone else reaped it (SIGCHLD ignored?): we cannot know how it ended.
    return make_error(Errc::io, argv0 + ": lost track of the process (was SIGCHLD ignored?)");
  }
  result.exit_code = exit_code_of(status);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
  spdlog::log(level, "exit {} in {} ms", result.exit_code, ms);
  if (spdlog::should_log(spdlog::level::trace)) {
    spdlog::trace("{}: stdout: {}", argv0, truncated(result.out));
    spdlog::trace("{}: stderr: {}", argv0, truncated(result.err));
  }
  return result;
}

} // namespace

Error refusal(const Command& cmd, std::string_view why) {
  return Error{Errc::refused, "refused to run mutating command " + std::string(why) + ": " + util::quote_argv(cmd.argv)};
}

Result<CommandResult> RealCommandRunner::run(const Command& cmd) {
  ZT_ASSERT(!cmd.argv.empty());
  if (cmd.effect == Effect::mutating) {
    if (!m_policy.allow_mutating) {
      return std::unexpected(refusal(cmd, "in plan mode"));
    }
    if (cmd.scope == Scope::host && !m_policy.root_is_live && !m_policy.allow_host_commands) {
      return std::unexpected(refusal(
          cmd, "under --root (it would change this machine, not the image; pass --allow-host-commands to allow)"));
    }
  }
  // Boost.Process and Asio report failures by exception; they stop here (STYLE.md §6).
  try {
    return run_process(cmd);
  } catch (const std::exception& e) {
    return make_error(Errc::io, cmd.argv.front() + ": cannot run: " + e.what());
  }
}

Result<CommandResult> ReadOnlyRunner::run(const Command& cmd) {
  if (cmd.effect == Effect::mutating) {
    return std::unexpected(refusal(cmd, "from a check or plan"));
  }
  return m_inner.run(cmd);
}

} // namespace zt::host
