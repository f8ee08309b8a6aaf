#include "persistence/database.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <stdexcept>

#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

#include "messages/error.hpp"
#include "persistence/billing.hpp"
#include "persistence/detail/errors.hpp"
#include "persistence/detail/link.hpp"
#include "persistence/detail/migrations.hpp"
#include "persistence/detail/rows.hpp"
#include "persistence/detail/statements.hpp"

namespace slicegate {

using detail::statement;
using detail::to_sql;

namespace {

std::vector<std::string> ids_of(const pqxx::result& rows) {
  std::vector<std::string> result;
  result.reserve(rows.size());
  for (const auto& row : rows)
    result.push_back(row["id"].as<std::string>());
  return result;
}

detail::session_limits limits_of(const persistence_config& cfg) {
  using std::chrono::duration_cast;
  using ms = std::chrono::milliseconds;
  return {duration_cast<ms>(cfg.statement_timeout), duration_cast<ms>(cfg.lock_timeout),
          duration_cast<ms>(cfg.idle_in_transaction_timeout),
          duration_cast<std::chrono::seconds>(cfg.keepalive_idle)};
}

/// The work of `create_user` on an open transaction; the caller commits.
caf::expected<db::user_created> insert_user(pqxx::transaction_base& tx,
                                            const db::create_user& x) {
  if (x.signup_event_id) {
    // Claim the event first: a redelivered event then finds its user even when its e-mail
    // would now be a conflict.
    if (tx.exec_prepared("claim_signup_event", *x.signup_event_id).empty()) {
      auto seen = tx.exec_prepared("signup_event_user", *x.signup_event_id);
      if (seen.empty())
        return make_error(ec::not_found,
                          "the user of signup event " + *x.signup_event_id + " was deleted");
      return db::user_created{detail::to_user(seen[0]), false};
    }
  }
  auto user = detail::to_user(
    tx.exec_prepared1("insert_user", x.email, x.password_hash, to_sql(x.subscription_status),
                      to_sql(x.subscription_ends_at), to_sql(x.stripe_customer), x.is_admin));
  if (x.signup_event_id)
    tx.exec_prepared("link_signup_event", *x.signup_event_id, user.id);
  // Stripe may have been faster than the signup: in the same transaction, so that no crash
  // can leave a created user without the billing state that waited for them.
  if (billing_store::apply_waiting(tx, user.id))
    user = detail::to_user(tx.exec_prepared1("get_user", user.id));
  return db::user_created{std::move(user), true};
}

/// The work of `create_users` on an open transaction, a statement per step for the whole
/// batch rather than per user: claim the events, insert the users, link the events to them,
/// then the billing step for the few users that billing state waits for, and the users of
/// events seen before. The same outcome as `insert_user` for each in turn; a failure of any
/// statement fails them all (the caller then makes them one by one). Users `skip` says are
/// left as they are in `result`.
void insert_users(pqxx::transaction_base& tx, const db::create_users& x,
                  const std::function<bool(size_t)>& skip,
                  std::vector<db::user_creation>& result) {
  // 1. Claim every event at once; an event seen before has its user looked up at the end.
  detail::array_literal event_ids;
  auto any_event = false;
  for (size_t i = 0; i < x.users.size(); ++i)
    if (!skip(i) && x.users[i].signup_event_id) {
      event_ids.add(*x.users[i].signup_event_id);
      any_event = true;
    }
  std::set<std::string> claimed;
  if (any_event)
    for (const auto& row : tx.exec_prepared("claim_signup_events", event_ids.str()))
      claimed.insert(row["event_id"].as<std::string>());
  std::vector<size_t> fresh;
  std::vector<size_t> seen;
  for (size_t i = 0; i < x.users.size(); ++i) {
    if (skip(i))
      continue;
    auto& event = x.users[i].signup_event_id;
    // An id twice in one batch is claimed once: the first makes the user, the second finds it.
    if (!event || claimed.erase(*event) > 0)
      fresh.push_back(i);
    else
      seen.push_back(i);
  }
  // 2. Insert the new users.
  if (!fresh.empty()) {
    detail::array_literal emails, hashes, statuses, ends, customers, admins;
    for (auto i : fresh) {
      auto& u = x.users[i];
      emails.add(u.email);
      hashes.add(u.password_hash);
      statuses.add(to_sql(u.subscription_status));
      ends.add(to_sql(u.subscription_ends_at));
      customers.add(to_sql(u.stripe_customer));
      admins.add(u.is_admin);
    }
    auto rows = tx.exec_prepared("insert_users", emails.str(), hashes.str(), statuses.str(),
                                 ends.str(), customers.str(), admins.str());
    if (rows.size() != fresh.size())
      throw std::logic_error{"insert_users: " + std::to_string(rows.size()) + " rows for "
                             + std::to_string(fresh.size()) + " users"};
    for (const auto& row : rows)
      result[fresh.at(row["n"].as<size_t>() - 1)].created
        = db::user_created{detail::to_user(row), true};
    // 3. Remember which event made which user.
    detail::array_literal linked_events, linked_users;
    auto any_link = false;
    for (auto i : fresh)
      if (auto& event = x.users[i].signup_event_id) {
        linked_events.add(*event);
        linked_users.add(result[i].created->user.id);
        any_link = true;
      }
    if (any_link)
      tx.exec_prepared("link_signup_events", linked_events.str(), linked_users.str());
    // 4. Stripe may have been faster than the signup: the billing state that waited for
    // these users is applied in the same transaction, as for one.
    detail::array_literal ids;
    std::map<int32_t, size_t> by_id;
    for (auto i : fresh) {
      ids.add(result[i].created->user.id);
      by_id.emplace(result[i].created->user.id, i);
    }
    for (const auto& row : tx.exec_prepared("billing_users_waited_for", ids.str())) {
      auto id = row["id"].as<int32_t>();
      if (billing_store::apply_waiting(tx, id))
        result[by_id.at(id)].created->user = detail::to_user(tx.exec_prepared1("get_user", id));
    }
  }
  // 5. The users of events seen before, now that this batch's own are linked too.
  for (auto i : seen) {
    auto event = *x.users[i].signup_event_id;
    auto rows = tx.exec_prepared("signup_event_user", event);
    if (rows.empty())
      result[i].error
        = make_error(ec::not_found, "the user of signup event " + event + " was deleted");
    else
      result[i].created = db::user_created{detail::to_user(rows[0]), false};
  }
}

/// Whether a user of `create_users` failed for its own data (a taken e-mail, an invalid
/// value, a deleted user of a seen event): rolled back alone, the others go on. Anything else
/// (the database is unavailable, an unknown error) may pass, and must not be overtaken.
bool own_fault(const caf::error& err) {
  auto code = code_of(err);
  return code == ec::invalid_request || code == ec::conflict || code == ec::not_found;
}

} // namespace

database::database(persistence_config cfg)
  : config_(std::move(cfg)),
    gateway_("gateway", detail::with_session_limits(config_.database_url, limits_of(config_)),
             config_.connect_timeout_seconds) {
  // Nothing to do: each link connects on first use.
}

database::~database() = default;

caf::expected<int32_t> database::ping(const db::ping&) {
  return gateway_.run([](pqxx::connection& c) {
    pqxx::read_transaction tx{c};
    auto version = tx.exec_prepared1("server_version")["version"].as<int32_t>();
    tx.commit();
    return version;
  });
}

caf::expected<std::vector<int32_t>> database::migrate(const db::migrate&) {
  return detail::apply_migrations(gateway_);
}

caf::expected<db::user_created> database::create_user(const db::create_user& x) {
  return gateway_.run([&x](pqxx::connection& c) -> caf::expected<db::user_created> {
    pqxx::work tx{c};
    auto result = insert_user(tx, x);
    if (result)
      tx.commit();
    return result;
  });
}

caf::expected<std::vector<db::user_creation>>
database::create_users(const db::create_users& x, const std::vector<caf::error>& refused) {
  using result_type = caf::expected<std::vector<db::user_creation>>;
  auto is_refused = [&refused](size_t i) { return i < refused.size() && refused[i]; };
  // All in one transaction: a burst seldom holds an event the database refuses. A failure
  // that may be one event's (its data, an unknown error) sends the whole transaction back,
  // and the users are made again one transaction each, to tell which; a failure that is the
  // database's fails the request as it is.
  try {
    return gateway_.run([&x, &is_refused, &refused](pqxx::connection& c) -> result_type {
      std::vector<db::user_creation> result(x.users.size());
      for (size_t i = 0; i < x.users.size(); ++i)
        if (is_refused(i))
          result[i].error = refused[i];
      pqxx::work tx{c};
      insert_users(tx, x, is_refused, result);
      tx.commit();
      return result;
    });
  } catch (const std::exception& e) {
    if (detail::connection_lost(e))
      throw;
    auto err = detail::to_error("create_users", e);
    if (code_of(err) == ec::unavailable)
      return err;
  }
  // One transaction per user, as create_user: a statement that failed leaves PostgreSQL's
  // transaction unusable, and a COMMIT of it would roll back what went before without an
  // error.
  std::vector<db::user_creation> result(x.users.size());
  size_t i = 0;
  for (; i < x.users.size(); ++i) {
    if (is_refused(i)) {
      result[i].error = refused[i];
      continue;
    }
    caf::error err;
    try {
      auto created = create_user(x.users[i]);
      if (created) {
        result[i].created = std::move(*created);
        continue;
      }
      err = std::move(created.error());
    } catch (const std::exception& e) {
      err = detail::to_error("create_users", e);
    }
    result[i].error = err;
    if (!own_fault(err)) {
      ++i;
      break;
    }
  }
  // Nobody behind a user that is to be tried again is applied before it.
  for (; i < x.users.size(); ++i)
    result[i].error = make_error(ec::unavailable,
                                 "not attempted: an earlier user of its batch failed");
  return result;
}

caf::expected<credentials> database::find_credentials(const db::find_credentials& x) {
  return gateway_.run([&x](pqxx::connection& c) -> caf::expected<credentials> {
    pqxx::read_transaction tx{c};
    auto rows = tx.exec_prepared("credentials_by_email", x.email);
    tx.commit();
    if (rows.empty())
      return make_error(ec::not_found, "no user with this e-mail");
    return detail::to_credentials(rows[0]);
  });
}

caf::expected<credentials>
database::find_credentials_by_id(const db::find_credentials_by_id& x) {
  return gateway_.run([&x](pqxx::connection& c) -> caf::expected<credentials> {
    pqxx::read_transaction tx{c};
    auto rows = tx.exec_prepared("credentials_by_id", x.user_id);
    tx.commit();
    if (rows.empty())
      return make_error(ec::not_found, "no user " + std::to_string(x.user_id));
    return detail::to_credentials(rows[0]);
  });
}

caf::expected<user_record> database::get_user(const db::get_user& x) {
  return gateway_.run([&x](pqxx::connection& c) -> caf::expected<user_record> {
    pqxx::read_transaction tx{c};
    auto rows = tx.exec_prepared("get_user", x.user_id);
    tx.commit();
    if (rows.empty())
      return make_error(ec::not_found, "no user " + std::to_string(x.user_id));
    return detail::to_user(rows[0]);
  });
}

caf::expected<user_record> database::record_login(const db::record_login& x) {
  if (x.session.user_id != 0 && x.session.user_id != x.user_id)
    return make_error(ec::invalid_request, "the session belongs to another user");
  return gateway_.run([&x](pqxx::connection& c) -> caf::expected<user_record> {
    pqxx::work tx{c};
    // The login happens when its session is made: both share the caller's clock.
    auto rows = tx.exec_prepared("stamp_login", x.user_id, to_sql(x.session.created_at));
    if (rows.empty())
      return make_error(ec::not_found, "no user " + std::to_string(x.user_id));
    tx.exec_prepared("insert_session", x.session.id, x.user_id, to_sql(x.session.expires_at),
                     to_sql(x.session.created_at));
    tx.commit();
    return detail::to_user(rows[0]);
  });
}

caf::expected<std::vector<std::string>> database::set_password(const db::set_password& x) {
  return gateway_.run([&x](pqxx::connection& c) -> caf::expected<std::vector<std::string>> {
    pqxx::work tx{c};
    if (tx.exec_prepared("set_password_hash", x.user_id, x.password_hash).empty())
      return make_error(ec::not_found, "no user " + std::to_string(x.user_id));
    // An empty keep_session_id matches no session: every session goes.
    auto deleted = tx.exec_prepared("delete_user_sessions", x.user_id, x.keep_session_id);
    tx.commit();
    return ids_of(deleted);
  });
}

caf::expected<session_account> database::find_session(const db::find_session& x) {
  return gateway_.run([&x](pqxx::connection& c) -> caf::expected<session_account> {
    pqxx::read_transaction tx{c};
    auto rows = tx.exec_prepared("find_session", x.session_id);
    tx.commit();
    if (rows.empty())
      return make_error(ec::not_found, "no such session");
    auto& row = rows[0];
    session_account result;
    result.session = detail::to_session(row, "session_");
    result.user = detail::to_user(row, "user_");
    if (!row["slice_id"].is_null())
      result.slice = detail::to_slice(row, "slice_");
    return result;
  });
}

caf::expected<bool> database::extend_session(const db::extend_session& x) {
  return gateway_.run([&x](pqxx::connection& c) {
    pqxx::work tx{c};
    auto rows = tx.exec_prepared("extend_session", x.session_id, to_sql(x.expires_at));
    tx.commit();
    return rows.affected_rows() > 0;
  });
}

caf::expected<bool> database::delete_session(const db::delete_session& x) {
  return gateway_.run([&x](pqxx::connection& c) {
    pqxx::work tx{c};
    auto rows = tx.exec_prepared("delete_session", x.session_id);
    tx.commit();
    return rows.affected_rows() > 0;
  });
}

caf::expected<std::vector<std::string>>
database::delete_user_sessions(const db::delete_user_sessions& x) {
  return gateway_.run([&x](pqxx::connection& c) {
    pqxx::work tx{c};
    auto deleted
      = tx.exec_prepared("delete_user_sessions", x.user_id, to_sql(x.keep_session_id));
    tx.commit();
    return ids_of(deleted);
  });
}

caf::expected<int64_t> database::delete_expired_sessions(const db::delete_expired_sessions& x) {
  if (x.batch <= 0)
    return make_error(ec::invalid_request, "batch must be positive");
  // A zero cap would delete every session; no caller means that.
  if (x.max_age <= timespan::zero())
    return make_error(ec::invalid_request, "max_age must be positive");
  auto expired_before = to_sql(x.now);
  auto created_before = to_sql(x.now - x.max_age);
  int64_t total = 0;
  // One transaction per batch, so locks are held briefly and a failure keeps what was done.
  for (;;) {
    auto deleted = gateway_.run([&](pqxx::connection& c) {
      pqxx::work tx{c};
      auto rows
        = tx.exec_prepared("delete_expired_sessions", expired_before, created_before, x.batch);
      tx.commit();
      return rows.affected_rows();
    });
    total += deleted;
    if (deleted < static_cast<pqxx::result::size_type>(x.batch))
      return total;
  }
}

caf::expected<user_record> database::set_admin(const db::set_admin& x) {
  if (x.user_id == 0 && x.email.empty())
    return make_error(ec::invalid_request, "set_admin needs a user id or an e-mail");
  return gateway_.run([&x](pqxx::connection& c) -> caf::expected<user_record> {
    pqxx::work tx{c};
    if (!x.is_admin) {
      // The admins' rows stay locked until the commit: two admins demoting each other at
      // once are served one after the other, and the second one is refused.
      auto admins = tx.exec_prepared("admin_lock_admins");
      if (admins.size() == 1) {
        auto target = x.user_id != 0 ? tx.exec_prepared("get_user", x.user_id)
                                     : tx.exec_prepared("credentials_by_email", x.email);
        auto last = admins[0]["id"].as<int32_t>();
        if (!target.empty() && target[0]["id"].as<int32_t>() == last)
          return make_error(ec::conflict, "the last admin cannot give up admin rights");
      }
    }
    auto rows = x.user_id != 0 ? tx.exec_prepared("set_admin_by_id", x.user_id, x.is_admin)
                               : tx.exec_prepared("set_admin_by_email", x.email, x.is_admin);
    tx.commit();
    if (rows.empty())
      return make_error(ec::not_found, x.user_id != 0 ? "no user " + std::to_string(x.user_id)
                                                      : "no user with this e-mail");
    return detail::to_user(rows[0]);
  });
}

} // namespace slicegate
