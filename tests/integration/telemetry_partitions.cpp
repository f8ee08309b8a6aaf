#define BOOST_TEST_MODULE telemetry_partitions
// The day partitions of gateway.telemetry and gateway.server_telemetry (migration 009,
// db::maintain_partitions, the retention actor) against a real PostgreSQL.

#include <algorithm>
#include <chrono>
#include <regex>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <caf/all.hpp>
#include <pqxx/pqxx>

#include "actors/actors.hpp"
#include "actors/retention.hpp"
#include "messages/error.hpp"
#include "persistence/detail/rows.hpp"
#include "persistence/persistence.hpp"
#include "persistence/sql_files.hpp"
#include "tests/support/ask.hpp"
#include "tests/support/printing.hpp"
#include "tests/support/servers.hpp"
#include "tests/support/sql.hpp"
#include "tests/support/system.hpp"

using namespace slicegate;
using namespace std::chrono_literals;

namespace {

constexpr auto day = std::chrono::hours{24};

/// A persistence actor on a freshly reset gateway database.
struct fixture {
  test::servers& servers = test::shared_servers();
  test::system_config cfg;
  caf::actor_system sys{cfg};
  persistence_actor db;
  std::vector<caf::actor> others;

  fixture() {
    servers.reset_database();
    persistence_config pc;
    pc.database_url = servers.database_url();
    db = sys.spawn<caf::detached>(persistence, pc);
  }

