#define BOOST_TEST_MODULE bridge
#include "bridge/bridge.hpp"

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "bridge/bridge_actor.hpp"
#include "messages/error.hpp"
#include "tests/support/ask.hpp"
#include "tests/support/nats_client.hpp"
#include "tests/support/servers.hpp"
#include "tests/support/system.hpp"

using namespace slicegate;
using namespace std::chrono_literals;
using nlohmann::json;
using test::eventually;

namespace {

// -- a session manager with canned answers ----------------------------------------------------

/// What the mock session manager saw, and what the test asks it to do. Shared with the test
/// thread, hence the mutex.
struct script {
  std::mutex mtx;
  /// Signup events received, in order (redeliveries included).
  std::vector<std::string> signup_event_ids;
  /// `flaky@example.com` signup events fail with `unavailable` this many more times.
  int unavailable_left = 0;
  /// Answers held back for `hold@example.com` signup events (and for the first delivery of a
  /// `hold-once@example.com` one), delivered by the test.
  std::vector<std::function<void()>> held;
  /// Signup events answered with success, in order: what a real session manager commits.
  std::vector<std::string> committed;
  /// Event ids of `hold-once@example.com` events seen so far.
  std::set<std::string> seen_once;
  /// Answers held back for `held@example.com` logins.
  std::vector<caf::typed_response_promise<auth::signed_in>> held_logins;
  /// Dead letters kept, and how many more times keeping one fails.
  std::vector<admin::record_dead_letter> dead_letters;
  int dead_letter_failures = 0;

  size_t dead_letter_count() {
    std::lock_guard<std::mutex> guard{mtx};
    return dead_letters.size();
  }

  size_t signup_events() {
    std::lock_guard<std::mutex> guard{mtx};
    return signup_event_ids.size();
  }

  std::string signup_log() {
    std::lock_guard<std::mutex> guard{mtx};
    std::string result;
    for (auto& id : signup_event_ids)
      result += id + " ";
    return result;
  }

  std::string commit_log() {
    std::lock_guard<std::mutex> guard{mtx};
    std::string result;
    for (auto& id : committed)
      result += id + " ";
    return result;
  }

  size_t held_login_count() {
    std::lock_guard<std::mutex> guard{mtx};
    return held_logins.size();
  }

  void release_logins();

  size_t held_count() {
    std::lock_guard<std::mutex> guard{mtx};
    return held.size();
  }

