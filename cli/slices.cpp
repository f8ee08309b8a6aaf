#include "cli/slices.hpp"

#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/connection.hpp"
#include "cli/output.hpp"

namespace slicegate::cli {

using nlohmann::json;

namespace {

void print_slices(const json& slices) {
  std::vector<std::vector<std::string>> rows{
    {"ID", "PORT", "STATUS", "USER", "HEALTHY", "WHATSAPP", "STORAGE", "SINCE"}};
  for (auto& s : slices)
    rows.push_back(
      {field(s, "id"), field(s, "port"), field(s, "status"), field(s, "user_id"),
       yes_no(s.value("healthy", json{})),
       s.value("wa_connected", false) ? text(s.value("wa_phone", json("yes"))) : "-",
       field(s, "storage_bytes"), field(s, "status_changed_at")});
  print_table(rows);
}

/// How often `create --wait` looks at the new slices again.
constexpr auto wait_poll_interval = std::chrono::seconds{1};

/// The ids of `slices` (objects with an `id`).
std::vector<int64_t> ids_of(const json& slices) {
  std::vector<int64_t> result;
  for (auto& s : slices)
    result.push_back(s.at("id").get<int64_t>());
  return result;
}

/// Polls `slices.list` until none of `ids` is `destroying`; returns their records in the
/// order of `ids`. Gives up after `--wait-timeout` with exit code `not_ready`.
json wait_until_ready(const options& o, const std::vector<int64_t>& ids) {
  auto limit = positive_duration(o.wait_timeout, "--wait-timeout");
  auto deadline = std::chrono::steady_clock::now() + limit;
  connection nc{o, timeout_of(o)};
  for (;;) {
    auto listed = admin_call(nc, o, "slices", "list", json::object());
    std::map<int64_t, json> by_id;
    for (auto& s : listed.at("slices"))
      by_id[s.at("id").get<int64_t>()] = s;
    auto result = json::array();
    std::vector<int64_t> pending;
    for (auto id : ids) {
      auto i = by_id.find(id);
      if (i == by_id.end())
        throw failure{exit_code::error_reply,
                      "slice " + std::to_string(id) + " is not in the pool any more"};
      if (i->second.value("status", "") == "destroying")
        pending.push_back(id);
      result.push_back(i->second);
    }
    if (pending.empty())
      return result;
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      std::string list;
      for (auto id : pending)
        list += (list.empty() ? "" : ", ") + std::to_string(id);
      throw failure{exit_code::not_ready,
                    "gave up waiting after " + o.wait_timeout + ": slice(s) " + list
                      + " still being provisioned (status destroying); the slices exist, see "
                        "`slicectl slices get ID`"};
    }
    // The last look comes at the deadline, not a poll interval after it.
    std::this_thread::sleep_for(
      std::min<std::chrono::steady_clock::duration>(wait_poll_interval, deadline - now));
  }
}

} // namespace

int slices(const options& o, const std::string& verb) {
  json fields = json::object();
  if (verb == "list") {
    if (!o.status.empty())
      fields["status"] = o.status;
  } else if (verb == "create") {
    fields["count"] = o.count;
    if (!o.idempotency_key.empty())
      fields["idempotency_key"] = o.idempotency_key;
    if (o.wait)
      positive_duration(o.wait_timeout, "--wait-timeout"); // a usage error, before creating
  } else if (verb == "assign") {
    fields["user_id"] = o.user_id;
    if (o.slice_id > 0)
      fields["slice_id"] = o.slice_id;
  } else {
    fields["slice_id"] = o.slice_id;
    if (!o.reason.empty())
      fields["reason"] = o.reason;
  }
  auto reply = admin_call(o, "slices", verb, fields);
  // The daemon answers once the rows exist, in status destroying; --wait follows them until
  // their wipes end.
  if (verb == "create" && o.wait)
    reply = json{{"slices", wait_until_ready(o, ids_of(reply.at("slices")))}};
  if (o.json) {
    print_json(reply);
    return exit_code::ok;
  }
  if (reply.contains("slices")) {
    print_slices(reply["slices"]);
    return exit_code::ok;
  }
  print_slices(json::array({reply["slice"]}));
  if (reply.contains("latest_telemetry") && reply["latest_telemetry"].is_object()) {
    auto& t = reply["latest_telemetry"];
    std::cout << '\n';
    print_table({{"sampled", field(t, "at")},
                 {"whatsapp", field(t, "wa_state")},
                 {"memory (bytes)", field(t, "rss_bytes")},
                 {"cpu (%)", field(t, "cpu_percent")},
                 {"disk (bytes)", field(t, "disk_bytes")}});
  }
  return exit_code::ok;
}

} // namespace slicegate::cli
