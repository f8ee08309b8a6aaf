// What retention costs once telemetry is partitioned by day. In one run, the same 8 days of a
// fleet's samples (BENCH_SLICES slices, one sample every BENCH_INTERVAL seconds, filled with
// COPY) sit in
//   partitioned  gateway.telemetry as migration 009 makes it, one partition per UTC day;
//   heap         an unpartitioned copy shaped as before 009 (primary key on id, the same
//                indexes and foreign key), in schema bench;
// and the oldest day goes:
//   drop    db::maintain_partitions through the persistence actor: its partition is dropped;
//   delete  the pre-009 retention statement, 10,000 rows per transaction until a short batch.
// Meanwhile a writer thread COPYs batches of BENCH_BATCH samples into the same table every
// BENCH_PAUSE_MS, as the telemetry writer does, and its latencies are compared with a window
// of the same length without a prune.
//
// Environment: DATABASE_URL (scripts/bench.sh sets it; without it the binary starts its own
// servers), BENCH_SLICES (1000), BENCH_DAYS (8), BENCH_INTERVAL (60 s), BENCH_BATCH (500),
// BENCH_PAUSE_MS (50), BENCH_WINDOW (5 s, the baseline and drop windows).
// Prints the fill, both prunes and the writer's latencies, then
// `ratio: <writer p99 during the drop / writer p99 without a prune>` (target ≤ 1.5).

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <caf/all.hpp>
#include <pqxx/pqxx>

#include "actors/actors.hpp"
#include "bench/database.hpp"
#include "bench/request_load.hpp"
#include "messages/register.hpp"
#include "persistence/detail/rows.hpp"
#include "persistence/persistence.hpp"
#include "tests/support/servers.hpp"

using namespace slicegate;
using namespace std::chrono_literals;