  void release_held() {
    std::lock_guard<std::mutex> guard{mtx};
    for (auto& release : held)
      release();
    held.clear();
  }
};

timestamp fixed_time() {
  return timestamp{} + std::chrono::seconds{1795536000}
         + 123456us; // 2026-11-24T16:00:00.123456Z
}

auth::signed_in canned_session(const std::string& email) {
  auth::signed_in result;
  result.user.id = 42;
  result.user.email = email;
  result.user.subscription_status = subscription::trial;
  result.user.subscription_ends_at = fixed_time() + std::chrono::hours{24 * 14};
  result.user.created_at = fixed_time();
  result.user.stripe_customer = std::string{"cus_secret"};
  result.token = std::string(64, 'a');
  result.expires_at = fixed_time() + std::chrono::hours{24 * 30};
  result.waiting_position = 2;
  return result;
}

void script::release_logins() {
  std::lock_guard<std::mutex> guard{mtx};
  for (auto& rp : held_logins)
    rp.deliver(canned_session("held@example.com"));
  held_logins.clear();
}

/// How the mock answers one signup event: a user, an error, or nothing yet (held back for
/// the test to release). Call with `plan.mtx` held.
std::optional<caf::expected<user_record>> answer_signup(script& plan,
                                                        const auth::signup_event& x) {
  plan.signup_event_ids.push_back(x.event_id);
  if (x.email == "conflict@example.com")
    return caf::expected<user_record>{make_error(ec::conflict, "e-mail already taken")};
  if (x.email == "flaky@example.com" && plan.unavailable_left > 0) {
    --plan.unavailable_left;
    return caf::expected<user_record>{make_error(ec::unavailable, "database is down")};
  }
  if (x.email == "hold@example.com"
      || (x.email == "hold-once@example.com" && plan.seen_once.insert(x.event_id).second))
    return std::nullopt;
  plan.committed.push_back(x.event_id);
  user_record user;
  user.email = x.email;
  return caf::expected<user_record>{std::move(user)};
}

struct mock_state {
  static inline const char* name = "mock_sessions";
  std::vector<caf::typed_response_promise<auth::signed_in>> never_answered;
};

session_manager_actor::behavior_type
mock_sessions(session_manager_actor::stateful_pointer<mock_state> self,
              std::shared_ptr<script> plan) {
  return {
    [](auth::signup& x) -> caf::result<auth::signed_in> { return canned_session(x.email); },
    [self, plan](auth::login& x) -> caf::result<auth::signed_in> {
      if (x.email == "held@example.com") {
        auto rp = self->make_response_promise<auth::signed_in>();
        std::lock_guard<std::mutex> guard{plan->mtx};
        plan->held_logins.push_back(rp);
        return rp;
      }
      if (x.email == "limited@example.com")
        // The wait is a field of the error; the text does not repeat it.
        return make_error(ec::rate_limited, "too many failed logins", 42s);
      if (x.email == "slow@example.com") {
        auto rp = self->make_response_promise<auth::signed_in>();
        self->state.never_answered.push_back(rp);
        return rp;
      }
      if (x.password == "wrong")
        return make_error(ec::invalid_credentials, "wrong e-mail or password");
      auto result = canned_session(x.email);
      result.user.last_login_at = fixed_time();
      result.waiting_position = {};
      return result;
    },
    [](auth::logout& x) -> caf::result<bool> { return x.token == std::string(64, 'a'); },
    [](auth::logout_all&) -> caf::result<int32_t> { return 3; },
    [](auth::change_password&) -> caf::result<int32_t> { return 2; },
    [](auth::resolve& x) -> caf::result<auth::signed_in> {
      if (x.token == "expired")
        return make_error(ec::unauthorized, "session expired");
      auto result = canned_session("ada@example.com");
      result.user.slice_id = 7;
      slice_record slice;
      slice.id = 7;
      slice.port = 5013;
      slice.status = slice_status::assigned;
      result.slice = slice;
      return result;
    },
    [](auth::authorize_admin&) -> caf::result<user_record> {
      return make_error(ec::forbidden, "not an admin");
    },
    [self, plan](auth::signup_event& x) -> caf::result<user_record> {
      std::lock_guard<std::mutex> guard{plan->mtx};
      auto answer = answer_signup(*plan, x);
      if (!answer) {
        auto rp = self->make_response_promise<user_record>();
        plan->held.push_back([rp]() mutable { rp.deliver(user_record{}); });
        return rp;
      }
      if (!*answer)
        return std::move(answer->error());
      return std::move(**answer);
    },
    [self, plan](auth::signup_events& x) -> caf::result<std::vector<auth::signup_result>> {
      // As the real one: one result per event; after an event to retry, none is applied.
      std::lock_guard<std::mutex> guard{plan->mtx};
      auto results = std::make_shared<std::vector<auth::signup_result>>(x.events.size());
      auto waiting = std::make_shared<size_t>(0);
      for (size_t i = 0; i < x.events.size(); ++i) {
        auto& r = (*results)[i];
        auto answer = answer_signup(*plan, x.events[i]);
        if (!answer) {
          ++*waiting;
          r.user = user_record{};
        } else if (*answer) {
          r.user = std::move(**answer);
        } else {
          r.error = std::move(answer->error());
          if (code_of(r.error) == ec::unavailable) {
            for (size_t k = i + 1; k < x.events.size(); ++k)
              (*results)[k].error = make_error(ec::unavailable, "not attempted");
            break;
          }
        }
      }
      if (*waiting == 0)
        return std::move(*results);
      auto rp = self->make_response_promise<std::vector<auth::signup_result>>();
      for (size_t k = *waiting; k > 0; --k)
        plan->held.push_back([rp, results, waiting]() mutable {
          if (--*waiting == 0)
            rp.deliver(*results);
        });
      return rp;
    },
    [](admin::list_users&) -> caf::result<admin::user_page> { return admin::user_page{}; },
    [](admin::find_user&) -> caf::result<admin::user_detail> {
      return make_error(ec::not_found, "no such user");
    },
    [](admin::update_user&) -> caf::result<user_record> { return user_record{}; },
    [](admin::revoke_sessions&) -> caf::result<int32_t> { return 0; },
    [](auth::user_changed&) {},
    [](auth::forget_cached&) {},
  };
}

/// Persistence as far as the consumers use it: keeps dead letters, or fails to while
/// `dead_letter_failures` lasts.
caf::behavior mock_dead_letters(caf::event_based_actor*, std::shared_ptr<script> plan) {
  return {
    [plan](admin::record_dead_letter& x) -> caf::result<int64_t> {
      std::lock_guard<std::mutex> guard{plan->mtx};
      if (plan->dead_letter_failures > 0) {
        --plan->dead_letter_failures;
        return make_error(ec::unavailable, "database down");
      }
      plan->dead_letters.push_back(std::move(x));
      return static_cast<int64_t>(plan->dead_letters.size());
    },
  };
}

// -- fixture ----------------------------------------------------------------------------------

/// Each test gets its own subject prefix and streams on the shared server, so that nothing a
/// test leaves behind reaches the next one.
int next_test_number() {
  static std::atomic<int> n{0};
  return ++n;
}

struct fixture {
  fixture() : servers(test::shared_servers()), sys(cfg), plan(std::make_shared<script>()) {
    auto n = std::to_string(next_test_number());
    prefix = "t" + n;
    bridge_cfg.nats_url = servers.nats_url();
    bridge_cfg.subject_prefix = prefix;
    bridge_cfg.request_timeout = 1s;
    bridge_cfg.max_payload = 4096;
    bridge_cfg.events_stream = "T" + n + "_EVENTS";
    bridge_cfg.slices_stream = "T" + n + "_SLICES";
    bridge_cfg.event_retry_delay = 200ms;
    sessions = sys.spawn(mock_sessions, plan);
    store = caf::actor_cast<persistence_actor>(sys.spawn(mock_dead_letters, plan));
    client = std::make_unique<test::nats_client>(servers.nats_url());
  }

