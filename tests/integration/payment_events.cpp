#define BOOST_TEST_MODULE payment_events
#include <boost/test/unit_test.hpp>

// Stripe payment events end to end: the real daemon on a throwaway PostgreSQL and
// nats-server, fed over JetStream (`gateway.events.payment`) as Stripe's webhook relay feeds
// it.

#include <chrono>
#include <cstdint>
#include <optional>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "actors/hasher.hpp"
#include "tests/support/nats_client.hpp"
#include "tests/support/servers.hpp"
#include "tests/support/stripe_events.hpp"

using namespace slicegate;
using namespace std::chrono_literals;
namespace fx = slicegate::test::stripe;
using fx::json;

namespace {

const std::string payment_events = "gateway.events.payment";
const std::string rejected_events = "gateway.events.rejected";
const std::string signup_subject = "gateway.auth.signup";
const std::string resolve_subject = "gateway.session.resolve";
const std::string payment_consumer = "$JS.API.CONSUMER.INFO.GATEWAY_EVENTS.slicegate_payment";

/// Stripe `created` of the first event of a test; later events add seconds.
constexpr int64_t t0 = 1'795'536'461;

/// A fresh gateway database and a daemon on it, per test case. NATS (with its JetStream
/// store) is shared by the whole executable, so event ids, customers and e-mails are unique
/// per test.
struct fixture {
  test::servers& servers = test::shared_servers();
  std::optional<test::daemon> daemon;
  std::optional<test::nats_client> client;

  fixture() {
    servers.reset_database();
    daemon.emplace(test::daemon_args(servers));
    client.emplace(servers.nats_url());
    // The first answer means the daemon migrated, subscribed and serves.
    auto first = client->request(resolve_subject, json{{"session_id", "warm-up"}}, 30s);
    BOOST_REQUIRE_MESSAGE(first.ok(), "the daemon does not answer: " << first.status << "\n"
                                                                     << daemon->log());
  }

  ~fixture() {
    if (daemon && daemon->running())
      BOOST_CHECK_EQUAL(daemon->stop(), 0);
  }

  /// Signs a user up over NATS; returns the user's id.
  int32_t account(const std::string& email) {
    auto reply
      = client->request(signup_subject, json{{"email", email}, {"password", "password1"}}, 10s);
    BOOST_REQUIRE_MESSAGE(reply.ok() && reply.error_code().empty(),
                          "signup failed: " << reply.status << " " << reply.body);
    return reply.json()["user"]["id"].get<int32_t>();
  }

  void publish(const json& event) {
    client->js_publish(payment_events, event.dump());
  }

  /// The value of `column` of user `id`, as text; nullopt for NULL.
  std::optional<std::string> column(int32_t id, const std::string& column) {
    pqxx::connection conn{servers.database_url()};
    pqxx::work tx{conn};
    auto row = tx.exec_params1(
      "SELECT " + tx.quote_name(column) + "::text FROM gateway.users WHERE id = $1", id);
    if (row[0].is_null())
      return std::nullopt;
    return row[0].as<std::string>();
  }

  /// Waits until `column` of user `id` reads `value`.
  bool becomes(int32_t id, const std::string& column_name, const std::string& value) {
    return test::eventually([&] { return column(id, column_name) == value; }, 15s);
  }

  /// Whether the payment consumer acknowledged everything up to stream sequence `seq`.
  bool acked_through(int64_t seq) {
    return test::eventually(
      [&] {
        auto info = client->request(payment_consumer, std::string{}).json();
        return info.contains("ack_floor") && info["num_ack_pending"] == 0
               && info["num_pending"] == 0 && info["ack_floor"]["stream_seq"] >= seq;
      },
      15s);
  }

