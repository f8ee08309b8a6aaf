#include "cli/telemetry.hpp"

#include <algorithm>
#include <chrono>
#include <iostream>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/connection.hpp"
#include "cli/output.hpp"
#include "cli/sparkline.hpp"
#include "common/duration.hpp"

namespace slicegate::cli {

using nlohmann::json;

namespace {

/// Columns a sparkline may take; longer series are narrowed to this.
constexpr size_t sparkline_width = 72;

/// More buckets than the daemon answers for (10000): a reply never needs more slots.
constexpr int64_t max_slots = 10'000;

int64_t epoch_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

/// The window of a reply: bucket-aligned slots from `from` to `to`.
struct window {
  int64_t first = 0;
  int64_t bucket = 1;
  size_t slots = 0;
};

window window_of(const json& reply) {
  window w;
  w.bucket = std::max<int64_t>(1, reply.value("bucket", 1));
  auto from = parse_rfc3339(reply.value("from", std::string{}));
  auto to = parse_rfc3339(reply.value("to", std::string{}));
  if (!from || !to || *to <= *from)
    return w;
  // Buckets are aligned to multiples of `bucket` seconds since the epoch (the contract).
  w.first = epoch_seconds(*from) / w.bucket * w.bucket;
  auto last = (epoch_seconds(*to) - 1) / w.bucket * w.bucket;
  w.slots
    = static_cast<size_t>(std::clamp<int64_t>((last - w.first) / w.bucket + 1, 0, max_slots));
  return w;
}

/// `key` of every point placed in its bucket's slot; slots without a point stay empty.
std::vector<std::optional<double>> series(const json& points, const window& w,
                                          const char* key) {
  std::vector<std::optional<double>> result(w.slots);
  for (auto& p : points) {
    auto at = parse_rfc3339(p.value("at", std::string{}));
    auto value = p.value(key, json{});
    if (!at || !value.is_number())
      continue;
    auto slot = (epoch_seconds(*at) - w.first) / w.bucket;
    if (slot >= 0 && static_cast<size_t>(slot) < result.size())
      result[static_cast<size_t>(slot)] = value.get<double>();
  }
  return result;
}

/// A sparkline of `key` with its smallest and largest value, each shown by `show`.
void print_sparkline(const std::string& label, const json& points, const window& w,
                     const char* key, std::string (*show)(const json&)) {
  auto values = series(points, w, key);
  std::optional<double> lo;
  std::optional<double> hi;
  for (auto& x : values)
    if (x) {
      lo = lo ? std::min(*lo, *x) : *x;
      hi = hi ? std::max(*hi, *x) : *x;
    }
  if (!lo) {
    std::cout << fit(label, 8) << "no samples\n";
    return;
  }
  std::cout << fit(label, 8) << sparkline(values, sparkline_width) << "  min " << show(*lo)
            << "  max " << show(*hi) << '\n';
}

void print_heading(const std::string& what, const json& reply) {
  auto points = reply.value("points", json::array());
  auto bucket = std::chrono::seconds{reply.value("bucket", 0)};
  std::cout << what << " from " << time_text(reply.value("from", json{})) << " to "
            << time_text(reply.value("to", json{})) << " in "
            << render_duration(std::chrono::duration_cast<caf::timespan>(bucket))
            << " buckets, " << points.size() << " with samples\n";
}

void print_slice(const json& reply) {
  auto points = reply.value("points", json::array());
  print_heading("slice " + field(reply, "slice_id"), reply);
  if (points.empty())
    return;
  std::cout << '\n';
  std::vector<std::vector<std::string>> rows{
    {"TIME", "SAMPLES", "MEMORY AVG", "MEMORY MAX", "CPU AVG", "CPU MAX", "DISK", "WHATSAPP"}};
  for (auto& p : points)
    rows.push_back({time_text(p.value("at", json{})), field(p, "samples"),
                    bytes_text(p.value("rss_bytes_avg", json{})),
                    bytes_text(p.value("rss_bytes_max", json{})),
                    percent_text(p.value("cpu_percent_avg", json{})),
                    percent_text(p.value("cpu_percent_max", json{})),
                    bytes_text(p.value("disk_bytes_last", json{})),
                    share_text(p.value("wa_connected_share", json{}))});
  print_table(rows);
  std::cout << '\n';
  auto w = window_of(reply);
  print_sparkline("memory", points, w, "rss_bytes_avg", bytes_text);
  print_sparkline("cpu", points, w, "cpu_percent_avg", percent_text);
}

void print_server(const json& reply) {
  auto points = reply.value("points", json::array());
  print_heading("server", reply);
  if (points.empty())
    return;
  std::cout << '\n';
  std::vector<std::vector<std::string>> rows{{"TIME", "SAMPLES", "RAM AVG", "RAM MAX",
                                              "RAM TOTAL", "SWAP", "CPU AVG", "CPU MAX", "DISK",
                                              "SLICES"}};
  for (auto& p : points)
    rows.push_back({time_text(p.value("at", json{})), field(p, "samples"),
                    bytes_text(p.value("ram_used_bytes_avg", json{})),
                    bytes_text(p.value("ram_used_bytes_max", json{})),
                    bytes_text(p.value("ram_total_bytes", json{})),
                    used_of_text(p.value("swap_used_bytes_avg", json{}),
                                 p.value("swap_total_bytes", json{})),
                    percent_text(p.value("cpu_percent_avg", json{})),
                    percent_text(p.value("cpu_percent_max", json{})),
                    used_of_text(p.value("disk_used_bytes_last", json{}),
                                 p.value("disk_total_bytes", json{})),
                    field(p, "active_slices_last") + "/" + field(p, "total_slices_last")});
  print_table(rows);
  std::cout << '\n';
  auto w = window_of(reply);
  print_sparkline("memory", points, w, "ram_used_bytes_avg", bytes_text);
  print_sparkline("cpu", points, w, "cpu_percent_avg", percent_text);
}

} // namespace

int telemetry(const options& o, const std::string& verb) {
  auto since = positive_duration(o.since, "--since");
  auto bucket
    = std::chrono::duration_cast<std::chrono::seconds>(positive_duration(o.bucket, "--bucket"));
  if (bucket.count() < 1)
    throw failure{exit_code::usage, "--bucket must be at least 1s"};
  auto to = std::chrono::system_clock::now();
  json fields{{"from", rfc3339(to - since)}, {"to", rfc3339(to)}, {"bucket", bucket.count()}};
  if (verb == "slice")
    fields["slice_id"] = o.slice_id;
  auto reply = admin_call(o, "telemetry", verb, fields);
  if (o.json) {
    print_json(reply);
    return exit_code::ok;
  }
  if (verb == "slice")
    print_slice(reply);
  else
    print_server(reply);
  return exit_code::ok;
}

} // namespace slicegate::cli
