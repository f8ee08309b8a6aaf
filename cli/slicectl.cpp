// slicectl: the admin command line over slicegate's NATS API.
//
//   slicectl ping | info | stats          discover running instances (NATS micro protocol)
//   slicectl login --email E              prints a session token (password from stdin or tty)
//   slicectl whoami | logout              use the session of --session / SLICEGATE_SESSION
//   slicectl slices list [--status S] | get ID | create --count N | suspend ID | resume ID
//            | destroy ID | assign --user U [ID]
//                                         the slice pool, as an admin (--session of an admin)
//
// Human-readable tables by default, the raw JSON replies with --json.
// Exit codes: 0 success, 1 error reply, 2 transport failure (no connection, no responders,
// timeout), 64 usage error.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <termios.h>
#include <unistd.h>
#include <vector>

#include <CLI/CLI.hpp>
#include <nats/nats.h>
#include <nlohmann/json.hpp>

#include "bridge/bridge.hpp"
#include "bridge/subjects.hpp"
#include "common/duration.hpp"

namespace {

using nlohmann::json;
using namespace std::chrono_literals;

namespace exit_code {
constexpr int ok = 0;
constexpr int error_reply = 1;
constexpr int transport = 2;
constexpr int usage = 64;
} // namespace exit_code

struct options {
  std::string nats_url = slicegate::bridge_config{}.nats_url;
  std::string subject_prefix = slicegate::bridge_config{}.subject_prefix;
  std::string service_name = "slicegate";
  std::string session;
  std::string timeout = "5s";
  bool json = false;
  std::string email;
  /// `slices` arguments.
  std::string status;
  int32_t slice_id = 0;
  int32_t count = 0;
  int32_t user_id = 0;
  std::string reason;
};

/// Something the user should see, with the exit code it implies.
struct failure {
  int code;
  std::string message;
};

/// A reply: its body, and the micro protocol's error code if it is an error.
struct reply {
  std::string body;
  int error_code = 0;
};

/// One connection to NATS, closed on destruction.
class connection {
 public:
  connection(const std::string& urls, std::chrono::milliseconds timeout) : timeout_(timeout) {
    natsOptions* opts = nullptr;
    natsOptions_Create(&opts);
    natsOptions_SetURL(opts, urls.c_str());
    natsOptions_SetTimeout(opts, timeout.count());
    natsOptions_SetMaxReconnect(opts, 0);
    natsOptions_SetSendAsap(opts, true);
    natsOptions_SetName(opts, "slicectl");
    auto s = natsConnection_Connect(&nc_, opts);
    natsOptions_Destroy(opts);
    if (s != NATS_OK)
      throw failure{exit_code::transport,
                    "cannot connect to " + urls + ": " + natsStatus_GetText(s)};
  }

  ~connection() {
    natsConnection_Destroy(nc_);
  }

  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  /// One request, one reply.
  reply request(const std::string& subject, const std::string& body) {
    natsMsg* msg = nullptr;
    auto s = natsConnection_Request(&msg, nc_, subject.c_str(), body.data(),
                                    static_cast<int>(body.size()), timeout_.count());
    if (s == NATS_NO_RESPONDERS)
      throw failure{exit_code::transport, "no slicegate answers on " + subject};
    if (s != NATS_OK)
      throw failure{exit_code::transport,
                    "request on " + subject + " failed: " + natsStatus_GetText(s)};
    reply result{std::string(natsMsg_GetData(msg), natsMsg_GetDataLength(msg))};
    const char* code = nullptr;
    if (natsMsgHeader_Get(msg, "Nats-Service-Error-Code", &code) == NATS_OK && code)
      result.error_code = std::atoi(code);
    natsMsg_Destroy(msg);
    return result;
  }

  /// A request every instance answers: collects replies until the first has waited the full
  /// timeout or, after that, until none came for a quarter of a second.
  std::vector<std::pair<json, std::chrono::microseconds>> gather(const std::string& subject) {
    natsInbox* inbox = nullptr;
    natsSubscription* sub = nullptr;
    natsInbox_Create(&inbox);
    natsConnection_SubscribeSync(&sub, nc_, inbox);
    auto sent = std::chrono::steady_clock::now();
    natsConnection_PublishRequest(nc_, subject.c_str(), inbox, nullptr, 0);
    std::vector<std::pair<json, std::chrono::microseconds>> result;
    auto wait = timeout_;
    for (;;) {
      natsMsg* msg = nullptr;
      if (natsSubscription_NextMsg(&msg, sub, wait.count()) != NATS_OK)
        break;
      auto rtt = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - sent);
      if (!natsMsg_IsNoResponders(msg)) {
        auto j = json::parse(std::string(natsMsg_GetData(msg), natsMsg_GetDataLength(msg)),
                             nullptr, false);
        if (!j.is_discarded())
          result.emplace_back(std::move(j), rtt);
      }
      natsMsg_Destroy(msg);
      wait = 250ms;
    }
    natsSubscription_Destroy(sub);
    natsInbox_Destroy(inbox);
    if (result.empty())
      throw failure{exit_code::transport, "no slicegate answers on " + subject};
    return result;
  }

