#include "persistence/detail/rows.hpp"

#include <cinttypes>
#include <cstdio>
#include <ctime>

namespace slicegate::detail {

namespace {

template <class T>
T get(const pqxx::row& row, const std::string& column) {
  return row[column].as<T>();
}

template <class T>
optional<T> get_optional(const pqxx::row& row, const std::string& column) {
  return detail::get_optional<T>(row[column]);
}

timestamp get_time(const pqxx::row& row, const std::string& column) {
  return from_micros(get<int64_t>(row, column + "_us"));
}

optional<timestamp> get_optional_time(const pqxx::row& row, const std::string& column) {
  if (auto us = get_optional<int64_t>(row, column + "_us"))
    return from_micros(*us);
  return caf::none;
}

} // namespace

std::string to_sql(timestamp x) {
  using namespace std::chrono;
  auto us = floor<microseconds>(x.time_since_epoch()).count();
  // Floor division, so that instants before 1970 keep a non-negative fraction.
  auto secs = us / 1'000'000 - (us % 1'000'000 < 0 ? 1 : 0);
  auto frac = us - secs * 1'000'000;
  auto tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06" PRId64 "Z",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int64_t>(frac));
  return buf;
}

void array_literal::separate() {
  if (text_.size() > 1)
    text_ += ',';
}

void array_literal::add(const std::string& x) {
  separate();
  text_ += '"';
  for (auto c : x) {
    if (c == '"' || c == '\\')
      text_ += '\\';
    text_ += c;
  }
  text_ += '"';
}

void array_literal::add(int64_t x) {
  separate();
  text_ += std::to_string(x);
}

void array_literal::add(bool x) {
  separate();
  text_ += x ? "t" : "f";
}

void array_literal::add_null() {
  separate();
  text_ += "NULL";
}

std::optional<std::string> to_sql(const optional<timestamp>& x) {
  if (!x)
    return std::nullopt;
  return to_sql(*x);
}

std::optional<std::string> to_sql(const optional<std::string>& x) {
  if (!x)
    return std::nullopt;
  return *x;
}

std::string to_sql(slice_status x) {
  return to_string(x);
}

std::string to_sql(subscription x) {
  return to_string(x);
}

std::optional<std::string> to_sql(const optional<slice_status>& x) {
  if (!x)
    return std::nullopt;
  return to_string(*x);
}

std::optional<std::string> to_sql(const optional<subscription>& x) {
  if (!x)
    return std::nullopt;
  return to_string(*x);
}

timestamp from_micros(int64_t us) {
  return timestamp{std::chrono::microseconds{us}};
}

user_record to_user(const pqxx::row& row, const std::string& prefix) {
  user_record x;
  x.id = get<int32_t>(row, prefix + "id");
  x.email = get<std::string>(row, prefix + "email");
  x.is_admin = get<bool>(row, prefix + "is_admin");
  x.subscription_status = get<subscription>(row, prefix + "subscription_status");
  x.subscription_ends_at = get_optional_time(row, prefix + "subscription_ends_at");
  x.slice_id = get_optional<int32_t>(row, prefix + "slice_id");
  x.stripe_customer = get_optional<std::string>(row, prefix + "stripe_customer");
  x.subscription_id = get_optional<std::string>(row, prefix + "subscription_id");
  x.created_at = get_time(row, prefix + "created_at");
  x.last_login_at = get_optional_time(row, prefix + "last_login_at");
  return x;
}

credentials to_credentials(const pqxx::row& row) {
  return {to_user(row), get<std::string>(row, "password_hash")};
}

session_record to_session(const pqxx::row& row, const std::string& prefix) {
  session_record x;
  x.id = get<std::string>(row, prefix + "id");
  x.user_id = get<int32_t>(row, prefix + "user_id");
  x.expires_at = get_time(row, prefix + "expires_at");
  x.created_at = get_time(row, prefix + "created_at");
  return x;
}

slice_record to_slice(const pqxx::row& row, const std::string& prefix) {
  slice_record x;
  x.id = get<int32_t>(row, prefix + "id");
  x.port = get<int32_t>(row, prefix + "port");
  x.status = get<slice_status>(row, prefix + "status");
  x.user_id = get_optional<int32_t>(row, prefix + "user_id");
  x.wa_connected = get<bool>(row, prefix + "wa_connected");
  x.wa_phone = get_optional<std::string>(row, prefix + "wa_phone");
  x.last_health_at = get_optional_time(row, prefix + "last_health_at");
  x.created_at = get_time(row, prefix + "created_at");
  x.storage_bytes = get<int64_t>(row, prefix + "storage_bytes");
  x.healthy = get_optional<bool>(row, prefix + "healthy");
  x.status_changed_at = get_time(row, prefix + "status_changed_at");
  return x;
}

telemetry_sample to_sample(const pqxx::row& row) {
  telemetry_sample x;
  x.slice_id = get<int32_t>(row, "slice_id");
  x.at = from_micros(get<int64_t>(row, "at_us"));
  x.rss_bytes = get_optional<int64_t>(row, "rss_bytes");
  x.wa_state = get<std::string>(row, "wa_state");
  x.cpu_percent = get_optional<double>(row, "cpu_percent");
  x.disk_bytes = get_optional<int64_t>(row, "disk_bytes");
  return x;
}

} // namespace slicegate::detail
