#define BOOST_TEST_MODULE event_outage
#include <boost/test/unit_test.hpp>

// Events through a database that refuses writes: 200 signup and 200 payment events arrive
// while the gateway database is read-only (as a primary is during a failover) for 30 s, and
// afterwards every one is applied exactly once and none was rejected. Real daemon, real
// PostgreSQL and nats-server.

#include <chrono>
#include <string>
#include <thread>

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

constexpr int events_per_kind = 200;
constexpr int64_t t0 = 1'795'536'461;

/// Turns the gateway database's read-only default on or off and ends the sessions that were
/// opened under the old one, so that the daemon's next connection has the new one.
void set_read_only(test::servers& servers, bool on) {
  pqxx::connection conn{servers.superuser_url()};
  pqxx::nontransaction tx{conn};
  tx.exec(std::string{"ALTER DATABASE wank_saas SET default_transaction_read_only = "}
          + (on ? "on" : "off"));
  tx.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
          "WHERE datname = 'wank_saas' AND pid <> pg_backend_pid()");
}

/// Publishes 200 signup events and 200 subscription updates for their customers, all named
/// after `tag`.
void publish_events(test::nats_client& client, const std::string& tag, const std::string& hash) {
  for (int i = 0; i < events_per_kind; ++i) {
    auto n = std::to_string(i);
    client.js_publish("gateway.events.signup", json{{"id", "evt_" + tag + "_signup_" + n},
                                                    {"email", tag + n + "@example.com"},
                                                    {"password_hash", hash},
                                                    {"stripe_customer", "cus_" + tag + "_" + n}}
                                                 .dump());
    client.js_publish("gateway.events.payment",
                      fx::event("evt_" + tag + "_pay_" + n, "customer.subscription.updated",
                                t0 + i,
                                fx::subscription("cus_" + tag + "_" + n,
                                                 "sub_cus_" + tag + "_" + n, "active",
                                                 t0 + 86400))
                        .dump());
  }
}

/// Every event of `tag` applied exactly once: one account per signup, one stored event per
/// payment, each applied; and none given up on.
void check_applied_once(test::servers& servers, test::nats_client& client,
                        const std::string& tag) {
  auto url = servers.database_url();
  auto applied = [&] {
    return test::scalar(url, "SELECT count(*) FROM gateway.users WHERE email LIKE '" + tag
                               + "%@example.com' AND subscription_status = 'active'");
  };
  BOOST_REQUIRE_MESSAGE(test::eventually([&] { return applied() == events_per_kind; }, 180s),
                        "applied " << applied() << " of " << events_per_kind);
  BOOST_CHECK_EQUAL(test::scalar(url, "SELECT count(*) FROM gateway.users"), events_per_kind);
  BOOST_CHECK_EQUAL(test::scalar(url, "SELECT count(*) FROM gateway.billing_events "
                                      "WHERE event_id LIKE 'evt_"
                                        + tag + "_pay_%' AND applied_at IS NOT NULL"),
                    events_per_kind);
  BOOST_CHECK_EQUAL(test::scalar(url, "SELECT count(*) FROM gateway.billing_events"),
                    events_per_kind);
  std::this_thread::sleep_for(1s);
  BOOST_CHECK_EQUAL(client.messages().size(), 0u);
  BOOST_CHECK_EQUAL(test::scalar(url, "SELECT count(*) FROM gateway.dead_letters"), 0);
}

} // namespace

BOOST_AUTO_TEST_CASE(events_that_arrive_while_the_database_refuses_writes_all_apply_once) {
  auto& servers = test::shared_servers();
  servers.reset_database();
  test::daemon daemon{test::daemon_args(servers)};
  test::nats_client client{servers.nats_url()};
  auto first = client.request("gateway.session.resolve", json{{"session_id", "warm-up"}}, 30s);
  BOOST_REQUIRE_MESSAGE(first.ok(), daemon.log());
  client.subscribe("gateway.events.rejected");
  auto hash = bcrypt_hash("event password", 12);
  BOOST_REQUIRE(hash);

  set_read_only(servers, true);
  publish_events(client, "ro", *hash);
  // The database stays read-only for 30 s while the daemon keeps trying.
  std::this_thread::sleep_for(30s);
  BOOST_CHECK_EQUAL(test::scalar(servers.database_url(), "SELECT count(*) FROM gateway.users"), 0);
  set_read_only(servers, false);
  check_applied_once(servers, client, "ro");
  BOOST_CHECK_EQUAL(daemon.stop(), 0);
}

BOOST_AUTO_TEST_CASE(events_that_arrive_while_an_operator_holds_a_lock_all_apply_once) {
  auto& servers = test::shared_servers();
  servers.reset_database();
  // A short lock timeout, so that several statements give up while the lock is held.
  auto args = test::daemon_args(servers);
  args.push_back("--lock-timeout=2s");
  test::daemon daemon{args};
  test::nats_client client{servers.nats_url()};
  auto first = client.request("gateway.session.resolve", json{{"session_id", "warm-up"}}, 30s);
  BOOST_REQUIRE_MESSAGE(first.ok(), daemon.log());
  client.subscribe("gateway.events.rejected");
  auto hash = bcrypt_hash("event password", 12);
  BOOST_REQUIRE(hash);

  {
    // An operator's transaction holds the users table for 30 s.
    pqxx::connection conn{servers.database_url()};
    pqxx::work tx{conn};
    tx.exec("LOCK TABLE gateway.users IN ACCESS EXCLUSIVE MODE");
    publish_events(client, "lk", *hash);
    std::this_thread::sleep_for(30s);
    BOOST_CHECK_MESSAGE(daemon.log().find("SQLSTATE 55P03") != std::string::npos,
                        "no statement gave up on the lock");
    tx.abort();
  }
  check_applied_once(servers, client, "lk");
  BOOST_CHECK_EQUAL(daemon.stop(), 0);
}
