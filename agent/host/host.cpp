// SPDX-License-Identifier: Apache-2.0
#include "host/host.hpp"

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

} // namespace zt::host
