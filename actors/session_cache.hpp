#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "messages/records.hpp"

namespace slicegate {

/// Resolved sessions kept in memory so that a resolve costs no database round trip. Bounded:
/// beyond its capacity the least recently used entry goes. Indexed by user as well, because
/// revocations and changes arrive per user. The database stays the truth; this is a copy the
/// session manager invalidates whenever it (or anyone who tells it) changes a session or user.
class session_cache {
public:
  /// A cached session with the time it was read from the database.
  struct entry {
    session_account account;
    timestamp loaded_at;
  };

  explicit session_cache(size_t capacity = 0);

  session_cache(session_cache&&) = default;
  session_cache& operator=(session_cache&&) = default;

  /// Returns the entry of session `id` and marks it most recently used; nullptr if absent.
  entry* find(std::string_view id);

  /// Inserts or replaces the entry of `account.session.id`, evicting the least recently used
  /// entries beyond the capacity. Returns the stored entry.
  entry& put(session_account account, timestamp loaded_at);

  /// Drops session `id`; returns whether it was cached.
  bool erase(std::string_view id);

  /// Drops every session of `user_id`; returns how many there were.
  size_t erase_user(int32_t user_id);

  size_t size() const {
    return by_id_.size();
  }

  size_t capacity() const {
    return capacity_;
  }

private:
  using lru_list = std::list<entry>;

  void unlink(lru_list::iterator pos);

  size_t capacity_;
  /// Most recently used first. List nodes never move, so the views below stay valid for as
  /// long as their entry exists.
  lru_list entries_;
  std::unordered_map<std::string_view, lru_list::iterator> by_id_;
  std::unordered_map<int32_t, std::vector<std::string_view>> by_user_;
};

} // namespace slicegate
