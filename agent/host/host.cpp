// SPDX-License-Identifier: Apache-2.0
#include "host/host.hpp"

#include "util/strings.hpp"

#include <spdlog/spdlog.h>

#include <string>

namespace zt::host {

bool HostView::systemd_running() const {
  // The test sd_booted() uses: systemd creates /run/systemd/system early at boot. Under --root the
  // image's /run says nothing about this machine, so only a live root can answer yes.
  if (!live()) {
    return false;
  }
  auto st = m_fs.lstat("/run/systemd/system");
  return st && st->type == FileType::directory;
}

Result<CommandResult> InvalidatingRunner::run(const Command& cmd) {
  if (cmd.effect == Effect::mutating) {
    m_cache.invalidate();
  }
  auto result = m_inner.run(cmd);
  if (cmd.effect == Effect::mutating) {
    // Again afterwards: a concurrent reader may have cached the file while the command ran.
    m_cache.invalidate();
  }
  return result;
}

Result<CommandResult> SharingRunner::run(const Command& cmd) {
  if (cmd.effect == Effect::mutating || cmd.input) {
    return m_inner.run(cmd);
  }
  // NUL cannot occur in an argument, a variable or a path: the key is unambiguous. It holds the
  // environment's values, so like every cache key it is never logged.
  std::string key = "run:";
  for (const auto& arg : cmd.argv) {
    key += arg;
    key += '\0';
  }
  for (const auto& [name, value] : cmd.env) {
    key += "\1" + name + "=" + value + '\0';
  }
  if (cmd.cwd) {
    key += "\2" + *cmd.cwd;
  }
  bool ran = false;
  auto result = m_cache.once<CommandResult>(key, [&] {
    ran = true;
    return m_inner.run(cmd);
  });
  if (!ran) {
    spdlog::debug("shared the result of: {}", util::quote_argv(cmd.argv));
  }
  return *result;
}

} // namespace zt::host
