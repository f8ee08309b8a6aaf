#define BOOST_TEST_MODULE node
#include <boost/test/unit_test.hpp>

// The node against a real PostgreSQL and nats-server: every component is supervised, a
// component killed from outside either comes back (restart policy) or makes the node escalate
// (the daemon then exits non-zero), and a SIGTERM stops the real daemon in order: no event
// acknowledged that was not committed, buffered telemetry written when the database answers
// again within the shutdown grace.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "actors/hasher.hpp"
#include "app/node.hpp"
#include "app/settings.hpp"
#include "tests/support/nats_client.hpp"
#include "tests/support/servers.hpp"
#include "tests/support/sql.hpp"
#include "tests/support/system.hpp"

using namespace slicegate;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

/// Settings that point an in-process node at the test servers.
settings node_settings(test::servers& servers, const std::string& prefix) {
  settings s;
  s.database_url = servers.database_url();
  s.admin_database_url = servers.admin_database_url();
  s.slice_database_url = servers.slice_database_url();
  s.nats_url = servers.nats_url();
  s.subject_prefix = prefix;
  s.bcrypt_cost = 4;
  s.runtime = "external";
  s.data_root = servers.dir() + "/slices-" + prefix;
  s.shutdown_grace = 5s;
  return s;
}

/// An in-process node with its own actor system, and what it escalated.
struct running_node {
  test::system_config cfg;
  caf::actor_system sys{cfg};
  std::mutex mtx;
  std::vector<std::string> escalations;
  std::optional<node> n;

  running_node(const settings& s) {
    n.emplace(sys, make_node_config(s), [this](const std::string& why) {
      std::lock_guard<std::mutex> guard{mtx};
      escalations.push_back(why);
    });
    auto code = n->start([](caf::timespan) { return false; });
    BOOST_REQUIRE_EQUAL(code, 0);
  }

  ~running_node() {
    n->stop();
    sys.await_all_actors_done();
  }

  std::vector<std::string> escalated() {
    std::lock_guard<std::mutex> guard{mtx};
    return escalations;
  }
};

int next_prefix = 0;

struct fixture {
  test::servers& servers = test::shared_servers();
  test::nats_client client{servers.nats_url()};

  std::string prefix() {
    return "node" + std::to_string(++next_prefix);
  }

  int64_t scalar(const std::string& query) {
    return test::scalar(servers.database_url(), query);
  }

