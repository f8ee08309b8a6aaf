#define BOOST_TEST_MODULE codec
#include "bridge/codec.hpp"

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include <boost/test/unit_test.hpp>
#include <caf/sec.hpp>

#include "messages/error.hpp"

using namespace slicegate;
using namespace std::chrono_literals;
using codec::json;

namespace {

timestamp at(const std::string& text) {
  auto t = codec::parse_time(text);
  BOOST_REQUIRE_MESSAGE(t, "cannot parse " << text);
  return *t;
}

/// The message of an `ec::invalid_request` failure; fails the test for anything else.
template <class T>
std::string failure_of(const caf::expected<T>& x) {
  BOOST_REQUIRE(!x);
  BOOST_CHECK(code_of(x.error()) == ec::invalid_request);
  return message_of(x.error());
}

template <class T>
void check_round_trip(const T& x) {
  auto decoded = codec::decode<T>(codec::dump(codec::to_json(x)));
  BOOST_REQUIRE_MESSAGE(decoded, (decoded ? "" : message_of(decoded.error())));
  BOOST_CHECK(*decoded == x);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::vector<std::string> keys(const json& object) {
  std::vector<std::string> result;
  for (auto& [key, value] : object.items())
    result.push_back(key);
  std::sort(result.begin(), result.end());
  return result;
}

user_record sample_user() {
  user_record u;
  u.id = 42;
  u.email = "ada@example.com";
  u.is_admin = true;
  u.subscription_status = subscription::trial;
  u.subscription_ends_at = at("2026-12-08T16:00:00.5Z");
  u.slice_id = 7;
  u.stripe_customer = std::string{"cus_123"};
  u.subscription_id = std::string{"sub_123"};
  u.created_at = at("2026-11-24T16:00:00.123456Z");
  return u;
}

slice_record sample_slice() {
  slice_record s;
  s.id = 7;
  s.port = 5013;
  s.status = slice_status::assigned;
  s.user_id = 42;
  s.wa_phone = std::string{"+15551234567"};
  return s;
}

} // namespace

// -- time -------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(times_are_rfc3339_utc_with_microseconds) {
  BOOST_CHECK_EQUAL(codec::format_time(timestamp{}), "1970-01-01T00:00:00.000000Z");
  BOOST_CHECK_EQUAL(codec::format_time(at("2026-11-24T16:00:00.123456Z")),
                    "2026-11-24T16:00:00.123456Z");
  // Nanoseconds are cut to microseconds, as PostgreSQL keeps them.
  BOOST_CHECK_EQUAL(codec::format_time(at("2026-11-24T16:00:00.123456789Z")),
                    "2026-11-24T16:00:00.123456Z");
  BOOST_CHECK_EQUAL(codec::format_time(timestamp{} - 500ms), "1969-12-31T23:59:59.500000Z");
}

BOOST_AUTO_TEST_CASE(times_round_trip_and_honour_offsets) {
  auto t = timestamp{} + std::chrono::seconds{1795622400} + 123456us;
  BOOST_CHECK(at(codec::format_time(t)) == t);
  BOOST_CHECK(at("2026-11-24T17:30:00+01:30") == at("2026-11-24T16:00:00Z"));
  BOOST_CHECK(at("2026-11-24T14:00:00-02:00") == at("2026-11-24T16:00:00z"));
  BOOST_CHECK(at("2026-11-24t16:00:00Z") == at("2026-11-24T16:00:00.000Z"));
}

BOOST_AUTO_TEST_CASE(malformed_times_are_refused) {
  for (auto text :
       {"", "2026-11-24", "2026-11-24T16:00:00", "2026-11-24 16:00:00Z", "2026-13-01T00:00:00Z",
        "2026-11-32T00:00:00Z", "2026-11-24T24:00:00Z", "2026-11-24T16:00:00.Z",
        "2026-11-24T16:00:00.1234567890Z", "2026-11-24T16:00:00Zjunk",
        "2026-11-24T16:00:00+0100", "x026-11-24T16:00:00Z"})
    BOOST_CHECK_MESSAGE(!codec::parse_time(text), "accepted " << text);
}