 private:
  natsConnection* nc_ = nullptr;
  std::chrono::milliseconds timeout_;
};

// -- output -----------------------------------------------------------------------------------

/// Prints rows as columns separated by two spaces; the first row is the header.
void print_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (auto& row : rows)
    for (size_t i = 0; i < row.size(); ++i) {
      widths.resize(std::max(widths.size(), row.size()));
      widths[i] = std::max(widths[i], row[i].size());
    }
  for (auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size())
        line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    std::cout << line << '\n';
  }
}

std::string text(const json& x) {
  if (x.is_string())
    return x.get<std::string>();
  if (x.is_null())
    return "-";
  return x.dump();
}

std::string duration_text(double nanoseconds) {
  char buf[32];
  if (nanoseconds < 1e6)
    std::snprintf(buf, sizeof(buf), "%.0f µs", nanoseconds / 1e3);
  else
    std::snprintf(buf, sizeof(buf), "%.2f ms", nanoseconds / 1e6);
  return buf;
}

std::string heading(const json& j) {
  return text(j.value("name", json{})) + " " + text(j.value("version", json{})) + " (id "
         + text(j.value("id", json{})) + ")";
}

void print_json(const json& j) {
  std::cout << j.dump(2, ' ', false, json::error_handler_t::replace) << '\n';
}

/// The `error` object of an error reply, as "code: message".
std::string error_text(const reply& r) {
  auto j = json::parse(r.body, nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].is_object())
    return text(j["error"].value("code", json{})) + ": "
           + text(j["error"].value("message", json{}));
  return "error " + std::to_string(r.error_code);
}

// -- commands ---------------------------------------------------------------------------------

std::chrono::milliseconds timeout_of(const options& o) {
  auto d = slicegate::parse_duration(o.timeout);
  if (!d || d->count() <= 0)
    throw failure{exit_code::usage, "--timeout expects a duration such as 500ms or 5s"};
  return std::chrono::duration_cast<std::chrono::milliseconds>(*d);
}

