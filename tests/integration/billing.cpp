#define BOOST_TEST_MODULE billing
#include "actors/billing.hpp"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <caf/all.hpp>
#include <pqxx/pqxx>

#include "bridge/stripe.hpp"
#include "messages/error.hpp"
#include "persistence/persistence.hpp"
#include "tests/support/ask.hpp"
#include "tests/support/printing.hpp"
#include "tests/support/servers.hpp"
#include "tests/support/sql.hpp"
#include "tests/support/stripe_events.hpp"
#include "tests/support/system.hpp"

using namespace slicegate;
using namespace std::chrono_literals;
using billing::outcome;
using billing::outcome_kind;
namespace fx = slicegate::test::stripe;
using fx::json;

namespace {

/// Stripe `created` of the first event of a test (2026-11-24); later events add seconds.
constexpr int64_t t0 = 1'795'536'461;

/// What the slice manager and the session manager heard, read from the test's thread.
struct recorder {
  std::mutex mtx;
  std::vector<int32_t> billing_changed;
  std::vector<int32_t> user_changed;

  std::vector<int32_t> policy_runs() {
    std::lock_guard<std::mutex> guard{mtx};
    return billing_changed;
  }

  std::vector<int32_t> cache_drops() {
    std::lock_guard<std::mutex> guard{mtx};
    return user_changed;
  }
};

/// A user's billing columns.
struct user_state {
  std::string subscription_status;
  std::optional<std::string> stripe_status;
  std::optional<std::string> subscription_id;
  std::optional<std::string> stripe_customer;
  std::optional<int64_t> ends_at;
  std::optional<int64_t> past_due_since;
  std::optional<int64_t> billing_updated_at;
};

/// One row of gateway.billing_events.
struct event_row {
  std::string type;
  std::optional<std::string> stripe_status;
  std::optional<std::string> mapped_status;
  std::optional<int32_t> user_id;
  bool applied = false;
  std::string payload_id;
};

/// Fails the test unless `x` holds a value. (A message argument of BOOST_REQUIRE_MESSAGE is
/// evaluated even when the check passes, and `error()` of a value is undefined.)
template <class T>
void require(const caf::expected<T>& x, const char* what) {
  if (!x)
    BOOST_FAIL(what << " failed: " << message_of(x.error()));
}

template <class T>
std::optional<T> get(const pqxx::field& f) {
  if (f.is_null())
    return std::nullopt;
  return f.as<T>();
}

/// The persistence actor on a freshly reset and migrated database, and a billing actor in
/// front of it whose slice manager and session manager are recorders.
struct fixture {
  test::servers& servers = test::shared_servers();
  test::system_config cfg;
  caf::actor_system sys{cfg};
  persistence_actor db;
  std::shared_ptr<recorder> rec = std::make_shared<recorder>();
  billing_actor billing;

  fixture() {
    servers.reset_database();
    persistence_config pc;
    pc.database_url = servers.database_url();
    db = sys.spawn<caf::detached>(persistence, pc);
    auto applied = ask<std::vector<int32_t>>(db, db::migrate{});
    require(applied, "migrate");
    auto slices = sys.spawn(
      [rec = rec](billing_policy_actor::pointer) -> billing_policy_actor::behavior_type {
        return {
          [rec](pool::billing_changed& x) {
            std::lock_guard<std::mutex> guard{rec->mtx};
            rec->billing_changed.push_back(x.user_id);
          },
        };
      });
    auto sessions
      = sys.spawn([rec = rec](user_cache_actor::pointer) -> user_cache_actor::behavior_type {
          return {
            [rec](auth::user_changed& x) {
              std::lock_guard<std::mutex> guard{rec->mtx};
              rec->user_changed.push_back(x.user_id);
            },
          };
        });
    billing = sys.spawn(billing_manager, db, slices, sessions, timespan{30s});
  }

