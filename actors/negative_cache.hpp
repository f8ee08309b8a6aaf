#pragma once

// Session ids that the database just said do not exist, for a short while, so that the same
// unknown token resolved again and again costs no round trip. Bounded: past `capacity` the
// oldest entries go first.

#include <cstddef>
#include <deque>
#include <string>
#include <unordered_map>
#include <utility>

#include <caf/timespan.hpp>
#include <caf/timestamp.hpp>

namespace slicegate {

class negative_cache {
public:
  negative_cache(size_t capacity, caf::timespan ttl) : capacity_(capacity), ttl_(ttl) {
    // Nothing else to set up.
  }

  /// Whether `id` was found missing less than the time to live ago.
  bool contains(const std::string& id, caf::timestamp now) {
    auto i = entries_.find(id);
    if (i == entries_.end())
      return false;
    if (i->second > now)
      return true;
    entries_.erase(i);
    return false;
  }

  void put(const std::string& id, caf::timestamp now) {
    if (capacity_ == 0)
      return;
    while (entries_.size() >= capacity_ && !order_.empty()) {
      auto& [oldest, expiry] = order_.front();
      // A later put of the same id moved its expiry: this queue entry is stale.
      if (auto i = entries_.find(oldest); i != entries_.end() && i->second == expiry)
        entries_.erase(i);
      order_.pop_front();
    }
    auto expiry = now + ttl_;
    entries_[id] = expiry;
    order_.emplace_back(id, expiry);
    // Queue entries of ids put again or expired pile up only until the queue is twice the
    // map: then it is rebuilt.
    if (order_.size() > 2 * capacity_)
      compact();
  }

  void erase(const std::string& id) {
    entries_.erase(id);
  }

  size_t size() const {
    return entries_.size();
  }

private:
  void compact() {
    std::deque<std::pair<std::string, caf::timestamp>> kept;
    for (auto& entry : order_)
      if (auto i = entries_.find(entry.first); i != entries_.end() && i->second == entry.second)
        kept.push_back(std::move(entry));
    order_ = std::move(kept);
  }

  size_t capacity_;
  caf::timespan ttl_;
  std::unordered_map<std::string, caf::timestamp> entries_;
  std::deque<std::pair<std::string, caf::timestamp>> order_;
};

} // namespace slicegate
