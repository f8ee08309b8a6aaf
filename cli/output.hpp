#pragma once

// How slicectl shows things to people: tables, sizes, percents, durations and times, all as
// plain strings so that the line printer and the full-screen view share them.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace slicegate::cli {

/// Rows as lines of columns separated by two spaces; the first row is the header.
std::vector<std::string> table_lines(const std::vector<std::vector<std::string>>& rows);

/// Prints `table_lines(rows)` to stdout.
void print_table(const std::vector<std::vector<std::string>>& rows);

/// Prints `j` indented, invalid UTF-8 replaced.
void print_json(const nlohmann::json& j);

/// A JSON value as a word: strings as they are, null as "-", anything else as JSON.
std::string text(const nlohmann::json& x);

/// `key` of object `j` as `text`; "-" if absent.
std::string field(const nlohmann::json& j, const char* key);

/// The `error` object of an error reply, as "code: message".
std::string error_text(const std::string& body, int error_code);

/// A number of bytes in B, KiB, MiB, GiB or TiB: "512 B", "1.5 GiB", "120 MiB"; "-" for null.
std::string bytes_text(const nlohmann::json& bytes);

/// A CPU or disk percentage with one decimal: "1.5%"; "-" for null.
std::string percent_text(const nlohmann::json& percent);

/// A share between 0 and 1 as a whole percentage: "75%"; "-" for null.
std::string share_text(const nlohmann::json& share);

/// "used / total" in bytes.
std::string used_of_text(const nlohmann::json& used, const nlohmann::json& total);

/// A request round trip in µs or ms.
std::string duration_text(double nanoseconds);

/// A wait in the two largest units: "45s", "3m 20s", "2h 5m", "3d 4h"; "-" for null.
std::string wait_text(const nlohmann::json& seconds);

/// A yes/no/- word for a boolean that may be null.
std::string yes_no(const nlohmann::json& flag);

/// `t` as RFC 3339 UTC to the second: "2026-12-03T15:04:05Z".
std::string rfc3339(std::chrono::system_clock::time_point t);

/// Parses an RFC 3339 UTC time ("…Z", fractional seconds allowed); nullopt if malformed.
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(const std::string& text);

/// An RFC 3339 time of a reply shortened to the second ("2026-12-03T15:04:05Z"); other
/// values as `text`.
std::string time_text(const nlohmann::json& at);

/// How many terminal columns `s` takes, counting each UTF-8 code point as one.
size_t display_width(const std::string& s);

/// `s` cut or padded with spaces to `width` columns.
std::string fit(const std::string& s, size_t width);

/// `s` padded on the left to `width` columns (numbers).
std::string fit_right(const std::string& s, size_t width);

} // namespace slicegate::cli
