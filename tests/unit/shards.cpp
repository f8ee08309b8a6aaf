#define BOOST_TEST_MODULE shards
#include "common/shards.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

using namespace slicegate;

namespace {

constexpr int32_t count = 64;

/// Who owns each shard, as each member works it out on its own.
std::map<int32_t, std::vector<std::string>> owners(const std::vector<std::string>& members) {
  std::map<int32_t, std::vector<std::string>> result;
  for (auto& m : members)
    for (auto shard : shards::owned(members, m, count))
      result[shard].push_back(m);
  return result;
}

} // namespace

BOOST_AUTO_TEST_CASE(a_slice_falls_in_one_shard) {
  BOOST_CHECK_EQUAL(shards::of(0, count), 0);
  BOOST_CHECK_EQUAL(shards::of(65, count), 1);
  BOOST_CHECK_EQUAL(shards::of(-1, count), 63);
}

BOOST_AUTO_TEST_CASE(every_shard_has_exactly_one_owner_that_all_members_agree_on) {
  for (auto members : std::vector<std::vector<std::string>>{
         {"a"}, {"a", "b"}, {"x1", "x2", "x3"}, {"n1", "n2", "n3", "n4", "n5"}}) {
    auto o = owners(members);
    BOOST_REQUIRE_EQUAL(o.size(), static_cast<size_t>(count));
    for (auto& [shard, who] : o)
      BOOST_CHECK_MESSAGE(who.size() == 1, "shard " << shard << " has " << who.size());
  }
}

BOOST_AUTO_TEST_CASE(a_lone_member_owns_every_shard_even_if_it_does_not_see_itself) {
  auto mine = shards::owned({}, "solo", count);
  BOOST_CHECK_EQUAL(mine.size(), static_cast<size_t>(count));
  BOOST_CHECK(std::is_sorted(mine.begin(), mine.end()));
}

BOOST_AUTO_TEST_CASE(shards_spread_evenly) {
  std::vector<std::string> members;
  for (int i = 0; i < 4; ++i)
    members.push_back("instance-" + std::to_string(i) + "-Qm9vYmFy");
  std::map<std::string, int> load;
  for (auto& [shard, who] : owners(members))
    ++load[who.front()];
  BOOST_REQUIRE_EQUAL(load.size(), members.size());
  for (auto& [m, n] : load)
    // 16 each on average; rendezvous hashing keeps every member well within half of it.
    BOOST_CHECK_MESSAGE(n >= 8 && n <= 24, m << " owns " << n);
}

BOOST_AUTO_TEST_CASE(a_member_leaving_moves_only_its_own_shards) {
  std::vector<std::string> three{"a7Kq", "bX2p", "c9Zt"};
  std::vector<std::string> two{"a7Kq", "c9Zt"};
  auto before = owners(three);
  auto after = owners(two);
  int moved = 0;
  for (auto& [shard, who] : before) {
    if (who.front() == "bX2p") {
      ++moved;
      continue;
    }
    BOOST_CHECK_EQUAL(after[shard].front(), who.front());
  }
  BOOST_CHECK_GT(moved, 0);
  // Joining again moves back exactly those.
  BOOST_CHECK(owners(three) == before);
}
