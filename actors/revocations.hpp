#pragma once

// What a database read of sessions may have missed. A read that started before a revocation
// may return a session that no longer exists, or a user as they were: its result still answers
// its callers, but must not be cached. Only the revoked user or session taints a read, so a
// stream of logouts (each with any well-formed token) does not stop every other read from
// being cached.

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>

namespace slicegate {

class revocations {
public:
  /// Most revocations remembered while reads are in flight; past that, every read in flight
  /// counts as tainted (as if all had been revoked), and memory stays bounded.
  static constexpr size_t max_entries = 4096;

  /// A read starts; returns its mark, to give to `tainted` and `end`.
  uint64_t begin() {
    ++reads_;
    return seq_;
  }

  /// A read ended (answered or failed). With none in flight, nothing needs remembering.
  void end() {
    if (reads_ > 0 && --reads_ == 0) {
      users_.clear();
      sessions_.clear();
    }
  }

  void revoke_user(int32_t user_id) {
    if (reads_ == 0)
      return;
    ++seq_;
    if (users_.size() >= max_entries)
      return overflow();
    users_[user_id] = seq_;
  }

  void revoke_session(const std::string& session_id) {
    if (reads_ == 0)
      return;
    ++seq_;
    if (sessions_.size() >= max_entries)
      return overflow();
    sessions_[session_id] = seq_;
  }

  /// Whether a read with `mark` may have missed a revocation of `user_id` or `session_id`.
  bool tainted(uint64_t mark, int32_t user_id, const std::string& session_id) const {
    if (all_ > mark)
      return true;
    auto u = users_.find(user_id);
    if (u != users_.end() && u->second > mark)
      return true;
    auto s = sessions_.find(session_id);
    return s != sessions_.end() && s->second > mark;
  }

  /// Entries remembered (for tests and metrics).
  size_t size() const {
    return users_.size() + sessions_.size();
  }

private:
  void overflow() {
    all_ = seq_;
    users_.clear();
    sessions_.clear();
  }

  uint64_t seq_ = 0;
  uint64_t all_ = 0;
  size_t reads_ = 0;
  std::unordered_map<int32_t, uint64_t> users_;
  std::unordered_map<std::string, uint64_t> sessions_;
};

} // namespace slicegate
