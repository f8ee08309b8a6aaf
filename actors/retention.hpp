#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include <caf/stateful_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/actors.hpp"
#include "actors/clock.hpp"

namespace slicegate {


/// What the retention actor keeps and how it deletes.
struct retention_config {
  /// Telemetry older than this goes.
  caf::timespan retention = std::chrono::hours{24 * 7};
  caf::timespan interval = std::chrono::hours{1};
  /// Day partitions of the telemetry tables made ahead of today, so that inserts find theirs
  /// even if passes stop for a while (no default partition catches a day without one).
  int32_t partitions_ahead = 3;
  /// Sessions older than this go whatever their expiry (the absolute cap).
  caf::timespan session_max_age = std::chrono::hours{24 * 90};
  /// Dead letters (rejected inbound events, with their bodies) older than this go.
  caf::timespan dead_letter_retention = std::chrono::hours{24 * 30};
  /// Rows per transaction: 10k rows take some 50 ms, short enough for the locks and for the
  /// requests waiting behind each batch at the persistence actor.
  int32_t batch = 10000;
  /// Whether passes wait for the singleton lease (several instances); otherwise they run
  /// from the start.
  bool wait_for_lease = false;
  /// How long one batch may take.
  caf::timespan request_timeout = std::chrono::seconds{60};
};


struct retention_state {
  static inline const char* name = "retention";
  retention_config config;
  pruner_actor store;
  clock_fn clock;
  /// Whether timed passes run: this instance holds the lease, or needs none.
  bool leader = true;
  /// A pass runs; what it deleted so far.
  bool running = false;
  telemetry::retention_report report;
  /// Asked for the running pass's report (`prune_now`).
  std::vector<caf::typed_response_promise<telemetry::retention_report>> waiters;
};

/// Every retention interval, and once at start: makes the telemetry tables' missing day
/// partitions, from the retention cutoff's day through `partitions_ahead` days after today,
/// drops the day partitions wholly older than the retention period, then deletes the rest of the boundary day's old rows one batch per
/// request until a batch comes back short, then old alerts and expired sessions; logs the
/// counts. One batch per request lets the persistence actor serve others in between. `store`
/// is the persistence actor (or a mock).
retention_actor::behavior_type
retention(retention_actor::stateful_pointer<retention_state> self, retention_config config,
          pruner_actor store, clock_fn clock);

} // namespace slicegate
