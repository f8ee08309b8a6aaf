#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <caf/stateful_actor.hpp>
#include <caf/timespan.hpp>

#include "actors/actors.hpp"

namespace slicegate {

/// What the persistence actor needs to know.
struct persistence_config {
  /// Gateway database (`wank_saas`).
  std::string database_url;
  /// Seconds libpq waits for a connection before the request fails with `unavailable`.
  int connect_timeout_seconds = 2;
  /// Server-side bounds on every statement of the gateway connection, so that one statement
  /// stuck behind an operator's open transaction, or a half-open connection, cannot freeze
  /// every login, resolve, payment and telemetry write (0: no limit).
  caf::timespan statement_timeout = std::chrono::seconds{30};
  caf::timespan lock_timeout = std::chrono::seconds{10};
  caf::timespan idle_in_transaction_timeout = std::chrono::seconds{60};
  caf::timespan keepalive_idle = std::chrono::seconds{30};
};

/// The connection and prepared statements; defined in persistence.cpp so that only
/// persistence/ sees libpqxx.
class database;

struct persistence_state {
  static inline const char* name = "persistence";
  persistence_config config;
  std::unique_ptr<database> db;
  persistence_state();
  ~persistence_state();
};

/// The one actor that talks to PostgreSQL. Spawn it detached: every handler blocks on I/O.
persistence_actor::behavior_type
persistence(persistence_actor::stateful_pointer<persistence_state> self, persistence_config cfg);

} // namespace slicegate