  ~fixture() {
    caf::anon_send_exit(billing, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(db, caf::exit_reason::user_shutdown);
  }

  template <class T, class Handle, class Request>
  caf::expected<T> ask(const Handle& dest, Request x) {
    return test::ask<T>(sys, dest, 30s, std::move(x));
  }

  /// Parses `body` as the payment consumer does and hands it to the billing actor.
  caf::expected<outcome> try_send(const std::string& body) {
    auto parsed = stripe::parse_event(body);
    if (auto rej = std::get_if<stripe::rejected>(&parsed))
      BOOST_FAIL("the edge rejects the event: " << rej->reason);
    BOOST_REQUIRE_MESSAGE(std::holds_alternative<billing::stripe_event>(parsed),
                          "the edge ignores the event");
    return ask<outcome>(billing, std::get<billing::stripe_event>(std::move(parsed)));
  }

  /// Sends an event that must succeed; returns what became of it.
  outcome send(const json& event) {
    auto result = try_send(event.dump());
    require(result, "billing");
    return *result;
  }

  outcome subscription(const std::string& id, const std::string& type, int64_t created,
                       const std::string& customer, const std::string& status,
                       int64_t period_end = t0 + 30 * 86400, fx::api shape = fx::api::current) {
    return send(
      fx::event(id, type, created,
                fx::subscription(customer, "sub_" + customer, status, period_end, shape)));
  }

  outcome updated(const std::string& id, int64_t created, const std::string& customer,
                  const std::string& status) {
    return subscription(id, "customer.subscription.updated", created, customer, status);
  }

  outcome checkout(const std::string& id, int64_t created, const std::string& customer,
                   std::optional<std::string> reference, std::optional<std::string> email) {
    return send(fx::event(id, "checkout.session.completed", created,
                          fx::checkout(customer, reference, email, "sub_" + customer)));
  }

  /// Links `customer` to `user_id` through a checkout naming the user.
  void link(int32_t user_id, const std::string& customer) {
    auto out = checkout("evt_link_" + customer, t0 - 1000, customer, std::to_string(user_id),
                        std::nullopt);
    BOOST_REQUIRE(out.kind == outcome_kind::applied);
  }

  /// Creates a user through persistence, which applies what waited for them in the same
  /// transaction; with `customer`, as a signup event naming a Stripe customer does.
  int32_t make_user(const std::string& email, std::optional<std::string> customer = {}) {
    db::create_user x;
    x.email = email;
    if (customer)
      x.stripe_customer = *customer;
    x.password_hash = "$2b$12$abcdefghijklmnopqrstuuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01";
    x.subscription_status = subscription::trial;
    auto created = ask<db::user_created>(db, x);
    require(created, "create_user");
    return created->user.id;
  }

  pqxx::result sql(const std::string& text) {
    return test::sql(servers.database_url(), text);
  }

  user_state user(int32_t id) {
    auto row
      = sql("SELECT subscription_status, stripe_status, subscription_id, stripe_customer,"
            " extract(epoch FROM subscription_ends_at)::bigint AS ends_at,"
            " extract(epoch FROM past_due_since)::bigint AS past_due_since,"
            " extract(epoch FROM billing_updated_at)::bigint AS billing_updated_at"
            " FROM gateway.users WHERE id = "
            + std::to_string(id))
          .at(0);
    return {row["subscription_status"].as<std::string>(),
            get<std::string>(row["stripe_status"]),
            get<std::string>(row["subscription_id"]),
            get<std::string>(row["stripe_customer"]),
            get<int64_t>(row["ends_at"]),
            get<int64_t>(row["past_due_since"]),
            get<int64_t>(row["billing_updated_at"])};
  }

  std::optional<event_row> event(const std::string& id) {
    pqxx::connection conn{servers.database_url()};
    pqxx::work tx{conn};
    auto rows
      = tx.exec_params("SELECT type, stripe_status, mapped_status, user_id,"
                       " applied_at IS NOT NULL AS applied, payload->>'id' AS payload_id"
                       " FROM gateway.billing_events WHERE event_id = $1",
                       id);
    if (rows.empty())
      return std::nullopt;
    auto& row = rows[0];
    return event_row{row["type"].as<std::string>(),
                     get<std::string>(row["stripe_status"]),
                     get<std::string>(row["mapped_status"]),
                     get<int32_t>(row["user_id"]),
                     row["applied"].as<bool>(),
                     row["payload_id"].as<std::string>()};
  }

  int64_t count(const std::string& table) {
    return sql("SELECT count(*) FROM gateway." + table).at(0).at(0).as<int64_t>();
  }

  /// What the slice manager and the session manager heard, the marker user left out.
  struct heard_so_far {
    std::vector<int32_t> policy_runs;
    std::vector<int32_t> cache_drops;
  };

  /// Waits until everything the billing actor sent so far has arrived, and returns it. Its
  /// messages to one receiver arrive in the order it sent them, so once a notification about
  /// a marker user (sent last) is in, so is everything sent before it.
  heard_so_far heard() {
    if (marker_ == 0) {
      marker_ = make_user("marker@example.com");
      link(marker_, "cus_marker");
      ++marker_notes_;
    }
    ++marker_notes_;
    updated("evt_marker_" + std::to_string(marker_notes_), t0 + marker_notes_, "cus_marker",
            "active");
    auto markers = [this](const std::vector<int32_t>& xs) {
      return std::count(xs.begin(), xs.end(), marker_);
    };
    BOOST_REQUIRE(test::eventually([&] {
      return markers(rec->policy_runs()) == marker_notes_
             && markers(rec->cache_drops()) == marker_notes_;
    }));
    auto without_marker = [this](std::vector<int32_t> xs) {
      xs.erase(std::remove(xs.begin(), xs.end(), marker_), xs.end());
      return xs;
    };
    return {without_marker(rec->policy_runs()), without_marker(rec->cache_drops())};
  }

 private:
  int32_t marker_ = 0;
  int64_t marker_notes_ = 0;
};

void check_outcome(const outcome& out, outcome_kind kind, std::vector<int32_t> users = {}) {
  BOOST_CHECK_EQUAL(to_string(out.kind), to_string(kind));
  BOOST_CHECK(out.user_ids == users);
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(billing_tests, fixture)

// -- the status mapping --------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(every_stripe_status_maps_onto_the_user) {
  auto id = make_user("map@example.com");
  link(id, "cus_map");
  std::vector<std::pair<std::string, std::string>> table{
    {"trialing", "trial"},      {"active", "active"},
    {"past_due", "past_due"},   {"unpaid", "past_due"},
    {"incomplete", "past_due"}, {"paused", "past_due"},
    {"canceled", "cancelled"},  {"incomplete_expired", "cancelled"},
  };
  int64_t created = t0;
  for (auto& [raw, mapped] : table) {
    BOOST_TEST_CONTEXT(raw) {
      auto evt = "evt_map_" + raw;
      check_outcome(updated(evt, ++created, "cus_map", raw), outcome_kind::applied, {id});
      auto u = user(id);
      BOOST_CHECK_EQUAL(u.subscription_status, mapped);
      BOOST_CHECK(u.stripe_status == raw);
      BOOST_CHECK(u.subscription_id == std::string{"sub_cus_map"});
      BOOST_CHECK(u.billing_updated_at == created);
      auto row = event(evt);
      BOOST_REQUIRE(row);
      BOOST_CHECK(row->stripe_status == raw);
      BOOST_CHECK(row->mapped_status == mapped);
      BOOST_CHECK(row->user_id == id);
      BOOST_CHECK(row->applied);
      BOOST_CHECK_EQUAL(row->payload_id, evt);
    }
  }
}

BOOST_AUTO_TEST_CASE(deleted_paused_and_resumed_follow_their_own_rules) {
  auto id = make_user("rules@example.com");
  link(id, "cus_r");
  subscription("evt_r1", "customer.subscription.paused", t0 + 1, "cus_r", "paused");
  BOOST_CHECK_EQUAL(user(id).subscription_status, "past_due");
  BOOST_CHECK(user(id).stripe_status == std::string{"paused"});
  subscription("evt_r2", "customer.subscription.resumed", t0 + 2, "cus_r", "active");
  BOOST_CHECK_EQUAL(user(id).subscription_status, "active");
  BOOST_CHECK(user(id).stripe_status == std::string{"active"});
  subscription("evt_r3", "customer.subscription.deleted", t0 + 3, "cus_r", "canceled");
  BOOST_CHECK_EQUAL(user(id).subscription_status, "cancelled");
  BOOST_CHECK(user(id).stripe_status == std::string{"canceled"});
}

BOOST_AUTO_TEST_CASE(an_unknown_status_is_refused_and_not_stored) {
  auto id = make_user("unknown@example.com");
  link(id, "cus_u");
  auto body = fx::event("evt_u", "customer.subscription.updated", t0,
                        fx::subscription("cus_u", "sub_u", "on_vacation", t0));
  auto result = try_send(body.dump());
  BOOST_REQUIRE(!result);
  BOOST_CHECK(code_of(result.error()) == ec::invalid_request);
  BOOST_CHECK(!event("evt_u"));
  BOOST_CHECK_EQUAL(user(id).subscription_status, "trial");
}

// -- invoices ------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(invoices_set_active_or_past_due_in_both_api_shapes) {
  for (auto shape : {fx::api::current, fx::api::legacy}) {
    auto tag = std::string{shape == fx::api::current ? "current" : "legacy"};
    BOOST_TEST_CONTEXT(tag) {
      auto id = make_user(tag + "@example.com");
      link(id, "cus_" + tag);
      auto failed = fx::event("evt_fail_" + tag, "invoice.payment_failed", t0 + 1,
                              fx::invoice("cus_" + tag, "sub_cus_" + tag, t0 + 500, shape));
      check_outcome(send(failed), outcome_kind::applied, {id});
      auto u = user(id);
      BOOST_CHECK_EQUAL(u.subscription_status, "past_due");
      BOOST_CHECK(u.stripe_status == std::string{"past_due"});
      BOOST_CHECK(u.subscription_id == "sub_cus_" + tag);
      BOOST_CHECK(u.ends_at == t0 + 500);
      auto paid = fx::event("evt_paid_" + tag, "invoice.paid", t0 + 2,
                            fx::invoice("cus_" + tag, "sub_cus_" + tag, t0 + 900, shape));
      check_outcome(send(paid), outcome_kind::applied, {id});
      u = user(id);
      BOOST_CHECK_EQUAL(u.subscription_status, "active");
      BOOST_CHECK(u.stripe_status == std::string{"active"});
      BOOST_CHECK(u.ends_at == t0 + 900);
    }
  }
}

BOOST_AUTO_TEST_CASE(an_invoice_outside_any_subscription_changes_nothing) {
  auto id = make_user("oneoff@example.com");
  link(id, "cus_o");
  auto body = fx::event("evt_o", "invoice.paid", t0, fx::invoice("cus_o", std::nullopt, t0));
  check_outcome(send(body), outcome_kind::ignored);
  BOOST_CHECK_EQUAL(user(id).subscription_status, "trial");
  BOOST_REQUIRE(event("evt_o"));
  BOOST_CHECK(!event("evt_o")->applied);
}

BOOST_AUTO_TEST_CASE(an_event_without_an_end_keeps_the_known_one) {
  auto id = make_user("keep@example.com");
  link(id, "cus_k");
  subscription("evt_k1", "customer.subscription.updated", t0 + 1, "cus_k", "active", t0 + 777);
  auto object = fx::invoice("cus_k", "sub_cus_k", 0);
  object["lines"]["data"] = json::array();
  send(fx::event("evt_k2", "invoice.payment_failed", t0 + 2, object));
  BOOST_CHECK_EQUAL(user(id).subscription_status, "past_due");
  BOOST_CHECK(user(id).ends_at == t0 + 777);
}

// -- both API shapes of a subscription -----------------------------------------------------

BOOST_AUTO_TEST_CASE(the_period_end_lands_on_the_user_in_both_api_shapes) {
  auto id = make_user("shapes@example.com");
  link(id, "cus_s");
  subscription("evt_s1", "customer.subscription.created", t0 + 1, "cus_s", "trialing",
               t0 + 1000, fx::api::legacy);
  BOOST_CHECK(user(id).ends_at == t0 + 1000);
  subscription("evt_s2", "customer.subscription.updated", t0 + 2, "cus_s", "active", t0 + 2000,
               fx::api::current);
  BOOST_CHECK(user(id).ends_at == t0 + 2000);
}

BOOST_AUTO_TEST_CASE(a_cancellation_ends_at_cancel_at) {
  auto id = make_user("cancel@example.com");
  link(id, "cus_c");
  auto object = fx::subscription("cus_c", "sub_cus_c", "active", t0 + 2000);
  object["cancel_at"] = t0 + 1500;
  send(fx::event("evt_c1", "customer.subscription.updated", t0 + 1, object));
  BOOST_CHECK_EQUAL(user(id).subscription_status, "active");
  BOOST_CHECK(user(id).ends_at == t0 + 1500);
  object["status"] = "canceled";
  object["ended_at"] = t0 + 1400;
  send(fx::event("evt_c2", "customer.subscription.deleted", t0 + 2, object));
  BOOST_CHECK_EQUAL(user(id).subscription_status, "cancelled");
  BOOST_CHECK(user(id).ends_at == t0 + 1400);
}

// -- duplicates and ordering ---------------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_duplicate_is_skipped) {
  auto id = make_user("dup@example.com");
  link(id, "cus_d");
  check_outcome(updated("evt_d", t0 + 1, "cus_d", "past_due"), outcome_kind::applied, {id});
  check_outcome(updated("evt_d", t0 + 1, "cus_d", "past_due"), outcome_kind::duplicate);
  // Same id, different content: still the event seen before.
  check_outcome(updated("evt_d", t0 + 5, "cus_d", "active"), outcome_kind::duplicate);
  auto u = user(id);
  BOOST_CHECK_EQUAL(u.subscription_status, "past_due");
  BOOST_CHECK(u.past_due_since == t0 + 1);
  BOOST_CHECK(event("evt_d")->stripe_status == std::string{"past_due"});
  BOOST_CHECK_EQUAL(count("billing_events"), 2); // the link's checkout and evt_d
  // The link and evt_d, nothing for the duplicates.
  auto heard_now = heard();
  BOOST_CHECK(heard_now.policy_runs == (std::vector<int32_t>{id, id}));
  BOOST_CHECK(heard_now.cache_drops == (std::vector<int32_t>{id, id}));
}

