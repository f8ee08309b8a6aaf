#define BOOST_TEST_MODULE retention
#include "actors/retention.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <caf/all.hpp>

#include "actors/actors.hpp"
#include "messages/error.hpp"
#include "tests/support/ask.hpp"
#include "tests/support/system.hpp"

using namespace slicegate;
using namespace std::chrono_literals;

namespace {

/// The mocked persistence: rows older than the cutoff it would delete, and what it was asked.
struct store_world {
  int64_t old_telemetry = 0;
  int64_t old_server_telemetry = 0;
  int64_t old_alerts = 0;
  int64_t old_dead_letters = 0;
  int64_t expired_sessions = 0;
  /// Fails the n-th telemetry batch (1-based) when set.
  int fail_batch = 0;
  /// Fails partition maintenance when set.
  bool fail_partitions = false;
  /// What `maintain_partitions` replies.
  db::partition_report partitions{4, 2, 0};
  /// The requests in the order they came: "partitions", "telemetry", "server", "alerts",
  /// "sessions".
  std::vector<std::string> order;
  std::vector<db::maintain_partitions> partition_requests;
  std::vector<db::prune_telemetry> telemetry_batches;
  std::vector<db::prune_server_telemetry> server_batches;
  std::vector<admin::prune_alerts> alert_batches;
  std::vector<admin::prune_dead_letters> dead_letter_batches;
  std::vector<db::delete_expired_sessions> session_requests;
};

using world_ptr = std::shared_ptr<store_world>;

int64_t take(int64_t& rows, int32_t batch) {
  auto n = std::min<int64_t>(rows, batch);
  rows -= n;
  return n;
}

pruner_actor::behavior_type mock_store(pruner_actor::pointer, world_ptr w) {
  return {
    [w](db::maintain_partitions& x) -> caf::result<db::partition_report> {
      w->order.push_back("partitions");
      w->partition_requests.push_back(x);
      if (w->fail_partitions)
        return make_error(ec::unavailable, "database down");
      return w->partitions;
    },
    [w](db::prune_telemetry& x) -> caf::result<int64_t> {
      w->order.push_back("telemetry");
      w->telemetry_batches.push_back(x);
      if (static_cast<int>(w->telemetry_batches.size()) == w->fail_batch)
        return make_error(ec::unavailable, "database down");
      return take(w->old_telemetry, x.batch);
    },
    [w](db::prune_server_telemetry& x) -> caf::result<int64_t> {
      w->order.push_back("server");
      w->server_batches.push_back(x);
      return take(w->old_server_telemetry, x.batch);
    },
    [w](admin::prune_alerts& x) -> caf::result<int64_t> {
      w->order.push_back("alerts");
      w->alert_batches.push_back(x);
      return take(w->old_alerts, x.batch);
    },
    [w](admin::prune_dead_letters& x) -> caf::result<int64_t> {
      w->dead_letter_batches.push_back(x);
      return take(w->old_dead_letters, x.batch);
    },
    [w](db::delete_expired_sessions& x) -> caf::result<int64_t> {
      w->order.push_back("sessions");
      w->session_requests.push_back(x);
      return std::exchange(w->expired_sessions, 0);
    },
  };
}

struct fixture : test::deterministic_system {
  world_ptr w = std::make_shared<store_world>();
  timestamp now = timestamp{std::chrono::hours{24 * 20000}};
  retention_config config;
  pruner_actor store;
  retention_actor pruner;

  fixture() {
    config.retention = std::chrono::hours{24 * 7};
    config.interval = 1h;
    config.session_max_age = std::chrono::hours{24 * 90};
    config.dead_letter_retention = std::chrono::hours{24 * 30};
    config.batch = 100;
  }

  void start() {
    store = spawn(mock_store, w);
    pruner = spawn(retention, config, store, [this] { return now; });
    run();
  }

