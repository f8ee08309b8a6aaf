#define BOOST_TEST_MODULE crash
#include <boost/test/unit_test.hpp>

// The real daemon killed with SIGKILL, twice, while it works through 500 signup and payment
// events and provisions its pool; restarted each time. Afterwards every event must have been
// applied exactly once, no slice may have two users nor any user two slices, and both
// JetStream consumers must have acknowledged everything.

#include <chrono>
#include <cstdint>
#include <ctime>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "actors/hasher.hpp"
#include "tests/support/nats_client.hpp"
#include "tests/support/servers.hpp"
#include "tests/support/sql.hpp"
#include "tests/support/stripe_events.hpp"

using namespace slicegate;
using namespace std::chrono_literals;
namespace fx = slicegate::test::stripe;
using fx::json;

namespace {

constexpr int users = 200;
/// Customers 0..99 get two subscription events each, 100..199 one: 300 payment events.
constexpr int paired = 100;
constexpr int slices = 120;

/// Stripe `created` of the older event of a pair; the newer one is 10 s later.
constexpr int64_t t0 = 1'795'536'461;

std::string email(int i) {
  return "crash" + std::to_string(i) + "@example.com";
}

std::string customer(int i) {
  return "cus_crash_" + std::to_string(i);
}

/// The Stripe statuses of customer i's older and newer event (the newer one wins).
std::pair<std::string, std::string> pair_of(int i) {
  switch (i % 4) {
    case 0: return {"active", "past_due"};
    case 1: return {"past_due", "active"};
    case 2: return {"trialing", "canceled"};
    default: return {"unpaid", "active"};
  }
}

/// The user's `subscription_status` and `stripe_status` once all events of customer i apply.
std::pair<std::string, std::string> expected_state(int i) {
  if (i >= paired)
    return {"active", "active"};
  auto newer = pair_of(i).second;
  if (newer == "past_due")
    return {"past_due", "past_due"};
  if (newer == "canceled")
    return {"cancelled", "canceled"};
  return {"active", "active"};
}

struct fixture {
  test::servers& servers = test::shared_servers();
  std::optional<test::daemon> daemon;
  std::optional<test::nats_client> client;
  /// Ends of the subscriptions: far ahead, so that no sweep acts on a cancellation here.
  int64_t period_end = static_cast<int64_t>(std::time(nullptr)) + 30 * 86400;

  fixture() {
    servers.reset_database();
    client.emplace(servers.nats_url());
  }

  ~fixture() {
    if (daemon && daemon->running())
      daemon->stop();
  }

  /// With `pool`, the daemon keeps `slices` slices provisioned.
  std::vector<std::string> args(bool pool) const {
    auto result = test::daemon_args(servers);
    if (pool) {
      result.push_back("--min-available=" + std::to_string(slices));
      result.push_back("--max-slices=" + std::to_string(slices));
    }
    // The first probe falls within the first interval: none during the test.
    result.push_back("--health-interval=1h");
    // Small batches: a batch of 100 would apply the 200 signups before the second kill.
    result.push_back("--event-batch=5");
    // The event in flight at the kill comes back after this.
    result.push_back("--event-ack-wait=2s");
    return result;
  }

  void start(bool pool = true) {
    daemon.emplace(args(pool));
  }

  int64_t scalar(const std::string& query) {
    return test::scalar(servers.database_url(), query);
  }

  /// 0 until the daemon migrated the database.
  int64_t users_created() {
    try {
      return scalar("SELECT count(*) FROM gateway.users");
    } catch (const pqxx::sql_error&) {
      return 0;
    }
  }

  int64_t events_stored() {
    try {
      return scalar("SELECT count(*) FROM gateway.billing_events");
    } catch (const pqxx::sql_error&) {
      return 0;
    }
  }

  /// What the daemon has done so far: users, stored payment events, assigned slices.
  std::tuple<int64_t, int64_t, int64_t> progress() {
    return {users_created(), events_stored(),
            scalar("SELECT count(*) FROM gateway.slices WHERE status = 'assigned'")};
  }

