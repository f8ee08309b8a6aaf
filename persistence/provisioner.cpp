#include "persistence/provisioner.hpp"

#include <algorithm>
#include <chrono>
#include <regex>
#include <thread>

#include <caf/typed_event_based_actor.hpp>
#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

#include "common/database_url.hpp"
#include "messages/error.hpp"
#include "persistence/detail/errors.hpp"
#include "persistence/detail/link.hpp"
#include "persistence/detail/scram.hpp"
#include "persistence/detail/statements.hpp"

namespace slicegate {

using detail::statement;
using detail::with_identifiers;

namespace {

/// SQLSTATE of CREATE DATABASE for a name that exists (a concurrent creator won).
constexpr const char* duplicate_database = "42P04";
/// SQLSTATE of CREATE DATABASE … TEMPLATE for a template that does not exist.
constexpr const char* invalid_catalog_name = "3D000";
/// SQLSTATE of DROP DATABASE when sessions are still connected after it terminated them.
constexpr const char* object_in_use = "55006";

/// How long a forced drop keeps trying while it races sessions on their way out, and the
/// pauses between its attempts (doubling up to the cap).
constexpr std::chrono::seconds drop_retry_window{15};
constexpr std::chrono::milliseconds drop_first_pause{50};
constexpr std::chrono::milliseconds drop_max_pause{1000};

/// Whether a forced drop failed because a session was still leaving the database, which
/// another attempt outlasts:
/// - DROP … WITH (FORCE) refuses to terminate a superuser's session (SQLSTATE 42501, "must
///   be a superuser to terminate superuser process"), and it counts a session whose client
///   just disconnected until its backend has exited, which on a busy machine takes a while.
///   libpqxx 6.4 throws `insufficient_privilege` for 42501 without the SQLSTATE.
/// - It waits 5 seconds for the sessions it terminated to exit, then gives up with 55006.
bool races_a_leaving_session(const pqxx::sql_error& e) {
  return dynamic_cast<const pqxx::insufficient_privilege*>(&e) != nullptr
         || e.sqlstate() == object_in_use;
}

bool valid_slice_database(const std::string& name) {
  static const std::regex pattern{"^wa_slice_[0-9]{1,9}$"};
  return std::regex_match(name, pattern);
}

bool valid_database_name(const std::string& name) {
  static const std::regex pattern{"^[a-z_][a-z0-9_]{0,62}$"};
  return std::regex_match(name, pattern);
}

std::string slice_database(int32_t slice_id) {
  return "wa_slice_" + std::to_string(slice_id);
}

std::string milliseconds(caf::timespan t) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(t).count());
}

} // namespace

/// The procedures of the provisioner, each on the maintenance database (`admin_`), the gateway
/// database (`gateway_`, for the role function) or a short connection to one slice database.
class slice_databases {
public:
  explicit slice_databases(provisioner_config cfg)
    : config_(std::move(cfg)),
      admin_("maintenance", config_.admin_database_url, config_.connect_timeout_seconds),
      gateway_("gateway (provisioner)", config_.database_url, config_.connect_timeout_seconds) {
    // Nothing to do: each link connects on first use.
  }

  caf::expected<bool> ensure_template(const db::ensure_template&) {
    auto& name = config_.template_database;
    if (!valid_database_name(name))
      return make_error(ec::invalid_request, "invalid template database name");
    if (auto err = check_role_function())
      return err;
    auto created = admin_.run([&](pqxx::connection& c) {
      pqxx::nontransaction tx{c};
      limit(tx);
      auto quoted = tx.quote_name(name);
      auto found = tx.exec_prepared("database_owner", name);
      auto exists = !found.empty();
      if (exists && found[0]["owner"].as<std::string>() != c.username()) {
        // An older version's template, owned by wa_slice, which every slice could log in as
        // and so could have planted objects in: made anew.
        spdlog::info("provisioner replaces the slice template {}: it belongs to {}", name,
                     found[0]["owner"].as<std::string>());
        if (found[0]["datistemplate"].as<bool>())
          tx.exec(with_identifiers(statement("unmark_template"), {{"template", quoted}}));
        tx.exec(with_identifiers(statement("drop_slice_database"), {{"name", quoted}}));
        exists = false;
      }
      if (exists)
        return false;
      try {
        tx.exec(with_identifiers(statement("create_template_database"), {{"template", quoted}}));
      } catch (const pqxx::sql_error& e) {
        if (e.sqlstate() != duplicate_database)
          throw;
        return false;
      }
      return true;
    });
    // Bring the schema up to date (every statement of slice-schema.sql is idempotent), then
    // close the template again: CREATE DATABASE … TEMPLATE refuses a template with sessions.
    admin_.run([&](pqxx::connection& c) {
      pqxx::nontransaction tx{c};
      limit(tx);
      tx.exec(with_identifiers(statement("open_template"), {{"template", tx.quote_name(name)}}));
    });
    try {
      auto conn = session_on(name);
      pqxx::work tx{*conn};
      limit(tx);
      tx.exec(detail::sql_file("slice-schema.sql"));
      tx.commit();
    } catch (...) {
      close_template();
      throw;
    }
    close_template();
    adopt_legacy_databases();
    return created;
  }