BOOST_AUTO_TEST_CASE(an_older_event_does_not_overwrite_newer_state) {
  auto id = make_user("order@example.com");
  link(id, "cus_o");
  check_outcome(updated("evt_new", t0 + 20, "cus_o", "canceled"), outcome_kind::applied, {id});
  check_outcome(updated("evt_old", t0 + 10, "cus_o", "active"), outcome_kind::stale);
  auto u = user(id);
  BOOST_CHECK_EQUAL(u.subscription_status, "cancelled");
  BOOST_CHECK(u.stripe_status == std::string{"canceled"});
  BOOST_CHECK(u.billing_updated_at == t0 + 20);
  auto old_row = event("evt_old");
  BOOST_REQUIRE(old_row);
  BOOST_CHECK(!old_row->applied);
  BOOST_CHECK(old_row->user_id == id);
  // An invoice is ordered the same way.
  auto late_invoice = fx::event("evt_old_invoice", "invoice.paid", t0 + 15,
                                fx::invoice("cus_o", "sub_cus_o", t0 + 99));
  check_outcome(send(late_invoice), outcome_kind::stale);
  BOOST_CHECK_EQUAL(user(id).subscription_status, "cancelled");
}

BOOST_AUTO_TEST_CASE(events_of_the_same_second_apply_in_arrival_order) {
  auto id = make_user("tie@example.com");
  link(id, "cus_t");
  check_outcome(updated("evt_t1", t0, "cus_t", "past_due"), outcome_kind::applied, {id});
  check_outcome(
    send(fx::event("evt_t2", "invoice.paid", t0, fx::invoice("cus_t", "sub_cus_t", t0 + 10))),
    outcome_kind::applied, {id});
  BOOST_CHECK_EQUAL(user(id).subscription_status, "active");
}