  /// The stream sequence of the last message in GATEWAY_EVENTS.
  int64_t last_sequence() {
    auto info = client->request("$JS.API.STREAM.INFO.GATEWAY_EVENTS", std::string{}).json();
    return info["state"]["last_seq"].get<int64_t>();
  }
};

json checkout(const std::string& id, int64_t created, const std::string& customer,
              int32_t user_id) {
  return fx::event(
    id, "checkout.session.completed", created,
    fx::checkout(customer, std::to_string(user_id), std::nullopt, "sub_" + customer));
}

json updated(const std::string& id, int64_t created, const std::string& customer,
             const std::string& status, fx::api shape = fx::api::current) {
  return fx::event(id, "customer.subscription.updated", created,
                   fx::subscription(customer, "sub_" + customer, status, t0 + 86400, shape));
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(payment_events_tests, fixture)

BOOST_AUTO_TEST_CASE(a_checkout_links_and_subscription_events_apply) {
  auto id = account("pay@example.com");
  publish(checkout("evt_e2e_cs", t0, "cus_e2e", id));
  publish(updated("evt_e2e_1", t0 + 1, "cus_e2e", "trialing", fx::api::legacy));
  publish(fx::event("evt_e2e_2", "invoice.payment_failed", t0 + 2,
                    fx::invoice("cus_e2e", "sub_cus_e2e", t0 + 3600)));
  BOOST_CHECK(becomes(id, "stripe_status", "past_due"));
  BOOST_CHECK(column(id, "subscription_status") == std::string{"past_due"});
  BOOST_CHECK(column(id, "stripe_customer") == std::string{"cus_e2e"});
  BOOST_CHECK(column(id, "subscription_id") == std::string{"sub_cus_e2e"});
  BOOST_CHECK(acked_through(last_sequence()));
}

BOOST_AUTO_TEST_CASE(duplicates_and_older_events_change_nothing) {
  auto id = account("order@example.com");
  publish(checkout("evt_o_cs", t0, "cus_o", id));
  publish(updated("evt_o_new", t0 + 20, "cus_o", "unpaid"));
  publish(updated("evt_o_old", t0 + 10, "cus_o", "active"));
  publish(updated("evt_o_new", t0 + 20, "cus_o", "unpaid"));
  BOOST_REQUIRE(acked_through(last_sequence()));
  BOOST_CHECK(column(id, "stripe_status") == std::string{"unpaid"});
  BOOST_CHECK(column(id, "subscription_status") == std::string{"past_due"});
}

BOOST_AUTO_TEST_CASE(events_before_the_checkout_apply_once_it_links) {
  auto id = account("late@example.com");
  publish(updated("evt_l_2", t0 + 2, "cus_l", "active"));
  publish(updated("evt_l_1", t0 + 1, "cus_l", "trialing"));
  BOOST_REQUIRE(acked_through(last_sequence()));
  BOOST_CHECK(column(id, "subscription_status") == std::string{"trial"});
  BOOST_CHECK(!column(id, "stripe_status"));
  publish(checkout("evt_l_cs", t0 + 3, "cus_l", id));
  BOOST_CHECK(becomes(id, "stripe_status", "active"));
  BOOST_CHECK(column(id, "subscription_status") == std::string{"active"});
}

BOOST_AUTO_TEST_CASE(a_signup_event_naming_a_customer_gets_its_waiting_events) {
  publish(updated("evt_se_1", t0 + 1, "cus_se", "active"));
  publish(updated("evt_se_2", t0 + 2, "cus_se", "unpaid"));
  BOOST_REQUIRE(acked_through(last_sequence()));
  auto hash = bcrypt_hash("event password", 12);
  BOOST_REQUIRE(hash);
  client->js_publish("gateway.events.signup", json{{"id", "evt_se_signup"},
                                                   {"email", "customer-first@example.com"},
                                                   {"password_hash", *hash},
                                                   {"stripe_customer", "cus_se"}}
                                                .dump());
  BOOST_REQUIRE(test::eventually(
    [&] {
      pqxx::connection conn{servers.database_url()};
      pqxx::work tx{conn};
      return tx.exec_params("SELECT 1 FROM gateway.users WHERE email = $1",
                            "customer-first@example.com")
               .size()
             == 1;
    },
    15s));
  pqxx::connection conn{servers.database_url()};
  pqxx::work tx{conn};
  auto row = tx.exec_params1("SELECT subscription_status, stripe_status FROM gateway.users"
                             " WHERE email = $1",
                             "customer-first@example.com");
  BOOST_CHECK_EQUAL(row[0].as<std::string>(), "past_due");
  BOOST_CHECK_EQUAL(row[1].as<std::string>(), "unpaid");
}

BOOST_AUTO_TEST_CASE(a_checkout_before_the_web_signup_links_at_signup) {
  publish(
    fx::event("evt_ws_cs", "checkout.session.completed", t0,
              fx::checkout("cus_ws", std::nullopt, "Web-First@Example.com", "sub_cus_ws")));
  publish(updated("evt_ws_1", t0 + 1, "cus_ws", "active"));
  BOOST_REQUIRE(acked_through(last_sequence()));
  auto reply = client->request(
    signup_subject, json{{"email", "web-first@example.com"}, {"password", "password1"}}, 10s);
  BOOST_REQUIRE_MESSAGE(reply.ok() && reply.error_code().empty(), reply.body);
  // The reply already shows the state that waited.
  BOOST_CHECK_EQUAL(reply.json()["user"]["subscription_status"], "active");
  auto id = reply.json()["user"]["id"].get<int32_t>();
  BOOST_CHECK(column(id, "stripe_customer") == std::string{"cus_ws"});
  BOOST_CHECK(column(id, "subscription_status") == std::string{"active"});
}

BOOST_AUTO_TEST_CASE(a_checkout_for_a_user_linked_elsewhere_is_reported_and_not_applied) {
  auto id = account("linked@example.com");
  publish(checkout("evt_r_cs1", t0, "cus_r_own", id));
  publish(updated("evt_r_1", t0 + 1, "cus_r_own", "active"));
  BOOST_REQUIRE(becomes(id, "stripe_status", "active"));
  client->subscribe(rejected_events);
  // A stranger's checkout naming the user, then the stranger's cancellation.
  publish(checkout("evt_r_cs2", t0 + 2, "cus_r_thief", id));
  publish(updated("evt_r_2", t0 + 3, "cus_r_thief", "canceled"));
  auto got = client->wait_for(1);
  BOOST_REQUIRE_EQUAL(got.size(), 1u);
  auto report = got[0].json();
  BOOST_CHECK_EQUAL(report["subject"], payment_events);
  BOOST_CHECK_EQUAL(report["event_id"], "evt_r_cs2");
  auto reason = report["reason"].get<std::string>();
  BOOST_CHECK_MESSAGE(reason.find("user " + std::to_string(id)) != std::string::npos, reason);
  BOOST_CHECK(acked_through(last_sequence()));
  BOOST_CHECK(column(id, "stripe_customer") == std::string{"cus_r_own"});
  BOOST_CHECK(column(id, "subscription_id") == std::string{"sub_cus_r_own"});
  BOOST_CHECK(column(id, "subscription_status") == std::string{"active"});
  BOOST_CHECK(column(id, "stripe_status") == std::string{"active"});
  // Recorded with the user, not applied; logged at warn with the event and the user.
  pqxx::connection conn{servers.database_url()};
  pqxx::work tx{conn};
  auto row = tx.exec_params1("SELECT user_id, applied_at IS NULL FROM gateway.billing_events"
                             " WHERE event_id = $1",
                             "evt_r_cs2");
  BOOST_CHECK_EQUAL(row[0].as<int32_t>(), id);
  BOOST_CHECK(row[1].as<bool>());
  auto log = daemon->log();
  std::istringstream lines{log};
  auto warned = false;
  for (std::string line; std::getline(lines, line);)
    warned = warned
             || (line.find("warn") != std::string::npos
                 && line.find("evt_r_cs2") != std::string::npos
                 && line.find("user " + std::to_string(id)) != std::string::npos);
  BOOST_CHECK_MESSAGE(warned, log);
}

BOOST_AUTO_TEST_CASE(unknown_types_are_acknowledged_without_a_report) {
  client->subscribe(rejected_events);
  auto id = account("unknown@example.com");
  publish(fx::fixture("event")); // plan.created
  publish(fx::event("evt_u_cust", "customer.created", t0, fx::fixture("customer")));
  publish(checkout("evt_u_cs", t0, "cus_u", id));
  publish(updated("evt_u_1", t0 + 1, "cus_u", "active"));
  BOOST_CHECK(becomes(id, "stripe_status", "active"));
  BOOST_CHECK(acked_through(last_sequence()));
  BOOST_CHECK(client->messages().empty());
}

BOOST_AUTO_TEST_CASE(unprocessable_messages_are_reported_and_acknowledged) {
  client->subscribe(rejected_events);
  client->js_publish(payment_events, "not json");
  auto without_status = fx::subscription("cus_g", "sub_g", "active", t0);
  without_status.erase("status");
  publish(fx::event("evt_g_1", "customer.subscription.updated", t0, without_status));
  publish(updated("evt_g_2", t0, "cus_g", "on_vacation"));
  auto got = client->wait_for(3);
  BOOST_REQUIRE_EQUAL(got.size(), 3u);
  auto first = got[0].json();
  BOOST_CHECK_EQUAL(first["subject"], payment_events);
  BOOST_CHECK(!first.contains("event_id") || first["event_id"].is_null());
  BOOST_CHECK(first["reason"].get<std::string>().find("not JSON") != std::string::npos);
  auto second = got[1].json();
  BOOST_CHECK_EQUAL(second["event_id"], "evt_g_1");
  BOOST_CHECK(second["reason"].get<std::string>().find("'data.object.status'")
              != std::string::npos);
  auto third = got[2].json();
  BOOST_CHECK_EQUAL(third["event_id"], "evt_g_2");
  BOOST_CHECK(third["reason"].get<std::string>().find("on_vacation") != std::string::npos);
  BOOST_CHECK(acked_through(last_sequence()));
}

BOOST_AUTO_TEST_SUITE_END()
