#include "cli/account.hpp"

#include <iostream>
#include <string>
#include <termios.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "bridge/subjects.hpp"
#include "cli/connection.hpp"
#include "cli/output.hpp"

namespace slicegate::cli {

using nlohmann::json;

namespace {

std::string heading(const json& j) {
  return field(j, "name") + " " + field(j, "version") + " (id " + field(j, "id") + ")";
}

/// Reads a password: without echo from a terminal, else the first line of stdin.
std::string read_password() {
  std::string password;
  if (isatty(STDIN_FILENO)) {
    std::cerr << "Password: " << std::flush;
    termios saved{};
    tcgetattr(STDIN_FILENO, &saved);
    auto quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    std::getline(std::cin, password);
    tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    std::cerr << '\n';
  } else {
    std::getline(std::cin, password);
  }
  if (!password.empty() && password.back() == '\r')
    password.pop_back();
  return password;
}

} // namespace

int discover(const options& o, std::string_view verb) {
  connection nc{o, timeout_of(o)};
  auto replies = nc.gather(subjects::micro(verb, o.service_name));
  if (o.json) {
    auto all = json::array();
    for (auto& [j, rtt] : replies)
      all.push_back(j);
    print_json(all);
    return exit_code::ok;
  }
  if (verb == subjects::micro_verb::ping) {
    std::vector<std::vector<std::string>> rows{
      {"NAME", "ID", "VERSION", "RTT", "LEASE", "WATCH SHARDS"}};
    for (auto& [j, rtt] : replies) {
      auto meta = j.value("metadata", json::object());
      auto shards = meta.value("watch_shards", std::string{"-"});
      if (meta.contains("watch_shard_list"))
        shards += " (" + text(meta["watch_shard_list"]) + ")";
      rows.push_back({field(j, "name"), field(j, "id"), field(j, "version"),
                      duration_text(static_cast<double>(rtt.count()) * 1e3),
                      meta.value("lease_singleton", std::string{"-"}), shards});
    }
    print_table(rows);
    return exit_code::ok;
  }
  bool first = true;
  for (auto& [j, rtt] : replies) {
    if (!first)
      std::cout << '\n';
    first = false;
    if (verb == subjects::micro_verb::info) {
      std::cout << heading(j) << ": " << field(j, "description") << '\n';
      std::vector<std::vector<std::string>> rows{{"ENDPOINT", "SUBJECT", "QUEUE"}};
      for (auto& e : j.value("endpoints", json::array()))
        rows.push_back({field(e, "name"), field(e, "subject"), field(e, "queue_group")});
      print_table(rows);
    } else {
      std::cout << heading(j) << ", started " << field(j, "started") << '\n';
      std::vector<std::vector<std::string>> rows{
        {"ENDPOINT", "REQUESTS", "ERRORS", "AVERAGE", "LAST ERROR"}};
      for (auto& e : j.value("endpoints", json::array())) {
        auto requests = e.value("num_requests", 0);
        auto last_error = e.value("last_error", std::string{});
        rows.push_back(
          {field(e, "name"), std::to_string(requests), field(e, "num_errors"),
           requests == 0 ? "-" : duration_text(e.value("average_processing_time", 0.0)),
           last_error.empty() ? "-" : last_error});
      }
      print_table(rows);
      std::vector<std::vector<std::string>> counters{{"COUNTER", "VALUE"}};
      auto metadata = j.value("metadata", json::object());
      for (auto& [key, value] : metadata.items())
        counters.push_back({key, text(value)});
      if (counters.size() > 1) {
        std::cout << '\n';
        print_table(counters);
      }
    }
  }
  return exit_code::ok;
}

int login(const options& o) {
  auto password = read_password();
  auto j = call(o, subjects::auth(o.subject_prefix, subjects::auth_verb::login),
                {{"email", o.email}, {"password", password}});
  if (o.json)
    print_json(j);
  else
    std::cout << field(j["session"], "id") << '\n';
  return exit_code::ok;
}

int whoami(const options& o) {
  auto j = call(o, subjects::session(o.subject_prefix, subjects::session_verb::resolve),
                {{"session_id", session_of(o)}});
  if (o.json) {
    print_json(j);
    return exit_code::ok;
  }
  auto& user = j["user"];
  auto& slice = j["slice"];
  print_table({
    {"email", field(user, "email")},
    {"user id", field(user, "id")},
    {"admin", user.value("is_admin", false) ? "yes" : "no"},
    {"subscription",
     field(user, "subscription_status") + " until " + field(user, "subscription_ends_at")},
    {"slice", slice.is_object() ? field(slice, "id") + " (port " + field(slice, "port") + ", "
                                    + field(slice, "status") + ")"
                                : "-"},
    {"session expires", field(j["session"], "expires_at")},
  });
  return exit_code::ok;
}

int logout(const options& o) {
  auto j = call(o, subjects::auth(o.subject_prefix, subjects::auth_verb::logout),
                {{"session_id", session_of(o)}});
  if (o.json)
    print_json(j);
  else
    std::cout << (j.value("revoked", false) ? "session revoked" : "no such session") << '\n';
  return exit_code::ok;
}

} // namespace slicegate::cli