  ~fixture() {
    client.reset();
    if (bridge)
      bridge->drain(5s);
    bridge.reset();
    caf::anon_send_exit(sessions, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(store, caf::exit_reason::user_shutdown);
  }

  void start(bridge_targets targets) {
    auto started = start_bridge(sys, bridge_cfg, std::move(targets));
    BOOST_REQUIRE_MESSAGE(started, (started ? "" : message_of(started.error())));
    bridge = std::move(*started);
    // The streams are set up in the background; publishers wait for them.
    BOOST_REQUIRE(eventually([&] {
      return stream_info(bridge_cfg.events_stream).contains("config")
             && stream_info(bridge_cfg.slices_stream).contains("config");
    }));
  }

  void start() {
    start(bridge_targets{sessions, {}, store, {}});
  }

  std::string subject(const std::string& suffix) const {
    return prefix + "." + suffix;
  }

  test::reply request(const std::string& suffix, const std::string& body) {
    return client->request(subject(suffix), body);
  }

  test::reply request(const std::string& suffix, const json& body) {
    return client->request(subject(suffix), body);
  }

  /// `$JS.API.CONSUMER.INFO` of the signup consumer.
  json signup_consumer() {
    auto r = client->request(
      "$JS.API.CONSUMER.INFO." + bridge_cfg.events_stream + ".slicegate_signup", std::string{});
    return r.json();
  }

  json stream_info(const std::string& name) {
    return client->request("$JS.API.STREAM.INFO." + name, std::string{}).json();
  }

  json stats() {
    return client->request("$SRV.STATS.slicegate", std::string{}).json()["metadata"];
  }

  /// The bridge actor with its internal interface.
  bridge::bridge_internal_actor bridge_actor() {
    return caf::actor_cast<bridge::bridge_internal_actor>(bridge->handle());
  }

  /// The running signup consumer, or a null handle.
  caf::actor signup_consumer_actor() {
    auto result = test::ask<caf::actor>(sys, bridge_actor(), 2s, consumer_atom_v,
                                        std::string{"slicegate_signup"});
    return result ? *result : caf::actor{};
  }

  test::servers& servers;
  test::system_config cfg;
  caf::actor_system sys;
  std::shared_ptr<script> plan;
  session_manager_actor sessions;
  persistence_actor store;
  bridge_config bridge_cfg;
  std::string prefix;
  std::unique_ptr<nats_bridge> bridge;
  std::unique_ptr<test::nats_client> client;
};

bool is_rfc3339(const json& x) {
  static const std::regex re{R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)"};
  return x.is_string() && std::regex_match(x.get<std::string>(), re);
}

/// An error reply in the contract's shape: body, both headers, and the given code.
void check_error(const test::reply& r, int status, const std::string& code) {
  BOOST_REQUIRE_EQUAL(r.status, "ok");
  BOOST_CHECK_EQUAL(r.service_error_code(), status);
  BOOST_CHECK_EQUAL(r.error_code(), code);
  auto j = r.json();
  BOOST_REQUIRE(j.is_object() && j.contains("error"));
  BOOST_CHECK(j["error"]["message"].is_string() && !j["error"]["message"].empty());
  BOOST_REQUIRE(r.headers.count("Nats-Service-Error"));
  BOOST_CHECK_EQUAL(r.headers.at("Nats-Service-Error"),
                    j["error"]["message"].get<std::string>());
}

std::string signup_event(const std::string& id, const std::string& email) {
  return json{{"id", id}, {"email", email}, {"password_hash", "$2b$12$" + std::string(53, 'x')}}
    .dump();
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(bridge_tests, fixture)

// -- micro protocol ---------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(micro_protocol_answers_with_and_without_name_and_id) {
  start();
  auto id = bridge->service_id();
  BOOST_CHECK_EQUAL(id.size(), 22u);
  for (std::string verb : {"PING", "INFO", "STATS"}) {
    std::string type = verb == "PING" ? "ping" : verb == "INFO" ? "info" : "stats";
    for (auto subject :
         {"$SRV." + verb, "$SRV." + verb + ".slicegate", "$SRV." + verb + ".slicegate." + id}) {
      auto r = client->request(subject, std::string{});
      BOOST_REQUIRE_MESSAGE(r.ok(), subject << ": " << r.status);
      auto j = r.json();
      BOOST_CHECK_EQUAL(j["type"], "io.nats.micro.v1." + type + "_response");
      BOOST_CHECK_EQUAL(j["name"], "slicegate");
      BOOST_CHECK_EQUAL(j["id"], id);
      BOOST_CHECK_EQUAL(j["version"], "0.1.0");
      BOOST_CHECK(j["metadata"].is_object());
    }
  }
  // Another instance's id is not ours to answer.
  auto other = client->request("$SRV.PING.slicegate.someone_else", std::string{}, 300ms);
  BOOST_CHECK(!other.ok());
}

BOOST_AUTO_TEST_CASE(micro_info_lists_the_endpoints) {
  start();
  auto j = client->request("$SRV.INFO.slicegate", std::string{}).json();
  BOOST_CHECK(!j["description"].get<std::string>().empty());
  std::map<std::string, json> endpoints;
  for (auto& e : j["endpoints"])
    endpoints[e["name"].get<std::string>()] = e;
  std::map<std::string, std::string> expected{
    {"ping", "ping"},
    {"auth_signup", "auth.signup"},
    {"auth_login", "auth.login"},
    {"auth_logout", "auth.logout"},
    {"auth_logout_all", "auth.logout_all"},
    {"auth_password", "auth.password"},
    {"session_resolve", "session.resolve"},
  };
  for (auto& [name, suffix] : expected) {
    BOOST_REQUIRE_MESSAGE(endpoints.count(name), "missing endpoint " << name);
    BOOST_CHECK_EQUAL(endpoints[name]["subject"], subject(suffix));
    BOOST_CHECK_EQUAL(endpoints[name]["queue_group"], "q");
    BOOST_CHECK(endpoints[name]["metadata"].is_object());
  }
}

BOOST_AUTO_TEST_CASE(micro_stats_count_requests_errors_and_time) {
  start();
  for (int i = 0; i < 3; ++i)
    BOOST_CHECK(request("ping", std::string{}).ok());
  check_error(request("ping", std::string{"[1]"}), 400, "invalid_request");
  check_error(request("auth.login", json{{"email", "a@b.c"}, {"password", "wrong"}}), 401,
              "invalid_credentials");
  BOOST_CHECK(request("auth.login", json{{"email", "a@b.c"}, {"password", "right"}}).ok());
  auto j = client->request("$SRV.STATS.slicegate", std::string{}).json();
  BOOST_CHECK(is_rfc3339(j["started"]));
  BOOST_CHECK(j["metadata"].contains("nats_reconnects"));
  BOOST_CHECK(j["metadata"]["nats_reconnects"].is_string());
  std::map<std::string, json> stats;
  for (auto& e : j["endpoints"])
    stats[e["name"].get<std::string>()] = e;
  auto& ping = stats["ping"];
  BOOST_CHECK_EQUAL(ping["num_requests"], 4);
  BOOST_CHECK_EQUAL(ping["num_errors"], 1);
  BOOST_CHECK(ping["last_error"].get<std::string>().find("400") != std::string::npos);
  BOOST_CHECK_GT(ping["processing_time"].get<int64_t>(), 0);
  BOOST_CHECK_EQUAL(ping["average_processing_time"].get<int64_t>(),
                    ping["processing_time"].get<int64_t>() / 4);
  BOOST_CHECK_EQUAL(ping["queue_group"], "q");
  BOOST_CHECK_EQUAL(stats["auth_login"]["num_requests"], 2);
  BOOST_CHECK_EQUAL(stats["auth_login"]["num_errors"], 1);
  BOOST_CHECK_EQUAL(stats["auth_signup"]["num_requests"], 0);
  BOOST_CHECK_EQUAL(stats["auth_signup"]["last_error"], "");
}

// -- request-reply ----------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(auth_endpoints_encode_the_session_managers_replies) {
  start();
  auto signup = request("auth.signup", json{{"email", "ada@example.com"}, {"password", "pw"}});
  BOOST_REQUIRE(signup.ok());
  auto j = signup.json();
  BOOST_CHECK(!j.contains("error"));
  BOOST_CHECK_EQUAL(j["user"]["id"], 42);
  BOOST_CHECK_EQUAL(j["user"]["email"], "ada@example.com");
  BOOST_CHECK_EQUAL(j["user"]["created_at"], "2026-11-24T16:00:00.123456Z");
  BOOST_CHECK(is_rfc3339(j["user"]["subscription_ends_at"]));
  BOOST_CHECK(j["user"]["last_login_at"].is_null());
  BOOST_CHECK(j["user"]["slice_id"].is_null());
  BOOST_CHECK(!j["user"].contains("password_hash"));
  BOOST_CHECK(signup.body.find("cus_secret") == std::string::npos);
  BOOST_CHECK_EQUAL(j["session"]["id"], std::string(64, 'a'));
  BOOST_CHECK(is_rfc3339(j["session"]["expires_at"]));
  BOOST_CHECK(j["slice"].is_null());
  BOOST_CHECK_EQUAL(j["waiting_position"], 2);

