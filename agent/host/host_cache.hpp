// SPDX-License-Identifier: Apache-2.0
#pragma once

// HostCache: the parsed host files of one run (package database, passwd, group, subuid, subgid),
// each read and parsed once and shared by every step and check that needs it.
//
// One cache per Host, switched on by the CLI for a run (Host::enable_cache); without it every
// lookup reads the file again, as before (tests that edit a tree between checks rely on that).
// Invalidated whenever something may have changed a host file: after a step's apply, whenever a
// mutating command runs through the Host's runner (useradd, usermod, apt-get) and whenever
// the writable Fs is handed out. Thread-safe: checks run concurrently (--jobs). An entry holds
// the whole Result, so a malformed file gives every reader the same error without reparsing.

#include "util/result.hpp"

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <typeindex>
#include <utility>

namespace zt::host {

class HostCache {
public:
  /// The cached Result for `key`, made by `make()` (returning Result<T>) on the first call since
  /// the last invalidate(). Each key has one type; asking for another type is a programming error
  /// (ZT_ASSERT). `make` may itself call get() for other keys.
  template <typename T, typename Make>
  [[nodiscard]] std::shared_ptr<const Result<T>> get(std::string_view key, Make&& make) const {
    std::lock_guard lock(m_mutex);
    auto it = m_entries.find(key);
    if (it != m_entries.end()) {
      check_type(it->second, typeid(T));
      return std::static_pointer_cast<const Result<T>>(it->second.value);
    }
    ++m_computed[std::string(key)];
    auto value = std::make_shared<const Result<T>>(std::forward<Make>(make)());
    m_entries.insert_or_assign(std::string(key), Entry{std::type_index(typeid(T)), value});
    return value;
  }

  /// The Result of `run()` for `key`, run once since the last invalidate() however many threads ask
  /// at the same time: the first caller runs it and the others wait for that result. Unlike get(),
  /// it holds no lock shared with other keys while `run` works, so it suits slow work (a command
  /// that several checks start: SharingRunner); `run` must not call once() for the same key.
  template <typename T, typename Run>
  [[nodiscard]] std::shared_ptr<const Result<T>> once(std::string_view key, Run&& run) const {
    auto slot = slot_for(key, typeid(T));
    std::lock_guard lock(slot->mutex);
    if (slot->value == nullptr) {
      count(key);
      slot->value = std::make_shared<const Result<T>>(std::forward<Run>(run)());
    }
    return std::static_pointer_cast<const Result<T>>(slot->value);
  }

  /// The cached Result for `key` if something made it since the last invalidate(), else nullptr;
  /// never makes one.
  template <typename T>
  [[nodiscard]] std::shared_ptr<const Result<T>> peek(std::string_view key) const {
    std::lock_guard lock(m_mutex);
    auto it = m_entries.find(key);
    if (it == m_entries.end()) {
      return nullptr;
    }
    check_type(it->second, typeid(T));
    return std::static_pointer_cast<const Result<T>>(it->second.value);
  }

  /// Drops every entry: the next get() reads the file again, the next once() runs again.
  void invalidate() const;
  /// Hands the entries to a list that is never destroyed instead of freeing them: for the end of a
  /// run, just before the process exits (on a host with 100k accounts, freeing the parsed tables is
  /// 5 % of a verify, spent on memory the kernel reclaims anyway; clang's -disable-free and mold do
  /// the same). They stay reachable from a static, so LeakSanitizer does not report them.
  void abandon() const;
  /// How often `key` was made (read and parsed) since the cache was created: bench/ and tests.
  [[nodiscard]] std::size_t computed(std::string_view key) const;
  /// Every key made so far with its count (tests). once() keys hold a command's environment:
  /// never log them.
  [[nodiscard]] std::map<std::string, std::size_t, std::less<>> computed_all() const;

private:
  struct Entry {
    std::type_index type;
    std::shared_ptr<const void> value;
  };
  static void check_type(const Entry& entry, const std::type_info& wanted);
  struct Slot {
    explicit Slot(const std::type_info& t) : type(t) {}
    std::type_index type;
    std::mutex mutex;  // held while the first caller runs; the others wait on it
    std::shared_ptr<const void> value;
  };
  [[nodiscard]] std::shared_ptr<Slot> slot_for(std::string_view key, const std::type_info& type) const;
  // Counts a once() run under m_slots_mutex, never m_mutex: a get() may hold m_mutex while its
  // make() waits for a once() of another thread, which must then not wait for m_mutex.
  void count(std::string_view key) const;

  mutable std::recursive_mutex m_mutex;
  mutable std::map<std::string, Entry, std::less<>> m_entries;
  mutable std::map<std::string, std::size_t, std::less<>> m_computed;
  mutable std::mutex m_slots_mutex;  // never held while a once() runs
  mutable std::map<std::string, std::shared_ptr<Slot>, std::less<>> m_slots;
  mutable std::map<std::string, std::size_t, std::less<>> m_ran;  // once() runs per key
};

/// cache->get<T>(key, make) when there is a cache, else make() every time (no cache: tests, or a
/// caller outside a run).
template <typename T, typename Make>
[[nodiscard]] std::shared_ptr<const Result<T>> cached(const HostCache* cache, std::string_view key, Make&& make) {
  if (cache == nullptr) {
    return std::make_shared<const Result<T>>(std::forward<Make>(make)());
  }
  return cache->get<T>(key, std::forward<Make>(make));
}

} // namespace zt::host