int discover(const options& o, std::string_view verb) {
  connection nc{o.nats_url, timeout_of(o)};
  auto replies = nc.gather(slicegate::subjects::micro(verb, o.service_name));
  if (o.json) {
    auto all = json::array();
    for (auto& [j, rtt] : replies)
      all.push_back(j);
    print_json(all);
    return exit_code::ok;
  }
  if (verb == slicegate::subjects::micro_verb::ping) {
    std::vector<std::vector<std::string>> rows{{"NAME", "ID", "VERSION", "RTT"}};
    for (auto& [j, rtt] : replies)
      rows.push_back({text(j.value("name", json{})), text(j.value("id", json{})),
                      text(j.value("version", json{})),
                      duration_text(static_cast<double>(rtt.count()) * 1e3)});
    print_table(rows);
    return exit_code::ok;
  }
  bool first = true;
  for (auto& [j, rtt] : replies) {
    if (!first)
      std::cout << '\n';
    first = false;
    if (verb == slicegate::subjects::micro_verb::info) {
      std::cout << heading(j) << ": " << text(j.value("description", json{})) << '\n';
      std::vector<std::vector<std::string>> rows{{"ENDPOINT", "SUBJECT", "QUEUE"}};
      for (auto& e : j.value("endpoints", json::array()))
        rows.push_back({text(e.value("name", json{})), text(e.value("subject", json{})),
                        text(e.value("queue_group", json{}))});
      print_table(rows);
    } else {
      std::cout << heading(j) << ", started " << text(j.value("started", json{})) << '\n';
      std::vector<std::vector<std::string>> rows{
        {"ENDPOINT", "REQUESTS", "ERRORS", "AVERAGE", "LAST ERROR"}};
      for (auto& e : j.value("endpoints", json::array())) {
        auto requests = e.value("num_requests", 0);
        auto last_error = e.value("last_error", std::string{});
        rows.push_back(
          {text(e.value("name", json{})), std::to_string(requests),
           text(e.value("num_errors", json{})),
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

/// Sends `body` to `<prefix>.<family>.<verb>`; an error reply throws.
json call(const options& o, const std::string& subject, const json& body) {
  connection nc{o.nats_url, timeout_of(o)};
  auto r = nc.request(subject, body.dump());
  if (r.error_code != 0)
    throw failure{exit_code::error_reply, error_text(r)};
  auto j = json::parse(r.body, nullptr, false);
  if (!j.is_object())
    throw failure{exit_code::error_reply, "the reply is not a JSON object"};
  return j;
}

const std::string& session_of(const options& o) {
  if (o.session.empty())
    throw failure{exit_code::usage, "no session: pass --session or set SLICEGATE_SESSION "
                                    "(slicectl login prints one)"};
  return o.session;
}

int login(const options& o) {
  namespace verb = slicegate::subjects::auth_verb;
  auto password = read_password();
  auto j = call(o, slicegate::subjects::auth(o.subject_prefix, verb::login),
                {{"email", o.email}, {"password", password}});
  if (o.json)
    print_json(j);
  else
    std::cout << text(j["session"].value("id", json{})) << '\n';
  return exit_code::ok;
}

int whoami(const options& o) {
  namespace verb = slicegate::subjects::session_verb;
  auto j = call(o, slicegate::subjects::session(o.subject_prefix, verb::resolve),
                {{"session_id", session_of(o)}});
  if (o.json) {
    print_json(j);
    return exit_code::ok;
  }
  auto& user = j["user"];
  auto& slice = j["slice"];
  print_table({
    {"email", text(user.value("email", json{}))},
    {"user id", text(user.value("id", json{}))},
    {"admin", user.value("is_admin", false) ? "yes" : "no"},
    {"subscription", text(user.value("subscription_status", json{})) + " until "
                       + text(user.value("subscription_ends_at", json{}))},
    {"slice", slice.is_object() ? text(slice.value("id", json{})) + " (port "
                                    + text(slice.value("port", json{})) + ", "
                                    + text(slice.value("status", json{})) + ")"
                                : "-"},
    {"session expires", text(j["session"].value("expires_at", json{}))},
  });
  return exit_code::ok;
}

int logout(const options& o) {
  namespace verb = slicegate::subjects::auth_verb;
  auto j = call(o, slicegate::subjects::auth(o.subject_prefix, verb::logout),
                {{"session_id", session_of(o)}});
  if (o.json)
    print_json(j);
  else
    std::cout << (j.value("revoked", false) ? "session revoked" : "no such session") << '\n';
  return exit_code::ok;
}

// -- slices -----------------------------------------------------------------------------------

void print_slices(const json& slices) {
  std::vector<std::vector<std::string>> rows{
    {"ID", "PORT", "STATUS", "USER", "HEALTHY", "WHATSAPP", "STORAGE", "SINCE"}};
  for (auto& s : slices) {
    auto healthy = s.value("healthy", json{});
    rows.push_back({text(s.value("id", json{})), text(s.value("port", json{})),
                    text(s.value("status", json{})), text(s.value("user_id", json{})),
                    healthy.is_boolean() ? (healthy.get<bool>() ? "yes" : "no") : "-",
                    s.value("wa_connected", false) ? text(s.value("wa_phone", json("yes")))
                                                   : "-",
                    text(s.value("storage_bytes", json{})),
                    text(s.value("status_changed_at", json{}))});
  }
  print_table(rows);
}

/// Calls `<prefix>.admin.slices.<verb>` with the admin session and `fields`.
json slices_call(const options& o, std::string_view verb, json fields) {
  fields["session_id"] = session_of(o);
  return call(o, slicegate::subjects::admin(o.subject_prefix, "slices", verb), fields);
}

int slices(const options& o, const std::string& verb) {
  json reply;
  if (verb == "list") {
    json fields = json::object();
    if (!o.status.empty())
      fields["status"] = o.status;
    reply = slices_call(o, verb, fields);
  } else if (verb == "create") {
    reply = slices_call(o, verb, {{"count", o.count}});
  } else if (verb == "assign") {
    json fields{{"user_id", o.user_id}};
    if (o.slice_id > 0)
      fields["slice_id"] = o.slice_id;
    reply = slices_call(o, verb, fields);
  } else {
    json fields{{"slice_id", o.slice_id}};
    if (!o.reason.empty())
      fields["reason"] = o.reason;
    reply = slices_call(o, verb, fields);
  }
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
    print_table({{"sampled", text(t.value("at", json{}))},
                 {"whatsapp", text(t.value("wa_state", json{}))},
                 {"memory (bytes)", text(t.value("rss_bytes", json{}))},
                 {"cpu (%)", text(t.value("cpu_percent", json{}))},
                 {"disk (bytes)", text(t.value("disk_bytes", json{}))}});
  }
  return exit_code::ok;
}

} // namespace

int main(int argc, char** argv) {
  options o;
  // The conventional variable counts too, below the SLICEGATE_ one CLI11 reads.
  if (auto url = std::getenv("NATS_URL"))
    o.nats_url = url;
  CLI::App app{"slicectl: administer slicegate over NATS"};
  app.add_option("--nats-url", o.nats_url, "NATS server URL")
    ->envname("SLICEGATE_NATS_URL")
    ->capture_default_str();
  app.add_option("--subject-prefix", o.subject_prefix, "First token of every subject")
    ->envname("SLICEGATE_SUBJECT_PREFIX")
    ->capture_default_str();
  app.add_option("--service-name", o.service_name, "Service name in the micro protocol")
    ->envname("SLICEGATE_SERVICE_NAME")
    ->capture_default_str();
  app.add_option("--session", o.session, "Session token (from slicectl login)")
    ->envname("SLICEGATE_SESSION");
  app.add_option("--timeout", o.timeout, "How long to wait for replies")->capture_default_str();
  app.add_flag("--json", o.json, "Print the raw JSON replies");
  app.require_subcommand(1);

  auto ping = app.add_subcommand("ping", "List running slicegate instances");
  auto info = app.add_subcommand("info", "Show each instance's endpoints");
  auto stats = app.add_subcommand("stats", "Show each instance's request counts and counters");
  auto login_cmd = app.add_subcommand(
    "login", "Open a session; prints its token (password read from stdin or the terminal)");
  login_cmd->add_option("--email", o.email, "Account e-mail")->required();
  auto whoami_cmd = app.add_subcommand("whoami", "Show the account behind --session");
  auto logout_cmd = app.add_subcommand("logout", "Revoke the session given by --session");
  auto slices_cmd = app.add_subcommand("slices", "The slice pool (needs an admin's --session)");
  slices_cmd->require_subcommand(1);
  auto slices_list = slices_cmd->add_subcommand("list", "List slices");
  slices_list->add_option("--status", o.status, "Only slices in this status");
  auto slices_get = slices_cmd->add_subcommand("get", "Show a slice and its latest telemetry");
  auto slices_create = slices_cmd->add_subcommand("create", "Provision new slices");
  slices_create->add_option("--count", o.count, "How many (1-1000)")
    ->required()
    ->check(CLI::Range(1, 1000));
  auto slices_suspend = slices_cmd->add_subcommand("suspend", "Stop a slice, keeping its data");
  auto slices_resume = slices_cmd->add_subcommand("resume", "Start a suspended slice again");
  auto slices_destroy
    = slices_cmd->add_subcommand("destroy", "Scrub a slice and return it to the pool");
  for (auto cmd : {slices_get, slices_suspend, slices_resume, slices_destroy})
    cmd->add_option("slice_id", o.slice_id, "Slice id")->required()->check(CLI::PositiveNumber);
  for (auto cmd : {slices_suspend, slices_resume, slices_destroy})
    cmd->add_option("--reason", o.reason, "Why (recorded with the transition)");
  auto slices_assign
    = slices_cmd->add_subcommand("assign", "Give a user a slice (the next free one by default)");
  slices_assign->add_option("--user", o.user_id, "User id")
    ->required()
    ->check(CLI::PositiveNumber);
  slices_assign->add_option("slice_id", o.slice_id, "Slice id")->check(CLI::PositiveNumber);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? exit_code::ok : exit_code::usage;
  }
  try {
    namespace micro = slicegate::subjects::micro_verb;
    if (ping->parsed())
      return discover(o, micro::ping);
    if (info->parsed())
      return discover(o, micro::info);
    if (stats->parsed())
      return discover(o, micro::stats);
    if (login_cmd->parsed())
      return login(o);
    if (whoami_cmd->parsed())
      return whoami(o);
    if (logout_cmd->parsed())
      return logout(o);
    if (slices_cmd->parsed())
      return slices(o, slices_cmd->get_subcommands().front()->get_name());
  } catch (const failure& f) {
    std::cerr << "slicectl: " << f.message << '\n';
    return f.code;
  } catch (const json::exception& e) {
    // A reply of an unexpected shape, say from another service's responder.
    std::cerr << "slicectl: unexpected reply: " << e.what() << '\n';
    return exit_code::error_reply;
  }
  return exit_code::usage;
}