  auto login = request("auth.login", json{{"email", "ada@example.com"}, {"password", "pw"}});
  j = login.json();
  BOOST_CHECK(is_rfc3339(j["user"]["last_login_at"]));
  BOOST_CHECK(!j.contains("waiting_position"));
  BOOST_CHECK(j.contains("slice"));

  auto token = std::string(64, 'a');
  BOOST_CHECK_EQUAL(request("auth.logout", json{{"session_id", token}}).json(),
                    (json{{"revoked", true}}));
  BOOST_CHECK_EQUAL(request("auth.logout", json{{"session_id", "other"}}).json(),
                    (json{{"revoked", false}}));
  BOOST_CHECK_EQUAL(request("auth.logout_all", json{{"session_id", token}}).json(),
                    (json{{"revoked", 3}}));
  BOOST_CHECK_EQUAL(
    request("auth.password",
            json{{"session_id", token}, {"old_password", "a"}, {"new_password", "b"}})
      .json(),
    (json{{"revoked_sessions", 2}}));
  j = request("session.resolve", json{{"session_id", token}}).json();
  BOOST_CHECK_EQUAL(j["slice"], (json{{"id", 7}, {"port", 5013}, {"status", "assigned"}}));
  BOOST_CHECK_EQUAL(j["user"]["slice_id"], 7);
}

BOOST_AUTO_TEST_CASE(domain_errors_become_codes_bodies_and_headers) {
  start();
  check_error(request("auth.login", json{{"email", "a@b.c"}, {"password", "wrong"}}), 401,
              "invalid_credentials");
  check_error(request("session.resolve", json{{"session_id", "expired"}}), 401, "unauthorized");
  auto limited
    = request("auth.login", json{{"email", "limited@example.com"}, {"password", "x"}});
  check_error(limited, 429, "rate_limited");
  BOOST_CHECK_EQUAL(limited.json()["error"]["retry_after"], 42);
  // The session manager never answers: the bridge's request timeout (1 s here) says 503.
  auto started = std::chrono::steady_clock::now();
  auto slow = request("auth.login", json{{"email", "slow@example.com"}, {"password", "x"}});
  check_error(slow, 503, "unavailable");
  BOOST_CHECK(std::chrono::steady_clock::now() - started < 3s);
}

BOOST_AUTO_TEST_CASE(malformed_requests_get_400_and_leave_the_bridge_unharmed) {
  start();
  std::string deep(3000, '[');
  std::vector<std::pair<std::string, std::string>> bodies{
    {"empty", ""},
    {"not JSON", "hello"},
    {"truncated", R"({"email":"a@b.c")"},
    {"array", "[]"},
    {"missing field", R"({"email":"a@b.c"})"},
    {"wrong type", R"({"email":1,"password":"x"})"},
    {"null field", R"({"email":null,"password":"x"})"},
    {"long string", json{{"email", std::string(300, 'a')}, {"password", "x"}}.dump()},
    {"invalid UTF-8", "{\"email\":\"\xc3\x28\",\"password\":\"x\"}"},
    {"raw NUL", std::string("{\"email\":\"a\0b\",\"password\":\"x\"}", 31)},
    {"escaped NUL", R"({"email":"a@b.c","password":"x\u0000y"})"},
    {"newline in e-mail", R"({"email":"a\r\nb","password":"x"})"},
    {"deep nesting", deep},
    {"huge number", R"({"email":1e999,"password":"x"})"},
    {"too large", json{{"email", "a@b.c"}, {"password", std::string(5000, 'p')}}.dump()},
    {"far too large", std::string(900 * 1024, ' ')},
  };
  for (auto& [what, body] : bodies) {
    BOOST_TEST_CONTEXT(what) {
      auto r = request("auth.login", body);
      check_error(r, 400, "invalid_request");
    }
  }
  auto too_large = request("auth.login", std::string(5000, ' '));
  BOOST_CHECK(too_large.json()["error"]["message"].get<std::string>().find("too large")
              != std::string::npos);
  // Header values stay on one line whatever the message.
  for (auto& [key, value] : too_large.headers)
    BOOST_CHECK(value.find_first_of("\r\n") == std::string::npos);
  // Published (not requested) garbage is ignored.
  client->publish(subject("auth.login"), "garbage");
  BOOST_CHECK(request("ping", std::string{}).ok());
  BOOST_CHECK(request("auth.login", json{{"email", "a@b.c"}, {"password", "fine"}}).ok());
}

BOOST_AUTO_TEST_CASE(unknown_subjects_under_the_prefix_get_404) {
  start();
  for (auto suffix : {"auth.nope", "auth.login.extra", "session.nope", "admin.users.nope",
                      "admin.slices.nope", "admin.overview.extra"})
    BOOST_TEST_CONTEXT(suffix) {
      check_error(request(suffix, std::string{"{}"}), 404, "not_found");
    }
  // Each request reached one subscription only: the catch-all and the endpoint share a queue.
  for (int i = 0; i < 20; ++i)
    request("auth.logout_all", json{{"session_id", "s"}});
  auto j = client->request("$SRV.STATS.slicegate", std::string{}).json();
  for (auto& e : j["endpoints"])
    if (e["name"] == "auth_logout_all")
      BOOST_CHECK_EQUAL(e["num_requests"], 20);
}

BOOST_AUTO_TEST_CASE(endpoints_without_their_actor_answer_503) {
  start(bridge_targets{});
  check_error(request("auth.login", json{{"email", "a@b.c"}, {"password", "x"}}), 503,
              "unavailable");
  BOOST_CHECK(request("ping", std::string{"{}"}).ok());
}

// -- events out -------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(events_appear_as_json_on_their_subjects) {
  start();
  client->subscribe(prefix + ".>");
  auto sink = bridge->events();
  auto t = fixed_time();
  caf::anon_send(sink, events::slice_status_changed{7, t, slice_status::available,
                                                    slice_status::assigned, 42, "assign"});
  slice_record slice;
  slice.id = 7;
  slice.port = 5013;
  slice.status = slice_status::assigned;
  caf::anon_send(sink, events::user_slice_changed{42, t, slice});
  events::slice_health health;
  health.sample = telemetry_sample{7, t, int64_t{2048}, "CONNECTED", 1.5, int64_t{4096}};
  health.healthy = true;
  health.wa_connected = true;
  caf::anon_send(sink, health);
  caf::anon_send(sink,
                 events::slice_alert{7, t, events::alert_kind::restarted, "3 failed probes"});
  caf::anon_send(sink,
                 events::event_rejected{subject("events.signup"), std::string{"e1"}, "bad"});
  server_sample row;
  row.at = t;
  row.total_slices = 9;
  caf::anon_send(sink, events::server_telemetry{row});
  auto got = client->wait_for(6);
  BOOST_REQUIRE_EQUAL(got.size(), 6u);
  std::map<std::string, json> by_subject;
  for (auto& m : got)
    by_subject[m.subject] = m.json();
  auto status = by_subject[subject("slice.status.7")];
  BOOST_CHECK_EQUAL(status["to"], "assigned");
  BOOST_CHECK_EQUAL(status["user_id"], 42);
  BOOST_CHECK_EQUAL(status["at"], "2026-11-24T16:00:00.123456Z");
  BOOST_CHECK_EQUAL(by_subject[subject("user.slice.42")]["slice"]["port"], 5013);
  auto h = by_subject[subject("slice.health.7")];
  BOOST_CHECK_EQUAL(h["wa_state"], "CONNECTED");
  BOOST_CHECK_EQUAL(h["disk_bytes"], 4096);
  BOOST_CHECK(h["wa_phone"].is_null());
  BOOST_CHECK_EQUAL(by_subject[subject("slice.alert.7")]["kind"], "restarted");
  BOOST_CHECK_EQUAL(by_subject[subject("events.rejected")]["event_id"], "e1");
  BOOST_CHECK_EQUAL(by_subject[subject("server.telemetry")]["total_slices"], 9);
  // Slice events are also kept for durable subscribers; rejections are not.
  BOOST_CHECK(eventually([&] {
    auto info = stream_info(bridge_cfg.slices_stream);
    return info.contains("state") && info["state"]["messages"] == 5;
  }));
}

