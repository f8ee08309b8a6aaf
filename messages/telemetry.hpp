#pragma once

// Messages of the telemetry actors: probes (prober), slice watcher control (from the slice
// manager), the telemetry writer's counters and the retention pass.

#include <cstdint>
#include <string>
#include <tuple>

#include "messages/records.hpp"

namespace slicegate::telemetry {

/// `GET http://<host>:<port>/health`, given up after `timeout`; replies with a
/// `health_result` (an unreachable slice is a result, not an error).
struct health_check {
  std::string host;
  int32_t port = 0;
  timespan timeout{};
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, health_check& x) {
  return f(caf::meta::type_name("telemetry::health_check"), x.host, x.port, x.timeout);
}

inline bool operator==(const health_check& x, const health_check& y) {
  return std::tie(x.host, x.port, x.timeout) == std::tie(y.host, y.port, y.timeout);
}

/// What a slice answered on `/health`.
struct health_result {
  /// HTTP status; 0 when nothing came back (refused, timed out, reset).
  int32_t status = 0;
  /// The body's `wa_state` and `wa_phone`, when it had them.
  optional<std::string> wa_state;
  optional<std::string> wa_phone;
  /// Why the probe failed ("connection refused", "HTTP 503", …); empty when it succeeded.
  std::string error;

  /// A 2xx answer: the slice is healthy.
  bool ok() const {
    return status >= 200 && status < 300;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, health_result& x) {
  return f(caf::meta::type_name("telemetry::health_result"), x.status, x.wa_state, x.wa_phone,
           x.error);
}

inline bool operator==(const health_result& x, const health_result& y) {
  return std::tie(x.status, x.wa_state, x.wa_phone, x.error)
         == std::tie(y.status, y.wa_state, y.wa_phone, y.error);
}

/// Measures the bytes a directory tree occupies on disk, as `du -s` counts them (allocated
/// blocks, hard links once, symbolic links not followed); replies with an `int64_t`, or
/// `ec::not_found` when `path` does not exist.
struct disk_usage {
  std::string path;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, disk_usage& x) {
  return f(caf::meta::type_name("telemetry::disk_usage"), x.path);
}

inline bool operator==(const disk_usage& x, const disk_usage& y) {
  return x.path == y.path;
}

/// To a slice watcher: the slice's lifecycle status changed (only an `assigned` slice is
/// restarted when it keeps failing).
struct slice_status {
  slicegate::slice_status status = slicegate::slice_status::available;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, slice_status& x) {
  return f(caf::meta::type_name("telemetry::slice_status"), x.status);
}

inline bool operator==(const slice_status& x, const slice_status& y) {
  return x.status == y.status;
}

/// To a slice watcher: the slice was (re)started at `at`, so a new start period begins.
struct slice_started {
  timestamp at;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, slice_started& x) {
  return f(caf::meta::type_name("telemetry::slice_started"), x.at);
}

inline bool operator==(const slice_started& x, const slice_started& y) {
  return x.at == y.at;
}

/// The telemetry writer's counters since it started.
struct writer_stats {
  /// Rows written to `gateway.telemetry` and `gateway.server_telemetry`.
  int64_t samples_written = 0;
  int64_t server_samples_written = 0;
  /// Samples thrown away, oldest first, because the backlog was full.
  int64_t samples_dropped = 0;
  /// Samples and slice rows waiting for the next write.
  int64_t samples_buffered = 0;
  int64_t slice_rows_buffered = 0;
  /// Writes that failed (and were kept for a retry).
  int64_t failed_writes = 0;
  /// Alerts thrown away, oldest first, because the backlog was full.
  int64_t alerts_dropped = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, writer_stats& x) {
  return f(caf::meta::type_name("telemetry::writer_stats"), x.samples_written,
           x.server_samples_written, x.samples_dropped, x.samples_buffered,
           x.slice_rows_buffered, x.failed_writes, x.alerts_dropped);
}

inline bool operator==(const writer_stats& x, const writer_stats& y) {
  return std::tie(x.samples_written, x.server_samples_written, x.samples_dropped,
                  x.samples_buffered, x.slice_rows_buffered, x.failed_writes,
                  x.alerts_dropped)
         == std::tie(y.samples_written, y.server_samples_written, y.samples_dropped,
                     y.samples_buffered, y.slice_rows_buffered, y.failed_writes,
                     y.alerts_dropped);
}

/// Asks the retention actor for one pass now; replies with a `retention_report`.
struct prune_now {};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, prune_now&) {
  return f(caf::meta::type_name("telemetry::prune_now"));
}

inline bool operator==(const prune_now&, const prune_now&) {
  return true;
}

/// What one retention pass deleted.
struct retention_report {
  /// Rows deleted from the boundary day's partitions.
  int64_t telemetry = 0;
  int64_t server_telemetry = 0;
  int64_t alerts = 0;
  int64_t sessions = 0;
  int64_t dead_letters = 0;
  /// Day partitions of both telemetry tables created ahead and dropped whole.
  int32_t partitions_created = 0;
  int32_t partitions_dropped = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, retention_report& x) {
  return f(caf::meta::type_name("telemetry::retention_report"), x.telemetry, x.server_telemetry,
           x.alerts, x.sessions, x.dead_letters, x.partitions_created, x.partitions_dropped);
}

inline bool operator==(const retention_report& x, const retention_report& y) {
  return std::tie(x.telemetry, x.server_telemetry, x.alerts, x.sessions, x.dead_letters,
                  x.partitions_created, x.partitions_dropped)
         == std::tie(y.telemetry, y.server_telemetry, y.alerts, y.sessions, y.dead_letters,
                     y.partitions_created, y.partitions_dropped);
}

} // namespace slicegate::telemetry
