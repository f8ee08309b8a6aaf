#define BOOST_TEST_MODULE slice_watcher
#include "actors/slice_watcher.hpp"

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <caf/all.hpp>

#include "actors/actors.hpp"
#include "messages/error.hpp"
#include "tests/support/caf_printing.hpp"
#include "tests/support/printing.hpp"
#include "tests/support/system.hpp"

using namespace slicegate;
using namespace std::chrono_literals;
using events::alert_kind;

namespace {

constexpr int32_t slice_id = 7;
constexpr int64_t mib = 1024 * 1024;

/// What the mocks answer, and everything the watcher sent them. Everything runs on the test
/// thread (deterministic scheduler), so plain members will do.
struct world {
  /// The prober's answer to the next health checks.
  telemetry::health_result answer;
  int64_t disk_bytes = 4096;
  slice_usage usage;
  /// The runtime fails usage requests while this is set.
  bool usage_fails = false;
  int usage_requests = 0;
  std::vector<slice_spec> restarts;
  std::vector<telemetry::health_check> checks;
  std::vector<telemetry_sample> samples;
  std::vector<db::slice_health_row> rows;
  std::vector<events::slice_health> health;
  std::vector<events::slice_alert> alerts;
  /// Alerts handed to the writer for the alert log.
  std::vector<events::slice_alert> logged_alerts;
  /// When the prober was asked to probe and to walk, by the watcher's clock.
  std::vector<timestamp> check_times;
  std::vector<timestamp> walk_times;
  /// The prober keeps health checks unanswered while this is set.
  bool prober_silent = false;
  std::vector<caf::typed_response_promise<telemetry::health_result>> unanswered;
  std::function<timestamp()> clock;
  /// Messages a mock received that the watcher should never send.
  std::vector<std::string> unexpected;

  void answer_ok(std::string wa_state = "CONNECTED", std::string phone = "+15551234567") {
    answer = telemetry::health_result{200, wa_state, phone, ""};
  }

  void answer_unreachable() {
    answer = telemetry::health_result{0, caf::none, caf::none, "Couldn't connect to server"};
  }

  std::vector<alert_kind> alert_kinds() const {
    std::vector<alert_kind> result;
    for (auto& a : alerts)
      result.push_back(a.kind);
    return result;
  }
};

using world_ptr = std::shared_ptr<world>;

/// A disk walk of this path makes the mock prober answer the health checks it held back.
constexpr const char* answer_late = "answer the held-back checks";

prober_actor::behavior_type mock_prober(prober_actor::pointer self, world_ptr w) {
  return {
    [self, w](telemetry::health_check& x) -> caf::result<telemetry::health_result> {
      w->checks.push_back(x);
      w->check_times.push_back(w->clock());
      if (w->prober_silent) {
        auto rp = self->make_response_promise<telemetry::health_result>();
        w->unanswered.push_back(rp);
        return rp;
      }
      return w->answer;
    },
    [w](telemetry::disk_usage& x) {
      // The test's cue to answer the checks held back, from the prober's own context.
      if (x.path == answer_late) {
        for (auto& rp : w->unanswered)
          rp.deliver(w->answer);
        w->unanswered.clear();
        return w->disk_bytes;
      }
      w->walk_times.push_back(w->clock());
      return w->disk_bytes;
    },
  };
}

slice_runtime_actor::behavior_type mock_runtime(slice_runtime_actor::pointer, world_ptr w) {
  return {
    [w](rt::usage&) -> caf::result<slice_usage> {
      ++w->usage_requests;
      if (w->usage_fails)
        return make_error(ec::unavailable, "runtime busy");
      return w->usage;
    },
    [w](rt::restart& x) {
      w->restarts.push_back(x.spec);
      return true;
    },
  };
}

telemetry_writer_actor::behavior_type mock_writer(telemetry_writer_actor::pointer,
                                                  world_ptr w) {
  return {
    [w](telemetry_sample& x) { w->samples.push_back(x); },
    [w](server_sample&) { w->unexpected.push_back("server_sample"); },
    [w](db::slice_health_row& x) { w->rows.push_back(x); },
    [w](events::slice_alert& x) { w->logged_alerts.push_back(x); },
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
    [w](events::slice_health& x) { w->health.push_back(x); },
    [w](events::slice_alert& x) { w->alerts.push_back(x); },
    [w](events::event_rejected&) { w->unexpected.push_back("event_rejected"); },
    [w](events::server_telemetry&) { w->unexpected.push_back("server_telemetry"); },
  };
}

/// A watcher with mocked peers on the deterministic scheduler. Wall time (the watcher's
/// clock) follows the scheduler's virtual time.
struct fixture : test::deterministic_system {
  world_ptr w = std::make_shared<world>();
  timestamp epoch = timestamp{std::chrono::hours{24 * 20000}};
  caf::actor_clock::time_point started = clock_now();
  slice_watcher_config config;
  slice_watcher_peers peers;
  slice_watcher_actor watcher;

