#include "persistence/persistence.hpp"

#include <cstdlib>
#include <string>
#include <typeinfo>
#include <vector>

#include <cxxabi.h>

#include <caf/typed_event_based_actor.hpp>
#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

#include "messages/error.hpp"
#include "persistence/admin.hpp"
#include "persistence/billing.hpp"
#include "persistence/database.hpp"
#include "persistence/detail/link.hpp"
#include "persistence/pool.hpp"
#include "persistence/telemetry.hpp"

namespace slicegate {

namespace {

/// Looks for a NUL character in every text field of a request. libpq sends parameters as C
/// strings, so a NUL would silently cut a value short (a stored e-mail or hash that differs
/// from the one sent); such a request is refused instead.
class nul_finder {
public:
  using result_type = void;
  static constexpr bool reads_state = true;
  static constexpr bool writes_state = false;

  template <class... Ts>
  void operator()(Ts&&... xs) {
    (visit(xs), ...);
  }

  bool found() const {
    return found_;
  }

private:
  void visit(const std::string& x) {
    found_ = found_ || x.find('\0') != std::string::npos;
  }

  template <class T>
  void visit(const caf::optional<T>& x) {
    if (x)
      visit(*x);
  }

  template <class T>
  void visit(const std::vector<T>& xs) {
    for (auto& x : xs)
      visit(x);
  }

  template <class T>
  void visit(const T& x) {
    fields(const_cast<T&>(x), 0);
  }

  /// A record or message: its fields (inspect() takes a mutable reference but only reads).
  template <class T>
  auto fields(T& x, int) -> decltype(inspect(*this, x), void()) {
    inspect(*this, x);
  }

  /// Numbers, times, annotations: no text.
  template <class T>
  void fields(T&, long) {
    // Nothing to look at.
  }

