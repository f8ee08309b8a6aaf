#pragma once

// The node's supervisor: monitors every component and applies its restart policy when one
// ends on its own. The policy of each component is written down in app/node.cpp, beside the
// spawn that creates it, and in the README ("How slicegate is put together").

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/replies_to.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "common/restart_budget.hpp"
#include "messages/atoms.hpp"

namespace slicegate {

/// What the supervisor does when a component ends without being asked to.
enum class restart_policy {
  /// Spawn it again after a back-off, within its restart budget (OTP: at most 5 restarts in
  /// 60 s); its state lives elsewhere (the database, the runtime, JetStream). Past the budget
  /// it escalates.
  restart,
  /// Stop the daemon with a non-zero exit, so that the service manager (systemd, compose,
  /// Kubernetes) starts a fresh one. For components whose handle others hold: a new actor
  /// behind a new handle would not reach them.
  escalate,
};

/// Returns "restart" or "escalate".
const char* to_string(restart_policy x);

/// One supervised component.
struct child_spec {
  /// The component's name in logs and in `$SRV.STATS` (e.g. "persistence").
  std::string name;
  restart_policy policy = restart_policy::escalate;
  caf::actor handle;
  /// Spawns the component again; only for `restart_policy::restart`.
  std::function<caf::actor()> respawn;
};

/// The supervisor's interface.
using supervisor_actor = caf::typed_actor<
  // Shutdown begins: from now on components end because they are told to; replies true.
  caf::replies_to<drain_atom>::with<bool>,
  // The current handle of a component by name (null if none or down).
  caf::replies_to<lookup_atom, std::string>::with<caf::actor>,
  // Self-message: spawn the child at this index again, its back-off over.
  caf::reacts_to<retry_atom, int32_t>>;

/// Called once when a component escalates, with the log line that says why.
using escalation = std::function<void(const std::string& why)>;

/// Told whenever a component goes down or comes back (the node tells the NATS bridge, which
/// answers a fast 503 for a component the request path needs and lists it in `$SRV.STATS`).
using component_watch = std::function<void(const std::string& name, bool up)>;

struct supervisor_state {
  static inline const char* name = "node";

  struct child {
    child_spec spec;
    restart_budget budget;
    /// Ended and not yet spawned again.
    bool down = false;
  };

  std::vector<child> children;
  escalation escalate;
  component_watch watch;
  /// Shutdown runs: exits are expected.
  bool draining = false;
  /// Escalated once already.
  bool escalated = false;
};

/// Monitors `children` and applies their policies; calls `escalate` at most once and `watch`
/// (if set) on every change.
supervisor_actor::behavior_type
supervisor(supervisor_actor::stateful_pointer<supervisor_state> self,
           std::vector<child_spec> children, escalation escalate, component_watch watch);

} // namespace slicegate
