// SPDX-License-Identifier: Apache-2.0
// Catch2 2.x main; with Catch2 3.x, Catch2::Catch2WithMain provides it.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
