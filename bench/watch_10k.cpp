// One daemon watching many slices: what a watched slice costs in CPU and memory, whether the
// probes are spread evenly, and whether telemetry is written once per slice and interval.
//
// A fake fleet in this process answers `GET /health` with `{"wa_state":"CONNECTED"}` on up to
// BENCH_SLICES (10,000) loopback ports, one epoll thread for all. In one run:
//   idle    the daemon (`external` runtime) with no slices, for BENCH_SECONDS;
//   daemon  the same daemon, restarted, watching one `available` slice per fleet port (rows in
//           gateway.slices, a data directory each) at BENCH_HEALTH_INTERVAL (6 s) and
//           BENCH_DISK_INTERVAL (30 s), measured over BENCH_SECONDS once every slice has been
//           probed and one more interval has passed;
//   bare    the same probes (same ports, same phases, same rate, at most the same number at
//           once, the same libcurl options) from a bare libcurl multi loop on a thread of this
//           process, with no actors, no JSON and no database, for BENCH_SECONDS.
// CPU is user + system time from /proc (the daemon's process, the bare loop's thread); the
// daemon's net cost is its CPU minus the idle daemon's.
//
// Prints slices watched and why not more, probes/s, the net CPU per 1,000 slices and minute
// at the measured rate and at the default 60 s interval, % of one core for 10,000 slices at
// the default interval, RSS per watcher, telemetry rows per second against the expected rate
// (and per slice: min/max), rows per database commit, the probe spread (busiest second
// against the mean), and `ratio: <bare CPU / daemon net CPU>`.
//
// Environment: BENCH_SLICES (10000), BENCH_SECONDS (60), BENCH_HEALTH_INTERVAL (6, seconds),
// BENCH_DISK_INTERVAL (30, seconds), BENCH_CONCURRENCY (256), BENCH_PORT_BASE (20000),
// BENCH_BARE_DNS_CACHE (0; 1: the bare loop keeps libcurl's DNS cache, see below),
// BENCH_SCHEDULER_THREADS (0: the daemon's default).

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pqxx/pqxx>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "actors/slice_watcher.hpp"
#include "bench/request_load.hpp"
#include "tests/support/fake_fleet.hpp"

using namespace slicegate;
using namespace std::chrono_literals;
namespace stdfs = std::filesystem;

