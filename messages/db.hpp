#pragma once

// Requests to the persistence actor. Each struct is one operation; its reply type is listed
// with the persistence interface in actors/actors.hpp.

#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include <caf/error.hpp>

#include "messages/records.hpp"

namespace slicegate::db {

/// Checks the connection; replies with the server version number (e.g. 150018).
struct ping {};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ping&) {
  return f(caf::meta::type_name("db::ping"));
}

inline bool operator==(const ping&, const ping&) {
  return true;
}

/// Applies pending schema migrations; replies with the versions it applied.
struct migrate {};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, migrate&) {
  return f(caf::meta::type_name("db::migrate"));
}

inline bool operator==(const migrate&, const migrate&) {
  return true;
}

/// Inserts a user. With `signup_event_id` set, an event seen before replies with the user it
/// created then (`created` false) instead of inserting twice. A taken e-mail is `ec::conflict`.
/// In the same transaction, Stripe state that waited for the user is applied (a checkout that
/// named them by id or e-mail, the stored events of their `stripe_customer`): the reply shows
/// the user with it.
struct create_user {
  std::string email;
  std::string password_hash;
  subscription subscription_status = subscription::trial;
  optional<timestamp> subscription_ends_at;
  optional<std::string> stripe_customer;
  optional<std::string> signup_event_id;
  bool is_admin = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, create_user& x) {
  return f(caf::meta::type_name("db::create_user"), x.email, x.password_hash,
           x.subscription_status, x.subscription_ends_at, x.stripe_customer, x.signup_event_id,
           x.is_admin);
}

inline bool operator==(const create_user& x, const create_user& y) {
  return std::tie(x.email, x.password_hash, x.subscription_status, x.subscription_ends_at,
                  x.stripe_customer, x.signup_event_id, x.is_admin)
         == std::tie(y.email, y.password_hash, y.subscription_status, y.subscription_ends_at,
                     y.stripe_customer, y.signup_event_id, y.is_admin);
}

/// Reply to `create_user`.
struct user_created {
  user_record user;
  /// False when an already processed signup event was seen again.
  bool created = true;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, user_created& x) {
  return f(caf::meta::type_name("db::user_created"), x.user, x.created);
}

inline bool operator==(const user_created& x, const user_created& y) {
  return x.user == y.user && x.created == y.created;
}

/// Inserts several users, each as `create_user` would, in one transaction. Should it fail for
/// what may be one user's fault, the users are made again one transaction each: a user whose
/// insert fails for its own data (`invalid_request`, `conflict`, `not_found`) gets that error
/// and the others go on; at the first failure of another kind (an unknown error) the users
/// before it are committed and the ones after it are not attempted (`ec::unavailable`), so
/// that none of them is applied before it. Replies with one `user_creation` per user, in the
/// same order; a failure of the database (unavailable) is the reply's error.
struct create_users {
  std::vector<create_user> users;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, create_users& x) {
  return f(caf::meta::type_name("db::create_users"), x.users);
}

inline bool operator==(const create_users& x, const create_users& y) {
  return x.users == y.users;
}

/// One user of `create_users`: created (or seen before), or why not.
struct user_creation {
  optional<user_created> created;
  caf::error error;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, user_creation& x) {
  return f(caf::meta::type_name("db::user_creation"), x.created, x.error);
}

inline bool operator==(const user_creation& x, const user_creation& y) {
  return x.created == y.created && x.error == y.error;
}

/// Looks up a user and password hash by normalized e-mail; `ec::not_found` if none.
struct find_credentials {
  std::string email;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, find_credentials& x) {
  return f(caf::meta::type_name("db::find_credentials"), x.email);
}

inline bool operator==(const find_credentials& x, const find_credentials& y) {
  return x.email == y.email;
}

/// Looks up a user and password hash by id; `ec::not_found` if none.
struct find_credentials_by_id {
  int32_t user_id = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, find_credentials_by_id& x) {
  return f(caf::meta::type_name("db::find_credentials_by_id"), x.user_id);
}

inline bool operator==(const find_credentials_by_id& x, const find_credentials_by_id& y) {
  return x.user_id == y.user_id;
}

/// Reads one user; `ec::not_found` if none.
struct get_user {
  int32_t user_id = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, get_user& x) {
  return f(caf::meta::type_name("db::get_user"), x.user_id);
}

inline bool operator==(const get_user& x, const get_user& y) {
  return x.user_id == y.user_id;
}

/// Sets `last_login_at`, inserts a new session row and replies with the updated user.
struct record_login {
  int32_t user_id = 0;
  session_record session;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, record_login& x) {
  return f(caf::meta::type_name("db::record_login"), x.user_id, x.session);
}

inline bool operator==(const record_login& x, const record_login& y) {
  return x.user_id == y.user_id && x.session == y.session;
}

/// Replaces a user's password hash and deletes every other session of that user in the same
/// transaction; replies with the ids of the deleted sessions.
struct set_password {
  int32_t user_id = 0;
  std::string password_hash;
  /// The session that asked, which survives.
  std::string keep_session_id;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, set_password& x) {
  return f(caf::meta::type_name("db::set_password"), x.user_id, x.password_hash,
           x.keep_session_id);
}

