#pragma once

// Every actor interface of slicegate, in one place: who talks to whom, with which messages.
// Handlers of a typed interface are listed one per line; the message structs live in
// messages/.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "messages/auth.hpp"
#include "messages/bus.hpp"
#include "messages/db.hpp"
#include "messages/events.hpp"
#include "messages/pool.hpp"
#include "messages/records.hpp"

namespace slicegate {

/// Owns the PostgreSQL connection to the gateway database; every read and write goes here.
using persistence_actor = caf::typed_actor<
  // Checks the connection; replies with the server version number.
  caf::replies_to<db::ping>::with<int32_t>,
  // Applies pending migrations; replies with the versions applied now.
  caf::replies_to<db::migrate>::with<std::vector<int32_t>>,
  // Inserts a user (idempotent per signup event id).
  caf::replies_to<db::create_user>::with<db::user_created>,
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
  // Creates or updates the slice template database.
  caf::replies_to<db::ensure_template>::with<bool>,
  // Creates a slice database from the template.
  caf::replies_to<db::create_slice_database>::with<bool>,
  // Drops a slice database.
  caf::replies_to<db::drop_slice_database>::with<bool>>;

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
  caf::reacts_to<events::event_rejected>>;

/// Owns the slice pool and the waiting queue.
using slice_manager_actor = caf::typed_actor<
  // A user was created: assign a slice or tell their place in the queue.
  caf::replies_to<pool::place_user>::with<pool::placement>,
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

/// Runs bcrypt on a bounded pool of worker threads, never on the scheduler's threads. A full
/// queue answers `ec::rate_limited` at once instead of growing without bound.
using hasher_actor = caf::typed_actor<
  // Hashes a password; replies with the `$2b$` hash.
  caf::replies_to<auth::hash_password>::with<std::string>,
  // Verifies a password against a hash; replies whether it matches.
  caf::replies_to<auth::verify_password>::with<bool>>;

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
  // Revokes every session of a user (admin); replies with the number revoked.
  caf::replies_to<auth::revoke_user>::with<int32_t>,
  // Forgets cached resolves of a user whose row or slice changed.
  caf::reacts_to<auth::user_changed>>;

/// The NATS edge: inbound messages in, events and replies out.
using bridge_actor = event_sink_actor::extend<
  // A request or event copied out of a nats.c callback.
  caf::reacts_to<bus::inbound>,
  // The NATS connection went down or came back.
  caf::reacts_to<bus::connection_state>>;

} // namespace slicegate
