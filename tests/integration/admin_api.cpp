#define BOOST_TEST_MODULE admin_api
#include <boost/test/unit_test.hpp>

// The operator's API end to end (DESIGN.md §4): users.*, telemetry.*, overview and the live
// slice list, with the admin rule on every admin verb. The real daemon (external runtime, fast
// health probes so that alerts happen) on a throwaway PostgreSQL and nats-server.

#include <algorithm>
#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "tests/support/daemon_fixture.hpp"

using namespace slicegate;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const std::string& admin_email = test::fixture_admin_email;

/// Every admin verb, with a body that is valid for it apart from the session.
const std::vector<std::pair<std::string, json>>& every_admin_verb() {
  static const std::vector<std::pair<std::string, json>> verbs{
    {"slices.create", {{"count", 1}}},
    {"slices.list", json::object()},
    {"slices.get", {{"slice_id", 1}}},
    {"slices.suspend", {{"slice_id", 1}}},
    {"slices.resume", {{"slice_id", 1}}},
    {"slices.destroy", {{"slice_id", 1}}},
    {"slices.assign", {{"user_id", 1}}},
    {"users.list", json::object()},
    {"users.get", {{"user_id", 1}}},
    {"users.update", {{"user_id", 1}, {"is_admin", false}}},
    {"users.revoke_sessions", {{"user_id", 1}}},
    {"telemetry.slice", {{"slice_id", 1}}},
    {"telemetry.server", json::object()},
    {"overview", json::object()},
    {"dead_letters.list", json::object()},
    {"dead_letters.get", {{"id", 1}}},
    {"dead_letters.replay", {{"id", 1}}},
  };
  return verbs;
}

/// Fast probes: nothing listens on the slices' ports, so an assigned slice turns unhealthy
/// within a second and raises an alert.
const std::vector<std::string> fast_probes{"--health-interval=250ms",
                                           "--health-start-period=100ms", "--health-failures=2",
                                           "--health-timeout=200ms"};

struct fixture : test::running_daemon {
  fixture() : running_daemon(fast_probes) {}

  /// Signs a user up; returns the reply.
  json signup(const std::string& email) {
    auto r = client->request("gateway.auth.signup",
                             json{{"email", email}, {"password", "password-1"}}, 30s);
    BOOST_REQUIRE_MESSAGE(r.error_code().empty(), r.body);
    return r.json();
  }

  /// Signs `email` up while no slice is free, then provisions `count` slices: the waiting
  /// admin and this user get the first two as soon as their wipes end, before the fast probes
  /// find them unreachable and hold them back. Returns the signup reply with the user's slice.
  json signup_then_provision(const std::string& email, int count, const std::string& token) {
    auto reply = signup(email);
    create_ready_slices(count, token);
    auto user_id = reply["user"]["id"].get<int>();
    BOOST_REQUIRE(test::eventually(
      [&] {
        reply["slice"] = must("users.get", {{"user_id", user_id}}, token)["slice"];
        return reply["slice"].is_object();
      },
      30s));
    return reply;
  }

  test::reply call(const std::string& verb, json body) {
    return client->request("gateway.admin." + verb, body, 30s);
  }

  /// An admin call that must succeed; returns its reply body.
  json must(const std::string& verb, json body, const std::string& token) {
    body["session_id"] = token;
    auto r = call(verb, body);
    BOOST_REQUIRE_MESSAGE(r.ok() && r.error_code().empty(), verb << ": " << r.body);
    return r.json();
  }

  void exec(const std::string& sql) {
    pqxx::connection conn{servers.database_url()};
    pqxx::work tx{conn};
    tx.exec(sql);
    tx.commit();
  }

  int scalar(const std::string& sql) {
    pqxx::connection conn{servers.database_url()};
    pqxx::work tx{conn};
    return tx.exec1(sql)[0].as<int>();
  }
};