// -- round trips ------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(requests_round_trip) {
  check_round_trip(auth::signup{"ada@example.com", "correct horse"});
  check_round_trip(auth::login{"ada@example.com", "p\xC3\xA4ss\nword \"quoted\""});
  check_round_trip(auth::logout{std::string(64, 'a')});
  check_round_trip(auth::logout_all{std::string(64, 'b')});
  check_round_trip(auth::change_password{std::string(64, 'c'), "old", "new"});
  check_round_trip(auth::resolve{std::string(64, 'd')});
  check_round_trip(auth::signup_event{"evt-1", "ada@example.com", "$2b$12$abc", {}});
  check_round_trip(
    auth::signup_event{"evt-2", "bob@example.com", "$2b$12$def", std::string{"cus_9"}});
}

BOOST_AUTO_TEST_CASE(null_optional_fields_read_as_absent) {
  auto x = codec::decode<auth::signup_event>(
    R"({"id":"e","email":"a@b.c","password_hash":"h","stripe_customer":null,"extra":1})");
  BOOST_REQUIRE(x);
  BOOST_CHECK(!x->stripe_customer);
}

// -- typed errors -----------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(bodies_that_are_not_json_objects_are_refused) {
  BOOST_CHECK(contains(failure_of(codec::decode<auth::login>("")), "empty body"));
  BOOST_CHECK(contains(failure_of(codec::decode<auth::login>("{")), "not JSON"));
  BOOST_CHECK(contains(failure_of(codec::decode<auth::login>("hello")), "not JSON"));
  // Invalid UTF-8 inside a string is a syntax error too.
  BOOST_CHECK(
    contains(failure_of(codec::decode<auth::login>("{\"email\":\"\xff\"}")), "not JSON"));
  BOOST_CHECK(contains(failure_of(codec::decode<auth::login>("[1,2]")), "got array"));
  BOOST_CHECK(contains(failure_of(codec::decode<auth::login>("\"x\"")), "got string"));
  BOOST_CHECK(contains(failure_of(codec::decode<auth::login>("42")), "got number"));
  BOOST_CHECK(contains(failure_of(codec::decode<auth::login>("null")), "got null"));
}

BOOST_AUTO_TEST_CASE(a_syntax_error_names_the_position_not_the_input) {
  auto message = failure_of(codec::decode<auth::login>("{\"email\": \r\nSECRET"));
  BOOST_CHECK(contains(message, "byte"));
  BOOST_CHECK(!contains(message, "SECRET"));
  BOOST_CHECK(!contains(message, "\n"));
}

BOOST_AUTO_TEST_CASE(missing_fields_are_named) {
  BOOST_CHECK_EQUAL(failure_of(codec::decode<auth::login>(R"({"password":"x"})")),
                    "missing field 'email'");
  BOOST_CHECK_EQUAL(failure_of(codec::decode<auth::login>(R"({"email":"a@b.c"})")),
                    "missing field 'password'");
  BOOST_CHECK_EQUAL(failure_of(codec::decode<auth::logout>("{}")),
                    "missing field 'session_id'");
  // null is absence.
  BOOST_CHECK_EQUAL(failure_of(codec::decode<auth::resolve>(R"({"session_id":null})")),
                    "missing field 'session_id'");
  BOOST_CHECK_EQUAL(failure_of(codec::decode<auth::signup_event>(R"({"id":"e"})")),
                    "missing field 'email'");
}

BOOST_AUTO_TEST_CASE(wrong_types_are_named) {
  BOOST_CHECK_EQUAL(failure_of(codec::decode<auth::login>(R"({"email":1,"password":"x"})")),
                    "field 'email': expected a string, got number");
  BOOST_CHECK_EQUAL(
    failure_of(codec::decode<auth::login>(R"({"email":"a@b.c","password":["x"]})")),
    "field 'password': expected a string, got array");
  BOOST_CHECK_EQUAL(failure_of(codec::decode<auth::change_password>(
                      R"({"session_id":"s","old_password":"o","new_password":{}})")),
                    "field 'new_password': expected a string, got object");
  BOOST_CHECK_EQUAL(failure_of(codec::decode<auth::signup_event>(
                      R"({"id":"e","email":"a@b.c","password_hash":"h","stripe_customer":7})")),
                    "field 'stripe_customer': expected a string, got number");
}

