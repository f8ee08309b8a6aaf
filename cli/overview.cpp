#include "cli/overview.hpp"

#include <iostream>

#include "cli/connection.hpp"
#include "cli/output.hpp"

namespace slicegate::cli {

using nlohmann::json;

std::string slice_counts_text(const json& slices) {
  return field(slices, "total") + " total: " + field(slices, "available") + " available, "
         + field(slices, "assigned") + " assigned, " + field(slices, "suspended")
         + " suspended, " + field(slices, "destroying") + " destroying";
}

std::string health_counts_text(const json& slices) {
  return field(slices, "healthy") + " healthy, " + field(slices, "unhealthy") + " unhealthy, "
         + field(slices, "unchecked") + " unchecked";
}

std::string waiting_text(const json& waiting) {
  auto length = waiting.is_object() ? waiting.value("length", 0) : 0;
  if (length == 0)
    return "nobody waiting";
  return std::to_string(length) + " waiting, the longest for "
         + wait_text(waiting.value("oldest_wait_seconds", json{})) + " (since "
         + time_text(waiting.value("oldest_since", json{})) + ")";
}

std::string server_text(const json& server) {
  if (!server.is_object())
    return "no sample yet";
  return "RAM "
         + used_of_text(server.value("ram_used_bytes", json{}),
                        server.value("ram_total_bytes", json{}))
         + ", swap "
         + used_of_text(server.value("swap_used_bytes", json{}),
                        server.value("swap_total_bytes", json{}))
         + ", CPU " + percent_text(server.value("cpu_percent", json{})) + ", disk "
         + used_of_text(server.value("disk_used_bytes", json{}),
                        server.value("disk_total_bytes", json{}))
         + ", slices " + field(server, "active_slices") + "/" + field(server, "total_slices")
         + " active";
}

int overview(const options& o) {
  auto reply = admin_call(o, "overview", "", json::object());
  if (o.json) {
    print_json(reply);
    return exit_code::ok;
  }
  auto slices = reply.value("slices", json::object());
  auto users = reply.value("users", json::object());
  auto server = reply.value("server", json{});
  std::cout << "slicegate at " << time_text(reply.value("at", json{})) << "\n\n";
  print_table({
    {"slices", slice_counts_text(slices)},
    {"health", health_counts_text(slices)},
    {"waiting", waiting_text(reply.value("waiting", json{}))},
    {"users", field(users, "total") + " total: " + field(users, "trial") + " trial, "
                + field(users, "active") + " active, " + field(users, "past_due")
                + " past due, " + field(users, "cancelled") + " cancelled; "
                + field(users, "admins")
                + (users.value("admins", 0) == 1 ? " admin" : " admins")},
    {"server",
     server_text(server)
       + (server.is_object() ? " (at " + time_text(server.value("at", json{})) + ")" : "")},
    {"alerts", field(reply, "alerts_last_hour") + " in the last hour"},
  });
  auto alerts = reply.value("alerts", json::array());
  if (alerts.empty())
    return exit_code::ok;
  std::cout << '\n';
  std::vector<std::vector<std::string>> rows{{"TIME", "SLICE", "KIND", "DETAIL"}};
  for (auto& a : alerts)
    rows.push_back({time_text(a.value("at", json{})), field(a, "slice_id"), field(a, "kind"),
                    field(a, "detail")});
  print_table(rows);
  if (reply.value("alerts_last_hour", 0) > static_cast<int>(alerts.size()))
    std::cout << "(the newest " << alerts.size() << " shown)\n";
  return exit_code::ok;
}

} // namespace slicegate::cli
