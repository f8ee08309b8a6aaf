#pragma once

// Every actor interface of slicegate, in one place: who talks to whom, with which messages.
// Handlers of a typed interface are listed one per line; the message structs live in
// messages/.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "messages/admin.hpp"
#include "messages/atoms.hpp"
#include "messages/auth.hpp"
#include "messages/billing.hpp"
#include "messages/bus.hpp"
#include "messages/db.hpp"
#include "messages/db_billing.hpp"
#include "messages/db_pool.hpp"
#include "messages/db_telemetry.hpp"
#include "messages/events.hpp"
#include "messages/janitor.hpp"
#include "messages/lease.hpp"
#include "messages/metrics.hpp"
#include "messages/pool.hpp"
#include "messages/records.hpp"
#include "messages/runtime.hpp"
#include "messages/telemetry.hpp"

namespace slicegate {

/// Owns the PostgreSQL connection to the gateway database; every read and write goes here.
using persistence_actor = caf::typed_actor<
  // Checks the connection; replies with the server version number.
  caf::replies_to<db::ping>::with<int32_t>,
  // Applies pending migrations; replies with the versions applied now.
  caf::replies_to<db::migrate>::with<std::vector<int32_t>>,
  // Inserts a user (idempotent per signup event id).
  caf::replies_to<db::create_user>::with<db::user_created>,
  // Inserts several users in one transaction (a burst of signup events); one result each.
  caf::replies_to<db::create_users>::with<std::vector<db::user_creation>>,
  // Reads a user and password hash by e-mail.
  caf::replies_to<db::find_credentials>::with<credentials>,
  // Reads a user and password hash by id.
  caf::replies_to<db::find_credentials_by_id>::with<credentials>,
  // Reads a user.
  caf::replies_to<db::get_user>::with<user_record>,
  // Stamps `last_login_at` and stores the new session.
  caf::replies_to<db::record_login>::with<user_record>,
  // Replaces a password hash, revoking the user's other sessions.
  caf::replies_to<db::set_password>::with<std::vector<std::string>>,
  // Reads a session with its user and slice.
  caf::replies_to<db::find_session>::with<session_account>,
  // Moves a session's expiry.
  caf::replies_to<db::extend_session>::with<bool>,
  // Deletes one session.
  caf::replies_to<db::delete_session>::with<bool>,
  // Deletes a user's sessions.
  caf::replies_to<db::delete_user_sessions>::with<std::vector<std::string>>,
  // Deletes expired sessions in batches.
  caf::replies_to<db::delete_expired_sessions>::with<int64_t>,
  // Grants or withdraws admin rights.
  caf::replies_to<db::set_admin>::with<user_record>,
  // Stores a Stripe event and applies it to its user in one transaction.
  caf::replies_to<db::apply_billing_event>::with<billing::outcome>,
  // Writes telemetry samples with one COPY; replies with the rows written.
  caf::replies_to<db::insert_telemetry>::with<int64_t>,
  // Writes the health columns of slice rows; replies with the rows updated.
  caf::replies_to<db::update_slice_health>::with<int64_t>,
  // Writes host samples; replies with the rows written.
  caf::replies_to<db::insert_server_samples>::with<int64_t>,
  // Counts assigned and all slices.
  caf::replies_to<db::slice_counts>::with<db::slice_totals>,
  // Deletes one batch of old per-slice telemetry; replies with the rows deleted.
  caf::replies_to<db::prune_telemetry>::with<int64_t>,
  // Deletes one batch of old host telemetry; replies with the rows deleted.
  caf::replies_to<db::prune_server_telemetry>::with<int64_t>,
  // Creates day partitions ahead and drops those older than the cutoff.
  caf::replies_to<db::maintain_partitions>::with<db::partition_report>,
  // Inserts slices on the next free ports, in status destroying until wiped; with an
  // idempotency key seen before, replies with that request's slices instead.
  caf::replies_to<db::insert_slices>::with<db::inserted_slices>,
  // Lists slices.
  caf::replies_to<db::list_slices>::with<std::vector<slice_record>>,
  // Reads a slice with its newest telemetry sample.
  caf::replies_to<db::get_slice_detail>::with<pool::slice_detail>,
  // Moves a slice between statuses, releasing its user where the move says so.
  caf::replies_to<db::transition_slice>::with<db::slice_transition>,
  // Pairs the oldest waiting users with free slices in one transaction.
  caf::replies_to<db::assign_next>::with<std::vector<db::assignment>>,
  // Gives one user a slice (admin).
  caf::replies_to<db::assign_user>::with<db::assignment>,
  // Reads a user's slice or place in the waiting queue.
  caf::replies_to<db::get_placement>::with<pool::placement>,
  // Reads several users' slices or places in one read.
  caf::replies_to<db::get_placements>::with<std::vector<pool::placement>>,
  // Lists the lifecycle actions the billing policy asks for.
  caf::replies_to<db::due_actions>::with<std::vector<db::due_action>>,
  // Counts the pool for its floor.
  caf::replies_to<db::count_pool>::with<db::pool_totals>,
  // Lists one page of users (admin).
  caf::replies_to<admin::list_users>::with<admin::user_page>,
  // Reads a user with slice, queue place, live sessions and billing events (admin).
  caf::replies_to<admin::get_user>::with<admin::user_detail>,
  // Aggregates a slice's telemetry per bucket (admin).
  caf::replies_to<admin::slice_series>::with<std::vector<admin::slice_point>>,
  // Aggregates the host's telemetry per bucket (admin).
  caf::replies_to<admin::server_series>::with<std::vector<admin::server_point>>,
  // Lists slices with their user's e-mail and newest sample (admin).
  caf::replies_to<admin::list_slice_views>::with<std::vector<admin::slice_view>>,
  // Reads the pool at a glance (admin).
  caf::replies_to<admin::get_overview>::with<admin::overview>,
  // Stores published alerts; replies with the rows written.
  caf::replies_to<admin::insert_alerts>::with<int64_t>,
  // Deletes one batch of old alerts; replies with the rows deleted.
  caf::replies_to<admin::prune_alerts>::with<int64_t>,
  // Keeps a rejected inbound event; replies with its row's id.
  caf::replies_to<admin::record_dead_letter>::with<int64_t>,
  // Lists dead letters, oldest first (admin).
  caf::replies_to<admin::list_dead_letters>::with<std::vector<admin::dead_letter>>,
  // Reads one dead letter (admin).
  caf::replies_to<admin::get_dead_letter>::with<admin::dead_letter>,
  // Stamps a dead letter as replayed now (admin).
  caf::replies_to<admin::mark_replayed>::with<admin::dead_letter>,
  // Deletes one batch of old dead letters; replies with the rows deleted.
  caf::replies_to<admin::prune_dead_letters>::with<int64_t>,
  // Its link's counters and its queue (for /metrics).
  caf::replies_to<stats_atom>::with<metrics::persistence_stats>,
  // Answered after every request before it (the request queue in front of it).
  caf::replies_to<barrier_atom>::with<bool>>;

/// Where actors send the events that leave the process (the NATS bridge in the daemon, a
/// recording mock in tests).
using event_sink_actor = caf::typed_actor<
  // Publishes `gateway.slice.status.<id>`.
  caf::reacts_to<events::slice_status_changed>,
  // Publishes `gateway.user.slice.<user id>`.
  caf::reacts_to<events::user_slice_changed>,
  // Publishes `gateway.slice.health.<id>`.
  caf::reacts_to<events::slice_health>,
  // Publishes `gateway.slice.alert.<id>`.
  caf::reacts_to<events::slice_alert>,
  // Publishes `gateway.events.rejected`.
  caf::reacts_to<events::event_rejected>,
  // Publishes `gateway.server.telemetry`.
  caf::reacts_to<events::server_telemetry>>;

/// Keeps the log of alerts the overview shows (the telemetry writer).
using alert_log_actor = caf::typed_actor<
  // Logs an alert that was just published.
  caf::reacts_to<events::slice_alert>>;

/// Hears that a user's slice changed (the session manager, which then reads that user's
/// cached resolves again).
using user_listener_actor = caf::typed_actor<
  // A user's row or slice changed.
  caf::reacts_to<auth::user_changed>>;

/// Owns the slice pool and the waiting queue.
using slice_manager_actor = caf::typed_actor<
  // A user was created: assign a slice or tell their place in the queue.
  caf::replies_to<pool::place_user>::with<pool::placement>,
  // Several users were created: one assignment pass, then where each stands.
  caf::replies_to<pool::place_users>::with<std::vector<pool::placement>>,
  // Provisions more slices (admin).
  caf::replies_to<pool::create_slices>::with<std::vector<slice_record>>,
  // Lists slices (admin).
  caf::replies_to<pool::list_slices>::with<std::vector<slice_record>>,
  // Reads one slice with its latest telemetry (admin).
  caf::replies_to<pool::get_slice>::with<pool::slice_detail>,
  // Suspends, resumes or destroys a slice (admin).
  caf::replies_to<pool::change_slice>::with<slice_record>,
  // Assigns a slice to a user (admin).
  caf::replies_to<pool::assign_slice>::with<slice_record>,
  // Applies the billing policy to a user whose subscription changed.
  caf::reacts_to<pool::billing_changed>>;

/// Everything the slice manager handles: `slice_manager_actor`, plus what the daemon and the
/// runtime send it and its own timers. Spawning `slice_manager` gives this handle; others get
/// it as a `slice_manager_actor`.
using slice_manager_full_actor = slice_manager_actor::extend<
  // Reconciles the pool (finishes interrupted wipes, starts or stops slices as their status
  // says), then keeps it: sweeps, pool floor, exits. From now on `auth::user_changed` goes
  // to the listener. Replies with the number of interrupted wipes it finished.
  caf::replies_to<start_atom, user_listener_actor>::with<int32_t>,
  // A slice died on its own (from the runtime): start it again, with back-off.
  caf::reacts_to<rt::exited>,
  // Self-message: the periodic sweep of time-based transitions.
  caf::reacts_to<tick_atom>,
  // Self-message: try to reach the pool floor again after a failure.
  caf::reacts_to<retry_atom>,
  // Self-message: start this slice again after it died.
  caf::reacts_to<retry_atom, int32_t>,
  // Self-message: bring the watchers of this instance's shards in line with the slices.
  caf::reacts_to<sync_atom>,
  // This instance took or lost the singleton lease, or its watch shards changed: it
  // reconciles, sweeps and keeps the floor only while it holds the lease, and watches the
  // slices of the shards it holds (all of them, for the lease holder, without shards).
  caf::reacts_to<lease::state>>;

/// The part of `event_sink_actor` the slice manager needs.
using pool_event_sink_actor = caf::typed_actor<
  // Publishes `gateway.slice.status.<id>`.
  caf::reacts_to<events::slice_status_changed>,
  // Publishes `gateway.user.slice.<user id>`.
  caf::reacts_to<events::user_slice_changed>,
  // Publishes `gateway.slice.alert.<id>`.
  caf::reacts_to<events::slice_alert>>;

/// Makes, secures and drops the slice databases and their roles, on a connection of its own
/// with a lock timeout: a template or slice database that something holds stalls provisioning,
/// never a login. Detached: it blocks on PostgreSQL.
using provisioner_actor = caf::typed_actor<
  // Creates or updates the slice template database; moves legacy databases to their roles.
  caf::replies_to<db::ensure_template>::with<bool>,
  // Creates a slice database from the template, owned by the slice's own role.
  caf::replies_to<db::create_slice_database>::with<bool>,
  // Drops a slice database.
  caf::replies_to<db::drop_slice_database>::with<bool>,
  // Sets a fresh password on a slice's role; replies with the login.
  caf::replies_to<db::slice_login>::with<db::slice_credentials>>;

/// The part of `persistence_actor` the slice manager needs.
using pool_store_actor = caf::typed_actor<
  // Inserts slices on the next free ports, in status destroying until wiped; with an
  // idempotency key seen before, replies with that request's slices instead.
  caf::replies_to<db::insert_slices>::with<db::inserted_slices>,
  // Lists slices.
  caf::replies_to<db::list_slices>::with<std::vector<slice_record>>,
  // Reads a slice with its newest telemetry sample.
  caf::replies_to<db::get_slice_detail>::with<pool::slice_detail>,
  // Moves a slice between statuses, releasing its user where the move says so.
  caf::replies_to<db::transition_slice>::with<db::slice_transition>,
  // Pairs the oldest waiting users with free slices in one transaction.
  caf::replies_to<db::assign_next>::with<std::vector<db::assignment>>,
  // Gives one user a slice (admin).
  caf::replies_to<db::assign_user>::with<db::assignment>,
  // Reads a user's slice or place in the waiting queue.
  caf::replies_to<db::get_placement>::with<pool::placement>,
  // Reads several users' slices or places in one read.
  caf::replies_to<db::get_placements>::with<std::vector<pool::placement>>,
  // Lists the lifecycle actions the billing policy asks for.
  caf::replies_to<db::due_actions>::with<std::vector<db::due_action>>,
  // Counts the pool for its floor.
  caf::replies_to<db::count_pool>::with<db::pool_totals>>;

/// Does the slice manager's filesystem work on a thread of its own (spawn it detached).
using janitor_actor = caf::typed_actor<
  // Empties (or creates) a slice's data directory; replies with its path.
  caf::replies_to<fs::empty_slice_dir>::with<std::string>>;

/// Hears from the runtime about slices that died on their own (the slice manager).
using runtime_listener_actor = caf::typed_actor<
  // A slice's process or container stopped without being asked to.
  caf::reacts_to<rt::exited>>;

/// Starts, stops and measures slices through the configured runtime driver (process, docker
/// or external). Its handlers block on processes and on the Docker Engine: spawn it detached,
/// and give requests a timeout longer than `stop-grace`.
using runtime_actor = caf::typed_actor<
  // Starts a slice (a running one is left alone); replies true.
  caf::replies_to<rt::start>::with<bool>,
  // Stops a slice, killing it after the stop grace; replies true.
  caf::replies_to<rt::stop>::with<bool>,
  // Stops a slice if it runs and starts it again; replies true.
  caf::replies_to<rt::restart>::with<bool>,
  // Stops a slice and deletes its container; replies true.
  caf::replies_to<rt::remove>::with<bool>,
  // Reads a slice's memory and CPU.
  caf::replies_to<rt::usage>::with<slice_usage>,
  // Tells whether a slice runs.
  caf::replies_to<rt::running>::with<bool>,
  // Keeps a slice that runs as it should with a database role; replies whether it did.
  caf::replies_to<rt::adopt>::with<bool>,
  // Makes the sender the runtime_listener_actor told about exits; replies true.
  caf::replies_to<rt::subscribe>::with<bool>,
  // Self-message: looks for slices that died on their own.
  caf::reacts_to<tick_atom>>;

/// The part of `runtime_actor` the slice manager needs.
using pool_runtime_actor = caf::typed_actor<
  // Starts a slice (a running one is left alone); replies true.
  caf::replies_to<rt::start>::with<bool>,
  // Keeps a slice that runs as it should with a database role; replies whether it did.
  caf::replies_to<rt::adopt>::with<bool>,
  // Stops a slice, killing it after the stop grace; replies true.
  caf::replies_to<rt::stop>::with<bool>,
  // Stops a slice and deletes its container; replies true.
  caf::replies_to<rt::remove>::with<bool>,
  // Makes the sender the runtime_listener_actor told about exits; replies true.
  caf::replies_to<rt::subscribe>::with<bool>>;

/// Runs bcrypt on a bounded pool of worker threads, never on the scheduler's threads. A full
/// queue answers `ec::rate_limited` at once instead of growing without bound.
using hasher_actor = caf::typed_actor<
  // Hashes a password; replies with the `$2b$` hash.
  caf::replies_to<auth::hash_password>::with<std::string>,
  // Verifies a password against a hash; replies whether it matches.
  caf::replies_to<auth::verify_password>::with<bool>>;

/// The hasher's facade: `hasher_actor`, plus its counters for /metrics and for the session
/// manager, which refuses a login before any database work while the queue is full.
using hasher_full_actor = hasher_actor::extend<
  // Workers, busy workers, the queue and refusals.
  caf::replies_to<stats_atom>::with<metrics::hasher_stats>>;

/// Signs users up and in, and resolves sessions (bcrypt off the actor threads).
using session_manager_actor = caf::typed_actor<
  // Creates an account and its first session.
  caf::replies_to<auth::signup>::with<auth::signed_in>,
  // Verifies a password and opens a session.
  caf::replies_to<auth::login>::with<auth::signed_in>,
  // Revokes one session.
  caf::replies_to<auth::logout>::with<bool>,
  // Revokes every session of the caller; replies with the number revoked.
  caf::replies_to<auth::logout_all>::with<int32_t>,
  // Changes the password; replies with the number of other sessions revoked.
  caf::replies_to<auth::change_password>::with<int32_t>,
  // Resolves a session to its user and slice, rolling its expiry.
  caf::replies_to<auth::resolve>::with<auth::signed_in>,
  // Checks that a session belongs to an admin.
  caf::replies_to<auth::authorize_admin>::with<user_record>,
  // Creates an account from a signup event (idempotent by event id).
  caf::replies_to<auth::signup_event>::with<user_record>,
  // Creates the accounts of several signup events in one transaction; one result each.
  caf::replies_to<auth::signup_events>::with<std::vector<auth::signup_result>>,
  // Lists one page of users (admin).
  caf::replies_to<admin::list_users>::with<admin::user_page>,
  // Reads a user with slice, queue place, live sessions and billing events (admin).
  caf::replies_to<admin::find_user>::with<admin::user_detail>,
  // Grants or withdraws admin rights, in force from the user's next request (admin).
  caf::replies_to<admin::update_user>::with<user_record>,
  // Ends every session of a user at once (admin); replies with the number ended.
  caf::replies_to<admin::revoke_sessions>::with<int32_t>,
  // Forgets cached resolves of a user whose row or slice changed.
  caf::reacts_to<auth::user_changed>,
  // Forgets cached resolves another instance revoked or changed.
  caf::reacts_to<auth::forget_cached>>;

/// Where the session manager announces what other instances must forget (the bridge).
using session_peers_actor = caf::typed_actor<
  // Sessions and users revoked or changed here, after the commit.
  caf::reacts_to<auth::forget_cached>>;

/// The NATS edge: inbound messages in, events and replies out.
using bridge_actor = event_sink_actor::extend<
  // A request or event copied out of a nats.c callback.
  caf::reacts_to<bus::inbound>,
  // The NATS connection went down or came back.
  caf::reacts_to<bus::connection_state>,
  // A component went down or came back: its endpoints answer 503 at once meanwhile.
  caf::reacts_to<bus::component_state>,
  // Request, event and connection counters (for /metrics).
  caf::replies_to<stats_atom>::with<metrics::bridge_stats>,
  // Tells every other instance to forget these cached sessions and users.
  caf::reacts_to<auth::forget_cached>,
  // Where the singleton lease stands, for `$SRV.STATS`.
  caf::reacts_to<lease::state>>;

/// Probes slices over HTTP and measures their disk usage, never on the scheduler's threads:
/// probes run in one libcurl multi loop on a thread of its own, disk walks in a detached
/// helper, so a hung slice or a huge directory delays nobody else.
using prober_actor = caf::typed_actor<
  // GET http://<host>:<port>/health; an unreachable slice is a result, not an error.
  caf::replies_to<telemetry::health_check>::with<telemetry::health_result>,
  // Measures a directory tree like `du -s`; `ec::not_found` if it does not exist.
  caf::replies_to<telemetry::disk_usage>::with<int64_t>>;

/// The prober's detached helper that walks directory trees, one at a time.
using disk_meter_actor = caf::typed_actor<
  // Measures a directory tree like `du -s`; `ec::not_found` if it does not exist.
  caf::replies_to<telemetry::disk_usage>::with<int64_t>>;

/// The part of `persistence_actor` the telemetry writer needs.
using telemetry_store_actor = caf::typed_actor<
  // Writes samples with one COPY; replies with the rows written.
  caf::replies_to<db::insert_telemetry>::with<int64_t>,
  // Writes the health columns of slice rows; replies with the rows updated.
  caf::replies_to<db::update_slice_health>::with<int64_t>,
  // Writes host samples; replies with the rows written.
  caf::replies_to<db::insert_server_samples>::with<int64_t>,
  // Stores published alerts; replies with the rows written.
  caf::replies_to<admin::insert_alerts>::with<int64_t>>;

/// Batches telemetry in front of persistence: writes when a batch is full or every flush
/// interval, and keeps a bounded backlog (oldest dropped first) while the database is down.
using telemetry_writer_actor = caf::typed_actor<
  // Queues a per-slice sample.
  caf::reacts_to<telemetry_sample>,
  // Queues a host sample.
  caf::reacts_to<server_sample>,
  // Queues an alert for the alert log.
  caf::reacts_to<events::slice_alert>,
  // Queues a slice's health columns; a newer row of the same slice replaces it.
  caf::reacts_to<db::slice_health_row>,
  // Writes what it holds now; replies with the counters once the write is done.
  caf::replies_to<flush_atom>::with<telemetry::writer_stats>,
  // Replies with the counters.
  caf::replies_to<stats_atom>::with<telemetry::writer_stats>,
  // Self-message: the periodic flush.
  caf::reacts_to<tick_atom>>;

/// The part of `runtime_actor` a slice watcher needs.
using slice_runtime_actor = caf::typed_actor<
  // Reads a slice's memory and CPU.
  caf::replies_to<rt::usage>::with<slice_usage>,
  // Restarts a slice that keeps failing; replies true.
  caf::replies_to<rt::restart>::with<bool>>;

/// Watches one slice: health probe, memory and CPU every health interval, disk usage every
/// disk interval; writes telemetry and the slice row, publishes health and alert events, and
/// restarts an assigned slice that keeps failing.
using slice_watcher_actor = caf::typed_actor<
  // Self-message: probe now.
  caf::reacts_to<tick_atom>,
  // Self-message: measure disk usage now.
  caf::reacts_to<disk_atom>,
  // The slice's lifecycle status changed (from the slice manager).
  caf::reacts_to<telemetry::slice_status>,
  // The slice was (re)started: a new start period begins (from the slice manager).
  caf::reacts_to<telemetry::slice_started>>;

/// The part of `persistence_actor` the server monitor needs.
using slice_counter_actor = caf::typed_actor<
  // Counts assigned and all slices.
  caf::replies_to<db::slice_counts>::with<db::slice_totals>>;

/// Samples host RAM, swap, CPU and disk every server interval.
using server_monitor_actor = caf::typed_actor<
  // Self-message: take a sample now.
  caf::reacts_to<tick_atom>,
  // This instance took or lost the singleton lease: with several instances, only the holder
  // writes host samples, so that one host series is written once.
  caf::reacts_to<lease::state>>;

/// The part of `persistence_actor` the retention actor needs.
using pruner_actor = caf::typed_actor<
  // Deletes one batch of old per-slice telemetry; replies with the rows deleted.
  caf::replies_to<db::prune_telemetry>::with<int64_t>,
  // Deletes one batch of old host telemetry; replies with the rows deleted.
  caf::replies_to<db::prune_server_telemetry>::with<int64_t>,
  // Creates day partitions ahead and drops those older than the cutoff.
  caf::replies_to<db::maintain_partitions>::with<db::partition_report>,
  // Deletes expired sessions in batches; replies with the number deleted.
  caf::replies_to<db::delete_expired_sessions>::with<int64_t>,
  // Deletes one batch of old alerts; replies with the rows deleted.
  caf::replies_to<admin::prune_alerts>::with<int64_t>,
  // Deletes one batch of old dead letters; replies with the rows deleted.
  caf::replies_to<admin::prune_dead_letters>::with<int64_t>>;

/// Every retention interval: creates telemetry day partitions ahead, drops the day partitions
/// older than the retention period, deletes the rest of the boundary day in bounded batches,
/// then old alerts and expired sessions.
using retention_actor = caf::typed_actor<
  // Self-message: run a pass now.
  caf::reacts_to<tick_atom>,
  // Runs a pass now; replies with what it deleted.
  caf::replies_to<telemetry::prune_now>::with<telemetry::retention_report>,
  // This instance took or lost the singleton lease: passes run only while it is held.
  caf::reacts_to<lease::state>>;

/// The part of `persistence_actor` the billing actor needs.
using billing_store_actor = caf::typed_actor<
  // Stores a Stripe event and applies it to its user in one transaction.
  caf::replies_to<db::apply_billing_event>::with<billing::outcome>>;

/// The part of `slice_manager_actor` the billing actor tells about changed users.
using billing_policy_actor = caf::typed_actor<
  // Applies the billing policy to a user whose subscription changed.
  caf::reacts_to<pool::billing_changed>>;

/// The part of `session_manager_actor` the billing actor tells about changed users.
using user_cache_actor = caf::typed_actor<
  // Forgets cached resolves of a user whose row changed.
  caf::reacts_to<auth::user_changed>>;

/// Applies Stripe events (`gateway.events.payment`) to users' subscriptions, then tells the
/// slice manager and the session manager about every user whose state changed.
using billing_actor = caf::typed_actor<
  // Maps the event's status and applies it; replies with what became of the event.
  caf::replies_to<billing::stripe_event>::with<billing::outcome>>;

/// Hears where the singleton lease stands (the slice manager, retention, the bridge).
using lease_listener_actor = caf::typed_actor<
  // The lease was taken or lost by this instance.
  caf::reacts_to<lease::state>>;

/// Holds the singleton lease for this instance when it can (persistence/lease.hpp).
using lease_keeper_actor = caf::typed_actor<
  // Self-message: try to take the lease, or check that it is still held.
  caf::reacts_to<tick_atom>,
  // Where the lease stands; tries to take it first if it is not held.
  caf::replies_to<lease_atom>::with<lease::state>,
  // Tells `listener` of every change from now on, and of the state now.
  caf::reacts_to<lease_listener_actor>>;

} // namespace slicegate
