#define BOOST_TEST_MODULE failover
#include <boost/test/unit_test.hpp>

// Two slicegate instances on one database and one NATS server, and one of them killed with
// SIGKILL in the middle of 200 signups and 200 payment events: every user gets exactly one
// slice, every event is applied once, the survivor takes the singleton lease and all watch
// shards within 15 s, no slice is sampled twice in one health interval or misses more than two
// samples in a row, and when the killed instance comes back the shards are shared again.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <map>
#include <mutex>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/daemon_fixture.hpp"
#include "tests/support/fake_fleet.hpp"
#include "tests/support/sql.hpp"
#include "tests/support/stripe_events.hpp"

using namespace slicegate;
using namespace std::chrono_literals;
namespace fx = slicegate::test::stripe;
using nlohmann::json;
using steady = std::chrono::steady_clock;

namespace {

constexpr int users = 200;
constexpr int shard_count = 64;
constexpr auto health_interval = 5s;
constexpr int64_t t0 = 1'795'536'461;

std::vector<std::string> instance_args(test::servers& servers) {
  auto args = test::daemon_args(servers);
  args.push_back("--health-interval=5s");
  args.push_back("--member-timeout=2s");
  args.push_back("--watch-sync-interval=2s");
  args.push_back("--watch-shards=" + std::to_string(shard_count));
  return args;
}

/// The service id a daemon logged when it began to serve.
std::string id_of(const test::daemon& d) {
  static const std::regex serves{R"(serves on \S+ as (\S+))"};
  std::smatch m;
  auto log = d.log();
  return std::regex_search(log, m, serves) ? m[1].str() : std::string{};
}

std::string started(test::daemon& d) {
  BOOST_REQUIRE_MESSAGE(test::eventually([&] { return !id_of(d).empty(); }, 30s), d.log());
  return id_of(d);
}

struct fixture {
  test::servers& servers = test::shared_servers();
  std::string url;

  fixture() {
    servers.reset_database();
    url = servers.database_url();
  }

  /// The watch shards each live instance says it holds.
  std::map<std::string, std::vector<int>> shards() {
    std::map<std::string, std::vector<int>> result;
    for (auto row : test::sql(url, "SELECT service_id, array_to_string(shards, ',') "
                                   "FROM gateway.instances "
                                   "WHERE seen_at > now() - interval '2 seconds'")) {
      auto& list = result[row[0].as<std::string>()];
      auto text = row[1].as<std::string>();
      for (size_t i = 0; i < text.size();) {
        auto j = text.find(',', i);
        list.push_back(std::stoi(text.substr(i, j - i)));
        i = j == std::string::npos ? text.size() : j + 1;
      }
    }
    return result;
  }

  /// Exactly `ids` are live, each holds some shards, and every shard is held by one of them.
  bool shared_by(const std::set<std::string>& ids) {
    auto now = shards();
    if (now.size() != ids.size())
      return false;
    std::multiset<int> all;
    for (auto& [id, list] : now) {
      if (ids.count(id) == 0 || list.empty())
        return false;
      all.insert(list.begin(), list.end());
    }
    if (all.size() != static_cast<size_t>(shard_count))
      return false;
    for (int s = 0; s < shard_count; ++s)
      if (all.count(s) != 1)
        return false;
    return true;
  }

  std::string holder() {
    auto rows = test::sql(url, "SELECT holder FROM gateway.leases WHERE name = 'singleton'");
    return rows.empty() ? std::string{} : rows[0][0].as<std::string>();
  }

  /// Each slice's samples since `since` (seconds since the epoch), in time order.
  std::map<int, std::vector<double>> samples(double since) {
    std::map<int, std::vector<double>> result;
    for (auto row : test::sql(url, "SELECT slice_id, extract(epoch FROM \"timestamp\") "
                                   "FROM gateway.telemetry WHERE \"timestamp\" >= to_timestamp("
                                     + std::to_string(since) + ") ORDER BY 2"))
      result[row[0].as<int>()].push_back(row[1].as<double>());
    return result;
  }

