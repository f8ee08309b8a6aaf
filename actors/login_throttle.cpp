#include "actors/login_throttle.hpp"

#include <algorithm>

namespace slicegate {

namespace {

constexpr size_t min_sweep_size = 1024;

} // namespace

login_throttle::login_throttle(int32_t max_failures, timespan window, size_t capacity)
  : max_failures_(static_cast<size_t>(std::max(max_failures, 1))),
    window_(window),
    capacity_(std::max<size_t>(capacity, 1)),
    next_sweep_(std::min(capacity_, min_sweep_size)) {
}

std::optional<timespan> login_throttle::try_begin(const std::string& email, timestamp now) {
  if (auto i = entries_.find(email); i != entries_.end()) {
    auto& x = i->second;
    prune(x, now);
    auto failures = x.failures.size();
    if (failures + static_cast<size_t>(x.in_flight) >= max_failures_) {
      // Blocked by failures: free again when the oldest that still matters leaves the
      // window. Blocked only by attempts in flight: those end within a bcrypt run.
      timespan wait = std::chrono::seconds{1};
      if (failures >= max_failures_)
        wait = x.failures[failures - max_failures_] + window_ - now;
      return std::max<timespan>(wait, std::chrono::seconds{1});
    }
  }
  ++slot(email, now).in_flight;
  return std::nullopt;
}

void login_throttle::end_failed(const std::string& email, timestamp now) {
  auto& x = slot(email, now);
  x.in_flight = std::max(x.in_flight - 1, 0);
  prune(x, now);
  x.failures.push_back(now);
  while (x.failures.size() > max_failures_)
    x.failures.pop_front();
}

void login_throttle::end_succeeded(const std::string& email) {
  if (auto i = entries_.find(email); i != entries_.end()) {
    i->second.in_flight = std::max(i->second.in_flight - 1, 0);
    i->second.failures.clear();
    drop_if_idle(email);
  }
}

void login_throttle::end_undecided(const std::string& email) {
  if (auto i = entries_.find(email); i != entries_.end()) {
    i->second.in_flight = std::max(i->second.in_flight - 1, 0);
    drop_if_idle(email);
  }
}

size_t login_throttle::failures(const std::string& email) const {
  auto i = entries_.find(email);
  return i == entries_.end() ? 0 : i->second.failures.size();
}

void login_throttle::prune(entry& x, timestamp now) const {
  while (!x.failures.empty() && x.failures.front() + window_ <= now)
    x.failures.pop_front();
}

void login_throttle::drop_if_idle(const std::string& email) {
  auto i = entries_.find(email);
  if (i != entries_.end() && i->second.failures.empty() && i->second.in_flight == 0)
    entries_.erase(i);
}

login_throttle::entry& login_throttle::slot(const std::string& email, timestamp now) {
  if (auto i = entries_.find(email); i != entries_.end())
    return i->second;
  if (entries_.size() >= next_sweep_)
    sweep(now);
  if (entries_.size() >= capacity_) {
    // Still full of live entries: give up the one whose last failure is oldest, which is
    // the one closest to being forgotten anyway. Entries with attempts in flight stay.
    auto victim = entries_.end();
    for (auto i = entries_.begin(); i != entries_.end(); ++i) {
      if (i->second.in_flight > 0 || i->second.failures.empty())
        continue;
      if (victim == entries_.end()
          || i->second.failures.back() < victim->second.failures.back())
        victim = i;
    }
    if (victim != entries_.end())
      entries_.erase(victim);
  }
  return entries_[email];
}

void login_throttle::sweep(timestamp now) {
  for (auto i = entries_.begin(); i != entries_.end();) {
    prune(i->second, now);
    if (i->second.failures.empty() && i->second.in_flight == 0)
      i = entries_.erase(i);
    else
      ++i;
  }
  next_sweep_ = std::min(capacity_, std::max(min_sweep_size, 2 * entries_.size()));
}

} // namespace slicegate
