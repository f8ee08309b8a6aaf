#define BOOST_TEST_MODULE server_monitor
#include "actors/server_monitor.hpp"

#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <caf/all.hpp>

#include "actors/actors.hpp"
#include "messages/error.hpp"
#include "tests/support/system.hpp"
#include "tests/support/temp_dir.hpp"

using namespace slicegate;
using namespace std::chrono_literals;

namespace {

constexpr int64_t kib = 1024;

constexpr const char* meminfo = "MemTotal:       16000000 kB\n"
                                "MemFree:         2000000 kB\n"
                                "MemAvailable:   12000000 kB\n"
                                "Buffers:          100000 kB\n"
                                "SwapTotal:       4000000 kB\n"
                                "SwapFree:        3000000 kB\n"
                                "HugePages_Total:       0\n";

/// user nice system idle iowait irq softirq steal guest guest_nice
constexpr const char* stat_before = "cpu  100 0 100 700 100 0 0 0 50 0\n"
                                    "cpu0 50 0 50 350 50 0 0 0 25 0\n"
                                    "intr 12345\n";
constexpr const char* stat_after = "cpu  250 0 150 900 200 0 0 0 90 0\n"
                                   "cpu0 125 0 75 450 100 0 0 0 45 0\n";

struct world {
  caf::error count_failure;
  db::slice_totals totals{3, 10};
  std::vector<server_sample> written;
  std::vector<events::server_telemetry> published;
  std::vector<std::string> unexpected;
};

using world_ptr = std::shared_ptr<world>;

slice_counter_actor::behavior_type mock_counter(slice_counter_actor::pointer, world_ptr w) {
  return {
    [w](db::slice_counts) -> caf::result<db::slice_totals> {
      if (w->count_failure)
        return w->count_failure;
      return w->totals;
    },
  };
}

telemetry_writer_actor::behavior_type mock_writer(telemetry_writer_actor::pointer,
                                                  world_ptr w) {
  return {
    [w](telemetry_sample&) { w->unexpected.push_back("telemetry_sample"); },
    [w](server_sample& x) { w->written.push_back(x); },
    [w](events::slice_alert&) { w->unexpected.push_back("slice_alert"); },
    [w](db::slice_health_row&) { w->unexpected.push_back("slice_health_row"); },
    [w](flush_atom) {
      w->unexpected.push_back("flush");
      return telemetry::writer_stats{};
    },
    [w](stats_atom) {
      w->unexpected.push_back("stats");
      return telemetry::writer_stats{};
    },
    [w](tick_atom) { w->unexpected.push_back("writer tick"); },
  };
}

event_sink_actor::behavior_type mock_events(event_sink_actor::pointer, world_ptr w) {
  return {
    [w](events::slice_status_changed&) { w->unexpected.push_back("slice_status_changed"); },
    [w](events::user_slice_changed&) { w->unexpected.push_back("user_slice_changed"); },
    [w](events::slice_health&) { w->unexpected.push_back("slice_health"); },
    [w](events::slice_alert&) { w->unexpected.push_back("slice_alert"); },
    [w](events::event_rejected&) { w->unexpected.push_back("event_rejected"); },
    [w](events::server_telemetry& x) { w->published.push_back(x); },
  };
}

void write(const std::string& path, const std::string& text) {
  std::ofstream{path} << text;
}

/// A monitor reading a fake /proc in a temporary directory, on the deterministic scheduler.
struct fixture : test::deterministic_system {
  test::temp_dir proc;
  world_ptr w = std::make_shared<world>();
  timestamp epoch = timestamp{std::chrono::hours{24 * 20000}};
  server_monitor_config config;
  server_monitor_peers peers;
  server_monitor_actor monitor;

  fixture() {
    write(proc / "meminfo", meminfo);
    write(proc / "stat", stat_before);
    config.proc_root = proc.path();
    config.data_root = proc / "slices"; // does not exist: measured at its parent
    config.interval = 60s;
  }

  ~fixture() {
    BOOST_TEST(w->unexpected.empty());
  }

  void start() {
    peers.counter = spawn(mock_counter, w);
    peers.writer = spawn(mock_writer, w);
    peers.events = spawn(mock_events, w);
    peers.clock = [this] {
      return epoch;
    };
    monitor = spawn(server_monitor, config, peers);
    run();
  }

  void next_sample() {
    advance(config.interval);
  }
};

} // namespace

