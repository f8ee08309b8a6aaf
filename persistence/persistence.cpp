#include "persistence/persistence.hpp"

#include <cstdlib>
#include <string>
#include <typeinfo>
#include <vector>

#include <caf/typed_event_based_actor.hpp>
#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

#include "messages/error.hpp"
#include "persistence/admin.hpp"
#include "persistence/billing.hpp"
#include "persistence/dead_letters.hpp"
#include "persistence/database.hpp"
#include "persistence/detail/errors.hpp"
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

/// The handler of one request: checks the request, runs `fn` on the database and turns every
/// exception into an error reply, so that no exception crosses a message.
template <class T, class Request>
auto serve(database* store, const char* op,
           caf::expected<T> (database::*fn)(const Request&)) {
  return [store, op, fn](const Request& x) -> caf::result<T> {
    if (contains_nul(x))
      return make_error(ec::invalid_request, std::string{op} + ": text contains a NUL");
    try {
      return (store->*fn)(x);
    } catch (const std::exception& e) {
      return detail::to_error(op, e);
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
      return detail::to_error(op, e);
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
    [store](const db::create_users& x) -> caf::result<std::vector<db::user_creation>> {
      // One user's NUL refuses that user, not the batch.
      std::vector<caf::error> refused;
      refused.reserve(x.users.size());
      for (auto& user : x.users)
        refused.push_back(contains_nul(user) ? make_error(ec::invalid_request,
                                                          "create_user: text contains a NUL")
                                             : caf::error{});
      try {
        return store->create_users(x, refused);
      } catch (const std::exception& e) {
        return detail::to_error("create_users", e);
      }
    },
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
    serve(store, "apply_billing_event", &billing_store::apply),
    serve(store, "insert_telemetry", &telemetry_store::insert),
    serve(store, "update_slice_health", &telemetry_store::update_slice_health),
    serve(store, "insert_server_samples", &telemetry_store::insert_server_samples),
    serve(store, "slice_counts", &telemetry_store::slice_counts),
    serve(store, "prune_telemetry", &telemetry_store::prune),
    serve(store, "prune_server_telemetry", &telemetry_store::prune_server),
    serve(store, "maintain_partitions", &telemetry_store::maintain_partitions),
    serve(store, "insert_slices", &pool_store::insert_slices),
    serve(store, "list_slices", &pool_store::list_slices),
    serve(store, "get_slice_detail", &pool_store::get_slice_detail),
    serve(store, "transition_slice", &pool_store::transition_slice),
    serve(store, "assign_next", &pool_store::assign_next),
    serve(store, "assign_user", &pool_store::assign_user),
    serve(store, "get_placement", &pool_store::get_placement),
    serve(store, "get_placements", &pool_store::get_placements),
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
    serve(store, "record_dead_letter", &dead_letter_store::record),
    serve(store, "list_dead_letters", &dead_letter_store::list),
    serve(store, "get_dead_letter", &dead_letter_store::get),
    serve(store, "mark_replayed", &dead_letter_store::mark_replayed),
    serve(store, "prune_dead_letters", &dead_letter_store::prune),
    [self, store](stats_atom) {
      auto& link = store->gateway();
      return metrics::persistence_stats{link.connects(),         link.losses(),
                                        link.connect_failures(),  link.up(),
                                        self->mailbox().size(),   0,
                                        0};
    },
    [](barrier_atom) { return true; },
  };
}

} // namespace slicegate
