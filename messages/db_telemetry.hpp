#pragma once

// Requests to the persistence actor about time series and slice health. Each struct is one
// operation; its reply type is listed with the persistence interface in actors/actors.hpp.

#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "messages/records.hpp"

namespace slicegate::db {

/// Inserts per-slice samples into `gateway.telemetry` in one COPY; replies with the number of
/// rows written. Samples of slices that no longer exist fail the whole batch (foreign key),
/// so callers send only samples of slices they watch.
struct insert_telemetry {
  std::vector<telemetry_sample> samples;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, insert_telemetry& x) {
  return f(caf::meta::type_name("db::insert_telemetry"), x.samples);
}

inline bool operator==(const insert_telemetry& x, const insert_telemetry& y) {
  return x.samples == y.samples;
}

/// The health columns of one `gateway.slices` row, as a slice's last probe left them.
struct slice_health_row {
  int32_t slice_id = 0;
  /// Becomes `last_health_at`.
  timestamp at;
  bool healthy = false;
  bool wa_connected = false;
  /// Whether the slice answered the probe. Only an answer says anything about the phone, so
  /// `wa_phone` is written only then; an unreachable slice keeps the stored one.
  bool answered = false;
  optional<std::string> wa_phone;
  /// The last measured disk usage; none keeps the stored `storage_bytes`.
  optional<int64_t> storage_bytes;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, slice_health_row& x) {
  return f(caf::meta::type_name("db::slice_health_row"), x.slice_id, x.at, x.healthy,
           x.wa_connected, x.answered, x.wa_phone, x.storage_bytes);
}

inline bool operator==(const slice_health_row& x, const slice_health_row& y) {
  return std::tie(x.slice_id, x.at, x.healthy, x.wa_connected, x.answered, x.wa_phone,
                  x.storage_bytes)
         == std::tie(y.slice_id, y.at, y.healthy, y.wa_connected, y.answered, y.wa_phone,
                     y.storage_bytes);
}

/// Writes the health columns of several slices in one transaction; replies with the number of
/// rows updated (a slice deleted meanwhile is skipped, not an error).
struct update_slice_health {
  std::vector<slice_health_row> rows;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, update_slice_health& x) {
  return f(caf::meta::type_name("db::update_slice_health"), x.rows);
}

inline bool operator==(const update_slice_health& x, const update_slice_health& y) {
  return x.rows == y.rows;
}

/// Inserts host samples into `gateway.server_telemetry` in one transaction; replies with the
/// number of rows written.
struct insert_server_samples {
  std::vector<server_sample> samples;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, insert_server_samples& x) {
  return f(caf::meta::type_name("db::insert_server_samples"), x.samples);
}

inline bool operator==(const insert_server_samples& x, const insert_server_samples& y) {
  return x.samples == y.samples;
}

/// Counts slices; replies with `slice_totals`.
struct slice_counts {};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, slice_counts&) {
  return f(caf::meta::type_name("db::slice_counts"));
}

inline bool operator==(const slice_counts&, const slice_counts&) {
  return true;
}

/// Reply to `slice_counts`.
struct slice_totals {
  /// Slices with status `assigned`.
  int32_t active = 0;
  /// Every slice, whatever its status.
  int32_t total = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, slice_totals& x) {
  return f(caf::meta::type_name("db::slice_totals"), x.active, x.total);
}

inline bool operator==(const slice_totals& x, const slice_totals& y) {
  return x.active == y.active && x.total == y.total;
}

/// Deletes at most `batch` rows of `gateway.telemetry` older than `cutoff` and of the same
/// UTC day as `cutoff`, in one transaction; replies with the number deleted. Fewer than
/// `batch` means nothing is left. Older days go whole, as partitions (`maintain_partitions`).
/// One batch per request, so that other requests get their turn between batches.
struct prune_telemetry {
  timestamp cutoff;
  int32_t batch = 10000;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, prune_telemetry& x) {
  return f(caf::meta::type_name("db::prune_telemetry"), x.cutoff, x.batch);
}

inline bool operator==(const prune_telemetry& x, const prune_telemetry& y) {
  return x.cutoff == y.cutoff && x.batch == y.batch;
}

/// Looks after the day partitions of `gateway.telemetry` and `gateway.server_telemetry`
/// (UTC days): creates the missing ones from the day of `cutoff` through `days_ahead` days
/// after `now`, so that inserts of any sample within the retention period find their
/// partition, and drops those whose whole day lies before `cutoff`; replies with a
/// `partition_report`. Idempotent, and safe to run from two
/// instances at once (the database functions take an advisory lock).
struct maintain_partitions {
  timestamp now;
  int32_t days_ahead = 3;
  timestamp cutoff;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, maintain_partitions& x) {
  return f(caf::meta::type_name("db::maintain_partitions"), x.now, x.days_ahead, x.cutoff);
}

inline bool operator==(const maintain_partitions& x, const maintain_partitions& y) {
  return std::tie(x.now, x.days_ahead, x.cutoff) == std::tie(y.now, y.days_ahead, y.cutoff);
}

/// Reply to `maintain_partitions`: partitions of both tables together.
struct partition_report {
  int32_t created = 0;
  int32_t dropped = 0;
  /// Old partitions left for the next pass because a reader held them (lock timeout).
  int32_t busy = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, partition_report& x) {
  return f(caf::meta::type_name("db::partition_report"), x.created, x.dropped, x.busy);
}

inline bool operator==(const partition_report& x, const partition_report& y) {
  return std::tie(x.created, x.dropped, x.busy) == std::tie(y.created, y.dropped, y.busy);
}

/// As `prune_telemetry`, for `gateway.server_telemetry`.
struct prune_server_telemetry {
  timestamp cutoff;
  int32_t batch = 10000;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, prune_server_telemetry& x) {
  return f(caf::meta::type_name("db::prune_server_telemetry"), x.cutoff, x.batch);
}

inline bool operator==(const prune_server_telemetry& x, const prune_server_telemetry& y) {
  return x.cutoff == y.cutoff && x.batch == y.batch;
}

} // namespace slicegate::db