// -- past_due_since ------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(past_due_since_counts_from_entering_past_due) {
  auto id = make_user("grace@example.com");
  link(id, "cus_g");
  updated("evt_g1", t0 + 1, "cus_g", "active");
  BOOST_CHECK(!user(id).past_due_since);
  updated("evt_g2", t0 + 2, "cus_g", "past_due");
  BOOST_CHECK(user(id).past_due_since == t0 + 2);
  // Still past_due (now unpaid): the grace period keeps counting from the entry.
  updated("evt_g3", t0 + 3, "cus_g", "unpaid");
  BOOST_CHECK(user(id).past_due_since == t0 + 2);
  BOOST_CHECK(user(id).stripe_status == std::string{"unpaid"});
  send(fx::event("evt_g4", "invoice.payment_failed", t0 + 4,
                 fx::invoice("cus_g", "sub_cus_g", t0 + 10)));
  BOOST_CHECK(user(id).past_due_since == t0 + 2);
  updated("evt_g5", t0 + 5, "cus_g", "active");
  BOOST_CHECK(!user(id).past_due_since);
  send(fx::event("evt_g6", "invoice.payment_failed", t0 + 6,
                 fx::invoice("cus_g", "sub_cus_g", t0 + 10)));
  BOOST_CHECK(user(id).past_due_since == t0 + 6);
  updated("evt_g7", t0 + 7, "cus_g", "canceled");
  BOOST_CHECK(!user(id).past_due_since);
}

// -- linking -------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(events_before_the_checkout_apply_on_link_in_created_order) {
  auto id = make_user("late@example.com");
  // They arrive out of order, before any link.
  check_outcome(updated("evt_l3", t0 + 30, "cus_late", "past_due"), outcome_kind::pending);
  check_outcome(updated("evt_l1", t0 + 10, "cus_late", "trialing"), outcome_kind::pending);
  check_outcome(updated("evt_l2", t0 + 20, "cus_late", "active"), outcome_kind::pending);
  BOOST_CHECK_EQUAL(user(id).subscription_status, "trial");
  BOOST_CHECK(!user(id).stripe_customer);
  BOOST_CHECK(heard().policy_runs.empty());
  check_outcome(checkout("evt_l_cs", t0 + 40, "cus_late", std::to_string(id), std::nullopt),
                outcome_kind::applied, {id});
  auto u = user(id);
  BOOST_CHECK(u.stripe_customer == std::string{"cus_late"});
  BOOST_CHECK(u.subscription_id == std::string{"sub_cus_late"});
  BOOST_CHECK_EQUAL(u.subscription_status, "past_due");
  BOOST_CHECK(u.past_due_since == t0 + 30);
  BOOST_CHECK(u.billing_updated_at == t0 + 30);
  // Applied oldest first, each one in turn: none was found stale.
  for (auto evt : {"evt_l1", "evt_l2", "evt_l3", "evt_l_cs"}) {
    auto row = event(evt);
    BOOST_REQUIRE(row);
    BOOST_CHECK_MESSAGE(row->applied, evt << " not applied");
    BOOST_CHECK(row->user_id == id);
  }
  // One policy run for the link, covering everything it applied.
  auto heard_now = heard();
  BOOST_CHECK(heard_now.policy_runs == std::vector<int32_t>{id});
  BOOST_CHECK(heard_now.cache_drops == std::vector<int32_t>{id});
  // Later events apply directly.
  check_outcome(updated("evt_l4", t0 + 50, "cus_late", "active"), outcome_kind::applied, {id});
}

BOOST_AUTO_TEST_CASE(a_waiting_event_older_than_the_users_state_stays_unapplied) {
  auto id = make_user("mixed@example.com");
  link(id, "cus_first");
  updated("evt_m1", t0 + 50, "cus_first", "active");
  // A checkout never replaces a link; an operator removes the old one by hand, which leaves
  // the user's state in place.
  sql("UPDATE gateway.users SET stripe_customer = NULL WHERE id = " + std::to_string(id));
  check_outcome(updated("evt_m2", t0 + 10, "cus_second", "canceled"), outcome_kind::pending);
  check_outcome(checkout("evt_m_cs", t0 + 60, "cus_second", std::to_string(id), std::nullopt),
                outcome_kind::applied, {id});
  BOOST_CHECK(user(id).stripe_customer == std::string{"cus_second"});
  BOOST_CHECK_EQUAL(user(id).subscription_status, "active");
  auto row = event("evt_m2");
  BOOST_REQUIRE(row);
  BOOST_CHECK(!row->applied);
  BOOST_CHECK(row->user_id == id);
}

BOOST_AUTO_TEST_CASE(a_checkout_links_by_client_reference_id_before_email) {
  auto by_id = make_user("by-id@example.com");
  auto by_email = make_user("by-email@example.com");
  check_outcome(checkout("evt_cs1", t0, "cus_x", std::to_string(by_id), "by-email@example.com"),
                outcome_kind::applied, {by_id});
  BOOST_CHECK(user(by_id).stripe_customer == std::string{"cus_x"});
  BOOST_CHECK(!user(by_email).stripe_customer);
}