inline bool operator==(const set_password& x, const set_password& y) {
  return std::tie(x.user_id, x.password_hash, x.keep_session_id)
         == std::tie(y.user_id, y.password_hash, y.keep_session_id);
}

/// Reads a session with its user and slice; `ec::not_found` if no such session.
struct find_session {
  std::string session_id;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, find_session& x) {
  return f(caf::meta::type_name("db::find_session"), x.session_id);
}

inline bool operator==(const find_session& x, const find_session& y) {
  return x.session_id == y.session_id;
}

/// Moves a session's `expires_at`; replies false if the session no longer exists.
struct extend_session {
  std::string session_id;
  timestamp expires_at;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, extend_session& x) {
  return f(caf::meta::type_name("db::extend_session"), x.session_id, x.expires_at);
}

inline bool operator==(const extend_session& x, const extend_session& y) {
  return x.session_id == y.session_id && x.expires_at == y.expires_at;
}

/// Deletes one session; replies whether it existed.
struct delete_session {
  std::string session_id;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, delete_session& x) {
  return f(caf::meta::type_name("db::delete_session"), x.session_id);
}

inline bool operator==(const delete_session& x, const delete_session& y) {
  return x.session_id == y.session_id;
}

/// Deletes every session of a user, but `keep_session_id` if set; replies with the deleted
/// ids so that caches can forget them.
struct delete_user_sessions {
  int32_t user_id = 0;
  optional<std::string> keep_session_id;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, delete_user_sessions& x) {
  return f(caf::meta::type_name("db::delete_user_sessions"), x.user_id, x.keep_session_id);
}

inline bool operator==(const delete_user_sessions& x, const delete_user_sessions& y) {
  return x.user_id == y.user_id && x.keep_session_id == y.keep_session_id;
}

/// Deletes sessions past `expires_at` or older than `max_age`, at most `batch` rows per
/// transaction; replies with the number deleted.
struct delete_expired_sessions {
  timestamp now;
  timespan max_age;
  int32_t batch = 10000;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, delete_expired_sessions& x) {
  return f(caf::meta::type_name("db::delete_expired_sessions"), x.now, x.max_age, x.batch);
}

inline bool operator==(const delete_expired_sessions& x, const delete_expired_sessions& y) {
  return std::tie(x.now, x.max_age, x.batch) == std::tie(y.now, y.max_age, y.batch);
}

/// Grants or withdraws admin rights, by id or (when `user_id` is 0) by e-mail.
struct set_admin {
  int32_t user_id = 0;
  std::string email;
  bool is_admin = true;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, set_admin& x) {
  return f(caf::meta::type_name("db::set_admin"), x.user_id, x.email, x.is_admin);
}

inline bool operator==(const set_admin& x, const set_admin& y) {
  return std::tie(x.user_id, x.email, x.is_admin) == std::tie(y.user_id, y.email, y.is_admin);
}

/// Creates the slice template database (owned by the gateway's role, with
/// sql/slice-schema.sql, marked as a template that accepts no connections) if it is missing,
/// brings its schema up to date, and moves slice databases an older version left owned by
/// `wa_slice` to their own roles; replies true if it had to create the template.
struct ensure_template {};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ensure_template&) {
  return f(caf::meta::type_name("db::ensure_template"));
}

inline bool operator==(const ensure_template&, const ensure_template&) {
  return true;
}

/// Creates database `name` (must match `wa_slice_[0-9]+`) from the template, owned by the
/// slice's own role of the same name (made if missing, with a password nobody knows until
/// `slice_login`); replies false if it already existed.
struct create_slice_database {
  std::string name;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, create_slice_database& x) {
  return f(caf::meta::type_name("db::create_slice_database"), x.name);
}

inline bool operator==(const create_slice_database& x, const create_slice_database& y) {
  return x.name == y.name;
}

/// Drops database `name` (must match `wa_slice_[0-9]+`), disconnecting its sessions; replies
/// false if it did not exist.
struct drop_slice_database {
  std::string name;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, drop_slice_database& x) {
  return f(caf::meta::type_name("db::drop_slice_database"), x.name);
}

inline bool operator==(const drop_slice_database& x, const drop_slice_database& y) {
  return x.name == y.name;
}

/// Gives slice `slice_id`'s role (`wa_slice_<id>`) a fresh random password, making the role
/// if missing, and makes sure the slice's database, if it exists, is that role's alone. The
/// previous password stops working. Replies with the login to hand the slice.
struct slice_login {
  int32_t slice_id = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, slice_login& x) {
  return f(caf::meta::type_name("db::slice_login"), x.slice_id);
}

inline bool operator==(const slice_login& x, const slice_login& y) {
  return x.slice_id == y.slice_id;
}

/// A slice's database login. The password exists nowhere else: PostgreSQL keeps a SCRAM
/// verifier of it, and slicegate hands it to the slice in its environment.
struct slice_credentials {
  std::string role;
  std::string password;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, slice_credentials& x) {
  // omittable(): logs never render the password.
  return f(caf::meta::type_name("db::slice_credentials"), x.role, caf::meta::omittable(),
           x.password);
}

inline bool operator==(const slice_credentials& x, const slice_credentials& y) {
  return x.role == y.role && x.password == y.password;
}

} // namespace slicegate::db
