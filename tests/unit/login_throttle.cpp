#define BOOST_TEST_MODULE login_throttle
#include <boost/test/unit_test.hpp>

#include <string>

#include "actors/login_throttle.hpp"

using namespace slicegate;
using namespace std::chrono_literals;

namespace {

const timestamp t0{std::chrono::hours{24 * 365 * 50}};

/// Fails `n` attempts of `email`, one second apart from `start`; returns the last instant.
timestamp fail(login_throttle& t, const std::string& email, int n, timestamp start) {
  auto at = start;
  for (int i = 0; i < n; ++i) {
    at = start + std::chrono::seconds{i};
    BOOST_REQUIRE(!t.try_begin(email, at));
    t.end_failed(email, at);
  }
  return at;
}

} // namespace

BOOST_AUTO_TEST_CASE(the_eleventh_attempt_within_the_window_is_refused) {
  login_throttle t{10, 15min, 100};
  auto last = fail(t, "a@x", 10, t0);
  auto wait = t.try_begin("a@x", last + 1s);
  BOOST_REQUIRE(wait);
  // The first failure (at t0) leaves the window at t0 + 15 min.
  BOOST_TEST(std::chrono::duration_cast<std::chrono::seconds>(*wait).count() == 890);
}

BOOST_AUTO_TEST_CASE(attempts_resume_when_the_oldest_failure_leaves_the_window) {
  login_throttle t{10, 15min, 100};
  fail(t, "a@x", 10, t0);
  BOOST_TEST(t.try_begin("a@x", t0 + 15min - 1s).has_value());
  BOOST_TEST(!t.try_begin("a@x", t0 + 15min));
  t.end_failed("a@x", t0 + 15min);
  // Failures at t0+1s..t0+9s and t0+15min: ten again, until t0+1s leaves.
  BOOST_TEST(t.try_begin("a@x", t0 + 15min + 500ms).has_value());
  BOOST_TEST(!t.try_begin("a@x", t0 + 15min + 1s));
}

BOOST_AUTO_TEST_CASE(refused_attempts_do_not_extend_the_lockout) {
  login_throttle t{3, 15min, 100};
  fail(t, "a@x", 3, t0);
  for (int i = 0; i < 100; ++i)
    BOOST_REQUIRE(t.try_begin("a@x", t0 + std::chrono::seconds{10 + i}));
  BOOST_TEST(!t.try_begin("a@x", t0 + 15min));
}

BOOST_AUTO_TEST_CASE(the_wait_is_at_least_one_second) {
  login_throttle t{1, 15min, 100};
  BOOST_REQUIRE(!t.try_begin("a@x", t0));
  t.end_failed("a@x", t0);
  auto wait = t.try_begin("a@x", t0 + 15min - 1ms);
  BOOST_REQUIRE(wait);
  BOOST_TEST(wait->count() == std::chrono::nanoseconds{1s}.count());
}

BOOST_AUTO_TEST_CASE(attempts_in_flight_count_against_the_limit) {
  login_throttle t{3, 15min, 100};
  BOOST_TEST(!t.try_begin("a@x", t0));
  BOOST_TEST(!t.try_begin("a@x", t0));
  BOOST_TEST(!t.try_begin("a@x", t0));
  BOOST_TEST(t.try_begin("a@x", t0).has_value());
  t.end_undecided("a@x");
  BOOST_TEST(!t.try_begin("a@x", t0));
}

BOOST_AUTO_TEST_CASE(success_clears_that_email_only) {
  login_throttle t{3, 15min, 100};
  fail(t, "a@x", 2, t0);
  fail(t, "b@x", 2, t0);
  BOOST_REQUIRE(!t.try_begin("a@x", t0 + 5s));
  t.end_succeeded("a@x");
  BOOST_TEST(t.failures("a@x") == 0u);
  BOOST_TEST(t.failures("b@x") == 2u);
}

BOOST_AUTO_TEST_CASE(emails_are_counted_apart) {
  login_throttle t{2, 15min, 100};
  fail(t, "a@x", 2, t0);
  BOOST_TEST(t.try_begin("a@x", t0 + 5s).has_value());
  BOOST_TEST(!t.try_begin("b@x", t0 + 5s));
}

BOOST_AUTO_TEST_CASE(stays_bounded_and_keeps_the_most_recent) {
  login_throttle t{3, 15min, 2000};
  for (int i = 0; i < 5000; ++i) {
    auto email = "user" + std::to_string(i) + "@x";
    auto at = t0 + std::chrono::milliseconds{i};
    BOOST_REQUIRE(!t.try_begin(email, at));
    t.end_failed(email, at);
  }
  BOOST_TEST(t.size() <= 2000u);
  BOOST_TEST(t.failures("user4999@x") == 1u);
}

BOOST_AUTO_TEST_CASE(stale_entries_are_swept) {
  login_throttle t{3, 15min, 100000};
  for (int i = 0; i < 3000; ++i) {
    auto email = "user" + std::to_string(i) + "@x";
    BOOST_REQUIRE(!t.try_begin(email, t0));
    t.end_failed(email, t0);
  }
  // An hour later every failure is out of the window; growth triggers a sweep.
  for (int i = 0; i < 1100; ++i) {
    auto email = "later" + std::to_string(i) + "@x";
    BOOST_REQUIRE(!t.try_begin(email, t0 + 1h));
    t.end_failed(email, t0 + 1h);
  }
  BOOST_TEST(t.size() < 3000u);
}
