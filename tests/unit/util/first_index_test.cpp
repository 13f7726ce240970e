// SPDX-License-Identifier: Apache-2.0
#include "util/first_index.hpp"

#include "support/catch.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

using zt::util::FirstIndex;

namespace {

/// The answer FirstIndex must give: the first position with the key, by a plain scan.
template <typename T> std::optional<std::size_t> first_of(const std::vector<T>& keys, const T& key) {
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (keys[i] == key) {
      return i;
    }
  }
  return std::nullopt;
}

} // namespace

TEST_CASE("FirstIndex: string keys, the first record of a name wins", "[util][first_index]") {
  const std::vector<std::string> names = {"root", "daemon", "ztnet", "root", "bin", "ztnet", ""};
  auto key_of = [&](std::size_t i) -> std::string_view { return names[i]; };
  const FirstIndex index(names.size(), key_of);
  CHECK(index.find(std::string_view("root"), key_of) == 0U);
  CHECK(index.find(std::string_view("ztnet"), key_of) == 2U);
  CHECK(index.find(std::string_view("bin"), key_of) == 4U);
  CHECK(index.find(std::string_view(""), key_of) == 6U);
  CHECK_FALSE(index.find(std::string_view("nobody"), key_of));
  CHECK_FALSE(index.find(std::string_view("roo"), key_of));
  CHECK(index.slot_count() == 16);  // at most half full, a power of two
}

TEST_CASE("FirstIndex: empty table", "[util][first_index]") {
  auto key_of = [](std::size_t) -> std::uint32_t { return 0; };
  const FirstIndex index(0, key_of);
  CHECK(index.slot_count() == 0);
  CHECK_FALSE(index.find(std::uint32_t{0}, key_of));
  const FirstIndex defaulted;
  CHECK_FALSE(defaulted.find(std::uint32_t{0}, key_of));
}

TEST_CASE("FirstIndex: integer keys with a common stride and many duplicates answer like a scan",
          "[util][first_index]") {
  // Ids 65536 apart share their low bits: without mixing they would all probe from one slot.
  std::vector<std::uint32_t> ids;
  for (std::uint32_t i = 0; i < 5000; ++i) {
    ids.push_back((i % 1500) * 65536U + (i % 7 == 0 ? 1U : 0U));
  }
  auto key_of = [&](std::size_t i) { return ids[i]; };
  std::vector<std::uint32_t> chain;
  const FirstIndex index(ids.size(), key_of, &chain);
  REQUIRE(chain.size() == ids.size());
  for (std::uint32_t probe = 0; probe < 1600; ++probe) {
    for (const std::uint32_t low : {0U, 1U, 2U}) {
      const std::uint32_t key = probe * 65536U + low;
      INFO(key);
      REQUIRE(index.find(key, key_of) == first_of(ids, key));
    }
  }
  // The chain visits every record with the key, in order, and ends with k_end.
  for (std::size_t first = 0; first < ids.size(); ++first) {
    if (first_of(ids, ids[first]) != first) {
      continue;
    }
    std::vector<std::size_t> expected;
    for (std::size_t i = first; i < ids.size(); ++i) {
      if (ids[i] == ids[first]) {
        expected.push_back(i);
      }
    }
    std::vector<std::size_t> walked;
    for (std::size_t i = first; i != FirstIndex::k_end; i = chain[i]) {
      walked.push_back(i);
    }
    INFO(ids[first]);
    REQUIRE(walked == expected);
  }
}
