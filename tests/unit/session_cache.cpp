#define BOOST_TEST_MODULE session_cache
#include <boost/test/unit_test.hpp>

#include <string>

#include "actors/session_cache.hpp"

using namespace slicegate;

namespace {

session_account account(int session, int32_t user) {
  session_account result;
  result.session.id = "session-" + std::to_string(session);
  result.session.user_id = user;
  result.user.id = user;
  return result;
}

const timestamp t0{};

} // namespace

BOOST_AUTO_TEST_CASE(finds_what_it_holds) {
  session_cache cache{10};
  cache.put(account(1, 7), t0);
  auto entry = cache.find("session-1");
  BOOST_REQUIRE(entry != nullptr);
  BOOST_TEST(entry->account.user.id == 7);
  BOOST_TEST(cache.find("session-2") == nullptr);
}

BOOST_AUTO_TEST_CASE(put_replaces_an_entry_of_the_same_session) {
  session_cache cache{10};
  cache.put(account(1, 7), t0);
  auto changed = account(1, 7);
  changed.user.email = "new@example.com";
  cache.put(changed, t0);
  BOOST_TEST(cache.size() == 1u);
  BOOST_TEST(cache.find("session-1")->account.user.email == "new@example.com");
  BOOST_TEST(cache.erase_user(7) == 1u);
}

BOOST_AUTO_TEST_CASE(evicts_the_least_recently_used_beyond_capacity) {
  session_cache cache{3};
  cache.put(account(1, 1), t0);
  cache.put(account(2, 2), t0);
  cache.put(account(3, 3), t0);
  // Using 1 makes 2 the oldest.
  BOOST_REQUIRE(cache.find("session-1") != nullptr);
  cache.put(account(4, 4), t0);
  BOOST_TEST(cache.size() == 3u);
  BOOST_TEST(cache.find("session-2") == nullptr);
  BOOST_TEST(cache.find("session-1") != nullptr);
  BOOST_TEST(cache.find("session-3") != nullptr);
  BOOST_TEST(cache.find("session-4") != nullptr);
  // The evicted entry left the user index as well.
  BOOST_TEST(cache.erase_user(2) == 0u);
}

BOOST_AUTO_TEST_CASE(erase_user_drops_every_session_of_that_user_only) {
  session_cache cache{10};
  cache.put(account(1, 7), t0);
  cache.put(account(2, 7), t0);
  cache.put(account(3, 8), t0);
  BOOST_TEST(cache.erase_user(7) == 2u);
  BOOST_TEST(cache.find("session-1") == nullptr);
  BOOST_TEST(cache.find("session-2") == nullptr);
  BOOST_TEST(cache.find("session-3") != nullptr);
  BOOST_TEST(cache.size() == 1u);
}

BOOST_AUTO_TEST_CASE(erase_drops_one_session) {
  session_cache cache{10};
  cache.put(account(1, 7), t0);
  cache.put(account(2, 7), t0);
  BOOST_TEST(cache.erase("session-1"));
  BOOST_TEST(!cache.erase("session-1"));
  BOOST_TEST(cache.erase_user(7) == 1u);
}

BOOST_AUTO_TEST_CASE(survives_a_move) {
  session_cache cache{2};
  cache.put(account(1, 7), t0);
  session_cache moved{5};
  moved = std::move(cache);
  BOOST_TEST(moved.find("session-1") != nullptr);
  BOOST_TEST(moved.erase_user(7) == 1u);
  BOOST_TEST(moved.capacity() == 2u);
}
