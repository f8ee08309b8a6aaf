#pragma once

// The suite's one actor-system configuration, and the deterministic world actor tests run in.

#include <utility>
#include <vector>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/send.hpp>

#include "tests/support/ask.hpp"

namespace slicegate::test {

/// How a test's actors are scheduled.
enum class scheduling {
  /// CAF's work-stealing scheduler: real threads, real time. For tests against real servers.
  threaded,
  /// The test coordinator: nothing runs until the test says so, and time moves only when the
  /// test advances it. For actor tests with mocked peers.
  deterministic,
};

/// Every slicegate message type registered, CAF's own log quiet (and written inline, not
/// from a thread of its own, when deterministic).
class system_config : public caf::actor_system_config {
 public:
  explicit system_config(scheduling mode = scheduling::threaded);
};

/// An actor system on the deterministic scheduler. Actors spawned through `spawn` are killed
/// when the test ends, so that a mock still waiting for something cannot keep the system from
/// shutting down.
class deterministic_system {
 public:
  deterministic_system();
  ~deterministic_system();

  deterministic_system(const deterministic_system&) = delete;
  deterministic_system& operator=(const deterministic_system&) = delete;

  /// Spawns an actor the fixture owns until the end of the test.
  template <class... Ts>
  auto spawn(Ts&&... xs) {
    auto handle = sys.spawn(std::forward<Ts>(xs)...);
    owned_.push_back(caf::actor_cast<caf::actor>(handle));
    return handle;
  }

  /// Sends `xs` to `dest` from a probe the fixture owns; the reply arrives once the test runs
  /// the system. For requests that must all be in flight before any is answered.
  template <class T, class Handle, class... Ts>
  pending<T> ask_later(const Handle& dest, Ts... xs) {
    auto result = test::ask_later<T>(sys, dest, std::move(xs)...);
    owned_.push_back(result.probe);
    return result;
  }

  /// Runs every actor until all mailboxes are empty.
  void run();

  /// Moves the scheduler's clock by `d`, fires what became due and runs until quiet.
  void advance(caf::timespan d);

  /// The scheduler's virtual clock.
  caf::actor_clock::time_point clock_now();

  system_config cfg{scheduling::deterministic};
  caf::actor_system sys{cfg};
  caf::scheduler::test_coordinator& sched;

 private:
  std::vector<caf::actor> owned_;
};

} // namespace slicegate::test
