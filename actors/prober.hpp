#pragma once

#include <cstddef>
#include <memory>

#include <caf/stateful_actor.hpp>

#include "actors/actors.hpp"

namespace slicegate {

namespace probe {
class health_client;
} // namespace probe

/// How the prober probes.
struct prober_config {
  /// HTTP probes running at once, at most; the rest wait their turn (`probe::health_client`).
  size_t max_running = 256;
};

struct prober_state {
  static inline const char* name = "prober";
  /// The libcurl multi loop and its thread; stopped with the actor.
  std::unique_ptr<probe::health_client> http;
  /// The detached disk walker, linked to the prober.
  disk_meter_actor disk;
  prober_state();
  ~prober_state();
};

/// The shared prober every slice watcher asks. It never blocks, so it may run on the
/// scheduler: HTTP probes go to a libcurl multi loop on a thread of its own, disk walks to a
/// detached `disk_meter` it spawns and links. Spawn one: `sys.spawn(prober, config)`.
prober_actor::behavior_type prober(prober_actor::stateful_pointer<prober_state> self,
                                   prober_config config);

/// Walks directory trees for the prober. Every request blocks for the walk: spawn it
/// detached.
disk_meter_actor::behavior_type disk_meter(disk_meter_actor::pointer self);

} // namespace slicegate