  caf::expected<bool> create_slice_database(const db::create_slice_database& x) {
    if (!valid_slice_database(x.name) || x.name == config_.template_database)
      return make_error(ec::invalid_request, "invalid slice database name");
    auto& template_name = config_.template_database;
    if (!valid_database_name(template_name))
      return make_error(ec::invalid_request, "invalid template database name");
    // The database belongs to the slice's role from the start; its password is set again,
    // and handed out, when the slice starts.
    auto id = std::stoi(x.name.substr(std::string{"wa_slice_"}.size()));
    if (auto login = grant_login(id); !login)
      return std::move(login.error());
    auto created = admin_.run([&](pqxx::connection& c) -> caf::expected<bool> {
      pqxx::nontransaction tx{c};
      limit(tx);
      if (tx.exec_prepared1("database_exists", x.name)["present"].as<bool>())
        return false;
      try {
        tx.exec(with_identifiers(statement("create_slice_database"),
                                 {{"name", tx.quote_name(x.name)},
                                  {"template", tx.quote_name(template_name)},
                                  {"owner", tx.quote_name(x.name)}}));
      } catch (const pqxx::sql_error& e) {
        if (e.sqlstate() == duplicate_database)
          return false;
        if (e.sqlstate() == invalid_catalog_name)
          return make_error(ec::not_found, "the slice template database does not exist");
        throw;
      }
      return true;
    });
    if (!created)
      return created;
    secure(x.name);
    return created;
  }

  caf::expected<bool> drop_slice_database(const db::drop_slice_database& x) {
    if (!valid_slice_database(x.name) || x.name == config_.template_database)
      return make_error(ec::invalid_request, "invalid slice database name");
    auto drop = [&](pqxx::connection& c) {
      pqxx::nontransaction tx{c};
      limit(tx);
      if (!tx.exec_prepared1("database_exists", x.name)["present"].as<bool>())
        return false;
      tx.exec(with_identifiers(statement("drop_slice_database"),
                               {{"name", tx.quote_name(x.name)}}));
      return true;
    };
    // This actor is detached and blocks on the server anyway: the drop itself waits up to 5 s
    // for the sessions it terminates.
    using clock = std::chrono::steady_clock;
    auto deadline = clock::now() + drop_retry_window;
    auto pause = drop_first_pause;
    for (int attempt = 1;; ++attempt) {
      try {
        return admin_.run(drop);
      } catch (const pqxx::sql_error& e) {
        if (!races_a_leaving_session(e) || clock::now() + pause >= deadline)
          throw;
        spdlog::debug("provisioner retries dropping {} (attempt {}): a session still leaves it",
                      x.name, attempt);
      }
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::milliseconds{drop_max_pause});
    }
  }

  caf::expected<db::slice_credentials> slice_login(const db::slice_login& x) {
    if (x.slice_id <= 0 || x.slice_id > 999'999'999)
      return make_error(ec::invalid_request, "slice id out of range");
    auto login = grant_login(x.slice_id);
    if (!login)
      return login;
    // A database an older version made still belongs to wa_slice: it moves to the slice's
    // role now, before the slice first connects with it.
    auto name = slice_database(x.slice_id);
    auto owner = admin_.run([&](pqxx::connection& c) {
      pqxx::read_transaction tx{c};
      auto found = tx.exec_prepared("database_owner", name);
      tx.commit();
      return found.empty() ? std::string{} : found[0]["owner"].as<std::string>();
    });
    if (!owner.empty() && owner != name)
      secure(name);
    return login;
  }