BOOST_AUTO_TEST_CASE(a_checkout_links_by_email_without_a_usable_reference) {
  auto id = make_user("mail@example.com");
  // No reference, a reference that is not a user id, one naming nobody: all fall back. The
  // e-mail matches whatever its case, as the users table stores e-mails lowercase.
  check_outcome(checkout("evt_e1", t0, "cus_e", std::nullopt, "MAIL@Example.com"),
                outcome_kind::applied, {id});
  check_outcome(checkout("evt_e2", t0 + 1, "cus_e", "order-17", "mail@example.com"),
                outcome_kind::applied, {id});
  check_outcome(checkout("evt_e3", t0 + 2, "cus_e", "999999", " mail@example.com "),
                outcome_kind::applied, {id});
  BOOST_CHECK(user(id).stripe_customer == std::string{"cus_e"});
  // Anything but the same address, lowercased, names nobody.
  for (auto other : {"mail+tag@example.com", "ma.il@example.com", "mail@example.co",
                     "mail@example.com.evil.test", "%@example.com"})
    BOOST_TEST_CONTEXT(other) {
      check_outcome(checkout(std::string{"evt_e_"} + other, t0 + 3, "cus_other", std::nullopt,
                             std::string{other}),
                    outcome_kind::pending);
    }
  BOOST_CHECK(user(id).stripe_customer == std::string{"cus_e"});
}

BOOST_AUTO_TEST_CASE(a_checkout_naming_nobody_waits_and_one_without_customer_is_ignored) {
  check_outcome(checkout("evt_n1", t0, "cus_n", "4242", "nobody@example.com"),
                outcome_kind::pending);
  BOOST_REQUIRE(event("evt_n1"));
  BOOST_CHECK(!event("evt_n1")->applied);
  auto id = make_user("payer@example.com");
  auto object = fx::checkout(std::nullopt, std::to_string(id), "payer@example.com");
  check_outcome(send(fx::event("evt_n2", "checkout.session.completed", t0, object)),
                outcome_kind::ignored);
  BOOST_CHECK(!user(id).stripe_customer);
  // The fixture itself is such a one-off payment.
  check_outcome(send(fx::event("evt_n3", "checkout.session.completed", t0,
                               fx::fixture("checkout.session"))),
                outcome_kind::ignored);
}

// -- users created after their billing events ----------------------------------------------

BOOST_AUTO_TEST_CASE(a_user_created_with_a_customer_gets_its_waiting_events) {
  check_outcome(updated("evt_w2", t0 + 20, "cus_w", "past_due"), outcome_kind::pending);
  check_outcome(updated("evt_w1", t0 + 10, "cus_w", "active"), outcome_kind::pending);
  auto id = make_user("signup@example.com", "cus_w");
  // Applied by the creating transaction, oldest first, so the newer past_due wins.
  auto u = user(id);
  BOOST_CHECK_EQUAL(u.subscription_status, "past_due");
  BOOST_CHECK(u.past_due_since == t0 + 20);
  BOOST_CHECK(u.subscription_id == std::string{"sub_cus_w"});
  BOOST_CHECK(event("evt_w1")->applied);
  BOOST_CHECK(event("evt_w2")->applied);
  // Nothing waits any more: the next event of the customer applies at once.
  check_outcome(updated("evt_w3", t0 + 30, "cus_w", "active"), outcome_kind::applied, {id});
  BOOST_CHECK_EQUAL(user(id).subscription_status, "active");
}

BOOST_AUTO_TEST_CASE(the_created_user_is_returned_with_what_waited) {
  check_outcome(updated("evt_ret", t0, "cus_ret", "past_due"), outcome_kind::pending);
  db::create_user x;
  x.email = "returned@example.com";
  x.stripe_customer = "cus_ret";
  x.password_hash = "$2b$12$abcdefghijklmnopqrstuuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01";
  x.subscription_status = subscription::trial;
  auto created = ask<db::user_created>(db, x);
  require(created, "create_user");
  BOOST_CHECK_EQUAL(created->user.subscription_status, subscription::past_due);
}

BOOST_AUTO_TEST_CASE(a_checkout_before_its_user_links_once_the_user_exists) {
  check_outcome(
    checkout("evt_early_cs", t0 + 5, "cus_early", std::nullopt, "Early@Example.com"),
    outcome_kind::pending);
  check_outcome(updated("evt_early_sub", t0 + 6, "cus_early", "active"), outcome_kind::pending);
  auto other = make_user("other@example.com");
  BOOST_CHECK(!user(other).stripe_customer);
  auto id = make_user("early@example.com");
  auto u = user(id);
  BOOST_CHECK(u.stripe_customer == std::string{"cus_early"});
  BOOST_CHECK(u.subscription_id == std::string{"sub_cus_early"});
  BOOST_CHECK_EQUAL(u.subscription_status, "active");
  auto row = event("evt_early_cs");
  BOOST_REQUIRE(row);
  BOOST_CHECK(row->applied);
  BOOST_CHECK(row->user_id == id);
  BOOST_CHECK(!user(other).stripe_customer);
}

BOOST_AUTO_TEST_CASE(a_waiting_checkout_names_its_user_by_id_too) {
  auto first = make_user("first@example.com");
  // User ids come from a sequence: the next user gets the next id.
  auto next = std::to_string(first + 1);
  check_outcome(checkout("evt_ref_cs", t0, "cus_ref", next, "elsewhere@example.com"),
                outcome_kind::pending);
  auto id = make_user("second@example.com");
  BOOST_REQUIRE_EQUAL(std::to_string(id), next);
  BOOST_CHECK(user(id).stripe_customer == std::string{"cus_ref"});
}