BOOST_AUTO_TEST_CASE(long_strings_are_refused) {
  json j{{"email", std::string(codec::limits::email, 'a')}, {"password", "x"}};
  BOOST_CHECK(codec::from_json<auth::login>(j));
  j["email"] = std::string(codec::limits::email + 1, 'a');
  BOOST_CHECK_EQUAL(failure_of(codec::from_json<auth::login>(j)),
                    "field 'email' is longer than 254 bytes");
  j = {{"session_id", std::string(codec::limits::token + 1, 'f')}};
  BOOST_CHECK(contains(failure_of(codec::from_json<auth::resolve>(j)), "session_id"));
}

BOOST_AUTO_TEST_CASE(control_characters_are_refused_where_they_have_no_place) {
  json j{{"email", "a\nb@example.com"}, {"password", "x"}};
  BOOST_CHECK_EQUAL(failure_of(codec::from_json<auth::login>(j)),
                    "field 'email' contains a control character");
  // A NUL would cut the password short where bcrypt reads it.
  j = {{"email", "a@b.c"}, {"password", std::string("abc\0def", 7)}};
  BOOST_CHECK_EQUAL(failure_of(codec::from_json<auth::login>(j)),
                    "field 'password' contains a control character");
  // Other control characters are a password's own business.
  j = {{"email", "a@b.c"}, {"password", "tab\there"}};
  BOOST_CHECK(codec::from_json<auth::login>(j));
}

BOOST_AUTO_TEST_CASE(field_reader_checks_numbers_booleans_times_and_objects) {
  auto j = json::parse(R"({"n": 5, "f": 1.5, "big": 18446744073709551615, "neg": -3,
                           "b": true, "t": "2026-11-24T16:00:00Z", "bad_t": "yesterday",
                           "o": {"customer": 1}, "s": "x"})");
  int64_t n = 0;
  BOOST_CHECK(!codec::fields{j}.integer("n", n, 0, 10).error());
  BOOST_CHECK_EQUAL(n, 5);
  auto message = [](const codec::fields& f) {
    return message_of(f.error());
  };
  {
    codec::fields f{j};
    f.integer("n", n, 6, 10);
    BOOST_CHECK_EQUAL(message(f), "field 'n' is out of range [6, 10]");
  }
  {
    codec::fields f{j};
    f.integer("f", n, 0, 10);
    BOOST_CHECK_EQUAL(message(f), "field 'f': expected an integer, got number");
  }
  {
    codec::fields f{j};
    f.integer("big", n, 0, std::numeric_limits<int64_t>::max());
    BOOST_CHECK(contains(message(f), "out of range"));
  }
  {
    codec::fields f{j};
    f.integer("neg", n, -5, 5);
    BOOST_CHECK(!f.error());
    BOOST_CHECK_EQUAL(n, -3);
  }
  bool b = false;
  BOOST_CHECK(!codec::fields{j}.boolean("b", b).error());
  BOOST_CHECK(b);
  {
    codec::fields f{j};
    f.boolean("s", b);
    BOOST_CHECK_EQUAL(message(f), "field 's': expected a boolean, got string");
  }
  timestamp t;
  BOOST_CHECK(!codec::fields{j}.time("t", t).error());
  BOOST_CHECK(t == at("2026-11-24T16:00:00Z"));
  {
    codec::fields f{j};
    f.time("bad_t", t);
    BOOST_CHECK_EQUAL(message(f), "field 'bad_t': expected an RFC 3339 time");
  }
  const json* o = nullptr;
  BOOST_CHECK(!codec::fields{j}.object("o", o).error());
  BOOST_REQUIRE(o);
  {
    // Nested readers name the full path; the first failure wins.
    codec::fields f{*o, "data.object"};
    std::string customer;
    f.text("customer", customer, 10, codec::charset::printable)
      .text("missing", customer, 10, codec::charset::printable);
    BOOST_CHECK_EQUAL(message(f),
                      "field 'data.object.customer': expected a string, got number");
  }
  {
    codec::fields f{j};
    f.object("s", o);
    BOOST_CHECK_EQUAL(message(f), "field 's': expected an object, got string");
  }
}