void check_error(const test::reply& r, const std::string& code, int status,
                 const std::string& what) {
  BOOST_CHECK_MESSAGE(r.error_code() == code && r.service_error_code() == status,
                      what << ": expected " << status << " " << code << ", got " << r.body);
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(admin_api, fixture)

// -- the admin rule ---------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(every_admin_verb_puts_the_admin_rule_before_its_parameters) {
  auto user_token = signup("plain@example.com")["session"]["id"].get<std::string>();
  auto token = admin_token();
  for (auto& [verb, body] : every_admin_verb()) {
    // No session at all, whatever else is wrong: 401, never 400.
    check_error(call(verb, json::object()), "unauthorized", 401, verb + " without a session");
    check_error(call(verb, json{{"slice_id", "x"}, {"user_id", -1}, {"count", "three"}}),
                "unauthorized", 401, verb + " with bad fields and no session");
    check_error(client->request("gateway.admin." + verb, std::string{"not json"}, 30s),
                "unauthorized", 401, verb + " with a body that is not JSON");
    check_error(call(verb, json{{"session_id", 42}}), "unauthorized", 401,
                verb + " with a session that is not a string");
    auto unknown = body;
    unknown["session_id"] = std::string(64, 'a');
    check_error(call(verb, unknown), "unauthorized", 401, verb + " with an unknown session");
    // A non-admin: 403, also when the fields are wrong.
    check_error(call(verb, json{{"session_id", user_token}, {"slice_id", "x"}}), "forbidden",
                403, verb + " by a non-admin with bad fields");
    auto as_user = body;
    as_user["session_id"] = user_token;
    check_error(call(verb, as_user), "forbidden", 403, verb + " by a non-admin");
  }
  // An admin with wrong fields gets 400 where the verb has fields to get wrong.
  for (auto& verb : {"slices.create", "slices.get", "slices.suspend", "slices.assign",
                     "users.get", "users.update", "users.revoke_sessions", "telemetry.slice"})
    check_error(call(verb, json{{"session_id", token}, {"slice_id", "x"}, {"user_id", "x"}}),
                "invalid_request", 400, std::string{verb} + " by an admin with bad fields");
  // Nothing changed: no slice was made, the user is still no admin and still signed in.
  BOOST_CHECK_EQUAL(scalar("SELECT count(*) FROM gateway.slices"), 0);
  BOOST_CHECK_EQUAL(scalar("SELECT count(*) FROM gateway.users WHERE is_admin"), 1);
  auto resolved = client->request("gateway.session.resolve", json{{"session_id", user_token}});
  BOOST_CHECK_MESSAGE(resolved.error_code().empty(), resolved.body);
}

// -- slices.create ----------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(slices_create_answers_before_the_wipes_and_honours_an_idempotency_key) {
  auto token = admin_token();
  auto ids_of = [](const json& reply) {
    std::vector<int> ids;
    for (auto& s : reply["slices"])
      ids.push_back(s["id"].get<int>());
    return ids;
  };
  // The answer comes once the rows exist: every new slice still `destroying`.
  auto first = must("slices.create", {{"count", 2}, {"idempotency_key", "batch-1"}}, token);
  BOOST_REQUIRE_EQUAL(first["slices"].size(), 2u);
  for (auto& s : first["slices"])
    BOOST_CHECK_EQUAL(s["status"], "destroying");
  auto ids = ids_of(first);
  // A retry with the same key, even one asking for more, gets the same slices and makes none.
  auto again = must("slices.create", {{"count", 2}, {"idempotency_key", "batch-1"}}, token);
  BOOST_CHECK(ids_of(again) == ids);
  auto more = must("slices.create", {{"count", 3}, {"idempotency_key", "batch-1"}}, token);
  BOOST_CHECK(ids_of(more) == ids);
  BOOST_CHECK_EQUAL(scalar("SELECT count(*) FROM gateway.slices"), 2);
  BOOST_CHECK_EQUAL(scalar("SELECT count(*) FROM gateway.create_requests"), 1);
  BOOST_CHECK_EQUAL(scalar("SELECT count(*) FROM gateway.create_requests "
                           "WHERE idempotency_key = 'batch-1' AND slice_ids = ARRAY["
                           + std::to_string(ids[0]) + ", " + std::to_string(ids[1]) + "]"),
                    1);
  // The wipes go on behind the answer: both slices turn available (the waiting admin may
  // take one at once), and a retry then shows them as they are now.
  BOOST_REQUIRE(test::eventually(
    [&] {
      for (auto id : ids)
        if (must("slices.get", {{"slice_id", id}}, token)["slice"]["status"] == "destroying")
          return false;
      return true;
    },
    60s));
  auto late = must("slices.create", {{"count", 2}, {"idempotency_key", "batch-1"}}, token);
  BOOST_CHECK(ids_of(late) == ids);
  for (auto& s : late["slices"])
    BOOST_CHECK(s["status"] == "available" || s["status"] == "assigned");
  BOOST_CHECK_EQUAL(scalar("SELECT count(*) FROM gateway.slices"), 2);

  // Another key, and no key at all, are new requests.
  auto other
    = ids_of(must("slices.create", {{"count", 1}, {"idempotency_key", "batch-2"}}, token));
  BOOST_REQUIRE_EQUAL(other.size(), 1u);
  BOOST_CHECK(std::find(ids.begin(), ids.end(), other[0]) == ids.end());
  auto keyless = ids_of(must("slices.create", {{"count", 1}}, token));
  BOOST_REQUIRE_EQUAL(keyless.size(), 1u);
  BOOST_CHECK_NE(keyless[0], other[0]);
  BOOST_CHECK_EQUAL(scalar("SELECT count(*) FROM gateway.slices"), 4);
  BOOST_CHECK_EQUAL(scalar("SELECT count(*) FROM gateway.create_requests"), 2);

  // A key is remembered for 24 hours; after that it provisions anew.
  exec("UPDATE gateway.create_requests SET created_at = now() - interval '25 hours' "
       "WHERE idempotency_key = 'batch-1'");
  auto renewed
    = ids_of(must("slices.create", {{"count", 1}, {"idempotency_key", "batch-1"}}, token));
  BOOST_REQUIRE_EQUAL(renewed.size(), 1u);
  BOOST_CHECK(std::find(ids.begin(), ids.end(), renewed[0]) == ids.end());
  BOOST_CHECK_EQUAL(scalar("SELECT count(*) FROM gateway.slices"), 5);
  BOOST_CHECK_EQUAL(scalar("SELECT count(*) FROM gateway.create_requests WHERE "
                           "idempotency_key = 'batch-1' AND slice_ids = ARRAY["
                           + std::to_string(renewed[0]) + "]"),
                    1);

  // A bad key is a 400 that names the field, and changes nothing.
  for (auto& bad : {json(""), json(std::string(201, 'k')), json("line\nbreak"), json(42),
                    json::array({"k"})}) {
    auto r
      = call("slices.create", {{"session_id", token}, {"count", 1}, {"idempotency_key", bad}});
    check_error(r, "invalid_request", 400, "idempotency key " + bad.dump());
    BOOST_CHECK_MESSAGE(r.body.find("idempotency_key") != std::string::npos, r.body);
  }
  // 200 bytes is fine.
  must("slices.create", {{"count", 1}, {"idempotency_key", std::string(200, 'k')}}, token);
  BOOST_CHECK_EQUAL(scalar("SELECT count(*) FROM gateway.slices"), 6);
}

