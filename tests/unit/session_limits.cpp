#define BOOST_TEST_MODULE session_limits
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <string>

#include "persistence/detail/link.hpp"

using namespace slicegate::detail;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_CASE(limits_become_libpq_parameters_in_both_forms) {
  session_limits limits{30000ms, 10000ms, 60000ms, 30s};
  BOOST_TEST(with_session_limits("postgresql://gw@db/wank_saas", limits)
             == "postgresql://gw@db/wank_saas?options=-c%20statement_timeout%3D30000%20-c%20"
                "lock_timeout%3D10000%20-c%20idle_in_transaction_session_timeout%3D60000"
                "&keepalives=1&keepalives_idle=30&keepalives_interval=10&keepalives_count=3");
  BOOST_TEST(with_session_limits("postgresql://gw@db/wank_saas?sslmode=require",
                                 session_limits{5000ms, 0ms, 0ms, 0s})
             == "postgresql://gw@db/wank_saas?sslmode=require"
                "&options=-c%20statement_timeout%3D5000");
  BOOST_TEST(with_session_limits("host=db dbname=wank_saas", session_limits{5000ms, 0ms, 0ms, 0s})
             == "host=db dbname=wank_saas options='-c statement_timeout=5000'");
}

BOOST_AUTO_TEST_CASE(what_the_url_sets_itself_is_left_alone) {
  session_limits limits{30000ms, 10000ms, 0ms, 30s};
  auto url = std::string{"postgresql://gw@db/wank_saas?options=-c%20work_mem%3D64MB&keepalives=0"};
  BOOST_TEST(with_session_limits(url, limits) == url);
  BOOST_TEST(with_session_limits("postgresql://gw@db/x", session_limits{}) == "postgresql://gw@db/x");
}
