#pragma once

// `GET /metrics`: asks the running components for their counters (each answers `stats_atom`)
// and the database for the pool at a glance (`admin::get_overview`), and writes them in the
// Prometheus text format, named as Prometheus' naming guide asks (`slicegate_` prefix, base
// units, `_total` for counters). Per-slice series stay in PostgreSQL: every label here has a
// small, fixed set of values.

#include <string>

#include <caf/actor_system.hpp>
#include <caf/timespan.hpp>

#include "actors/actors.hpp"

namespace slicegate::web {

/// Whom the collector asks; a null handle leaves that component's metrics out.
struct metrics_sources {
  bridge_actor bridge;
  persistence_actor persistence;
  hasher_full_actor hasher;
  telemetry_writer_actor writer;
  /// `slicegate_build_info{version=…}`.
  std::string version;
};

/// One scrape: asks every source with `timeout` each and formats the answers. A source that
/// does not answer shows as `slicegate_component_up{component=…} 0` and its metrics are left
/// out; the scrape itself never fails.
std::string collect_metrics(caf::actor_system& sys, const metrics_sources& sources,
                            caf::timespan timeout);

} // namespace slicegate::web