// -- users ------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(users_list_filters_and_pages_newest_first_without_secrets) {
  auto token = admin_token();
  // The admin, who waits for a slice too, takes the one slice; everyone after waits.
  create_ready_slices(1, token);
  for (auto email :
       {"ann@example.com", "bob@example.com", "bo_b@example.com", "carl@example.com"})
    signup(email);
  exec(
    "UPDATE gateway.users SET subscription_status = 'active' WHERE email = 'carl@example.com'");

  auto all = must("users.list", json::object(), token);
  BOOST_REQUIRE_EQUAL(all["users"].size(), 5u);
  BOOST_CHECK(all["next_cursor"].is_null());
  // Newest first.
  BOOST_CHECK_EQUAL(all["users"][0]["email"], "carl@example.com");
  BOOST_CHECK_EQUAL(all["users"][4]["email"], admin_email);
  for (auto& u : all["users"]) {
    BOOST_CHECK(!u.contains("password_hash"));
    for (auto& [key, value] : u.items())
      BOOST_CHECK_MESSAGE(key.find("password") == std::string::npos
                            && key.find("token") == std::string::npos,
                          key);
  }
  auto oldest = must("users.list", {{"order", "oldest"}}, token);
  BOOST_CHECK_EQUAL(oldest["users"][0]["email"], admin_email);

  // Paging: two at a time covers everyone exactly once, in order.
  std::vector<std::string> paged;
  json cursor = nullptr;
  int pages = 0;
  do {
    json body{{"limit", 2}};
    if (!cursor.is_null())
      body["cursor"] = cursor;
    auto page = must("users.list", body, token);
    BOOST_REQUIRE_LE(page["users"].size(), 2u);
    for (auto& u : page["users"])
      paged.push_back(u["email"].get<std::string>());
    cursor = page["next_cursor"];
    ++pages;
  } while (!cursor.is_null() && pages < 10);
  BOOST_CHECK_EQUAL(pages, 3);
  std::vector<std::string> expected;
  for (auto& u : all["users"])
    expected.push_back(u["email"].get<std::string>());
  BOOST_CHECK(paged == expected);

  // Filters.
  auto admins = must("users.list", {{"admin", true}}, token);
  BOOST_REQUIRE_EQUAL(admins["users"].size(), 1u);
  BOOST_CHECK_EQUAL(admins["users"][0]["email"], admin_email);
  // create-admin makes an active account.
  auto active = must("users.list", {{"status", "active"}}, token);
  BOOST_REQUIRE_EQUAL(active["users"].size(), 2u);
  BOOST_CHECK_EQUAL(active["users"][0]["email"], "carl@example.com");
  BOOST_CHECK_EQUAL(active["users"][1]["email"], admin_email);
  auto waiting = must("users.list", {{"waiting", true}}, token);
  BOOST_CHECK_EQUAL(waiting["users"].size(), 4u);
  auto served = must("users.list", {{"waiting", false}}, token);
  BOOST_REQUIRE_EQUAL(served["users"].size(), 1u);
  BOOST_CHECK_EQUAL(served["users"][0]["email"], admin_email);
  // A prefix is matched literally and case-insensitively: "_" is no wildcard.
  auto bo = must("users.list", {{"email_prefix", "BO"}}, token);
  BOOST_CHECK_EQUAL(bo["users"].size(), 2u);
  auto underscore = must("users.list", {{"email_prefix", "bo_"}}, token);
  BOOST_REQUIRE_EQUAL(underscore["users"].size(), 1u);
  BOOST_CHECK_EQUAL(underscore["users"][0]["email"], "bo_b@example.com");

  // Validation.
  check_error(call("users.list", {{"session_id", token}, {"cursor", "garbage"}}),
              "invalid_request", 400, "a cursor users.list never gave");
  check_error(call("users.list", {{"session_id", token}, {"limit", 0}}), "invalid_request", 400,
              "limit 0");
  check_error(call("users.list", {{"session_id", token}, {"status", "gold"}}),
              "invalid_request", 400, "an unknown status");
  check_error(call("users.list", {{"session_id", token}, {"order", "random"}}),
              "invalid_request", 400, "an unknown order");
}

