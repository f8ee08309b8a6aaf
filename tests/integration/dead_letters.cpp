#define BOOST_TEST_MODULE dead_letters
#include <boost/test/unit_test.hpp>

// Rejected inbound events are kept, listed and replayed (`<p>.admin.dead_letters.*`,
// `slicectl dead-letters`): an event that can never be processed is acknowledged only once its
// original body is stored in `gateway.dead_letters`, and an operator can publish it again once
// its cause is fixed. The real daemon on a throwaway PostgreSQL and nats-server.

#include <chrono>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "actors/hasher.hpp"
#include "tests/support/daemon_fixture.hpp"
#include "tests/support/sql.hpp"

using namespace slicegate;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

struct fixture : test::running_daemon {
  fixture() {
    client->subscribe("gateway.events.rejected");
  }

  test::reply call(const std::string& verb, json body, const std::string& token) {
    body["session_id"] = token;
    return client->request("gateway.admin.dead_letters." + verb, body, 30s);
  }

  json must(const std::string& verb, json body, const std::string& token) {
    auto r = call(verb, std::move(body), token);
    BOOST_REQUIRE_MESSAGE(r.ok() && r.error_code().empty(), verb << ": " << r.body);
    return r.json();
  }

  int64_t rows(const std::string& where = "true") {
    return test::scalar(servers.database_url(),
                        "SELECT count(*) FROM gateway.dead_letters WHERE " + where);
  }

  std::string slicectl(const std::string& token) {
    return test::slicectl_binary() + " --nats-url " + servers.nats_url() + " --session " + token
           + " ";
  }
};

/// A signup event without an e-mail: it can never become an account.
const std::string no_email = R"({"id":"evt_dl_1","password_hash":"x"})";

/// A payment event that is not even text: a NUL and bytes that are not UTF-8.
const std::string binary{"\x01\x00\xff\xfe not json", 13};

} // namespace

BOOST_FIXTURE_TEST_SUITE(dead_letters, fixture)

BOOST_AUTO_TEST_CASE(a_rejected_event_is_kept_with_its_body_listed_and_replayed) {
  client->js_publish("gateway.events.signup", no_email);
  client->js_publish("gateway.events.payment", binary);
  BOOST_REQUIRE_MESSAGE(test::eventually([&] { return rows() == 2; }, 30s), daemon->log());
  // The notice names the stored copy.
  auto notices = client->wait_for(2, 10s);
  BOOST_REQUIRE_EQUAL(notices.size(), 2u);
  for (auto& n : notices)
    BOOST_CHECK_MESSAGE(n.json().contains("dead_letter_id"), n.body);

  auto token = admin_token();
  auto page = must("list", json::object(), token);
  auto& letters = page["dead_letters"];
  BOOST_REQUIRE_EQUAL(letters.size(), 2u);
  json signup;
  json payment;
  for (auto& x : letters)
    (x["subject"] == "gateway.events.signup" ? signup : payment) = x;
  BOOST_CHECK_EQUAL(signup["payload"].get<std::string>(), no_email);
  BOOST_CHECK_EQUAL(signup["event_id"], "evt_dl_1");
  BOOST_CHECK_MESSAGE(signup["reason"].get<std::string>().find("email") != std::string::npos,
                      signup.dump());
  BOOST_CHECK(signup["replayed_at"].is_null());
  BOOST_CHECK(signup["stream_sequence"].is_number());
  // Bytes that are not UTF-8 come back exactly, in base64.
  BOOST_CHECK(!payment.contains("payload"));
  BOOST_CHECK_EQUAL(payment["payload_base64"].get<std::string>(), "AQD//iBub3QganNvbg==");
  BOOST_CHECK_EQUAL(must("get", {{"id", payment["id"]}}, token)["dead_letter"], payment);

  // Replayed, the event goes through its consumer again: still unprocessable, it is kept again
  // as a new row, and the first one is stamped.
  auto id = signup["id"].get<int64_t>();
  auto replayed = must("replay", {{"id", id}}, token);
  BOOST_CHECK(replayed["stream_sequence"].get<int64_t>() > signup["stream_sequence"].get<int64_t>());
  BOOST_CHECK(replayed["dead_letter"]["replayed_at"].is_string());
  BOOST_CHECK_EQUAL(replayed["dead_letter"]["replays"], 1);
  BOOST_REQUIRE(test::eventually([&] { return rows() == 3; }, 30s));
  BOOST_CHECK_EQUAL(rows("payload = convert_to('" + no_email + "', 'UTF8')"), 2);
  // Listed by default: what was not replayed yet.
  auto pending = must("list", json::object(), token)["dead_letters"];
  BOOST_CHECK_EQUAL(pending.size(), 2u);
  for (auto& x : pending)
    BOOST_CHECK(x["id"] != id);
  BOOST_CHECK_EQUAL(must("list", {{"include_replayed", true}}, token)["dead_letters"].size(), 3u);
  // Paging.
  auto first = must("list", {{"limit", 1}, {"include_replayed", true}}, token);
  BOOST_REQUIRE_EQUAL(first["dead_letters"].size(), 1u);
  auto rest = must("list", {{"after", first["next_after"]}, {"include_replayed", true}}, token);
  BOOST_CHECK_EQUAL(rest["dead_letters"].size(), 2u);

  // A second replay must be meant.
  auto again = call("replay", {{"id", id}}, token);
  BOOST_CHECK_EQUAL(again.error_code(), "conflict");
  BOOST_CHECK_EQUAL(must("replay", {{"id", id}, {"force", true}}, token)["dead_letter"]["replays"],
                    2);
  BOOST_CHECK_EQUAL(call("replay", {{"id", 999999}}, token).error_code(), "not_found");
  BOOST_CHECK_EQUAL(call("list", {{"limit", 0}}, token).error_code(), "invalid_request");
}