namespace {

const std::vector<std::string> columns{"slice_id", "\"timestamp\"", "rss_bytes",
                                       "wa_state", "cpu_percent",   "disk_bytes"};

/// `t` (seconds since the epoch) as ISO 8601 UTC.
std::string iso(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

/// `days` whole UTC days before `midnight`, one sample per slice every `interval` seconds,
/// with one COPY per day.
int64_t fill(pqxx::connection& conn, const std::vector<int32_t>& slices, int days,
             std::time_t midnight, int interval) {
  int64_t rows = 0;
  for (int d = days; d > 0; --d) {
    pqxx::work tx{conn};
    pqxx::stream_to copy{tx, "gateway.telemetry", columns};
    auto first = midnight - static_cast<std::time_t>(d) * 86400;
    for (std::time_t t = first; t < first + 86400; t += interval) {
      auto when = iso(t);
      for (auto id : slices) {
        copy << std::make_tuple(id, when, int64_t{200'000'000} + (t * 7919 % 50'000'000),
                                "CONNECTED", (t % 100) / 10.0, int64_t{64'000'000} + id);
        ++rows;
      }
    }
    copy.complete();
    tx.commit();
  }
  return rows;
}

/// A writer thread: one COPY of `batch` samples stamped now into `table` every `pause`, until
/// stopped; the latencies of its COPYs.
class writer {
 public:
  writer(const std::string& url, std::string table, std::vector<int32_t> slices, int batch,
         std::chrono::milliseconds pause)
    : start_(bench::clock::now()),
      thread_([this, url, table = std::move(table), slices = std::move(slices), batch, pause] {
        pqxx::connection conn{url};
        size_t next = 0;
        while (!stop_) {
          auto when = iso(std::time(nullptr));
          auto sent = bench::clock::now();
          pqxx::work tx{conn};
          pqxx::stream_to copy{tx, table, columns};
          for (int i = 0; i < batch; ++i, ++next)
            copy << std::make_tuple(slices[next % slices.size()], when, int64_t{1},
                                    "CONNECTED", 0.5, int64_t{2});
          copy.complete();
          tx.commit();
          result_.latencies_us.push_back(
            std::chrono::duration<double, std::micro>(bench::clock::now() - sent).count());
          ++result_.ok;
          std::this_thread::sleep_for(pause);
        }
      }) {}

  /// Stops the thread; what it measured, sorted.
  bench::load_result finish() {
    stop_ = true;
    thread_.join();
    result_.seconds = std::chrono::duration<double>(bench::clock::now() - start_).count();
    std::sort(result_.latencies_us.begin(), result_.latencies_us.end());
    return result_;
  }

 private:
  std::atomic<bool> stop_{false};
  bench::load_result result_;
  bench::clock::time_point start_;
  std::thread thread_;
};

double seconds_since(bench::clock::time_point start) {
  return std::chrono::duration<double>(bench::clock::now() - start).count();
}

void run_sql(pqxx::connection& conn, const std::string& text) {
  pqxx::nontransaction tx{conn};
  tx.exec(text);
}

int64_t scalar(pqxx::connection& conn, const std::string& text) {
  pqxx::read_transaction tx{conn};
  return tx.exec1(text)[0].as<int64_t>();
}

void print_writer(const char* what, const bench::load_result& r) {
  std::printf("writer %-14s %s\n", what, bench::describe(r, "COPY/s").c_str());
}

} // namespace

int main() {
  auto slices_n = std::max(1, bench::env_int("BENCH_SLICES", 1000));
  auto days = std::max(2, bench::env_int("BENCH_DAYS", 8));
  auto interval = std::max(1, bench::env_int("BENCH_INTERVAL", 60));
  auto batch = std::max(1, bench::env_int("BENCH_BATCH", 500));
  auto pause = std::chrono::milliseconds{std::max(0, bench::env_int("BENCH_PAUSE_MS", 50))};
  auto window = std::chrono::seconds{std::max(2, bench::env_int("BENCH_WINDOW", 5))};
  bench::target_database target;
  bench::actor_config cfg;
  caf::actor_system sys{cfg};
  persistence_config pc;
  pc.database_url = target.url;
  auto db = sys.spawn<caf::detached>(persistence, pc);
  bench::migrate(sys, db);
  caf::scoped_actor self{sys};

  pqxx::connection conn{target.url};
  auto slices = bench::slice_rows(conn, slices_n);
  auto now = std::time(nullptr);
  auto midnight = now - now % 86400;
  auto oldest = midnight - static_cast<std::time_t>(days) * 86400;
  // The days before the retention window have no partitions yet.
  run_sql(conn, "TRUNCATE gateway.telemetry");
  run_sql(conn, "SELECT gateway.ensure_telemetry_partitions('gateway.telemetry', '"
                  + iso(oldest) + "', '" + iso(now) + "')");

  auto fill_start = bench::clock::now();
  auto rows = fill(conn, slices, days, midnight, interval);
  auto copy_seconds = seconds_since(fill_start);
  // The same rows in the shape gateway.telemetry had before migration 009.
  auto heap_start = bench::clock::now();
  run_sql(conn, "DROP SCHEMA IF EXISTS bench CASCADE");
  run_sql(conn, "CREATE SCHEMA bench");
  run_sql(conn, "CREATE TABLE bench.telemetry ("
                "id BIGSERIAL PRIMARY KEY, "
                "slice_id INTEGER NOT NULL REFERENCES gateway.slices (id) ON DELETE CASCADE, "
                "\"timestamp\" TIMESTAMPTZ NOT NULL DEFAULT now(), rss_bytes BIGINT, "
                "wa_state TEXT, cpu_percent NUMERIC, disk_bytes BIGINT)");
  run_sql(conn, "INSERT INTO bench.telemetry (slice_id, \"timestamp\", rss_bytes, wa_state, "
                "cpu_percent, disk_bytes) SELECT slice_id, \"timestamp\", rss_bytes, wa_state, "
                "cpu_percent, disk_bytes FROM gateway.telemetry ORDER BY \"timestamp\"");
  run_sql(conn, "CREATE INDEX ON bench.telemetry (slice_id, \"timestamp\" DESC)");
  run_sql(conn, "CREATE INDEX ON bench.telemetry (\"timestamp\")");
  auto heap_seconds = seconds_since(heap_start);
  run_sql(conn, "VACUUM ANALYZE gateway.telemetry");
  run_sql(conn, "VACUUM ANALYZE bench.telemetry");
  std::printf("fill: %lld rows (%d slices x %d days every %d s): COPY %.1f s, heap copy %.1f s\n",
              static_cast<long long>(rows), slices_n, days, interval, copy_seconds,
              heap_seconds);

  auto cutoff = oldest + 86400;
  auto day_rows = scalar(conn, "SELECT count(*) FROM gateway.telemetry WHERE \"timestamp\" < '"
                                 + iso(cutoff) + "'");

  // Without a prune.
  writer quiet{target.url, "gateway.telemetry", slices, batch, pause};
  std::this_thread::sleep_for(window);
  auto baseline = quiet.finish();

  // The oldest day's partition dropped, in the middle of a window as long.
  writer during_drop{target.url, "gateway.telemetry", slices, batch, pause};
  std::this_thread::sleep_for(window / 2);
  auto drop_start = bench::clock::now();
  int32_t dropped = 0;
  timestamp now_ts{std::chrono::seconds{now}};
  self
    ->request(db, 120s,
              db::maintain_partitions{now_ts, 3, timestamp{std::chrono::seconds{cutoff}}})
    .receive([&](db::partition_report& r) { dropped = r.dropped; },
             [](caf::error& err) {
               throw std::runtime_error("maintain failed: " + caf::to_string(err));
             });
  auto drop_seconds = seconds_since(drop_start);
  std::this_thread::sleep_for(window - window / 2);
  auto with_drop = during_drop.finish();
  // More than one with BENCH_DAYS < 8: the empty partitions migration 009 made for the
  // week before go too.
  if (dropped < 1)
    throw std::runtime_error("expected the oldest partition dropped, none was");

  // The same day deleted from the heap as retention did before 009, with the writer on the
  // heap.
  writer heap_quiet{target.url, "bench.telemetry", slices, batch, pause};
  std::this_thread::sleep_for(window);
  auto heap_baseline = heap_quiet.finish();
  writer during_delete{target.url, "bench.telemetry", slices, batch, pause};
  std::this_thread::sleep_for(window / 2);
  auto delete_start = bench::clock::now();
  int64_t deleted = 0;
  for (;;) {
    pqxx::work tx{conn};
    auto n = tx.exec_params("DELETE FROM bench.telemetry WHERE id IN (SELECT id "
                            "FROM bench.telemetry WHERE \"timestamp\" < $1::timestamptz "
                            "ORDER BY \"timestamp\" LIMIT 10000)",
                            iso(cutoff))
               .affected_rows();
    tx.commit();
    deleted += static_cast<int64_t>(n);
    if (n < 10000)
      break;
  }
  auto delete_seconds = seconds_since(delete_start);
  std::this_thread::sleep_for(window - window / 2);
  auto with_delete = during_delete.finish();
  caf::anon_send_exit(db, caf::exit_reason::user_shutdown);

  std::printf("oldest day: %lld rows\n", static_cast<long long>(day_rows));
  std::printf("drop   %9.3f s  (1 partition)\n", drop_seconds);
  std::printf("delete %9.3f s  (%lld rows, 10,000 per transaction)\n", delete_seconds,
              static_cast<long long>(deleted));
  std::printf("prune speed-up: %.1fx\n", delete_seconds / std::max(drop_seconds, 1e-6));
  print_writer("partitioned", baseline);
  print_writer("during drop", with_drop);
  print_writer("heap", heap_baseline);
  print_writer("during delete", with_delete);
  std::printf("writer p99 during delete / heap: %.2f\n",
              with_delete.percentile_ms(0.99) / heap_baseline.percentile_ms(0.99));
  std::printf("ratio: %.3f\n", with_drop.percentile_ms(0.99) / baseline.percentile_ms(0.99));
  return 0;
}