BOOST_AUTO_TEST_CASE(hostile_documents_do_not_crash) {
  // Deep nesting: nlohmann parses and frees iteratively.
  std::string deep(100000, '[');
  deep += std::string(100000, ']');
  BOOST_CHECK(contains(failure_of(codec::decode<auth::login>(deep)), "got array"));
  auto nested = R"({"email":)" + deep + R"(,"password":"x"})";
  BOOST_CHECK(contains(failure_of(codec::decode<auth::login>(nested)), "got array"));
  BOOST_CHECK(
    contains(failure_of(codec::decode<auth::login>(std::string(100000, '{'))), "not JSON"));
  BOOST_CHECK(
    contains(failure_of(codec::decode<auth::login>(R"({"email":1e999999})")), "not JSON"));
  BOOST_CHECK(failure_of(codec::decode<auth::login>(std::string("{\0}", 3))).size() > 0);
  // Duplicate keys: the last one counts, the shape is still checked.
  auto x = codec::decode<auth::login>(R"({"email":1,"email":"a@b.c","password":"p"})");
  BOOST_REQUIRE(x);
  BOOST_CHECK_EQUAL(x->email, "a@b.c");
}

// -- encoding ---------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(users_are_encoded_without_secrets) {
  auto j = codec::to_json(sample_user());
  BOOST_CHECK(
    (keys(j)
     == std::vector<std::string>{"created_at", "email", "id", "is_admin", "last_login_at",
                                 "slice_id", "subscription_ends_at", "subscription_status"}));
  BOOST_CHECK_EQUAL(j["id"], 42);
  BOOST_CHECK_EQUAL(j["subscription_ends_at"], "2026-12-08T16:00:00.500000Z");
  BOOST_CHECK_EQUAL(j["created_at"], "2026-11-24T16:00:00.123456Z");
  BOOST_CHECK(j["last_login_at"].is_null());
  BOOST_CHECK_EQUAL(j["slice_id"], 7);
  BOOST_CHECK(!contains(codec::dump(j), "cus_123"));
}

BOOST_AUTO_TEST_CASE(session_replies_have_user_session_and_slice) {
  auth::signed_in x{
    sample_user(), std::string(64, 'e'), at("2026-12-24T16:00:00Z"), sample_slice(), {}};
  auto login = codec::session_reply(x, false);
  BOOST_CHECK((keys(login) == std::vector<std::string>{"session", "slice", "user"}));
  BOOST_CHECK_EQUAL(login["session"]["id"], std::string(64, 'e'));
  BOOST_CHECK_EQUAL(login["session"]["expires_at"], "2026-12-24T16:00:00.000000Z");
  BOOST_CHECK_EQUAL(login["slice"], (json{{"id", 7}, {"port", 5013}, {"status", "assigned"}}));
  x.slice = {};
  x.waiting_position = 3;
  auto signup = codec::session_reply(x, true);
  BOOST_CHECK(signup["slice"].is_null());
  BOOST_CHECK_EQUAL(signup["waiting_position"], 3);
  x.waiting_position = {};
  BOOST_CHECK(codec::session_reply(x, true)["waiting_position"].is_null());
}

BOOST_AUTO_TEST_CASE(events_are_encoded_as_the_contract_says) {
  auto t = at("2026-11-24T16:00:00Z");
  auto status = codec::to_json(events::slice_status_changed{
    7, t, slice_status::available, slice_status::assigned, 42, "assign"});
  BOOST_CHECK_EQUAL(status, (json{{"slice_id", 7},
                                  {"at", "2026-11-24T16:00:00.000000Z"},
                                  {"from", "available"},
                                  {"to", "assigned"},
                                  {"user_id", 42},
                                  {"reason", "assign"}}));
  auto lost = codec::to_json(events::user_slice_changed{42, t, {}});
  BOOST_CHECK(lost["slice"].is_null());
  events::slice_health health;
  health.sample = telemetry_sample{7, t, int64_t{1024}, "CONNECTED", 12.5, {}};
  health.healthy = true;
  health.wa_connected = true;
  health.wa_phone = std::string{"+1555\xff"}; // a slice may report anything
  auto h = codec::to_json(health);
  BOOST_CHECK(
    (keys(h)
     == std::vector<std::string>{"at", "cpu_percent", "disk_bytes", "healthy", "rss_bytes",
                                 "slice_id", "wa_connected", "wa_phone", "wa_state"}));
  BOOST_CHECK(h["disk_bytes"].is_null());
  BOOST_CHECK_EQUAL(h["rss_bytes"], 1024);
  BOOST_CHECK_NO_THROW(codec::dump(h));
  BOOST_CHECK(contains(codec::dump(h), "\xEF\xBF\xBD")); // U+FFFD
  auto alert = codec::to_json(
    events::slice_alert{7, t, events::alert_kind::unhealthy, "3 failed probes"});
  BOOST_CHECK((keys(alert) == std::vector<std::string>{"at", "detail", "kind", "slice_id"}));
  auto rejected = codec::to_json(events::event_rejected{"gateway.events.signup", {}, "bad"});
  BOOST_CHECK((keys(rejected) == std::vector<std::string>{"reason", "subject"}));
  rejected = codec::to_json(events::event_rejected{"s", std::string{"evt"}, "bad"});
  BOOST_CHECK_EQUAL(rejected["event_id"], "evt");
  server_sample row;
  row.at = t;
  row.active_slices = 3;
  auto server = codec::to_json(events::server_telemetry{row});
  BOOST_CHECK_EQUAL(server["timestamp"], "2026-11-24T16:00:00.000000Z");
  BOOST_CHECK_EQUAL(server["active_slices"], 3);
  BOOST_CHECK_EQUAL(server.size(), 10u);
}

