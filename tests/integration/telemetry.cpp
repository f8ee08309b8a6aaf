#define BOOST_TEST_MODULE telemetry
#include <arpa/inet.h>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <netinet/in.h>
#include <optional>
#include <signal.h>
#include <spawn.h>
#include <string>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <caf/all.hpp>
#include <pqxx/pqxx>

#include "actors/actors.hpp"
#include "actors/prober.hpp"
#include "actors/retention.hpp"
#include "actors/server_monitor.hpp"
#include "actors/slice_watcher.hpp"
#include "actors/telemetry_writer.hpp"
#include "messages/error.hpp"
#include "persistence/persistence.hpp"
#include "tests/support/ask.hpp"
#include "tests/support/printing.hpp"
#include "tests/support/servers.hpp"
#include "tests/support/sql.hpp"
#include "tests/support/system.hpp"
#include "tests/support/temp_dir.hpp"

extern char** environ;

using namespace slicegate;
using namespace std::chrono_literals;

namespace {

constexpr int64_t mib = 1024 * 1024;

/// A loopback port nobody listens on right now.
int free_port() {
  auto fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

bool accepts(int port) {
  auto fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  auto ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

/// tools/demo_slice.cpp as a child process: a real slice answering `/health`.
class demo_slice {
 public:
  demo_slice(int port, const std::string& data_dir) : port_(port) {
    auto binary = std::string{SLICEGATE_BINARY_DIR} + "/demo-slice";
    std::vector<std::string> env{"PORT=" + std::to_string(port), "DATA_DIR=" + data_dir,
                                 "DEMO_WA_STATE=CONNECTED", "DEMO_WA_PHONE=+15550001111"};
    std::vector<char*> envp;
    for (auto& e : env)
      envp.push_back(e.data());
    envp.push_back(nullptr);
    char* argv[] = {binary.data(), nullptr};
    if (posix_spawn(&pid_, binary.c_str(), nullptr, nullptr, argv, envp.data()) != 0)
      throw std::runtime_error("cannot start " + binary);
    if (!test::eventually([port] { return accepts(port); }))
      throw std::runtime_error("demo-slice does not listen on port " + std::to_string(port));
  }

  ~demo_slice() {
    stop();
  }

  pid_t pid() const {
    return pid_;
  }

  /// SIGTERM; returns whether it exited with status 0 within 5 s (else it is killed).
  bool stop() {
    if (pid_ <= 0)
      return false;
    kill(pid_, SIGTERM);
    int status = 0;
    auto exited = test::eventually([&] { return waitpid(pid_, &status, WNOHANG) == pid_; }, 5s);
    if (!exited) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
    }
    pid_ = -1;
    return exited && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }

 private:
  int port_;
  pid_t pid_ = -1;
};

/// Events the watchers and the monitor published, from any thread.
struct recorded_events {
  std::mutex mtx;
  std::vector<events::slice_health> health;
  std::vector<events::slice_alert> alerts;
  std::vector<events::server_telemetry> server;

  std::vector<events::alert_kind> alert_kinds() {
    std::lock_guard<std::mutex> guard{mtx};
    std::vector<events::alert_kind> result;
    for (auto& a : alerts)
      result.push_back(a.kind);
    return result;
  }

  template <class F>
  auto with(F f) {
    std::lock_guard<std::mutex> guard{mtx};
    return f(*this);
  }
};

using events_ptr = std::shared_ptr<recorded_events>;

event_sink_actor::behavior_type recording_sink(event_sink_actor::pointer, events_ptr e) {
  return {
    [](events::slice_status_changed&) {},
    [](events::user_slice_changed&) {},
    [e](events::slice_health& x) { e->with([&](auto& r) { r.health.push_back(x); }); },
    [e](events::slice_alert& x) { e->with([&](auto& r) { r.alerts.push_back(x); }); },
    [](events::event_rejected&) {},
    [e](events::server_telemetry& x) { e->with([&](auto& r) { r.server.push_back(x); }); },
  };
}

/// The runtime as far as a watcher needs it: fixed usage figures, restarts that succeed.
slice_runtime_actor::behavior_type stub_runtime(slice_runtime_actor::pointer) {
  return {
    [](rt::usage&) {
      return slice_usage{50 * mib, 1.5};
    },
    [](rt::restart&) { return true; },
  };
}

/// The real persistence actor on a fresh gateway database, the telemetry writer in front of
/// it, and a connection for checking what landed.
struct fixture {
  test::servers& servers = test::shared_servers();
  test::temp_dir dir;
  test::system_config cfg;
  caf::actor_system sys{cfg};
  events_ptr recorded = std::make_shared<recorded_events>();
  persistence_actor db;
  telemetry_writer_actor writer;
  event_sink_actor sink;
  std::vector<caf::actor> others;

  fixture() {
    servers.reset_database();
    persistence_config pc;
    pc.database_url = servers.database_url();
    db = sys.spawn<caf::detached>(persistence, pc);
    auto migrated = ask<std::vector<int32_t>>(db, db::migrate{}, 60s);
    BOOST_REQUIRE_MESSAGE(migrated, "migrate failed: " << test::describe(migrated));
    telemetry_writer_config wc;
    wc.flush_interval = 100ms;
    wc.max_backoff = 500ms;
    writer = sys.spawn(telemetry_writer, db, wc);
    sink = sys.spawn(recording_sink, recorded);
  }

  ~fixture() {
    for (auto& x : others)
      caf::anon_send_exit(x, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(writer, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(sink, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(db, caf::exit_reason::user_shutdown);
    sys.await_all_actors_done();
  }

  template <class T, class Handle, class Request>
  caf::expected<T> ask(const Handle& dest, Request x, caf::timespan timeout = 30s) {
    return test::ask<T>(sys, dest, timeout, std::move(x));
  }

  /// Runs one statement on the gateway database, outside the actors.
  pqxx::result sql(const std::string& text) {
    return test::sql(servers.database_url(), text);
  }

  int64_t count(const std::string& text) {
    return sql(text)[0][0].as<int64_t>();
  }

  int32_t insert_slice(int port, slice_status status) {
    return sql("INSERT INTO gateway.slices (port, status) VALUES (" + std::to_string(port)
               + ", '" + to_string(status) + "') RETURNING id")[0][0]
      .as<int32_t>();
  }

  telemetry_sample sample(int32_t slice_id, int n) {
    telemetry_sample x;
    x.slice_id = slice_id;
    x.at = caf::make_timestamp() - std::chrono::seconds{n};
    x.rss_bytes = n * mib;
    x.wa_state = "CONNECTED";
    x.cpu_percent = 0.5 * n;
    x.disk_bytes = caf::none;
    return x;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(telemetry_tests, fixture)

BOOST_AUTO_TEST_CASE(the_demo_slice_stops_at_once_on_sigterm) {
  // The process runtime stops slices with SIGTERM and kills them only after the grace.
  auto data_dir = dir / "stopping";
  std::filesystem::create_directories(data_dir);
  demo_slice slice{free_port(), data_dir};
  // Idle, as between probes: blocked in accept, which a restarting signal would not end.
  BOOST_REQUIRE(test::eventually([&] {
    std::ifstream in{"/proc/" + std::to_string(slice.pid()) + "/wchan"};
    std::string wchan;
    return std::getline(in, wchan) && wchan.find("accept") != std::string::npos;
  }));
  BOOST_CHECK(slice.stop());
}

BOOST_AUTO_TEST_CASE(a_watched_demo_slice_fills_telemetry_and_its_row) {
  auto port = free_port();
  auto data_dir = dir / "slice";
  std::filesystem::create_directories(data_dir);
  auto slice = std::make_unique<demo_slice>(port, data_dir);
  auto id = insert_slice(port, slice_status::assigned);
  auto prober_handle = sys.spawn(prober, prober_config{});
  auto runtime = sys.spawn(stub_runtime);
  slice_watcher_peers peers{prober_handle, runtime, writer, sink, system_clock()};
  slice_watcher_config wc;
  wc.health_interval = 200ms;
  wc.health_timeout = 1s;
  wc.health_start_period = 0s;
  wc.health_failures = 2;
  wc.disk_interval = 1s;
  wc.restart_backoff = 1h;
  wc.stagger = false;
  watched_slice target{slice_spec{id, port, data_dir, "postgresql:///wa_slice_1"},
                       slice_status::assigned, caf::make_timestamp(), caf::none};
  auto watcher = sys.spawn(slice_watcher, target, peers, wc);
  others = {caf::actor_cast<caf::actor>(watcher), caf::actor_cast<caf::actor>(prober_handle),
            caf::actor_cast<caf::actor>(runtime)};
  auto where = " FROM gateway.telemetry WHERE slice_id = " + std::to_string(id);
  BOOST_REQUIRE(test::eventually(
    [&] { return count("SELECT count(*)" + where + " AND disk_bytes > 0") >= 3; }));
  auto latest = sql("SELECT wa_state, rss_bytes, cpu_percent::float8, disk_bytes" + where
                    + " ORDER BY \"timestamp\" DESC LIMIT 1")[0];
  BOOST_TEST(latest[0].as<std::string>() == "CONNECTED");
  BOOST_TEST(latest[1].as<int64_t>() == 50 * mib);
  BOOST_TEST(latest[2].as<double>() == 1.5);
  BOOST_TEST(latest[3].as<int64_t>() > 0);
  auto row = sql("SELECT healthy, wa_connected, wa_phone, last_health_at IS NOT NULL, "
                 "storage_bytes FROM gateway.slices WHERE id = "
                 + std::to_string(id))[0];
  BOOST_TEST(row[0].as<bool>());
  BOOST_TEST(row[1].as<bool>());
  BOOST_TEST(row[2].as<std::string>() == "+15550001111");
  BOOST_TEST(row[3].as<bool>());
  BOOST_TEST(row[4].as<int64_t>() > 0);
  BOOST_TEST(recorded->with([](auto& r) { return r.health.size(); }) >= 3u);
  // The slice goes away: unreachable samples, an unhealthy row, alerts and a restart.
  slice->stop();
  BOOST_REQUIRE(test::eventually(
    [&] { return count("SELECT count(*)" + where + " AND wa_state = 'unreachable'") >= 2; }));
  BOOST_REQUIRE(test::eventually([&] {
    return !sql("SELECT healthy FROM gateway.slices WHERE id = " + std::to_string(id))[0][0]
              .as<bool>();
  }));
  BOOST_REQUIRE(test::eventually([&] { return recorded->alert_kinds().size() >= 2; }));
  auto kinds = recorded->alert_kinds();
  BOOST_TEST(kinds.at(0) == events::alert_kind::unhealthy);
  BOOST_TEST(kinds.at(1) == events::alert_kind::restarted);
  // The phone stays as the slice last reported it.
  BOOST_TEST(sql("SELECT wa_phone FROM gateway.slices WHERE id = " + std::to_string(id))[0][0]
               .as<std::string>()
             == "+15550001111");
}

BOOST_AUTO_TEST_CASE(retention_deletes_only_rows_older_than_the_cutoff) {
  retention_config rc;
  rc.retention = std::chrono::hours{24 * 7};
  rc.session_max_age = std::chrono::hours{24 * 90};
  rc.batch = 1000; // 2,500 old rows: three batches
  auto pruner = sys.spawn(retention, rc, db, system_clock());
  others = {caf::actor_cast<caf::actor>(pruner)};
  // Let the pass at start-up run on the empty database first.
  BOOST_REQUIRE(ask<telemetry::retention_report>(pruner, telemetry::prune_now{}));
  auto id = insert_slice(free_port(), slice_status::available);
  auto slice = std::to_string(id);
  // The days before the retention window have no partitions until someone makes them.
  sql("SELECT gateway.ensure_telemetry_partitions(t, now() - interval '9 days', now()) "
      "FROM unnest(ARRAY['gateway.telemetry', 'gateway.server_telemetry']::regclass[]) AS t");
  sql("INSERT INTO gateway.telemetry (slice_id, \"timestamp\", wa_state) "
      "SELECT "
      + slice
      + ", now() - interval '7 days 1 minute' - i * interval '1 second', 'old' "
        "FROM generate_series(1, 2500) AS i");
  sql("INSERT INTO gateway.telemetry (slice_id, \"timestamp\", wa_state) "
      "SELECT "
      + slice
      + ", now() - interval '6 days 23 hours' + i * interval '1 second', 'new' "
        "FROM generate_series(1, 300) AS i");
  sql("INSERT INTO gateway.server_telemetry (\"timestamp\", ram_total_bytes) "
      "SELECT now() - interval '8 days' - i * interval '1 minute', 1 "
      "FROM generate_series(1, 1200) AS i");
  sql("INSERT INTO gateway.server_telemetry (\"timestamp\", ram_total_bytes) "
      "SELECT now() - i * interval '1 minute', 2 FROM generate_series(1, 100) AS i");
  auto user = sql("INSERT INTO gateway.users (email, password_hash) "
                  "VALUES ('old@example.com', 'x') RETURNING id")[0][0]
                .as<std::string>();
  // Two expired, one past the absolute cap although not expired, two alive.
  sql("INSERT INTO gateway.sessions (id, user_id, expires_at, created_at) VALUES "
      "(repeat('a', 64), "
      + user
      + ", now() - interval '1 hour', now() - interval '31 days'),"
        "(repeat('b', 64), "
      + user
      + ", now() - interval '1 day', now() - interval '40 days'),"
        "(repeat('c', 64), "
      + user
      + ", now() + interval '1 day', now() - interval '91 days'),"
        "(repeat('d', 64), "
      + user
      + ", now() + interval '29 days', now() - interval '1 day'),"
        "(repeat('e', 64), "
      + user + ", now() + interval '1 hour', now() - interval '89 days')");
  // The old rows on the cutoff's UTC day go as rows, those of the days before it with their
  // day partitions (the host samples are all a day older than the cutoff).
  auto boundary = count("SELECT count(*) FROM gateway.telemetry WHERE wa_state = 'old' AND "
                        "\"timestamp\" >= date_trunc('day', now() - interval '7 days', 'UTC')");
  auto report = ask<telemetry::retention_report>(pruner, telemetry::prune_now{}, 120s);
  BOOST_REQUIRE_MESSAGE(report, "prune failed: " << test::describe(report));
  BOOST_TEST(report->telemetry == boundary);
  BOOST_TEST(report->server_telemetry == 0);
  BOOST_TEST(report->partitions_dropped >= 2);
  BOOST_TEST(report->sessions == 3);
  BOOST_TEST(count("SELECT count(*) FROM gateway.telemetry WHERE wa_state = 'old'") == 0);
  BOOST_TEST(count("SELECT count(*) FROM gateway.telemetry WHERE wa_state = 'new'") == 300);
  BOOST_TEST(count("SELECT count(*) FROM gateway.server_telemetry WHERE ram_total_bytes = 1")
             == 0);
  BOOST_TEST(count("SELECT count(*) FROM gateway.server_telemetry WHERE ram_total_bytes = 2")
             == 100);
  BOOST_TEST(count("SELECT count(*) FROM gateway.sessions") == 2);
}

BOOST_AUTO_TEST_CASE(telemetry_buffered_during_an_outage_is_written_after_it) {
  auto id = insert_slice(free_port(), slice_status::assigned);
  for (int i = 0; i < 10; ++i)
    caf::anon_send(writer, sample(id, i));
  BOOST_REQUIRE(ask<telemetry::writer_stats>(writer, flush_atom_v));
  BOOST_TEST(count("SELECT count(*) FROM gateway.telemetry") == 10);
  servers.stop_pg();
  for (int i = 10; i < 30; ++i)
    caf::anon_send(writer, sample(id, i));
  server_sample host;
  host.at = caf::make_timestamp();
  host.ram_total_bytes = 42;
  caf::anon_send(writer, host);
  db::slice_health_row health;
  health.slice_id = id;
  health.at = caf::make_timestamp();
  health.healthy = true;
  health.answered = true;
  health.wa_phone = std::string{"+15557654321"};
  caf::anon_send(writer, health);
  auto during = ask<telemetry::writer_stats>(writer, flush_atom_v);
  BOOST_REQUIRE(!during);
  BOOST_TEST(to_string(code_of(during.error())) == "unavailable");
  auto stats = ask<telemetry::writer_stats>(writer, stats_atom_v);
  BOOST_REQUIRE(stats);
  BOOST_TEST(stats->samples_buffered == 21);
  BOOST_TEST(stats->slice_rows_buffered == 1);
  servers.start_pg();
  BOOST_REQUIRE(test::eventually(
    [&] { return static_cast<bool>(ask<telemetry::writer_stats>(writer, flush_atom_v)); },
    30s));
  BOOST_TEST(count("SELECT count(*) FROM gateway.telemetry") == 30);
  BOOST_TEST(count("SELECT count(*) FROM gateway.server_telemetry WHERE ram_total_bytes = 42")
             == 1);
  BOOST_TEST(sql("SELECT wa_phone FROM gateway.slices WHERE id = " + std::to_string(id))[0][0]
               .as<std::string>()
             == "+15557654321");
  stats = ask<telemetry::writer_stats>(writer, stats_atom_v);
  BOOST_TEST(stats->samples_dropped == 0);
  BOOST_TEST(stats->samples_written == 30);
}

BOOST_AUTO_TEST_CASE(the_server_monitor_writes_host_samples) {
  insert_slice(free_port(), slice_status::assigned);
  insert_slice(free_port(), slice_status::available);
  server_monitor_config mc;
  mc.data_root = dir / "slices";
  mc.interval = 200ms;
  server_monitor_peers peers{db, writer, sink, system_clock()};
  auto monitor = sys.spawn<caf::detached>(server_monitor, mc, peers);
  others = {caf::actor_cast<caf::actor>(monitor)};
  BOOST_REQUIRE(test::eventually(
    [&] { return count("SELECT count(*) FROM gateway.server_telemetry") >= 2; }));
  auto row = sql("SELECT ram_total_bytes, ram_used_bytes, disk_total_bytes, active_slices, "
                 "total_slices, cpu_percent FROM gateway.server_telemetry "
                 "ORDER BY \"timestamp\" DESC LIMIT 1")[0];
  BOOST_TEST(row[0].as<int64_t>() > 0);
  BOOST_TEST(row[1].as<int64_t>() > 0);
  BOOST_TEST(row[2].as<int64_t>() > 0);
  BOOST_TEST(row[3].as<int32_t>() == 1);
  BOOST_TEST(row[4].as<int32_t>() == 2);
  BOOST_TEST(row[5].as<float>() >= 0.0f);
  BOOST_TEST(recorded->with([](auto& r) { return r.server.size(); }) >= 2u);
}

BOOST_AUTO_TEST_SUITE_END()