  double db_now() {
    return test::sql(url, "SELECT extract(epoch FROM now())")[0][0].as<double>();
  }
};

/// Signs `email` up, asking again after a lost reply: a signup whose reply died with an
/// instance may have been done (the e-mail is then taken).
bool sign_up(test::nats_client& client, const std::string& email) {
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto r = client.request("gateway.auth.signup",
                            json{{"email", email}, {"password", "password-1"}}, 10s);
    if (r.ok() && (r.error_code().empty() || (attempt > 0 && r.error_code() == "conflict")))
      return true;
    if (r.ok())
      return false;
  }
  return false;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(failover, fixture)

BOOST_AUTO_TEST_CASE(a_killed_instance_loses_nothing_and_its_work_moves_to_the_survivor) {
  test::nats_client client{servers.nats_url()};
  client.subscribe("gateway.user.slice.>");
  std::optional<test::daemon> first{instance_args(servers)};
  auto first_id = started(*first);
  // Slices enough for every user, healthy: rows whose ports a fleet of stand-ins serves, as
  // the external runtime allows.
  test::fake_fleet fleet{users + 20, 20000};
  BOOST_REQUIRE_EQUAL(fleet.ports().size(), static_cast<size_t>(users + 20));
  std::string ports;
  for (auto port : fleet.ports())
    ports += (ports.empty() ? "" : ",") + std::to_string(port);
  test::sql(url, "INSERT INTO gateway.slices (port, status) SELECT p, 'available' "
                 "FROM unnest('{" + ports + "}'::integer[]) AS p");
  std::optional<test::daemon> second{instance_args(servers)};
  auto second_id = started(*second);
  BOOST_REQUIRE_MESSAGE(test::eventually([&] { return shared_by({first_id, second_id}); }, 30s),
                        "the shards are not shared");
  BOOST_REQUIRE(test::eventually([&] { return !holder().empty(); }, 10s));
  // Let both write telemetry for a while before the kill.
  std::this_thread::sleep_for(3 * health_interval);
  auto since = db_now() - 2;

  // The lease holder dies half-way through the signups.
  auto& victim = holder() == first_id ? first : second;
  auto survivor_id = holder() == first_id ? second_id : first_id;
  auto hash_payments = [&](int i) {
    auto n = std::to_string(i);
    client.js_publish("gateway.events.payment",
                      fx::event("evt_fo_pay_" + n, "checkout.session.completed", t0 + i,
                                fx::checkout("cus_fo_" + n, std::nullopt,
                                             "fo" + n + "@example.com", "sub_fo_" + n))
                        .dump());
  };
  std::atomic<bool> killed{false};
  steady::time_point kill_at;
  std::optional<steady::duration> first_served;
  std::optional<steady::duration> lease_taken;
  std::optional<steady::duration> shards_taken;
  std::thread observer;
  int signed_up = 0;
  for (int i = 0; i < users; ++i) {
    if (i == users / 2) {
      victim->kill();
      kill_at = steady::now();
      killed = true;
      observer = std::thread{[&] {
        while (steady::now() - kill_at < 30s && !(lease_taken && shards_taken)) {
          if (!lease_taken && holder() == survivor_id)
            lease_taken = steady::now() - kill_at;
          if (!shards_taken && shared_by({survivor_id}))
            shards_taken = steady::now() - kill_at;
          std::this_thread::sleep_for(50ms);
        }
      }};
    }
    auto email = "fo" + std::to_string(i) + "@example.com";
    if (sign_up(client, email)) {
      ++signed_up;
      if (killed && !first_served)
        first_served = steady::now() - kill_at;
    } else {
      BOOST_ERROR("signup of " << email << " failed");
    }
    hash_payments(i);
  }
  observer.join();
  BOOST_CHECK_EQUAL(signed_up, users);
  BOOST_REQUIRE_MESSAGE(lease_taken, "the survivor did not take the lease");
  BOOST_REQUIRE_MESSAGE(shards_taken, "the survivor did not take every shard");
  BOOST_REQUIRE(first_served);
  auto ms = [](steady::duration d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  };
  BOOST_TEST_MESSAGE("after SIGKILL: first request served in " << ms(*first_served)
                     << " ms, lease taken in " << ms(*lease_taken) << " ms, all shards in "
                     << ms(*shards_taken) << " ms");
  BOOST_CHECK(*lease_taken < 15s);
  BOOST_CHECK(*shards_taken < 15s);

  // Every user has exactly one slice, and no slice two users.
  auto assigned = [&] {
    return test::scalar(url, "SELECT count(*) FROM gateway.users u JOIN gateway.slices s "
                             "ON s.user_id = u.id WHERE u.email LIKE 'fo%@example.com'");
  };
  BOOST_CHECK_MESSAGE(test::eventually([&] { return assigned() == users; }, 60s),
                      "assigned " << assigned() << " of " << users);
  BOOST_CHECK_EQUAL(test::scalar(url, "SELECT count(*) FROM gateway.users"), users);
  BOOST_CHECK_EQUAL(test::scalar(url, "SELECT count(DISTINCT user_id) FROM gateway.slices "
                                      "WHERE user_id IS NOT NULL"),
                    users);
  // No user was announced with two different slices.
  std::map<std::string, std::set<int>> announced;
  for (auto& m : client.messages()) {
    auto j = m.json();
    if (m.subject.rfind("gateway.user.slice.", 0) == 0 && j["slice"].is_object())
      announced[m.subject].insert(j["slice"]["id"].get<int>());
  }
  for (auto& [subject, slices] : announced)
    BOOST_CHECK_MESSAGE(slices.size() == 1, subject << " named " << slices.size() << " slices");
  BOOST_TEST_MESSAGE(announced.size() << " users announced with their slice");

  // Every payment event applied once, to its user.
  auto linked = [&] {
    return test::scalar(url, "SELECT count(*) FROM gateway.users "
                             "WHERE stripe_customer = 'cus_fo_' || substring(email from "
                             "'^fo([0-9]+)@')");
  };
  BOOST_CHECK_MESSAGE(test::eventually([&] { return linked() == users; }, 120s),
                      "linked " << linked() << " of " << users);
  BOOST_CHECK_EQUAL(test::scalar(url, "SELECT count(*) FROM gateway.billing_events"), users);
  BOOST_CHECK_EQUAL(test::scalar(url, "SELECT count(*) FROM gateway.billing_events "
                                      "WHERE applied_at IS NOT NULL"),
                    users);
  BOOST_CHECK_EQUAL(test::scalar(url, "SELECT count(*) FROM gateway.dead_letters"), 0);

  // The killed instance comes back: the shards are shared again.
  victim.emplace(instance_args(servers));
  auto back_at = steady::now();
  auto back_id = started(*victim);
  BOOST_REQUIRE_MESSAGE(test::eventually([&] { return shared_by({survivor_id, back_id}); }, 30s),
                        "the shards are not shared again");
  auto rebalanced = steady::now() - back_at;
  BOOST_TEST_MESSAGE("shards shared again " << ms(rebalanced) << " ms after the restart");
  BOOST_CHECK(rebalanced < 15s);
  std::this_thread::sleep_for(3 * health_interval);

  // Across the kill and the return: one sample per slice per interval, none missing more
  // than two in a row.
  auto interval = std::chrono::duration<double>(health_interval).count();
  auto until = db_now() - 2;
  int checked = 0;
  double shortest_all = 1e9;
  double longest_all = 0;
  for (auto& [slice, times] : samples(since)) {
    while (!times.empty() && times.back() > until)
      times.pop_back();
    if (times.size() < 2)
      continue;
    ++checked;
    double shortest = 1e9;
    double longest = 0;
    for (size_t k = 1; k < times.size(); ++k) {
      shortest = std::min(shortest, times[k] - times[k - 1]);
      longest = std::max(longest, times[k] - times[k - 1]);
    }
    shortest_all = std::min(shortest_all, shortest);
    longest_all = std::max(longest_all, longest);
    BOOST_CHECK_MESSAGE(shortest > interval / 2,
                        "slice " << slice << " sampled twice within " << shortest << " s");
    BOOST_CHECK_MESSAGE(longest < 3.5 * interval,
                        "slice " << slice << " went " << longest << " s without a sample");
  }
  BOOST_CHECK_EQUAL(checked, users + 20);
  BOOST_TEST_MESSAGE("between two samples of one slice: at least " << shortest_all
                     << " s, at most " << longest_all << " s (interval " << interval << " s)");

  BOOST_CHECK_EQUAL(victim->stop(), 0);
  auto& other = &victim == &first ? second : first;
  BOOST_CHECK_EQUAL(other->stop(), 0);
}

BOOST_AUTO_TEST_CASE(a_database_restart_does_not_stop_the_watchers) {
  // The lease keeper's connection dies with the database; for up to member-timeout the lease
  // and the shards still count as held, so the slices stay watched and their health is still
  // published while the database is away.
  test::nats_client client{servers.nats_url()};
  auto args = test::daemon_args(servers);
  args.push_back("--health-interval=1s");
  args.push_back("--member-timeout=10s");
  args.push_back("--watch-sync-interval=1s");
  test::daemon d{args};
  started(d);
  test::fake_fleet fleet{10, 21000};
  BOOST_REQUIRE_EQUAL(fleet.ports().size(), 10u);
  std::string ports;
  for (auto port : fleet.ports())
    ports += (ports.empty() ? "" : ",") + std::to_string(port);
  test::sql(url, "INSERT INTO gateway.slices (port, status) SELECT p, 'available' "
                 "FROM unnest('{" + ports + "}'::integer[]) AS p");
  // Watched once the next sync has seen the rows.
  BOOST_REQUIRE_MESSAGE(test::eventually([&] { return fleet.ports_probed() == 10; }, 30s),
                        d.log());
  client.subscribe("gateway.slice.health.>");
  servers.stop_pg();
  auto before = fleet.total();
  std::this_thread::sleep_for(4s);
  auto during = fleet.total() - before;
  auto published = client.messages().size();
  servers.start_pg();
  BOOST_CHECK_MESSAGE(during >= 30, during << " probes in 4 s without the database");
  BOOST_CHECK_MESSAGE(published >= 30, published << " health events in 4 s without the database");
  BOOST_CHECK(d.log().find("gives up lease") == std::string::npos);
  // Once it is back, the lease is held again and the samples of the outage are written.
  BOOST_CHECK(test::eventually(
    [&] {
      try {
        return holder() == id_of(d);
      } catch (const std::exception&) {
        return false;
      }
    },
    30s));
  BOOST_CHECK_EQUAL(d.stop(), 0);
}

BOOST_AUTO_TEST_SUITE_END()
