#include "messages/events.hpp"

namespace slicegate::events {

namespace {

constexpr name_table<alert_kind, 7> alert_kind_names{{
  {alert_kind::unhealthy, "unhealthy"},
  {alert_kind::recovered, "recovered"},
  {alert_kind::wa_disconnected, "wa_disconnected"},
  {alert_kind::wa_connected, "wa_connected"},
  {alert_kind::restarted, "restarted"},
  {alert_kind::memory_high, "memory_high"},
  {alert_kind::disk_high, "disk_high"},
}};

} // namespace

std::string to_string(alert_kind x) {
  return name_in(alert_kind_names, x, "unknown");
}

} // namespace slicegate::events

namespace slicegate {

template <>
optional<events::alert_kind> from_string<events::alert_kind>(std::string_view text) {
  return value_in(events::alert_kind_names, text);
}

} // namespace slicegate
