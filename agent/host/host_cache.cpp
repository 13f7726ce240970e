// SPDX-License-Identifier: Apache-2.0
#include "host/host_cache.hpp"

#include "util/assert.hpp"

#include <vector>

namespace zt::host {

void HostCache::invalidate() const {
  {
    std::lock_guard lock(m_mutex);
    m_entries.clear();
  }
  // A once() still running keeps its slot alive and hands its result to those already waiting.
  std::lock_guard lock(m_slots_mutex);
  m_slots.clear();
}

std::shared_ptr<HostCache::Slot> HostCache::slot_for(std::string_view key, const std::type_info& type) const {
  std::lock_guard lock(m_slots_mutex);
  auto it = m_slots.find(key);
  if (it == m_slots.end()) {
    it = m_slots.emplace(std::string(key), std::make_shared<Slot>(type)).first;
  }
  ZT_ASSERT(it->second->type == std::type_index(type));
  return it->second;
}

void HostCache::count(std::string_view key) const {
  std::lock_guard lock(m_slots_mutex);
  ++m_ran[std::string(key)];
}

void HostCache::abandon() const {
  static std::mutex kept_mutex;
  static auto* kept = new std::vector<std::map<std::string, Entry, std::less<>>>();  // never freed, on purpose
  std::scoped_lock lock(m_mutex, kept_mutex);
  kept->push_back(std::move(m_entries));
  m_entries.clear();
}

std::size_t HostCache::computed(std::string_view key) const {
  std::size_t n = 0;
  {
    std::lock_guard lock(m_mutex);
    auto it = m_computed.find(key);
    n += it == m_computed.end() ? 0 : it->second;
  }
  std::lock_guard lock(m_slots_mutex);
  auto it = m_ran.find(key);
  return n + (it == m_ran.end() ? 0 : it->second);
}

std::map<std::string, std::size_t, std::less<>> HostCache::computed_all() const {
  std::map<std::string, std::size_t, std::less<>> all;
  {
    std::lock_guard lock(m_mutex);
    all = m_computed;
  }
  std::lock_guard lock(m_slots_mutex);
  for (const auto& [key, n] : m_ran) {
    all[key] += n;
  }
  return all;
}

void HostCache::check_type(const Entry& entry, const std::type_info& wanted) {
  ZT_ASSERT(entry.type == std::type_index(wanted));
}

} // namespace zt::host
