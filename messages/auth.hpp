#pragma once

// Requests to the session manager, and its replies.

#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include <caf/error.hpp>
#include <caf/meta/omittable.hpp>

#include "messages/records.hpp"

namespace slicegate::auth {

/// `gateway.auth.signup`: create an account with a plaintext password (hashed here).
struct signup {
  std::string email;
  std::string password;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, signup& x) {
  // omittable(): printing inspectors (deep_to_string, logs) never render the password.
  return f(caf::meta::type_name("auth::signup"), x.email, caf::meta::omittable(), x.password);
}

inline bool operator==(const signup& x, const signup& y) {
  return x.email == y.email && x.password == y.password;
}

/// `gateway.auth.login`.
struct login {
  std::string email;
  std::string password;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, login& x) {
  return f(caf::meta::type_name("auth::login"), x.email, caf::meta::omittable(),
           x.password);
}

inline bool operator==(const login& x, const login& y) {
  return x.email == y.email && x.password == y.password;
}

/// `gateway.auth.logout`: revoke the session whose token this is.
struct logout {
  std::string token;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, logout& x) {
  return f(caf::meta::type_name("auth::logout"), x.token);
}

inline bool operator==(const logout& x, const logout& y) {
  return x.token == y.token;
}

/// `gateway.auth.logout_all`: revoke every session of the token's user.
struct logout_all {
  std::string token;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, logout_all& x) {
  return f(caf::meta::type_name("auth::logout_all"), x.token);
}

inline bool operator==(const logout_all& x, const logout_all& y) {
  return x.token == y.token;
}

/// `gateway.auth.password`: change the password; the caller's other sessions are revoked.
struct change_password {
  std::string token;
  std::string old_password;
  std::string new_password;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, change_password& x) {
  return f(caf::meta::type_name("auth::change_password"), caf::meta::omittable(), x.token,
           caf::meta::omittable(), x.old_password, caf::meta::omittable(), x.new_password);
}

inline bool operator==(const change_password& x, const change_password& y) {
  return std::tie(x.token, x.old_password, x.new_password)
         == std::tie(y.token, y.old_password, y.new_password);
}

/// `gateway.session.resolve`: who owns this session, and where is their slice.
struct resolve {
  std::string token;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, resolve& x) {
  return f(caf::meta::type_name("auth::resolve"), x.token);
}

inline bool operator==(const resolve& x, const resolve& y) {
  return x.token == y.token;
}

/// Asks whether a token belongs to an admin; replies with the admin's user record,
/// `ec::unauthorized` or `ec::forbidden`.
struct authorize_admin {
  std::string token;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, authorize_admin& x) {
  return f(caf::meta::type_name("auth::authorize_admin"), x.token);
}

inline bool operator==(const authorize_admin& x, const authorize_admin& y) {
  return x.token == y.token;
}

/// `gateway.events.signup` from JetStream: an account whose password the publisher hashed.
struct signup_event {
  std::string event_id;
  std::string email;
  std::string password_hash;
  optional<std::string> stripe_customer;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, signup_event& x) {
  return f(caf::meta::type_name("auth::signup_event"), x.event_id, x.email, x.password_hash,
           x.stripe_customer);
}

inline bool operator==(const signup_event& x, const signup_event& y) {
  return std::tie(x.event_id, x.email, x.password_hash, x.stripe_customer)
         == std::tie(y.event_id, y.email, y.password_hash, y.stripe_customer);
}

/// Several signup events, in stream order, applied in one transaction (a burst fetched at
/// once). Replies with one `signup_result` per event, in the same order.
struct signup_events {
  std::vector<signup_event> events;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, signup_events& x) {
  return f(caf::meta::type_name("auth::signup_events"), x.events);
}

inline bool operator==(const signup_events& x, const signup_events& y) {
  return x.events == y.events;
}

/// What became of one event of `signup_events`: its user, or the error that event alone
/// would have got.
struct signup_result {
  optional<user_record> user;
  caf::error error;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, signup_result& x) {
  return f(caf::meta::type_name("auth::signup_result"), x.user, x.error);
}

inline bool operator==(const signup_result& x, const signup_result& y) {
  return x.user == y.user && x.error == y.error;
}

/// Sessions and users whose cached resolves must be read again. The session manager sends it
/// to its peers (the bridge, which tells every other instance) once a revocation or a change
/// of a user committed; the bridge hands it to the session manager when another instance sent
/// it, and the session manager then forgets them without telling anyone.
struct forget_cached {
  std::vector<std::string> session_ids;
  std::vector<int32_t> user_ids;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, forget_cached& x) {
  return f(caf::meta::type_name("auth::forget_cached"), x.session_ids, x.user_ids);
}

inline bool operator==(const forget_cached& x, const forget_cached& y) {
  return x.session_ids == y.session_ids && x.user_ids == y.user_ids;
}

/// Tells the session manager that a user's row or slice changed, so that cached resolves of
/// that user are read again.
struct user_changed {
  int32_t user_id = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, user_changed& x) {
  return f(caf::meta::type_name("auth::user_changed"), x.user_id);
}

inline bool operator==(const user_changed& x, const user_changed& y) {
  return x.user_id == y.user_id;
}

/// Reply to signup, login and resolve.
struct signed_in {
  user_record user;
  /// The client's token (64 hex characters); the database holds only its SHA-256.
  std::string token;
  timestamp expires_at;
  optional<slice_record> slice;
  /// 1-based place in the queue of users waiting for a slice; none if not waiting or unknown.
  optional<int32_t> waiting_position;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, signed_in& x) {
  return f(caf::meta::type_name("auth::signed_in"), x.user, x.token, x.expires_at, x.slice,
           x.waiting_position);
}

inline bool operator==(const signed_in& x, const signed_in& y) {
  return std::tie(x.user, x.token, x.expires_at, x.slice, x.waiting_position)
         == std::tie(y.user, y.token, y.expires_at, y.slice, y.waiting_position);
}

/// Asks the hasher for a bcrypt `$2b$` hash of `password` at `cost`.
struct hash_password {
  std::string password;
  int32_t cost = 12;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, hash_password& x) {
  return f(caf::meta::type_name("auth::hash_password"), caf::meta::omittable(), x.password,
           x.cost);
}

inline bool operator==(const hash_password& x, const hash_password& y) {
  return x.password == y.password && x.cost == y.cost;
}

/// Asks the hasher whether `password` matches the bcrypt `hash` (constant-time compare).
struct verify_password {
  std::string password;
  std::string hash;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, verify_password& x) {
  return f(caf::meta::type_name("auth::verify_password"), caf::meta::omittable(), x.password,
           caf::meta::omittable(), x.hash);
}

inline bool operator==(const verify_password& x, const verify_password& y) {
  return x.password == y.password && x.hash == y.hash;
}

} // namespace slicegate::auth