BOOST_AUTO_TEST_CASE(users_get_shows_slice_queue_sessions_and_billing) {
  auto token = admin_token();
  // One for the admin, one for the first user; the second waits.
  auto served = signup_then_provision("served@example.com", 2, token);
  auto waiting = signup("waiting@example.com");
  login("waiting@example.com", "password-1");
  auto waiting_id = waiting["user"]["id"].get<int>();
  exec("INSERT INTO gateway.billing_events (event_id, type, stripe_status, mapped_status, "
       "stripe_created, user_id, applied_at) VALUES ('evt_1', 'invoice.payment_failed', "
       "'past_due', 'past_due', now() - interval '1 day', "
       + std::to_string(waiting_id)
       + ", now()), ('evt_2', 'invoice.paid', 'active', 'active', "
         "now(), "
       + std::to_string(waiting_id) + ", now())");

  auto got = must("users.get", {{"user_id", waiting_id}}, token);
  BOOST_CHECK_EQUAL(got["user"]["email"], "waiting@example.com");
  BOOST_CHECK(got["slice"].is_null());
  BOOST_CHECK_EQUAL(got["waiting_position"], 1);
  BOOST_CHECK_EQUAL(got["live_sessions"], 2);
  BOOST_REQUIRE_EQUAL(got["billing_events"].size(), 2u);
  BOOST_CHECK_EQUAL(got["billing_events"][0]["event_id"], "evt_2");
  BOOST_CHECK_EQUAL(got["billing_events"][1]["type"], "invoice.payment_failed");
  BOOST_CHECK(!got["user"].contains("password_hash"));

  auto with_slice = must("users.get", {{"user_id", served["user"]["id"]}}, token);
  BOOST_REQUIRE(with_slice["slice"].is_object());
  BOOST_CHECK_EQUAL(with_slice["slice"]["id"], served["slice"]["id"]);
  BOOST_CHECK_EQUAL(with_slice["slice"]["status"], "assigned");
  BOOST_CHECK(with_slice["waiting_position"].is_null());

  check_error(call("users.get", {{"session_id", token}, {"user_id", 4711}}), "not_found", 404,
              "an unknown user");
}

