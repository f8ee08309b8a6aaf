#pragma once

// Rows of the gateway database to records, and record values to statement parameters.
//
// Timestamps cross the boundary losslessly at PostgreSQL's resolution (microseconds): queries
// read a TIMESTAMPTZ as bigint microseconds since the epoch (a column named `<name>_us`), and
// take one as an ISO 8601 UTC string cast with `::timestamptz`. NULL is always tested with
// `is_null()`: libpqxx 6 cannot read a NULL into a std::optional.
//
// Status columns hold the names of the domain enums (`to_string`/`from_string`): a column
// reads as the enum with `field.as<slice_status>()`, and a name the enum does not know is a
// `pqxx::conversion_error`, which the handler boundary reports as an internal error.

#include <optional>
#include <string>

#include <pqxx/pqxx>

#include "messages/records.hpp"

namespace slicegate::detail {

/// libpqxx string traits of a domain enum stored under its name; each specialization below
/// adds the `name()` that conversion errors use.
template <class E>
struct enum_name_traits {
  static constexpr bool has_null() noexcept {
    return false;
  }
  static bool is_null(E) {
    return false;
  }
  [[noreturn]] static E null() {
    pqxx::internal::throw_null_conversion(pqxx::string_traits<E>::name());
  }
  static void from_string(const char text[], E& out) {
    auto x = slicegate::from_string<E>(text);
    if (!x)
      throw pqxx::conversion_error{std::string{"unknown "} + pqxx::string_traits<E>::name()
                                   + " '" + text + "'"};
    out = *x;
  }
  static std::string to_string(E x) {
    return slicegate::to_string(x);
  }
};

/// Renders `x` as ISO 8601 in UTC with microseconds, e.g. "2026-11-24T16:07:41.123457Z";
/// nanoseconds are rounded down.
std::string to_sql(timestamp x);

/// Renders an optional timestamp as a parameter: NULL when absent.
std::optional<std::string> to_sql(const optional<timestamp>& x);

/// Turns an optional string into a parameter: NULL when absent.
std::optional<std::string> to_sql(const optional<std::string>& x);

/// A status as a parameter: its name.
std::string to_sql(slice_status x);
std::string to_sql(subscription x);

/// An optional status as a parameter: its name, or NULL when absent.
std::optional<std::string> to_sql(const optional<slice_status>& x);
std::optional<std::string> to_sql(const optional<subscription>& x);

/// Converts microseconds since the epoch.
timestamp from_micros(int64_t us);

/// Reads a `user_record` from the columns `<prefix>id`, `<prefix>email`, … of `row`.
user_record to_user(const pqxx::row& row, const std::string& prefix = "");

/// Reads a user and its `password_hash` column.
credentials to_credentials(const pqxx::row& row);

/// Reads a `session_record` from the columns `<prefix>id`, `<prefix>user_id`, ….
session_record to_session(const pqxx::row& row, const std::string& prefix = "");

/// Reads a `slice_record` from the columns `<prefix>id`, `<prefix>port`, ….
slice_record to_slice(const pqxx::row& row, const std::string& prefix = "");

/// Reads a `telemetry_sample` from the columns `slice_id`, `at_us`, `rss_bytes`, `wa_state`,
/// `cpu_percent`, `disk_bytes`.
telemetry_sample to_sample(const pqxx::row& row);

/// One PostgreSQL array literal (`{…}`) built element by element, for statements that take a
/// whole batch as arrays (`$1::integer[]`, unnested in the statement): one statement for a
/// batch instead of one per row. Every element is double-quoted and escaped, NULL is written
/// as the bare keyword, so any text round-trips; the literal is a parameter, never SQL.
class array_literal {
 public:
  void add(const std::string& x);
  void add(int64_t x);
  void add(int32_t x) {
    add(static_cast<int64_t>(x));
  }
  void add(bool x);
  void add_null();

  template <class T>
  void add(const std::optional<T>& x) {
    if (x)
      add(*x);
    else
      add_null();
  }

  /// The literal, `{}` when nothing was added.
  std::string str() const {
    return text_ + "}";
  }

 private:
  void separate();

  std::string text_ = "{";
};

/// A nullable column: none for NULL.
template <class T>
optional<T> get_optional(const pqxx::field& field) {
  if (field.is_null())
    return caf::none;
  return field.as<T>();
}

} // namespace slicegate::detail

namespace pqxx {

template <>
struct string_traits<slicegate::slice_status>
  : slicegate::detail::enum_name_traits<slicegate::slice_status> {
  static constexpr const char* name() noexcept {
    return "slice status";
  }
};

template <>
struct string_traits<slicegate::subscription>
  : slicegate::detail::enum_name_traits<slicegate::subscription> {
  static constexpr const char* name() noexcept {
    return "subscription status";
  }
};

} // namespace pqxx
