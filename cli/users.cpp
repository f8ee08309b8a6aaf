#include "cli/users.hpp"

#include <chrono>
#include <ctime>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/connection.hpp"
#include "cli/output.hpp"

namespace slicegate::cli {

using nlohmann::json;

namespace {

/// One user as a table row, matching `user_header`.
const std::vector<std::string> user_header{"ID",    "EMAIL", "ADMIN",   "STATUS",
                                           "UNTIL", "SLICE", "CREATED", "LAST LOGIN"};

std::vector<std::string> user_row(const json& u) {
  return {field(u, "id"),
          field(u, "email"),
          u.value("is_admin", false) ? "yes" : "no",
          field(u, "subscription_status"),
          time_text(u.value("subscription_ends_at", json{})),
          field(u, "slice_id"),
          time_text(u.value("created_at", json{})),
          time_text(u.value("last_login_at", json{}))};
}

/// `s` in single quotes for a POSIX shell.
std::string quoted(const std::string& s) {
  std::string result = "'";
  for (char c : s)
    result += c == '\'' ? std::string{"'\\''"} : std::string(1, c);
  return result + "'";
}

/// How to ask for the page after this one: the same command with `--cursor`.
std::string next_page_hint(const options& o, const std::string& cursor) {
  std::string command = "slicectl users list";
  if (!o.status.empty())
    command += " --status " + o.status;
  if (o.waiting)
    command += " --waiting";
  if (o.admins)
    command += " --admins";
  if (!o.email_prefix.empty())
    command += " --email-prefix " + quoted(o.email_prefix);
  if (o.limit > 0)
    command += " --limit " + std::to_string(o.limit);
  if (o.oldest)
    command += " --oldest";
  return "more users: " + command + " --cursor " + quoted(cursor);
}

int list(const options& o) {
  json fields = json::object();
  if (!o.status.empty())
    fields["status"] = o.status;
  if (o.waiting)
    fields["waiting"] = true;
  if (o.admins)
    fields["admin"] = true;
  if (!o.email_prefix.empty())
    fields["email_prefix"] = o.email_prefix;
  if (o.limit > 0)
    fields["limit"] = o.limit;
  if (!o.cursor.empty())
    fields["cursor"] = o.cursor;
  if (o.oldest)
    fields["order"] = "oldest";
  auto reply = admin_call(o, "users", "list", fields);
  if (o.json) {
    print_json(reply);
    return exit_code::ok;
  }
  std::vector<std::vector<std::string>> rows{user_header};
  for (auto& u : reply.value("users", json::array()))
    rows.push_back(user_row(u));
  print_table(rows);
  auto next = reply.value("next_cursor", json{});
  if (next.is_string())
    std::cout << next_page_hint(o, next.get<std::string>()) << '\n';
  return exit_code::ok;
}

/// "active until 2026-12-23T15:04:05Z", or just the status without an end.
std::string subscription_text(const json& u) {
  auto ends = u.value("subscription_ends_at", json{});
  return field(u, "subscription_status") + (ends.is_null() ? "" : " until " + time_text(ends));
}

/// Stripe's `created`: Unix seconds as Stripe sends it, or a time the daemon wrote.
std::string stripe_time_text(const json& created) {
  if (created.is_number_integer())
    return rfc3339(std::chrono::system_clock::from_time_t(created.get<std::time_t>()));
  return time_text(created);
}

std::string slice_text(const json& s) {
  if (!s.is_object())
    return "-";
  auto health = s.value("healthy", json{});
  return field(s, "id") + " (port " + field(s, "port") + ", " + field(s, "status") + ", "
         + (health.is_boolean() ? (health.get<bool>() ? "healthy" : "unhealthy") : "unchecked")
         + (s.value("wa_connected", false) ? ", WhatsApp " + field(s, "wa_phone") : "") + ")";
}

int get(const options& o) {
  auto reply = admin_call(o, "users", "get", {{"user_id", o.user_id}});
  if (o.json) {
    print_json(reply);
    return exit_code::ok;
  }
  auto& u = reply["user"];
  auto position = reply.value("waiting_position", json{});
  print_table({
    {"user id", field(u, "id")},
    {"email", field(u, "email")},
    {"admin", u.value("is_admin", false) ? "yes" : "no"},
    {"subscription", subscription_text(u)},
    {"stripe customer", field(u, "stripe_customer")},
    {"created", time_text(u.value("created_at", json{}))},
    {"last login", time_text(u.value("last_login_at", json{}))},
    {"slice", slice_text(reply.value("slice", json{}))},
    {"waiting position", position.is_number() ? "#" + text(position) : "-"},
    {"live sessions", field(reply, "live_sessions")},
  });
  auto events = reply.value("billing_events", json::array());
  std::cout << '\n';
  if (events.empty()) {
    std::cout << "no billing events\n";
    return exit_code::ok;
  }
  std::vector<std::vector<std::string>> rows{
    {"EVENT", "TYPE", "STRIPE STATUS", "MAPPED", "CREATED", "RECEIVED", "APPLIED"}};
  for (auto& e : events)
    rows.push_back(
      {field(e, "event_id"), field(e, "type"), field(e, "stripe_status"),
       field(e, "mapped_status"), stripe_time_text(e.value("stripe_created", json{})),
       time_text(e.value("received_at", json{})), time_text(e.value("applied_at", json{}))});
  print_table(rows);
  return exit_code::ok;
}

int update(const options& o, bool is_admin) {
  auto reply
    = admin_call(o, "users", "update", {{"user_id", o.user_id}, {"is_admin", is_admin}});
  if (o.json) {
    print_json(reply);
    return exit_code::ok;
  }
  auto& u = reply["user"];
  std::cout << "user " << field(u, "id") << " (" << field(u, "email") << ") "
            << (u.value("is_admin", false) ? "is an admin" : "is not an admin") << '\n';
  return exit_code::ok;
}

int revoke_sessions(const options& o) {
  auto reply = admin_call(o, "users", "revoke_sessions", {{"user_id", o.user_id}});
  if (o.json) {
    print_json(reply);
    return exit_code::ok;
  }
  auto n = reply.value("revoked", 0);
  std::cout << "revoked " << n << (n == 1 ? " session" : " sessions") << " of user "
            << o.user_id << '\n';
  return exit_code::ok;
}

} // namespace

int users(const options& o, const std::string& verb) {
  if (verb == "list")
    return list(o);
  if (verb == "get")
    return get(o);
  if (verb == "promote")
    return update(o, true);
  if (verb == "demote")
    return update(o, false);
  if (verb == "revoke-sessions")
    return revoke_sessions(o);
  throw failure{exit_code::usage, "unknown users command " + verb};
}

} // namespace slicegate::cli
