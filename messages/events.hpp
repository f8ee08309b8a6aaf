#pragma once

// Events that slicegate publishes. Actors send these typed to the bridge, which encodes them
// as JSON on the subjects of DESIGN.md §4 ("Events out").

#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>

#include "messages/records.hpp"

namespace slicegate::events {

/// `gateway.slice.status.<id>`: a lifecycle transition.
struct slice_status_changed {
  int32_t slice_id = 0;
  timestamp at;
  slice_status from = slice_status::available;
  slice_status to = slice_status::available;
  optional<int32_t> user_id;
  std::string reason;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, slice_status_changed& x) {
  return f(caf::meta::type_name("events::slice_status_changed"), x.slice_id, x.at, x.from,
           x.to, x.user_id, x.reason);
}

inline bool operator==(const slice_status_changed& x, const slice_status_changed& y) {
  return std::tie(x.slice_id, x.at, x.from, x.to, x.user_id, x.reason)
         == std::tie(y.slice_id, y.at, y.from, y.to, y.user_id, y.reason);
}

/// `gateway.user.slice.<user id>`: a user gained (slice set) or lost (none) a slice.
struct user_slice_changed {
  int32_t user_id = 0;
  timestamp at;
  optional<slice_record> slice;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, user_slice_changed& x) {
  return f(caf::meta::type_name("events::user_slice_changed"), x.user_id, x.at, x.slice);
}

inline bool operator==(const user_slice_changed& x, const user_slice_changed& y) {
  return std::tie(x.user_id, x.at, x.slice) == std::tie(y.user_id, y.at, y.slice);
}

/// `gateway.slice.health.<id>`: one health sample.
struct slice_health {
  telemetry_sample sample;
  bool healthy = false;
  bool wa_connected = false;
  optional<std::string> wa_phone;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, slice_health& x) {
  return f(caf::meta::type_name("events::slice_health"), x.sample, x.healthy, x.wa_connected,
           x.wa_phone);
}

inline bool operator==(const slice_health& x, const slice_health& y) {
  return std::tie(x.sample, x.healthy, x.wa_connected, x.wa_phone)
         == std::tie(y.sample, y.healthy, y.wa_connected, y.wa_phone);
}

/// The kinds of `slice_alert`.
enum class alert_kind : uint8_t {
  /// An assigned slice failed `health-failures` probes in a row after its start period.
  unhealthy,
  /// A slice that was unhealthy answers again.
  recovered,
  /// The slice reports that its WhatsApp session dropped, or came up.
  wa_disconnected,
  wa_connected,
  /// The runtime restarted an unhealthy slice.
  restarted,
  /// Memory or disk use rose above its configured threshold.
  memory_high,
  disk_high,
};

/// Returns the event's spelling of `x`, e.g. "wa_disconnected".
std::string to_string(alert_kind x);

/// `gateway.slice.alert.<id>`: a health transition (unhealthy, recovered, restarted, …).
struct slice_alert {
  int32_t slice_id = 0;
  timestamp at;
  alert_kind kind = alert_kind::unhealthy;
  std::string detail;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, slice_alert& x) {
  return f(caf::meta::type_name("events::slice_alert"), x.slice_id, x.at, x.kind, x.detail);
}

inline bool operator==(const slice_alert& x, const slice_alert& y) {
  return std::tie(x.slice_id, x.at, x.kind, x.detail)
         == std::tie(y.slice_id, y.at, y.kind, y.detail);
}

/// `gateway.events.rejected`: an inbound event that can never be processed.
struct event_rejected {
  std::string subject;
  optional<std::string> event_id;
  std::string reason;
  /// Its row in `gateway.dead_letters`, from which an operator may replay it.
  optional<int64_t> dead_letter_id;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, event_rejected& x) {
  return f(caf::meta::type_name("events::event_rejected"), x.subject, x.event_id, x.reason,
           x.dead_letter_id);
}

inline bool operator==(const event_rejected& x, const event_rejected& y) {
  return std::tie(x.subject, x.event_id, x.reason, x.dead_letter_id)
         == std::tie(y.subject, y.event_id, y.reason, y.dead_letter_id);
}

/// `gateway.server.telemetry`: one host sample, the `gateway.server_telemetry` row.
struct server_telemetry {
  server_sample sample;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, server_telemetry& x) {
  return f(caf::meta::type_name("events::server_telemetry"), x.sample);
}

inline bool operator==(const server_telemetry& x, const server_telemetry& y) {
  return x.sample == y.sample;
}

} // namespace slicegate::events

namespace slicegate {

/// Returns the alert kind spelled `text`, or none.
template <>
optional<events::alert_kind> from_string<events::alert_kind>(std::string_view text);

} // namespace slicegate
