#include "actors/tick_schedule.hpp"

#include <algorithm>
#include <iterator>
#include <utility>
#include <vector>

#include <caf/abstract_actor.hpp>
#include <caf/actor_cast.hpp>
#include <caf/message_id.hpp>

namespace slicegate {

tick_schedule::tick_schedule(caf::timespan resolution)
  : resolution_(std::chrono::duration_cast<clock::duration>(
      std::max(resolution, caf::timespan{std::chrono::microseconds{1}}))) {
  thread_ = std::thread{[this] {
    run();
  }};
}

tick_schedule::~tick_schedule() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stopping_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

void tick_schedule::send_after(caf::timespan delay, const caf::actor_addr& receiver,
                               caf::message content) {
  auto when = clock::now() + std::chrono::duration_cast<clock::duration>(
                                 std::max(delay, caf::timespan::zero()));
  bool wake = false;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    due_.emplace(when, entry{receiver, std::move(content)});
    // The thread needs waking only if this entry moves its next wake-up earlier.
    wake = std::max(when, last_wakeup_ + resolution_) < next_wakeup_;
  }
  if (wake)
    cv_.notify_one();
}

size_t tick_schedule::pending() {
  std::lock_guard<std::mutex> guard{mtx_};
  return due_.size();
}

size_t tick_schedule::wakeups() {
  std::lock_guard<std::mutex> guard{mtx_};
  return wakeups_;
}

void tick_schedule::run() {
  std::vector<entry> ready;
  std::unique_lock<std::mutex> lock{mtx_};
  while (!stopping_) {
    if (due_.empty()) {
      next_wakeup_ = clock::time_point::max();
      cv_.wait(lock);
      continue;
    }
    next_wakeup_ = std::max(due_.begin()->first, last_wakeup_ + resolution_);
    auto now = clock::now();
    if (now < next_wakeup_) {
      cv_.wait_until(lock, next_wakeup_);
      continue;
    }
    last_wakeup_ = now;
    ++wakeups_;
    auto end = due_.upper_bound(now);
    for (auto i = due_.begin(); i != end; ++i)
      ready.push_back(std::move(i->second));
    due_.erase(due_.begin(), end);
    lock.unlock();
    for (auto& x : ready)
      if (auto receiver = caf::actor_cast<caf::strong_actor_ptr>(x.receiver))
        receiver->enqueue(nullptr, caf::make_message_id(), std::move(x.content), nullptr);
    // Dropped outside the lock: a message may hold the last reference to something big.
    ready.clear();
    lock.lock();
  }
}

} // namespace slicegate
