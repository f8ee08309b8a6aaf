#define BOOST_TEST_MODULE event_batches
#include <boost/test/unit_test.hpp>

// Inbound events consumed in batches (`event-batch`): a burst of signup events is applied in
// one transaction (one per event when a statement of it fails), payment events one after the
// other in stream order, and every event is acknowledged only after its commit. The real daemon on a
// throwaway PostgreSQL and nats-server; the events are published while the daemon is stopped,
// so that the next daemon fetches them together.

#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "actors/hasher.hpp"
#include "tests/support/daemon_fixture.hpp"
#include "tests/support/sql.hpp"
#include "tests/support/stripe_events.hpp"

using namespace slicegate;
using namespace std::chrono_literals;
namespace fx = slicegate::test::stripe;
using nlohmann::json;

namespace {

constexpr int64_t t0 = 1'795'536'461;

const std::string signup_consumer = "$JS.API.CONSUMER.INFO.GATEWAY_EVENTS.slicegate_signup";

struct fixture : test::running_daemon {
  std::string hash;

  fixture() {
    client->subscribe("gateway.events.rejected");
    auto h = bcrypt_hash("a precomputed password", 12);
    BOOST_REQUIRE(h);
    hash = *h;
  }

  std::string url() {
    return servers.database_url();
  }

  json signup(const std::string& id, const std::string& email) {
    return json{{"id", id}, {"email", email}, {"password_hash", hash}};
  }

  /// Stops the daemon, lets `publish` fill the stream, and starts a new daemon, whose
  /// consumers then find the events waiting together.
  void while_stopped(const std::function<void()>& publish) {
    BOOST_REQUIRE_EQUAL(daemon->stop(), 0);
    publish();
    daemon.emplace(test::daemon_args(servers));
    auto first
      = client->request("gateway.session.resolve", json{{"session_id", "warm-up"}}, 30s);
    BOOST_REQUIRE_MESSAGE(first.ok(), "the daemon does not answer: " << daemon->log());
  }

