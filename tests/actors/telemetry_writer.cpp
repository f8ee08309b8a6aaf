#define BOOST_TEST_MODULE telemetry_writer
#include "actors/telemetry_writer.hpp"

#include <chrono>
#include <memory>
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

/// The mocked persistence: what it was asked to write, and how it answers.
struct store_world {
  /// While set, every write fails with this error.
  caf::error failure;
  std::vector<std::vector<telemetry_sample>> inserts;
  std::vector<std::vector<db::slice_health_row>> updates;
  std::vector<std::vector<server_sample>> server_inserts;
  std::vector<std::vector<events::slice_alert>> alert_inserts;

  /// Slice ids of every sample written, in order.
  std::vector<int32_t> written_ids() const {
    std::vector<int32_t> result;
    for (auto& batch : inserts)
      for (auto& s : batch)
        result.push_back(s.slice_id);
    return result;
  }
};

using world_ptr = std::shared_ptr<store_world>;

telemetry_store_actor::behavior_type mock_store(telemetry_store_actor::pointer, world_ptr w) {
  return {
    [w](db::insert_telemetry& x) -> caf::result<int64_t> {
      if (w->failure)
        return w->failure;
      w->inserts.push_back(x.samples);
      return static_cast<int64_t>(x.samples.size());
    },
    [w](db::update_slice_health& x) -> caf::result<int64_t> {
      if (w->failure)
        return w->failure;
      w->updates.push_back(x.rows);
      return static_cast<int64_t>(x.rows.size());
    },
    [w](db::insert_server_samples& x) -> caf::result<int64_t> {
      if (w->failure)
        return w->failure;
      w->server_inserts.push_back(x.samples);
      return static_cast<int64_t>(x.samples.size());
    },
    [w](admin::insert_alerts& x) -> caf::result<int64_t> {
      if (w->failure)
        return w->failure;
      w->alert_inserts.push_back(x.alerts);
      return static_cast<int64_t>(x.alerts.size());
    },
  };
}

