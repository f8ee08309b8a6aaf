#define BOOST_TEST_MODULE tick_schedule
#include "actors/tick_schedule.hpp"

#include <chrono>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <caf/all.hpp>

#include "tests/support/system.hpp"

using namespace slicegate;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

struct fixture {
  test::system_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};

  /// Receives `n` integers, in arrival order, with when each arrived; fails after `timeout`.
  std::vector<std::pair<int, steady::time_point>> receive(size_t n, caf::timespan timeout = 5s) {
    std::vector<std::pair<int, steady::time_point>> result;
    bool timed_out = false;
    while (result.size() < n && !timed_out)
      self->receive([&](int x) { result.emplace_back(x, steady::now()); },
                    caf::after(timeout) >> [&] { timed_out = true; });
    BOOST_TEST(!timed_out);
    return result;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(tick_schedule_tests, fixture)

BOOST_AUTO_TEST_CASE(messages_arrive_after_their_delay_in_due_order) {
  tick_schedule schedule{10ms};
  auto start = steady::now();
  schedule.send_after(300ms, self->address(), caf::make_message(3));
  schedule.send_after(100ms, self->address(), caf::make_message(1));
  schedule.send_after(200ms, self->address(), caf::make_message(2));
  auto got = receive(3);
  BOOST_REQUIRE_EQUAL(got.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    BOOST_TEST(got[i].first == i + 1);
    // Never early.
    BOOST_TEST((got[i].second - start >= (i + 1) * 100ms));
  }
  BOOST_TEST(schedule.pending() == 0u);
}

BOOST_AUTO_TEST_CASE(a_zero_or_negative_delay_is_due_at_once) {
  tick_schedule schedule{10ms};
  schedule.send_after(-1s, self->address(), caf::make_message(1));
  schedule.send_after(0s, self->address(), caf::make_message(2));
  BOOST_TEST(receive(2).size() == 2u);
}

BOOST_AUTO_TEST_CASE(far_off_timers_wake_nobody) {
  tick_schedule schedule{10ms};
  for (int i = 0; i < 1000; ++i)
    schedule.send_after(1h + i * 1ms, self->address(), caf::make_message(i));
  std::this_thread::sleep_for(200ms);
  BOOST_TEST(schedule.wakeups() == 0u);
  BOOST_TEST(schedule.pending() == 1000u);
}

BOOST_AUTO_TEST_CASE(timers_due_together_go_out_in_one_wakeup) {
  // A resolution of 200 ms: 100 timers spread over 50 ms fall into one or two wake-ups, not
  // a hundred.
  tick_schedule schedule{200ms};
  for (int i = 0; i < 100; ++i)
    schedule.send_after(100ms + i * 500us, self->address(), caf::make_message(i));
  auto got = receive(100);
  BOOST_REQUIRE_EQUAL(got.size(), 100u);
  for (int i = 0; i < 100; ++i)
    BOOST_TEST(got[i].first == i);
  BOOST_TEST(schedule.wakeups() <= 2u);
}

BOOST_AUTO_TEST_CASE(a_timer_earlier_than_all_others_is_not_held_back_by_them) {
  tick_schedule schedule{10ms};
  schedule.send_after(1h, self->address(), caf::make_message(2));
  // The thread sleeps toward the hour; this one must wake it.
  std::this_thread::sleep_for(50ms);
  auto start = steady::now();
  schedule.send_after(50ms, self->address(), caf::make_message(1));
  auto got = receive(1, 5s);
  BOOST_REQUIRE_EQUAL(got.size(), 1u);
  BOOST_TEST(got[0].first == 1);
  BOOST_TEST((got[0].second - start >= 50ms));
  BOOST_TEST((got[0].second - start < 4s));
}

BOOST_AUTO_TEST_CASE(a_receiver_that_is_gone_is_skipped_and_not_kept_alive) {
  tick_schedule schedule{10ms};
  caf::actor_addr gone;
  {
    auto quiet = sys.spawn([]() -> caf::behavior { return {[](int) {}}; });
    gone = quiet.address();
    schedule.send_after(100ms, gone, caf::make_message(1));
    caf::anon_send_exit(quiet, caf::exit_reason::user_shutdown);
  }
  schedule.send_after(150ms, self->address(), caf::make_message(2));
  auto got = receive(1);
  BOOST_REQUIRE_EQUAL(got.size(), 1u);
  BOOST_TEST(got[0].first == 2);
  // The schedule held only a weak reference: the actor is gone for good once it ended.
  auto deadline = steady::now() + 5s;
  while (caf::actor_cast<caf::strong_actor_ptr>(gone) && steady::now() < deadline)
    std::this_thread::sleep_for(10ms);
  BOOST_TEST(!caf::actor_cast<caf::strong_actor_ptr>(gone));
}

BOOST_AUTO_TEST_CASE(destroying_the_schedule_drops_what_is_pending) {
  auto start = steady::now();
  {
    tick_schedule schedule{10ms};
    schedule.send_after(1h, self->address(), caf::make_message(1));
  }
  BOOST_TEST((steady::now() - start < 5s));
  bool received = false;
  self->receive([&](int) { received = true; }, caf::after(100ms) >> [] {});
  BOOST_TEST(!received);
}

BOOST_AUTO_TEST_SUITE_END()