BOOST_AUTO_TEST_CASE(a_replay_after_the_cause_is_fixed_applies_the_event) {
  // Cost 15 is above the daemon's signup-event-max-cost (14): rejected.
  auto hash = bcrypt_hash("a long wait", 15);
  BOOST_REQUIRE(hash);
  client->js_publish("gateway.events.signup", json{{"id", "evt_dl_cost"},
                                                   {"email", "costly@example.com"},
                                                   {"password_hash", *hash}}
                                                .dump());
  BOOST_REQUIRE_MESSAGE(test::eventually([&] { return rows() == 1; }, 30s), daemon->log());
  auto token = admin_token();
  auto id = must("list", json::object(), token)["dead_letters"][0]["id"].get<int64_t>();

  // The operator raises the limit and replays it with slicectl.
  BOOST_REQUIRE_EQUAL(daemon->stop(), 0);
  auto args = test::daemon_args(servers);
  args.push_back("--signup-event-max-cost=15");
  daemon.emplace(args);
  BOOST_REQUIRE(test::eventually(
    [&] {
      return client->request("gateway.session.resolve", json{{"session_id", "x"}}, 5s).ok();
    },
    30s));
  token = admin_token();
  auto out = test::capture(slicectl(token) + "dead-letters replay " + std::to_string(id));
  BOOST_CHECK_MESSAGE(out.find("published again on gateway.events.signup") != std::string::npos,
                      out);
  BOOST_CHECK(test::eventually(
    [&] {
      return test::scalar(servers.database_url(),
                          "SELECT count(*) FROM gateway.users "
                          "WHERE email = 'costly@example.com'")
             == 1;
    },
    30s));
  BOOST_CHECK_EQUAL(rows(), 1);
  auto listed = test::capture(slicectl(token) + "dead-letters list --all");
  BOOST_CHECK_MESSAGE(listed.find("evt_dl_cost") != std::string::npos, listed);
  BOOST_CHECK_EQUAL(test::capture(slicectl(token) + "dead-letters list").find("evt_dl_cost"),
                    std::string::npos);
  auto shown = test::capture(slicectl(token) + "dead-letters show " + std::to_string(id));
  BOOST_CHECK_MESSAGE(shown.find("costly@example.com") != std::string::npos, shown);
}

BOOST_AUTO_TEST_CASE(an_event_whose_dead_letter_cannot_be_stored_waits_in_the_stream) {
  servers.stop_pg();
  client->js_publish("gateway.events.signup", no_email);
  // Rejected, but not kept: neither acknowledged nor reported.
  std::this_thread::sleep_for(8s);
  auto early = client->messages().size();
  servers.start_pg();
  BOOST_CHECK_EQUAL(early, 0u);
  BOOST_REQUIRE_MESSAGE(test::eventually([&] { return rows() == 1; }, 60s), daemon->log());
  BOOST_CHECK_EQUAL(client->wait_for(1, 10s).size(), 1u);
  std::this_thread::sleep_for(2s);
  BOOST_CHECK_EQUAL(rows(), 1);
  BOOST_CHECK_EQUAL(client->messages().size(), 1u);
}

BOOST_AUTO_TEST_SUITE_END()