  /// Waits until `done()` holds; false when the daemon did nothing for a minute. A busy
  /// machine makes the daemon slow (its one persistence actor copies slice databases beside
  /// the events), which is no failure; a daemon that stopped making progress is.
  template <class Done>
  bool finishes(Done done) {
    auto mark = progress();
    while (!done()) {
      if (!test::eventually([&] { return done() || progress() != mark; }, 60s))
        return false;
      mark = progress();
    }
    return true;
  }

  /// Waits until the daemon got at least `n` users in; kills it then. Returns how many it
  /// had at the kill. The count is polled back to back on one connection: a new connection
  /// per look (and three more for `progress`) took long enough on a busy machine for the
  /// daemon to get through every remaining signup before the kill landed.
  int64_t kill_after(int64_t n) {
    pqxx::connection conn{servers.database_url()};
    auto count = [&] {
      pqxx::nontransaction tx{conn};
      return tx.exec1("SELECT count(*) FROM gateway.users")[0].as<int64_t>();
    };
    auto last = count();
    auto moved = std::chrono::steady_clock::now();
    while (last < n) {
      auto now = count();
      if (now != last) {
        last = now;
        moved = std::chrono::steady_clock::now();
      } else if (std::chrono::steady_clock::now() - moved > 60s) {
        BOOST_FAIL("the daemon stopped short of " << n << " users:\n" << daemon->log());
      }
      std::this_thread::sleep_for(1ms);
    }
    daemon->kill();
    return users_created();
  }

  bool consumer_done(const std::string& durable) {
    auto info
      = client->request("$JS.API.CONSUMER.INFO.GATEWAY_EVENTS." + durable, std::string{})
          .json();
    return info.contains("num_pending") && info["num_pending"] == 0
           && info["num_ack_pending"] == 0;
  }

