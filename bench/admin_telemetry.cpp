// An operator's telemetry query on a full table. gateway.telemetry is filled with 10 million
// rows by COPY (1,000 slices x 7 days at one sample a minute, by default), then one slice's
// 7-day series in 5-minute buckets (2,016 points) is asked for, in one run, as
//   api   `gateway.admin.telemetry.slice` over NATS through the daemon: admin rule, bridge,
//         persistence actor, JSON;
//   sql   the same statement (sql/queries/admin_slice_series.sql) run bare with libpqxx on a
//         connection of its own: the floor.
// The two alternate, one request each, so that whatever else the machine does weighs on both
// alike. The last line is `ratio: <sql median / api median>` (target >= 0.8). The plan of the
// bare statement is printed too: it must use idx_telemetry_slice_time.
//
// Environment: BENCH_SLICES (1000), BENCH_DAYS (7), BENCH_REQUESTS (40 of each).
// scripts/bench.sh starts the servers; without them the binary starts its own.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include <pqxx/pqxx>

#include "bench/request_load.hpp"

using namespace slicegate;
using namespace std::chrono_literals;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in{path};
  if (!in)
    throw std::runtime_error("cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

double median(std::vector<double> xs) {
  std::sort(xs.begin(), xs.end());
  return xs.empty() ? 0 : xs[xs.size() / 2];
}

double percentile(std::vector<double> xs, double p) {
  std::sort(xs.begin(), xs.end());
  if (xs.empty())
    return 0;
  auto i = static_cast<size_t>(p * static_cast<double>(xs.size() - 1) + 0.5);
  return xs[std::min(i, xs.size() - 1)];
}

/// Slices as rows of their own (suspended, so that no watcher probes them), and
/// `days` of one-minute samples for each, written with one COPY.
void fill(const std::string& url, int slices, int days, std::time_t end) {
  pqxx::connection conn{url};
  {
    pqxx::work tx{conn};
    tx.exec_params("INSERT INTO gateway.slices (port, status) "
                   "SELECT 20000 + g, 'suspended' FROM generate_series(1, $1) g",
                   slices);
    tx.commit();
  }
  auto ids = [&] {
    pqxx::read_transaction tx{conn};
    std::vector<int> result;
    for (auto row : tx.exec("SELECT id FROM gateway.slices ORDER BY id"))
      result.push_back(row[0].as<int>());
    return result;
  }();
  auto minutes = days * 24 * 60;
  pqxx::work tx{conn};
  pqxx::stream_to copy{tx, "gateway.telemetry",
                       std::vector<std::string>{"slice_id", "\"timestamp\"", "rss_bytes",
                                                "wa_state", "cpu_percent", "disk_bytes"}};
  char when[32];
  for (auto id : ids) {
    for (int m = 0; m < minutes; ++m) {
      std::time_t t = end - static_cast<std::time_t>(minutes - m) * 60;
      std::tm tm{};
      gmtime_r(&t, &tm);
      std::strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
      copy << std::make_tuple(
        id, std::string{when}, int64_t{100'000'000} + (m * 7919 % 50'000'000),
        m % 10 == 0 ? "unreachable" : "CONNECTED", (m % 100) / 10.0, int64_t{5'000'000} + m);
    }
  }
  copy.complete();
  tx.commit();
  pqxx::nontransaction maintenance{conn};
  maintenance.exec("VACUUM ANALYZE gateway.telemetry");
}

int run() {
  auto slices = std::max(1, bench::env_int("BENCH_SLICES", 1000));
  auto days = std::max(1, bench::env_int("BENCH_DAYS", 7));
  auto requests = std::max(1, bench::env_int("BENCH_REQUESTS", 40));

  bench::bench_servers servers;
  // The slices below are rows without users: the sweep would take them for orphans and
  // recycle them (wipes and probes in the middle of the measurement). It does not run here.
  test::daemon daemon{servers.daemon_args({"--log-level=warn", "--sweep-interval=30d"})};
  test::nats_client client{servers.nats_url()};
  bench::sign_up(client, "operator", 1, "bench password");
  {
    pqxx::connection conn{servers.database_url()};
    pqxx::work tx{conn};
    tx.exec("UPDATE gateway.users SET is_admin = true");
    tx.commit();
  }
  // A new session: the signup's is cached without the rights given behind the daemon's back.
  auto login = client.request(
    "gateway.auth.login",
    nlohmann::json{{"email", "operator0@bench.example"}, {"password", "bench password"}}, 60s);
  if (!login.ok() || !login.json().contains("session"))
    throw std::runtime_error("login failed: " + login.status + " " + login.body);
  auto token = login.json()["session"]["id"].get<std::string>();

  // The series ends at a whole hour, so that its buckets are the same in both paths.
  auto end = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  end -= end % 3600;
  auto fill_start = bench::clock::now();
  fill(servers.database_url(), slices, days, end);
  auto fill_seconds = std::chrono::duration<double>(bench::clock::now() - fill_start).count();

  pqxx::connection conn{servers.database_url()};
  int64_t rows = 0;
  int slice_id = 0;
  {
    pqxx::read_transaction tx{conn};
    rows = tx.exec1("SELECT count(*) FROM gateway.telemetry")[0].as<int64_t>();
    // A slice from the middle of the table.
    slice_id = tx.exec1("SELECT id FROM gateway.slices ORDER BY id OFFSET "
                        + std::to_string(slices / 2) + " LIMIT 1")[0]
                 .as<int>();
  }
  std::printf("admin_telemetry: %lld rows in gateway.telemetry (%d slices x %d days), filled "
              "in %.1f s\n",
              static_cast<long long>(rows), slices, days, fill_seconds);

  auto to_text = [](std::time_t t) {
    char buf[32];
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return std::string{buf};
  };
  auto from = to_text(end - static_cast<std::time_t>(days) * 86400);
  auto to = to_text(end);
  constexpr int bucket = 300;
  auto statement
    = read_file(std::string{SLICEGATE_SOURCE_DIR} + "/sql/queries/admin_slice_series.sql");
  conn.prepare("series", statement);
  std::string plan_text;
  {
    pqxx::work tx{conn};
    tx.exec("PREPARE explained AS " + statement.substr(statement.find("SELECT")));
    // EXPLAIN takes no parameters: the values are quoted in.
    for (auto row :
         tx.exec("EXPLAIN EXECUTE explained(" + std::to_string(slice_id) + ", " + tx.quote(from)
                 + ", " + tx.quote(to) + ", " + std::to_string(bucket) + ")"))
      plan_text += "  " + row[0].as<std::string>() + "\n";
  }
  auto uses_index = plan_text.find("idx_telemetry_slice_time") != std::string::npos;

  nlohmann::json body{{"session_id", token},
                      {"slice_id", slice_id},
                      {"from", from},
                      {"to", to},
                      {"bucket", bucket}};
  std::vector<double> api_ms;
  std::vector<double> sql_ms;
  size_t api_points = 0;
  size_t sql_points = 0;
  // One of each first, to warm both paths and the cache.
  for (int i = -1; i < requests; ++i) {
    auto start = bench::clock::now();
    auto reply = client.request("gateway.admin.telemetry.slice", body, 60s);
    auto api = std::chrono::duration<double, std::milli>(bench::clock::now() - start).count();
    auto j = reply.json();
    if (!reply.ok() || !j.contains("points"))
      throw std::runtime_error("telemetry.slice failed: " + reply.status + " " + reply.body);
    api_points = j["points"].size();

    start = bench::clock::now();
    pqxx::read_transaction tx{conn};
    auto result = tx.exec_prepared("series", slice_id, from, to, bucket);
    tx.commit();
    auto sql = std::chrono::duration<double, std::milli>(bench::clock::now() - start).count();
    sql_points = result.size();
    if (i >= 0) {
      api_ms.push_back(api);
      sql_ms.push_back(sql);
    }
  }

  std::printf("series: slice %d, %s .. %s, %d s buckets\n", slice_id, from.c_str(), to.c_str(),
              bucket);
  std::printf("plan of the bare statement (%s idx_telemetry_slice_time):\n%s",
              uses_index ? "uses" : "does NOT use", plan_text.c_str());
  std::printf("api  %zu points  median %.2f ms  p90 %.2f ms  max %.2f ms  [%d requests]\n",
              api_points, median(api_ms), percentile(api_ms, 0.9),
              *std::max_element(api_ms.begin(), api_ms.end()), requests);
  std::printf("sql  %zu rows    median %.2f ms  p90 %.2f ms  max %.2f ms  [%d queries]\n",
              sql_points, median(sql_ms), percentile(sql_ms, 0.9),
              *std::max_element(sql_ms.begin(), sql_ms.end()), requests);
  // The daemon's own account: from receipt to reply, database included.
  auto stats = client.request("$SRV.STATS.slicegate", std::string{}, 10s).json();
  for (auto& e : stats.value("endpoints", nlohmann::json::array()))
    if (e.value("name", "") == "admin_telemetry_slice")
      std::printf("daemon: %.2f ms average from receipt to reply over %d requests\n",
                  e.value("average_processing_time", 0.0) / 1e6, e.value("num_requests", 0));
  if (!daemon.running())
    std::printf("the daemon died during the run\n");
  std::printf("ratio: %.3f\n", median(sql_ms) / median(api_ms));
  return api_points == sql_points && uses_index ? 0 : 1;
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
