#include "cli/slices.hpp"

#include <iostream>

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

} // namespace

int slices(const options& o, const std::string& verb) {
  json fields = json::object();
  if (verb == "list") {
    if (!o.status.empty())
      fields["status"] = o.status;
  } else if (verb == "create") {
    fields["count"] = o.count;
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