private:
  /// Bounds the session's lock waits and statements.
  void limit(pqxx::transaction_base& tx) {
    tx.exec_prepared("set_session_limits", milliseconds(config_.lock_timeout),
                     milliseconds(config_.statement_timeout));
  }

  /// A short session on `database` as slicegate's role, its statements defined.
  std::unique_ptr<pqxx::connection> session_on(const std::string& database) const {
    auto conn = std::make_unique<pqxx::connection>(detail::with_connect_timeout(
      with_database(config_.admin_database_url, database), config_.connect_timeout_seconds));
    detail::prepare_statements(*conn);
    return conn;
  }

  caf::error check_role_function() {
    auto installed = gateway_.run([](pqxx::connection& c) {
      pqxx::read_transaction tx{c};
      auto row = tx.exec_prepared1("slice_roles_installed");
      tx.commit();
      return row["installed"].as<bool>();
    });
    if (!installed)
      return make_error(ec::unavailable,
                        "the gateway database has no slice_roles.grant_login: run sql/setup.sh "
                        "(as a superuser) once more to install it");
    return {};
  }

  /// Sets a fresh random password on slice `slice_id`'s role, making the role if missing.
  caf::expected<db::slice_credentials> grant_login(int32_t slice_id) {
    auto password = detail::make_slice_password();
    auto verifier = password ? detail::scram_verifier(*password) : std::nullopt;
    if (!verifier)
      return make_error(ec::internal, "the system's random source failed");
    gateway_.run([&](pqxx::connection& c) {
      pqxx::work tx{c};
      limit(tx);
      tx.exec_prepared("grant_slice_login", slice_id, *verifier, config_.slice_connection_limit);
      tx.commit();
    });
    return db::slice_credentials{slice_database(slice_id), std::move(*password)};
  }

  /// Makes slice database `name` its role's alone: the owner, no CONNECT for PUBLIC, and every
  /// object inside the role's.
  void secure(const std::string& name) {
    admin_.run([&](pqxx::connection& c) {
      pqxx::nontransaction tx{c};
      limit(tx);
      auto quoted = tx.quote_name(name);
      tx.exec(with_identifiers(statement("secure_slice_database"),
                               {{"name", quoted}, {"owner", quoted}}));
    });
    auto conn = session_on(name);
    pqxx::work tx{*conn};
    limit(tx);
    tx.exec(statement("adopt_slice_objects"));
    tx.commit();
  }

  void close_template() {
    admin_.run([&](pqxx::connection& c) {
      pqxx::nontransaction tx{c};
      limit(tx);
      tx.exec(with_identifiers(statement("close_template"),
                               {{"template", tx.quote_name(config_.template_database)}}));
    });
  }

  /// Moves every slice database an older version left to wa_slice to the slice's own role
  /// (with a password nobody knows until the slice starts), so that wa_slice, which every
  /// slice role belongs to, owns nothing.
  void adopt_legacy_databases() {
    auto names = admin_.run([&](pqxx::connection& c) {
      pqxx::read_transaction tx{c};
      auto rows = tx.exec_prepared("legacy_slice_databases", config_.template_database);
      tx.commit();
      std::vector<std::string> result;
      for (const auto& row : rows)
        result.push_back(row["datname"].as<std::string>());
      return result;
    });
    for (auto& name : names) {
      auto id = std::stoi(name.substr(std::string{"wa_slice_"}.size()));
      if (auto login = grant_login(id); !login)
        throw std::runtime_error{message_of(login.error())};
      secure(name);
      spdlog::info("provisioner moved {} from wa_slice to its own role", name);
    }
  }

  provisioner_config config_;
  detail::link admin_;
  detail::link gateway_;
};

namespace {

/// The handler of one request: runs `fn` and turns every exception into an error reply.
template <class T, class Request>
auto serve(slice_databases* store, const char* op,
           caf::expected<T> (slice_databases::*fn)(const Request&)) {
  return [store, op, fn](const Request& x) -> caf::result<T> {
    try {
      return (store->*fn)(x);
    } catch (const std::exception& e) {
      return detail::to_error(op, e);
    }
  };
}

} // namespace

provisioner_state::provisioner_state() = default;

provisioner_state::~provisioner_state() = default;

provisioner_actor::behavior_type
provisioner(provisioner_actor::stateful_pointer<provisioner_state> self, provisioner_config cfg) {
  self->state.store = std::make_unique<slice_databases>(std::move(cfg));
  auto store = self->state.store.get();
  return {
    serve(store, "ensure_template", &slice_databases::ensure_template),
    serve(store, "create_slice_database", &slice_databases::create_slice_database),
    serve(store, "drop_slice_database", &slice_databases::drop_slice_database),
    serve(store, "slice_login", &slice_databases::slice_login),
  };
}

} // namespace slicegate