BOOST_AUTO_TEST_CASE(meminfo_gives_used_as_total_minus_available) {
  auto mem = host::parse_meminfo(meminfo);
  BOOST_REQUIRE(mem);
  BOOST_TEST(mem->ram_total_bytes == 16000000 * kib);
  BOOST_TEST(mem->ram_used_bytes == 4000000 * kib);
  BOOST_TEST(mem->swap_total_bytes == 4000000 * kib);
  BOOST_TEST(mem->swap_used_bytes == 1000000 * kib);
  BOOST_TEST(!host::parse_meminfo("MemTotal: 100 kB\n"));
  BOOST_TEST(!host::parse_meminfo(""));
}

BOOST_AUTO_TEST_CASE(cpu_percent_comes_from_counter_deltas) {
  auto before = host::parse_cpu_times(stat_before);
  auto after = host::parse_cpu_times(stat_after);
  BOOST_REQUIRE(before);
  BOOST_REQUIRE(after);
  // Guest time is part of user time: totals count the first eight columns only.
  BOOST_TEST(before->total == 1000u);
  BOOST_TEST(before->busy == 200u);
  // Busy 200 of 500 ticks: user +150, system +50; idle +200, iowait +100.
  BOOST_TEST(host::cpu_percent(*before, *after) == 100.0f * 200 / 500);
  BOOST_TEST(host::cpu_percent(*after, *after) == 0.0f);
  BOOST_TEST(!host::parse_cpu_times("intr 1 2 3\n"));
  BOOST_TEST(!host::parse_cpu_times("cpu 1 x 3 4\n"));
}

BOOST_AUTO_TEST_CASE(a_missing_directory_is_measured_at_its_nearest_ancestor) {
  test::temp_dir dir;
  auto here = host::disk_of(dir.path());
  auto below = host::disk_of(dir / "not/yet/there");
  BOOST_REQUIRE(here);
  BOOST_REQUIRE(below);
  BOOST_TEST(here->total_bytes > 0);
  BOOST_TEST(below->total_bytes == here->total_bytes);
}

BOOST_FIXTURE_TEST_SUITE(server_monitor_tests, fixture)

BOOST_AUTO_TEST_CASE(every_interval_gives_one_sample_written_and_published) {
  start();
  BOOST_TEST(w->written.empty());
  write(proc / "stat", stat_after);
  next_sample();
  BOOST_REQUIRE_EQUAL(w->written.size(), 1u);
  auto& s = w->written[0];
  BOOST_TEST((s.at == epoch));
  BOOST_TEST(s.ram_total_bytes == 16000000 * kib);
  BOOST_TEST(s.ram_used_bytes == 4000000 * kib);
  BOOST_TEST(s.swap_used_bytes == 1000000 * kib);
  BOOST_TEST(s.cpu_percent == 40.0f);
  BOOST_TEST(s.disk_total_bytes > 0);
  BOOST_TEST(s.disk_used_bytes > 0);
  BOOST_TEST(s.active_slices == 3);
  BOOST_TEST(s.total_slices == 10);
  BOOST_REQUIRE_EQUAL(w->published.size(), 1u);
  BOOST_TEST((w->published[0].sample == s));
  next_sample();
  BOOST_TEST(w->written.size() == 2u);
  BOOST_TEST(w->written[1].cpu_percent == 0.0f); // the counters did not move
}

BOOST_AUTO_TEST_CASE(the_last_counts_stand_in_while_the_database_is_down) {
  start();
  next_sample();
  w->count_failure = make_error(ec::unavailable, "database down");
  w->totals = db::slice_totals{9, 9};
  next_sample();
  BOOST_REQUIRE_EQUAL(w->written.size(), 2u);
  BOOST_TEST(w->written[1].active_slices == 3);
  BOOST_TEST(w->written[1].total_slices == 10);
  BOOST_TEST(w->written[1].ram_total_bytes == 16000000 * kib);
}

BOOST_AUTO_TEST_CASE(with_several_instances_only_the_lease_holder_writes_samples) {
  config.wait_for_lease = true;
  start();
  next_sample();
  next_sample();
  BOOST_TEST(w->written.empty());
  BOOST_TEST(w->published.empty());
  // Holding the lease, it samples; with a CPU reading kept current meanwhile.
  write(proc / "stat", stat_after);
  caf::anon_send(monitor, lease::state{true, 1, "me"});
  run();
  next_sample();
  BOOST_REQUIRE_EQUAL(w->written.size(), 1u);
  BOOST_TEST(w->written[0].cpu_percent == 40.0f);
  BOOST_TEST(w->published.size() == 1u);
  // Another instance took it over: no more samples here.
  caf::anon_send(monitor, lease::state{false, 0, "other"});
  run();
  next_sample();
  BOOST_TEST(w->written.size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
