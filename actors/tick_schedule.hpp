#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <map>
#include <mutex>
#include <thread>

#include <caf/actor_addr.hpp>
#include <caf/message.hpp>
#include <caf/timespan.hpp>

namespace slicegate {

/// One timer thread for many far-off, evenly spread timers, such as the probes and disk walks
/// of ten thousand slice watchers: each due message goes out at its instant or up to one
/// `resolution` later, all that fall due together in one wake-up.
///
/// CAF's actor clock wakes its thread for every timer set, however far off, and again for
/// each one due: at 10,000 slices that was an eighth of the daemon's CPU (bench/README.md,
/// watch_10k). Here setting a timer wakes nobody unless it is due before the thread's next
/// wake-up, which a timer an interval ahead never is, and the thread wakes at most once per
/// `resolution`, sending what is due in one go.
///
/// Thread-safe. Delays count on the steady clock, so a wall clock set back or forth moves
/// nothing already scheduled. A receiver that is gone when its message falls due is skipped;
/// the schedule holds no reference that keeps it alive.
class tick_schedule {
 public:
  explicit tick_schedule(caf::timespan resolution = std::chrono::milliseconds{20});

  /// Drops what is still scheduled.
  ~tick_schedule();

  tick_schedule(const tick_schedule&) = delete;
  tick_schedule& operator=(const tick_schedule&) = delete;

  /// Sends `content` to `receiver` (anonymously) once `delay` has passed, at most one
  /// resolution later.
  void send_after(caf::timespan delay, const caf::actor_addr& receiver, caf::message content);

  /// Messages scheduled and not yet sent.
  size_t pending();

  /// How often the thread woke up to send something, for tests and statistics.
  size_t wakeups();

 private:
  struct entry {
    caf::actor_addr receiver;
    caf::message content;
  };

  using clock = std::chrono::steady_clock;

  void run();

  clock::duration resolution_;
  std::mutex mtx_;
  std::condition_variable cv_;
  std::multimap<clock::time_point, entry> due_;
  /// When the thread woke up last to send, and when it will next: the later of the earliest
  /// entry and one resolution after the last, or the far future while nothing is scheduled.
  clock::time_point last_wakeup_;
  clock::time_point next_wakeup_ = clock::time_point::max();
  size_t wakeups_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

} // namespace slicegate