BOOST_AUTO_TEST_CASE(promotion_and_demotion_take_effect_at_once_while_cached) {
  auto token = admin_token();
  auto user = signup("deputy@example.com");
  auto user_id = user["user"]["id"].get<int>();
  auto user_token = user["session"]["id"].get<std::string>();
  // Cached as a non-admin.
  check_error(call("overview", {{"session_id", user_token}}), "forbidden", 403, "before");
  auto promoted = must("users.update", {{"user_id", user_id}, {"is_admin", true}}, token);
  BOOST_CHECK_EQUAL(promoted["user"]["is_admin"], true);
  // The very next request of that user, on the same cached session, is an admin's.
  must("overview", json::object(), user_token);
  must("overview", json::object(), user_token);
  auto demoted = must("users.update", {{"user_id", user_id}, {"is_admin", false}}, token);
  BOOST_CHECK_EQUAL(demoted["user"]["is_admin"], false);
  check_error(call("overview", {{"session_id", user_token}}), "forbidden", 403, "after");
  // Who did it is logged.
  auto admin_id = scalar("SELECT id FROM gateway.users WHERE is_admin");
  auto log = daemon->log();
  BOOST_CHECK_MESSAGE(log.find("admin " + std::to_string(admin_id)
                               + " grants admin rights of user " + std::to_string(user_id))
                        != std::string::npos,
                      log);
  BOOST_CHECK(log.find("admin " + std::to_string(admin_id) + " withdraws admin rights of user "
                       + std::to_string(user_id))
              != std::string::npos);

  check_error(
    call("users.update", {{"session_id", token}, {"user_id", 4711}, {"is_admin", true}}),
    "not_found", 404, "an unknown user");
  check_error(call("users.update", {{"session_id", token}, {"user_id", user_id}}),
              "invalid_request", 400, "no is_admin");
}

BOOST_AUTO_TEST_CASE(the_last_admin_cannot_demote_themselves) {
  auto token = admin_token();
  auto admin_id = scalar("SELECT id FROM gateway.users WHERE is_admin");
  check_error(
    call("users.update", {{"session_id", token}, {"user_id", admin_id}, {"is_admin", false}}),
    "conflict", 409, "the last admin's own demotion");
  BOOST_CHECK_EQUAL(scalar("SELECT count(*) FROM gateway.users WHERE is_admin"), 1);
  must("overview", json::object(), token);
  // With a second admin, either may step down.
  auto second = signup("second@example.com")["user"]["id"].get<int>();
  must("users.update", {{"user_id", second}, {"is_admin", true}}, token);
  must("users.update", {{"user_id", admin_id}, {"is_admin", false}}, token);
  check_error(call("overview", {{"session_id", token}}), "forbidden", 403, "stepped down");
}

BOOST_AUTO_TEST_CASE(revoke_sessions_refuses_every_session_at_once_cache_included) {
  auto token = admin_token();
  auto user = signup("stolen@example.com");
  auto user_id = user["user"]["id"].get<int>();
  auto first = user["session"]["id"].get<std::string>();
  auto second = login("stolen@example.com", "password-1");
  for (auto& t : {first, second}) {
    auto r = client->request("gateway.session.resolve", json{{"session_id", t}});
    BOOST_REQUIRE_MESSAGE(r.error_code().empty(), r.body);
  }
  auto revoked = must("users.revoke_sessions", {{"user_id", user_id}}, token);
  BOOST_CHECK_EQUAL(revoked["revoked"], 2);
  for (auto& t : {first, second})
    check_error(client->request("gateway.session.resolve", json{{"session_id", t}}),
                "unauthorized", 401, "a revoked session");
  BOOST_CHECK_EQUAL(
    scalar("SELECT count(*) FROM gateway.sessions WHERE user_id = " + std::to_string(user_id)),
    0);
  // The admin's own session is untouched.
  must("overview", json::object(), token);
  check_error(call("users.revoke_sessions", {{"session_id", token}, {"user_id", 4711}}),
              "not_found", 404, "an unknown user");
}