// -- events in --------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(events_stream_keeps_inbound_kinds_but_not_rejections) {
  start();
  BOOST_REQUIRE(
    eventually([&] { return stream_info(bridge_cfg.events_stream).contains("config"); }));
  auto subjects = stream_info(bridge_cfg.events_stream)["config"]["subjects"];
  BOOST_CHECK_EQUAL(subjects, (json{subject("events.signup"), subject("events.payment")}));
}

BOOST_AUTO_TEST_CASE(signup_events_are_acked_only_after_the_handler_is_done) {
  start();
  client->js_publish(subject("events.signup"), signup_event("e1", "hold@example.com"));
  BOOST_REQUIRE(eventually([&] { return plan->held_count() == 1; }));
  // Processing: fetched, not acknowledged.
  auto info = signup_consumer();
  BOOST_CHECK_EQUAL(info["num_ack_pending"], 1);
  BOOST_CHECK_EQUAL(info["ack_floor"]["stream_seq"], 0);
  plan->release_held();
  BOOST_CHECK(eventually([&] {
    auto i = signup_consumer();
    return i["num_ack_pending"] == 0 && i["ack_floor"]["stream_seq"] == 1;
  }));
  BOOST_CHECK_EQUAL(plan->signup_events(), 1u);
}

BOOST_AUTO_TEST_CASE(signup_events_come_back_while_the_database_is_down) {
  {
    std::lock_guard<std::mutex> guard{plan->mtx};
    plan->unavailable_left = 2;
  }
  start();
  client->js_publish(subject("events.signup"), signup_event("e1", "flaky@example.com"));
  client->js_publish(subject("events.signup"), signup_event("e2", "next@example.com"));
  BOOST_REQUIRE(eventually([&] {
    auto i = signup_consumer();
    return i["num_ack_pending"] == 0 && i["ack_floor"]["stream_seq"] == 2;
  }));
  std::lock_guard<std::mutex> guard{plan->mtx};
  // Two refusals, then success; the second event waited for the first.
  std::string seen;
  for (auto& id : plan->signup_event_ids)
    seen += id + " ";
  BOOST_CHECK_EQUAL(seen, "e1 e1 e1 e2 ");
}

