#define BOOST_TEST_MODULE console
#include <boost/test/unit_test.hpp>

// slicectl's console commands end to end: the real daemon (external runtime) on a throwaway
// PostgreSQL and nats-server, the first admin made with `slicegate create-admin`, and the
// real slicectl run as a script or a person would: users, telemetry, overview, events, and
// `top` in a tmux terminal.

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "tests/support/daemon_fixture.hpp"
#include "tests/support/sql.hpp"
#include "tests/support/temp_dir.hpp"

using namespace slicegate;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

constexpr int64_t mib = 1024 * 1024;

std::string read_file(const std::string& path) {
  std::ifstream in{path};
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> result;
  std::istringstream in{text};
  for (std::string line; std::getline(in, line);)
    result.push_back(line);
  return result;
}

/// `t` as the daemon writes times: "2026-12-03T15:04:05.123456Z".
std::string rfc3339_micros(std::chrono::system_clock::time_point t) {
  auto secs = std::chrono::system_clock::to_time_t(t);
  auto micros
    = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count()
      % 1'000'000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[48];
  auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%06lldZ", static_cast<long long>(micros));
  return buf;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// The line of `text` holding `part`; empty if none.
std::string line_with(const std::string& text, const std::string& part) {
  for (auto& line : lines_of(text))
    if (contains(line, part))
      return line;
  return {};
}

/// A shell command running in the background, its stdout and stderr in files, its exit code
/// recorded when it ends; killed if it still runs at the end of the test.
class background {
 public:
  explicit background(const std::string& command) {
    test::run("( " + command + " >" + dir_ / "out" + " 2>" + dir_ / "err" + " & echo $! >"
              + dir_ / "pid" + "; wait $!; echo $? >" + dir_ / "rc.tmp" + "; mv "
              + dir_ / "rc.tmp" + " " + dir_ / "rc" + " ) >/dev/null 2>&1 &");
    BOOST_REQUIRE(test::eventually([&] { return !read_file(dir_ / "pid").empty(); }));
    pid_ = std::stoi(read_file(dir_ / "pid"));
  }

  ~background() {
    if (!exit_code())
      ::kill(pid_, SIGKILL);
  }

  background(const background&) = delete;
  background& operator=(const background&) = delete;

  std::string out() const {
    return read_file(dir_ / "out");
  }

  std::string err() const {
    return read_file(dir_ / "err");
  }

  /// The exit code, once it has ended.
  std::optional<int> exit_code() const {
    auto rc = read_file(dir_ / "rc");
    if (rc.empty())
      return std::nullopt;
    return std::stoi(rc);
  }

  /// Waits up to `timeout` for it to end by itself; returns its exit code.
  std::optional<int> wait(std::chrono::milliseconds timeout = 30s) const {
    test::eventually([&] { return exit_code().has_value(); }, timeout);
    return exit_code();
  }

  void terminate() const {
    ::kill(pid_, SIGTERM);
  }

 private:
  test::temp_dir dir_;
  int pid_ = -1;
};

struct fixture : test::running_daemon {
  std::string token = admin_token();

  /// Signs a user up; returns the reply (user, session, slice, waiting_position).
  json signup(const std::string& email) {
    auto r = client->request("gateway.auth.signup",
                             json{{"email", email}, {"password", "password-1"}}, 30s);
    BOOST_REQUIRE_MESSAGE(r.ok() && r.error_code().empty(), r.body);
    return r.json();
  }

  /// Provisions `n` slices through the admin API; returns their ids once they are ready.
  std::vector<int> create_slices(int n) {
    return create_ready_slices(n, token);
  }

  /// slicectl pointed at this daemon with `session`, ready for a command.
  std::string slicectl(const std::string& session, const std::string& timeout = "30s") const {
    return "env -u SLICEGATE_SESSION " + test::slicectl_binary() + " --nats-url "
           + servers.nats_url() + " --timeout " + timeout + " --session " + session + " ";
  }

  std::string slicectl() const {
    return slicectl(token);
  }

  json slicectl_json(const std::string& command) const {
    auto out = test::capture(slicectl() + "--json " + command);
    auto j = json::parse(out, nullptr, false);
    BOOST_REQUIRE_MESSAGE(!j.is_discarded(), command << " printed no JSON: " << out);
    return j;
  }

  int admin_id() const {
    return static_cast<int>(
      test::scalar(servers.database_url(),
                   "SELECT id FROM gateway.users WHERE is_admin ORDER BY id LIMIT 1"));
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(console, fixture)

BOOST_AUTO_TEST_CASE(users_list_pages_and_filters) {
  signup("plain-1@example.com");
  signup("plain-2@example.com");

  // The table: a header and one row per user (the admin and two more), newest first.
  auto table = test::capture(slicectl() + "users list");
  auto rows = lines_of(table);
  BOOST_REQUIRE_MESSAGE(rows.size() == 4u, table);
  BOOST_CHECK_MESSAGE(rows[0].rfind("ID  ", 0) == 0 && contains(rows[0], "EMAIL"), table);
  BOOST_CHECK(contains(rows[1], "plain-2@example.com"));
  BOOST_CHECK(contains(rows[3], "admin@example.com"));
  BOOST_CHECK(!contains(table, "more users"));

  // A page of one says how to get the next, and the cursor it names does.
  auto page = test::capture(slicectl() + "users list --limit 1 --oldest");
  auto hint = line_with(page, "more users:");
  BOOST_REQUIRE_MESSAGE(contains(hint, "--cursor"), page);
  BOOST_CHECK(contains(page, "admin@example.com"));
  auto first = slicectl_json("users list --limit 1 --oldest");
  BOOST_REQUIRE_EQUAL(first["users"].size(), 1u);
  BOOST_REQUIRE(first["next_cursor"].is_string());
  auto cursor = first["next_cursor"].get<std::string>();
  BOOST_CHECK_MESSAGE(contains(hint, cursor), hint);
  auto second = slicectl_json("users list --limit 1 --oldest --cursor '" + cursor + "'");
  BOOST_REQUIRE_EQUAL(second["users"].size(), 1u);
  BOOST_CHECK_EQUAL(second["users"][0]["email"], "plain-1@example.com");

  // Filters.
  auto admins = slicectl_json("users list --admins");
  BOOST_REQUIRE_EQUAL(admins["users"].size(), 1u);
  BOOST_CHECK_EQUAL(admins["users"][0]["email"], "admin@example.com");
  BOOST_CHECK(admins["next_cursor"].is_null());
  auto prefixed = slicectl_json("users list --email-prefix plain-2");
  BOOST_REQUIRE_EQUAL(prefixed["users"].size(), 1u);
  BOOST_CHECK_EQUAL(prefixed["users"][0]["email"], "plain-2@example.com");
  // No slices exist: everybody waits.
  BOOST_CHECK_EQUAL(slicectl_json("users list --waiting")["users"].size(), 3u);
  auto all = slicectl_json("users list")["users"];
  auto trial = std::count_if(all.begin(), all.end(),
                             [](const json& u) { return u["subscription_status"] == "trial"; });
  BOOST_CHECK_GE(trial, 2);
  BOOST_CHECK_EQUAL(slicectl_json("users list --status trial")["users"].size(),
                    static_cast<size_t>(trial));

  // The daemon's 400 for a misspelt status is an error reply: exit 1, with the reason.
  BOOST_CHECK_EQUAL(test::run(slicectl() + "users list --status triall >/dev/null 2>&1"), 1);
  // Usage errors are caught before anything is sent.
  BOOST_CHECK_EQUAL(test::run(slicectl() + "users list --limit 0 >/dev/null 2>&1"), 64);
}

BOOST_AUTO_TEST_CASE(users_get_shows_the_user_their_place_and_sessions) {
  auto user = signup("waiting@example.com");
  auto id = std::to_string(user["user"]["id"].get<int>());

  auto j = slicectl_json("users get " + id);
  BOOST_CHECK_EQUAL(j["user"]["email"], "waiting@example.com");
  BOOST_CHECK(j["slice"].is_null());
  BOOST_CHECK(j["waiting_position"].is_number());
  BOOST_CHECK_GE(j["live_sessions"].get<int>(), 1);
  BOOST_CHECK(j["billing_events"].is_array());

  auto shown = test::capture(slicectl() + "users get " + id);
  BOOST_CHECK_MESSAGE(contains(line_with(shown, "email"), "waiting@example.com"), shown);
  BOOST_CHECK_MESSAGE(contains(line_with(shown, "waiting position"),
                               "#" + std::to_string(j["waiting_position"].get<int>())),
                      shown);
  BOOST_CHECK_MESSAGE(
    contains(line_with(shown, "live sessions"), std::to_string(j["live_sessions"].get<int>())),
    shown);
  BOOST_CHECK(contains(line_with(shown, "slice"), "-"));
  BOOST_CHECK(contains(shown, "no billing events"));

  // Once a slice exists, the oldest waiting user (the admin) has it; the user still waits,
  // first now. A second slice goes to the user, and `get` shows it.
  create_slices(2);
  BOOST_REQUIRE(test::eventually(
    [&] { return slicectl_json("users get " + id)["slice"].is_object(); }, 30s));
  auto with_slice = test::capture(slicectl() + "users get " + id);
  BOOST_CHECK_MESSAGE(contains(line_with(with_slice, "slice"), "assigned"), with_slice);

  auto missing = test::run(slicectl() + "users get 9999 2>&1 | grep -q not_found");
  BOOST_CHECK_EQUAL(missing, 0);
  BOOST_CHECK_EQUAL(test::run(slicectl() + "users get 9999 >/dev/null 2>&1"), 1);
}

BOOST_AUTO_TEST_CASE(users_promote_and_demote_change_the_admin_flag) {
  auto user = signup("helper@example.com");
  auto id = std::to_string(user["user"]["id"].get<int>());

  auto promoted = test::capture(slicectl() + "users promote " + id);
  BOOST_CHECK_MESSAGE(
    contains(promoted, "helper@example.com") && contains(promoted, "is an admin"), promoted);
  BOOST_CHECK_EQUAL(slicectl_json("users get " + id)["user"]["is_admin"], true);
  // The new admin may use slicectl as one.
  auto helper = login("helper@example.com", "password-1");
  BOOST_CHECK_EQUAL(test::run(slicectl(helper) + "users list >/dev/null"), 0);

  auto demoted = slicectl_json("users demote " + id);
  BOOST_CHECK_EQUAL(demoted["user"]["is_admin"], false);
  BOOST_CHECK(contains(test::capture(slicectl() + "users demote " + id), "is not an admin"));
  BOOST_CHECK_EQUAL(test::run(slicectl(helper) + "users list >/dev/null 2>&1"), 1);

  // The last admin cannot demote themselves: 409, exit 1.
  auto self = std::to_string(admin_id());
  BOOST_CHECK_EQUAL(test::run(slicectl() + "users demote " + self + " 2>&1 | grep -q conflict"),
                    0);
  BOOST_CHECK_EQUAL(test::run(slicectl() + "users demote " + self + " >/dev/null 2>&1"), 1);
  BOOST_CHECK_EQUAL(slicectl_json("users get " + self)["user"]["is_admin"], true);
}

BOOST_AUTO_TEST_CASE(users_revoke_sessions_logs_a_user_out_everywhere) {
  auto user = signup("leaving@example.com");
  auto id = std::to_string(user["user"]["id"].get<int>());
  auto session = user["session"]["id"].get<std::string>();
  login("leaving@example.com", "password-1");

  auto revoked = test::capture(slicectl() + "users revoke-sessions " + id);
  BOOST_CHECK_MESSAGE(contains(revoked, "revoked 2 sessions of user " + id), revoked);
  auto r = client->request("gateway.session.resolve", json{{"session_id", session}});
  BOOST_CHECK_EQUAL(r.error_code(), "unauthorized");
  BOOST_CHECK_EQUAL(slicectl_json("users revoke-sessions " + id)["revoked"], 0);
  BOOST_CHECK_EQUAL(test::run(slicectl() + "users revoke-sessions 9999 >/dev/null 2>&1"), 1);
}

BOOST_AUTO_TEST_CASE(telemetry_slice_shows_buckets_and_sparklines) {
  auto id = create_slices(1).front();
  // Three samples 20 minutes apart, each in a bucket of its own: 100, 150 and 200 MiB.
  test::sql(servers.database_url(),
            "INSERT INTO gateway.telemetry (slice_id, \"timestamp\", rss_bytes, wa_state, "
            "cpu_percent, disk_bytes) VALUES "
            "("
              + std::to_string(id) + ", now() - interval '50 minutes', "
              + std::to_string(100 * mib) + ", 'CONNECTED', 1.0, " + std::to_string(3 * mib)
              + "), (" + std::to_string(id) + ", now() - interval '30 minutes', "
              + std::to_string(150 * mib) + ", 'CONNECTED', 2.0, " + std::to_string(3 * mib)
              + "), (" + std::to_string(id) + ", now() - interval '10 minutes', "
              + std::to_string(200 * mib) + ", 'DISCONNECTED', 3.0, " + std::to_string(3 * mib)
              + ")");

  auto j = slicectl_json("telemetry slice " + std::to_string(id) + " --since 1h --bucket 5m");
  BOOST_CHECK_EQUAL(j["slice_id"], id);
  BOOST_CHECK_EQUAL(j["bucket"], 300);
  BOOST_REQUIRE_GE(j["points"].size(), 3u);

  auto shown = test::capture(slicectl() + "telemetry slice " + std::to_string(id)
                             + " --since 1h --bucket 5m");
  BOOST_CHECK_MESSAGE(contains(shown, "slice " + std::to_string(id) + " from "), shown);
  auto header = line_with(shown, "TIME");
  for (auto column :
       {"SAMPLES", "MEMORY AVG", "MEMORY MAX", "CPU AVG", "CPU MAX", "DISK", "WHATSAPP"})
    BOOST_CHECK_MESSAGE(contains(header, column), header);
  BOOST_CHECK(contains(shown, "100 MiB"));
  BOOST_CHECK(contains(shown, "150 MiB"));
  BOOST_CHECK(contains(shown, "3.0%"));
  BOOST_CHECK(contains(shown, "3 MiB"));
  BOOST_CHECK(contains(shown, "100%") && contains(shown, "0%"));
  auto memory = line_with(shown, "min 100 MiB");
  BOOST_CHECK_MESSAGE(memory.rfind("memory", 0) == 0 && contains(memory, "max 200 MiB"), shown);
  BOOST_CHECK_MESSAGE(contains(memory, "▁") && contains(memory, "█"), memory);
  auto cpu = line_with(shown, "min 1.0%");
  BOOST_CHECK_MESSAGE(cpu.rfind("cpu", 0) == 0 && contains(cpu, "max 3.0%"), shown);
  BOOST_CHECK_MESSAGE(contains(cpu, "▁") && contains(cpu, "█"), cpu);

  // An unknown slice is the daemon's 404; a bucket under a second never leaves slicectl.
  BOOST_CHECK_EQUAL(test::run(slicectl() + "telemetry slice 9999 >/dev/null 2>&1"), 1);
  BOOST_CHECK_EQUAL(test::run(slicectl() + "telemetry slice " + std::to_string(id)
                              + " --bucket 500ms >/dev/null 2>&1"),
                    64);
  BOOST_CHECK_EQUAL(test::run(slicectl() + "telemetry server --since soon >/dev/null 2>&1"),
                    64);
}

BOOST_AUTO_TEST_CASE(telemetry_server_shows_buckets_and_sparklines) {
  // Samples of a server with 64 GiB of RAM, which this machine's own samples (the daemon
  // takes them too) cannot be mistaken for.
  for (auto minutes : {90, 60, 30})
    test::sql(servers.database_url(),
              "INSERT INTO gateway.server_telemetry (\"timestamp\", ram_used_bytes, "
              "ram_total_bytes, swap_used_bytes, swap_total_bytes, cpu_percent, "
              "disk_used_bytes, disk_total_bytes, active_slices, total_slices) VALUES "
              "(now() - interval '"
                + std::to_string(minutes) + " minutes', "
                + std::to_string((110 - minutes) * mib * 100) + ", "
                + std::to_string(64 * 1024 * mib) + ", 0, " + std::to_string(2048 * mib) + ", "
                + std::to_string(minutes / 10) + ", " + std::to_string(40 * 1024 * mib) + ", "
                + std::to_string(100 * 1024 * mib) + ", 3, 7)");

  auto j = slicectl_json("telemetry server --since 2h --bucket 10m");
  BOOST_CHECK_EQUAL(j["bucket"], 600);
  BOOST_REQUIRE_GE(j["points"].size(), 3u);

  auto shown = test::capture(slicectl() + "telemetry server --since 2h --bucket 10m");
  BOOST_CHECK_MESSAGE(shown.rfind("server from ", 0) == 0, shown);
  auto header = line_with(shown, "TIME");
  for (auto column :
       {"RAM AVG", "RAM MAX", "RAM TOTAL", "SWAP", "CPU AVG", "CPU MAX", "DISK", "SLICES"})
    BOOST_CHECK_MESSAGE(contains(header, column), header);
  auto row = line_with(shown, "64 GiB");
  BOOST_CHECK_MESSAGE(contains(row, "40 GiB / 100 GiB") && contains(row, "3/7")
                        && contains(row, "0 B / 2 GiB"),
                      shown);
  auto memory = line_with(shown, "memory  ");
  BOOST_CHECK_MESSAGE(contains(memory, "min ") && contains(memory, "max "), shown);
  BOOST_CHECK_MESSAGE(contains(memory, "▁") && contains(memory, "█"), memory);
  auto cpu = line_with(shown, "cpu  ");
  BOOST_CHECK_MESSAGE(contains(cpu, "▁") || contains(cpu, "█"), cpu);
}

BOOST_AUTO_TEST_CASE(overview_reads_like_the_reply) {
  // The admin waits since set-up; three slices: one for the admin, one for a new user.
  create_slices(3);
  signup("someone@example.com");
  json j;
  BOOST_REQUIRE(test::eventually(
    [&] {
      j = slicectl_json("overview");
      return j["slices"]["assigned"] == 2 && j["slices"]["available"] == 1;
    },
    30s));
  BOOST_CHECK_EQUAL(j["slices"]["total"], 3);
  BOOST_CHECK_EQUAL(j["users"]["total"], 2);
  BOOST_CHECK_EQUAL(j["users"]["admins"], 1);
  BOOST_CHECK_EQUAL(j["waiting"]["length"], 0);

  auto shown = test::capture(slicectl() + "overview");
  BOOST_CHECK_MESSAGE(shown.rfind("slicegate at ", 0) == 0, shown);
  BOOST_CHECK_MESSAGE(contains(line_with(shown, "slices "),
                               "3 total: 1 available, 2 assigned, 0 suspended, 0 destroying"),
                      shown);
  auto health = line_with(shown, "health ");
  BOOST_CHECK_MESSAGE(
    contains(health, std::to_string(j["slices"]["unchecked"].get<int>()) + " unchecked"),
    shown);
  BOOST_CHECK(contains(line_with(shown, "waiting "), "nobody waiting"));
  BOOST_CHECK_MESSAGE(contains(line_with(shown, "users "), "2 total: ")
                        && contains(line_with(shown, "users "), "; 1 admin"),
                      shown);
  BOOST_CHECK(!line_with(shown, "server ").empty());
  BOOST_CHECK(contains(line_with(shown, "alerts "), "in the last hour"));

  // Somebody waiting: the first newcomer takes the free slice, the second waits.
  signup("late@example.com");
  signup("later@example.com");
  auto waiting = test::capture(slicectl() + "overview");
  BOOST_CHECK_MESSAGE(contains(line_with(waiting, "waiting "), "1 waiting, the longest for"),
                      waiting);
}

BOOST_AUTO_TEST_CASE(events_prints_live_events_as_json_lines) {
  background events{slicectl() + "--json events --count 3"};
  // Subscribed once it says so; what is published from then on reaches it.
  BOOST_REQUIRE_MESSAGE(
    test::eventually([&] { return contains(events.err(), "following"); }, 30s), events.err());
  // Two new slices (destroying -> available), then the waiting admin takes one
  // (available -> assigned, and a user-slice event): more than three events.
  create_slices(2);
  BOOST_REQUIRE_MESSAGE(events.wait() == std::optional<int>{0}, events.err());
  auto lines = lines_of(events.out());
  BOOST_REQUIRE_EQUAL(lines.size(), 3u);
  size_t status_events = 0;
  for (auto& line : lines) {
    auto j = json::parse(line, nullptr, false);
    BOOST_REQUIRE_MESSAGE(j.is_object(), line);
    auto subject = j["subject"].get<std::string>();
    BOOST_CHECK_MESSAGE(subject.rfind("gateway.slice.", 0) == 0
                          || subject.rfind("gateway.user.slice.", 0) == 0,
                        subject);
    BOOST_CHECK(j["event"].is_object());
    if (subject.rfind("gateway.slice.status.", 0) == 0) {
      ++status_events;
      BOOST_CHECK(j["event"].contains("to"));
      BOOST_CHECK_EQUAL(std::to_string(j["event"]["slice_id"].get<int>()),
                        subject.substr(subject.rfind('.') + 1));
    }
  }
  BOOST_CHECK_GE(status_events, 2u);

  // The same as lines for people: a new slice, and a new user who takes it.
  background people{slicectl() + "events --count 3"};
  BOOST_REQUIRE(test::eventually([&] { return contains(people.err(), "following"); }, 30s));
  create_slices(1);
  auto newcomer = signup("events@example.com");
  BOOST_REQUIRE(newcomer["slice"].is_object());
  auto slice = std::to_string(newcomer["slice"]["id"].get<int>());
  auto user = std::to_string(newcomer["user"]["id"].get<int>());
  BOOST_REQUIRE_MESSAGE(people.wait() == std::optional<int>{0}, people.err());
  auto shown = people.out();
  BOOST_REQUIRE_EQUAL(lines_of(shown).size(), 3u);
  auto provisioned = line_with(shown, "destroying -> available");
  BOOST_CHECK_MESSAGE(contains(provisioned, "  slice ") && contains(provisioned, "  status  ")
                        && contains(provisioned, ": provisioned"),
                      shown);
  BOOST_CHECK_MESSAGE(
    contains(shown, "  slice " + slice + "  status  available -> assigned (user " + user + ")"),
    shown);
  BOOST_CHECK_MESSAGE(
    contains(shown, "  user " + user + "  slice  -> slice " + slice + " (port "), shown);
  // "2026-12-03T15:04:05Z  slice 3  status  …": the time first, to the second.
  BOOST_CHECK_MESSAGE(provisioned.size() > 22 && provisioned[10] == 'T'
                        && provisioned[19] == 'Z' && provisioned.compare(20, 2, "  ") == 0,
                      provisioned);

  // Interrupted, it leaves cleanly.
  background endless{slicectl() + "events"};
  BOOST_REQUIRE(test::eventually([&] { return contains(endless.err(), "following"); }, 30s));
  endless.terminate();
  BOOST_CHECK(endless.wait(10s) == std::optional<int>{0});
}

BOOST_AUTO_TEST_CASE(events_since_replays_the_stream_then_follows) {
  // The stream outlives the database of earlier tests: only events from now on are ours.
  auto t0 = std::chrono::system_clock::now();
  auto before = create_slices(2);
  // Wait until the events of both are out (the admin gets the first slice).
  test::nats_client watcher{servers.nats_url()};
  watcher.subscribe("gateway.slice.status.*");
  auto past = create_slices(1);
  watcher.wait_for(1, 30s);

  background events{slicectl() + "--json events --since 1h"};
  auto ours = [&] {
    // status events after t0, by slice and target status
    std::vector<std::pair<int, std::string>> result;
    for (auto& line : lines_of(events.out())) {
      auto j = json::parse(line, nullptr, false);
      if (!j.is_object())
        continue;
      auto subject = j["subject"].get<std::string>();
      BOOST_CHECK_MESSAGE(subject.rfind("gateway.server.", 0) != 0, subject);
      if (subject.rfind("gateway.slice.status.", 0) != 0)
        continue;
      auto at = j["event"]["at"].get<std::string>();
      // RFC 3339 UTC strings of one format order like the times they name.
      if (at < rfc3339_micros(t0))
        continue;
      result.emplace_back(j["event"]["slice_id"].get<int>(),
                          j["event"]["to"].get<std::string>());
    }
    return result;
  };
  auto count = [&](int slice, const std::string& to) {
    auto all = ours();
    return std::count(all.begin(), all.end(), std::make_pair(slice, to));
  };
  // Replayed: each slice made available once.
  BOOST_REQUIRE_MESSAGE(test::eventually(
                          [&] {
                            return count(before[0], "available") == 1
                                   && count(before[1], "available") == 1
                                   && count(past[0], "available") == 1;
                          },
                          30s),
                        events.out() << events.err());
  BOOST_CHECK(contains(events.err(), "stream GATEWAY_SLICES"));

  // Then live, without a gap or a repeat.
  auto after = create_slices(1);
  BOOST_REQUIRE_MESSAGE(
    test::eventually([&] { return count(after[0], "available") == 1; }, 30s), events.out());
  std::this_thread::sleep_for(500ms);
  BOOST_CHECK_EQUAL(count(before[0], "available"), 1);
  BOOST_CHECK_EQUAL(count(after[0], "available"), 1);
  // In stream order: the new slice's event comes after the replayed ones.
  auto all = ours();
  auto position = [&](int slice) {
    return std::find(all.begin(), all.end(), std::make_pair(slice, std::string{"available"}))
           - all.begin();
  };
  BOOST_CHECK_LT(position(before[0]), position(after[0]));
  BOOST_CHECK_LT(position(past[0]), position(after[0]));

  events.terminate();
  BOOST_CHECK(events.wait(10s) == std::optional<int>{0});
}

BOOST_AUTO_TEST_CASE(top_runs_in_a_terminal_sorts_and_quits) {
  BOOST_REQUIRE_MESSAGE(test::run("command -v tmux >/dev/null 2>&1") == 0,
                        "tmux is not installed: slicectl top needs a terminal to be tested "
                        "(scripts/install-deps.sh installs it)");
  // Three slices: the admin gets the first, a user the second; each with a memory sample.
  auto ids = create_slices(3);
  signup("top-user@example.com");
  BOOST_REQUIRE(test::eventually(
    [&] { return slicectl_json("overview")["slices"]["assigned"] == 2; }, 30s));
  // Stamped ahead, so that they stay the latest whatever samples the daemon's own watchers
  // take meanwhile.
  int64_t memory_mib[] = {10, 300, 50};
  for (size_t i = 0; i < ids.size(); ++i)
    test::sql(servers.database_url(),
              "INSERT INTO gateway.telemetry (slice_id, \"timestamp\", rss_bytes, wa_state, "
              "cpu_percent, disk_bytes) VALUES ("
                + std::to_string(ids[i]) + ", now() + interval '10 minutes', "
                + std::to_string(memory_mib[i] * mib) + ", 'CONNECTED', 1.5, "
                + std::to_string(mib) + ")");

  test::temp_dir dir;
  auto socket = "slicectl-top-" + std::to_string(getpid());
  auto tmux = "tmux -L " + socket + " ";
  // `\$?`: the pane's shell records the exit code, not the one starting tmux.
  auto command = "env LANG=C.UTF-8 " + slicectl(token, "5s") + "top --interval 1s; echo \\$? >"
                 + dir / "rc";
  BOOST_REQUIRE_EQUAL(test::run(tmux + "-u new-session -d -x 160 -y 40 \"" + command + "\""),
                      0);
  auto screen = [&] {
    return test::capture(tmux + "capture-pane -p");
  };
  struct cleanup {
    std::string tmux;
    ~cleanup() {
      test::run(tmux + "kill-server >/dev/null 2>&1");
    }
  } guard{tmux};

  // The frame and one line per slice.
  std::string shown;
  BOOST_REQUIRE_MESSAGE(test::eventually(
                          [&] {
                            shown = screen();
                            return contains(shown, " 5001 ") && contains(shown, " 5003 ")
                                   && contains(shown, " 5005 ");
                          },
                          30s),
                        shown);
  auto header = line_with(shown, "PORT");
  for (auto column : {"ID", "STATUS", "USER", "HEALTH", "WHATSAPP", "MEMORY", "CPU", "DISK"})
    BOOST_CHECK_MESSAGE(contains(header, column), header);
  BOOST_CHECK_MESSAGE(contains(header, "STATUS▲"), header);
  BOOST_CHECK_MESSAGE(contains(shown, "sort: status"), shown);
  BOOST_CHECK(!line_with(shown, "server ").empty());
  BOOST_CHECK(contains(line_with(shown, "waiting "), "nobody waiting"));
  // "slices   …": the counts, not the server line's "slices 2/3 active".
  BOOST_CHECK(contains(line_with(shown, "slices   "), "3 total"));
  BOOST_CHECK_MESSAGE(contains(shown, "top-user@example.com"), shown);
  BOOST_CHECK(contains(shown, "300 MiB") && contains(shown, "CONNECTED"));

  // `m`: largest memory first, the column marked.
  test::run(tmux + "send-keys m");
  BOOST_REQUIRE_MESSAGE(test::eventually(
                          [&] {
                            shown = screen();
                            return contains(shown, "sort: memory");
                          },
                          10s),
                        shown);
  BOOST_TEST_MESSAGE("slicectl top, sorted by memory:\n" << shown);
  header = line_with(shown, "PORT");
  BOOST_CHECK_MESSAGE(contains(header, "MEMORY▼") && !contains(header, "STATUS▲"), header);
  // Searched below the column titles, where the slice lines are.
  auto at = [&](const std::string& part) {
    return shown.find(part, shown.find("PORT"));
  };
  BOOST_CHECK_MESSAGE(at("300 MiB") < at("50 MiB") && at("50 MiB") < at("10 MiB"), shown);

  // `q`: gone, exit 0, the session over with it.
  test::run(tmux + "send-keys q");
  BOOST_REQUIRE_MESSAGE(test::eventually([&] { return !read_file(dir / "rc").empty(); }, 10s),
                        screen());
  BOOST_CHECK_EQUAL(std::stoi(read_file(dir / "rc")), 0);
  BOOST_CHECK(test::eventually(
    [&] { return test::run(tmux + "has-session >/dev/null 2>&1") != 0; }, 10s));

  // Without a terminal it refuses, as a usage error.
  BOOST_CHECK_EQUAL(test::run(slicectl() + "top </dev/null >/dev/null 2>&1"), 64);
  BOOST_CHECK_EQUAL(test::run(slicectl() + "top </dev/null 2>&1 | grep -q 'needs a terminal'"),
                    0);
}

BOOST_AUTO_TEST_SUITE_END()