// -- telemetry --------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_slice_series_is_aggregated_per_aligned_bucket) {
  auto token = admin_token();
  auto slice_id = must("slices.create", {{"count", 1}}, token)["slices"][0]["id"].get<int>();
  auto id = std::to_string(slice_id);
  // Two buckets of 300 s: 12:00 (three samples) and 12:05 (one); one sample outside. The day
  // lies before the retention window, which has partitions: it needs one of its own.
  exec("SELECT gateway.ensure_telemetry_partitions('gateway.telemetry', '2026-01-01T00:00:00Z', "
       "'2026-01-01T00:00:00Z')");
  exec("INSERT INTO gateway.telemetry (slice_id, \"timestamp\", rss_bytes, wa_state, "
       "cpu_percent, disk_bytes) VALUES "
       "("
       + id
       + ", '2026-01-01T12:00:10Z', 100, 'CONNECTED', 1.0, 1000),"
         "("
       + id
       + ", '2026-01-01T12:01:10Z', 300, 'open', 3.0, NULL),"
         "("
       + id
       + ", '2026-01-01T12:04:10Z', 200, 'unreachable', NULL, 3000),"
         "("
       + id
       + ", '2026-01-01T12:06:00Z', 50, 'DISCONNECTED', 0.5, 500),"
         "("
       + id + ", '2026-01-01T12:20:00Z', 70, 'CONNECTED', 0.5, 500)");
  auto series = must("telemetry.slice",
                     {{"slice_id", slice_id},
                      {"from", "2026-01-01T12:02:00Z"},
                      {"to", "2026-01-01T12:10:00+00:00"},
                      {"bucket", 300}},
                     token);
  BOOST_CHECK_EQUAL(series["slice_id"], slice_id);
  BOOST_CHECK_EQUAL(series["bucket"], 300);
  auto& points = series["points"];
  // `from` cuts into the first bucket: only the 12:04:10 sample of it counts.
  BOOST_REQUIRE_EQUAL(points.size(), 2u);
  BOOST_CHECK_EQUAL(points[0]["at"], "2026-01-01T12:00:00.000000Z");
  BOOST_CHECK_EQUAL(points[0]["samples"], 1);
  BOOST_CHECK_EQUAL(points[1]["at"], "2026-01-01T12:05:00.000000Z");

  auto wide = must("telemetry.slice",
                   {{"slice_id", slice_id},
                    {"from", "2026-01-01T11:00:00Z"},
                    {"to", "2026-01-01T12:10:00Z"},
                    {"bucket", 300}},
                   token);
  BOOST_REQUIRE_EQUAL(wide["points"].size(), 2u);
  auto& p = wide["points"][0];
  BOOST_CHECK_EQUAL(p["samples"], 3);
  BOOST_CHECK_CLOSE(p["rss_bytes_avg"].get<double>(), 200.0, 1e-9);
  BOOST_CHECK_EQUAL(p["rss_bytes_max"], 300);
  BOOST_CHECK_CLOSE(p["cpu_percent_avg"].get<double>(), 2.0, 1e-9);
  BOOST_CHECK_CLOSE(p["cpu_percent_max"].get<double>(), 3.0, 1e-9);
  BOOST_CHECK_EQUAL(p["disk_bytes_last"], 3000);
  BOOST_CHECK_CLOSE(p["wa_connected_share"].get<double>(), 2.0 / 3.0, 1e-9);
  BOOST_CHECK_CLOSE(wide["points"][1]["wa_connected_share"].get<double>(), 0.0, 1e-9);

  // One-hour buckets align to the hour.
  auto hourly = must("telemetry.slice",
                     {{"slice_id", slice_id},
                      {"from", "2026-01-01T11:30:00Z"},
                      {"to", "2026-01-01T13:00:00Z"},
                      {"bucket", 3600}},
                     token);
  BOOST_REQUIRE_EQUAL(hourly["points"].size(), 1u);
  BOOST_CHECK_EQUAL(hourly["points"][0]["at"], "2026-01-01T12:00:00.000000Z");
  BOOST_CHECK_EQUAL(hourly["points"][0]["samples"], 5);

  // By default: the last 24 hours in 5-minute buckets (none of these samples).
  auto recent = must("telemetry.slice", {{"slice_id", slice_id}}, token);
  BOOST_CHECK_EQUAL(recent["bucket"], 300);
  BOOST_CHECK(recent["points"].empty());
}

BOOST_AUTO_TEST_CASE(series_requests_are_validated) {
  auto token = admin_token();
  auto slice_id = must("slices.create", {{"count", 1}}, token)["slices"][0]["id"].get<int>();
  auto ask = [&](json body) {
    body["session_id"] = token;
    body["slice_id"] = slice_id;
    return call("telemetry.slice", body);
  };
  check_error(ask({{"from", "2026-01-02T00:00:00Z"}, {"to", "2026-01-01T00:00:00Z"}}),
              "invalid_request", 400, "from after to");
  check_error(ask({{"from", "2026-01-01T00:00:00Z"}, {"to", "2026-01-01T00:00:00Z"}}),
              "invalid_request", 400, "from equal to to");
  check_error(ask({{"from", "yesterday"}}), "invalid_request", 400, "not RFC 3339");
  check_error(ask({{"bucket", 0}}), "invalid_request", 400, "bucket 0");
  check_error(ask({{"bucket", 1.5}}), "invalid_request", 400, "a fractional bucket");
  // 7 days in 1-minute buckets: 10,080 points, too many; the message says how to ask.
  auto too_many
    = ask({{"from", "2026-01-01T00:00:00Z"}, {"to", "2026-01-08T00:00:00Z"}, {"bucket", 60}});
  check_error(too_many, "invalid_request", 400, "too many points");
  auto message = too_many.json()["error"]["message"].get<std::string>();
  BOOST_CHECK_MESSAGE(message.find("10000") != std::string::npos
                        && message.find("bucket of at least 61 s") != std::string::npos,
                      message);
  // Exactly 10,000 one-second buckets are fine.
  auto exact
    = ask({{"from", "2026-01-01T00:00:00Z"}, {"to", "2026-01-01T02:46:40Z"}, {"bucket", 1}});
  BOOST_CHECK_MESSAGE(exact.error_code().empty(), exact.body);
  check_error(call("telemetry.slice", {{"session_id", token}, {"slice_id", 4711}}), "not_found",
              404, "an unknown slice");
  check_error(call("telemetry.server", {{"session_id", token}, {"bucket", -5}}),
              "invalid_request", 400, "a negative bucket");
}

