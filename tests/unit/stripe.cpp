#define BOOST_TEST_MODULE stripe
#include "bridge/stripe.hpp"

#include <chrono>
#include <string>

#include <boost/test/unit_test.hpp>

#include "tests/support/stripe_events.hpp"

using namespace slicegate;
namespace fx = slicegate::test::stripe;
using fx::json;

namespace {

constexpr int64_t created = 1'795'536'461;
/// The customer and subscription of the fixtures.
const std::string fixture_customer = "cus_QXg1o8vcGmoR32";
const std::string fixture_subscription = "sub_1Pgc6rB7WZ01zgkWNy0Cn5nw";

timestamp unix_time(int64_t seconds) {
  return timestamp{std::chrono::duration_cast<timespan>(std::chrono::seconds{seconds})};
}

billing::stripe_event parse_ok(const std::string& body) {
  auto result = stripe::parse_event(body);
  if (auto rej = std::get_if<stripe::rejected>(&result))
    BOOST_FAIL("rejected: " << rej->reason);
  BOOST_REQUIRE_MESSAGE(std::holds_alternative<billing::stripe_event>(result),
                        "not parsed as a handled event");
  return std::get<billing::stripe_event>(result);
}

billing::stripe_event parse_ok(const json& body) {
  return parse_ok(body.dump());
}

stripe::rejected parse_rejected(const std::string& body) {
  auto result = stripe::parse_event(body);
  BOOST_REQUIRE_MESSAGE(std::holds_alternative<stripe::rejected>(result),
                        "not rejected: " << body.substr(0, 200));
  return std::get<stripe::rejected>(result);
}

stripe::rejected parse_rejected(const json& body) {
  return parse_rejected(body.dump());
}

/// Checks that `body` is rejected with a reason that mentions `words`.
void check_rejected(const json& body, const std::string& words) {
  auto rej = parse_rejected(body);
  BOOST_CHECK_MESSAGE(rej.reason.find(words) != std::string::npos,
                      "reason '" << rej.reason << "' does not mention '" << words << "'");
}

json subscription_event(const std::string& type, json object) {
  return fx::event("evt_sub", type, created, std::move(object));
}

json invoice_event(json object) {
  return fx::event("evt_inv", "invoice.paid", created, std::move(object));
}

json checkout_event(json object) {
  return fx::event("evt_cs", "checkout.session.completed", created, std::move(object));
}

} // namespace

// -- the fixtures as Stripe sends them -------------------------------------------------------

BOOST_AUTO_TEST_CASE(the_fixture_subscription_parses_in_every_subscription_event) {
  for (auto type : {"customer.subscription.created", "customer.subscription.updated",
                    "customer.subscription.deleted", "customer.subscription.paused",
                    "customer.subscription.resumed"}) {
    BOOST_TEST_CONTEXT(type) {
      auto x = parse_ok(subscription_event(type, fx::fixture("subscription")));
      BOOST_CHECK_EQUAL(billing::to_string(x.type), type);
      BOOST_CHECK_EQUAL(x.event_id, "evt_sub");
      BOOST_CHECK(x.created == unix_time(created));
      BOOST_CHECK(x.customer == fixture_customer);
      BOOST_CHECK(x.subscription_id == fixture_subscription);
      BOOST_CHECK(x.stripe_status == std::string{"active"});
      // The fixture has ended_at set, which wins over everything else.
      BOOST_CHECK(x.subscription_ends_at == unix_time(1234567890));
      BOOST_CHECK(!x.client_reference_id);
      BOOST_CHECK(!x.customer_email);
    }
  }
}

BOOST_AUTO_TEST_CASE(the_fixture_invoice_names_its_subscription_under_parent) {
  for (auto type : {"invoice.paid", "invoice.payment_failed"}) {
    BOOST_TEST_CONTEXT(type) {
      auto x = parse_ok(fx::event("evt_inv", type, created, fx::fixture("invoice")));
      BOOST_CHECK_EQUAL(billing::to_string(x.type), type);
      BOOST_CHECK(x.customer == fixture_customer);
      // `subscription` is null top-level; the current API nests it.
      BOOST_CHECK(x.subscription_id == std::string{"subscription"});
      BOOST_CHECK(x.subscription_ends_at == unix_time(1721954054));
      BOOST_CHECK(!x.stripe_status);
    }
  }
}