BOOST_AUTO_TEST_CASE(unprocessable_signup_events_are_rejected_and_acked) {
  start();
  client->subscribe(subject("events.rejected"));
  client->js_publish(subject("events.signup"), "not json");
  client->js_publish(subject("events.signup"), R"({"id":"e2","password_hash":"h"})");
  client->js_publish(subject("events.signup"), signup_event("e3", "conflict@example.com"));
  client->js_publish(subject("events.signup"), signup_event("e4", "fine@example.com"));
  auto got = client->wait_for(3);
  BOOST_REQUIRE_EQUAL(got.size(), 3u);
  auto first = got[0].json();
  BOOST_CHECK_EQUAL(first["subject"], subject("events.signup"));
  BOOST_CHECK(!first.contains("event_id"));
  BOOST_CHECK(first["reason"].get<std::string>().find("not JSON") != std::string::npos);
  auto second = got[1].json();
  BOOST_CHECK_EQUAL(second["event_id"], "e2");
  BOOST_CHECK_EQUAL(second["reason"], "missing field 'email'");
  auto third = got[2].json();
  BOOST_CHECK_EQUAL(third["event_id"], "e3");
  BOOST_CHECK(third["reason"].get<std::string>().find("conflict") != std::string::npos);
  BOOST_CHECK(eventually([&] {
    auto i = signup_consumer();
    return i["num_ack_pending"] == 0 && i["num_pending"] == 0
           && i["ack_floor"]["stream_seq"] == 4;
  }));
  BOOST_CHECK_EQUAL(plan->signup_events(), 2u); // e3 and e4 reached the session manager
  auto stats = client->request("$SRV.STATS.slicegate", std::string{}).json()["metadata"];
  BOOST_CHECK_EQUAL(stats["consumer_slicegate_signup_rejected"], "3");
  BOOST_CHECK_EQUAL(stats["consumer_slicegate_signup_done"], "1");
  // Each was kept, with its body, before it was acknowledged; the notice names the copy.
  std::lock_guard<std::mutex> guard{plan->mtx};
  BOOST_REQUIRE_EQUAL(plan->dead_letters.size(), 3u);
  auto& kept = plan->dead_letters[0];
  BOOST_CHECK_EQUAL(std::string(kept.payload.begin(), kept.payload.end()), "not json");
  BOOST_CHECK_EQUAL(kept.subject, subject("events.signup"));
  BOOST_CHECK(kept.stream_sequence == int64_t{1});
  BOOST_CHECK_EQUAL(plan->dead_letters[1].event_id.value_or(""), "e2");
  BOOST_CHECK_EQUAL(first["dead_letter_id"], 1);
  BOOST_CHECK_EQUAL(third["dead_letter_id"], 3);
}

BOOST_AUTO_TEST_CASE(a_rejected_event_that_cannot_be_kept_is_not_acknowledged) {
  {
    std::lock_guard<std::mutex> guard{plan->mtx};
    plan->dead_letter_failures = 2;
  }
  start();
  client->subscribe(subject("events.rejected"));
  client->js_publish(subject("events.signup"), "not json");
  client->js_publish(subject("events.signup"), signup_event("e2", "after@example.com"));
  // Two failed attempts to keep it, 200 ms apart, then kept; the next event waited.
  auto got = client->wait_for(1);
  BOOST_REQUIRE_EQUAL(got.size(), 1u);
  BOOST_CHECK(eventually([&] { return plan->signup_events() == 1; }));
  BOOST_CHECK_EQUAL(plan->dead_letter_count(), 1u);
  auto stats = client->request("$SRV.STATS.slicegate", std::string{}).json()["metadata"];
  BOOST_CHECK_EQUAL(stats["consumer_slicegate_signup_retried"], "2");
  BOOST_CHECK_EQUAL(stats["consumer_slicegate_signup_rejected"], "1");
  BOOST_CHECK(eventually([&] {
    auto i = signup_consumer();
    return i["num_ack_pending"] == 0 && i["ack_floor"]["stream_seq"] == 2;
  }));
}

BOOST_AUTO_TEST_CASE(a_rejected_event_waits_while_persistence_is_not_running) {
  start(bridge_targets{sessions, {}, {}, {}});
  client->subscribe(subject("events.rejected"));
  client->js_publish(subject("events.signup"), "not json");
  std::this_thread::sleep_for(1s);
  // Never acknowledged nor reported: it waits in the stream for a store.
  BOOST_CHECK_EQUAL(client->messages().size(), 0u);
  BOOST_CHECK_EQUAL(signup_consumer()["ack_floor"]["stream_seq"], 0);
}

BOOST_AUTO_TEST_CASE(a_consumer_without_its_actor_leaves_events_in_the_stream) {
  start(bridge_targets{});
  client->js_publish(subject("events.signup"), signup_event("e1", "a@example.com"));
  std::this_thread::sleep_for(500ms);
  BOOST_CHECK(signup_consumer().contains("error")); // never created
  BOOST_CHECK_EQUAL(stream_info(bridge_cfg.events_stream)["state"]["messages"], 1);
}

