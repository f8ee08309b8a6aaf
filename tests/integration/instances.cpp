#define BOOST_TEST_MODULE instances
#include <boost/test/unit_test.hpp>

// Two slicegate daemons on one database and one NATS server, sharing the request queue group:
// what one instance revokes, the other refuses at once, although it had the session cached.
// Requests go to either instance, so every check is repeated until both were asked many times.

#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include <nats/nats.h>
#include <nlohmann/json.hpp>

#include "tests/support/daemon_fixture.hpp"
#include "tests/support/sql.hpp"

using namespace slicegate;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

/// Requests per check: each instance answers about half, so both answer some.
constexpr int rounds = 30;

struct fixture : test::running_daemon {
  std::optional<test::daemon> second;

  fixture() {
    client->subscribe("test.instances");
    second.emplace(test::daemon_args(servers));
    // Both answer: two distinct instances reply to a ping.
    BOOST_REQUIRE_MESSAGE(test::eventually([&] { return instances() == 2; }, 30s),
                          second->log());
  }

  ~fixture() {
    if (second && second->running())
      BOOST_CHECK_EQUAL(second->stop(), 0);
  }

  /// How many instances answer `$SRV.PING.slicegate` within a short wait.
  size_t instances() {
    client->clear();
    natsConnection_PublishRequestString(client->connection(), "$SRV.PING.slicegate",
                                        "test.instances", "");
    std::this_thread::sleep_for(500ms);
    std::set<std::string> ids;
    for (auto& m : client->messages())
      if (m.subject == "test.instances")
        ids.insert(m.json().value("id", ""));
    return ids.size();
  }

  /// How many of `rounds` resolves of `token` succeed.
  int resolves(const std::string& token) {
    int ok = 0;
    for (int i = 0; i < rounds; ++i) {
      auto r = client->request("gateway.session.resolve", json{{"session_id", token}});
      ok += r.ok() && r.error_code().empty() ? 1 : 0;
    }
    return ok;
  }

  /// How many of `rounds` admin calls with `token` are served.
  int admin_calls(const std::string& token) {
    int ok = 0;
    for (int i = 0; i < rounds; ++i) {
      auto r = client->request("gateway.admin.overview", json{{"session_id", token}});
      ok += r.ok() && r.error_code().empty() ? 1 : 0;
    }
    return ok;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(instances, fixture)

BOOST_AUTO_TEST_CASE(a_logout_on_one_instance_is_refused_at_once_on_the_other) {
  auto r = client->request("gateway.auth.signup",
                           json{{"email", "two@example.com"}, {"password", "password-1"}});
  BOOST_REQUIRE_MESSAGE(r.error_code().empty(), r.body);
  auto token = login("two@example.com", "password-1");
  // Both instances cache the session.
  BOOST_REQUIRE_EQUAL(resolves(token), rounds);
  auto out = client->request("gateway.auth.logout", json{{"session_id", token}});
  BOOST_REQUIRE_MESSAGE(out.ok() && out.error_code().empty(), out.body);
  BOOST_CHECK_EQUAL(resolves(token), 0);
}

BOOST_AUTO_TEST_CASE(revocations_and_demotions_reach_every_instance) {
  auto admin = admin_token();
  // A second admin, whose rights the first withdraws.
  auto r = client->request("gateway.auth.signup",
                           json{{"email", "deputy@example.com"}, {"password", "password-1"}});
  BOOST_REQUIRE_MESSAGE(r.error_code().empty(), r.body);
  auto deputy_id = r.json()["user"]["id"].get<int>();
  auto promote = client->request("gateway.admin.users.update",
                                 json{{"session_id", admin}, {"user_id", deputy_id},
                                      {"is_admin", true}});
  BOOST_REQUIRE_MESSAGE(promote.error_code().empty(), promote.body);
  auto deputy = login("deputy@example.com", "password-1");
  auto other = login("deputy@example.com", "password-1");
  BOOST_REQUIRE_EQUAL(admin_calls(deputy), rounds);
  BOOST_REQUIRE_EQUAL(resolves(other), rounds);

  auto demote = client->request("gateway.admin.users.update",
                                json{{"session_id", admin}, {"user_id", deputy_id},
                                     {"is_admin", false}});
  BOOST_REQUIRE_MESSAGE(demote.error_code().empty(), demote.body);
  BOOST_CHECK_EQUAL(admin_calls(deputy), 0);
  BOOST_CHECK_EQUAL(resolves(deputy), rounds);

  auto revoke = client->request("gateway.admin.users.revoke_sessions",
                                json{{"session_id", admin}, {"user_id", deputy_id}});
  BOOST_REQUIRE_MESSAGE(revoke.error_code().empty(), revoke.body);
  BOOST_CHECK_EQUAL(resolves(deputy), 0);
  BOOST_CHECK_EQUAL(resolves(other), 0);
}

BOOST_AUTO_TEST_CASE(a_forged_announcement_only_costs_a_database_read) {
  auto r = client->request("gateway.auth.signup",
                           json{{"email", "forged@example.com"}, {"password", "password-1"}});
  BOOST_REQUIRE_MESSAGE(r.error_code().empty(), r.body);
  auto token = login("forged@example.com", "password-1");
  BOOST_REQUIRE_EQUAL(resolves(token), rounds);
  // Garbage, and an announcement naming the user: the session stays valid, read again.
  client->publish("gateway.internal.sessions.forget", std::string{"not json"});
  client->publish("gateway.internal.sessions.forget",
                  json{{"instance", "someone"}, {"users", {r.json()["user"]["id"]}},
                       {"sessions", {42, "x"}}}
                    .dump());
  BOOST_CHECK_EQUAL(resolves(token), rounds);
  BOOST_CHECK(daemon->running());
  BOOST_CHECK(second->running());
}

BOOST_AUTO_TEST_SUITE_END()