BOOST_AUTO_TEST_CASE(the_fixture_checkout_has_its_email_only_in_customer_details) {
  auto x = parse_ok(checkout_event(fx::fixture("checkout.session")));
  BOOST_CHECK(x.type == billing::event_type::checkout_session_completed);
  BOOST_CHECK(!x.customer);
  BOOST_CHECK(!x.client_reference_id);
  BOOST_CHECK(x.customer_email == std::string{"example@example.com"});
  BOOST_CHECK(!x.subscription_id);
}

BOOST_AUTO_TEST_CASE(the_fixture_event_of_an_unhandled_type_is_ignored) {
  auto body = fx::fixture("event");
  auto result = stripe::parse_event(body.dump());
  BOOST_REQUIRE(std::holds_alternative<stripe::ignored>(result));
  auto& x = std::get<stripe::ignored>(result);
  BOOST_CHECK_EQUAL(x.event_id, "evt_1Pgc76B7WZ01zgkWwyRHS12y");
  BOOST_CHECK_EQUAL(x.type, "plan.created");
}

BOOST_AUTO_TEST_CASE(customer_events_are_ignored) {
  for (auto [type, name] :
       {std::pair{"customer.created", "customer"}, std::pair{"customer.updated", "customer"},
        std::pair{"customer.deleted", "deleted_customer"}}) {
    BOOST_TEST_CONTEXT(type) {
      auto result
        = stripe::parse_event(fx::event("evt_c", type, created, fx::fixture(name)).dump());
      BOOST_CHECK(std::holds_alternative<stripe::ignored>(result));
    }
  }
}

BOOST_AUTO_TEST_CASE(the_payload_is_kept_verbatim) {
  auto body
    = subscription_event("customer.subscription.updated", fx::fixture("subscription")).dump(2);
  BOOST_CHECK_EQUAL(parse_ok(body).payload, body);
}