  caf::expected<telemetry::retention_report> prune_now() {
    return test::ask<telemetry::retention_report>(sys, pruner, caf::infinite,
                                                  telemetry::prune_now{});
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(retention_tests, fixture)

BOOST_AUTO_TEST_CASE(a_pass_at_start_deletes_in_batches_until_one_comes_back_short) {
  w->old_telemetry = 250;
  w->old_server_telemetry = 100;
  w->old_alerts = 30;
  w->old_dead_letters = 120;
  w->expired_sessions = 7;
  start();
  // 100 + 100 + 50: the short third batch ends it.
  BOOST_REQUIRE_EQUAL(w->telemetry_batches.size(), 3u);
  auto cutoff = now - std::chrono::hours{24 * 7};
  for (auto& b : w->telemetry_batches) {
    BOOST_TEST((b.cutoff == cutoff));
    BOOST_TEST(b.batch == 100);
  }
  // A full batch may hide more: an empty one confirms.
  BOOST_TEST(w->server_batches.size() == 2u);
  BOOST_REQUIRE_EQUAL(w->alert_batches.size(), 1u);
  BOOST_TEST((w->alert_batches[0].cutoff == cutoff));
  BOOST_TEST(w->old_alerts == 0);
  // Dead letters keep their own, longer period.
  BOOST_REQUIRE_EQUAL(w->dead_letter_batches.size(), 2u);
  BOOST_TEST((w->dead_letter_batches[0].cutoff == now - std::chrono::hours{24 * 30}));
  BOOST_TEST(w->old_dead_letters == 0);
  BOOST_REQUIRE_EQUAL(w->session_requests.size(), 1u);
  BOOST_TEST((w->session_requests[0].now == now));
  BOOST_TEST((w->session_requests[0].max_age == config.session_max_age));
  BOOST_TEST(w->old_telemetry == 0);
  BOOST_TEST(w->expired_sessions == 0);
}

BOOST_AUTO_TEST_CASE(passes_repeat_every_interval) {
  start();
  BOOST_TEST(w->session_requests.size() == 1u);
  w->old_telemetry = 30;
  now += 1h;
  advance(config.interval);
  BOOST_TEST(w->session_requests.size() == 2u);
  BOOST_TEST(w->old_telemetry == 0);
  BOOST_TEST((w->telemetry_batches.back().cutoff == now - config.retention));
}

BOOST_AUTO_TEST_CASE(prune_now_reports_what_it_deleted) {
  start();
  w->old_telemetry = 120;
  w->old_server_telemetry = 3;
  w->old_alerts = 4;
  w->expired_sessions = 2;
  auto report = prune_now();
  BOOST_REQUIRE(report);
  BOOST_TEST(report->alerts == 4);
  BOOST_TEST(report->telemetry == 120);
  BOOST_TEST(report->server_telemetry == 3);
  BOOST_TEST(report->sessions == 2);
}

BOOST_AUTO_TEST_CASE(a_failed_batch_ends_the_pass_and_the_next_one_resumes) {
  w->old_telemetry = 250;
  w->fail_batch = 2;
  start();
  BOOST_TEST(w->telemetry_batches.size() == 2u);
  BOOST_TEST(w->session_requests.empty());
  BOOST_TEST(w->old_telemetry == 150);
  auto report = prune_now();
  BOOST_REQUIRE(report);
  BOOST_TEST(report->telemetry == 150);
  BOOST_TEST(w->session_requests.size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_pass_first_makes_partitions_ahead_and_drops_old_ones) {
  config.partitions_ahead = 5;
  w->old_telemetry = 30;
  start();
  BOOST_REQUIRE_EQUAL(w->partition_requests.size(), 1u);
  auto& x = w->partition_requests[0];
  BOOST_TEST((x.now == now));
  BOOST_TEST(x.days_ahead == 5);
  BOOST_TEST((x.cutoff == now - config.retention));
  // Whole days go first; the batches then only see the boundary day.
  std::vector<std::string> expected{"partitions", "telemetry", "server", "alerts", "sessions"};
  BOOST_TEST(w->order == expected, boost::test_tools::per_element());
  // Every pass, with the clock.
  now += 1h;
  advance(config.interval);
  BOOST_REQUIRE_EQUAL(w->partition_requests.size(), 2u);
  BOOST_TEST((w->partition_requests[1].now == now));
}

BOOST_AUTO_TEST_CASE(prune_now_reports_the_partitions) {
  start();
  w->partitions = db::partition_report{1, 3, 1};
  auto report = prune_now();
  BOOST_REQUIRE(report);
  BOOST_TEST(report->partitions_created == 1);
  BOOST_TEST(report->partitions_dropped == 3);
}

BOOST_AUTO_TEST_CASE(failed_partition_maintenance_ends_the_pass_and_the_next_one_retries) {
  w->fail_partitions = true;
  w->old_telemetry = 30;
  start();
  BOOST_TEST(w->partition_requests.size() == 1u);
  BOOST_TEST(w->telemetry_batches.empty());
  BOOST_TEST(w->session_requests.empty());
  BOOST_TEST(!prune_now());
  w->fail_partitions = false;
  auto report = prune_now();
  BOOST_REQUIRE(report);
  BOOST_TEST(report->telemetry == 30);
  BOOST_TEST(report->partitions_dropped == 2);
}

BOOST_AUTO_TEST_SUITE_END()
