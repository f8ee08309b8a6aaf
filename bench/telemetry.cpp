// What the telemetry path costs a row. In one run, the same rows go to gateway.telemetry
//   writer  as N watchers send them: one `telemetry_sample` message each to the telemetry
//           writer, which batches them (500 per COPY) through the persistence actor;
//   copy    one bare `pqxx::stream_to` of all rows on a connection of its own: the floor.
// gateway.telemetry is emptied before each target (meant for throwaway servers, as
// scripts/bench.sh starts them); with BENCH_ROUNDS > 1 the targets alternate.
//
// Environment: DATABASE_URL (scripts/bench.sh sets it; without it the binary starts its own
// servers), BENCH_SLICES (1000), BENCH_SAMPLES (100 per slice), BENCH_ROUNDS (3).
// Prints one line per target and round, then `ratio: <writer rows/s / copy rows/s>`, the
// median of the rounds' ratios.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <caf/all.hpp>
#include <pqxx/pqxx>

#include "actors/actors.hpp"
#include "actors/telemetry_writer.hpp"
#include "bench/database.hpp"
#include "bench/request_load.hpp"
#include "messages/register.hpp"
#include "persistence/detail/rows.hpp"
#include "persistence/persistence.hpp"
#include "tests/support/servers.hpp"

using namespace slicegate;
using namespace std::chrono_literals;

namespace {

std::vector<telemetry_sample> make_samples(const std::vector<int32_t>& slices, int per_slice) {
  std::vector<telemetry_sample> result;
  result.reserve(slices.size() * static_cast<size_t>(per_slice));
  auto start = caf::make_timestamp() - std::chrono::hours{1};
  for (int minute = 0; minute < per_slice; ++minute)
    for (auto id : slices) {
      telemetry_sample x;
      x.slice_id = id;
      x.at = start + std::chrono::seconds{minute};
      x.rss_bytes = 200 * 1024 * 1024 + id;
      x.wa_state = "CONNECTED";
      x.cpu_percent = 1.25;
      x.disk_bytes = 64 * 1024 * 1024;
      result.push_back(std::move(x));
    }
  return result;
}

void truncate(pqxx::connection& conn) {
  pqxx::work tx{conn};
  tx.exec0("TRUNCATE gateway.telemetry");
  tx.commit();
}

/// The floor: every row in one COPY on its own connection.
double copy_rows(pqxx::connection& conn, const std::vector<telemetry_sample>& samples) {
  auto start = bench::clock::now();
  pqxx::work tx{conn};
  pqxx::stream_to copy{tx, "gateway.telemetry",
                       std::vector<std::string>{"slice_id", "\"timestamp\"", "rss_bytes",
                                                "wa_state", "cpu_percent", "disk_bytes"}};
  for (auto& s : samples)
    copy << std::make_tuple(s.slice_id, detail::to_sql(s.at), *s.rss_bytes, s.wa_state,
                            *s.cpu_percent, *s.disk_bytes);
  copy.complete();
  tx.commit();
  return std::chrono::duration<double>(bench::clock::now() - start).count();
}

/// As watchers do: one message per sample to the writer, then a flush that answers once
/// everything is in the database.
double writer_rows(caf::actor_system& sys, const telemetry_writer_actor& writer,
                   const std::vector<telemetry_sample>& samples) {
  auto start = bench::clock::now();
  for (auto& s : samples)
    caf::anon_send(writer, s);
  caf::scoped_actor self{sys};
  std::optional<telemetry::writer_stats> stats;
  self->request(writer, 10min, flush_atom_v)
    .receive([&](telemetry::writer_stats& x) { stats = x; },
             [&](caf::error& err) {
               throw std::runtime_error("flush failed: " + caf::to_string(err));
             });
  if (stats->samples_dropped > 0)
    throw std::runtime_error("the writer dropped samples: the comparison would be unfair");
  return std::chrono::duration<double>(bench::clock::now() - start).count();
}

} // namespace

int main() {
  auto slices_n = bench::env_int("BENCH_SLICES", 1000);
  auto per_slice = bench::env_int("BENCH_SAMPLES", 100);
  auto rounds = bench::env_int("BENCH_ROUNDS", 3);
  bench::target_database target;
  bench::actor_config cfg;
  caf::actor_system sys{cfg};
  persistence_config pc;
  pc.database_url = target.url;
  auto db = sys.spawn<caf::detached>(persistence, pc);
  bench::migrate(sys, db);
  pqxx::connection conn{target.url};
  auto slices = bench::slice_rows(conn, slices_n);
  auto samples = make_samples(slices, per_slice);
  auto writer = sys.spawn(telemetry_writer, db, telemetry_writer_config{});
  double writer_seconds = 0;
  double copy_seconds = 0;
  std::vector<double> ratios;
  for (int round = 1; round <= rounds; ++round) {
    truncate(conn);
    auto w = writer_rows(sys, writer, samples);
    writer_seconds += w;
    std::printf("writer round %d: %zu rows in %.3f s, %.0f rows/s\n", round, samples.size(), w,
                static_cast<double>(samples.size()) / w);
    truncate(conn);
    auto c = copy_rows(conn, samples);
    copy_seconds += c;
    std::printf("copy   round %d: %zu rows in %.3f s, %.0f rows/s\n", round, samples.size(), c,
                static_cast<double>(samples.size()) / c);
    ratios.push_back(c / w);
  }
  caf::anon_send_exit(writer, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(db, caf::exit_reason::user_shutdown);
  // The median of the rounds' ratios: one round slowed by the machine does not decide it.
  std::printf("ratio of the totals: %.3f\n", copy_seconds / writer_seconds);
  std::printf("ratio: %.3f\n", bench::median(ratios));
  return 0;
}