telemetry_sample sample(int32_t slice_id) {
  telemetry_sample x;
  x.slice_id = slice_id;
  x.at = timestamp{std::chrono::seconds{1'800'000'000 + slice_id}};
  x.wa_state = "CONNECTED";
  return x;
}

db::slice_health_row row(int32_t slice_id, bool healthy) {
  db::slice_health_row x;
  x.slice_id = slice_id;
  x.healthy = healthy;
  return x;
}

struct fixture : test::deterministic_system {
  world_ptr w = std::make_shared<store_world>();
  telemetry_writer_config config;
  telemetry_store_actor store;
  telemetry_writer_actor writer;

  fixture() {
    config.batch_size = 3;
    config.flush_interval = 1s;
    config.max_buffered = 5;
    config.max_server_buffered = 2;
    config.max_backoff = 4s;
  }

  void start() {
    store = spawn(mock_store, w);
    writer = spawn(telemetry_writer, store, config);
    run();
  }

  void send_samples(int32_t first, int32_t last) {
    for (auto id = first; id <= last; ++id)
      caf::anon_send(writer, sample(id));
    run();
  }

  void tick() {
    advance(config.flush_interval);
  }

  telemetry::writer_stats stats() {
    return test::must<telemetry::writer_stats>(sys, writer, caf::infinite, stats_atom_v);
  }

  caf::expected<telemetry::writer_stats> flush() {
    return test::ask<telemetry::writer_stats>(sys, writer, caf::infinite, flush_atom_v);
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(telemetry_writer_tests, fixture)

BOOST_AUTO_TEST_CASE(a_full_batch_is_written_at_once) {
  start();
  send_samples(1, 3);
  BOOST_REQUIRE_EQUAL(w->inserts.size(), 1u);
  BOOST_TEST(w->inserts[0].size() == 3u);
  BOOST_TEST(stats().samples_written == 3);
}

BOOST_AUTO_TEST_CASE(a_partial_batch_waits_for_the_flush_interval) {
  start();
  send_samples(1, 2);
  BOOST_TEST(w->inserts.empty());
  tick();
  BOOST_REQUIRE_EQUAL(w->inserts.size(), 1u);
  BOOST_TEST(w->written_ids() == (std::vector<int32_t>{1, 2}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(slice_rows_keep_only_the_newest_per_slice) {
  start();
  caf::anon_send(writer, row(1, false));
  caf::anon_send(writer, row(2, true));
  caf::anon_send(writer, row(1, true));
  caf::anon_send(writer, server_sample{});
  run();
  tick();
  BOOST_REQUIRE_EQUAL(w->updates.size(), 1u);
  auto& rows = w->updates[0];
  BOOST_REQUIRE_EQUAL(rows.size(), 2u);
  BOOST_TEST(rows[0].slice_id == 1);
  BOOST_TEST(rows[0].healthy);
  BOOST_TEST(rows[1].slice_id == 2);
  BOOST_TEST(w->server_inserts.size() == 1u);
}

BOOST_AUTO_TEST_CASE(an_outage_keeps_the_newest_samples_and_writes_them_later) {
  start();
  w->failure = make_error(ec::unavailable, "database down");
  send_samples(1, 3); // a full batch: the write fails, the samples stay
  BOOST_TEST(w->inserts.empty());
  send_samples(4, 8); // beyond five, the oldest go
  caf::anon_send(writer, row(1, true));
  caf::anon_send(writer, server_sample{});
  caf::anon_send(writer, server_sample{});
  caf::anon_send(writer, server_sample{});
  run();
  auto s = stats();
  BOOST_TEST(s.samples_dropped == 4);
  BOOST_TEST(s.samples_buffered == 7); // five samples and two host samples
  BOOST_TEST(s.slice_rows_buffered == 1);
  BOOST_TEST(s.failed_writes >= 1);
  w->failure = caf::error{};
  // The back-off (at most 4 s) passes, then everything goes out.
  for (int i = 0; i < 5; ++i)
    tick();
  BOOST_TEST(w->written_ids() == (std::vector<int32_t>{4, 5, 6, 7, 8}),
             boost::test_tools::per_element());
  BOOST_TEST(w->server_inserts.size() >= 1u);
  BOOST_TEST(w->updates.size() == 1u);
  s = stats();
  BOOST_TEST(s.samples_buffered == 0);
  BOOST_TEST(s.slice_rows_buffered == 0);
  BOOST_TEST(s.samples_written == 5);
  BOOST_TEST(s.server_samples_written == 2);
}

BOOST_AUTO_TEST_CASE(alerts_are_logged_in_order_and_kept_through_an_outage) {
  start();
  w->failure = make_error(ec::unavailable, "database down");
  auto alert = [](int32_t slice_id, events::alert_kind kind) {
    return events::slice_alert{slice_id, timestamp{std::chrono::seconds{1'800'000'000}}, kind,
                               "detail"};
  };
  caf::anon_send(writer, alert(1, events::alert_kind::unhealthy));
  caf::anon_send(writer, alert(2, events::alert_kind::memory_high));
  run();
  tick();
  BOOST_TEST(w->alert_inserts.empty());
  caf::anon_send(writer, alert(1, events::alert_kind::recovered));
  run();
  w->failure = caf::error{};
  for (int i = 0; i < 5; ++i)
    tick();
  std::vector<events::slice_alert> written;
  for (auto& batch : w->alert_inserts)
    written.insert(written.end(), batch.begin(), batch.end());
  BOOST_REQUIRE_EQUAL(written.size(), 3u);
  BOOST_TEST((written[0] == alert(1, events::alert_kind::unhealthy)));
  BOOST_TEST((written[1] == alert(2, events::alert_kind::memory_high)));
  BOOST_TEST((written[2] == alert(1, events::alert_kind::recovered)));
}

BOOST_AUTO_TEST_CASE(a_batch_the_database_refuses_is_dropped) {
  start();
  w->failure = make_error(ec::invalid_request, "foreign key");
  send_samples(1, 3);
  w->failure = caf::error{};
  tick();
  BOOST_TEST(w->inserts.empty());
  auto s = stats();
  BOOST_TEST(s.samples_dropped == 3);
  BOOST_TEST(s.samples_buffered == 0);
}

BOOST_AUTO_TEST_CASE(flush_answers_once_everything_is_written) {
  start();
  send_samples(1, 7);
  auto s = flush();
  BOOST_REQUIRE_MESSAGE(s, test::describe(s));
  BOOST_TEST(s->samples_written == 7);
  BOOST_TEST(s->samples_buffered == 0);
  BOOST_TEST(w->inserts.size() == 3u);
}

BOOST_AUTO_TEST_CASE(flush_fails_while_the_database_is_down) {
  start();
  send_samples(1, 1);
  w->failure = make_error(ec::unavailable, "database down");
  auto s = flush();
  BOOST_REQUIRE(!s);
  BOOST_TEST(to_string(code_of(s.error())) == to_string(ec::unavailable));
}

BOOST_AUTO_TEST_SUITE_END()
