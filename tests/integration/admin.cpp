#define BOOST_TEST_MODULE admin
#include <boost/test/unit_test.hpp>

// The admin rule and the pool verbs, end to end: the real daemon (external runtime) on a
// throwaway PostgreSQL and nats-server; the first admin made with `slicegate create-admin`.

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "tests/support/daemon_fixture.hpp"
#include "tests/support/sql.hpp"

using namespace slicegate;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

struct fixture : test::running_daemon {
  test::reply admin(const std::string& verb, json body) {
    return client->request("gateway.admin.slices." + verb, body, 30s);
  }

  /// The status reason recorded for `slice_id` (none for NULL).
  std::optional<std::string> status_reason(const json& slice_id) {
    pqxx::connection conn{servers.database_url()};
    pqxx::work tx{conn};
    auto field = tx.exec_params1("SELECT status_reason FROM gateway.slices WHERE id = $1",
                                 slice_id.get<int>())[0];
    if (field.is_null())
      return std::nullopt;
    return field.as<std::string>();
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(admin_rule, fixture)

BOOST_AUTO_TEST_CASE(create_admin_makes_an_admin_who_can_log_in) {
  auto token = login("admin@example.com", "admin-password-1");
  auto r = client->request("gateway.session.resolve", json{{"session_id", token}});
  BOOST_CHECK_EQUAL(r.json()["user"]["is_admin"], true);
}

BOOST_AUTO_TEST_CASE(admins_provision_list_get_and_suspend_slices) {
  auto token = login("admin@example.com", "admin-password-1");
  auto created = admin("create", json{{"session_id", token}, {"count", 2}});
  BOOST_REQUIRE_MESSAGE(created.error_code().empty(), created.body);
  BOOST_REQUIRE_EQUAL(created.json()["slices"].size(), 2u);
  auto first = created.json()["slices"][0];
  // The answer comes once the rows exist; each turns available when its wipe ends.
  BOOST_CHECK_EQUAL(first["status"], "destroying");
  BOOST_CHECK_EQUAL(first["port"], 5001);
  BOOST_CHECK_EQUAL(created.json()["slices"][1]["port"], 5003);
  wait_until_ready({first["id"].get<int>(), created.json()["slices"][1]["id"].get<int>()},
                   token);

  auto listed = admin("list", json{{"session_id", token}});
  BOOST_CHECK_EQUAL(listed.json()["slices"].size(), 2u);
  auto got = admin("get", json{{"session_id", token}, {"slice_id", first["id"]}});
  BOOST_CHECK_EQUAL(got.json()["slice"]["id"], first["id"]);
  BOOST_CHECK(got.json().contains("latest_telemetry"));

  auto missing = admin("get", json{{"session_id", token}, {"slice_id", 999}});
  BOOST_CHECK_EQUAL(missing.error_code(), "not_found");
  BOOST_CHECK_EQUAL(missing.service_error_code(), 404);

  // A user signs up and gets the first slice; the admin suspends and resumes it.
  auto signup = client->request(
    "gateway.auth.signup", json{{"email", "user@example.com"}, {"password", "password-1"}});
  BOOST_REQUIRE_MESSAGE(signup.error_code().empty(), signup.body);
  BOOST_REQUIRE(signup.json()["slice"].is_object());
  auto slice_id = signup.json()["slice"]["id"];
  auto suspended = admin("suspend", json{{"session_id", token}, {"slice_id", slice_id}});
  BOOST_CHECK_MESSAGE(suspended.json()["slice"]["status"] == "suspended", suspended.body);
  auto resumed = admin("resume", json{{"session_id", token}, {"slice_id", slice_id}});
  BOOST_CHECK_MESSAGE(resumed.json()["slice"]["status"] == "assigned", resumed.body);
}

BOOST_AUTO_TEST_CASE(an_admin_action_over_nats_records_its_reason_with_one_admin_prefix) {
  auto token = login("admin@example.com", "admin-password-1");
  // Two: the admin, who waits for a slice too, takes the first.
  create_ready_slices(2, token);
  auto signup = client->request(
    "gateway.auth.signup", json{{"email", "user@example.com"}, {"password", "password-1"}});
  BOOST_REQUIRE_MESSAGE(signup.error_code().empty(), signup.body);
  BOOST_REQUIRE(signup.json()["slice"].is_object());
  auto slice_id = signup.json()["slice"]["id"];
  client->subscribe("gateway.slice.status." + std::to_string(slice_id.get<int>()));
  // The events of the admin's actions, once `n` have arrived. The assignment's own event may
  // still be on its way when the subscription starts (on a busy machine it is): it is not one.
  auto admin_events = [&](size_t n) {
    std::vector<json> result;
    test::eventually([&] {
      result.clear();
      for (auto& m : client->messages()) {
        auto body = m.json();
        auto reason = body.find("reason");
        if (reason != body.end() && reason->is_string()
            && reason->get<std::string>().rfind("admin", 0) == 0)
          result.push_back(body);
      }
      return result.size() >= n;
    });
    return result;
  };

  // With the admin's words: "admin: <words>", in the row and in the event, prefixed once.
  auto suspended = admin(
    "suspend",
    json{{"session_id", token}, {"slice_id", slice_id}, {"reason", "maintenance window"}});
  BOOST_REQUIRE_MESSAGE(suspended.error_code().empty(), suspended.body);
  BOOST_CHECK(status_reason(slice_id)
              == std::optional<std::string>{"admin: maintenance window"});
  auto events = admin_events(1);
  BOOST_REQUIRE_EQUAL(events.size(), 1u);
  BOOST_CHECK_EQUAL(events[0]["to"], "suspended");
  BOOST_CHECK_EQUAL(events[0]["reason"], "admin: maintenance window");

  // Without any: just "admin".
  auto resumed = admin("resume", json{{"session_id", token}, {"slice_id", slice_id}});
  BOOST_REQUIRE_MESSAGE(resumed.error_code().empty(), resumed.body);
  auto again = admin("suspend", json{{"session_id", token}, {"slice_id", slice_id}});
  BOOST_REQUIRE_MESSAGE(again.error_code().empty(), again.body);
  BOOST_CHECK(status_reason(slice_id) == std::optional<std::string>{"admin"});
  events = admin_events(3);
  BOOST_REQUIRE_EQUAL(events.size(), 3u);
  BOOST_CHECK_EQUAL(events[1]["to"], "assigned");
  BOOST_CHECK_EQUAL(events[1]["reason"], "admin");
  BOOST_CHECK_EQUAL(events[2]["to"], "suspended");
  BOOST_CHECK_EQUAL(events[2]["reason"], "admin");
}

BOOST_AUTO_TEST_CASE(a_misspelt_status_filter_is_an_invalid_request) {
  auto token = login("admin@example.com", "admin-password-1");
  auto listed = admin("list", json{{"session_id", token}, {"status", "suspendet"}});
  BOOST_CHECK_EQUAL(listed.error_code(), "invalid_request");
  BOOST_CHECK_EQUAL(listed.service_error_code(), 400);
  BOOST_CHECK(listed.json()["error"]["message"].get<std::string>().find("suspendet")
              != std::string::npos);
}

BOOST_AUTO_TEST_CASE(non_admins_get_403_and_no_session_401_and_nothing_changes) {
  auto signup = client->request(
    "gateway.auth.signup", json{{"email", "plain@example.com"}, {"password", "password-1"}});
  BOOST_REQUIRE_MESSAGE(signup.error_code().empty(), signup.body);
  auto user_token = signup.json()["session"]["id"].get<std::string>();

  auto forbidden = admin("create", json{{"session_id", user_token}, {"count", 3}});
  BOOST_CHECK_EQUAL(forbidden.error_code(), "forbidden");
  BOOST_CHECK_EQUAL(forbidden.service_error_code(), 403);
  auto anonymous = admin("create", json{{"session_id", std::string(64, 'a')}, {"count", 3}});
  BOOST_CHECK_EQUAL(anonymous.error_code(), "unauthorized");
  BOOST_CHECK_EQUAL(anonymous.service_error_code(), 401);
  // Without a session the verb's parameters are not looked at: 401, not 400.
  auto malformed = admin("create", json{{"count", "three"}});
  BOOST_CHECK_EQUAL(malformed.error_code(), "unauthorized");
  BOOST_CHECK_EQUAL(malformed.service_error_code(), 401);

  auto token = login("admin@example.com", "admin-password-1");
  BOOST_CHECK_EQUAL(admin("list", json{{"session_id", token}}).json()["slices"].size(), 0u);
  BOOST_CHECK(daemon->running());
}

BOOST_AUTO_TEST_CASE(create_admin_needs_the_password_of_an_account_that_exists) {
  // Somebody signs up with the address the operator meant to use.
  auto signup = client->request(
    "gateway.auth.signup", json{{"email", "ops@example.com"}, {"password", "squatter-pw-1"}});
  BOOST_REQUIRE_MESSAGE(signup.error_code().empty(), signup.body);
  auto squatter_session = signup.json()["session"]["id"].get<std::string>();
  auto create_admin = [&](const std::string& password, const std::string& flags) {
    return "printf '" + password + "\\n' | " + test::slicegate_binary()
           + " create-admin --password-stdin --bcrypt-cost=4 --email OPS@example.com " + flags
           + " --database-url='" + servers.database_url() + "' 2>&1";
  };
  auto is_admin = [&] {
    return test::scalar(
      servers.database_url(),
      "SELECT is_admin::int FROM gateway.users WHERE email = 'ops@example.com'");
  };

  // Without its password: refused, nothing changed.
  BOOST_CHECK_EQUAL(test::run(create_admin("operator-pw-1", "") + " >/dev/null"), 1);
  auto refusal = test::capture(create_admin("operator-pw-1", ""));
  BOOST_CHECK_MESSAGE(refusal.find("--reset-password") != std::string::npos, refusal);
  BOOST_CHECK_EQUAL(is_admin(), 0);
  BOOST_CHECK(client->request("gateway.session.resolve", json{{"session_id", squatter_session}})
                .error_code()
                .empty());

  // With --reset-password: the account is taken over, its sessions end, its history is shown.
  auto taken = test::capture(create_admin("operator-pw-1", "--reset-password"));
  BOOST_CHECK_MESSAGE(taken.find("took over user") != std::string::npos
                        && taken.find("created 20") != std::string::npos
                        && taken.find("last login 20") != std::string::npos
                        && taken.find("1 sessions ended") != std::string::npos,
                      taken);
  BOOST_CHECK_EQUAL(is_admin(), 1);
  BOOST_CHECK_EQUAL(test::scalar(servers.database_url(),
                                 "SELECT count(*) FROM gateway.sessions s JOIN gateway.users u "
                                 "ON u.id = s.user_id WHERE u.email = 'ops@example.com'"),
                    0);
  BOOST_CHECK_EQUAL(client
                      ->request("gateway.auth.login", json{{"email", "ops@example.com"},
                                                           {"password", "squatter-pw-1"}})
                      .error_code(),
                    "invalid_credentials");
  login("ops@example.com", "operator-pw-1");

  // With the account's own password: promoted, nothing else touched.
  auto own = client->request(
    "gateway.auth.signup", json{{"email", "deputy@example.com"}, {"password", "deputy-pw-1"}});
  BOOST_REQUIRE_MESSAGE(own.error_code().empty(), own.body);
  BOOST_CHECK_EQUAL(test::run("printf 'deputy-pw-1\\n' | " + test::slicegate_binary()
                              + " create-admin --password-stdin --bcrypt-cost=4 --email "
                                "deputy@example.com --database-url='"
                              + servers.database_url() + "' >/dev/null 2>&1"),
                    0);
  auto deputy = login("deputy@example.com", "deputy-pw-1");
  BOOST_CHECK(client->request("gateway.session.resolve", json{{"session_id", deputy}})
                .json()["user"]["is_admin"]
                .get<bool>());
}

BOOST_AUTO_TEST_CASE(slicectl_runs_the_pool_verbs_for_an_admin) {
  auto token = login("admin@example.com", "admin-password-1");
  auto slicectl = "env -u SLICEGATE_SESSION " + test::slicectl_binary() + " --nats-url "
                  + servers.nats_url() + " --timeout 30s --session " + token + " ";
  // --wait shows the slices once they are ready, not as the daemon first answered.
  auto created = json::parse(test::capture(slicectl + "--json slices create --count 2 --wait"));
  BOOST_REQUIRE_EQUAL(created["slices"].size(), 2u);
  for (auto& s : created["slices"])
    BOOST_CHECK_NE(s["status"], "destroying");
  auto id = std::to_string(created["slices"][0]["id"].get<int>());

  // The table: a header and one row per slice.
  auto table = test::capture(slicectl + "slices list");
  BOOST_CHECK_MESSAGE(table.rfind("ID  ", 0) == 0, table);
  BOOST_CHECK_EQUAL(std::count(table.begin(), table.end(), '\n'), 3);
  BOOST_CHECK(table.find("available") != std::string::npos);

  auto suspended = json::parse(
    test::capture(slicectl + "--json slices suspend " + id + " --reason 'maintenance window'"));
  BOOST_CHECK_EQUAL(suspended["slice"]["status"], "suspended");
  auto only = json::parse(test::capture(slicectl + "--json slices list --status suspended"));
  BOOST_REQUIRE_EQUAL(only["slices"].size(), 1u);
  BOOST_CHECK_EQUAL(std::to_string(only["slices"][0]["id"].get<int>()), id);
  BOOST_CHECK(test::capture(slicectl + "slices get " + id).find("suspended")
              != std::string::npos);

  // A non-admin's session is refused with exit code 1 and the reason.
  auto signup = client->request("gateway.auth.signup",
                                json{{"email", "cli@example.com"}, {"password", "password-1"}});
  auto user_token = signup.json()["session"]["id"].get<std::string>();
  auto refused = test::run("env -u SLICEGATE_SESSION " + test::slicectl_binary()
                           + " --nats-url " + servers.nats_url() + " --session " + user_token
                           + " slices list 2>&1 | grep -q forbidden");
  BOOST_CHECK_EQUAL(refused, 0);
  BOOST_CHECK_EQUAL(test::run("env -u SLICEGATE_SESSION " + test::slicectl_binary()
                              + " --nats-url " + servers.nats_url() + " --session " + user_token
                              + " slices list >/dev/null 2>&1"),
                    1);
  // Usage errors are caught before anything is sent.
  BOOST_CHECK_EQUAL(test::run(slicectl + "slices create --count 0 >/dev/null 2>&1"), 64);
  BOOST_CHECK_EQUAL(
    test::run(slicectl + "slices create --count 1 --idempotency-key '' >/dev/null 2>&1"), 64);
  BOOST_CHECK_EQUAL(
    test::run(slicectl + "slices create --count 1 --wait --wait-timeout soon >/dev/null 2>&1"),
    64);
  BOOST_CHECK_EQUAL(test::scalar(servers.database_url(), "SELECT count(*) FROM gateway.slices"),
                    2);
}

BOOST_AUTO_TEST_CASE(slicectl_create_with_a_key_is_safe_to_retry) {
  auto token = login("admin@example.com", "admin-password-1");
  auto slicectl = "env -u SLICEGATE_SESSION " + test::slicectl_binary() + " --nats-url "
                  + servers.nats_url() + " --timeout 30s --session " + token + " ";
  // Without --wait: what the daemon answered, the new slices still being made.
  auto first = json::parse(
    test::capture(slicectl + "--json slices create --count 2 --idempotency-key nightly-7"));
  BOOST_REQUIRE_EQUAL(first["slices"].size(), 2u);
  BOOST_CHECK_EQUAL(first["slices"][0]["status"], "destroying");
  // The retry, waiting this time: the same two slices, ready.
  auto again = json::parse(test::capture(
    slicectl + "--json slices create --count 2 --idempotency-key nightly-7 --wait"));
  BOOST_REQUIRE_EQUAL(again["slices"].size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    BOOST_CHECK_EQUAL(again["slices"][i]["id"], first["slices"][i]["id"]);
    BOOST_CHECK_NE(again["slices"][i]["status"], "destroying");
  }
  BOOST_CHECK_EQUAL(test::scalar(servers.database_url(), "SELECT count(*) FROM gateway.slices"),
                    2);
  // A wait that gives up says so, with its own exit code; the slices exist all the same.
  auto gave_up = test::run(slicectl + "slices create --count 3 --wait --wait-timeout 1ms 2>"
                           + servers.dir() + "/wait.err >/dev/null");
  BOOST_CHECK_EQUAL(gave_up, 3);
  auto message = test::capture("cat " + servers.dir() + "/wait.err");
  BOOST_CHECK_MESSAGE(message.find("gave up waiting") != std::string::npos
                        && message.find("destroying") != std::string::npos,
                      message);
  BOOST_CHECK_EQUAL(test::scalar(servers.database_url(), "SELECT count(*) FROM gateway.slices"),
                    5);
}

BOOST_AUTO_TEST_SUITE_END()
