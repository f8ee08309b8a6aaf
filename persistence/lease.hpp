#pragma once

// The lease keeper: holds the singleton lease for this instance when nobody else does.
//
// The lease is a PostgreSQL session advisory lock on a connection of the keeper's own, so it
// lasts exactly as long as that connection: a holder killed with SIGKILL loses it the moment
// its socket closes, a holder that stops cleanly gives it back at once, and a holder cut off
// from the database notices on its next check (every `interval`) and gives up before anyone
// else can take it (TCP keepalives end the server side of a silent connection). The keeper
// tries every `interval` while it does not hold the lease, so a standby takes over within an
// interval of a clean stop and about as fast after a kill on the same host; after a host
// failure, within the keepalive time. Each holding records the holder and a new term in
// `gateway.leases`.
//
// The keeper also keeps this instance's watch shards (common/shards.hpp) on the same
// connection: every interval it beats the instance's row in `gateway.instances`, reads which
// instances beat within `member_timeout`, works out the shards this one wins among them, gives
// back (after telling its listeners) those it no longer wins and takes the advisory locks of
// those it now wins and nobody holds. A shard lock is thus held by one instance at a time, and
// freed the moment its holder's connection closes; a killed instance's shards move once its
// row is older than `member_timeout`, a stopped one's at once (it deletes its row).
//
// Listeners (the slice manager, retention, the bridge) hear every change. The keeper never
// talks to the gateway connection of the persistence actor, so a busy persistence queue
// cannot delay a renewal.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <caf/stateful_actor.hpp>

#include "actors/actors.hpp"

namespace slicegate {

struct lease_config {
  /// The gateway database.
  std::string database_url;
  /// Which lease (one per kind of singleton work; "singleton" for all of it today).
  std::string name = "singleton";
  /// Who this instance is: its service id.
  std::string holder;
  /// How often the lease is tried or checked.
  caf::timespan interval = std::chrono::milliseconds{500};
  /// How many watch shards the slices are spread over; the same on every instance. 0 keeps
  /// no shards (the lease holder then watches every slice).
  int32_t shard_count = 0;
  /// An instance that has not beaten for this long counts as dead.
  caf::timespan member_timeout = std::chrono::seconds{5};
  int connect_timeout_seconds = 2;
};

/// The keeper's own connection (persistence/lease.cpp).
class lease_link;

struct lease_state {
  static inline const char* name = "lease-keeper";
  lease_config config;
  std::unique_ptr<lease_link> link;
  /// What the listeners were told: the lease and shards this instance counts as its own.
  lease::state now;
  /// What the current session actually locks. After the connection fails these are empty,
  /// while `now` still presents what was held until `member_timeout` has passed since
  /// `last_contact`: a database that is gone for a moment (a restart, a failover) does not
  /// stop the watchers, and nobody else takes a shard before this instance's row is that old.
  bool lease_locked = false;
  std::vector<int32_t> locked_shards;
  std::chrono::steady_clock::time_point last_contact{};
  std::vector<lease_listener_actor> listeners;
  lease_state();
  lease_state(const lease_state&) = delete;
  lease_state& operator=(const lease_state&) = delete;
  /// Gives the lock back and closes the connection.
  ~lease_state();
};

/// The keeper. Spawn it detached: it blocks on its connection.
lease_keeper_actor::behavior_type
lease_keeper(lease_keeper_actor::stateful_pointer<lease_state> self, lease_config config);

} // namespace slicegate