BOOST_AUTO_TEST_CASE(states_have_one_spelling_each_way) {
  for (auto x : {slice_status::available, slice_status::assigned, slice_status::suspended,
                 slice_status::destroying})
    BOOST_CHECK(from_string<slice_status>(to_string(x)) == x);
  for (auto x : {subscription::trial, subscription::active, subscription::past_due,
                 subscription::cancelled})
    BOOST_CHECK(from_string<subscription>(to_string(x)) == x);
  using events::alert_kind;
  for (auto x : {alert_kind::unhealthy, alert_kind::recovered, alert_kind::wa_disconnected,
                 alert_kind::wa_connected, alert_kind::restarted, alert_kind::memory_high,
                 alert_kind::disk_high})
    BOOST_CHECK(from_string<alert_kind>(to_string(x)) == x);
  // The spellings of the contract (DESIGN.md §3, §4).
  BOOST_CHECK_EQUAL(to_string(slice_status::destroying), "destroying");
  BOOST_CHECK_EQUAL(to_string(subscription::past_due), "past_due");
  BOOST_CHECK_EQUAL(to_string(alert_kind::wa_disconnected), "wa_disconnected");
  // Nothing else reads as a state: not another case, not Stripe's spelling.
  BOOST_CHECK(!from_string<slice_status>("Assigned"));
  BOOST_CHECK(!from_string<slice_status>(""));
  BOOST_CHECK(!from_string<subscription>("canceled"));
  BOOST_CHECK(!from_string<alert_kind>("restart"));
}

BOOST_AUTO_TEST_CASE(a_state_field_reads_only_a_known_spelling) {
  optional<slice_status> status;
  json known{{"status", "suspended"}};
  codec::fields f{known};
  f.state("status", status);
  BOOST_CHECK(!f.error());
  BOOST_CHECK(status == slice_status::suspended);

  optional<slice_status> absent;
  json empty = json::object();
  codec::fields g{empty};
  g.state("status", absent);
  BOOST_CHECK(!g.error());
  BOOST_CHECK(!absent);

  for (auto body : {json{{"status", "suspendet"}}, json{{"status", 3}}}) {
    optional<slice_status> out;
    codec::fields h{body};
    h.state("status", out);
    BOOST_REQUIRE(h.error());
    BOOST_CHECK(code_of(h.error()) == ec::invalid_request);
    BOOST_CHECK_MESSAGE(message_of(h.error()).find("'status'") != std::string::npos,
                        message_of(h.error()));
    BOOST_CHECK(!out);
  }
}

