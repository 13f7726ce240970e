// SPDX-License-Identifier: Apache-2.0
#pragma once

// Random bytes from the kernel CSPRNG (getrandom(2), blocking until the pool is initialised). There
// is deliberately no fallback (no rand(), no /dev/urandom read before the pool is ready): a secret
// that is not random must not be generated at all.

#include "util/result.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace zt::host {

/// `count` bytes from getrandom(2). Errc::unsupported when the kernel lacks getrandom (ENOSYS),
/// Errc::io on any other failure. Retries on EINTR and short reads.
[[nodiscard]] Result<std::string> random_bytes(std::size_t count);

/// `count` random bytes, hex-encoded (2 * count lowercase characters: URL and shell safe).
[[nodiscard]] Result<std::string> random_hex(std::size_t count);

} // namespace zt::host
