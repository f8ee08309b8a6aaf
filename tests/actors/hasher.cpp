#define BOOST_TEST_MODULE hasher
#include "actors/hasher.hpp"

#include <algorithm>
#include <crypt.h>
#include <chrono>
#include <dirent.h>
#include <fstream>
#include <ostream>
#include <sched.h>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <caf/all.hpp>

#include "messages/error.hpp"
#include "tests/support/ask.hpp"
#include "tests/support/system.hpp"

using namespace slicegate;
using namespace std::chrono_literals;

namespace slicegate {

std::ostream& operator<<(std::ostream& os, ec x) {
  return os << to_string(x);
}

} // namespace slicegate

namespace {

/// A real scheduler and real bcrypt threads; cost 4 keeps a hash near a millisecond.
struct fixture {
  test::system_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};

  hasher_actor spawn_hasher(size_t workers, size_t queue, bool idle_priority = true) {
    hasher_config hc;
    hc.workers = workers;
    hc.queue = queue;
    hc.idle_priority = idle_priority;
    return sys.spawn(hasher, hc);
  }

  caf::expected<std::string> hash(const hasher_actor& h, std::string password, int cost = 4) {
    return test::ask<std::string>(sys, h, 10s, auth::hash_password{std::move(password), cost});
  }

  /// Whether `password` matches `hash`; an error fails the test.
  bool verify(const hasher_actor& h, std::string password, std::string hash) {
    return test::must<bool>(sys, h, 10s,
                            auth::verify_password{std::move(password), std::move(hash)});
  }
};

/// The threads of this process that run at SCHED_IDLE (field 41 of stat(5) is 5), by id.
std::set<std::string> idle_threads() {
  std::set<std::string> result;
  auto dir = opendir("/proc/self/task");
  while (auto entry = readdir(dir)) {
    if (entry->d_name[0] == '.')
      continue;
    std::ifstream in{std::string{"/proc/self/task/"} + entry->d_name + "/stat"};
    std::string line;
    std::getline(in, line);
    auto close = line.rfind(')');
    if (close == std::string::npos || close + 2 > line.size())
      continue; // gone since readdir
    // Fields after the parenthesized command name, which may hold spaces.
    std::istringstream rest{line.substr(close + 2)};
    std::string field;
    for (int i = 3; i <= 41 && rest >> field; ++i)
      if (i == 41 && std::stoi(field) == SCHED_IDLE)
        result.insert(entry->d_name);
  }
  closedir(dir);
  return result;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(hasher_tests, fixture)

BOOST_AUTO_TEST_CASE(hashes_with_2b_at_the_requested_cost_and_verifies) {
  auto h = spawn_hasher(2, 8);
  auto hash = this->hash(h, "correct horse battery staple");
  BOOST_REQUIRE(hash);
  BOOST_TEST(hash->size() == 60u);
  BOOST_TEST(hash->rfind("$2b$04$", 0) == 0u);
  BOOST_TEST(verify(h, "correct horse battery staple", *hash));
  BOOST_TEST(!verify(h, "correct horse battery stapl", *hash));
  BOOST_TEST(!verify(h, "", *hash));
  // A fresh salt every time.
  BOOST_TEST(*this->hash(h, "correct horse battery staple") != *hash);
}

BOOST_AUTO_TEST_CASE(malformed_hashes_never_verify) {
  auto h = spawn_hasher(1, 8);
  BOOST_TEST(!verify(h, "password", ""));
  BOOST_TEST(!verify(h, "password", "password"));
  BOOST_TEST(!verify(h, "password", "$2b$04$tooshort"));
}

BOOST_AUTO_TEST_CASE(cost_out_of_range_is_refused) {
  auto h = spawn_hasher(1, 8);
  auto low = hash(h, "password", 3);
  BOOST_REQUIRE(!low);
  BOOST_TEST(code_of(low.error()) == ec::invalid_request);
  auto high = hash(h, "password", 32);
  BOOST_REQUIRE(!high);
  BOOST_TEST(code_of(high.error()) == ec::invalid_request);
}

BOOST_AUTO_TEST_CASE(bcrypt_itself_ignores_bytes_past_72_which_is_why_they_are_refused) {
  // The session manager refuses such passwords; this pins down why it must.
  auto h = spawn_hasher(1, 8);
  auto base = std::string(72, 'p');
  auto hash = this->hash(h, base + "A");
  BOOST_REQUIRE(hash);
  BOOST_TEST(verify(h, base + "B", *hash));
  auto exact = this->hash(h, base);
  BOOST_REQUIRE(exact);
  BOOST_TEST(!verify(h, std::string(71, 'p') + "q", *exact));
}

BOOST_AUTO_TEST_CASE(a_full_queue_is_refused_at_once) {
  // One worker, one queue slot, cost 12 (about 0.2 s a hash): the first request runs, the
  // second waits, the third finds no room and must hear so long before any hash is done.
  // At normal priority: at SCHED_IDLE, on a host whose cores other processes keep busy, the
  // cost-12 hashes would get no CPU at all (hasher_config::idle_priority), and this case is
  // about the queue, not the priority.
  auto h = spawn_hasher(1, 1, false);
  for (int i = 0; i < 3; ++i)
    self->send(h, auth::hash_password{"password" + std::to_string(i), 12});
  // Replies to sends come back as ordinary messages; collect them with their arrival time.
  auto start = std::chrono::steady_clock::now();
  std::vector<std::chrono::milliseconds> hashed;
  std::vector<std::chrono::milliseconds> refused;
  auto since_start = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  };
  for (int i = 0; i < 3; ++i) {
    self->receive([&](std::string&) { hashed.push_back(since_start()); },
                  [&](caf::error& err) {
                    BOOST_TEST(code_of(err) == ec::rate_limited);
                    BOOST_TEST(message_of(err) == "password hashing is saturated; retry later");
                    refused.push_back(since_start());
                  },
                  caf::after(30s) >> [&] { BOOST_FAIL("no answer from the hasher"); });
  }
  BOOST_REQUIRE_EQUAL(refused.size(), 1u);
  BOOST_REQUIRE_EQUAL(hashed.size(), 2u);
  BOOST_TEST(refused[0].count() < hashed[0].count());
  // With the backlog worked off there is room again.
  BOOST_TEST(static_cast<bool>(hash(h, "password")));
}