// -- hijacks: a link is never replaced ------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_checkout_never_replaces_the_customer_a_user_is_linked_to) {
  auto id = make_user("held@example.com");
  link(id, "cus_held");
  check_outcome(updated("evt_h1", t0 + 1, "cus_held", "active"), outcome_kind::applied, {id});
  // The stranger's subscription is already over; were it linked, the user's slice would go.
  check_outcome(updated("evt_h_thief", t0 + 2, "cus_thief", "canceled"), outcome_kind::pending);
  auto before = user(id);
  auto heard_before = heard();
  // Naming the user by id, then by e-mail alone, each with a customer of its own.
  check_outcome(checkout("evt_h_cs1", t0 + 3, "cus_thief", std::to_string(id), std::nullopt),
                outcome_kind::refused, {id});
  check_outcome(checkout("evt_h_cs2", t0 + 4, "cus_thief", std::nullopt, "Held@Example.com"),
                outcome_kind::refused, {id});
  check_outcome(checkout("evt_h_cs3", t0 + 5, "cus_other", "999999", "held@example.com"),
                outcome_kind::refused, {id});
  auto after = user(id);
  BOOST_CHECK(after.stripe_customer == std::string{"cus_held"});
  BOOST_CHECK(after.subscription_id == std::string{"sub_cus_held"});
  BOOST_CHECK_EQUAL(after.subscription_status, "active");
  BOOST_CHECK(after.stripe_status == std::string{"active"});
  BOOST_CHECK(after.ends_at == before.ends_at);
  BOOST_CHECK(after.billing_updated_at == before.billing_updated_at);
  // Each checkout is recorded against the user, not applied.
  for (auto evt : {"evt_h_cs1", "evt_h_cs2", "evt_h_cs3"}) {
    BOOST_TEST_CONTEXT(evt) {
      auto row = event(evt);
      BOOST_REQUIRE(row);
      BOOST_CHECK(!row->applied);
      BOOST_CHECK(row->user_id == id);
    }
  }
  // The stranger's events still wait for a customer of their own.
  auto waiting = event("evt_h_thief");
  BOOST_REQUIRE(waiting);
  BOOST_CHECK(!waiting->applied);
  BOOST_CHECK(!waiting->user_id);
  check_outcome(updated("evt_h_thief2", t0 + 6, "cus_thief", "canceled"),
                outcome_kind::pending);
  // Nobody re-ran the slice policy or dropped a cached session for the user.
  auto heard_after = heard();
  BOOST_CHECK(heard_after.policy_runs == heard_before.policy_runs);
  BOOST_CHECK(heard_after.cache_drops == heard_before.cache_drops);
  // The user's own customer still applies.
  check_outcome(updated("evt_h7", t0 + 7, "cus_held", "past_due"), outcome_kind::applied, {id});
}

BOOST_AUTO_TEST_CASE(a_waiting_checkout_does_not_take_over_an_account_with_another_customer) {
  // Paid with the e-mail, and with the id the next account will get, before they exist.
  auto first = make_user("first-w@example.com");
  auto next = std::to_string(first + 1);
  check_outcome(checkout("evt_x_cs1", t0 + 5, "cus_stranger", std::nullopt, "X@Y.example"),
                outcome_kind::pending);
  check_outcome(checkout("evt_x_cs2", t0 + 6, "cus_stranger", next, std::nullopt),
                outcome_kind::pending);
  check_outcome(updated("evt_x_sub", t0 + 7, "cus_stranger", "canceled"),
                outcome_kind::pending);
  // The account comes with a customer of its own (a signup event naming it).
  auto id = make_user("x@y.example", "cus_own");
  BOOST_REQUIRE_EQUAL(std::to_string(id), next);
  auto u = user(id);
  BOOST_CHECK(u.stripe_customer == std::string{"cus_own"});
  BOOST_CHECK(!u.subscription_id);
  BOOST_CHECK_EQUAL(u.subscription_status, "trial");
  BOOST_CHECK(!u.billing_updated_at);
  // The checkout that would have linked is recorded against the account, not applied.
  auto row = event("evt_x_cs2");
  BOOST_REQUIRE(row);
  BOOST_CHECK(!row->applied);
  BOOST_CHECK(row->user_id == id);
  for (auto evt : {"evt_x_cs1", "evt_x_sub"})
    BOOST_TEST_CONTEXT(evt) {
      BOOST_REQUIRE(event(evt));
      BOOST_CHECK(!event(evt)->applied);
    }
  BOOST_CHECK(!event("evt_x_sub")->user_id);
  // The account's own customer applies.
  check_outcome(updated("evt_x_own", t0 + 8, "cus_own", "active"), outcome_kind::applied, {id});
}

BOOST_AUTO_TEST_CASE(a_fresh_account_is_linked_and_its_own_customer_may_check_out_again) {
  // Linked directly: an account without a customer.
  auto direct = make_user("fresh-direct@example.com");
  check_outcome(
    checkout("evt_f_cs1", t0, "cus_fresh", std::nullopt, "fresh-direct@example.com"),
    outcome_kind::applied, {direct});
  // The same customer checks out again (a new subscription): still its own link.
  check_outcome(
    checkout("evt_f_cs2", t0 + 1, "cus_fresh", std::to_string(direct), std::nullopt),
    outcome_kind::applied, {direct});
  BOOST_CHECK(user(direct).stripe_customer == std::string{"cus_fresh"});
  // Linked on creation: a checkout that waited, for an account created without a customer...
  check_outcome(
    checkout("evt_f_cs3", t0 + 2, "cus_fresh_w", std::nullopt, "fresh-w@example.com"),
    outcome_kind::pending);
  check_outcome(updated("evt_f_sub3", t0 + 3, "cus_fresh_w", "active"), outcome_kind::pending);
  auto waited = make_user("fresh-w@example.com");
  BOOST_CHECK(user(waited).stripe_customer == std::string{"cus_fresh_w"});
  BOOST_CHECK_EQUAL(user(waited).subscription_status, "active");
  BOOST_CHECK(event("evt_f_cs3")->applied);
  // ...or for one created with that very customer.
  check_outcome(
    checkout("evt_f_cs4", t0 + 4, "cus_same", std::nullopt, "fresh-same@example.com"),
    outcome_kind::pending);
  auto same = make_user("fresh-same@example.com", "cus_same");
  BOOST_CHECK(user(same).stripe_customer == std::string{"cus_same"});
  BOOST_CHECK(user(same).subscription_id == std::string{"sub_cus_same"});
  BOOST_CHECK(event("evt_f_cs4")->applied);
  BOOST_CHECK(event("evt_f_cs4")->user_id == same);
}

// -- hostile payloads ----------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(quotes_and_sql_in_ids_are_stored_as_data) {
  auto id = make_user("o'reilly@example.com");
  std::string customer = "cus_'); DROP TABLE gateway.users; --";
  check_outcome(checkout("evt_q'1", t0, customer, std::nullopt, "O'Reilly@example.com"),
                outcome_kind::applied, {id});
  check_outcome(updated("evt_q'2", t0 + 1, customer, "active"), outcome_kind::applied, {id});
  BOOST_CHECK(user(id).stripe_customer == customer);
  BOOST_CHECK_EQUAL(user(id).subscription_status, "active");
}