BOOST_AUTO_TEST_CASE(u0000_is_kept_as_the_replacement_character) {
  // PostgreSQL stores U+0000 in neither jsonb nor text: the payload carries U+FFFD instead,
  // and nothing else changes, not even an escaped backslash followed by "u0000".
  auto object = fx::subscription("cus_a", "sub_a", "active", 1'800'000'000);
  object["metadata"] = {{"nul", std::string{"a\0b", 3}}, {"text", "c\\u0000d"}};
  auto body = subscription_event("customer.subscription.updated", object).dump();
  auto expected = body;
  auto at = expected.find("a\\u0000b");
  BOOST_REQUIRE(at != std::string::npos);
  expected.replace(at, 8, "a\\ufffdb");
  BOOST_REQUIRE(expected.find("c\\\\u0000d") != std::string::npos);
  auto x = parse_ok(body);
  BOOST_CHECK_EQUAL(x.payload, expected);
  auto metadata = json::parse(x.payload)["data"]["object"]["metadata"];
  BOOST_CHECK(metadata["nul"] == std::string{"a\xEF\xBF\xBD"} + "b");
  BOOST_CHECK(metadata["text"] == "c\\u0000d");
}

BOOST_AUTO_TEST_CASE(a_subscription_event_carries_its_subscriptions_created) {
  auto x = parse_ok(
    subscription_event("customer.subscription.created", fx::fixture("subscription")));
  BOOST_CHECK(x.subscription_created == unix_time(1234567890));
  auto invoice = parse_ok(invoice_event(fx::fixture("invoice")));
  BOOST_CHECK(!invoice.subscription_created);
  auto object = fx::fixture("subscription");
  object["created"] = "yesterday";
  check_rejected(subscription_event("customer.subscription.updated", object),
                 "'data.object.created'");
}

// -- subscription_ends_at --------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(the_period_end_is_read_per_item_on_the_current_api) {
  auto object = fx::subscription("cus_a", "sub_a", "active", 1'800'000'000, fx::api::current);
  BOOST_REQUIRE(!object.contains("current_period_end"));
  auto x = parse_ok(subscription_event("customer.subscription.updated", object));
  BOOST_CHECK(x.subscription_ends_at == unix_time(1'800'000'000));
}

BOOST_AUTO_TEST_CASE(the_period_end_is_read_top_level_on_the_legacy_api) {
  auto object = fx::subscription("cus_a", "sub_a", "active", 1'800'000'000, fx::api::legacy);
  BOOST_REQUIRE(!object["items"]["data"][0].contains("current_period_end"));
  auto x = parse_ok(subscription_event("customer.subscription.updated", object));
  BOOST_CHECK(x.subscription_ends_at == unix_time(1'800'000'000));
}

BOOST_AUTO_TEST_CASE(the_latest_item_period_end_wins) {
  auto object = fx::subscription("cus_a", "sub_a", "active", 1'800'000'000);
  auto second = object["items"]["data"][0];
  second["current_period_end"] = 1'800'000'500;
  object["items"]["data"].push_back(second);
  auto x = parse_ok(subscription_event("customer.subscription.updated", object));
  BOOST_CHECK(x.subscription_ends_at == unix_time(1'800'000'500));
}

BOOST_AUTO_TEST_CASE(ended_at_then_cancel_at_then_period_end_then_trial_end) {
  auto object = fx::subscription("cus_a", "sub_a", "trialing", 1'800'000'300);
  object["trial_end"] = 1'800'000'400;
  object["cancel_at"] = 1'800'000'200;
  object["ended_at"] = 1'800'000'100;
  auto ends_at = [](const json& o) {
    return parse_ok(subscription_event("customer.subscription.updated", o))
      .subscription_ends_at;
  };
  BOOST_CHECK(ends_at(object) == unix_time(1'800'000'100));
  object["ended_at"] = nullptr;
  BOOST_CHECK(ends_at(object) == unix_time(1'800'000'200));
  object.erase("cancel_at");
  BOOST_CHECK(ends_at(object) == unix_time(1'800'000'300));
  object["items"]["data"] = json::array();
  BOOST_CHECK(ends_at(object) == unix_time(1'800'000'400));
  object["trial_end"] = nullptr;
  BOOST_CHECK(!ends_at(object));
}

// -- invoices --------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(the_invoice_subscription_is_read_in_both_shapes) {
  for (auto shape : {fx::api::current, fx::api::legacy}) {
    auto x = parse_ok(invoice_event(fx::invoice("cus_a", "sub_a", 1'800'000'000, shape)));
    BOOST_CHECK(x.subscription_id == std::string{"sub_a"});
    BOOST_CHECK(x.customer == std::string{"cus_a"});
    BOOST_CHECK(x.subscription_ends_at == unix_time(1'800'000'000));
  }
}

BOOST_AUTO_TEST_CASE(a_top_level_invoice_subscription_wins_over_the_nested_one) {
  auto object = fx::invoice("cus_a", "sub_nested", 1'800'000'000, fx::api::current);
  object["subscription"] = "sub_top";
  BOOST_CHECK(parse_ok(invoice_event(object)).subscription_id == std::string{"sub_top"});
}

BOOST_AUTO_TEST_CASE(expanded_references_are_read_by_their_id) {
  auto object = fx::invoice("cus_a", std::nullopt, 1'800'000'000, fx::api::legacy);
  object["customer"] = fx::fixture("customer");
  object["subscription"] = fx::subscription("cus_x", "sub_expanded", "active", 1);
  auto x = parse_ok(invoice_event(object));
  BOOST_CHECK(x.customer == fixture_customer);
  BOOST_CHECK(x.subscription_id == std::string{"sub_expanded"});
}

BOOST_AUTO_TEST_CASE(a_one_off_invoice_has_no_subscription_nor_end) {
  auto object = fx::invoice("cus_a", std::nullopt, 1'800'000'000);
  object["lines"]["data"] = json::array();
  auto x = parse_ok(invoice_event(object));
  BOOST_CHECK(!x.subscription_id);
  BOOST_CHECK(!x.subscription_ends_at);
  object.erase("lines");
  object.erase("parent");
  BOOST_CHECK(!parse_ok(invoice_event(object)).subscription_id);
}

// -- checkouts -------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_numeric_client_reference_id_is_a_user_id) {
  auto x = parse_ok(checkout_event(fx::checkout("cus_a", "42", "a@example.com", "sub_a")));
  BOOST_CHECK(x.client_reference_id == 42);
  BOOST_CHECK(x.customer == std::string{"cus_a"});
  BOOST_CHECK(x.subscription_id == std::string{"sub_a"});
  BOOST_CHECK(x.customer_email == std::string{"a@example.com"});
}

BOOST_AUTO_TEST_CASE(any_other_client_reference_id_is_no_user_id) {
  for (auto ref :
       {"abc", "42abc", " 42", "-5", "0", "+7", "4294967338", "99999999999999999999", "4.2"}) {
    BOOST_TEST_CONTEXT(ref) {
      auto x = parse_ok(checkout_event(fx::checkout("cus_a", ref, "a@example.com")));
      BOOST_CHECK(!x.client_reference_id);
    }
  }
}

BOOST_AUTO_TEST_CASE(the_checkout_email_falls_back_to_customer_email) {
  auto object = fx::checkout("cus_a", std::nullopt, std::nullopt);
  object["customer_email"] = "b@example.com";
  BOOST_CHECK(parse_ok(checkout_event(object)).customer_email == std::string{"b@example.com"});
  object["customer_details"] = nullptr;
  BOOST_CHECK(parse_ok(checkout_event(object)).customer_email == std::string{"b@example.com"});
  object["customer_details"] = {{"email", "c@example.com"}};
  BOOST_CHECK(parse_ok(checkout_event(object)).customer_email == std::string{"c@example.com"});
}

// -- what is rejected, and why ---------------------------------------------------------------

BOOST_AUTO_TEST_CASE(messages_that_are_no_json_object_are_rejected) {
  for (auto body : {"", "not json", "{", "[]", "42", "\"evt\"", "null", "{\"id\": \"evt\",}"}) {
    BOOST_TEST_CONTEXT(body) {
      auto rej = parse_rejected(std::string{body});
      BOOST_CHECK(!rej.event_id);
      BOOST_CHECK(!rej.reason.empty());
    }
  }
}

BOOST_AUTO_TEST_CASE(a_missing_or_mistyped_envelope_field_is_rejected) {
  auto good = subscription_event("customer.subscription.updated", fx::fixture("subscription"));
  auto without = [&](const char* field) {
    auto x = good;
    x.erase(field);
    return x;
  };
  auto with = [&](const char* field, json value) {
    auto x = good;
    x[field] = std::move(value);
    return x;
  };
  check_rejected(without("id"), "'id'");
  check_rejected(with("id", 7), "'id'");
  check_rejected(with("id", ""), "'id'");
  check_rejected(without("type"), "'type'");
  check_rejected(with("type", json::array()), "'type'");
  check_rejected(without("created"), "'created'");
  check_rejected(with("created", "1795536461"), "'created'");
  check_rejected(with("created", 1795536461.5), "'created'");
  check_rejected(with("created", -1), "'created'");
  check_rejected(with("created", 99'999'999'999), "'created'");
  check_rejected(without("data"), "'data'");
  check_rejected(with("data", "x"), "'data'");
  check_rejected(with("data", json::object()), "'data.object'");
  check_rejected(with("data", {{"object", 5}}), "'data.object'");
  // Once the id is known, the report carries it.
  BOOST_CHECK(parse_rejected(without("created")).event_id == std::string{"evt_sub"});
}

BOOST_AUTO_TEST_CASE(an_unknown_type_is_ignored_but_still_needs_an_envelope) {
  auto body = fx::event("evt_x", "charge.refunded", created, json{{"anything", "goes"}});
  BOOST_CHECK(std::holds_alternative<stripe::ignored>(stripe::parse_event(body.dump())));
  body.erase("created");
  BOOST_CHECK(std::holds_alternative<stripe::rejected>(stripe::parse_event(body.dump())));
}

BOOST_AUTO_TEST_CASE(a_subscription_without_status_id_or_customer_is_rejected) {
  auto object = fx::subscription("cus_a", "sub_a", "active", 1'800'000'000);
  for (auto field : {"status", "id", "customer"}) {
    BOOST_TEST_CONTEXT(field) {
      auto x = object;
      x.erase(field);
      check_rejected(subscription_event("customer.subscription.updated", x),
                     std::string{"'data.object."} + field + "'");
    }
  }
}

BOOST_AUTO_TEST_CASE(an_invoice_without_customer_is_rejected) {
  auto object = fx::invoice("cus_a", "sub_a", 1'800'000'000);
  object["customer"] = nullptr;
  check_rejected(invoice_event(object), "'data.object.customer'");
}

BOOST_AUTO_TEST_CASE(an_object_of_the_wrong_kind_is_rejected) {
  check_rejected(invoice_event(fx::fixture("subscription")), "'data.object.object'");
  check_rejected(subscription_event("customer.subscription.created", fx::fixture("invoice")),
                 "'data.object.object'");
}

BOOST_AUTO_TEST_CASE(mistyped_nested_fields_are_rejected_with_their_path) {
  auto sub = fx::subscription("cus_a", "sub_a", "active", 1'800'000'000);
  auto x = sub;
  x["items"]["data"][0]["current_period_end"] = "soon";
  check_rejected(subscription_event("customer.subscription.updated", x),
                 "'data.object.items.data[].current_period_end'");
  x = sub;
  x["items"]["data"] = "none";
  check_rejected(subscription_event("customer.subscription.updated", x),
                 "'data.object.items.data'");
  x = sub;
  x["cancel_at"] = true;
  check_rejected(subscription_event("customer.subscription.updated", x),
                 "'data.object.cancel_at'");
  x = sub;
  x["customer"] = json{{"object", "customer"}, {"id", 5}};
  check_rejected(subscription_event("customer.subscription.updated", x),
                 "'data.object.customer.id'");
  auto inv = fx::invoice("cus_a", "sub_a", 1'800'000'000);
  inv["parent"]["subscription_details"]["subscription"] = 12;
  check_rejected(invoice_event(inv), "'data.object.parent.subscription_details.subscription'");
  inv = fx::invoice("cus_a", "sub_a", 1'800'000'000);
  inv["lines"]["data"][0]["period"]["end"] = -3;
  check_rejected(invoice_event(inv), "'data.object.lines.data[].period.end'");
  auto cs = fx::checkout("cus_a", "1", "a@example.com");
  cs["customer_details"]["email"] = json::object();
  check_rejected(checkout_event(cs), "'data.object.customer_details.email'");
}

// -- hostile input ---------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(control_characters_in_ids_are_rejected) {
  auto body = subscription_event("customer.subscription.updated",
                                 fx::subscription("cus_a", "sub_a", "active", 1));
  for (auto bad : {std::string{"evt\x00x", 5}, std::string{"evt\nx"}, std::string{"evt\x7f"}}) {
    auto x = body;
    x["id"] = bad;
    check_rejected(x, "control characters");
    x = body;
    x["data"]["object"]["customer"] = bad;
    check_rejected(x, "control characters");
  }
}

BOOST_AUTO_TEST_CASE(overlong_strings_are_rejected) {
  auto body = subscription_event("customer.subscription.updated",
                                 fx::subscription("cus_a", "sub_a", "active", 1));
  auto x = body;
  x["id"] = std::string(10'000, 'e');
  check_rejected(x, "longer than");
  x = body;
  x["data"]["object"]["status"] = std::string(256, 's');
  check_rejected(x, "longer than");
  auto cs = fx::checkout("cus_a", std::string(201, '1'), std::string(300, 'a'));
  check_rejected(checkout_event(cs), "longer than");
}

BOOST_AUTO_TEST_CASE(invalid_utf8_is_rejected) {
  auto body = subscription_event("customer.subscription.updated",
                                 fx::subscription("cus_a", "sub_a", "active", 1))
                .dump();
  auto pos = body.find("cus_a");
  body.replace(pos, 5, "cus_\xff");
  BOOST_CHECK(parse_rejected(body).reason == "not JSON");
}

BOOST_AUTO_TEST_CASE(deep_nesting_and_huge_numbers_do_not_crash) {
  std::string deep
    = R"({"id": "evt_d", "type": "plan.created", "created": 1, "data": {"object": )";
  deep += std::string(100'000, '[') + std::string(100'000, ']') + "}}";
  auto result = stripe::parse_event(deep);
  // data.object is an array, not an object.
  BOOST_CHECK(std::holds_alternative<stripe::rejected>(result));
  auto huge = subscription_event("customer.subscription.updated",
                                 fx::subscription("cus_a", "sub_a", "active", 1))
                .dump();
  auto pos = huge.find("\"created\":");
  auto end = huge.find(',', pos);
  for (auto number : {"1e400", "18446744073709551616", "-9223372036854775809", "NaN"}) {
    auto body = huge;
    body.replace(pos, end - pos, std::string{"\"created\":"} + number);
    BOOST_CHECK(std::holds_alternative<stripe::rejected>(stripe::parse_event(body)));
  }
}

BOOST_AUTO_TEST_CASE(quotes_and_sql_in_strings_are_data) {
  auto object
    = fx::checkout("cus_'; DROP TABLE gateway.users; --", "7", "o'reilly+\"x\"@example.com");
  auto x = parse_ok(checkout_event(object));
  BOOST_CHECK(x.customer == std::string{"cus_'; DROP TABLE gateway.users; --"});
  BOOST_CHECK(x.customer_email == std::string{"o'reilly+\"x\"@example.com"});
}

BOOST_AUTO_TEST_CASE(event_types_round_trip) {
  for (auto name : {"checkout.session.completed", "customer.subscription.created",
                    "customer.subscription.updated", "customer.subscription.deleted",
                    "customer.subscription.paused", "customer.subscription.resumed",
                    "invoice.paid", "invoice.payment_failed"}) {
    auto type = billing::parse_event_type(name);
    BOOST_REQUIRE_MESSAGE(type, name);
    BOOST_CHECK_EQUAL(billing::to_string(*type), name);
  }
  BOOST_CHECK(!billing::parse_event_type("invoice.created"));
  BOOST_CHECK(!billing::parse_event_type(""));
}