BOOST_AUTO_TEST_CASE(the_server_series_averages_usage_and_keeps_the_newest_totals) {
  auto token = admin_token();
  // A day before the retention window: it needs a partition of its own.
  exec("SELECT gateway.ensure_telemetry_partitions('gateway.server_telemetry', "
       "'2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')");
  exec("INSERT INTO gateway.server_telemetry (\"timestamp\", ram_used_bytes, ram_total_bytes, "
       "swap_used_bytes, swap_total_bytes, cpu_percent, disk_used_bytes, disk_total_bytes, "
       "active_slices, total_slices) VALUES "
       "('2026-01-01T12:00:00Z', 100, 1000, 0, 50, 10, 500, 5000, 1, 4),"
       "('2026-01-01T12:01:00Z', 300, 1000, 10, 50, 30, 600, 5000, 2, 5)");
  auto series = must(
    "telemetry.server",
    {{"from", "2026-01-01T11:00:00Z"}, {"to", "2026-01-01T13:00:00Z"}, {"bucket", 600}}, token);
  BOOST_REQUIRE_EQUAL(series["points"].size(), 1u);
  auto& p = series["points"][0];
  BOOST_CHECK_EQUAL(p["samples"], 2);
  BOOST_CHECK_CLOSE(p["ram_used_bytes_avg"].get<double>(), 200.0, 1e-9);
  BOOST_CHECK_EQUAL(p["ram_used_bytes_max"], 300);
  BOOST_CHECK_CLOSE(p["cpu_percent_max"].get<double>(), 30.0, 1e-6);
  BOOST_CHECK_EQUAL(p["disk_used_bytes_last"], 600);
  BOOST_CHECK_EQUAL(p["active_slices_last"], 2);
  BOOST_CHECK_EQUAL(p["total_slices_last"], 5);
}

