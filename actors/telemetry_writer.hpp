#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <vector>

#include <caf/actor_clock.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/actors.hpp"

namespace slicegate {

/// How the telemetry writer batches and how much it keeps while the database is down.
struct telemetry_writer_config {
  /// A batch this large is written at once instead of waiting for the next flush.
  size_t batch_size = 500;
  /// The longest a sample waits while the database is up.
  caf::timespan flush_interval = std::chrono::seconds{1};
  /// Per-slice samples kept while writes fail; beyond, the oldest are dropped. 100k samples
  /// are 100 minutes of 1,000 slices, about 10 MB.
  size_t max_buffered = 100000;
  /// Host samples kept while writes fail (one a minute: a day's worth).
  size_t max_server_buffered = 1440;
  /// Alerts kept while writes fail; beyond, the oldest are dropped.
  size_t max_alerts_buffered = 10000;
  /// After a failed write, the next attempt waits `flush_interval`, doubling up to this.
  caf::timespan max_backoff = std::chrono::seconds{10};
  /// How long one write may take before it counts as failed.
  caf::timespan request_timeout = std::chrono::seconds{30};
};

/// One round of writes: what was taken out of the buffers, and is put back if it fails.
struct telemetry_batch {
  std::vector<telemetry_sample> samples;
  std::vector<server_sample> server_samples;
  std::vector<db::slice_health_row> slice_rows;
  std::vector<events::slice_alert> alerts;

  bool empty() const {
    return samples.empty() && server_samples.empty() && slice_rows.empty() && alerts.empty();
  }
};

struct telemetry_writer_state {
  static inline const char* name = "telemetry-writer";
  telemetry_writer_config config;
  telemetry_store_actor store;
  std::deque<telemetry_sample> samples;
  std::deque<server_sample> server_samples;
  /// The newest health columns per slice: only the last probe matters to the row.
  std::map<int32_t, db::slice_health_row> slice_rows;
  /// Alerts for the overview's log, in the order they were raised.
  std::deque<events::slice_alert> alerts;
  telemetry::writer_stats stats;
  /// A round is in flight; everything arriving meanwhile waits for the next.
  bool writing = false;
  /// The pause after the last failure (zero while writes succeed), and when it ends.
  caf::timespan backoff{0};
  caf::actor_clock::time_point retry_at;
  /// Whether samples were dropped in the current outage (to log that once).
  bool dropping = false;
  /// Answered when the buffers are empty, or when a write fails.
  std::vector<caf::typed_response_promise<telemetry::writer_stats>> flush_waiters;

  /// Takes the next batch out of the buffers.
  telemetry_batch take();
  /// Puts back what a failed round did not write, in front of anything newer, dropping the
  /// oldest beyond the limits.
  void put_back(telemetry_batch&& batch);
  /// Appends a sample, dropping the oldest if the buffer is full.
  void push(telemetry_sample&& x);
  void push(server_sample&& x);
  void push(events::slice_alert&& x);
  /// The counters with the current buffer sizes.
  telemetry::writer_stats current_stats() const;
};

/// Batches per-slice samples, host samples, slice health rows and alerts in front of
/// persistence.
/// Writes when `batch_size` samples wait or every `flush_interval`; while the database is
/// down it keeps a bounded backlog and retries with back-off. Only `ec::unavailable` and
/// timeouts are retried: a batch the database refuses for any other reason would be refused
/// forever, so it is dropped and logged. `store` is the persistence actor (or a mock).
telemetry_writer_actor::behavior_type
telemetry_writer(telemetry_writer_actor::stateful_pointer<telemetry_writer_state> self,
                 telemetry_store_actor store, telemetry_writer_config cfg);

} // namespace slicegate
