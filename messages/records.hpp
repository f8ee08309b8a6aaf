#pragma once

// Rows of the gateway database as plain aggregates. They travel between actors; nothing here
// knows about JSON or PostgreSQL.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <caf/meta/type_name.hpp>
#include <caf/optional.hpp>
#include <caf/timestamp.hpp>

#include "messages/enum_names.hpp"

namespace slicegate {

using caf::optional;
using caf::timespan;
using caf::timestamp;

/// The subscription states of a user (`gateway.users.subscription_status`).
enum class subscription : uint8_t {
  /// A new user, until `subscription_ends_at`.
  trial,
  /// Paid.
  active,
  /// A payment failed (or Stripe says unpaid, incomplete, paused).
  past_due,
  /// Over once `subscription_ends_at` has passed.
  cancelled,
};

/// Returns the column's spelling of `x`, e.g. "past_due".
std::string to_string(subscription x);

/// Returns the subscription state spelled `text`, or none.
template <>
optional<subscription> from_string<subscription>(std::string_view text);

/// The lifecycle states of a slice (`gateway.slices.status`, DESIGN.md §3).
enum class slice_status : uint8_t {
  /// Warm, watched, without a user: ready to hand out.
  available,
  /// Running for its user.
  assigned,
  /// Stopped, its data kept.
  suspended,
  /// Being wiped (or provisioned); becomes available when the wipe is done.
  destroying,
};

/// Returns the column's spelling of `x`, e.g. "assigned".
std::string to_string(slice_status x);

/// Returns the slice status spelled `text`, or none.
template <>
optional<slice_status> from_string<slice_status>(std::string_view text);

/// A row of `gateway.users`, without the password hash.
struct user_record {
  int32_t id = 0;
  std::string email;
  bool is_admin = false;
  subscription subscription_status = subscription::trial;
  optional<timestamp> subscription_ends_at;
  optional<int32_t> slice_id;
  optional<std::string> stripe_customer;
  optional<std::string> subscription_id;
  timestamp created_at;
  optional<timestamp> last_login_at;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, user_record& x) {
  return f(caf::meta::type_name("user_record"), x.id, x.email, x.is_admin,
           x.subscription_status, x.subscription_ends_at, x.slice_id, x.stripe_customer,
           x.subscription_id, x.created_at, x.last_login_at);
}

bool operator==(const user_record& x, const user_record& y);

/// A user together with the bcrypt hash to verify a password against. Only the session
/// manager asks for it.
struct credentials {
  user_record user;
  std::string password_hash;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, credentials& x) {
  return f(caf::meta::type_name("credentials"), x.user, x.password_hash);
}

bool operator==(const credentials& x, const credentials& y);

/// A row of `gateway.sessions`. `id` is the hex SHA-256 of the client's token, never the token.
struct session_record {
  std::string id;
  int32_t user_id = 0;
  timestamp expires_at;
  timestamp created_at;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, session_record& x) {
  return f(caf::meta::type_name("session_record"), x.id, x.user_id, x.expires_at,
           x.created_at);
}

bool operator==(const session_record& x, const session_record& y);

/// A row of `gateway.slices`.
struct slice_record {
  int32_t id = 0;
  int32_t port = 0;
  slice_status status = slice_status::available;
  optional<int32_t> user_id;
  bool wa_connected = false;
  optional<std::string> wa_phone;
  optional<timestamp> last_health_at;
  timestamp created_at;
  int64_t storage_bytes = 0;
  /// Result of the last health check; none if never checked.
  optional<bool> healthy;
  timestamp status_changed_at;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, slice_record& x) {
  return f(caf::meta::type_name("slice_record"), x.id, x.port, x.status, x.user_id,
           x.wa_connected, x.wa_phone, x.last_health_at, x.created_at, x.storage_bytes,
           x.healthy, x.status_changed_at);
}

bool operator==(const slice_record& x, const slice_record& y);

/// A session with the user it belongs to and that user's slice, as `session.resolve` needs it.
struct session_account {
  session_record session;
  user_record user;
  optional<slice_record> slice;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, session_account& x) {
  return f(caf::meta::type_name("session_account"), x.session, x.user, x.slice);
}

bool operator==(const session_account& x, const session_account& y);

/// One per-slice telemetry sample (`gateway.telemetry`).
struct telemetry_sample {
  int32_t slice_id = 0;
  timestamp at;
  optional<int64_t> rss_bytes;
  std::string wa_state;
  optional<double> cpu_percent;
  optional<int64_t> disk_bytes;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, telemetry_sample& x) {
  return f(caf::meta::type_name("telemetry_sample"), x.slice_id, x.at, x.rss_bytes,
           x.wa_state, x.cpu_percent, x.disk_bytes);
}

bool operator==(const telemetry_sample& x, const telemetry_sample& y);

/// One host sample (`gateway.server_telemetry`).
struct server_sample {
  timestamp at;
  int64_t ram_used_bytes = 0;
  int64_t ram_total_bytes = 0;
  int64_t swap_used_bytes = 0;
  int64_t swap_total_bytes = 0;
  float cpu_percent = 0;
  int64_t disk_used_bytes = 0;
  int64_t disk_total_bytes = 0;
  int32_t active_slices = 0;
  int32_t total_slices = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, server_sample& x) {
  return f(caf::meta::type_name("server_sample"), x.at, x.ram_used_bytes, x.ram_total_bytes,
           x.swap_used_bytes, x.swap_total_bytes, x.cpu_percent, x.disk_used_bytes,
           x.disk_total_bytes, x.active_slices, x.total_slices);
}

bool operator==(const server_sample& x, const server_sample& y);

} // namespace slicegate
