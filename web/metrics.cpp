#include "web/metrics.hpp"

#include <chrono>
#include <optional>

#include <caf/scoped_actor.hpp>

#include "web/prometheus.hpp"

namespace slicegate::web {

namespace {

/// Asks `target` and waits for the answer; none if it fails or times out.
template <class T, class Target, class... Ts>
std::optional<T> ask(caf::scoped_actor& self, const Target& target, caf::timespan timeout,
                     Ts&&... xs) {
  if (!target)
    return std::nullopt;
  std::optional<T> result;
  self->request(target, timeout, std::forward<Ts>(xs)...)
    .receive([&](T& x) { result = std::move(x); }, [](caf::error&) {});
  return result;
}

double seconds_since(caf::timestamp then, caf::timestamp now) {
  return std::chrono::duration<double>(now - then).count();
}

void write_bridge(exposition& out, const metrics::bridge_stats& s) {
  out.family("slicegate_requests_total", "counter",
             "Requests answered per endpoint (errors included).");
  for (auto& e : s.endpoints)
    out.sample("slicegate_requests_total", {{"endpoint", e.name}},
               static_cast<double>(e.requests));
  out.family("slicegate_request_errors_total", "counter",
             "Requests answered with an error reply, per endpoint.");
  for (auto& e : s.endpoints)
    out.sample("slicegate_request_errors_total", {{"endpoint", e.name}},
               static_cast<double>(e.errors));
  out.family("slicegate_request_duration_seconds", "histogram",
             "Time from receiving a request to sending its reply, per endpoint.");
  for (auto& e : s.endpoints)
    out.histogram("slicegate_request_duration_seconds", {{"endpoint", e.name}},
                  metrics::latency_buckets(), e.latency_counts, e.latency_sum_seconds);
  out.family("slicegate_unknown_subject_requests_total", "counter",
             "Requests on a subject no endpoint serves (answered 404).");
  out.sample("slicegate_unknown_subject_requests_total", {},
             static_cast<double>(s.unknown_subject_requests));

  out.family("slicegate_events_total", "counter",
             "Inbound JetStream events per consumer and outcome: received, done (applied or "
             "ignored and acknowledged), retried (left for redelivery), rejected.");
  for (auto& c : s.consumers) {
    auto put = [&](const char* outcome, uint64_t n) {
      out.sample("slicegate_events_total", {{"consumer", c.name}, {"outcome", outcome}},
                 static_cast<double>(n));
    };
    put("received", c.received);
    put("done", c.done);
    put("retried", c.retried);
    put("rejected", c.rejected);
  }
  out.family("slicegate_event_fetch_errors_total", "counter",
             "Failed fetches from a JetStream consumer.");
  for (auto& c : s.consumers)
    out.sample("slicegate_event_fetch_errors_total", {{"consumer", c.name}},
               static_cast<double>(c.fetch_errors));
  out.family("slicegate_event_consumer_restarts_total", "counter",
             "Times the bridge restarted a consumer that failed.");
  for (auto& c : s.consumers)
    out.sample("slicegate_event_consumer_restarts_total", {{"consumer", c.name}},
               static_cast<double>(c.restarts));
  out.family("slicegate_events_published_total", "counter",
             "Outbound events published (slice health, status, alerts, user slices, server).");
  out.sample("slicegate_events_published_total", {}, static_cast<double>(s.events_published));
  out.family("slicegate_events_publish_failures_total", "counter",
             "Outbound events that could not be published.");
  out.sample("slicegate_events_publish_failures_total", {},
             static_cast<double>(s.events_publish_failed));
  out.family("slicegate_nats_disconnects_total", "counter", "NATS connection losses.");
  out.sample("slicegate_nats_disconnects_total", {}, static_cast<double>(s.nats_disconnects));
  out.family("slicegate_nats_reconnects_total", "counter", "NATS reconnections.");
  out.sample("slicegate_nats_reconnects_total", {}, static_cast<double>(s.nats_reconnects));
}

void write_overview(exposition& out, const admin::overview& o) {
  out.family("slicegate_slices", "gauge", "Slices per lifecycle status.");
  for (auto [status, n] : {std::pair{"available", o.available},
                           {"assigned", o.assigned},
                           {"suspended", o.suspended},
                           {"destroying", o.destroying}})
    out.sample("slicegate_slices", {{"status", status}}, n);
  out.family("slicegate_watched_slices", "gauge",
             "Available and assigned slices by the result of their last health check.");
  for (auto [health, n] : {std::pair{"healthy", o.healthy},
                           {"unhealthy", o.unhealthy},
                           {"unchecked", o.unchecked}})
    out.sample("slicegate_watched_slices", {{"health", health}}, n);
  out.family("slicegate_waiting_users", "gauge", "Users waiting for a slice.");
  out.sample("slicegate_waiting_users", {}, o.waiting);
  out.family("slicegate_waiting_oldest_seconds", "gauge",
             "How long the user waiting longest has waited (0 when nobody waits).");
  out.sample("slicegate_waiting_oldest_seconds", {},
             o.oldest_waiting_since ? seconds_since(*o.oldest_waiting_since, o.at) : 0.0);
  out.family("slicegate_users", "gauge", "Users per subscription status.");
  for (auto [status, n] : {std::pair{"trial", o.trial},
                           {"active", o.active},
                           {"past_due", o.past_due},
                           {"cancelled", o.cancelled}})
    out.sample("slicegate_users", {{"subscription", status}}, n);
  out.family("slicegate_alerts_last_hour", "gauge", "Slice alerts raised in the last hour.");
  out.sample("slicegate_alerts_last_hour", {}, o.alerts_total);
}

void write_persistence(exposition& out, const metrics::persistence_stats& p) {
  out.family("slicegate_persistence_up", "gauge",
             "Whether the gateway database was reachable at the last attempt.");
  out.sample("slicegate_persistence_up", {}, p.up ? 1 : 0);
  out.family("slicegate_persistence_connects_total", "counter",
             "Connections opened to the gateway database (the first included).");
  out.sample("slicegate_persistence_connects_total", {}, static_cast<double>(p.connects));
  out.family("slicegate_persistence_connection_losses_total", "counter",
             "Connections to the gateway database found lost.");
  out.sample("slicegate_persistence_connection_losses_total", {},
             static_cast<double>(p.connections_lost));
  out.family("slicegate_persistence_connect_failures_total", "counter",
             "Failed attempts to connect to the gateway database.");
  out.sample("slicegate_persistence_connect_failures_total", {},
             static_cast<double>(p.connect_failures));
  out.family("slicegate_persistence_queue_length", "gauge",
             "Requests waiting for the persistence actor.");
  out.sample("slicegate_persistence_queue_length", {}, static_cast<double>(p.queued));
  out.family("slicegate_persistence_shed_total", "counter",
             "Database requests answered 503 at once because the queue was full.");
  out.sample("slicegate_persistence_shed_total", {}, static_cast<double>(p.shed));
  out.family("slicegate_persistence_dropped_total", "counter",
             "Database requests dropped unrun because they waited longer than callers wait.");
  out.sample("slicegate_persistence_dropped_total", {}, static_cast<double>(p.dropped));
}

void write_hasher(exposition& out, const metrics::hasher_stats& h) {
  out.family("slicegate_bcrypt_workers", "gauge", "bcrypt worker threads, busy or idle.");
  out.sample("slicegate_bcrypt_workers", {{"state", "busy"}}, static_cast<double>(h.busy));
  out.sample("slicegate_bcrypt_workers", {{"state", "idle"}},
             static_cast<double>(h.workers - h.busy));
  out.family("slicegate_bcrypt_queue_length", "gauge", "bcrypt jobs waiting for a worker.");
  out.sample("slicegate_bcrypt_queue_length", {}, static_cast<double>(h.queued));
  out.family("slicegate_bcrypt_queue_capacity", "gauge",
             "bcrypt jobs that may wait before logins are refused with 429.");
  out.sample("slicegate_bcrypt_queue_capacity", {}, static_cast<double>(h.queue_capacity));
  out.family("slicegate_bcrypt_rejected_total", "counter",
             "bcrypt jobs refused because the queue was full.");
  out.sample("slicegate_bcrypt_rejected_total", {}, static_cast<double>(h.rejected));
}

void write_writer(exposition& out, const telemetry::writer_stats& w) {
  out.family("slicegate_telemetry_samples_written_total", "counter",
             "Telemetry rows written, per table.");
  out.sample("slicegate_telemetry_samples_written_total", {{"table", "telemetry"}},
             static_cast<double>(w.samples_written));
  out.sample("slicegate_telemetry_samples_written_total", {{"table", "server_telemetry"}},
             static_cast<double>(w.server_samples_written));
  out.family("slicegate_telemetry_samples_dropped_total", "counter",
             "Telemetry samples dropped, oldest first, while the database was down.");
  out.sample("slicegate_telemetry_samples_dropped_total", {},
             static_cast<double>(w.samples_dropped));
  out.family("slicegate_telemetry_samples_buffered", "gauge",
             "Telemetry samples waiting for the next write.");
  out.sample("slicegate_telemetry_samples_buffered", {},
             static_cast<double>(w.samples_buffered));
  out.family("slicegate_telemetry_write_failures_total", "counter",
             "Telemetry writes that failed and were kept for a retry.");
  out.sample("slicegate_telemetry_write_failures_total", {},
             static_cast<double>(w.failed_writes));
}

} // namespace

std::string collect_metrics(caf::actor_system& sys, const metrics_sources& sources,
                            caf::timespan timeout) {
  caf::scoped_actor self{sys};
  exposition out;
  out.family("slicegate_build_info", "gauge", "The running slicegate's version; always 1.");
  out.sample("slicegate_build_info", {{"version", sources.version}}, 1);

  auto bridge = ask<metrics::bridge_stats>(self, sources.bridge, timeout, stats_atom_v);
  // The overview first: it tries the database, so the link's state read next is current.
  auto overview = ask<admin::overview>(
    self, sources.persistence, timeout,
    admin::get_overview{caf::make_timestamp() - std::chrono::hours{1}, 1});
  auto persistence
    = ask<metrics::persistence_stats>(self, sources.persistence, timeout, stats_atom_v);
  auto hasher = ask<metrics::hasher_stats>(self, sources.hasher, timeout, stats_atom_v);
  auto writer = ask<telemetry::writer_stats>(self, sources.writer, timeout, stats_atom_v);

  out.family("slicegate_component_up", "gauge",
             "Whether a component answered this scrape (and, for the database, whether it "
             "could read the overview).");
  out.sample("slicegate_component_up", {{"component", "bridge"}}, bridge ? 1 : 0);
  out.sample("slicegate_component_up", {{"component", "persistence"}}, persistence ? 1 : 0);
  out.sample("slicegate_component_up", {{"component", "database"}}, overview ? 1 : 0);
  out.sample("slicegate_component_up", {{"component", "hasher"}}, hasher ? 1 : 0);
  out.sample("slicegate_component_up", {{"component", "telemetry_writer"}}, writer ? 1 : 0);
  if (bridge)
    write_bridge(out, *bridge);
  if (overview)
    write_overview(out, *overview);
  if (persistence)
    write_persistence(out, *persistence);
  if (hasher)
    write_hasher(out, *hasher);
  if (writer)
    write_writer(out, *writer);
  return out.text();
}

} // namespace slicegate::web