  void publish_all() {
    auto hash = bcrypt_hash("crash password", 12);
    BOOST_REQUIRE(hash);
    // Interleaved: a signup, then the events of its customer, so that some events wait for
    // their user and some find it; every other pair arrives newer first.
    for (int i = 0; i < users; ++i) {
      client->js_publish("gateway.events.signup",
                         json{{"id", "evt_crash_signup_" + std::to_string(i)},
                              {"email", email(i)},
                              {"password_hash", *hash},
                              {"stripe_customer", customer(i)}}
                           .dump());
      auto sub = "sub_" + customer(i);
      if (i >= paired) {
        client->js_publish("gateway.events.payment",
                           fx::event("evt_crash_" + std::to_string(i),
                                     "customer.subscription.updated", t0,
                                     fx::subscription(customer(i), sub, "active", period_end))
                             .dump());
        continue;
      }
      auto [older, newer] = pair_of(i);
      auto a
        = fx::event("evt_crash_" + std::to_string(i) + "_a", "customer.subscription.updated",
                    t0, fx::subscription(customer(i), sub, older, period_end));
      auto b
        = fx::event("evt_crash_" + std::to_string(i) + "_b", "customer.subscription.updated",
                    t0 + 10, fx::subscription(customer(i), sub, newer, period_end));
      if (i % 2 == 0)
        std::swap(a, b);
      client->js_publish("gateway.events.payment", a.dump());
      client->js_publish("gateway.events.payment", b.dump());
    }
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(crash_tests, fixture)

BOOST_AUTO_TEST_CASE(every_event_applies_exactly_once_across_two_kills) {
  // A first run sets the schema and the event stream up; the events are then published while
  // the daemon is down, so that it is busy with them from its first second on, provisioning
  // its pool at the same time.
  start(false);
  BOOST_REQUIRE_MESSAGE(client->request("gateway.ping", std::string{"{}"}, 30s).ok(),
                        "the daemon does not answer:\n"
                          << daemon->log());
  BOOST_REQUIRE_EQUAL(daemon->stop(), 0);
  publish_all();
  start();
  auto at_first_kill = kill_after(40);
  BOOST_TEST_MESSAGE("first SIGKILL with " << at_first_kill << " users and " << events_stored()
                                           << " payment events stored");
  BOOST_REQUIRE_LT(at_first_kill, users);

  start();
  auto at_second_kill = kill_after(at_first_kill + 40);
  BOOST_TEST_MESSAGE("second SIGKILL with " << at_second_kill << " users and "
                                            << events_stored() << " payment events stored");
  BOOST_REQUIRE_LT(at_second_kill, users);

  start();
  BOOST_REQUIRE_MESSAGE(finishes([&] {
                          return consumer_done("slicegate_signup")
                                 && consumer_done("slicegate_payment")
                                 && std::get<2>(progress()) == slices;
                        }),
                        "the restarted daemon stopped before it finished:\n"
                          << daemon->log());

  // Each signup event made exactly one user, and remembers which.
  BOOST_CHECK_EQUAL(users_created(), users);
  BOOST_CHECK_EQUAL(
    scalar("SELECT count(*) FROM gateway.signup_events WHERE user_id IS NOT NULL"), users);
  BOOST_CHECK_EQUAL(scalar("SELECT count(DISTINCT user_id) FROM gateway.signup_events"), users);
  // Each payment event was stored once and reached its user.
  BOOST_CHECK_EQUAL(events_stored(), 300);
  BOOST_CHECK_EQUAL(scalar("SELECT count(*) FROM gateway.billing_events WHERE user_id IS NULL"),
                    0);

  // The newer event of every pair won, whichever came first and wherever the kills fell.
  pqxx::connection conn{servers.database_url()};
  pqxx::work tx{conn};
  std::map<std::string, std::pair<std::string, std::string>> state;
  for (const auto& row : tx.exec("SELECT email, subscription_status, stripe_status,"
                                 " stripe_customer FROM gateway.users"))
    state[row[0].as<std::string>()]
      = {row[1].as<std::string>(), row[2].is_null() ? "" : row[2].as<std::string>()};
  for (int i = 0; i < users; ++i)
    BOOST_CHECK_MESSAGE(state[email(i)] == expected_state(i),
                        email(i) << " ended " << state[email(i)].first << "/"
                                 << state[email(i)].second << ", expected "
                                 << expected_state(i).first << "/" << expected_state(i).second);

  // No slice twice, no user twice, and both sides of every pairing agree.
  BOOST_CHECK_EQUAL(scalar("SELECT count(*) FROM gateway.slices"), slices);
  BOOST_CHECK_EQUAL(scalar("SELECT count(DISTINCT user_id) FROM gateway.slices"
                           " WHERE status = 'assigned'"),
                    slices);
  BOOST_CHECK_EQUAL(scalar("SELECT count(*) FROM gateway.users WHERE slice_id IS NOT NULL"),
                    slices);
  BOOST_CHECK_EQUAL(scalar("SELECT count(*) FROM gateway.users u JOIN gateway.slices s"
                           " ON s.id = u.slice_id AND s.user_id = u.id"),
                    slices);
  // Every slice database exists: interrupted provisioning was finished, not left half-made.
  BOOST_CHECK_EQUAL(scalar("SELECT count(*) FROM gateway.slices WHERE status = 'destroying'"),
                    0);
  pqxx::connection admin{servers.admin_database_url()};
  pqxx::work atx{admin};
  auto databases
    = atx
        .exec1("SELECT count(*) FROM pg_database WHERE datname LIKE 'wa\\_slice\\_%'"
               " AND datname <> 'wa_slice_template'")[0]
        .as<int64_t>();
  BOOST_CHECK_EQUAL(databases, slices);

  BOOST_CHECK_EQUAL(daemon->stop(), 0);
}

BOOST_AUTO_TEST_SUITE_END()
