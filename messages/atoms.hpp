#pragma once

#include <caf/atom.hpp>

namespace slicegate {

// Atoms are spelled by hand (CAF 0.17 has no type-ID blocks we rely on); each text is at most
// ten characters, which the macro below checks at compile time.
#define SLICEGATE_ATOM(name, text)                                                           \
  static_assert(sizeof(text) - 1 <= 10, "atom text longer than 10 characters: " text);      \
  using name = caf::atom_constant<caf::atom(text)>;                                          \
  constexpr name name##_v = name::value

/// Self-message that drives periodic work (health probes, sweeps, retention).
SLICEGATE_ATOM(tick_atom, "tick");
/// Asks an actor to start its work after construction (connect, load, reconcile).
SLICEGATE_ATOM(start_atom, "start");
/// Asks for readiness / liveness.
SLICEGATE_ATOM(ping_atom, "ping");
/// Asks the persistence actor to apply the schema migrations.
SLICEGATE_ATOM(migrate_atom, "migrate");
/// Retries a failed connection.
SLICEGATE_ATOM(retry_atom, "retry");
/// Asks a component for its counters.
SLICEGATE_ATOM(stats_atom, "stats");
/// Stops taking new work before shutdown.
SLICEGATE_ATOM(drain_atom, "drain");
/// Self-message that drives a slice watcher's disk measurement (slower than its tick).
SLICEGATE_ATOM(disk_atom, "disk");
/// Asks a buffering actor to write what it holds now.
SLICEGATE_ATOM(flush_atom, "flush");
/// Asks a supervisor for a component's current handle by name.
SLICEGATE_ATOM(lookup_atom, "lookup");
/// Self-message that drives a JetStream consumer's pull loop: fetch the next event.
SLICEGATE_ATOM(fetch_atom, "fetch");
/// Asks a worker to finish what it holds and quit.
SLICEGATE_ATOM(stop_atom, "stop");
/// Self-message of a supervisor: restart a child after its back-off.
SLICEGATE_ATOM(restart_atom, "restart");
/// Asks the bridge for one of its JetStream consumers.
SLICEGATE_ATOM(consumer_atom, "consumer");
/// Publishes a dead letter's body again on its subject (an event consumer).
SLICEGATE_ATOM(replay_atom, "replay");
/// Answered once every message before it has been handled (the persistence worker).
SLICEGATE_ATOM(barrier_atom, "barrier");
/// Asks the lease keeper where the lease stands.
SLICEGATE_ATOM(lease_atom, "lease");
/// Brings something in line with the database again (the slice manager's watchers).
SLICEGATE_ATOM(sync_atom, "sync");

} // namespace slicegate
