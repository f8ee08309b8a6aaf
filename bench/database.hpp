#pragma once

// What the benchmarks that work on the gateway database share: the actor system's types, the
// database to use (the environment's, or throwaway servers), the schema migrated through the
// persistence actor, and rows of bench slices.

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <caf/all.hpp>
#include <pqxx/pqxx>

#include "actors/actors.hpp"
#include "common/database_url.hpp"
#include "messages/register.hpp"
#include "tests/support/servers.hpp"

namespace slicegate::bench {

struct actor_config : caf::actor_system_config {
  actor_config() {
    register_types(*this);
  }
};

/// The databases to work on: $DATABASE_URL, $ADMIN_DATABASE_URL (else the server's
/// `postgres` database) and $SUPERUSER_DATABASE_URL (else none), or throwaway servers.
struct target_database {
  std::unique_ptr<test::servers> servers;
  std::string url;
  std::string admin_url;
  /// Empty when not known: then `settle` does nothing.
  std::string superuser_url;

  target_database() {
    if (auto url_env = std::getenv("DATABASE_URL")) {
      url = url_env;
      auto admin = std::getenv("ADMIN_DATABASE_URL");
      admin_url = admin ? admin : with_database(url, "postgres");
      auto superuser = std::getenv("SUPERUSER_DATABASE_URL");
      superuser_url = superuser ? superuser : "";
      return;
    }
    servers = std::make_unique<test::servers>();
    url = servers->database_url();
    admin_url = servers->admin_database_url();
    superuser_url = servers->superuser_url();
  }

  /// Writes out what earlier rounds left dirty, so that it does not slow the next one.
  void settle() const {
    if (superuser_url.empty())
      return;
    pqxx::connection conn{superuser_url};
    pqxx::nontransaction tx{conn};
    tx.exec("CHECKPOINT");
  }
};

/// Brings the schema up to date through `db`; throws if it cannot.
inline void migrate(caf::actor_system& sys, const persistence_actor& db,
                    caf::timespan timeout = std::chrono::seconds{120}) {
  caf::scoped_actor self{sys};
  self->request(db, timeout, db::migrate{})
    .receive([](std::vector<int32_t>&) {},
             [](caf::error& err) {
               throw std::runtime_error("migrate failed: " + caf::to_string(err));
             });
}

/// `n` slice rows on ports `first_port + 1 …`, made once: a rerun on the same database gets
/// the same rows back (the port is unique). Returns their ids.
inline std::vector<int32_t> slice_rows(pqxx::connection& conn, int n, int first_port = 40000) {
  std::vector<int32_t> ids;
  pqxx::work tx{conn};
  for (auto row : tx.exec_params("INSERT INTO gateway.slices (port) "
                                 "SELECT $2::integer + i FROM generate_series(1, $1) AS i "
                                 "ON CONFLICT (port) DO UPDATE SET port = EXCLUDED.port "
                                 "RETURNING id",
                                 n, first_port))
    ids.push_back(row[0].as<int32_t>());
  tx.commit();
  return ids;
}

} // namespace slicegate::bench
