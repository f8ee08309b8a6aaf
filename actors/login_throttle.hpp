#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>

#include "messages/records.hpp"

namespace slicegate {

/// Counts failed logins per normalized e-mail, whether or not an account has it (so that the
/// answer reveals nothing), and refuses further attempts once `max_failures` happened within
/// `window`, until the oldest of them leaves the window.
///
/// Attempts still in flight count against the limit as well: otherwise a burst of parallel
/// guesses would all pass the check before the first failure is recorded. A refused attempt
/// is not a failure, so hammering a throttled e-mail does not extend its lockout.
class login_throttle {
public:
  /// `capacity` bounds the number of e-mails tracked at once. It is rarely reached: every
  /// tracked e-mail cost a bcrypt run within the window, and bcrypt runs are scarce.
  login_throttle(int32_t max_failures = 10, timespan window = std::chrono::minutes{15},
                 size_t capacity = 100000);

  /// Starts an attempt for `email` unless it is throttled; returns how long it must wait if
  /// it is (always at least one second).
  std::optional<timespan> try_begin(const std::string& email, timestamp now);

  /// Ends an attempt with a wrong password (or an unknown e-mail).
  void end_failed(const std::string& email, timestamp now);

  /// Ends an attempt with the right password: the e-mail's failures are forgotten.
  void end_succeeded(const std::string& email);

  /// Ends an attempt that reached no verdict (database or hasher unavailable).
  void end_undecided(const std::string& email);

  /// Failures of `email` within the window as of the last time it was touched.
  size_t failures(const std::string& email) const;

  /// E-mails tracked.
  size_t size() const {
    return entries_.size();
  }

private:
  struct entry {
    /// Oldest first; at most `max_failures` (older ones no longer matter).
    std::deque<timestamp> failures;
    int32_t in_flight = 0;
  };

  void prune(entry& x, timestamp now) const;
  void drop_if_idle(const std::string& email);
  entry& slot(const std::string& email, timestamp now);
  void sweep(timestamp now);

  size_t max_failures_;
  timespan window_;
  size_t capacity_;
  /// Size at which the next sweep of stale entries runs; doubles with the live set, so
  /// sweeping costs amortized constant time per attempt.
  size_t next_sweep_;
  std::unordered_map<std::string, entry> entries_;
};

} // namespace slicegate
