#define BOOST_TEST_MODULE restart_budget
#include "common/restart_budget.hpp"

#include <chrono>

#include <boost/test/unit_test.hpp>

using namespace slicegate;
using namespace std::chrono_literals;

namespace {

const restart_budget::clock::time_point t0{std::chrono::hours{1}};

} // namespace

BOOST_AUTO_TEST_CASE(at_most_n_restarts_within_the_period) {
  restart_budget budget{5, 60s};
  for (int i = 0; i < 5; ++i)
    BOOST_CHECK(budget.try_restart(t0 + i * 1s));
  // The sixth within 60 s exceeds the intensity, and is not recorded.
  BOOST_CHECK(!budget.try_restart(t0 + 10s));
  BOOST_CHECK_EQUAL(budget.recent(t0 + 10s), 5u);
  // Once the first has aged out of the window, there is room for one more.
  BOOST_CHECK(!budget.try_restart(t0 + 59s));
  BOOST_CHECK(budget.try_restart(t0 + 60s));
  BOOST_CHECK(!budget.try_restart(t0 + 60s));
  BOOST_CHECK_EQUAL(budget.recent(t0 + 200s), 0u);
  BOOST_CHECK(budget.try_restart(t0 + 200s));
}

BOOST_AUTO_TEST_CASE(a_zero_budget_never_restarts) {
  restart_budget budget{0, 60s};
  BOOST_CHECK(!budget.try_restart(t0));
}

BOOST_AUTO_TEST_CASE(backoff_doubles_with_recent_restarts_and_resets_when_they_age_out) {
  restart_budget budget{10, 60s};
  BOOST_CHECK(budget.backoff(100ms, 5s, t0) == 100ms); // nothing recorded yet
  budget.try_restart(t0);
  BOOST_CHECK(budget.backoff(100ms, 5s, t0) == 100ms);
  budget.try_restart(t0 + 1s);
  BOOST_CHECK(budget.backoff(100ms, 5s, t0 + 1s) == 200ms);
  budget.try_restart(t0 + 2s);
  BOOST_CHECK(budget.backoff(100ms, 5s, t0 + 2s) == 400ms);
  for (int i = 3; i < 10; ++i)
    budget.try_restart(t0 + i * 1s);
  BOOST_CHECK(budget.backoff(100ms, 5s, t0 + 9s) == 5s);
  BOOST_CHECK(budget.backoff(100ms, 5s, t0 + 120s) == 100ms);
}
