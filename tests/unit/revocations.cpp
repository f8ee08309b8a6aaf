#define BOOST_TEST_MODULE revocations
#include <boost/test/unit_test.hpp>

#include <string>

#include "actors/revocations.hpp"

using namespace slicegate;

BOOST_AUTO_TEST_CASE(a_read_is_tainted_only_by_its_own_user_or_session) {
  revocations r;
  auto mark = r.begin();
  r.revoke_session("other-session");
  r.revoke_user(7);
  BOOST_TEST(!r.tainted(mark, 1, "mine"));
  BOOST_TEST(r.tainted(mark, 7, "mine"));
  BOOST_TEST(r.tainted(mark, 1, "other-session"));
  // A read that began after the revocations missed none of them.
  auto later = r.begin();
  BOOST_TEST(!r.tainted(later, 7, "other-session"));
  r.end();
  r.end();
}

BOOST_AUTO_TEST_CASE(nothing_is_remembered_while_no_read_is_in_flight) {
  revocations r;
  for (int i = 0; i < 100000; ++i)
    r.revoke_session("s" + std::to_string(i));
  BOOST_TEST(r.size() == 0u);
  auto mark = r.begin();
  r.revoke_user(3);
  BOOST_TEST(r.size() == 1u);
  r.end();
  BOOST_TEST(r.size() == 0u);
  // The read is over: a later one is not tainted by what happened during it.
  auto next = r.begin();
  BOOST_TEST(!r.tainted(next, 3, "x"));
  static_cast<void>(mark);
  r.end();
}

BOOST_AUTO_TEST_CASE(a_flood_of_revocations_stays_bounded_and_taints_conservatively) {
  revocations r;
  auto mark = r.begin();
  for (size_t i = 0; i < 3 * revocations::max_entries; ++i)
    r.revoke_session("logout-" + std::to_string(i));
  BOOST_TEST(r.size() <= revocations::max_entries);
  // Past the bound every read in flight counts as tainted: never a stale session cached.
  BOOST_TEST(r.tainted(mark, 1, "unrelated"));
  auto after = r.begin();
  BOOST_TEST(!r.tainted(after, 1, "unrelated"));
  r.end();
  r.end();
}