  fixture() {
    w->answer_ok();
    w->usage = slice_usage{100 * mib, 12.5};
    config.health_interval = 10s;
    config.health_timeout = 2s;
    config.health_start_period = 30s;
    config.health_failures = 3;
    config.disk_interval = 60s;
    config.restart_backoff = 60s;
    config.max_restart_backoff = 240s;
    config.stagger = false;
  }

  ~fixture() {
    BOOST_TEST(w->unexpected.empty());
    for (auto& x : w->unexpected)
      BOOST_TEST_MESSAGE("unexpected message: " << x);
  }

  timestamp now() {
    return epoch + (clock_now() - started);
  }

  /// Spawns the watcher for an `assigned` slice started `age` ago and lets it take its first
  /// sample.
  void start(slice_status status = slice_status::assigned, caf::timespan age = 0s,
             optional<bool> wa_connected = true) {
    w->clock = [this] {
      return now();
    };
    peers.prober = spawn(mock_prober, w);
    peers.runtime = spawn(mock_runtime, w);
    peers.writer = spawn(mock_writer, w);
    peers.events = spawn(mock_events, w);
    peers.clock = [this] {
      return now();
    };
    watcher = spawn_watcher(status, age, wa_connected);
    run();
  }

  slice_watcher_actor spawn_watcher(slice_status status = slice_status::assigned,
                                    caf::timespan age = 0s, optional<bool> wa_connected = true) {
    watched_slice slice{slice_spec{slice_id, 5013, "/srv/slices/7", "postgresql:///wa_slice_7"},
                        std::move(status), now() - age, wa_connected};
    return spawn(slice_watcher, slice, peers, config);
  }

  /// Moves time to `t` by the watcher's clock in steps of `step`: a timer fires at the end of
  /// the step it falls into, so an instant a watcher sees is at most one step late.
  static constexpr caf::timespan step = std::chrono::milliseconds{10};
  void advance_to(timestamp t) {
    BOOST_REQUIRE(t >= now());
    while (now() < t)
      advance(std::min(caf::timespan{t - now()}, step));
  }

  /// Whether `seen` is `expected`, or at most one step after it.
  static bool on_time(timestamp seen, timestamp expected) {
    return seen >= expected && seen - expected < step;
  }

  /// Where in an interval `t` falls, counted from the epoch of the wall clock.
  static caf::timespan phase_of(timestamp t, caf::timespan interval) {
    return std::chrono::duration_cast<caf::timespan>(t.time_since_epoch()) % interval;
  }

  /// Moves time to the next probe and lets everything settle.
  void next_probe() {
    advance(config.health_interval);
  }

