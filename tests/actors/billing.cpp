#define BOOST_TEST_MODULE actors_billing
#include "actors/billing.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <caf/all.hpp>

#include "messages/error.hpp"
#include "tests/support/ask.hpp"
#include "tests/support/system.hpp"

using namespace slicegate;
using billing::event_type;
using billing::outcome;
using billing::outcome_kind;

namespace {

/// What the doubles of persistence, the slice manager and the session manager received.
struct recorded {
  std::vector<db::apply_billing_event> requests;
  std::vector<int32_t> billing_changed;
  std::vector<int32_t> user_changed;
};

billing::stripe_event subscription_event(event_type type, optional<std::string> status) {
  billing::stripe_event x;
  x.event_id = "evt_1";
  x.type = type;
  x.created = timestamp{std::chrono::seconds{1'795'536'461}};
  x.customer = std::string{"cus_a"};
  x.subscription_id = std::string{"sub_a"};
  x.stripe_status = std::move(status);
  x.payload = "{}";
  return x;
}

billing::stripe_event invoice_event(event_type type, optional<std::string> subscription) {
  auto x = subscription_event(type, caf::none);
  x.subscription_id = std::move(subscription);
  return x;
}

/// A billing actor whose persistence answers what `store_reply` says, on the deterministic
/// scheduler.
struct fixture : test::deterministic_system {
  std::shared_ptr<recorded> rec = std::make_shared<recorded>();
  /// Persistence's answer to the next request.
  std::shared_ptr<std::function<caf::result<outcome>()>> store_reply
    = std::make_shared<std::function<caf::result<outcome>()>>([] {
        return outcome{outcome_kind::applied, {7}};
      });
  billing_store_actor store;
  billing_actor billing;

  fixture() {
    store = spawn([rec = rec, reply = store_reply](
                    billing_store_actor::pointer) -> billing_store_actor::behavior_type {
      return {
        [rec, reply](db::apply_billing_event& x) -> caf::result<outcome> {
          rec->requests.push_back(x);
          return (*reply)();
        },
      };
    });
    auto slices = spawn(
      [rec = rec](billing_policy_actor::pointer) -> billing_policy_actor::behavior_type {
        return {
          [rec](pool::billing_changed& x) { rec->billing_changed.push_back(x.user_id); },
        };
      });
    auto sessions
      = spawn([rec = rec](user_cache_actor::pointer) -> user_cache_actor::behavior_type {
          return {
            [rec](auth::user_changed& x) { rec->user_changed.push_back(x.user_id); },
          };
        });
    billing
      = spawn(billing_manager, store, slices, sessions, timespan{std::chrono::seconds{5}});
    run();
  }

  /// Sends `x` to the billing actor and runs the system until it answered.
  template <class Message>
  caf::expected<outcome> ask(Message x) {
    return test::ask<outcome>(sys, billing, caf::infinite, std::move(x));
  }
};

} // namespace

// -- the status mapping of DESIGN.md §4 ------------------------------------------------------

BOOST_AUTO_TEST_CASE(raw_stripe_statuses_map_to_subscription_states) {
  std::vector<std::pair<std::string, subscription>> table{
    {"trialing", subscription::trial},      {"active", subscription::active},
    {"past_due", subscription::past_due},   {"unpaid", subscription::past_due},
    {"incomplete", subscription::past_due}, {"paused", subscription::past_due},
    {"canceled", subscription::cancelled},  {"incomplete_expired", subscription::cancelled},
  };
  for (auto& [raw, mapped] : table) {
    BOOST_CHECK(map_stripe_status(raw) == mapped);
    for (auto type : {event_type::subscription_created, event_type::subscription_updated,
                      event_type::subscription_resumed}) {
      BOOST_TEST_CONTEXT(raw << " in " << billing::to_string(type)) {
        auto effect = effect_of(subscription_event(type, raw));
        BOOST_REQUIRE(effect);
        BOOST_CHECK(effect->mapped_status == mapped);
        BOOST_CHECK(effect->stripe_status == raw);
      }
    }
  }
  BOOST_CHECK(!map_stripe_status("cancelled"));
  BOOST_CHECK(!map_stripe_status(""));
}

BOOST_AUTO_TEST_CASE(deleted_is_cancelled_and_paused_is_past_due_whatever_the_object_says) {
  auto deleted = effect_of(subscription_event(event_type::subscription_deleted, "active"));
  BOOST_REQUIRE(deleted);
  BOOST_CHECK(deleted->mapped_status == subscription::cancelled);
  BOOST_CHECK(deleted->stripe_status == std::string{"active"});
  deleted = effect_of(subscription_event(event_type::subscription_deleted, caf::none));
  BOOST_REQUIRE(deleted);
  BOOST_CHECK(deleted->stripe_status == std::string{"canceled"});
  auto paused = effect_of(subscription_event(event_type::subscription_paused, "active"));
  BOOST_REQUIRE(paused);
  BOOST_CHECK(paused->mapped_status == subscription::past_due);
  BOOST_CHECK(paused->stripe_status == std::string{"paused"});
}

BOOST_AUTO_TEST_CASE(invoices_of_a_subscription_set_active_or_past_due) {
  auto paid = effect_of(invoice_event(event_type::invoice_paid, std::string{"sub_a"}));
  BOOST_REQUIRE(paid);
  BOOST_CHECK(paid->mapped_status == subscription::active);
  BOOST_CHECK(paid->stripe_status == std::string{"active"});
  auto failed = effect_of(invoice_event(event_type::invoice_payment_failed, std::string{"s"}));
  BOOST_REQUIRE(failed);
  BOOST_CHECK(failed->mapped_status == subscription::past_due);
  BOOST_CHECK(failed->stripe_status == std::string{"past_due"});
  for (auto type : {event_type::invoice_paid, event_type::invoice_payment_failed}) {
    auto one_off = effect_of(invoice_event(type, caf::none));
    BOOST_REQUIRE(one_off);
    BOOST_CHECK(!one_off->mapped_status);
  }
}

BOOST_AUTO_TEST_CASE(a_checkout_sets_no_status) {
  auto effect
    = effect_of(subscription_event(event_type::checkout_session_completed, caf::none));
  BOOST_REQUIRE(effect);
  BOOST_CHECK(!effect->mapped_status);
  BOOST_CHECK(!effect->stripe_status);
}

// -- the actor -------------------------------------------------------------------------------

BOOST_FIXTURE_TEST_SUITE(billing_actor_tests, fixture)

BOOST_AUTO_TEST_CASE(an_applied_event_notifies_the_slice_and_session_managers) {
  auto out = ask(subscription_event(event_type::subscription_updated, "unpaid"));
  BOOST_REQUIRE(out);
  BOOST_CHECK(*out == (outcome{outcome_kind::applied, {7}}));
  BOOST_REQUIRE_EQUAL(rec->requests.size(), 1u);
  BOOST_CHECK(rec->requests[0].mapped_status == subscription::past_due);
  BOOST_CHECK(rec->requests[0].event.stripe_status == std::string{"unpaid"});
  BOOST_CHECK(rec->requests[0].event.payload == "{}");
  BOOST_CHECK(rec->billing_changed == std::vector<int32_t>{7});
  BOOST_CHECK(rec->user_changed == std::vector<int32_t>{7});
}

BOOST_AUTO_TEST_CASE(the_store_gets_the_raw_status_the_rules_chose) {
  BOOST_REQUIRE(ask(invoice_event(event_type::invoice_paid, std::string{"sub_a"})));
  BOOST_REQUIRE_EQUAL(rec->requests.size(), 1u);
  BOOST_CHECK(rec->requests[0].mapped_status == subscription::active);
  BOOST_CHECK(rec->requests[0].event.stripe_status == std::string{"active"});
}

BOOST_AUTO_TEST_CASE(events_that_change_nobody_notify_nobody) {
  for (auto kind : {outcome_kind::duplicate, outcome_kind::stale, outcome_kind::pending,
                    outcome_kind::ignored}) {
    *store_reply = [kind] {
      return outcome{kind, {}};
    };
    auto out = ask(subscription_event(event_type::subscription_updated, "active"));
    BOOST_REQUIRE(out);
    BOOST_CHECK(out->kind == kind);
  }
  BOOST_CHECK(rec->billing_changed.empty());
  BOOST_CHECK(rec->user_changed.empty());
}

BOOST_AUTO_TEST_CASE(a_refused_checkout_notifies_nobody) {
  // The store names the user the checkout would have relinked; nothing of theirs changed.
  *store_reply = [] {
    return outcome{outcome_kind::refused, {7}};
  };
  auto out = ask(subscription_event(event_type::checkout_session_completed, caf::none));
  BOOST_REQUIRE(out);
  BOOST_CHECK(*out == (outcome{outcome_kind::refused, {7}}));
  BOOST_CHECK(rec->billing_changed.empty());
  BOOST_CHECK(rec->user_changed.empty());
}

BOOST_AUTO_TEST_CASE(an_unknown_status_is_refused_without_asking_the_store) {
  auto out = ask(subscription_event(event_type::subscription_updated, "suspended_by_alien"));
  BOOST_REQUIRE(!out);
  BOOST_CHECK(code_of(out.error()) == ec::invalid_request);
  BOOST_CHECK(message_of(out.error()).find("suspended_by_alien") != std::string::npos);
  BOOST_CHECK(rec->requests.empty());
}

BOOST_AUTO_TEST_CASE(a_store_failure_reaches_the_requester) {
  *store_reply = [] {
    return caf::result<outcome>{make_error(ec::unavailable, "down")};
  };
  auto out = ask(subscription_event(event_type::subscription_updated, "active"));
  BOOST_REQUIRE(!out);
  BOOST_CHECK(code_of(out.error()) == ec::unavailable);
  BOOST_CHECK(rec->billing_changed.empty());
}

BOOST_AUTO_TEST_CASE(null_collaborators_are_skipped) {
  caf::anon_send_exit(billing, caf::exit_reason::user_shutdown);
  billing = spawn(billing_manager, store, billing_policy_actor{}, user_cache_actor{},
                  timespan{std::chrono::seconds{5}});
  auto out = ask(subscription_event(event_type::subscription_updated, "active"));
  BOOST_REQUIRE(out);
  BOOST_CHECK(out->kind == outcome_kind::applied);
  BOOST_CHECK(rec->billing_changed.empty());
  BOOST_CHECK(rec->user_changed.empty());
}

BOOST_AUTO_TEST_SUITE_END()
