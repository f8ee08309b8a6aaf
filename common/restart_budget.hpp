#pragma once

// OTP's restart intensity: a supervisor restarts a child at most `max_restarts` times within
// any window of `period`; one more means the fault is not passing, and the supervisor gives
// up (escalates) instead of restarting in a loop. Each restart waits a back-off that doubles
// with the restarts still inside the window.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <deque>

#include <caf/timestamp.hpp>

namespace slicegate {

class restart_budget {
public:
  /// At most 5 restarts in 60 s, the first after 100 ms, doubling up to 5 s.
  restart_budget() = default;

  restart_budget(size_t max_restarts, caf::timespan period, caf::timespan first_delay,
                 caf::timespan max_delay)
    : max_restarts_(max_restarts), period_(period), first_delay_(first_delay),
      max_delay_(max_delay) {
    // Nothing else to set.
  }

  /// Records a restart at `now`; false when it exceeds the budget.
  bool take(caf::timestamp now) {
    while (!restarts_.empty() && now - restarts_.front() >= period_)
      restarts_.pop_front();
    if (restarts_.size() >= max_restarts_)
      return false;
    restarts_.push_back(now);
    return true;
  }

  /// The back-off before the restart just taken.
  caf::timespan delay() const {
    auto result = first_delay_;
    for (size_t i = 1; i < restarts_.size() && result < max_delay_; ++i)
      result *= 2;
    return std::min(result, max_delay_);
  }

  /// Restarts inside the current window.
  size_t recent() const {
    return restarts_.size();
  }

private:
  size_t max_restarts_ = 5;
  caf::timespan period_ = std::chrono::seconds{60};
  caf::timespan first_delay_ = std::chrono::milliseconds{100};
  caf::timespan max_delay_ = std::chrono::seconds{5};
  std::deque<caf::timestamp> restarts_;
};

} // namespace slicegate
