#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <caf/stateful_actor.hpp>

#include "actors/actors.hpp"
#include "actors/clock.hpp"
#include "actors/tick_schedule.hpp"

namespace slicegate {


/// `wa_state` of a slice that did not answer, or answered with a non-2xx status.
constexpr const char* wa_state_unreachable = "unreachable";

/// Where in every `interval` slice `slice_id` is probed when staggered: the fractional part of
/// id × golden ratio, which spreads consecutive ids evenly however many there are.
caf::timespan phase_offset(int32_t slice_id, caf::timespan interval);

/// The first instant after `after` at which the wall clock, counted from the epoch, is
/// `offset` into an `interval`: t with t mod interval == offset. Every instance computes the
/// same instants for a slice, whenever it starts watching it.
timestamp next_phase(timestamp after, caf::timespan interval, caf::timespan offset);

/// `wa_state` of a healthy slice whose body did not say.
constexpr const char* wa_state_unknown = "unknown";

/// Whether a slice reporting `wa_state` has a live WhatsApp session.
bool wa_connected(const std::string& wa_state);

/// The slice a watcher watches, as the slice manager knows it.
struct watched_slice {
  /// What the runtime needs to restart the slice; its id and port are what is probed, its
  /// data directory what is measured.
  slice_spec spec;
  /// `available` or `assigned`: only an assigned slice raises `unhealthy` and is restarted.
  slice_status status = slice_status::available;
  /// When the slice was last started: probes failing within the start period after it do
  /// not count.
  timestamp started_at;
  /// `wa_connected` as the slice row last recorded it, so that the first probe after a
  /// daemon restart alerts only on a real change; none when unknown.
  optional<bool> wa_connected;
};

/// Whom a watcher talks to; one set shared by all watchers.
struct slice_watcher_peers {
  prober_actor prober;
  slice_runtime_actor runtime;
  telemetry_writer_actor writer;
  event_sink_actor events;
  /// Stamps samples and measures the start period; tests pass one they move.
  clock_fn clock = system_clock();
  /// Delivers the staggered watchers' probe and walk ticks (the daemon's, shared by all);
  /// none: CAF's actor clock does (tests on the deterministic scheduler).
  std::shared_ptr<tick_schedule> schedule;
};

/// How a watcher probes and judges; the same for all watchers.
struct slice_watcher_config {
  std::string slice_host = "127.0.0.1";
  caf::timespan health_interval = std::chrono::seconds{60};
  caf::timespan health_timeout = std::chrono::seconds{5};
  caf::timespan health_start_period = std::chrono::seconds{60};
  int32_t health_failures = 3;
  caf::timespan disk_interval = std::chrono::seconds{300};
  /// Alert thresholds; 0 turns an alert off.
  int64_t memory_alert_bytes = 0;
  int64_t disk_alert_bytes = 0;
  /// The pause before restarting a slice that is still unhealthy after a restart; doubles
  /// with each restart up to the maximum, and starts over once the slice recovers.
  caf::timespan restart_backoff = std::chrono::seconds{60};
  caf::timespan max_restart_backoff = std::chrono::minutes{30};
  /// How long a restart may take (the runtime stops the slice with a grace period first).
  caf::timespan restart_timeout = std::chrono::seconds{60};
  /// Probe each slice at a fixed phase of the wall clock, its own offset (by slice id) into
  /// every health interval, and measure its disk at its offset into every disk interval: the
  /// probes of many slices stay evenly spread for good, and any instance that takes a slice
  /// over probes it at the same instants. Off (tests): the first probe and walk at once, then
  /// the next probe one interval after each cycle ends, the next walk one after each walk.
  bool stagger = true;
  /// Whether the runtime measures memory and CPU. Off (the `external` runtime, whose slices
  /// run elsewhere): samples carry no figures and no cycle asks the runtime for them.
  bool runtime_usage = true;
};


struct slice_watcher_state {
  static inline const char* name = "slice-watcher";
  watched_slice slice;
  slice_watcher_peers peers;
  slice_watcher_config config;
  /// A probe cycle is in flight; its two answers land here until both are in.
  bool probing = false;
  /// Counts the cycles, so that an answer to one given up on is recognized and dropped.
  uint64_t cycle = 0;
  /// When the cycle in flight started, by `peers.clock`.
  timestamp cycle_started;
  optional<telemetry::health_result> health;
  optional<slice_usage> usage;
  /// When staggered: the instant the next probe is due, as armed.
  timestamp next_probe_at;
  /// A disk walk is in flight.
  bool measuring = false;
  /// When staggered: the instant the next disk walk is due, as armed.
  timestamp next_walk_at;
  /// The last measured disk usage, carried by every sample until the next walk.
  optional<int64_t> disk_bytes;
  /// The last phone the slice reported.
  optional<std::string> wa_phone;
  /// Failed probes in a row, not counting those within the start period.
  int32_t failures = 0;
  /// `unhealthy` was raised and `recovered` not yet.
  bool unhealthy = false;
  bool memory_high = false;
  bool disk_high = false;
  /// A restart is in flight; the next one not before `restart_at`.
  bool restarting = false;
  timestamp restart_at;
  caf::timespan restart_backoff{0};
};

/// Watches one slice. Every health interval it probes `/health` through the prober and reads
/// memory and CPU from the runtime, at once; when both have answered (or failed) it sends a
/// sample and the slice's health columns to the writer and publishes `slice_health` and any
/// alert. Staggered, probes fall at the slice's phase of every interval however long a cycle
/// takes (a cycle still running at the next phase skips that one, and is given up on, with an
/// unreachable sample, at the first phase after its deadline); unstaggered, the next
/// probe follows one interval after each cycle. Disk usage is measured on its own slower
/// cadence, in the same way; until the first walk a sample carries no disk figure. After
/// the start period, `health-failures` failed probes in a row on an assigned slice raise
/// `unhealthy` and restart it through the runtime, with back-off between restarts.
///
/// The slice manager spawns one per watched slice, `self->spawn(slice_watcher, slice, peers,
/// config)`, tells it about status changes and restarts (`telemetry::slice_status`,
/// `telemetry::slice_started`), and stops it with an exit message.
slice_watcher_actor::behavior_type
slice_watcher(slice_watcher_actor::stateful_pointer<slice_watcher_state> self,
              watched_slice slice, slice_watcher_peers peers, slice_watcher_config config);

} // namespace slicegate
