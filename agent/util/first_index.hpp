// SPDX-License-Identifier: Apache-2.0
#pragma once

// FirstIndex: which record of a table comes first with a given key, for tables parsed from host
// files with 100,000 lines and more (/etc/passwd, /etc/group). getpwnam answers the first entry of
// a name, so later duplicates are not indexed; an optional chain links every record to the next
// one with the same key (the accounts of one primary gid, in file order).
//
// Flat open addressing with linear probing: one uint32 per slot, the table at most half full, no
// node per record (an unordered_map allocates one per entry). A slot holds the record's position + 1
// in its low bits and, in the bits a table of that size leaves free (15 of 32 for 100,000 records),
// bits of the key's hash. The records stay where they are; `key_of(i)` reads record i's key only
// when those hash bits match, so probing past other keys rarely touches the records.

#include "util/assert.hpp"

#include <bit>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string_view>
#include <type_traits>
#include <vector>

namespace zt::util {

class FirstIndex {
public:
  /// No chain link: the record is the last with its key.
  static constexpr std::uint32_t k_end = std::numeric_limits<std::uint32_t>::max();

  FirstIndex() = default;

  /// Indexes records 0..n-1 by `key_of(i)` (a std::string_view or an unsigned integer). With
  /// `chain`, also fills (*chain)[i] with the next record after i that has the same key, or k_end.
  template <typename KeyOf>
  FirstIndex(std::size_t n, KeyOf&& key_of, std::vector<std::uint32_t>* chain = nullptr) {
    ZT_ASSERT(n < k_end);
    if (n == 0) {
      return;
    }
    m_slots.assign(std::bit_ceil(2 * n), 0);
    m_record_bits = static_cast<unsigned>(std::bit_width(n));
    const std::size_t mask = m_slots.size() - 1;
    std::vector<std::uint32_t> tail; // per slot: the last record of its chain so far
    if (chain != nullptr) {
      chain->assign(n, k_end);
      tail.assign(m_slots.size(), k_end);
    }
    for (std::size_t i = 0; i < n; ++i) {
      decltype(auto) key = key_of(i);
      const std::uint64_t hash = hash_key(key);
      std::size_t slot = static_cast<std::size_t>(hash) & mask;
      while (m_slots[slot] != 0 && !same_key(m_slots[slot], hash, key, key_of)) {
        slot = (slot + 1) & mask;
      }
      if (m_slots[slot] == 0) {
        m_slots[slot] = tag_of(hash) | static_cast<std::uint32_t>(i + 1);
        if (chain != nullptr) {
          tail[slot] = static_cast<std::uint32_t>(i);
        }
      } else if (chain != nullptr) {
        (*chain)[tail[slot]] = static_cast<std::uint32_t>(i);
        tail[slot] = static_cast<std::uint32_t>(i);
      }
    }
  }

  /// The first record whose key equals `key` (`key_of` as given to the constructor), or nullopt.
  template <typename Key, typename KeyOf>
  [[nodiscard]] std::optional<std::size_t> find(const Key& key, KeyOf&& key_of) const {
    if (m_slots.empty()) {
      return std::nullopt;
    }
    const std::size_t mask = m_slots.size() - 1;
    const std::uint64_t hash = hash_key(key);
    for (std::size_t slot = static_cast<std::size_t>(hash) & mask; m_slots[slot] != 0; slot = (slot + 1) & mask) {
      if (same_key(m_slots[slot], hash, key, key_of)) {
        return record_of(m_slots[slot]);
      }
    }
    return std::nullopt;
  }

  /// Slots in the table (0 when empty): twice the records or more, a power of two. For tests.
  [[nodiscard]] std::size_t slot_count() const { return m_slots.size(); }

private:
  /// The hash bits a slot keeps: the high bits of the hash, in the slot bits above the record's.
  [[nodiscard]] std::uint32_t tag_of(std::uint64_t hash) const {
    if (m_record_bits >= 32) {
      return 0;
    }
    return static_cast<std::uint32_t>(hash >> 32) << m_record_bits;
  }
  [[nodiscard]] std::uint32_t tag_bits(std::uint32_t slot) const {
    return m_record_bits >= 32 ? 0 : slot >> m_record_bits << m_record_bits;
  }
  [[nodiscard]] std::size_t record_of(std::uint32_t slot) const { return (slot ^ tag_bits(slot)) - std::size_t{1}; }
  /// Whether the occupied `slot` holds a record with `key`: its hash bits first, then the key.
  template <typename Key, typename KeyOf>
  [[nodiscard]] bool same_key(std::uint32_t slot, std::uint64_t hash, const Key& key, KeyOf& key_of) const {
    return tag_bits(slot) == tag_of(hash) && key_of(record_of(slot)) == key;
  }

  /// murmur3's finalizer: every input bit reaches the low bits that pick the slot (plain
  /// integer ids are often sequential or share a stride).
  static std::uint64_t mix(std::uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
  }
  static std::uint64_t hash_key(std::string_view key) { return mix(std::hash<std::string_view>{}(key)); }
  template <typename Int>
    requires std::is_unsigned_v<Int>
  static std::uint64_t hash_key(Int key) {
    return mix(static_cast<std::uint64_t>(key));
  }

  std::vector<std::uint32_t> m_slots; // hash bits | (record + 1); 0 = empty
  unsigned m_record_bits = 0;          // low slot bits that hold record + 1 (<= n)
};

} // namespace zt::util
