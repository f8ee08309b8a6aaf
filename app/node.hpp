#pragma once

// The node: slicegate's composition root. It turns the settings into each component's own
// config struct, spawns the components in dependency order (persistence, the runtime, the
// telemetry actors, the managers, the NATS bridge last), hands each its collaborators as typed
// handles, puts every one under the supervisor (app/supervisor.hpp), and stops them in the
// reverse order.
//
//     node n{sys, make_node_config(settings), on_escalation};
//     if (n.start(wait_for_stop_signal) == 0)
//       ... wait for SIGTERM ...
//     n.stop();       // drain NATS, finish requests and events, flush, persistence last

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/timestamp.hpp>

#include "actors/actors.hpp"
#include "actors/prober.hpp"
#include "actors/retention.hpp"
#include "actors/server_monitor.hpp"
#include "actors/telemetry_writer.hpp"
#include "app/settings.hpp"
#include "app/supervisor.hpp"
#include "persistence/lease.hpp"
#include "web/http_server.hpp"

namespace slicegate {

class nats_bridge;
class runtime_driver;

/// Every component's config, made from the settings in one place.
struct node_config {
  daemon_config daemon;
  persistence_config persistence;
  request_queue_config persistence_queue;
  lease_config lease;
  provisioner_config provisioner;
  runtime_config runtime;
  bridge_config bridge;
  hasher_config hasher;
  session_config sessions;
  slice_manager_config slices;
  slice_watcher_config watchers;
  prober_config prober;
  telemetry_writer_config writer;
  server_monitor_config monitor;
  retention_config retention;
  /// The HTTP listener; none when `http.listen` is empty.
  web::http_config http;
  /// How long billing waits for persistence and the slice manager.
  caf::timespan billing_timeout = bridge_config{}.request_timeout;
};

/// Turns the daemon's settings into the components' configs.
node_config make_node_config(const settings& s);

class node {
public:
  /// Waits up to the given time for a stop signal; true if one came.
  using stop_wait = std::function<bool(caf::timespan)>;

  /// `on_escalation` is called (once, from an actor thread) when a component the daemon
  /// cannot do without has ended: the caller then stops the node and exits non-zero.
  node(caf::actor_system& sys, node_config cfg, escalation on_escalation);

  /// Stops, if `stop` did not run.
  ~node();

  node(const node&) = delete;
  node& operator=(const node&) = delete;

  /// Spawns the components, migrates, reconciles the pool and serves on NATS. Steps that
  /// fail for want of a server (PostgreSQL, the runtime) are retried with back-off until
  /// `wait` reports a stop signal. Returns 0 when serving or stopped by a signal meanwhile,
  /// 2 for a configuration that cannot work.
  int start(const stop_wait& wait);

  /// Ordered shutdown within the daemon's shutdown grace: no new requests or events, those
  /// in flight answered and acknowledged, managers and watchers stopped (slices keep
  /// running), the telemetry writer flushed, persistence last.
  void stop();

  /// A running component by name ("persistence", "slices", "sessions", …), or null.
  caf::actor component(const std::string& name) const;

  /// The names of the supervised components, in spawn order.
  std::vector<std::string> components() const;

  /// The instance id in the NATS micro protocol (empty before `start`).
  std::string service_id() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace slicegate
