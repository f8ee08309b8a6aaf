#pragma once

#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "actors/actors.hpp"
#include "actors/slice_watcher.hpp"
#include "app/settings.hpp"

namespace slicegate {

/// The telemetry actors the daemon runs: the shared prober, the batching writer in front of
/// persistence, the host monitor and retention.
struct telemetry_handles {
  prober_actor prober;
  telemetry_writer_actor writer;
  server_monitor_actor monitor;
  retention_actor pruner;
};

/// Spawns the telemetry actors and appends them to `owned` (stopped at shutdown). Returns
/// their handles and the peers every slice watcher needs.
telemetry_handles spawn_telemetry(caf::actor_system& sys, const settings& cfg,
                                  const persistence_actor& db, const event_sink_actor& events,
                                  std::vector<caf::actor>& owned);

/// What a slice watcher needs, from the running telemetry actors.
slice_watcher_peers watcher_peers(const telemetry_handles& t, const runtime_actor& runtime,
                                  const event_sink_actor& events);

} // namespace slicegate