  /// Whether the signup consumer acknowledged everything it was given.
  bool signups_settled() {
    auto info = client->request(signup_consumer, std::string{}, 5s).json();
    return info.contains("num_pending") && info["num_pending"] == 0
           && info["num_ack_pending"] == 0;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(event_batches, fixture)

BOOST_AUTO_TEST_CASE(one_bad_event_of_a_burst_is_kept_alone_and_the_others_apply_together) {
  // A signup event whose account was deleted after it applied: its redelivery finds the event
  // claimed and no user, which the database reports for this event alone.
  test::sql(url(), "INSERT INTO gateway.signup_events (event_id) VALUES ('evt_b_gone')");
  while_stopped([&] {
    for (int i = 0; i < 40; ++i) {
      auto n = std::to_string(i);
      if (i == 10)
        client->js_publish("gateway.events.signup",
                           signup("evt_b_gone", "gone@example.com").dump());
      else if (i == 20) // refused before the database: a bcrypt cost outside the bounds
        client->js_publish("gateway.events.signup",
                           json{{"id", "evt_b_cost"},
                                {"email", "cost@example.com"},
                                {"password_hash", *bcrypt_hash("x", 4)}}
                             .dump());
      else
        client->js_publish("gateway.events.signup",
                           signup("evt_b_" + n, "burst" + n + "@example.com").dump());
    }
  });
  BOOST_REQUIRE_MESSAGE(test::eventually([&] { return signups_settled(); }, 60s), daemon->log());
  // 38 accounts, all made by one transaction (now() is the transaction's start).
  BOOST_CHECK_EQUAL(
    test::scalar(url(), "SELECT count(*) FROM gateway.users WHERE email LIKE 'burst%'"), 38);
  BOOST_CHECK_EQUAL(test::scalar(url(), "SELECT count(DISTINCT created_at) FROM gateway.users"
                                        " WHERE email LIKE 'burst%'"),
                    1);
  BOOST_CHECK_EQUAL(test::scalar(url(), "SELECT count(*) FROM gateway.users WHERE email IN"
                                        " ('gone@example.com', 'cost@example.com')"),
                    0);
  // The two bad ones are kept and reported; nothing else is.
  BOOST_CHECK_EQUAL(test::scalar(url(), "SELECT count(*) FROM gateway.dead_letters"), 2);
  BOOST_CHECK_EQUAL(test::scalar(url(), "SELECT count(*) FROM gateway.dead_letters WHERE"
                                        " event_id IN ('evt_b_gone', 'evt_b_cost')"),
                    2);
  auto notices = client->wait_for(2, 10s);
  BOOST_REQUIRE_EQUAL(notices.size(), 2u);
  BOOST_CHECK_EQUAL(notices[0].json()["event_id"], "evt_b_gone");
  BOOST_CHECK_EQUAL(notices[1].json()["event_id"], "evt_b_cost");
  BOOST_CHECK_MESSAGE(
    notices[0].json()["reason"].get<std::string>().find("deleted") != std::string::npos,
    notices[0].body);
}

BOOST_AUTO_TEST_CASE(a_taken_address_in_a_burst_gets_its_account_and_the_others_apply) {
  while_stopped([&] {
    for (int i = 0; i < 10; ++i) {
      auto n = std::to_string(i);
      // Event 5 names the address of event 2: idempotent by e-mail, no second account.
      auto email = "taken" + std::to_string(i == 5 ? 2 : i) + "@example.com";
      client->js_publish("gateway.events.signup", signup("evt_t_" + n, email).dump());
    }
  });
  BOOST_REQUIRE_MESSAGE(test::eventually([&] { return signups_settled(); }, 60s), daemon->log());
  BOOST_CHECK_EQUAL(
    test::scalar(url(), "SELECT count(*) FROM gateway.users WHERE email LIKE 'taken%'"), 9);
  BOOST_CHECK_EQUAL(test::scalar(url(), "SELECT count(*) FROM gateway.signup_events"
                                        " WHERE event_id LIKE 'evt_t_%'"),
                    9);
  BOOST_CHECK_EQUAL(test::scalar(url(), "SELECT count(*) FROM gateway.dead_letters"), 0);
  std::this_thread::sleep_for(500ms);
  BOOST_CHECK_EQUAL(client->messages().size(), 0u);
}

BOOST_AUTO_TEST_CASE(payment_events_of_a_batch_apply_in_stream_order) {
  auto reply = client->request("gateway.auth.signup",
                               json{{"email", "order@example.com"}, {"password", "password1"}},
                               10s);
  BOOST_REQUIRE(reply.ok() && reply.error_code().empty());
  auto id = reply.json()["user"]["id"].get<int32_t>();
  const std::vector<std::string> statuses{"active", "past_due", "active", "unpaid"};
  while_stopped([&] {
    client->js_publish("gateway.events.payment",
                       fx::event("evt_p_cs", "checkout.session.completed", t0,
                                 fx::checkout("cus_p", std::to_string(id), std::nullopt,
                                              std::string{"sub_cus_p"}))
                         .dump());
    for (size_t i = 0; i < statuses.size(); ++i)
      client->js_publish("gateway.events.payment",
                         fx::event("evt_p_" + std::to_string(i), "customer.subscription.updated",
                                   t0 + 1 + static_cast<int64_t>(i),
                                   fx::subscription("cus_p", "sub_cus_p", statuses[i],
                                                    t0 + 86400))
                           .dump());
  });
  auto applied = [&] {
    return test::scalar(url(), "SELECT count(*) FROM gateway.billing_events"
                               " WHERE stripe_customer = 'cus_p' AND applied_at IS NOT NULL");
  };
  BOOST_REQUIRE_MESSAGE(test::eventually([&] { return applied() == 5; }, 60s), daemon->log());
  // Each applied after the one before it: a later event of the customer never went first.
  pqxx::connection conn{url()};
  pqxx::work tx{conn};
  std::string order;
  for (const auto& row : tx.exec("SELECT event_id FROM gateway.billing_events"
                                 " WHERE stripe_customer = 'cus_p' ORDER BY applied_at"))
    order += row[0].as<std::string>() + " ";
  BOOST_CHECK_EQUAL(order, "evt_p_cs evt_p_0 evt_p_1 evt_p_2 evt_p_3 ");
  BOOST_CHECK_EQUAL(
    tx.exec_params1("SELECT stripe_status FROM gateway.users WHERE id = $1", id)[0]
      .as<std::string>(),
    "unpaid");
  BOOST_CHECK_EQUAL(test::scalar(url(), "SELECT count(*) FROM gateway.dead_letters"), 0);
}

BOOST_AUTO_TEST_CASE(a_database_killed_mid_burst_loses_nothing_and_applies_nothing_twice) {
  constexpr int first = 100;
  constexpr int burst = 600;
  auto publish = [&](int from, int to) {
    for (int i = from; i < to; ++i)
      client->js_publish("gateway.events.signup",
                         signup("evt_k_" + std::to_string(i),
                                "kill" + std::to_string(i) + "@example.com")
                           .dump());
  };
  while_stopped([&] { publish(0, first); });
  auto users = [&] {
    try {
      return test::scalar(url(), "SELECT count(*) FROM gateway.users WHERE email LIKE 'kill%'");
    } catch (const std::exception&) {
      return int64_t{-1};
    }
  };
  BOOST_REQUIRE(test::eventually([&] { return users() == first; }, 30s));
  // Down while the burst is being applied: a burst commits in milliseconds, so an operator's
  // lock holds the rest in flight (its transaction waits on the lock) until PostgreSQL stops,
  // which ends the lock's session too.
  {
    pqxx::connection blocker{url()};
    pqxx::work lock{blocker};
    lock.exec("LOCK TABLE gateway.users IN SHARE MODE");
    publish(first, burst);
    BOOST_REQUIRE(test::eventually([&] {
      auto info = client->request(signup_consumer, std::string{}, 5s).json();
      return info.contains("num_ack_pending") && info["num_ack_pending"] > 0;
    }));
    BOOST_CHECK_EQUAL(users(), first);
    servers.stop_pg();
  }
  std::this_thread::sleep_for(3s);
  servers.start_pg();
  BOOST_REQUIRE_MESSAGE(test::eventually([&] { return users() == burst; }, 120s),
                        "applied " << users() << " of " << burst << "\n"
                                   << daemon->log());
  BOOST_REQUIRE(test::eventually([&] { return signups_settled(); }, 30s));
  // Each event exactly once: one account and one claimed event each, linked.
  BOOST_CHECK_EQUAL(users(), burst);
  BOOST_CHECK_EQUAL(test::scalar(url(), "SELECT count(*) FROM gateway.signup_events"
                                        " WHERE event_id LIKE 'evt_k_%' AND user_id IS NOT NULL"),
                    burst);
  BOOST_CHECK_EQUAL(test::scalar(url(), "SELECT count(*) FROM gateway.dead_letters"), 0);
  std::this_thread::sleep_for(500ms);
  BOOST_CHECK_EQUAL(client->messages().size(), 0u);
}

BOOST_AUTO_TEST_SUITE_END()
