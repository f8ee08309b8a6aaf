#define BOOST_TEST_MODULE instances
#include <boost/test/unit_test.hpp>

// Two slicegate daemons on one database and one NATS server, sharing the request queue group:
// what one instance revokes, the other refuses at once, although it had the session cached.
// Requests go to either instance, so every check is repeated until both were asked many times.

#include <chrono>
#include <csignal>
#include <map>
#include <optional>
#include <regex>
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

  /// The service id a daemon logged when it began to serve.
  static std::string id_of(const test::daemon& d) {
    static const std::regex serves{R"(serves on \S+ as (\S+))"};
    std::smatch m;
    auto log = d.log();
    return std::regex_search(log, m, serves) ? m[1].str() : std::string{};
  }

  /// Who holds the singleton lease, as recorded.
  std::string holder() {
    auto rows = test::sql(servers.database_url(),
                          "SELECT holder FROM gateway.leases WHERE name = 'singleton'");
    return rows.empty() ? std::string{} : rows[0][0].as<std::string>();
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

BOOST_AUTO_TEST_CASE(one_instance_holds_the_lease_and_hands_it_over_when_it_goes) {
  auto first_id = id_of(*daemon);
  auto second_id = id_of(*second);
  BOOST_REQUIRE(!first_id.empty() && !second_id.empty() && first_id != second_id);
  BOOST_REQUIRE(test::eventually([&] { return !holder().empty(); }, 10s));
  // The first one started first and took it; the second stands by.
  BOOST_REQUIRE_EQUAL(holder(), first_id);
  BOOST_CHECK(test::eventually(
    [&] { return second->log().find("slice-manager stands by") != std::string::npos; }, 10s));
  auto stats = client->request("$SRV.STATS.slicegate." + first_id, std::string{});
  BOOST_CHECK_MESSAGE(stats.body.find("held, term") != std::string::npos, stats.body);
  stats = client->request("$SRV.STATS.slicegate." + second_id, std::string{});
  BOOST_CHECK_MESSAGE(stats.body.find("standby, held by " + first_id) != std::string::npos,
                      stats.body);

  // A clean stop gives it back: the standby holds it within a second of the signal.
  auto signalled = std::chrono::steady_clock::now();
  ::kill(daemon->pid(), SIGTERM);
  BOOST_REQUIRE(test::eventually([&] { return holder() == second_id; }, 10s));
  auto handover = std::chrono::steady_clock::now() - signalled;
  BOOST_TEST_MESSAGE("clean handover after "
                     << std::chrono::duration_cast<std::chrono::milliseconds>(handover).count()
                     << " ms");
  BOOST_CHECK(handover < 1s);
  BOOST_CHECK_EQUAL(daemon->stop(), 0);
  BOOST_CHECK(test::eventually(
    [&] { return second->log().find("slice-manager takes over the pool") != std::string::npos; },
    10s));

  // Started again, the first stands by; killed, the holder's lease passes within 15 s.
  daemon.emplace(test::daemon_args(servers));
  BOOST_REQUIRE(test::eventually([&] { return !id_of(*daemon).empty(); }, 30s));
  auto third_id = id_of(*daemon);
  BOOST_CHECK_EQUAL(holder(), second_id);
  auto killed = std::chrono::steady_clock::now();
  second->kill();
  BOOST_REQUIRE(test::eventually([&] { return holder() == third_id; }, 20s));
  auto takeover = std::chrono::steady_clock::now() - killed;
  BOOST_TEST_MESSAGE("takeover after a kill: "
                     << std::chrono::duration_cast<std::chrono::milliseconds>(takeover).count()
                     << " ms");
  BOOST_CHECK(takeover < 15s);
  BOOST_CHECK_EQUAL(test::scalar(servers.database_url(),
                                 "SELECT term FROM gateway.leases WHERE name = 'singleton'"),
                    3);
}

BOOST_AUTO_TEST_CASE(ping_names_the_lease_and_the_watch_shards_of_every_instance) {
  // Once both have beaten, the shards are split between them, each holding some.
  auto split = [&] {
    client->clear();
    natsConnection_PublishRequestString(client->connection(), "$SRV.PING.slicegate",
                                        "test.instances", "");
    std::this_thread::sleep_for(500ms);
    std::map<std::string, json> metadata;
    for (auto& m : client->messages())
      if (m.subject == "test.instances")
        metadata[m.json().value("id", "")] = m.json().value("metadata", json::object());
    if (metadata.size() != 2)
      return false;
    int total = 0;
    int holders = 0;
    for (auto& [id, meta] : metadata) {
      auto shards = meta.value("watch_shards", std::string{});
      auto slash = shards.find('/');
      if (slash == std::string::npos || shards.substr(slash + 1) != "64"
          || meta.value("instances", std::string{}) != "2")
        return false;
      auto held = std::stoi(shards.substr(0, slash));
      if (held == 0)
        return false;
      total += held;
      auto lease = meta.value("lease_singleton", std::string{});
      holders += lease.rfind("held, term", 0) == 0 ? 1 : 0;
    }
    return total == 64 && holders == 1;
  };
  BOOST_CHECK(test::eventually(split, 20s));
}

BOOST_AUTO_TEST_CASE(a_second_process_runtime_instance_refuses_to_start) {
  std::vector<std::string> args;
  for (auto& arg : test::daemon_args(servers))
    if (arg.rfind("--slice-database-url=", 0) != 0 && arg.rfind("--runtime=", 0) != 0)
      args.push_back(arg);
  args.push_back("--runtime=process");
  args.push_back("--slice-command=/bin/true");
  args.push_back("--slice-database-url=postgresql://wa_slice@127.0.0.1:1/x");
  test::daemon third{args};
  BOOST_REQUIRE(test::eventually([&] { return !third.running(); }, 30s));
  BOOST_CHECK_EQUAL(third.stop(), 2);
  BOOST_CHECK_MESSAGE(third.log().find("another slicegate instance") != std::string::npos,
                      third.log());
}

BOOST_AUTO_TEST_SUITE_END()