// -- overview and live list -------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(the_overview_counts_the_pool_the_queue_and_the_alerts_of_the_last_hour) {
  auto token = admin_token();
  // One slice for the admin, one for the first user; the second user cancels, the third
  // waits.
  auto served = signup_then_provision("served@example.com", 2, token);
  BOOST_REQUIRE(served["slice"].is_object());
  signup("cancels@example.com");
  exec("UPDATE gateway.users SET subscription_status = 'cancelled' "
       "WHERE email = 'cancels@example.com'");
  signup("waits@example.com");
  exec(
    "INSERT INTO gateway.server_telemetry (\"timestamp\", ram_used_bytes, ram_total_bytes, "
    "swap_used_bytes, swap_total_bytes, cpu_percent, disk_used_bytes, disk_total_bytes, "
    "active_slices, total_slices) VALUES (now() - interval '5 minutes', 1, 2, 3, 4, 5, 6, 7, "
    "8, 9), (now() - interval '1 minute', 10, 20, 30, 40, 50, 60, 70, 80, 90)");
  auto slice_id = served["slice"]["id"].get<int>();
  exec("INSERT INTO gateway.slice_alerts (slice_id, \"timestamp\", kind, detail) VALUES ("
       + std::to_string(slice_id) + ", now() - interval '2 hours', 'memory_high', 'old')");

  // The assigned slice answers no probe (nothing listens on its port): it turns unhealthy, the
  // watcher raises an alert, and the alert reaches the overview through the alert log.
  json overview;
  BOOST_CHECK(test::eventually(
    [&] {
      overview = must("overview", json::object(), token);
      for (auto& a : overview["alerts"])
        if (a["kind"] == "unhealthy" && a["slice_id"] == slice_id)
          return true;
      return false;
    },
    30s));
  BOOST_TEST_MESSAGE(overview.dump());
  auto& slices = overview["slices"];
  BOOST_CHECK_EQUAL(slices["total"], 2);
  BOOST_CHECK_EQUAL(slices["assigned"], 2);
  BOOST_CHECK_EQUAL(slices["available"], 0);
  BOOST_CHECK_EQUAL(slices["suspended"], 0);
  BOOST_CHECK_EQUAL(slices["healthy"].get<int>() + slices["unhealthy"].get<int>()
                      + slices["unchecked"].get<int>(),
                    2);
  BOOST_CHECK_GE(slices["unhealthy"].get<int>(), 1);
  // The third user waits; the cancelled one does not.
  BOOST_CHECK_EQUAL(overview["waiting"]["length"], 1);
  BOOST_CHECK(overview["waiting"]["oldest_since"].is_string());
  BOOST_CHECK_GE(overview["waiting"]["oldest_wait_seconds"].get<int>(), 0);
  BOOST_CHECK_EQUAL(overview["users"]["total"], 4);
  BOOST_CHECK_EQUAL(overview["users"]["trial"], 2);
  BOOST_CHECK_EQUAL(overview["users"]["active"], 1);
  BOOST_CHECK_EQUAL(overview["users"]["cancelled"], 1);
  BOOST_CHECK_EQUAL(overview["users"]["admins"], 1);
  BOOST_CHECK_EQUAL(overview["server"]["ram_used_bytes"], 10);
  BOOST_CHECK_EQUAL(overview["server"]["total_slices"], 90);
  // The two-hour-old alert is not among them.
  for (auto& a : overview["alerts"])
    BOOST_CHECK(a["detail"] != "old");
  BOOST_CHECK_EQUAL(overview["alerts_last_hour"].get<size_t>(), overview["alerts"].size());
}

BOOST_AUTO_TEST_CASE(the_live_slice_list_carries_each_slices_newest_sample_and_user) {
  auto token = admin_token();
  auto served = signup_then_provision("served@example.com", 2, token);
  auto slice_id = served["slice"]["id"].get<int>();
  auto id = std::to_string(slice_id);
  exec("INSERT INTO gateway.telemetry (slice_id, \"timestamp\", rss_bytes, wa_state, "
       "cpu_percent, disk_bytes) VALUES "
       "("
       + id
       + ", now() + interval '1 hour', 4096, 'CONNECTED', 2.5, 8192),"
         "("
       + id + ", now() - interval '1 hour', 1, 'open', 1, 1)");
  auto listed = must("slices.list", {{"telemetry", true}}, token);
  BOOST_REQUIRE_EQUAL(listed["slices"].size(), 2u);
  for (auto& s : listed["slices"]) {
    if (s["id"] != slice_id) {
      // The admin's own slice.
      BOOST_CHECK_EQUAL(s["user_email"], admin_email);
      continue;
    }
    BOOST_CHECK_EQUAL(s["user_email"], "served@example.com");
    BOOST_CHECK_EQUAL(s["status"], "assigned");
    BOOST_CHECK_EQUAL(s["latest_telemetry"]["rss_bytes"], 4096);
    BOOST_CHECK_EQUAL(s["latest_telemetry"]["wa_state"], "CONNECTED");
    BOOST_CHECK_EQUAL(s["latest_telemetry"]["disk_bytes"], 8192);
  }
  // Without the flag: the slice manager's list, as before.
  auto plain = must("slices.list", {{"status", "assigned"}}, token);
  BOOST_REQUIRE_EQUAL(plain["slices"].size(), 2u);
  BOOST_CHECK(!plain["slices"][0].contains("latest_telemetry"));
  check_error(call("slices.list", {{"session_id", token}, {"telemetry", "yes"}}),
              "invalid_request", 400, "a telemetry flag that is no boolean");
}

BOOST_AUTO_TEST_CASE(the_micro_protocol_lists_every_admin_endpoint) {
  auto info = client->request("$SRV.INFO.slicegate", std::string{}, 10s);
  BOOST_REQUIRE(info.ok());
  std::set<std::string> subjects;
  auto body = info.json();
  for (auto& e : body["endpoints"])
    subjects.insert(e["subject"].get<std::string>());
  for (auto& [verb, body] : every_admin_verb())
    BOOST_CHECK_MESSAGE(subjects.count("gateway.admin." + verb) == 1, verb);
}

BOOST_AUTO_TEST_SUITE_END()
