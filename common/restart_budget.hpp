#pragma once

// OTP's restart intensity for a supervisor: at most `max_restarts` restarts within any
// `period`. One more means the child cannot get going; the supervisor then gives up and fails
// itself, so that its own supervisor decides (restart the subtree, or stop the process with a
// non-zero exit and let the service manager restart it). The budget also gives the back-off
// before a restart, which grows with the restarts the window holds and falls back to the first
// delay once they have aged out of it.
//
//     restart_budget budget{5, 60s};
//     ... the child died abnormally:
//     if (!budget.try_restart(now))
//       return give_up();
//     delayed_restart(budget.backoff(100ms, 5s, now));

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <deque>

namespace slicegate {

class restart_budget {
 public:
  using clock = std::chrono::steady_clock;

  /// OTP's common choice: at most 5 restarts within 60 s.
  restart_budget() : restart_budget(5, std::chrono::seconds{60}) {}

  /// At most `max_restarts` restarts within `period` (OTP's intensity and period).
  restart_budget(size_t max_restarts, clock::duration period)
    : max_restarts_(max_restarts), period_(period) {}

  /// Records a restart at `now`; false, recording nothing, if it would exceed the budget:
  /// the caller should give up instead.
  bool try_restart(clock::time_point now = clock::now()) {
    forget(now);
    if (restarts_.size() >= max_restarts_)
      return false;
    restarts_.push_back(now);
    return true;
  }

  /// Restarts recorded within `period` before `now`.
  size_t recent(clock::time_point now = clock::now()) {
    forget(now);
    return restarts_.size();
  }

  /// How long to wait before the restart just recorded: `first` for the only one in the
  /// window, doubling with each further one, never more than `last`.
  clock::duration backoff(clock::duration first, clock::duration last,
                          clock::time_point now = clock::now()) {
    auto n = recent(now);
    auto result = first;
    for (size_t i = 1; i < n && result < last; ++i)
      result *= 2;
    return std::min(result, last);
  }

  size_t max_restarts() const {
    return max_restarts_;
  }

  clock::duration period() const {
    return period_;
  }

 private:
  /// Drops the restarts that are `period` or more before `now`.
  void forget(clock::time_point now) {
    while (!restarts_.empty() && now - restarts_.front() >= period_)
      restarts_.pop_front();
  }

  size_t max_restarts_;
  clock::duration period_;
  std::deque<clock::time_point> restarts_;
};

} // namespace slicegate