  int64_t scalar_or_zero(const std::string& query) {
    try {
      return scalar(query);
    } catch (const std::exception&) {
      return 0;
    }
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(node_tests, fixture)

BOOST_AUTO_TEST_CASE(every_component_is_supervised_in_spawn_order) {
  auto p = prefix();
  running_node r{node_settings(servers, p)};
  auto names = r.n->components();
  std::vector<std::string> expected{
    "persistence", "provisioner",    "lease",     "bridge",  "runtime", "janitor",  "prober",
    "telemetry-writer", "server-monitor", "retention", "slices",  "hasher", "sessions",
    "billing"};
  BOOST_CHECK(names == expected);
  for (auto& name : names)
    BOOST_CHECK_MESSAGE(r.n->component(name), name << " has no running handle");
  BOOST_CHECK(!r.n->component("nonexistent"));
  BOOST_CHECK(client.request(p + ".ping", std::string{"{}"}, 10s).ok());
}

BOOST_AUTO_TEST_CASE(a_killed_component_that_others_hold_makes_the_node_escalate) {
  for (auto name : {"persistence", "bridge", "runtime", "janitor", "prober", "telemetry-writer",
                    "slices", "hasher", "sessions", "billing"}) {
    BOOST_TEST_CONTEXT("component " << name) {
      running_node r{node_settings(servers, prefix())};
      auto victim = r.n->component(name);
      BOOST_REQUIRE(victim);
      caf::anon_send_exit(victim, caf::exit_reason::kill);
      BOOST_REQUIRE(test::eventually([&] { return !r.escalated().empty(); }, 10s));
      auto why = r.escalated();
      BOOST_CHECK_EQUAL(why.size(), 1u);
      BOOST_CHECK_MESSAGE(why.front().find(name) == 0, why.front());
    }
  }
}

BOOST_AUTO_TEST_CASE(a_killed_component_that_nobody_holds_is_restarted_and_works) {
  auto p = prefix();
  running_node r{node_settings(servers, p)};
  for (auto name : {"retention", "server-monitor"}) {
    BOOST_TEST_CONTEXT("component " << name) {
      auto before = r.n->component(name);
      BOOST_REQUIRE(before);
      caf::anon_send_exit(before, caf::exit_reason::kill);
      caf::actor after;
      BOOST_REQUIRE(test::eventually(
        [&] {
          after = r.n->component(name);
          return after && after != before;
        },
        10s));
    }
  }
  // The new retention actor answers; nothing escalated; requests are served throughout.
  caf::scoped_actor self{r.sys};
  bool pruned = false;
  self
    ->request(caf::actor_cast<retention_actor>(r.n->component("retention")), 30s,
              telemetry::prune_now{})
    .receive([&](telemetry::retention_report&) { pruned = true; },
             [&](caf::error& err) { BOOST_ERROR(caf::to_string(err)); });
  BOOST_CHECK(pruned);
  BOOST_CHECK(r.escalated().empty());
  BOOST_CHECK(client.request(p + ".ping", std::string{"{}"}, 10s).ok());
}

BOOST_AUTO_TEST_CASE(a_component_that_keeps_dying_escalates_past_its_restart_budget) {
  running_node r{node_settings(servers, prefix())};
  // Five restarts within 60 s are allowed; the sixth death escalates.
  for (int i = 0; i < 6; ++i) {
    caf::actor victim;
    BOOST_REQUIRE(
      test::eventually([&] { return bool(victim = r.n->component("retention")); }, 15s));
    caf::anon_send_exit(victim, caf::exit_reason::kill);
    if (i < 5)
      BOOST_REQUIRE(test::eventually(
        [&] {
          auto now = r.n->component("retention");
          return now && now != victim;
        },
        15s));
  }
  BOOST_REQUIRE(test::eventually([&] { return !r.escalated().empty(); }, 10s));
  BOOST_CHECK_MESSAGE(r.escalated().front().find("retention is down") == 0,
                      r.escalated().front());
}

BOOST_AUTO_TEST_CASE(
  sigterm_while_the_database_is_down_writes_buffered_samples_once_it_answers) {
  servers.reset_database();
  auto args = test::daemon_args(servers);
  args.push_back("--server-interval=500ms");
  args.push_back("--shutdown-grace=30s");
  test::daemon d{args};
  BOOST_REQUIRE_MESSAGE(
    test::eventually(
      [&] { return scalar_or_zero("SELECT count(*) FROM gateway.server_telemetry") > 0; }, 30s),
    d.log());
  servers.stop_pg();
  auto outage_began = std::time(nullptr);
  // Samples pile up in the writer while the database is gone.
  std::this_thread::sleep_for(3s);
  auto outage_ended = std::time(nullptr);
  std::thread later{[&] {
    std::this_thread::sleep_for(2s);
    servers.start_pg();
  }};
  auto code = d.stop(15, std::chrono::seconds{60});
  later.join();
  BOOST_CHECK_EQUAL(code, 0);
  auto written = scalar(
    "SELECT count(*) FROM gateway.server_telemetry WHERE \"timestamp\" >= to_timestamp("
    + std::to_string(outage_began) + ") AND \"timestamp\" <= to_timestamp("
    + std::to_string(outage_ended + 1) + ")");
  BOOST_CHECK_MESSAGE(written >= 3, "only " << written << " samples of the outage written:\n"
                                            << d.log());
}

BOOST_AUTO_TEST_CASE(sigterm_while_events_are_in_flight_acknowledges_only_what_committed) {
  servers.reset_database();
  constexpr int first = 100;
  constexpr int events = 300;
  auto args = test::daemon_args(servers);
  args.push_back("--event-ack-wait=2s");
  args.push_back("--lock-timeout=2s");
  std::optional<test::daemon> d;
  d.emplace(args);
  BOOST_REQUIRE_MESSAGE(client.request("gateway.ping", std::string{"{}"}, 30s).ok(), d->log());
  auto consumer = [&] {
    return client
      .request("$JS.API.CONSUMER.INFO.GATEWAY_EVENTS.slicegate_signup", std::string{})
      .json();
  };
  // Everything earlier tests left in the stream is acknowledged: acked counts start here.
  BOOST_REQUIRE(test::eventually([&] {
    auto info = consumer();
    return info.contains("num_pending") && info["num_pending"] == 0
           && info["num_ack_pending"] == 0;
  }));
  auto hash = bcrypt_hash("sigterm password", 12);
  BOOST_REQUIRE(hash);
  auto publish = [&](int from, int to) {
    for (int i = from; i < to; ++i)
      client.js_publish("gateway.events.signup",
                        json{{"id", "evt_sigterm_" + std::to_string(i)},
                             {"email", "sigterm" + std::to_string(i) + "@example.com"},
                             {"password_hash", *hash}}
                          .dump());
  };
  auto users = [&] {
    return scalar_or_zero("SELECT count(*) FROM gateway.users");
  };
  // The first events commit; then an operator's lock keeps the rest from committing while
  // they are in flight (a burst is applied in milliseconds, too fast to stop the daemon in
  // the middle of it by timing alone).
  publish(0, first);
  BOOST_REQUIRE_MESSAGE(test::eventually([&] { return users() == first; }, 60s), d->log());
  pqxx::connection blocker{servers.database_url()};
  pqxx::work lock{blocker};
  lock.exec("LOCK TABLE gateway.users IN SHARE MODE");
  publish(first, events);
  BOOST_REQUIRE(test::eventually([&] {
    auto info = consumer();
    return info["num_ack_pending"].get<int64_t>() > 0;
  }));
  BOOST_CHECK_EQUAL(d->stop(15, std::chrono::seconds{60}), 0);
  lock.abort();
  auto committed = users();
  BOOST_CHECK_EQUAL(committed, first);
  // Not one event acknowledged beyond what was committed: unacknowledged ones are
  // undelivered or delivered and pending.
  auto info = consumer();
  auto unacked = info["num_pending"].get<int64_t>() + info["num_ack_pending"].get<int64_t>();
  BOOST_CHECK_LE(events - unacked, committed);
  BOOST_CHECK_GE(unacked, events - first);
  // The next daemon takes up where this one stopped, and every event applies exactly once.
  d.emplace(args);
  BOOST_REQUIRE_MESSAGE(test::eventually([&] { return users() == events; }, 120s), d->log());
  BOOST_CHECK_EQUAL(scalar("SELECT count(*) FROM gateway.signup_events"), events);
  BOOST_CHECK_EQUAL(d->stop(), 0);
}

BOOST_AUTO_TEST_SUITE_END()

// -- no dangerous default ---------------------------------------------------------------------

namespace {

/// The test daemon's arguments with the process runtime and `slice_url` (none: not given).
std::vector<std::string> process_runtime_args(const std::optional<std::string>& slice_url) {
  std::vector<std::string> args;
  for (auto& arg : test::daemon_args(test::shared_servers()))
    if (arg.rfind("--slice-database-url=", 0) != 0 && arg.rfind("--runtime=", 0) != 0)
      args.push_back(arg);
  args.push_back("--runtime=process");
  args.push_back("--slice-command=/bin/true");
  if (slice_url)
    args.push_back("--slice-database-url=" + *slice_url);
  return args;
}

/// Runs the daemon until it exits by itself; returns its exit code and log.
std::pair<int, std::string> run_until_exit(const std::vector<std::string>& args) {
  test::daemon d{args};
  BOOST_CHECK(test::eventually([&] { return !d.running(); }, std::chrono::seconds{30}));
  return {d.stop(), d.log()};
}

} // namespace

BOOST_AUTO_TEST_CASE(slices_run_here_never_get_the_gateways_credentials) {
  auto& servers = test::shared_servers();
  // No slice URL: refused, saying what to set.
  auto [missing, missing_log] = run_until_exit(process_runtime_args(std::nullopt));
  BOOST_CHECK_EQUAL(missing, 2);
  BOOST_CHECK_MESSAGE(missing_log.find("slice-database-url is not set") != std::string::npos,
                      missing_log);
  // The gateway's own role, with another password or database: refused too.
  auto [same, same_log] = run_until_exit(process_runtime_args(servers.admin_database_url()));
  BOOST_CHECK_EQUAL(same, 2);
  BOOST_CHECK_MESSAGE(same_log.find("the gateway's own role") != std::string::npos, same_log);
  // Nothing was done on the way: no migration ran.
  BOOST_CHECK(same_log.find("applied migration") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_member_timeout_shorter_than_two_beats_is_refused) {
  auto& servers = test::shared_servers();
  auto args = test::daemon_args(servers);
  args.push_back("--lease-interval=1s");
  args.push_back("--member-timeout=1500ms");
  auto [code, log] = run_until_exit(args);
  BOOST_CHECK_EQUAL(code, 2);
  BOOST_CHECK_MESSAGE(log.find("member-timeout 1500ms is under two lease intervals")
                        != std::string::npos,
                      log);
  BOOST_CHECK(log.find("applied migration") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_nats_password_is_not_logged) {
  auto& servers = test::shared_servers();
  auto args = test::daemon_args(servers);
  // nats-server here takes any credentials: the URL carries a password all the same.
  auto url = servers.nats_url();
  auto with_password = "nats://svc:hunter2-secret@" + url.substr(url.find("://") + 3);
  for (auto& arg : args)
    if (arg.rfind("--nats-url=", 0) == 0)
      arg = "--nats-url=" + with_password;
  test::daemon d{args};
  test::nats_client client{url};
  auto first = client.request("gateway.session.resolve", nlohmann::json{{"session_id", "x"}},
                              std::chrono::seconds{30});
  BOOST_REQUIRE_MESSAGE(first.ok(), d.log());
  BOOST_CHECK_EQUAL(d.stop(), 0);
  auto log = d.log();
  BOOST_CHECK_MESSAGE(log.find("hunter2") == std::string::npos, log);
  BOOST_CHECK(log.find("svc:***@") != std::string::npos);
}