BOOST_AUTO_TEST_CASE(queued_jobs_all_complete_in_order_of_arrival) {
  auto h = spawn_hasher(2, 16);
  std::vector<caf::expected<std::string>> results(18, caf::error{});
  for (int i = 0; i < 18; ++i)
    self->request(h, 30s, auth::hash_password{"password" + std::to_string(i), 4})
      .receive([&](std::string& x) { results[i] = std::move(x); },
               [&](caf::error& err) { results[i] = std::move(err); });
  for (auto& x : results)
    BOOST_TEST(static_cast<bool>(x));
}

BOOST_AUTO_TEST_CASE(workers_run_at_idle_priority) {
  // The workers of earlier cases may still be exiting: count the idle threads that are new.
  auto before = idle_threads();
  auto h = spawn_hasher(2, 8);
  // Two jobs at once, so that both workers have surely started.
  auto first = self->request(h, 10s, auth::hash_password{"password", 4});
  auto second = self->request(h, 10s, auth::hash_password{"password", 4});
  first.receive([](std::string&) {}, [](caf::error& err) { BOOST_FAIL(message_of(err)); });
  second.receive([](std::string&) {}, [](caf::error& err) { BOOST_FAIL(message_of(err)); });
  auto idle = 0;
  for (auto& tid : idle_threads())
    idle += before.count(tid) == 0 ? 1 : 0;
  BOOST_TEST(idle == 2);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(dummy)

BOOST_AUTO_TEST_CASE(is_a_well_formed_hash_at_the_cost_that_nothing_matches) {
  auto a = bcrypt_dummy_hash(12);
  auto b = bcrypt_dummy_hash(12);
  BOOST_TEST(a.size() == 60u);
  BOOST_TEST(a.rfind("$2b$12$", 0) == 0u);
  BOOST_TEST(a != b);
  BOOST_TEST(bcrypt_dummy_hash(4).rfind("$2b$04$", 0) == 0u);
  for (auto password : {"", "password", "correct horse battery staple"})
    BOOST_TEST(!bcrypt_verify(password, bcrypt_dummy_hash(4)));
}

BOOST_AUTO_TEST_CASE(costs_what_a_real_verification_costs) {
  // The work of a verification is set by the cost and salt in a hash's first 29 characters;
  // crypt refuses a malformed setting at once, without doing the work. A dummy that crypt
  // takes as a setting of the same cost therefore costs exactly what a real hash costs.
  // (Timing the two here measured the machine's load as much as bcrypt: on a busy machine
  // the medians of five differed by a third. bench/login times real logins.)
  for (int cost : {4, 8, 12}) {
    auto fake = bcrypt_dummy_hash(cost);
    crypt_data data{};
    auto out = crypt_rn("a wrong password", fake.c_str(), &data, sizeof data);
    BOOST_REQUIRE(out != nullptr);
    std::string result{out};
    BOOST_TEST(result.size() == 60u);
    BOOST_TEST(result.substr(0, 29) == fake.substr(0, 29));
    BOOST_TEST(result != fake);
    auto real = *bcrypt_hash("the real password", cost);
    BOOST_TEST(real.substr(0, 7) == fake.substr(0, 7));
  }
}

BOOST_AUTO_TEST_CASE(verification_compares_the_whole_hash) {
  auto hash = *bcrypt_hash("password", 4);
  BOOST_TEST(bcrypt_verify("password", hash));
  auto truncated = hash.substr(0, 59);
  BOOST_TEST(!bcrypt_verify("password", truncated));
  auto altered = hash;
  altered.back() = altered.back() == 'a' ? 'b' : 'a';
  BOOST_TEST(!bcrypt_verify("password", altered));
  BOOST_TEST(!bcrypt_verify(std::string{"password\0x", 10}, hash));
}

BOOST_AUTO_TEST_SUITE_END()
