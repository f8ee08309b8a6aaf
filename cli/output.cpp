#include "cli/output.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <iostream>

namespace slicegate::cli {

using nlohmann::json;

std::vector<std::string> table_lines(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (size_t i = 0; i < row.size(); ++i)
      widths[i] = std::max(widths[i], display_width(row[i]));
  }
  std::vector<std::string> lines;
  for (auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i)
      line += i + 1 < row.size() ? fit(row[i], widths[i] + 2) : row[i];
    lines.push_back(std::move(line));
  }
  return lines;
}

void print_table(const std::vector<std::vector<std::string>>& rows) {
  for (auto& line : table_lines(rows))
    std::cout << line << '\n';
}

void print_json(const json& j) {
  std::cout << j.dump(2, ' ', false, json::error_handler_t::replace) << '\n';
}

std::string text(const json& x) {
  if (x.is_string())
    return x.get<std::string>();
  if (x.is_null())
    return "-";
  return x.dump();
}

std::string field(const json& j, const char* key) {
  return j.is_object() ? text(j.value(key, json{})) : "-";
}

std::string error_text(const std::string& body, int error_code) {
  auto j = json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].is_object())
    return field(j["error"], "code") + ": " + field(j["error"], "message");
  return "error " + std::to_string(error_code);
}

namespace {

/// `x` with one decimal, without a trailing ".0".
std::string one_decimal(double x) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f", x);
  std::string s = buf;
  if (s.size() > 2 && s.compare(s.size() - 2, 2, ".0") == 0)
    s.resize(s.size() - 2);
  return s;
}

} // namespace

std::string bytes_text(const json& bytes) {
  if (!bytes.is_number())
    return "-";
  auto x = bytes.get<double>();
  static constexpr const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  size_t unit = 0;
  while (std::fabs(x) >= 1024 && unit + 1 < std::size(units)) {
    x /= 1024;
    ++unit;
  }
  // Whole numbers from 10 up: "120 MiB" says enough, "1.5 GiB" needs its decimal.
  auto digits
    = unit == 0 || std::fabs(x) >= 10 ? std::to_string(std::llround(x)) : one_decimal(x);
  return digits + " " + units[unit];
}

std::string percent_text(const json& percent) {
  if (!percent.is_number())
    return "-";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f%%", percent.get<double>());
  return buf;
}

std::string share_text(const json& share) {
  if (!share.is_number())
    return "-";
  return std::to_string(std::llround(share.get<double>() * 100)) + "%";
}

std::string used_of_text(const json& used, const json& total) {
  return bytes_text(used) + " / " + bytes_text(total);
}

std::string duration_text(double nanoseconds) {
  char buf[32];
  if (nanoseconds < 1e6)
    std::snprintf(buf, sizeof(buf), "%.0f µs", nanoseconds / 1e3);
  else
    std::snprintf(buf, sizeof(buf), "%.2f ms", nanoseconds / 1e6);
  return buf;
}

std::string wait_text(const json& seconds) {
  if (!seconds.is_number())
    return "-";
  auto s = std::max<int64_t>(0, std::llround(seconds.get<double>()));
  struct unit {
    int64_t size;
    const char* suffix;
  };
  static constexpr unit units[] = {{86400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}};
  for (size_t i = 0; i < std::size(units); ++i) {
    if (s < units[i].size && i + 1 < std::size(units))
      continue;
    auto result = std::to_string(s / units[i].size) + units[i].suffix;
    auto rest = s % units[i].size;
    if (i + 1 < std::size(units) && rest / units[i + 1].size > 0)
      result += " " + std::to_string(rest / units[i + 1].size) + units[i + 1].suffix;
    return result;
  }
  return "0s";
}

std::string yes_no(const json& flag) {
  return flag.is_boolean() ? (flag.get<bool>() ? "yes" : "no") : "-";
}

std::string rfc3339(std::chrono::system_clock::time_point t) {
  auto secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::optional<std::chrono::system_clock::time_point> parse_rfc3339(const std::string& text) {
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
                  &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed)
        != 6
      || consumed != 19)
    return std::nullopt;
  auto rest = text.substr(19);
  int64_t micros = 0;
  if (!rest.empty() && rest.front() == '.') {
    size_t digits = 1;
    int64_t scale = 100'000;
    for (; digits < rest.size() && std::isdigit(static_cast<unsigned char>(rest[digits]));
         ++digits) {
      micros += (rest[digits] - '0') * scale;
      scale /= 10;
    }
    rest = rest.substr(digits);
  }
  if (rest != "Z" && rest != "+00:00")
    return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  auto secs = timegm(&tm);
  return std::chrono::system_clock::from_time_t(secs) + std::chrono::microseconds{micros};
}

std::string time_text(const json& at) {
  if (at.is_string())
    if (auto t = parse_rfc3339(at.get<std::string>()))
      return rfc3339(*t);
  return text(at);
}

size_t display_width(const std::string& s) {
  return static_cast<size_t>(std::count_if(
    s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string fit(const std::string& s, size_t width) {
  auto w = display_width(s);
  if (w <= width)
    return s + std::string(width - w, ' ');
  // Cut at a code point boundary, marking the cut with "…".
  std::string result;
  size_t columns = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    bool starts = (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80;
    if (starts && columns + 1 >= width)
      break;
    columns += starts;
    result += s[i];
  }
  return width == 0 ? std::string{} : result + "…";
}

std::string fit_right(const std::string& s, size_t width) {
  auto w = display_width(s);
  return w < width ? std::string(width - w, ' ') + s : fit(s, width);
}

} // namespace slicegate::cli
