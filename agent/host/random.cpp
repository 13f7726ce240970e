// SPDX-License-Identifier: Apache-2.0
#include "host/random.hpp"

#include "util/strings.hpp"

#include <cerrno>
#include <cstring>
#include <sys/random.h>

namespace zt::host {

Result<std::string> random_bytes(std::size_t count) {
  std::string out(count, '\0');
  std::size_t filled = 0;
  while (filled < count) {
    // flags 0: the urandom source, but blocking until it has been initialised once at boot.
    const ssize_t n = ::getrandom(out.data() + filled, count - filled, 0);
    if (n < 0) {
      const int err = errno;
      if (err == EINTR) {
        continue;
      }
      if (err == ENOSYS) {
        return make_error(Errc::unsupported,
                          "getrandom: not supported by this kernel (Linux 3.17 or later is needed)");
      }
      return make_error(Errc::io, std::string("getrandom: ") + std::strerror(err));
    }
    filled += static_cast<std::size_t>(n);
  }
  return out;
}

Result<std::string> random_hex(std::size_t count) {
  ZT_TRY_ASSIGN(bytes, random_bytes(count));
  return util::to_hex(bytes);
}

} // namespace zt::host