BOOST_AUTO_TEST_CASE(every_domain_error_has_one_word_and_one_status) {
  const std::map<std::string_view, int> contract{
    {"invalid_request", 400}, {"password_too_long", 400},
    {"unauthorized", 401},    {"invalid_credentials", 401},
    {"forbidden", 403},       {"not_found", 404},
    {"conflict", 409},        {"rate_limited", 429},
    {"unavailable", 503},     {"internal", 500}};
  std::set<std::string> words;
  for (auto code : {ec::invalid_request, ec::password_too_long, ec::unauthorized,
                    ec::invalid_credentials, ec::forbidden, ec::not_found, ec::conflict,
                    ec::rate_limited, ec::unavailable, ec::internal}) {
    auto word = to_string(code);
    BOOST_REQUIRE_MESSAGE(contract.count(word), word);
    BOOST_CHECK_EQUAL(status_code(code), contract.at(word));
    BOOST_CHECK_MESSAGE(words.insert(word).second, word << " names two codes");
    // Each word reads back as its code.
    BOOST_CHECK(from_string<ec>(word) == code);
  }
  BOOST_CHECK(!from_string<ec>("teapot"));
  // A code no table row names (a foreign error's) is internal.
  BOOST_CHECK_EQUAL(to_string(static_cast<ec>(200)), "internal");
  BOOST_CHECK_EQUAL(status_code(static_cast<ec>(200)), 500);
  BOOST_CHECK_EQUAL(
    codec::error_body(ec::invalid_credentials, "wrong e-mail or password"),
    (json{
      {"error", {{"code", "invalid_credentials"}, {"message", "wrong e-mail or password"}}}}));
}

BOOST_AUTO_TEST_CASE(retry_after_travels_as_a_field_of_the_error) {
  auto err = make_error(ec::rate_limited, "too many failed logins", std::chrono::seconds{42});
  BOOST_CHECK(code_of(err) == ec::rate_limited);
  BOOST_CHECK_EQUAL(message_of(err), "too many failed logins");
  BOOST_REQUIRE(retry_after_of(err));
  BOOST_CHECK_EQUAL(retry_after_of(err)->count(), 42);
  // Without a wait there is none, whatever the text says: nothing is parsed out of it.
  BOOST_CHECK(!retry_after_of(make_error(ec::rate_limited, "retry after 5 s")));
  BOOST_CHECK(!retry_after_of(caf::make_error(caf::sec::request_timeout)));

  BOOST_CHECK_EQUAL(codec::error_body(ec::unauthorized, "bad session"),
                    (json{{"error", {{"code", "unauthorized"}, {"message", "bad session"}}}}));
  auto limited = codec::error_body(code_of(err), message_of(err), retry_after_of(err));
  BOOST_CHECK_EQUAL(limited, (json{{"error",
                                    {{"code", "rate_limited"},
                                     {"message", "too many failed logins"},
                                     {"retry_after", 42}}}}));
  BOOST_CHECK(
    !codec::error_body(ec::rate_limited, "retry after 5 s")["error"].contains("retry_after"));
}

// -- text_writer ------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(the_text_writer_writes_what_a_parser_reads_back) {
  codec::text_writer w;
  w.begin_object()
    .key("at")
    .value(at("2026-11-24T16:00:00.5Z"))
    .key("n")
    .value(int64_t{-42})
    .key("small")
    .value(int32_t{7})
    .key("x")
    .value(0.1)
    .key("nan")
    .value(std::numeric_limits<double>::quiet_NaN())
    .key("none")
    .value(optional<int64_t>{})
    .key("some")
    .value(optional<double>{2.5})
    .key("text")
    .value(std::string{"quote \" backslash \\ newline \n"})
    .key("list")
    .begin_array();
  for (int i = 0; i < 3; ++i)
    w.begin_object().key("i").value(i).end_object();
  w.begin_array().end_array().end_array().key("empty").begin_object().end_object().end_object();
  auto j = json::parse(w.text());
  BOOST_CHECK_EQUAL(j["at"], "2026-11-24T16:00:00.500000Z");
  BOOST_CHECK_EQUAL(j["n"], -42);
  BOOST_CHECK_EQUAL(j["small"], 7);
  BOOST_CHECK_EQUAL(j["x"].get<double>(), 0.1);
  BOOST_CHECK(j["nan"].is_null());
  BOOST_CHECK(j["none"].is_null());
  BOOST_CHECK_EQUAL(j["some"].get<double>(), 2.5);
  BOOST_CHECK_EQUAL(j["text"], "quote \" backslash \\ newline \n");
  BOOST_REQUIRE_EQUAL(j["list"].size(), 4u);
  BOOST_CHECK_EQUAL(j["list"][2]["i"], 2);
  BOOST_CHECK(j["list"][3].is_array() && j["list"][3].empty());
  BOOST_CHECK(j["empty"].is_object() && j["empty"].empty());
}
