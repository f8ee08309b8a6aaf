#pragma once

// What the components report about themselves for `GET /metrics` (each answers `stats_atom`).
// Counters only grow for the life of the process; gauges are the value at the time of asking.

#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include <caf/meta/type_name.hpp>

namespace slicegate::metrics {

/// Upper bounds, in seconds, of the request latency histogram's buckets (`+Inf` follows).
inline const std::vector<double>& latency_buckets() {
  static const std::vector<double> bounds{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                          0.1,    0.25,  0.5,    1,     2.5,  5,     10};
  return bounds;
}

/// One endpoint of the bridge: requests, errors, and their latency from receipt to reply.
struct endpoint_metrics {
  std::string name;
  uint64_t requests = 0;
  uint64_t errors = 0;
  /// Per bucket of `latency_buckets()`, plus one for slower ones: not cumulative.
  std::vector<uint64_t> latency_counts;
  double latency_sum_seconds = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, endpoint_metrics& x) {
  return f(caf::meta::type_name("metrics::endpoint_metrics"), x.name, x.requests, x.errors,
           x.latency_counts, x.latency_sum_seconds);
}

inline bool operator==(const endpoint_metrics& x, const endpoint_metrics& y) {
  return std::tie(x.name, x.requests, x.errors, x.latency_counts, x.latency_sum_seconds)
         == std::tie(y.name, y.requests, y.errors, y.latency_counts, y.latency_sum_seconds);
}

/// One JetStream consumer: what became of the events it took.
struct consumer_metrics {
  /// The durable name, e.g. `slicegate_signup`.
  std::string name;
  uint64_t received = 0;
  uint64_t done = 0;
  uint64_t retried = 0;
  uint64_t rejected = 0;
  uint64_t fetch_errors = 0;
  uint64_t restarts = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, consumer_metrics& x) {
  return f(caf::meta::type_name("metrics::consumer_metrics"), x.name, x.received, x.done,
           x.retried, x.rejected, x.fetch_errors, x.restarts);
}

inline bool operator==(const consumer_metrics& x, const consumer_metrics& y) {
  return std::tie(x.name, x.received, x.done, x.retried, x.rejected, x.fetch_errors, x.restarts)
         == std::tie(y.name, y.received, y.done, y.retried, y.rejected, y.fetch_errors,
                     y.restarts);
}

/// The NATS bridge.
struct bridge_stats {
  std::vector<endpoint_metrics> endpoints;
  std::vector<consumer_metrics> consumers;
  uint64_t events_published = 0;
  uint64_t events_publish_failed = 0;
  uint64_t unknown_subject_requests = 0;
  uint64_t nats_disconnects = 0;
  uint64_t nats_reconnects = 0;
  /// Components the bridge answers 503 for.
  std::vector<std::string> components_down;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, bridge_stats& x) {
  return f(caf::meta::type_name("metrics::bridge_stats"), x.endpoints, x.consumers,
           x.events_published, x.events_publish_failed, x.unknown_subject_requests,
           x.nats_disconnects, x.nats_reconnects, x.components_down);
}

inline bool operator==(const bridge_stats& x, const bridge_stats& y) {
  return std::tie(x.endpoints, x.consumers, x.events_published, x.events_publish_failed,
                  x.unknown_subject_requests, x.nats_disconnects, x.nats_reconnects,
                  x.components_down)
         == std::tie(y.endpoints, y.consumers, y.events_published, y.events_publish_failed,
                     y.unknown_subject_requests, y.nats_disconnects, y.nats_reconnects,
                     y.components_down);
}

/// The bcrypt pool.
struct hasher_stats {
  uint64_t workers = 0;
  uint64_t busy = 0;
  /// Jobs waiting for a worker, and the most that may wait.
  uint64_t queued = 0;
  uint64_t queue_capacity = 0;
  /// Jobs refused because the queue was full.
  uint64_t rejected = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, hasher_stats& x) {
  return f(caf::meta::type_name("metrics::hasher_stats"), x.workers, x.busy, x.queued,
           x.queue_capacity, x.rejected);
}

inline bool operator==(const hasher_stats& x, const hasher_stats& y) {
  return std::tie(x.workers, x.busy, x.queued, x.queue_capacity, x.rejected)
         == std::tie(y.workers, y.busy, y.queued, y.queue_capacity, y.rejected);
}

/// The persistence actor's link to the gateway database.
struct persistence_stats {
  /// Connections opened, the first included: more than one means reconnects.
  uint64_t connects = 0;
  /// Connections found lost, and connect attempts that failed.
  uint64_t connections_lost = 0;
  uint64_t connect_failures = 0;
  /// Whether the last attempt reached the database.
  bool up = false;
  /// Requests waiting when it answered this one.
  uint64_t queued = 0;
  /// Requests answered `unavailable` at once because the queue was full, and requests dropped
  /// unrun because they waited longer than their callers do.
  uint64_t shed = 0;
  uint64_t dropped = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, persistence_stats& x) {
  return f(caf::meta::type_name("metrics::persistence_stats"), x.connects, x.connections_lost,
           x.connect_failures, x.up, x.queued, x.shed, x.dropped);
}

inline bool operator==(const persistence_stats& x, const persistence_stats& y) {
  return std::tie(x.connects, x.connections_lost, x.connect_failures, x.up, x.queued, x.shed,
                  x.dropped)
         == std::tie(y.connects, y.connections_lost, y.connect_failures, y.up, y.queued, y.shed,
                     y.dropped);
}

} // namespace slicegate::metrics