// -- supervision ------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_killed_consumer_is_restarted_and_its_event_processed_once) {
  // Short, so that JetStream redelivers the event the killed consumer held soon.
  bridge_cfg.event_ack_wait = 2s;
  // One at a time: the killed consumer holds e1 alone, and e2 waits in the stream.
  bridge_cfg.event_batch = 1;
  start();
  client->js_publish(subject("events.signup"), signup_event("e1", "hold-once@example.com"));
  client->js_publish(subject("events.signup"), signup_event("e2", "next@example.com"));
  BOOST_REQUIRE(eventually([&] { return plan->held_count() == 1; }));
  auto first = signup_consumer_actor();
  BOOST_REQUIRE(first);
  // The consumer holds e1: its target has it and has not committed.
  caf::anon_send_exit(first, caf::exit_reason::kill);
  BOOST_REQUIRE(eventually([&] {
    auto now = signup_consumer_actor();
    return now && now != first;
  }));
  BOOST_CHECK_EQUAL(stats()["consumer_slicegate_signup_restarts"], "1");
  // The successor gets e1 again once its ack wait has passed, and e2 only after it.
  BOOST_REQUIRE(eventually(
    [&] {
      auto i = signup_consumer();
      return i["num_ack_pending"] == 0 && i["ack_floor"]["stream_seq"] == 2;
    },
    15s));
  BOOST_CHECK_EQUAL(plan->signup_log(), "e1 e1 e2 ");
  BOOST_CHECK_EQUAL(plan->commit_log(), "e1 e2 ");
  auto m = stats();
  BOOST_CHECK_EQUAL(m["consumer_slicegate_signup_received"], "3");
  BOOST_CHECK_EQUAL(m["consumer_slicegate_signup_done"], "2");
  BOOST_CHECK_EQUAL(m["consumer_slicegate_signup_restarts"], "1");
}

BOOST_AUTO_TEST_CASE(the_bridge_fails_when_its_consumers_fail_too_often) {
  bridge_cfg.consumer_max_restarts = 1;
  start();
  caf::scoped_actor self{sys};
  self->monitor(bridge->actor());
  auto first = signup_consumer_actor();
  BOOST_REQUIRE(first);
  caf::anon_send_exit(first, caf::exit_reason::kill);
  caf::actor second;
  BOOST_REQUIRE(eventually([&] {
    second = signup_consumer_actor();
    return second && second != first;
  }));
  caf::anon_send_exit(second, caf::exit_reason::kill);
  caf::error reason;
  bool down = false;
  self->receive(
    [&](caf::down_msg& dm) {
      down = true;
      reason = dm.reason;
    },
    caf::after(5s) >> [] {});
  BOOST_REQUIRE(down);
  BOOST_CHECK(reason);
  BOOST_CHECK_MESSAGE(message_of(reason).find("slicegate_signup") != std::string::npos,
                      message_of(reason));
}

BOOST_AUTO_TEST_CASE(a_component_marked_down_answers_503_at_once_and_is_listed) {
  start();
  auto login = json{{"email", "a@b.c"}, {"password", "x"}};
  BOOST_CHECK_EQUAL(stats()["components_down"], "");
  caf::anon_send(bridge->handle(), bus::component_state{bus::component::sessions, false});
  auto asked = std::chrono::steady_clock::now();
  check_error(request("auth.login", login), 503, "unavailable");
  // At once: not after the request timeout (1 s here).
  BOOST_CHECK(std::chrono::steady_clock::now() - asked < 500ms);
  BOOST_CHECK_EQUAL(stats()["components_down"], "sessions");
  // Its consumer pauses (after the fetch it may be in): a signup event waits in the stream.
  std::this_thread::sleep_for(600ms);
  client->js_publish(subject("events.signup"), signup_event("e1", "a@example.com"));
  std::this_thread::sleep_for(600ms);
  BOOST_CHECK_EQUAL(plan->signup_events(), 0u);
  caf::anon_send(bridge->handle(), bus::component_state{bus::component::billing, false});
  caf::anon_send(bridge->handle(), bus::component_state{"no such thing", false});
  BOOST_CHECK_EQUAL(stats()["components_down"], "billing,sessions");
  caf::anon_send(bridge->handle(), bus::component_state{bus::component::sessions, true});
  BOOST_CHECK(request("auth.login", login).ok());
  BOOST_CHECK(eventually([&] { return plan->signup_events() == 1; }));
  BOOST_CHECK_EQUAL(stats()["components_down"], "billing");
}

BOOST_AUTO_TEST_CASE(drain_returns_once_the_requests_in_flight_are_answered) {
  // Far longer than the test waits: an answer, not the request timeout, ends the drain.
  bridge_cfg.request_timeout = 4s;
  start();
  test::reply held;
  std::thread requester{[&] {
    test::nats_client other{servers.nats_url()};
    held = other.request(subject("auth.login"),
                         json{{"email", "held@example.com"}, {"password", "x"}}, 5s);
  }};
  BOOST_REQUIRE(eventually([&] { return plan->held_login_count() == 1; }));
  std::thread releaser{[&] {
    std::this_thread::sleep_for(300ms);
    plan->release_logins();
  }};
  auto began = std::chrono::steady_clock::now();
  bridge->drain(5s);
  auto took = std::chrono::steady_clock::now() - began;
  releaser.join();
  requester.join();
  BOOST_TEST_MESSAGE("drain took "
                     << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                     << " ms");
  BOOST_CHECK_MESSAGE(held.ok(), held.status);
  BOOST_CHECK_EQUAL(held.json()["user"]["email"], "held@example.com");
  BOOST_CHECK(took >= 250ms);
  BOOST_CHECK(took < 2500ms);
}

