#pragma once

#include <memory>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/actors.hpp"
#include "runtime/driver.hpp"

namespace slicegate {

struct runtime_state {
  static inline const char* name = "runtime";
  /// Shared only to travel through `spawn`; this actor is its one user.
  std::shared_ptr<runtime_driver> driver;
  /// Who hears about slices that died on their own; none until someone subscribes.
  runtime_listener_actor listener;
  /// How often the driver is asked for such slices.
  caf::timespan reap_interval;
};

/// The runtime actor: one driver behind a typed interface. Spawn it detached, since every
/// handler blocks on the driver; its errors arrive as domain errors (`ec`).
runtime_actor::behavior_type runtime(runtime_actor::stateful_pointer<runtime_state> self,
                                     std::shared_ptr<runtime_driver> driver,
                                     caf::timespan reap_interval);

} // namespace slicegate