  bool found_ = false;
};

template <class Request>
bool contains_nul(const Request& x) {
  nul_finder f;
  f(x);
  return f.found();
}

/// The demangled name of the dynamic type of `e`, e.g. "pqxx::insufficient_privilege".
std::string type_name(const std::exception& e) {
  int status = 0;
  auto name = abi::__cxa_demangle(typeid(e).name(), nullptr, nullptr, &status);
  std::string result = status == 0 && name != nullptr ? name : typeid(e).name();
  std::free(name);
  return result;
}

/// The text of `e` on one line: libpq ends messages with a newline and puts the statement
/// context ("LINE 1: …") on lines of their own.
std::string one_line(const std::exception& e) {
  std::string result = e.what();
  while (!result.empty() && (result.back() == '\n' || result.back() == ' '))
    result.pop_back();
  for (auto& c : result)
    if (c == '\n' || c == '\t')
      c = ' ';
  return result;
}

/// Maps what a request threw to the error its requester gets. Logs with the SQLSTATE only:
/// PostgreSQL's message details may quote row values (e-mails, password hashes).
caf::error to_error(const char* op, const std::exception& e) {
  if (detail::connection_lost(e)) {
    spdlog::debug("persistence fails {}: database unavailable", op);
    return make_error(ec::unavailable, "database unavailable");
  }
  if (dynamic_cast<const pqxx::unique_violation*>(&e))
    return make_error(ec::conflict, std::string{op} + ": already exists");
  if (dynamic_cast<const pqxx::foreign_key_violation*>(&e))
    return make_error(ec::conflict, std::string{op} + ": refers to a missing row");
  if (dynamic_cast<const pqxx::check_violation*>(&e)
      || dynamic_cast<const pqxx::not_null_violation*>(&e)
      || dynamic_cast<const pqxx::data_exception*>(&e))
    return make_error(ec::invalid_request, std::string{op} + ": invalid value");
  if (dynamic_cast<const pqxx::unexpected_rows*>(&e))
    return make_error(ec::not_found, std::string{op} + ": not found");
  if (auto err = dynamic_cast<const pqxx::sql_error*>(&e)) {
    auto& state = err->sqlstate();
    // Object in use (a template with sessions), lock not available.
    if (state == "55006" || state == "55P03")
      return make_error(ec::conflict, std::string{op} + ": in use");
    if (state.empty()) {
      // No SQLSTATE: an error libpq made up on the client side, or one of the server's whose
      // code libpqxx 6.4 drops (it throws insufficient_privilege for 42501 without it, e.g.
      // "must be a superuser to terminate superuser process"). Neither quotes row values, and
      // without the type and text nobody can tell what happened.
      auto type = type_name(e);
      spdlog::error("persistence fails {}: {} without SQLSTATE: {}", op, type, one_line(e));
      return make_error(ec::internal, std::string{op} + ": database error (" + type + ")");
    }
    spdlog::error("persistence fails {}: SQLSTATE {}", op, state);
    return make_error(ec::internal, std::string{op} + ": database error " + state);
  }
  // A failed conversion quotes the value it could not convert: name the type only.
  if (dynamic_cast<const pqxx::conversion_error*>(&e))
    spdlog::error("persistence fails {}: a column does not convert to its record type", op);
  else
    spdlog::error("persistence fails {}: {}: {}", op, type_name(e), one_line(e));
  return make_error(ec::internal, std::string{op} + ": internal error");
}

/// The handler of one request: checks the request, runs `fn` on the database and turns every
/// exception into an error reply, so that no exception crosses a message.
template <class T, class Request>
auto serve(database* store, const char* op, caf::expected<T> (database::*fn)(const Request&)) {
  return [store, op, fn](const Request& x) -> caf::result<T> {
    if (contains_nul(x))
      return make_error(ec::invalid_request, std::string{op} + ": text contains a NUL");
    try {
      return (store->*fn)(x);
    } catch (const std::exception& e) {
      return to_error(op, e);
    }
  };
}

/// The handler of a request served by a store function on the gateway link
/// (persistence/telemetry.hpp), with the same checks and error mapping.
template <class T, class Request>
auto serve(database* store, const char* op,
           caf::expected<T> (*fn)(detail::link&, const Request&)) {
  return [store, op, fn](const Request& x) -> caf::result<T> {
    if (contains_nul(x))
      return make_error(ec::invalid_request, std::string{op} + ": text contains a NUL");
    try {
      return fn(store->gateway(), x);
    } catch (const std::exception& e) {
      return to_error(op, e);
    }
  };
}

} // namespace

persistence_state::persistence_state() = default;

persistence_state::~persistence_state() = default;

persistence_actor::behavior_type
persistence(persistence_actor::stateful_pointer<persistence_state> self,
            persistence_config cfg) {
  self->state.config = cfg;
  self->state.db = std::make_unique<database>(std::move(cfg));
  auto store = self->state.db.get();
  return {
    serve(store, "ping", &database::ping),
    serve(store, "migrate", &database::migrate),
    serve(store, "create_user", &database::create_user),
    serve(store, "find_credentials", &database::find_credentials),
    serve(store, "find_credentials_by_id", &database::find_credentials_by_id),
    serve(store, "get_user", &database::get_user),
    serve(store, "record_login", &database::record_login),
    serve(store, "set_password", &database::set_password),
    serve(store, "find_session", &database::find_session),
    serve(store, "extend_session", &database::extend_session),
    serve(store, "delete_session", &database::delete_session),
    serve(store, "delete_user_sessions", &database::delete_user_sessions),
    serve(store, "delete_expired_sessions", &database::delete_expired_sessions),
    serve(store, "set_admin", &database::set_admin),
    serve(store, "ensure_template", &database::ensure_template),
    serve(store, "create_slice_database", &database::create_slice_database),
    serve(store, "drop_slice_database", &database::drop_slice_database),
    serve(store, "apply_billing_event", &billing_store::apply),
    serve(store, "insert_telemetry", &telemetry_store::insert),
    serve(store, "update_slice_health", &telemetry_store::update_slice_health),
    serve(store, "insert_server_samples", &telemetry_store::insert_server_samples),
    serve(store, "slice_counts", &telemetry_store::slice_counts),
    serve(store, "prune_telemetry", &telemetry_store::prune),
    serve(store, "prune_server_telemetry", &telemetry_store::prune_server),
    serve(store, "insert_slices", &pool_store::insert_slices),
    serve(store, "list_slices", &pool_store::list_slices),
    serve(store, "get_slice_detail", &pool_store::get_slice_detail),
    serve(store, "transition_slice", &pool_store::transition_slice),
    serve(store, "assign_next", &pool_store::assign_next),
    serve(store, "assign_user", &pool_store::assign_user),
    serve(store, "get_placement", &pool_store::get_placement),
    serve(store, "due_actions", &pool_store::due_actions),
    serve(store, "count_pool", &pool_store::count_pool),
    serve(store, "list_users", &admin_store::list_users),
    serve(store, "get_user_detail", &admin_store::get_user),
    serve(store, "slice_series", &admin_store::slice_series),
    serve(store, "server_series", &admin_store::server_series),
    serve(store, "list_slice_views", &admin_store::list_slice_views),
    serve(store, "overview", &admin_store::overview),
    serve(store, "insert_alerts", &admin_store::insert_alerts),
    serve(store, "prune_alerts", &admin_store::prune_alerts),
    [self, store](stats_atom) {
      auto& link = store->gateway();
      return metrics::persistence_stats{link.connects(), link.losses(), link.connect_failures(),
                                        link.up(), self->mailbox().size()};
    },
  };
}

} // namespace slicegate
