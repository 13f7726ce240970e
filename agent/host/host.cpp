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

} // namespace zt::host
