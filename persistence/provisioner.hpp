#pragma once

// The provisioner: the slice databases and their roles, apart from the gateway connection.
//
// CREATE DATABASE waits while its template has sessions, DROP DATABASE while the database's
// sessions leave, and both take cluster-wide locks. On the persistence actor's connection they
// would stall every login, resolve and payment behind them; here they have their own actor and
// connections, each with a lock timeout and a statement timeout, so that a stuck template
// fails a provisioning (the sweep tries again) and nothing else.
//
// Who may reach what (see sql/setup.sql):
// - slice N's role `wa_slice_N` owns database `wa_slice_N` and everything in it, and nothing
//   else; CONNECT is nobody else's. Its password is random, set anew by `slice_login` each time
//   the slice starts afresh, and handed only to the slice.
// - the template is slicegate's own role's, marked as a template that accepts no connections.
// - slice roles are made through `slice_roles.grant_login`, so slicegate's role needs no
//   CREATEROLE.

#include <memory>
#include <string>

#include <caf/stateful_actor.hpp>

#include "actors/actors.hpp"

namespace slicegate {

struct provisioner_config {
  /// Maintenance database for CREATE and DROP DATABASE (`postgres`).
  std::string admin_database_url;
  /// The gateway database, where `slice_roles.grant_login` lives.
  std::string database_url;
  /// Template every slice database is created from.
  std::string template_database = "wa_slice_template";
  /// Seconds libpq waits for a connection.
  int connect_timeout_seconds = 2;
  /// How long a statement waits for a lock, and runs in all, before it fails (0: no limit).
  caf::timespan lock_timeout = std::chrono::seconds{10};
  caf::timespan statement_timeout = std::chrono::minutes{2};
  /// Connections one slice's role may hold at once.
  int32_t slice_connection_limit = 20;
};

/// The connections and the procedures; defined in provisioner.cpp so that only persistence/
/// sees libpqxx.
class slice_databases;

struct provisioner_state {
  static inline const char* name = "provisioner";
  std::unique_ptr<slice_databases> store;
  provisioner_state();
  ~provisioner_state();
};

/// Spawn it detached: every handler blocks on PostgreSQL.
provisioner_actor::behavior_type
provisioner(provisioner_actor::stateful_pointer<provisioner_state> self, provisioner_config cfg);

} // namespace slicegate
