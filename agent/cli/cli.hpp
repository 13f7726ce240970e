// SPDX-License-Identifier: Apache-2.0
#pragma once

namespace zt::cli {

/// The whole program; main() only calls this so tests can run it in-process.
[[nodiscard]] int run(int argc, char** argv);

} // namespace zt::cli
