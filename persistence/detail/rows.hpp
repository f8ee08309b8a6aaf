#pragma once

// Rows of the gateway database to records, and record values to statement parameters.
//
// Timestamps cross the boundary losslessly at PostgreSQL's resolution (microseconds): queries
// read a TIMESTAMPTZ as bigint microseconds since the epoch (a column named `<name>_us`), and
// take one as an ISO 8601 UTC string cast with `::timestamptz`. NULL is always tested with
// `is_null()`: libpqxx 6 cannot read a NULL into a std::optional.

#include <optional>
#include <string>

#include <pqxx/pqxx>

#include "messages/records.hpp"

namespace slicegate::detail {

/// Renders `x` as ISO 8601 in UTC with microseconds, e.g. "2026-11-24T16:07:41.123457Z";
/// nanoseconds are rounded down.
std::string to_sql(timestamp x);

/// Renders an optional timestamp as a parameter: NULL when absent.
std::optional<std::string> to_sql(const optional<timestamp>& x);

/// Turns an optional string into a parameter: NULL when absent.
std::optional<std::string> to_sql(const optional<std::string>& x);

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

} // namespace slicegate::detail