  void probes(int n) {
    for (int i = 0; i < n; ++i)
      next_probe();
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(slice_watcher_tests, fixture)

BOOST_AUTO_TEST_CASE(a_healthy_slice_gives_one_sample_per_interval) {
  w->disk_bytes = 1 * mib;
  start();
  BOOST_REQUIRE_EQUAL(w->samples.size(), 1u);
  auto& s = w->samples[0];
  BOOST_TEST(s.slice_id == slice_id);
  BOOST_TEST(s.wa_state == "CONNECTED");
  BOOST_TEST(s.rss_bytes == optional<int64_t>{100 * mib});
  BOOST_TEST(s.cpu_percent == optional<double>{12.5});
  BOOST_TEST(s.disk_bytes == optional<int64_t>{1 * mib});
  BOOST_TEST(w->checks.at(0).host == "127.0.0.1");
  BOOST_TEST(w->checks.at(0).port == 5013);
  BOOST_TEST((w->checks.at(0).timeout == 2s));
  BOOST_REQUIRE_EQUAL(w->rows.size(), 1u);
  auto& r = w->rows[0];
  BOOST_TEST(r.healthy);
  BOOST_TEST(r.wa_connected);
  BOOST_TEST(r.answered);
  BOOST_TEST(r.wa_phone == optional<std::string>{"+15551234567"});
  BOOST_TEST(r.storage_bytes == optional<int64_t>{1 * mib});
  BOOST_TEST((r.at == s.at));
  BOOST_REQUIRE_EQUAL(w->health.size(), 1u);
  BOOST_TEST(w->health[0].healthy);
  BOOST_TEST(w->health[0].wa_connected);
  BOOST_TEST((w->health[0].sample == s));
  probes(2);
  BOOST_TEST(w->samples.size() == 3u);
  BOOST_TEST(w->health.size() == 3u);
  BOOST_TEST(w->alerts.empty());
  BOOST_TEST(w->restarts.empty());
}

BOOST_AUTO_TEST_CASE(an_unreachable_slice_is_sampled_as_unreachable) {
  start();
  w->answer_unreachable();
  next_probe();
  auto& s = w->samples.back();
  BOOST_TEST(s.wa_state == wa_state_unreachable);
  BOOST_TEST(s.rss_bytes == optional<int64_t>{100 * mib});
  auto& r = w->rows.back();
  BOOST_TEST(!r.healthy);
  BOOST_TEST(!r.wa_connected);
  BOOST_TEST(!r.answered);
  BOOST_TEST(!w->health.back().healthy);
  // The event keeps the phone the slice reported last; the row keeps its stored one.
  BOOST_TEST(w->health.back().wa_phone == optional<std::string>{"+15551234567"});
}

BOOST_AUTO_TEST_CASE(a_slice_without_usage_figures_is_still_sampled) {
  w->usage_fails = true;
  start();
  BOOST_REQUIRE_EQUAL(w->samples.size(), 1u);
  BOOST_TEST(!w->samples[0].rss_bytes);
  BOOST_TEST(!w->samples[0].cpu_percent);
  BOOST_TEST(w->samples[0].wa_state == "CONNECTED");
}

BOOST_AUTO_TEST_CASE(a_runtime_without_figures_is_not_asked_for_them) {
  config.runtime_usage = false;
  start();
  probes(2);
  BOOST_REQUIRE_EQUAL(w->samples.size(), 3u);
  BOOST_TEST(w->usage_requests == 0);
  BOOST_TEST(!w->samples[2].rss_bytes);
  BOOST_TEST(w->samples[2].wa_state == "CONNECTED");
}

BOOST_AUTO_TEST_CASE(failures_within_the_start_period_do_not_count) {
  w->answer_unreachable();
  start();   // started just now: the start period runs for 30 s
  probes(2); // t = 20 s
  BOOST_TEST(w->alerts.empty());
  BOOST_TEST(w->restarts.empty());
  probes(2); // t = 30 s and 40 s: two failures count
  BOOST_TEST(w->alerts.empty());
  next_probe(); // t = 50 s: the third
  BOOST_TEST(w->alert_kinds()
               == (std::vector<alert_kind>{alert_kind::unhealthy, alert_kind::restarted}),
             boost::test_tools::per_element());
  BOOST_REQUIRE_EQUAL(w->restarts.size(), 1u);
  BOOST_TEST(w->restarts[0].slice_id == slice_id);
  BOOST_TEST(w->restarts[0].database_url == "postgresql:///wa_slice_7");
}

BOOST_AUTO_TEST_CASE(consecutive_failures_raise_unhealthy_once_and_restart_with_back_off) {
  start(slice_status::assigned, 1h);
  w->answer_unreachable();
  probes(2);
  BOOST_TEST(w->alerts.empty());
  next_probe();
  BOOST_TEST(w->alert_kinds()
               == (std::vector<alert_kind>{alert_kind::unhealthy, alert_kind::restarted}),
             boost::test_tools::per_element());
  BOOST_TEST(w->alerts[0].detail.find("Couldn't connect") != std::string::npos);
  // Every alert published is logged too, for the overview.
  BOOST_TEST((w->logged_alerts == w->alerts));
  BOOST_TEST(w->restarts.size() == 1u);
  // Still down after the restart: a new start period (30 s), then three failures; the back-off
  // (60 s since the restart) has passed by then, so a second restart follows, unhealthy is
  // not raised again.
  probes(6);
  BOOST_TEST(w->restarts.size() == 2u);
  BOOST_TEST(w->alert_kinds()
               == (std::vector<alert_kind>{alert_kind::unhealthy, alert_kind::restarted,
                                           alert_kind::restarted}),
             boost::test_tools::per_element());
  // The back-off doubled to 120 s: three failures after the start period are not enough.
  probes(6);
  BOOST_TEST(w->restarts.size() == 2u);
  probes(6);
  BOOST_TEST(w->restarts.size() == 3u);
}

BOOST_AUTO_TEST_CASE(a_recovering_slice_raises_recovered) {
  start(slice_status::assigned, 1h);
  w->answer_unreachable();
  probes(3);
  w->answer_ok();
  next_probe();
  BOOST_TEST(w->alert_kinds()
               == (std::vector<alert_kind>{alert_kind::unhealthy, alert_kind::restarted,
                                           alert_kind::recovered}),
             boost::test_tools::per_element());
  BOOST_TEST(w->rows.back().healthy);
  // Healthy again: a single failure later is just a failure.
  w->answer_unreachable();
  next_probe();
  BOOST_TEST(w->alerts.size() == 3u);
}

BOOST_AUTO_TEST_CASE(an_available_slice_is_never_restarted) {
  start(slice_status::available, 1h);
  w->answer_unreachable();
  probes(10);
  BOOST_TEST(w->alerts.empty());
  BOOST_TEST(w->restarts.empty());
  BOOST_TEST(!w->rows.back().healthy);
  // Assigned while failing: the next failure raises it.
  caf::anon_send(watcher, telemetry::slice_status{slice_status::assigned});
  run();
  next_probe();
  BOOST_TEST(w->alert_kinds()
               == (std::vector<alert_kind>{alert_kind::unhealthy, alert_kind::restarted}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_restart_reported_by_the_slice_manager_begins_a_start_period) {
  start(slice_status::assigned, 1h);
  w->answer_unreachable();
  probes(2);
  caf::anon_send(watcher, telemetry::slice_started{now()});
  run();
  probes(3); // within the new start period
  BOOST_TEST(w->alerts.empty());
  probes(3);
  BOOST_TEST(w->alert_kinds()
               == (std::vector<alert_kind>{alert_kind::unhealthy, alert_kind::restarted}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(whatsapp_transitions_raise_alerts) {
  start(slice_status::assigned, 1h, true);
  BOOST_TEST(w->alerts.empty()); // connected, as the row said
  w->answer_ok("DISCONNECTED", "");
  next_probe();
  BOOST_TEST(w->alert_kinds() == (std::vector<alert_kind>{alert_kind::wa_disconnected}),
             boost::test_tools::per_element());
  BOOST_TEST(!w->rows.back().wa_connected);
  // Unreachable says nothing about WhatsApp.
  w->answer_unreachable();
  next_probe();
  BOOST_TEST(w->alerts.size() == 1u);
  w->answer_ok("open");
  next_probe();
  BOOST_TEST(
    w->alert_kinds()
      == (std::vector<alert_kind>{alert_kind::wa_disconnected, alert_kind::wa_connected}),
    boost::test_tools::per_element());
  BOOST_TEST(w->rows.back().wa_connected);
  BOOST_TEST(w->health.back().wa_connected);
}

BOOST_AUTO_TEST_CASE(an_unknown_whatsapp_state_alerts_on_nothing_first) {
  w->answer_ok("DISCONNECTED");
  start(slice_status::available, 1h, caf::none);
  BOOST_TEST(w->alerts.empty());
  w->answer_ok("CONNECTED");
  next_probe();
  BOOST_TEST(w->alert_kinds() == (std::vector<alert_kind>{alert_kind::wa_connected}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_healthy_answer_without_state_is_unknown) {
  w->answer = telemetry::health_result{204, caf::none, caf::none, ""};
  start();
  BOOST_TEST(w->samples.back().wa_state == wa_state_unknown);
  BOOST_TEST(w->rows.back().healthy);
  BOOST_TEST(!w->rows.back().wa_connected);
  BOOST_TEST(!w->rows.back().wa_phone);
  BOOST_TEST(w->alerts.empty()); // the row said connected; the slice did not say otherwise
}

BOOST_AUTO_TEST_CASE(memory_above_the_threshold_alerts_once_per_excursion) {
  config.memory_alert_bytes = 512 * mib;
  start();
  w->usage.rss_bytes = 600 * mib;
  probes(3);
  BOOST_TEST(w->alert_kinds() == (std::vector<alert_kind>{alert_kind::memory_high}),
             boost::test_tools::per_element());
  BOOST_TEST(w->alerts[0].detail == "600 MiB above the threshold of 512 MiB");
  w->usage.rss_bytes = 400 * mib;
  next_probe();
  w->usage.rss_bytes = 700 * mib;
  next_probe();
  BOOST_TEST(w->alert_kinds()
               == (std::vector<alert_kind>{alert_kind::memory_high, alert_kind::memory_high}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(disk_is_measured_on_its_own_cadence) {
  config.disk_alert_bytes = 10 * mib;
  w->disk_bytes = 1 * mib;
  start();
  w->disk_bytes = 20 * mib;
  probes(5); // 50 s: the next walk is due at 60 s
  BOOST_TEST(w->samples.back().disk_bytes == optional<int64_t>{1 * mib});
  BOOST_TEST(w->alerts.empty());
  next_probe();
  next_probe();
  BOOST_TEST(w->samples.back().disk_bytes == optional<int64_t>{20 * mib});
  BOOST_TEST(w->rows.back().storage_bytes == optional<int64_t>{20 * mib});
  BOOST_TEST(w->alert_kinds() == (std::vector<alert_kind>{alert_kind::disk_high}),
             boost::test_tools::per_element());
}

// -- the staggered schedule ------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(next_phase_is_the_next_instant_at_the_offset_into_an_interval) {
  auto interval = caf::timespan{60s};
  for (int32_t id : {1, 2, 7, 1000, 9999}) {
    auto offset = phase_offset(id, interval);
    BOOST_TEST((offset >= 0s && offset < interval));
    for (auto after : {epoch, epoch + 17s, epoch + offset, epoch + offset + 1ns, epoch - 61s}) {
      auto t = next_phase(after, interval, offset);
      BOOST_TEST((t > after));
      BOOST_TEST((t - after <= interval));
      BOOST_TEST((phase_of(t, interval) == offset));
    }
  }
  // Consecutive ids fall far apart within the interval, not next to each other.
  auto gap = phase_offset(2, interval) - phase_offset(1, interval);
  BOOST_TEST((gap > 10s || gap < -10s));
}

BOOST_AUTO_TEST_CASE(a_staggered_watcher_probes_at_its_phase_of_every_interval) {
  config.stagger = true;
  start();
  auto offset = phase_offset(slice_id, config.health_interval);
  // Nothing at spawn: the first probe waits for the slice's phase.
  BOOST_TEST(w->checks.empty());
  auto first = next_phase(now(), config.health_interval, offset);
  advance_to(first - 1ms);
  BOOST_TEST(w->checks.empty());
  advance(1ms);
  BOOST_REQUIRE_EQUAL(w->checks.size(), 1u);
  advance_to(first + 5 * config.health_interval - 1ms);
  BOOST_TEST(w->samples.size() == 5u);
  advance(1ms);
  BOOST_REQUIRE_EQUAL(w->check_times.size(), 6u);
  for (size_t i = 0; i < w->check_times.size(); ++i)
    BOOST_TEST(on_time(w->check_times[i], first + static_cast<int>(i) * config.health_interval));
}

BOOST_AUTO_TEST_CASE(a_slow_cycle_does_not_move_the_phase) {
  config.stagger = true;
  start();
  w->prober_silent = true;
  auto first = next_phase(now(), config.health_interval,
                          phase_offset(slice_id, config.health_interval));
  advance_to(first + 6s);
  // The prober has not answered by the deadline (2 × 2 s + 1 s); the next phase gives up on
  // the cycle, records it, and probes again on time.
  BOOST_TEST(w->samples.empty());
  w->prober_silent = false;
  advance_to(first + config.health_interval);
  BOOST_REQUIRE_EQUAL(w->samples.size(), 2u);
  BOOST_TEST(w->samples[0].wa_state == wa_state_unreachable);
  BOOST_TEST(w->samples[1].wa_state == "CONNECTED");
  advance_to(first + 3 * config.health_interval);
  BOOST_REQUIRE_EQUAL(w->check_times.size(), 4u);
  for (size_t i = 0; i < w->check_times.size(); ++i)
    BOOST_TEST(on_time(w->check_times[i], first + static_cast<int>(i) * config.health_interval));
  BOOST_TEST(w->samples.size() == 4u);
  // The answer to the cycle given up on, when it comes at last, is dropped.
  BOOST_REQUIRE_EQUAL(w->unanswered.size(), 1u);
  caf::anon_send(peers.prober, telemetry::disk_usage{answer_late});
  run();
  BOOST_TEST(w->unanswered.empty());
  BOOST_TEST(w->samples.size() == 4u);
}

BOOST_AUTO_TEST_CASE(a_cycle_still_running_at_the_next_phase_skips_that_probe) {
  config.stagger = true;
  config.health_timeout = 8s; // the cycle's deadline is 17 s, past the next phase
  start();
  w->prober_silent = true;
  auto first = next_phase(now(), config.health_interval,
                          phase_offset(slice_id, config.health_interval));
  advance_to(first + config.health_interval);
  BOOST_TEST(w->checks.size() == 1u);
  w->prober_silent = false;
  advance_to(first + 2 * config.health_interval);
  BOOST_REQUIRE_EQUAL(w->check_times.size(), 2u);
  BOOST_TEST(on_time(w->check_times[1], first + 2 * config.health_interval));
  BOOST_TEST(w->samples.size() == 2u);
  w->unanswered.clear();
}

BOOST_AUTO_TEST_CASE(a_watcher_taking_over_a_slice_probes_at_the_same_phase) {
  config.stagger = true;
  start();
  auto first = next_phase(now(), config.health_interval,
                          phase_offset(slice_id, config.health_interval));
  advance_to(first + 2 * config.health_interval + 3s);
  BOOST_REQUIRE_EQUAL(w->check_times.size(), 3u);
  // The first watcher's instance stops watching; another starts, mid-interval.
  caf::anon_send_exit(watcher, caf::exit_reason::user_shutdown);
  run();
  advance_to(now() + 2s);
  auto successor = spawn_watcher();
  run();
  advance_to(first + 5 * config.health_interval);
  BOOST_REQUIRE_EQUAL(w->check_times.size(), 6u);
  // One probe per interval across the hand-over, each at the same phase.
  for (size_t i = 0; i < w->check_times.size(); ++i)
    BOOST_TEST(on_time(w->check_times[i], first + static_cast<int>(i) * config.health_interval));
  caf::anon_send_exit(successor, caf::exit_reason::user_shutdown);
  run();
}

BOOST_AUTO_TEST_CASE(staggered_disk_walks_fall_at_their_phase_of_the_disk_interval) {
  config.stagger = true;
  w->disk_bytes = 3 * mib;
  start();
  BOOST_TEST(w->walk_times.empty());
  auto first = next_phase(now(), config.disk_interval,
                          phase_offset(slice_id, config.disk_interval));
  advance_to(first - 1ms);
  BOOST_TEST(w->walk_times.empty());
  // Samples before the first walk carry no disk figure.
  BOOST_REQUIRE(!w->samples.empty());
  BOOST_TEST(!w->samples.back().disk_bytes);
  advance_to(first + 3 * config.disk_interval);
  BOOST_REQUIRE_EQUAL(w->walk_times.size(), 4u);
  for (size_t i = 0; i < w->walk_times.size(); ++i)
    BOOST_TEST(on_time(w->walk_times[i], first + static_cast<int>(i) * config.disk_interval));
  BOOST_TEST(w->samples.back().disk_bytes == optional<int64_t>{3 * mib});
}

BOOST_AUTO_TEST_SUITE_END()