  ~fixture() {
    for (auto& x : others)
      caf::anon_send_exit(x, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(db, caf::exit_reason::user_shutdown);
    sys.await_all_actors_done();
  }

  template <class T, class Handle, class Request>
  caf::expected<T> ask(const Handle& dest, Request x, caf::timespan timeout = 60s) {
    return test::ask<T>(sys, dest, timeout, std::move(x));
  }

  std::vector<int32_t> migrate() {
    auto result = ask<std::vector<int32_t>>(db, db::migrate{});
    BOOST_REQUIRE_MESSAGE(result, "migrate failed: " << test::describe(result));
    return *result;
  }

  /// Applies the migrations numbered below `version` as the runner would (each in one
  /// transaction with its record): the schema as a deployment before `version` had it.
  void migrate_below(int32_t version) {
    static const std::regex pattern{R"(^migrations/([0-9]+)_([a-z0-9_]+)\.sql$)"};
    std::vector<std::tuple<int32_t, std::string, std::string>> files;
    for (auto& f : sql::files()) {
      std::cmatch m;
      if (std::regex_match(f.path, m, pattern) && std::stoi(m[1]) < version)
        files.emplace_back(std::stoi(m[1]), m[2], f.text);
    }
    std::sort(files.begin(), files.end());
    pqxx::connection conn{servers.database_url()};
    for (auto& [number, name, body] : files) {
      pqxx::work tx{conn};
      tx.exec(body);
      tx.exec_params("INSERT INTO gateway.schema_migrations (version, name) VALUES ($1, $2)",
                     number, name);
      tx.commit();
    }
  }

  pqxx::result sql(const std::string& text) {
    return test::sql(servers.database_url(), text);
  }

  int64_t count(const std::string& text) {
    return test::scalar(servers.database_url(), text);
  }

  std::string text(const std::string& query) {
    auto rows = sql(query);
    BOOST_REQUIRE(!rows.empty());
    return rows[0][0].is_null() ? "NULL" : rows[0][0].c_str();
  }

  /// `x` as a timestamptz literal.
  static std::string literal(timestamp x) {
    return "'" + detail::to_sql(x) + "'::timestamptz";
  }

  /// The name of `table`'s partition for the UTC day of `x`.
  std::string partition(const std::string& table, timestamp x) {
    return table + "_p"
           + text("SELECT to_char(" + literal(x) + " AT TIME ZONE 'UTC', 'YYYYMMDD')");
  }

  bool exists(const std::string& relation) {
    return text("SELECT to_regclass('gateway." + relation + "') IS NOT NULL") == "t";
  }

  /// Partitions of `table` whose index is missing from one of the table's indexes.
  int64_t partitions_without_an_index(const std::string& table) {
    return count("SELECT count(*) FROM pg_inherits p "
                 "CROSS JOIN pg_index pi "
                 "WHERE p.inhparent = 'gateway." + table + "'::regclass "
                 "AND pi.indrelid = 'gateway." + table + "'::regclass "
                 "AND NOT EXISTS (SELECT FROM pg_inherits ii JOIN pg_index ci "
                 "ON ci.indexrelid = ii.inhrelid "
                 "WHERE ii.inhparent = pi.indexrelid AND ci.indrelid = p.inhrelid)");
  }

  /// Rows of `table` stored outside the partition named after their UTC day.
  int64_t rows_in_the_wrong_partition(const std::string& table) {
    return count("SELECT count(*) FROM gateway." + table + " WHERE tableoid::regclass::text "
                 "<> 'gateway." + table + "_p' || to_char(\"timestamp\" AT TIME ZONE 'UTC', "
                 "'YYYYMMDD')");
  }

  /// Inserts 3 slices and, from `from` to `to`, one sample per slice and one host sample
  /// every `step_minutes`.
  void fill(timestamp from, timestamp to, int step_minutes) {
    sql("INSERT INTO gateway.slices (port) VALUES (5001), (5003), (5005)");
    auto series = "generate_series(" + literal(from) + ", " + literal(to) + ", interval '"
                  + std::to_string(step_minutes) + " minutes')";
    sql("INSERT INTO gateway.telemetry (slice_id, \"timestamp\", rss_bytes, wa_state, "
        "cpu_percent, disk_bytes) "
        "SELECT s.id, t, s.id * 1000, 'CONNECTED', 1.5, extract(epoch FROM t)::bigint "
        "FROM gateway.slices s CROSS JOIN " + series + " AS t");
    sql("INSERT INTO gateway.server_telemetry (\"timestamp\", ram_used_bytes, ram_total_bytes, "
        "swap_used_bytes, swap_total_bytes, cpu_percent, disk_used_bytes, disk_total_bytes, "
        "active_slices, total_slices) "
        "SELECT t, 1, 2, 3, 4, 5.5, 6, 7, 8, 9 FROM " + series + " AS t");
  }

  /// Every row of `table` in one digest, in the order of id.
  std::string digest(const std::string& table) {
    return text("SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM gateway." + table
                + " AS t");
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(telemetry_partitions_tests, fixture)

BOOST_AUTO_TEST_CASE(migration_009_partitions_existing_rows_in_place) {
  migrate_below(9);
  BOOST_REQUIRE_EQUAL(text("SELECT relkind FROM pg_class WHERE oid = 'gateway.telemetry'::regclass"),
                      "r");
  auto now = caf::make_timestamp();
  // Five days of rows, and one lonely day a month ago: a gap must not cost thirty partitions.
  fill(now - 5 * day, now, 7);
  sql("INSERT INTO gateway.telemetry (slice_id, \"timestamp\", wa_state) "
      "SELECT min(id), " + literal(now - 30 * day) + ", 'lonely' FROM gateway.slices");
  sql("INSERT INTO gateway.server_telemetry (\"timestamp\") VALUES (" + literal(now - 30 * day)
      + ")");
  auto rows = count("SELECT count(*) FROM gateway.telemetry");
  auto host_rows = count("SELECT count(*) FROM gateway.server_telemetry");
  auto before = digest("telemetry");
  auto host_before = digest("server_telemetry");
  auto last_id = count("SELECT max(id) FROM gateway.telemetry");
  BOOST_REQUIRE_GT(rows, 3000);

  // 009 and whatever came after it; nothing before it ran again.
  auto applied = migrate();
  BOOST_REQUIRE(!applied.empty());
  BOOST_CHECK_EQUAL(applied.front(), 9);

  for (auto table : {"telemetry", "server_telemetry"}) {
    BOOST_TEST_CONTEXT("gateway." << table) {
      BOOST_CHECK_EQUAL(text(std::string{"SELECT relkind FROM pg_class WHERE oid = 'gateway."}
                             + table + "'::regclass"),
                        "p");
      BOOST_CHECK(!exists(std::string{table} + "_unpartitioned"));
      BOOST_CHECK_EQUAL(rows_in_the_wrong_partition(table), 0);
      BOOST_CHECK_EQUAL(partitions_without_an_index(table), 0);
      // The lonely day has its partition, the days between it and the retention window none.
      BOOST_CHECK(exists(partition(table, now - 30 * day)));
      BOOST_CHECK(!exists(partition(table, now - 20 * day)));
      // The sequence went with the column, and the default still draws from it.
      BOOST_CHECK_EQUAL(text(std::string{"SELECT pg_get_serial_sequence('gateway."} + table
                             + "', 'id')"),
                        std::string{"gateway."} + table + "_id_seq");
      // Today and three days ahead, as the retention actor would make them.
      for (int d = 0; d <= 3; ++d)
        BOOST_CHECK_MESSAGE(exists(partition(table, now + d * day)), "day +" << d);
    }
  }
  // Every row is still there, unchanged.
  BOOST_CHECK_EQUAL(count("SELECT count(*) FROM gateway.telemetry"), rows);
  BOOST_CHECK_EQUAL(count("SELECT count(*) FROM gateway.server_telemetry"), host_rows);
  BOOST_CHECK_EQUAL(digest("telemetry"), before);
  BOOST_CHECK_EQUAL(digest("server_telemetry"), host_before);
  // Each partition's indexes: primary key, idx_telemetry_slice_time, idx_telemetry_time.
  BOOST_CHECK_EQUAL(count("SELECT count(*) FROM pg_index WHERE indrelid = 'gateway."
                          + partition("telemetry", now) + "'::regclass"),
                    3);
  // New rows continue the ids and still need their slice.
  auto id = count("INSERT INTO gateway.telemetry (slice_id) "
                  "SELECT min(id) FROM gateway.slices RETURNING id");
  BOOST_CHECK_GT(id, last_id);
  BOOST_CHECK_THROW(sql("INSERT INTO gateway.telemetry (slice_id) VALUES (4711)"),
                    pqxx::foreign_key_violation);
  // Deleting a slice still takes its samples along.
  sql("DELETE FROM gateway.slices WHERE id = (SELECT max(id) FROM gateway.slices)");
  BOOST_CHECK_EQUAL(count("SELECT count(*) FROM gateway.telemetry t WHERE NOT EXISTS "
                          "(SELECT FROM gateway.slices s WHERE s.id = t.slice_id)"),
                    0);
  // Applied once.
  BOOST_CHECK(migrate().empty());
}

BOOST_AUTO_TEST_CASE(a_fresh_database_gets_partitioned_tables_and_the_retention_window) {
  migrate();
  auto now = caf::make_timestamp();
  for (auto table : {"telemetry", "server_telemetry"})
    for (int d = -7; d <= 3; ++d)
      BOOST_CHECK_MESSAGE(exists(partition(table, now + d * day)), table << " day " << d);
  BOOST_CHECK(!exists(partition("telemetry", now - 8 * day)));
  BOOST_CHECK(!exists(partition("telemetry", now + 4 * day)));
}

BOOST_AUTO_TEST_CASE(maintenance_makes_partitions_ahead_and_inserts_find_them) {
  migrate();
  auto now = caf::make_timestamp();
  auto report = ask<db::partition_report>(db, db::maintain_partitions{now, 5, now - 7 * day});
  BOOST_REQUIRE_MESSAGE(report, "maintain failed: " << test::describe(report));
  // The migration made up to day +3: days +4 and +5 of both tables are new.
  BOOST_CHECK_EQUAL(report->created, 4);
  BOOST_CHECK_EQUAL(report->dropped, 0);
  for (auto table : {"telemetry", "server_telemetry"}) {
    BOOST_CHECK(exists(partition(table, now + 5 * day)));
    BOOST_CHECK(!exists(partition(table, now + 6 * day)));
    BOOST_CHECK_EQUAL(partitions_without_an_index(table), 0);
  }
  // Again: nothing to do.
  auto again = ask<db::partition_report>(db, db::maintain_partitions{now, 5, now - 7 * day});
  BOOST_REQUIRE(again);
  BOOST_CHECK_EQUAL(again->created, 0);
  // A sample five days ahead has its partition; one beyond has none and is refused.
  sql("INSERT INTO gateway.slices (port) VALUES (5001)");
  telemetry_sample ahead;
  ahead.slice_id = static_cast<int32_t>(count("SELECT min(id) FROM gateway.slices"));
  ahead.at = now + 5 * day;
  ahead.wa_state = "CONNECTED";
  BOOST_CHECK(ask<int64_t>(db, db::insert_telemetry{{ahead}}));
  ahead.at = now + 7 * day;
  test::check_fails(ask<int64_t>(db, db::insert_telemetry{{ahead}}), ec::invalid_request);
  // Nonsense is refused before it reaches the database.
  test::check_fails(ask<db::partition_report>(db, db::maintain_partitions{now, 400, now}),
                    ec::invalid_request);
  test::check_fails(ask<db::partition_report>(db, db::maintain_partitions{now, 3, now + day}),
                    ec::invalid_request);
}

BOOST_AUTO_TEST_CASE(two_maintainers_at_once_create_each_partition_once) {
  migrate();
  persistence_config pc;
  pc.database_url = servers.database_url();
  auto second = sys.spawn<caf::detached>(persistence, pc);
  others.push_back(caf::actor_cast<caf::actor>(second));
  auto now = caf::make_timestamp();
  caf::expected<db::partition_report> a{make_error(ec::unavailable, "not asked")};
  caf::expected<db::partition_report> b{make_error(ec::unavailable, "not asked")};
  std::thread t1{[&] { a = ask<db::partition_report>(db, db::maintain_partitions{now, 20, now}); }};
  std::thread t2{
    [&] { b = ask<db::partition_report>(second, db::maintain_partitions{now, 20, now}); }};
  t1.join();
  t2.join();
  BOOST_REQUIRE_MESSAGE(a && b, test::describe(a) << " / " << test::describe(b));
  // Days +4 to +20 of both tables, made by one or the other; none twice, no error.
  BOOST_CHECK_EQUAL(a->created + b->created, 2 * 17);
  // The cutoff `now` drops every day before today, in one of the two.
  BOOST_CHECK_EQUAL(a->dropped + b->dropped, 2 * 7);
}

BOOST_AUTO_TEST_CASE(retention_drops_old_day_partitions_and_trims_the_boundary_day) {
  migrate();
  auto now = caf::make_timestamp();
  auto cutoff = now - 7 * day;
  // Nine days of samples every 5 minutes; the days before the window need partitions first.
  sql("SELECT gateway.ensure_telemetry_partitions(t, " + literal(now - 9 * day) + ", "
      + literal(now) + ") "
      "FROM unnest(ARRAY['gateway.telemetry', 'gateway.server_telemetry']::regclass[]) AS t");
  fill(now - 9 * day, now, 5);
  auto kept = count("SELECT count(*) FROM gateway.telemetry WHERE \"timestamp\" >= "
                    + literal(cutoff));
  auto host_kept = count("SELECT count(*) FROM gateway.server_telemetry WHERE \"timestamp\" >= "
                         + literal(cutoff));
  // The rows of the cutoff's day before the cutoff: deleted row by row.
  auto trimmed = count("SELECT count(*) FROM gateway.telemetry WHERE \"timestamp\" < "
                       + literal(cutoff) + " AND \"timestamp\" >= date_trunc('day', "
                       + literal(cutoff) + ", 'UTC')");
  auto host_trimmed = count("SELECT count(*) FROM gateway.server_telemetry WHERE "
                            "\"timestamp\" < " + literal(cutoff)
                            + " AND \"timestamp\" >= date_trunc('day', " + literal(cutoff)
                            + ", 'UTC')");

  retention_config rc;
  rc.retention = 7 * day;
  rc.batch = 50; // several batches for the boundary day
  auto pruner = sys.spawn(retention, rc, db, clock_fn{[now] { return now; }});
  others.push_back(caf::actor_cast<caf::actor>(pruner));
  // Joins the pass the actor starts with.
  auto report = ask<telemetry::retention_report>(pruner, telemetry::prune_now{}, 120s);
  BOOST_REQUIRE_MESSAGE(report, "prune failed: " << test::describe(report));

  // Days -9 and -8 of both tables went whole; day -7 is the boundary day.
  BOOST_CHECK_EQUAL(report->partitions_dropped, 4);
  BOOST_CHECK_EQUAL(report->telemetry, trimmed);
  BOOST_CHECK_EQUAL(report->server_telemetry, host_trimmed);
  for (auto table : {"telemetry", "server_telemetry"}) {
    BOOST_TEST_CONTEXT("gateway." << table) {
      BOOST_CHECK(!exists(partition(table, now - 9 * day)));
      BOOST_CHECK(!exists(partition(table, now - 8 * day)));
      BOOST_CHECK(exists(partition(table, cutoff)));
      // Gone from the catalog and from the table's partitions alike.
      BOOST_CHECK_EQUAL(count(std::string{"SELECT count(*) FROM pg_inherits i "
                                          "JOIN pg_class c ON c.oid = i.inhrelid "
                                          "WHERE i.inhparent = 'gateway."}
                              + table + "'::regclass AND c.relname < '"
                              + partition(table, cutoff) + "'"),
                        0);
      BOOST_CHECK_EQUAL(count("SELECT count(*) FROM pg_class WHERE relname IN ('"
                              + partition(table, now - 9 * day) + "', '"
                              + partition(table, now - 8 * day) + "')"),
                        0);
      // Exactly seven days remain.
      BOOST_CHECK_EQUAL(text(std::string{"SELECT min(\"timestamp\") >= "} + literal(cutoff)
                             + " FROM gateway." + table),
                        "t");
      for (int d = 0; d <= 3; ++d)
        BOOST_CHECK_MESSAGE(exists(partition(table, now + d * day)), "day +" << d);
    }
  }
  BOOST_CHECK_EQUAL(count("SELECT count(*) FROM gateway.telemetry"), kept);
  BOOST_CHECK_EQUAL(count("SELECT count(*) FROM gateway.server_telemetry"), host_kept);
}

BOOST_AUTO_TEST_CASE(a_reader_holding_an_old_partition_delays_only_its_drop) {
  migrate();
  auto now = caf::make_timestamp();
  sql("SELECT gateway.ensure_telemetry_partitions('gateway.telemetry', "
      + literal(now - 9 * day) + ", " + literal(now) + ")");
  // A long report reads the table: the drop gives up after its lock timeout, nothing fails.
  pqxx::connection reader{servers.database_url()};
  pqxx::work hold{reader};
  hold.exec("SELECT count(*) FROM gateway.telemetry");
  auto report = ask<db::partition_report>(db, db::maintain_partitions{now, 3, now - 7 * day});
  BOOST_REQUIRE_MESSAGE(report, "maintain failed: " << test::describe(report));
  BOOST_CHECK_EQUAL(report->dropped, 0);
  BOOST_CHECK_EQUAL(report->busy, 2);
  BOOST_CHECK(exists(partition("telemetry", now - 9 * day)));
  hold.commit();
  report = ask<db::partition_report>(db, db::maintain_partitions{now, 3, now - 7 * day});
  BOOST_REQUIRE(report);
  BOOST_CHECK_EQUAL(report->dropped, 2);
  BOOST_CHECK(!exists(partition("telemetry", now - 9 * day)));
}

BOOST_AUTO_TEST_SUITE_END()
