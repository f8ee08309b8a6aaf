#include "messages/records.hpp"

#include <tuple>

namespace slicegate {

namespace {

constexpr name_table<subscription, 4> subscription_names{{
  {subscription::trial, "trial"},
  {subscription::active, "active"},
  {subscription::past_due, "past_due"},
  {subscription::cancelled, "cancelled"},
}};

constexpr name_table<slice_status, 4> slice_status_names{{
  {slice_status::available, "available"},
  {slice_status::assigned, "assigned"},
  {slice_status::suspended, "suspended"},
  {slice_status::destroying, "destroying"},
}};

auto fields(const user_record& x) {
  return std::tie(x.id, x.email, x.is_admin, x.subscription_status, x.subscription_ends_at,
                  x.slice_id, x.stripe_customer, x.subscription_id, x.created_at,
                  x.last_login_at);
}

auto fields(const slice_record& x) {
  return std::tie(x.id, x.port, x.status, x.user_id, x.wa_connected, x.wa_phone,
                  x.last_health_at, x.created_at, x.storage_bytes, x.healthy,
                  x.status_changed_at);
}

auto fields(const telemetry_sample& x) {
  return std::tie(x.slice_id, x.at, x.rss_bytes, x.wa_state, x.cpu_percent, x.disk_bytes);
}

auto fields(const server_sample& x) {
  return std::tie(x.at, x.ram_used_bytes, x.ram_total_bytes, x.swap_used_bytes,
                  x.swap_total_bytes, x.cpu_percent, x.disk_used_bytes, x.disk_total_bytes,
                  x.active_slices, x.total_slices);
}

} // namespace

std::string to_string(subscription x) {
  return name_in(subscription_names, x, "unknown");
}

template <>
optional<subscription> from_string<subscription>(std::string_view text) {
  return value_in(subscription_names, text);
}

std::string to_string(slice_status x) {
  return name_in(slice_status_names, x, "unknown");
}

template <>
optional<slice_status> from_string<slice_status>(std::string_view text) {
  return value_in(slice_status_names, text);
}

bool operator==(const user_record& x, const user_record& y) {
  return fields(x) == fields(y);
}

bool operator==(const credentials& x, const credentials& y) {
  return x.user == y.user && x.password_hash == y.password_hash;
}

bool operator==(const session_record& x, const session_record& y) {
  return std::tie(x.id, x.user_id, x.expires_at, x.created_at)
         == std::tie(y.id, y.user_id, y.expires_at, y.created_at);
}

bool operator==(const slice_record& x, const slice_record& y) {
  return fields(x) == fields(y);
}

bool operator==(const session_account& x, const session_account& y) {
  return x.session == y.session && x.user == y.user && x.slice == y.slice;
}

bool operator==(const telemetry_sample& x, const telemetry_sample& y) {
  return fields(x) == fields(y);
}

bool operator==(const server_sample& x, const server_sample& y) {
  return fields(x) == fields(y);
}

} // namespace slicegate