namespace {

using steady = std::chrono::steady_clock;

double process_cpu(int pid) {
  return test::cpu_seconds("/proc/" + std::to_string(pid) + "/stat");
}

/// The bare loop: one libcurl multi handle on this thread, each port probed at its slice's
/// phase of every interval with the options the daemon uses, at most `concurrency` at once.
struct bare_result {
  double cpu = 0;
  uint64_t started = 0;
  uint64_t ok = 0;
  uint64_t failed = 0;
};

struct bare_transfer {
  CURL* easy = nullptr;
  std::string body;
};

size_t bare_on_data(char* data, size_t size, size_t count, void* self) {
  auto& t = *static_cast<bare_transfer*>(self);
  t.body.append(data, std::min(size * count, size_t{16 * 1024} - std::min<size_t>(16 * 1024, t.body.size())));
  return size * count;
}

/// The bare loop's CURLOPT_DNS_CACHE_TIMEOUT: 0 as the health client sets it for a numeric
/// host; BENCH_BARE_DNS_CACHE=1 keeps libcurl's default (60 s) to show what that costs.
long bare_dns_cache_timeout = 0;

bare_result bare_loop(const std::vector<int>& ports, const std::vector<int32_t>& ids,
                      caf::timespan interval, size_t concurrency, std::chrono::seconds length) {
  bare_result result;
  auto multi = curl_multi_init();
  curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, static_cast<long>(concurrency));
  // The next instant each slice is due, by the wall clock, as the watchers compute it.
  std::vector<std::pair<timestamp, size_t>> due;
  auto now = timestamp{std::chrono::duration_cast<timestamp::duration>(
    std::chrono::system_clock::now().time_since_epoch())};
  for (size_t i = 0; i < ports.size(); ++i)
    due.emplace_back(next_phase(now, interval, phase_offset(ids[i], interval)), i);
  std::make_heap(due.begin(), due.end(), std::greater<>{});
  std::vector<size_t> waiting;
  size_t waiting_front = 0;
  size_t running = 0;
  auto cpu_before = test::cpu_seconds("/proc/self/task/" + std::to_string(gettid()) + "/stat");
  auto end = steady::now() + length;
  auto start_one = [&](size_t i) {
    auto t = new bare_transfer;
    t->easy = curl_easy_init();
    auto url = "http://127.0.0.1:" + std::to_string(ports[i]) + "/health";
    curl_easy_setopt(t->easy, CURLOPT_URL, url.c_str());
    curl_easy_setopt(t->easy, CURLOPT_PROTOCOLS_STR, "http");
    curl_easy_setopt(t->easy, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(t->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(t->easy, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(t->easy, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(t->easy, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(t->easy, CURLOPT_DNS_CACHE_TIMEOUT, bare_dns_cache_timeout);
    curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, &bare_on_data);
    curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t);
    curl_multi_add_handle(multi, t->easy);
    ++running;
    ++result.started;
  };
  while (steady::now() < end) {
    now = timestamp{std::chrono::duration_cast<timestamp::duration>(
      std::chrono::system_clock::now().time_since_epoch())};
    while (!due.empty() && due.front().first <= now) {
      std::pop_heap(due.begin(), due.end(), std::greater<>{});
      auto [at, i] = due.back();
      due.back().first = at + interval;
      std::push_heap(due.begin(), due.end(), std::greater<>{});
      waiting.push_back(i);
    }
    while (waiting_front < waiting.size() && running < concurrency)
      start_one(waiting[waiting_front++]);
    if (waiting_front == waiting.size()) {
      waiting.clear();
      waiting_front = 0;
    }
    int active = 0;
    curl_multi_perform(multi, &active);
    int queued = 0;
    while (auto msg = curl_multi_info_read(multi, &queued)) {
      if (msg->msg != CURLMSG_DONE)
        continue;
      bare_transfer* t = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &t);
      long status = 0;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
      if (msg->data.result == CURLE_OK && status == 200)
        ++result.ok;
      else
        ++result.failed;
      curl_multi_remove_handle(multi, msg->easy_handle);
      curl_easy_cleanup(msg->easy_handle);
      delete t;
      --running;
    }
    auto wait = std::chrono::milliseconds{1000};
    if (!due.empty())
      wait = std::min(wait, std::chrono::ceil<std::chrono::milliseconds>(due.front().first - now));
    if (waiting_front < waiting.size() && running < concurrency)
      wait = 0ms;
    curl_multi_poll(multi, nullptr, 0, static_cast<int>(std::max(wait, 0ms).count()), nullptr);
  }
  result.cpu = test::cpu_seconds("/proc/self/task/" + std::to_string(gettid()) + "/stat") - cpu_before;
  // What is still running is not counted.
  curl_multi_cleanup(multi);
  return result;
}

/// Inserts one `available` slice per port, with an empty data directory holding one small
/// file; returns the ids in port order.
std::vector<int32_t> insert_slices(const std::string& url, const std::vector<int>& ports,
                                   const std::string& data_root) {
  pqxx::connection conn{url};
  pqxx::work tx{conn};
  std::string list = "{";
  for (size_t i = 0; i < ports.size(); ++i)
    list += (i ? "," : "") + std::to_string(ports[i]);
  list += "}";
  std::map<int, int32_t> by_port;
  for (auto row : tx.exec_params("INSERT INTO gateway.slices (port, status) "
                                 "SELECT p, 'available' FROM unnest($1::int[]) AS t(p) "
                                 "RETURNING id, port",
                                 list))
    by_port[row[1].as<int>()] = row[0].as<int32_t>();
  tx.commit();
  std::vector<int32_t> ids;
  for (auto port : ports)
    ids.push_back(by_port.at(port));
  for (auto id : ids) {
    auto dir = stdfs::path{data_root} / ("slice-" + std::to_string(id));
    stdfs::create_directories(dir);
    std::ofstream{dir / "state.json"} << R"({"session":"bench"})";
  }
  return ids;
}

int64_t scalar(pqxx::connection& conn, const std::string& sql) {
  pqxx::nontransaction tx{conn};
  auto r = tx.exec1(sql);
  return r[0].is_null() ? 0 : r[0].as<int64_t>();
}

struct window_figures {
  double cpu = 0;
  long rss_kib = 0;
  double seconds = 0;
};

/// Measures a running daemon over `length`: CPU, and RSS at the end.
window_figures measure(test::daemon& daemon, std::chrono::seconds length) {
  window_figures f;
  auto before = process_cpu(daemon.pid());
  auto t0 = steady::now();
  std::this_thread::sleep_for(length);
  f.cpu = process_cpu(daemon.pid()) - before;
  f.seconds = std::chrono::duration<double>(steady::now() - t0).count();
  f.rss_kib = test::rss_kib(daemon.pid());
  return f;
}

int run() {
  auto want = std::max(1, bench::env_int("BENCH_SLICES", 10000));
  auto seconds = std::chrono::seconds{std::max(10, bench::env_int("BENCH_SECONDS", 60))};
  auto health_s = std::max(1, bench::env_int("BENCH_HEALTH_INTERVAL", 6));
  auto disk_s = std::max(1, bench::env_int("BENCH_DISK_INTERVAL", 30));
  auto concurrency = static_cast<size_t>(std::max(1, bench::env_int("BENCH_CONCURRENCY", 256)));
  auto port_base = bench::env_int("BENCH_PORT_BASE", 20000);
  auto health_interval = caf::timespan{std::chrono::seconds{health_s}};
  if (bench::env_int("BENCH_BARE_DNS_CACHE", 0) != 0)
    bare_dns_cache_timeout = 60;

  auto fd_limit = test::raise_fd_limit();
  curl_global_init(CURL_GLOBAL_DEFAULT);
  bench::bench_servers servers;
  // Descriptors kept back for the probes' connections and everything else in this process.
  test::fake_fleet fleet{want, port_base, static_cast<int>(concurrency) + 512};
  auto& ports = fleet.ports();
  auto n = static_cast<int>(ports.size());
  std::printf("watch_10k: fleet serves %d of %d ports asked for (from %d, outside the "
              "ephemeral range; %d ports taken; descriptor limit %lu), %u cores\n",
              n, want, port_base, fleet.skipped(), static_cast<unsigned long>(fd_limit),
              std::thread::hardware_concurrency());
  if (n == 0)
    return 2;

  char tmpl[] = "/tmp/watch_10k.XXXXXX";
  std::string data_root = mkdtemp(tmpl);
  std::vector<std::string> overrides{"--log-level=warn",
                                     "--sweep-interval=30d",
                                     "--min-available=0",
                                     "--data-root=" + data_root,
                                     "--health-interval=" + std::to_string(health_s) + "s",
                                     "--disk-interval=" + std::to_string(disk_s) + "s",
                                     "--probe-concurrency=" + std::to_string(concurrency)};
  if (auto threads = bench::env_int("BENCH_SCHEDULER_THREADS", 0); threads > 0)
    overrides.push_back("--scheduler-threads=" + std::to_string(threads));

  // 1. The idle daemon: no slices.
  window_figures idle;
  {
    test::daemon daemon{servers.daemon_args(overrides)};
    std::this_thread::sleep_for(10s);
    idle = measure(daemon, seconds);
    if (!daemon.running())
      throw std::runtime_error("the idle daemon died:\n" + daemon.log());
    daemon.stop();
  }
  std::printf("idle       %.2f CPU s in %.1f s, RSS %ld KiB\n", idle.cpu, idle.seconds,
              idle.rss_kib);

  // 2. The daemon watching the fleet.
  auto ids = insert_slices(servers.database_url(), ports, data_root);
  pqxx::connection sql{servers.database_url()};
  window_figures busy;
  uint64_t probes = 0;
  std::vector<uint32_t> spread;
  int64_t rows = 0;
  int64_t commits = 0;
  int64_t slices_with_rows = 0;
  int64_t min_rows = 0;
  int64_t max_rows = 0;
  double startup_s = 0;
  double warm_cpu = 0;
  {
    auto t0 = steady::now();
    test::daemon daemon{servers.daemon_args(overrides)};
    // Every slice probed once, then one more interval so that every watcher is in its stride.
    if (!test::eventually([&] { return fleet.ports_probed() >= ports.size(); },
                          std::chrono::seconds{120 + 2 * health_s}))
      std::printf("only %zu of %d ports were probed within the start-up wait\n",
                  fleet.ports_probed(), n);
    startup_s = std::chrono::duration<double>(steady::now() - t0).count();
    warm_cpu = process_cpu(daemon.pid());
    std::this_thread::sleep_for(std::chrono::seconds{health_s});
    auto db_from = scalar(sql, "SELECT (extract(epoch FROM clock_timestamp()) * 1e6)::bigint");
    auto commits_before
      = scalar(sql, "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()");
    auto fleet_before = fleet.total();
    auto second_from = fleet.second_now() + 1;
    busy = measure(daemon, seconds);
    auto second_to = fleet.second_now();
    probes = fleet.total() - fleet_before;
    spread = fleet.per_second(second_from, second_to);
    auto db_to = scalar(sql, "SELECT (extract(epoch FROM clock_timestamp()) * 1e6)::bigint");
    commits = scalar(sql, "SELECT xact_commit FROM pg_stat_database "
                          "WHERE datname = current_database()")
              - commits_before;
    // Samples are stamped when their cycle finishes; the writer flushes within a second.
    std::this_thread::sleep_for(3s);
    auto range = "\"timestamp\" >= to_timestamp(" + std::to_string(db_from) + " / 1e6) AND "
                 "\"timestamp\" < to_timestamp(" + std::to_string(db_to) + " / 1e6)";
    rows = scalar(sql, "SELECT count(*) FROM gateway.telemetry WHERE " + range);
    slices_with_rows = scalar(sql, "SELECT count(DISTINCT slice_id) FROM gateway.telemetry "
                                   "WHERE " + range);
    min_rows = scalar(sql, "SELECT min(c) FROM (SELECT count(*) c FROM gateway.telemetry WHERE "
                             + range + " GROUP BY slice_id) x");
    max_rows = scalar(sql, "SELECT max(c) FROM (SELECT count(*) c FROM gateway.telemetry WHERE "
                             + range + " GROUP BY slice_id) x");
    if (!daemon.running())
      throw std::runtime_error("the daemon died:\n" + daemon.log());
    daemon.stop();
  }

  // 3. The bare loop: the same probes, nothing else.
  auto bare_probes_before = fleet.total();
  auto bare = bare_loop(ports, ids, health_interval, concurrency, seconds);
  auto bare_seen = fleet.total() - bare_probes_before;

  // The figures.
  auto net_cpu = busy.cpu - idle.cpu * busy.seconds / idle.seconds;
  auto rate = static_cast<double>(probes) / busy.seconds;
  auto expected_rate = static_cast<double>(n) / health_s;
  auto cpu_per_probe = probes ? net_cpu / static_cast<double>(probes) : 0.0;
  // Per 1,000 slices and minute: at the measured rate, and at one probe a minute (the default
  // interval; disk walks scale alike, 30 s / 6 s = 300 s / 60 s).
  auto per_k_min_measured = net_cpu / busy.seconds * 60 / (n / 1000.0);
  auto per_k_min_default = cpu_per_probe * 1000;
  auto core_pct_10k = cpu_per_probe * 10000 / 60 * 100;
  auto rss_delta_kib = busy.rss_kib - idle.rss_kib;
  auto expected_rows = static_cast<double>(n) * busy.seconds / health_s;
  double spread_max = 0;
  double spread_min = spread.empty() ? 0 : 1e18;
  double spread_sum = 0;
  for (auto x : spread) {
    spread_max = std::max<double>(spread_max, x);
    spread_min = std::min<double>(spread_min, x);
    spread_sum += x;
  }
  auto spread_mean = spread.empty() ? 0 : spread_sum / static_cast<double>(spread.size());

  std::printf("slices     %d watched at health %d s, disk %d s, probe concurrency %zu; every "
              "port probed %.1f s after the daemon started (CPU %.1f s by then)\n",
              n, health_s, disk_s, concurrency, startup_s, warm_cpu);
  std::printf("daemon     %.2f CPU s in %.1f s (%.2f net of idle), RSS %ld KiB\n", busy.cpu,
              busy.seconds, net_cpu, busy.rss_kib);
  std::printf("probes     %.1f/s achieved, %.1f/s expected\n", rate, expected_rate);
  std::printf("cpu        %.4f CPU s per 1,000 slices per minute at the measured rate; %.4f "
              "at the default 60 s interval\n",
              per_k_min_measured, per_k_min_default);
  std::printf("core       %.2f %% of one core for 10,000 slices at the default interval (%.1f "
              "µs per probe)\n",
              core_pct_10k, cpu_per_probe * 1e6);
  std::printf("rss        %ld KiB over idle, %.2f KiB per watcher\n", rss_delta_kib,
              static_cast<double>(rss_delta_kib) / n);
  std::printf("telemetry  %.1f rows/s written, %.1f/s expected; %lld of %d slices have rows, "
              "%lld to %lld rows each (%.1f expected); %.1f rows per database commit\n",
              static_cast<double>(rows) / busy.seconds, expected_rows / busy.seconds,
              static_cast<long long>(slices_with_rows), n, static_cast<long long>(min_rows),
              static_cast<long long>(max_rows), busy.seconds / health_s,
              commits > 0 ? static_cast<double>(rows) / static_cast<double>(commits) : 0.0);
  std::printf("spread     probes started per second: max %.0f, mean %.1f, min %.0f over %zu s "
              "(max/mean %.2f)\n",
              spread_max, spread_mean, spread_min, spread.size(),
              spread_mean > 0 ? spread_max / spread_mean : 0.0);
  std::printf("bare       %.2f CPU s in %lld s, %llu probes started, %llu ok, %llu failed "
              "(fleet saw %llu); %.1f µs per probe\n",
              bare.cpu, static_cast<long long>(seconds.count()),
              static_cast<unsigned long long>(bare.started),
              static_cast<unsigned long long>(bare.ok),
              static_cast<unsigned long long>(bare.failed),
              static_cast<unsigned long long>(bare_seen),
              bare.started ? bare.cpu / static_cast<double>(bare.started) * 1e6 : 0.0);
  std::printf("fleet      serving thread %.2f CPU s over the whole run\n", fleet.cpu());
  // The bare loop's CPU scaled to the daemon's probe count, over the daemon's net CPU.
  auto bare_per_probe = bare.started ? bare.cpu / static_cast<double>(bare.started) : 0.0;
  std::printf("ratio: %.3f\n", net_cpu > 0 ? bare_per_probe * static_cast<double>(probes) / net_cpu
                                           : 0.0);
  std::error_code ignored;
  stdfs::remove_all(data_root, ignored);
  return 0;
}

} // namespace

int main() {
  // Exceptions end up here so that the servers and the daemon are stopped on the way out.
  try {
    return run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  }
}