BOOST_AUTO_TEST_CASE(drain_lets_the_consumer_settle_the_event_at_hand) {
  start();
  client->js_publish(subject("events.signup"), signup_event("e1", "hold@example.com"));
  BOOST_REQUIRE(eventually([&] { return plan->held_count() == 1; }));
  std::thread releaser{[&] {
    std::this_thread::sleep_for(300ms);
    plan->release_held();
  }};
  auto began = std::chrono::steady_clock::now();
  bridge->drain(5s);
  auto took = std::chrono::steady_clock::now() - began;
  releaser.join();
  BOOST_CHECK(took >= 250ms);
  BOOST_CHECK(took < 2500ms);
  // Acknowledged before the connections closed.
  BOOST_CHECK(eventually([&] {
    auto i = signup_consumer();
    return i["num_ack_pending"] == 0 && i["ack_floor"]["stream_seq"] == 1;
  }));
}

// -- slicectl ---------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(slicectl_discovers_the_bridge_and_uses_sessions) {
  start();
  // No session from the caller's environment may leak in.
  auto cli = "env -u SLICEGATE_SESSION " + test::slicectl_binary() + " --nats-url "
             + servers.nats_url() + " --subject-prefix " + prefix;
  auto ping = test::capture(cli + " ping");
  BOOST_CHECK_MESSAGE(ping.find(bridge->service_id()) != std::string::npos, ping);
  auto info = test::capture(cli + " info");
  BOOST_CHECK_MESSAGE(info.find(subject("auth.login")) != std::string::npos, info);
  auto stats = json::parse(test::capture(cli + " --json stats"), nullptr, false);
  BOOST_REQUIRE(stats.is_array() && stats.size() == 1);
  BOOST_CHECK_EQUAL(stats[0]["type"], "io.nats.micro.v1.stats_response");
  BOOST_CHECK(test::capture(cli + " stats").find("auth_login") != std::string::npos);

  auto token = test::capture("echo secret | " + cli + " login --email ada@example.com");
  BOOST_CHECK_EQUAL(token, std::string(64, 'a') + "\n");
  auto whoami = test::capture(cli + " --session " + std::string(64, 'a') + " whoami");
  BOOST_CHECK_MESSAGE(whoami.find("ada@example.com") != std::string::npos, whoami);
  BOOST_CHECK_MESSAGE(whoami.find("5013") != std::string::npos, whoami);

  // Exit codes: 1 for an error reply, 2 for transport trouble, 64 for usage.
  BOOST_CHECK_EQUAL(
    test::run("echo wrong | " + cli + " login --email ada@example.com 2>/dev/null"), 1);
  BOOST_CHECK_EQUAL(test::run(cli + " --session expired whoami 2>/dev/null"), 1);
  BOOST_CHECK_EQUAL(
    test::run(test::slicectl_binary()
              + " --nats-url nats://127.0.0.1:1 --timeout 500ms ping 2>/dev/null"),
    2);
  BOOST_CHECK_EQUAL(test::run(cli + " --service-name nobody --timeout 300ms ping 2>/dev/null"),
                    2);
  BOOST_CHECK_EQUAL(test::run(cli + " whoami 2>/dev/null"), 64);
  BOOST_CHECK_EQUAL(test::run(cli + " frobnicate >/dev/null 2>&1"), 64);
}

// -- recovery ---------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(the_bridge_serves_again_after_nats_restarts) {
  start();
  BOOST_REQUIRE(request("ping", std::string{}).ok());
  BOOST_REQUIRE(eventually([&] { return signup_consumer().contains("config"); }));
  servers.kill_nats();
  servers.start_nats();
  auto back = std::chrono::steady_clock::now();
  BOOST_CHECK(eventually(
    [&] { return client->request(subject("ping"), std::string{}, 500ms).ok(); }, 10s));
  BOOST_TEST_MESSAGE("ping answered " << std::chrono::duration_cast<std::chrono::milliseconds>(
                                           std::chrono::steady_clock::now() - back)
                                           .count()
                                      << " ms after nats-server was back");
  BOOST_CHECK(request("auth.login", json{{"email", "a@b.c"}, {"password", "x"}}).ok());
  // The durable consumer goes on where it was.
  BOOST_CHECK(eventually(
    [&] {
      try {
        client->js_publish(subject("events.signup"), signup_event("after", "a@example.com"));
        return true;
      } catch (const std::exception&) {
        return false;
      }
    },
    10s));
  BOOST_CHECK(eventually([&] { return plan->signup_events() == 1; }, 15s));
  auto stats = client->request("$SRV.STATS.slicegate", std::string{}).json()["metadata"];
  BOOST_CHECK_NE(stats["nats_reconnects"], "0");
}

BOOST_AUTO_TEST_CASE(the_bridge_starts_while_nats_is_down) {
  servers.kill_nats();
  // No server: the start succeeds all the same, and the bridge connects once there is one.
  auto started = start_bridge(sys, bridge_cfg, bridge_targets{sessions, {}, {}, {}});
  BOOST_REQUIRE_MESSAGE(started, (started ? "" : message_of(started.error())));
  bridge = std::move(*started);
  caf::anon_send(bridge->events(),
                 events::slice_alert{7, fixed_time(), events::alert_kind::unhealthy, "down"});
  servers.start_nats();
  BOOST_CHECK(eventually(
    [&] { return client->request(subject("ping"), std::string{}, 500ms).ok(); }, 10s));
  BOOST_REQUIRE(eventually([&] {
    return stream_info(bridge_cfg.events_stream).contains("config")
           && stream_info(bridge_cfg.slices_stream).contains("config");
  }));
  client->js_publish(subject("events.signup"), signup_event("late", "a@example.com"));
  BOOST_CHECK(eventually([&] { return plan->signup_events() == 1; }));
}

BOOST_AUTO_TEST_SUITE_END()
