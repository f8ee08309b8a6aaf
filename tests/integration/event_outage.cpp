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
  for (int i = 0; i < events_per_kind; ++i) {
    auto n = std::to_string(i);
    client.js_publish("gateway.events.signup", json{{"id", "evt_ro_signup_" + n},
                                                    {"email", "ro" + n + "@example.com"},
                                                    {"password_hash", *hash},
                                                    {"stripe_customer", "cus_ro_" + n}}
                                                 .dump());
    client.js_publish("gateway.events.payment",
                      fx::event("evt_ro_pay_" + n, "customer.subscription.updated", t0 + i,
                                fx::subscription("cus_ro_" + n, "sub_cus_ro_" + n, "active",
                                                 t0 + 86400))
                        .dump());
  }
  // The database stays read-only for 30 s while the daemon keeps trying.
  std::this_thread::sleep_for(30s);
  BOOST_CHECK_EQUAL(test::scalar(servers.database_url(), "SELECT count(*) FROM gateway.users"), 0);
  set_read_only(servers, false);

  auto applied = [&] {
    return test::scalar(servers.database_url(),
                        "SELECT count(*) FROM gateway.users WHERE email LIKE 'ro%@example.com' "
                        "AND subscription_status = 'active'");
  };
  BOOST_REQUIRE_MESSAGE(test::eventually([&] { return applied() == events_per_kind; }, 180s),
                        "applied " << applied() << " of " << events_per_kind);
  // Exactly once: one account per signup, one stored event per payment, each applied.
  BOOST_CHECK_EQUAL(test::scalar(servers.database_url(), "SELECT count(*) FROM gateway.users"),
                    events_per_kind);
  BOOST_CHECK_EQUAL(test::scalar(servers.database_url(),
                                 "SELECT count(*) FROM gateway.billing_events "
                                 "WHERE event_id LIKE 'evt_ro_pay_%' AND applied_at IS NOT NULL"),
                    events_per_kind);
  BOOST_CHECK_EQUAL(test::scalar(servers.database_url(),
                                 "SELECT count(*) FROM gateway.billing_events"),
                    events_per_kind);
  // Nothing was given up on.
  std::this_thread::sleep_for(1s);
  BOOST_CHECK_EQUAL(client.messages().size(), 0u);
  BOOST_CHECK_EQUAL(daemon.stop(), 0);
}