BOOST_AUTO_TEST_CASE(a_payload_with_u0000_is_stored_and_its_change_applied) {
  auto id = make_user("nul@example.com");
  link(id, "cus_nul");
  auto object = fx::subscription("cus_nul", "sub_cus_nul", "active", t0 + 3000);
  object["metadata"] = {{"note", std::string{"a\0b", 3}}};
  auto body = fx::event("evt_nul", "customer.subscription.updated", t0, object).dump();
  BOOST_REQUIRE(body.find("\\u0000") != std::string::npos);
  auto result = try_send(body);
  require(result, "billing");
  check_outcome(*result, outcome_kind::applied, {id});
  auto u = user(id);
  BOOST_CHECK_EQUAL(u.subscription_status, "active");
  BOOST_CHECK(u.ends_at == t0 + 3000);
  auto row = event("evt_nul");
  BOOST_REQUIRE(row);
  BOOST_CHECK(row->applied);
  BOOST_CHECK_EQUAL(row->payload_id, "evt_nul");
  // U+0000 is stored as U+FFFD, the rest as sent.
  auto note = sql("SELECT payload #>> '{data,object,metadata,note}' FROM gateway.billing_events"
                  " WHERE event_id = 'evt_nul'")
                .at(0)
                .at(0)
                .as<std::string>();
  BOOST_CHECK_EQUAL(note, "a\xEF\xBF\xBD"
                          "b");
}

// -- billing per subscription --------------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_late_deletion_of_a_replaced_subscription_changes_nothing) {
  auto id = make_user("replaced@example.com");
  link(id, "cus_rp"); // the checkout of sub_cus_rp, at t0 - 1000
  auto old_sub = fx::subscription("cus_rp", "sub_cus_rp", "active", t0 + 30 * 86400);
  old_sub["created"] = t0 - 1000;
  check_outcome(send(fx::event("evt_rp1", "customer.subscription.updated", t0 + 1, old_sub)),
                outcome_kind::applied, {id});
  // The customer switches plans: a new subscription and its checkout.
  auto new_sub = fx::subscription("cus_rp", "sub_rp_new", "active", t0 + 60 * 86400);
  new_sub["created"] = t0 + 100;
  check_outcome(send(fx::event("evt_rp2", "customer.subscription.created", t0 + 100, new_sub)),
                outcome_kind::applied, {id});
  check_outcome(
    send(fx::event("evt_rp3", "checkout.session.completed", t0 + 101,
                   fx::checkout("cus_rp", std::to_string(id), std::nullopt, "sub_rp_new"))),
    outcome_kind::applied, {id});
  auto before = user(id);
  BOOST_CHECK(before.subscription_id == std::string{"sub_rp_new"});
  BOOST_CHECK_EQUAL(before.subscription_status, "active");
  auto heard_before = heard();
  // The old subscription is deleted afterwards, and its final invoice paid: recorded against
  // the user, changing nothing.
  auto gone = old_sub;
  gone["status"] = "canceled";
  gone["ended_at"] = t0 + 200;
  auto late = send(fx::event("evt_rp4", "customer.subscription.deleted", t0 + 200, gone));
  BOOST_CHECK_EQUAL(to_string(late.kind), "superseded");
  BOOST_CHECK(late.user_ids == std::vector<int32_t>{id});
  auto final_invoice = send(fx::event("evt_rp5", "invoice.paid", t0 + 201,
                                      fx::invoice("cus_rp", "sub_cus_rp", t0 + 200)));
  BOOST_CHECK_EQUAL(to_string(final_invoice.kind), "superseded");
  // A late checkout of the old subscription does not make it current again.
  check_outcome(
    send(fx::event("evt_rp6", "checkout.session.completed", t0 - 999,
                   fx::checkout("cus_rp", std::to_string(id), std::nullopt, "sub_cus_rp"))),
    outcome_kind::applied, {id});
  auto after = user(id);
  BOOST_CHECK_EQUAL(after.subscription_status, "active");
  BOOST_CHECK(after.stripe_status == std::string{"active"});
  BOOST_CHECK(after.subscription_id == std::string{"sub_rp_new"});
  BOOST_CHECK(after.ends_at == before.ends_at);
  BOOST_CHECK(after.billing_updated_at == before.billing_updated_at);
  for (auto evt : {"evt_rp4", "evt_rp5"}) {
    BOOST_TEST_CONTEXT(evt) {
      auto row = event(evt);
      BOOST_REQUIRE(row);
      BOOST_CHECK(!row->applied);
      BOOST_CHECK(row->user_id == id);
    }
  }
  // Only the late checkout (a link) reached the slice policy.
  auto heard_after = heard();
  auto runs = heard_before.policy_runs;
  runs.push_back(id);
  BOOST_CHECK(heard_after.policy_runs == runs);
  // The current subscription still applies.
  check_outcome(send(fx::event("evt_rp7", "invoice.payment_failed", t0 + 300,
                               fx::invoice("cus_rp", "sub_rp_new", t0 + 400))),
                outcome_kind::applied, {id});
  BOOST_CHECK_EQUAL(user(id).subscription_status, "past_due");
}

