#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <caf/expected.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/actors.hpp"
#include "actors/clock.hpp"
#include "actors/slice_watcher.hpp"
#include "common/restart_budget.hpp"

namespace slicegate {

/// Makes the watcher of one slice. The slice manager links to it, tells it about status
/// changes and restarts, and stops it when the slice is no longer watched. An empty factory
/// watches nothing (tests of everything else).
using watcher_factory = std::function<slice_watcher_actor(watched_slice)>;

/// A factory spawning `slice_watcher` on `sys`, every watcher with the same peers and
/// configuration.
watcher_factory spawn_watchers(caf::actor_system& sys, slice_watcher_peers peers,
                               slice_watcher_config config);

/// What the slice manager needs to know: the pool settings of DESIGN.md §5, its own pacing,
/// and how to watch slices.
struct slice_manager_config {
  /// Whether reconciliation, sweeps, the pool floor, restarts and watchers wait for the
  /// singleton lease (several instances on one database); otherwise they start at once.
  bool wait_for_lease = false;
  /// Ports of new slices: `port_base + k * port_step`, smallest free k first.
  int32_t port_base = 5001;
  int32_t port_step = 2;
  /// Pool floor: keep at least this many slices ready to hand out (0: off)...
  int32_t min_available = 0;
  /// ...but never more than this many slices in all (0: no limit).
  int32_t max_slices = 0;
  /// Holds one data directory `slice-<id>` per slice.
  std::string data_root;
  /// A libpq URL of the server holding the slice databases, as the slices reach it; each slice
  /// is given it with its own database `wa_slice_<id>`.
  std::string slice_database_url;
  /// Each slice logs in as its own role `wa_slice_<id>` with a password set anew whenever it
  /// starts afresh (the URL's own user and password are replaced). Off: the URL is handed out
  /// as it is (the `external` runtime, whose slices someone else configures).
  bool slice_logins = true;
  /// How often the time-based transitions of DESIGN.md §3 are looked for.
  caf::timespan sweep_interval = std::chrono::seconds{60};
  /// How often an instance holding watch shards re-reads the slices, to watch those another
  /// instance created or changed.
  caf::timespan watch_sync_interval = std::chrono::seconds{30};
  /// How long `past_due` lasts before the slice is suspended.
  caf::timespan past_due_grace = std::chrono::hours{24 * 14};
  /// How long a cancelled user's data is kept after the subscription ended.
  caf::timespan data_retention = std::chrono::hours{24 * 30};
  /// Back-off between attempts to reach the pool floor and to restart a slice that died:
  /// the first delay, doubled after every failure up to the last.
  caf::timespan retry_min = std::chrono::seconds{1};
  caf::timespan retry_max = std::chrono::minutes{5};
  /// Most users paired with slices in one database transaction.
  int32_t assign_batch = 100;
  /// Wipes in flight at once. Persistence and the runtime each work serially, so more only
  /// lengthens their queues; enough keep persistence busy with the next CREATE DATABASE while
  /// other wipes wait for the runtime or the janitor.
  int32_t max_parallel_wipes = 8;
  /// How long persistence and the janitor may take per request (CREATE DATABASE included).
  caf::timespan request_timeout = std::chrono::seconds{60};
  /// How long the runtime may take per request; longer than its stop grace.
  caf::timespan runtime_timeout = std::chrono::seconds{60};
  /// Makes one watcher per available or assigned slice; empty: no slice is watched.
  watcher_factory watchers;
  /// Where the alerts it raises are logged besides being published (the telemetry writer);
  /// none logs nothing.
  alert_log_actor alert_log;
};


/// Called when a lifecycle operation on one slice ends: the slice afterwards, or why not.
using slice_continuation = std::function<void(caf::expected<slice_record>)>;

/// One slice on its way through the wipe procedure (see slice_manager.cpp).
struct wipe_job {
  enum class step : uint8_t { remove, drop, create, empty_dir, start, mark_available };
  slice_record slice;
  step next = step::remove;
  slice_continuation done;
};

/// A `place_user` request waiting for an assignment pass that started after it arrived.
struct placement_waiter {
  int32_t user_id = 0;
  /// The assignment request count when it arrived; answered once a pass covers it.
  uint64_t needs = 0;
  caf::typed_response_promise<pool::placement> promise;
};

/// A `place_users` request waiting for an assignment pass that started after it arrived.
struct placements_waiter {
  std::vector<int32_t> user_ids;
  /// The assignment request count when it arrived; answered once a pass covers it.
  uint64_t needs = 0;
  caf::typed_response_promise<std::vector<pool::placement>> promise;
};

/// How soon a slice that keeps dying is started again.
struct restart_backoff {
  caf::timespan delay{0};
  caf::timestamp last_exit;
};

struct slice_manager_state {
  static inline const char* name = "slice-manager";
  slice_manager_config config;
  pool_store_actor db;
  provisioner_actor provisioner;
  pool_runtime_actor runtime;
  janitor_actor janitor;
  pool_event_sink_actor events;
  /// One watcher per watched (available or assigned) slice.
  std::map<int32_t, slice_watcher_actor> watchers;
  /// What each watcher was spawned with, its status kept current: a watcher that fails is
  /// spawned again from it.
  std::map<int32_t, watched_slice> watching;
  /// Restarts of each slice's watcher: at most 5 in 60 s, then the slice stays unwatched
  /// until its next transition.
  std::map<int32_t, restart_budget> watcher_restarts;
  /// Told `auth::user_changed`; none until `start` names it.
  user_listener_actor users;
  clock_fn clock;
  /// Whether start-up reconciliation has run: sweeps and the pool floor wait for it.
  bool started = false;
  /// `start` has prepared the template: a lease taken from now on reconciles at once.
  bool start_done = false;
  /// Whether this instance does the pool's own work: it holds the lease, or needs none.
  bool leader = true;
  /// The watch shards this instance holds, ascending, of `shard_count` (0: no shards; the
  /// leader watches every slice).
  std::vector<int32_t> shards;
  int32_t shard_count = 0;
  /// A periodic watcher sync is armed.
  bool sync_armed = false;
  /// Slices with a lifecycle operation in flight. The database keeps every single step
  /// consistent; this keeps two multi-step operations (runtime + SQL) off one slice.
  std::set<int32_t> busy;
  /// Wipes waiting for a free place, and the number in flight.
  std::deque<wipe_job> wipe_queue;
  int32_t wipes_running = 0;
  /// Assignment passes: requests for one count up `assign_wanted`; a pass covers the count
  /// at its start, and `assign_done` is the count the last finished pass covered.
  bool assigning = false;
  uint64_t assign_wanted = 0;
  uint64_t assign_done = 0;
  std::vector<placement_waiter> placement_waiters;
  std::vector<placements_waiter> batch_waiters;
  /// A sweep is running; the next tick skips rather than overlapping it.
  bool sweeping = false;
  /// The pool floor: a provisioning in flight, a retry pending, the last back-off.
  bool provisioning = false;
  bool floor_retry_pending = false;
  caf::timespan floor_delay{0};
  /// Back-off per slice that died on its own.
  std::map<int32_t, restart_backoff> restarts;
};

/// The slice manager: provisioning, FIFO assignment, suspension, resumption, destruction and
/// recycling of slices, the billing policy's time-based rules (a periodic sweep), the pool
/// floor, and one watcher per available or assigned slice. It never blocks: every database
/// operation is a request to `db` (databases and roles of slices: `provisioner`), every
/// runtime operation one to `runtime`, filesystem work one to `janitor`. Send it `start_atom` once the schema is migrated; it replies when
/// reconciliation is done. Its watchers are linked to it and end with it.
slice_manager_full_actor::behavior_type
slice_manager(slice_manager_full_actor::stateful_pointer<slice_manager_state> self,
              slice_manager_config cfg, pool_store_actor db, provisioner_actor provisioner,
              pool_runtime_actor runtime, janitor_actor janitor, pool_event_sink_actor events,
              clock_fn clock);

} // namespace slicegate
