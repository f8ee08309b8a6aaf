#include "actors/session_cache.hpp"

#include <algorithm>

namespace slicegate {

session_cache::session_cache(size_t capacity) : capacity_(std::max<size_t>(capacity, 1)) {
}

session_cache::entry* session_cache::find(std::string_view id) {
  auto i = by_id_.find(id);
  if (i == by_id_.end())
    return nullptr;
  entries_.splice(entries_.begin(), entries_, i->second);
  return &*i->second;
}

session_cache::entry& session_cache::put(session_account account, timestamp loaded_at) {
  erase(account.session.id);
  entries_.push_front(entry{std::move(account), loaded_at});
  auto pos = entries_.begin();
  std::string_view id = pos->account.session.id;
  by_id_.emplace(id, pos);
  by_user_[pos->account.session.user_id].push_back(id);
  while (by_id_.size() > capacity_)
    unlink(std::prev(entries_.end()));
  return *pos;
}

bool session_cache::erase(std::string_view id) {
  auto i = by_id_.find(id);
  if (i == by_id_.end())
    return false;
  unlink(i->second);
  return true;
}

size_t session_cache::erase_user(int32_t user_id) {
  auto i = by_user_.find(user_id);
  if (i == by_user_.end())
    return 0;
  // Copy the views out: unlinking edits the vector being walked.
  auto ids = i->second;
  for (auto id : ids)
    erase(id);
  return ids.size();
}

void session_cache::unlink(lru_list::iterator pos) {
  std::string_view id = pos->account.session.id;
  auto user = by_user_.find(pos->account.session.user_id);
  if (user != by_user_.end()) {
    auto& ids = user->second;
    ids.erase(std::remove(ids.begin(), ids.end(), id), ids.end());
    if (ids.empty())
      by_user_.erase(user);
  }
  by_id_.erase(id);
  entries_.erase(pos);
}

} // namespace slicegate