BOOST_AUTO_TEST_CASE(only_a_newer_active_or_trialing_subscription_becomes_current) {
  auto id = make_user("portal@example.com");
  link(id, "cus_pt");
  auto first = fx::subscription("cus_pt", "sub_cus_pt", "active", t0 + 1000);
  first["created"] = t0 - 1000;
  check_outcome(send(fx::event("evt_pt1", "customer.subscription.updated", t0 + 1, first)),
                outcome_kind::applied, {id});
  // An older subscription of the customer, active: not current, changes nothing.
  auto older = fx::subscription("cus_pt", "sub_pt_older", "active", t0 + 5000);
  older["created"] = t0 - 5000;
  auto out = send(fx::event("evt_pt2", "customer.subscription.updated", t0 + 2, older));
  BOOST_CHECK_EQUAL(to_string(out.kind), "superseded");
  // A newer one that is not paid yet (incomplete): not current either.
  auto newer = fx::subscription("cus_pt", "sub_pt_newer", "incomplete", t0 + 9000);
  newer["created"] = t0 + 10;
  out = send(fx::event("evt_pt3", "customer.subscription.created", t0 + 10, newer));
  BOOST_CHECK_EQUAL(to_string(out.kind), "superseded");
  auto u = user(id);
  BOOST_CHECK(u.subscription_id == std::string{"sub_cus_pt"});
  BOOST_CHECK_EQUAL(u.subscription_status, "active");
  BOOST_CHECK(u.ends_at == t0 + 1000);
  // Once it is trialing (made without a checkout, e.g. in the customer portal), it is current.
  newer["status"] = "trialing";
  check_outcome(send(fx::event("evt_pt4", "customer.subscription.updated", t0 + 11, newer)),
                outcome_kind::applied, {id});
  u = user(id);
  BOOST_CHECK(u.subscription_id == std::string{"sub_pt_newer"});
  BOOST_CHECK_EQUAL(u.subscription_status, "trial");
  BOOST_CHECK(u.ends_at == t0 + 9000);
  // The first subscription's cancellation, later, is of a replaced subscription.
  first["status"] = "canceled";
  out = send(fx::event("evt_pt5", "customer.subscription.deleted", t0 + 20, first));
  BOOST_CHECK_EQUAL(to_string(out.kind), "superseded");
  BOOST_CHECK_EQUAL(user(id).subscription_status, "trial");
  BOOST_CHECK(user(id).subscription_id == std::string{"sub_pt_newer"});
}

BOOST_AUTO_TEST_CASE(a_final_invoice_paid_at_cancellation_does_not_reactivate) {
  auto id = make_user("final@example.com");
  link(id, "cus_fi");
  updated("evt_fi1", t0 + 1, "cus_fi", "active");
  auto object = fx::subscription("cus_fi", "sub_cus_fi", "canceled", t0 + 2000);
  object["ended_at"] = t0 + 10;
  check_outcome(send(fx::event("evt_fi2", "customer.subscription.deleted", t0 + 10, object)),
                outcome_kind::applied, {id});
  auto before = user(id);
  BOOST_CHECK_EQUAL(before.subscription_status, "cancelled");
  BOOST_CHECK(before.ends_at == t0 + 10);
  auto heard_before = heard();
  // Stripe bills the last period (prorations) at cancellation; the invoice is paid after.
  for (auto type : {"invoice.paid", "invoice.payment_failed"}) {
    BOOST_TEST_CONTEXT(type) {
      auto out = send(fx::event(std::string{"evt_fi_"} + type, type, t0 + 11,
                                fx::invoice("cus_fi", "sub_cus_fi", t0 + 5000)));
      BOOST_CHECK_EQUAL(to_string(out.kind), "superseded");
      BOOST_CHECK(out.user_ids == std::vector<int32_t>{id});
      auto row = event(std::string{"evt_fi_"} + type);
      BOOST_REQUIRE(row);
      BOOST_CHECK(!row->applied);
      BOOST_CHECK(row->user_id == id);
    }
  }
  auto after = user(id);
  BOOST_CHECK_EQUAL(after.subscription_status, "cancelled");
  BOOST_CHECK(after.stripe_status == std::string{"canceled"});
  BOOST_CHECK(after.ends_at == t0 + 10);
  BOOST_CHECK(after.billing_updated_at == t0 + 10);
  BOOST_CHECK(heard().policy_runs == heard_before.policy_runs);
}

BOOST_AUTO_TEST_CASE(a_paid_invoice_of_the_current_subscription_ends_a_trial) {
  auto id = make_user("trial-paid@example.com");
  link(id, "cus_tp");
  BOOST_CHECK_EQUAL(user(id).subscription_status, "trial");
  check_outcome(send(fx::event("evt_tp1", "invoice.paid", t0 + 1,
                               fx::invoice("cus_tp", "sub_cus_tp", t0 + 2000))),
                outcome_kind::applied, {id});
  BOOST_CHECK_EQUAL(user(id).subscription_status, "active");
  BOOST_CHECK(user(id).ends_at == t0 + 2000);
}

BOOST_AUTO_TEST_CASE(a_trial_without_a_period_end_ends_at_stripes_trial_end) {
  for (auto shape : {fx::api::current, fx::api::legacy}) {
    auto tag = std::string{shape == fx::api::current ? "current" : "legacy"};
    BOOST_TEST_CONTEXT(tag) {
      auto id = make_user("trial-" + tag + "@example.com");
      link(id, "cus_tr_" + tag);
      // The trial the signup granted (trial-days after it).
      auto signup_end = t0 + 14 * 86400;
      sql("UPDATE gateway.users SET subscription_ends_at = to_timestamp("
          + std::to_string(signup_end) + ") WHERE id = " + std::to_string(id));
      auto object
        = fx::subscription("cus_tr_" + tag, "sub_cus_tr_" + tag, "trialing", 0, shape);
      // No current period end anywhere, as Stripe sends some trials.
      object["current_period_end"] = nullptr;
      for (auto& item : object["items"]["data"])
        item["current_period_end"] = nullptr;
      object["trial_end"] = t0 + 7 * 86400;
      check_outcome(
        send(fx::event("evt_tr_" + tag, "customer.subscription.created", t0, object)),
        outcome_kind::applied, {id});
      auto u = user(id);
      BOOST_CHECK_EQUAL(u.subscription_status, "trial");
      BOOST_CHECK(u.ends_at == t0 + 7 * 86400);
      BOOST_CHECK(u.ends_at != signup_end);
    }
  }
}

BOOST_AUTO_TEST_CASE(billing_changed_goes_to_every_user_whose_state_changed) {
  auto a = make_user("a@example.com");
  auto b = make_user("b@example.com");
  link(a, "cus_a");
  link(b, "cus_b");
  updated("evt_b1", t0 + 1, "cus_b", "unpaid");
  updated("evt_a1", t0 + 1, "cus_a", "active");
  updated("evt_a_stale", t0, "cus_a", "canceled");
  auto heard_now = heard();
  BOOST_CHECK(heard_now.policy_runs == (std::vector<int32_t>{a, b, b, a}));
  BOOST_CHECK(heard_now.cache_drops == (std::vector<int32_t>{a, b, b, a}));
}

BOOST_AUTO_TEST_SUITE_END()
