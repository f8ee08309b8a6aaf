#define BOOST_TEST_MODULE persistence
#include "persistence/persistence.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>

#include <boost/test/unit_test.hpp>
#include <caf/all.hpp>
#include <pqxx/pqxx>

#include "actors/actors.hpp"
#include "messages/error.hpp"
#include "tests/support/ask.hpp"
#include "tests/support/printing.hpp"
#include "tests/support/servers.hpp"
#include "tests/support/sql.hpp"
#include "tests/support/system.hpp"

using namespace slicegate;
using namespace std::chrono_literals;

namespace {

/// A microsecond-exact instant: 2026-11-24T16:07:41.123457Z plus `offset`.
timestamp at(caf::timespan offset = caf::timespan::zero()) {
  return timestamp{std::chrono::microseconds{1'795'536'461'123'457}} + offset;
}

/// Microseconds since the epoch, for readable failures.
int64_t us(timestamp x) {
  return std::chrono::duration_cast<std::chrono::microseconds>(x.time_since_epoch()).count();
}

/// A well-formed session id (64 lowercase hex digits) made from `n`.
std::string session_id(int n) {
  char buf[65];
  std::snprintf(buf, sizeof buf, "%064x", n);
  return buf;
}

std::vector<std::string> sorted(std::vector<std::string> xs) {
  std::sort(xs.begin(), xs.end());
  return xs;
}

/// A persistence actor on a freshly reset and migrated gateway database.
struct fixture {
  test::servers& servers = test::shared_servers();
  test::system_config cfg;
  caf::actor_system sys{cfg};
  persistence_actor actor;

  fixture() {
    servers.reset_database();
    persistence_config pc;
    pc.database_url = servers.database_url();
    actor = sys.spawn<caf::detached>(persistence, pc);
    must<std::vector<int32_t>>(db::migrate{});
  }

  ~fixture() {
    caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
  }

  template <class T, class Request>
  caf::expected<T> ask(Request x) {
    return test::ask<T>(sys, actor, 30s, std::move(x));
  }

  template <class T, class Request>
  T must(Request x) {
    return test::must<T>(sys, actor, 30s, std::move(x));
  }

  user_record make_user(const std::string& email) {
    db::create_user x;
    x.email = email;
    x.password_hash = "$2b$12$abcdefghijklmnopqrstuuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01";
    x.subscription_status = subscription::trial;
    return must<db::user_created>(x).user;
  }

  session_record make_session(int32_t user_id, int n, timestamp created, timestamp expires) {
    session_record s{session_id(n), user_id, expires, created};
    must<user_record>(db::record_login{user_id, s});
    return s;
  }

  /// Runs one statement on the gateway database, outside the actor.
  pqxx::result sql(const std::string& text) {
    return test::sql(servers.database_url(), text);
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(persistence_actor_tests, fixture)

BOOST_AUTO_TEST_CASE(ping_replies_with_the_server_version) {
  auto version = must<int32_t>(db::ping{});
  BOOST_CHECK_GE(version, 150000);
  BOOST_CHECK_LT(version, 160000);
}

BOOST_AUTO_TEST_CASE(migrate_again_applies_nothing) {
  BOOST_CHECK(must<std::vector<int32_t>>(db::migrate{}).empty());
}

BOOST_AUTO_TEST_CASE(create_user_stores_lowercase_email_and_reads_back) {
  db::create_user x;
  x.email = "Alice@Example.COM";
  x.password_hash = "$2b$12$hash-of-alice";
  x.subscription_status = subscription::trial;
  auto created = must<db::user_created>(x);
  BOOST_CHECK(created.created);
  auto& user = created.user;
  BOOST_CHECK_GT(user.id, 0);
  BOOST_CHECK_EQUAL(user.email, "alice@example.com");
  BOOST_CHECK(!user.is_admin);
  BOOST_CHECK_EQUAL(user.subscription_status, subscription::trial);
  // NULL columns come back as absent values.
  BOOST_CHECK(!user.subscription_ends_at);
  BOOST_CHECK(!user.slice_id);
  BOOST_CHECK(!user.stripe_customer);
  BOOST_CHECK(!user.subscription_id);
  BOOST_CHECK(!user.last_login_at);
  BOOST_CHECK(user.created_at > at(-std::chrono::hours{24 * 365 * 10}));
  BOOST_CHECK(must<user_record>(db::get_user{user.id}) == user);
  auto by_email = must<credentials>(db::find_credentials{"ALICE@example.com"});
  BOOST_CHECK(by_email.user == user);
  BOOST_CHECK_EQUAL(by_email.password_hash, "$2b$12$hash-of-alice");
  auto by_id = must<credentials>(db::find_credentials_by_id{user.id});
  BOOST_CHECK(by_id == by_email);
}

BOOST_AUTO_TEST_CASE(optional_fields_and_timestamps_round_trip) {
  // Microsecond precision both ways, also before 1970.
  for (auto ends : {at(), timestamp{std::chrono::microseconds{-1}},
                    timestamp{std::chrono::microseconds{0}}, at(999us)}) {
    db::create_user x;
    x.email = "ts" + std::to_string(us(ends)) + "@example.com";
    x.password_hash = "h";
    x.subscription_status = subscription::active;
    x.subscription_ends_at = ends;
    x.stripe_customer = std::string{"cus_123"};
    x.is_admin = true;
    auto user = must<db::user_created>(x).user;
    BOOST_REQUIRE(user.subscription_ends_at);
    BOOST_CHECK_EQUAL(us(*user.subscription_ends_at), us(ends));
    BOOST_CHECK(user.stripe_customer == std::string{"cus_123"});
    BOOST_CHECK(user.is_admin);
    BOOST_CHECK(must<user_record>(db::get_user{user.id}) == user);
  }
  // Nanoseconds are below PostgreSQL's resolution: rounded down.
  db::create_user x;
  x.email = "ns@example.com";
  x.password_hash = "h";
  x.subscription_status = subscription::trial;
  x.subscription_ends_at = at(999ns);
  auto user = must<db::user_created>(x).user;
  BOOST_CHECK_EQUAL(us(*user.subscription_ends_at), us(at()));
}

BOOST_AUTO_TEST_CASE(taken_email_is_a_conflict_in_any_case) {
  make_user("bob@example.com");
  db::create_user x;
  x.email = "BOB@example.com";
  x.password_hash = "h";
  x.subscription_status = subscription::trial;
  test::check_fails(ask<db::user_created>(x), ec::conflict);
}

BOOST_AUTO_TEST_CASE(invalid_values_are_invalid_requests) {
  db::create_user x;
  x.email = "carol@example.com";
  x.password_hash = "h";
  // A state outside the enum (only a cast makes one) meets the column's CHECK.
  x.subscription_status = static_cast<subscription>(99);
  test::check_fails(ask<db::user_created>(x), ec::invalid_request);
  // A session id must be a hex SHA-256; the login stamp is rolled back with it.
  auto user = make_user("dave@example.com");
  session_record s{"not-a-hash", user.id, at(24h), at()};
  test::check_fails(ask<user_record>(db::record_login{user.id, s}), ec::invalid_request);
  BOOST_CHECK(!must<user_record>(db::get_user{user.id}).last_login_at);
  // A session of somebody else.
  session_record other{session_id(1), user.id + 1, at(24h), at()};
  test::check_fails(ask<user_record>(db::record_login{user.id, other}), ec::invalid_request);
}

BOOST_AUTO_TEST_CASE(unknown_rows_are_not_found) {
  test::check_fails(ask<user_record>(db::get_user{4711}), ec::not_found);
  test::check_fails(ask<credentials>(db::find_credentials{"nobody@example.com"}),
                    ec::not_found);
  test::check_fails(ask<credentials>(db::find_credentials_by_id{4711}), ec::not_found);
  test::check_fails(ask<session_account>(db::find_session{session_id(4711)}), ec::not_found);
  session_record s{session_id(1), 4711, at(24h), at()};
  test::check_fails(ask<user_record>(db::record_login{4711, s}), ec::not_found);
  test::check_fails(ask<std::vector<std::string>>(db::set_password{4711, "h", ""}),
                    ec::not_found);
  test::check_fails(ask<user_record>(db::set_admin{4711, "", true}), ec::not_found);
  test::check_fails(ask<user_record>(db::set_admin{0, "nobody@example.com", true}),
                    ec::not_found);
  BOOST_CHECK(
    must<std::vector<std::string>>(db::delete_user_sessions{4711, caf::none}).empty());
}

BOOST_AUTO_TEST_CASE(signup_events_are_idempotent) {
  db::create_user x;
  x.email = "erin@example.com";
  x.password_hash = "$2b$12$from-the-event";
  x.subscription_status = subscription::trial;
  x.signup_event_id = std::string{"evt-1"};
  auto first = must<db::user_created>(x);
  BOOST_CHECK(first.created);
  // Redelivered, even with other contents: the user it made then, nothing inserted.
  x.email = "someone-else@example.com";
  auto again = must<db::user_created>(x);
  BOOST_CHECK(!again.created);
  BOOST_CHECK(again.user == first.user);
  BOOST_CHECK_EQUAL(sql("SELECT count(*) FROM gateway.users")[0][0].as<int>(), 1);
  auto link = sql("SELECT user_id FROM gateway.signup_events WHERE event_id = 'evt-1'");
  BOOST_REQUIRE_EQUAL(link.size(), 1u);
  BOOST_CHECK_EQUAL(link[0][0].as<int32_t>(), first.user.id);
  // A new event with a taken e-mail is a conflict and leaves no trace.
  x.email = "ERIN@example.com";
  x.signup_event_id = std::string{"evt-2"};
  test::check_fails(ask<db::user_created>(x), ec::conflict);
  BOOST_CHECK_EQUAL(sql("SELECT count(*) FROM gateway.signup_events")[0][0].as<int>(), 1);
  // An event whose user was deleted since does not bring the user back.
  sql("DELETE FROM gateway.users");
  x.signup_event_id = std::string{"evt-1"};
  test::check_fails(ask<db::user_created>(x), ec::not_found);
}

BOOST_AUTO_TEST_CASE(a_batch_of_signups_is_made_as_one_at_a_time_would_make_it) {
  auto signup = [](std::string email, std::string event) {
    db::create_user x;
    x.email = std::move(email);
    x.password_hash = "$2b$12$from-the-event";
    x.subscription_status = subscription::trial;
    x.signup_event_id = std::move(event);
    return x;
  };
  // An event processed before the batch, and a checkout that names a user of the batch by
  // e-mail before the user exists.
  auto old = must<db::user_created>(signup("old@example.com", "evt-old")).user;
  sql("INSERT INTO gateway.billing_events (event_id, stripe_customer, subscription_id, type, "
      "stripe_created, customer_email) VALUES ('evt_checkout', 'cus_carol', 'sub_carol', "
      "'checkout.session.completed', '2026-11-24T16:00:00Z', ' Carol@Example.com ')");
  db::create_users batch;
  batch.users = {signup("Alice@Example.com", "evt-a"),  // 0: new, stored lowercase
                 signup("bob@example.com", "evt-b"),    // 1: new
                 signup("x@example.com", "evt-old"),    // 2: seen before: its old user
                 signup("carol@example.com", "evt-c"),  // 3: new, linked to the checkout
                 signup("y@example.com", "evt-a"),      // 4: twice in the batch: user 0
                 signup("dave@example.com", "evt-d")};  // 5: refused by the caller
  // Refusals come from the persistence actor's own checks; a batch through the actor with
  // one bad value shows that the others still go through together.
  batch.users[5].email = std::string{"nul\0byte@example.com", 21};
  auto made = must<std::vector<db::user_creation>>(batch);
  BOOST_REQUIRE_EQUAL(made.size(), 6u);
  for (size_t i = 0; i < 5; ++i)
    BOOST_REQUIRE_MESSAGE(made[i].created, "user " << i << ": " << message_of(made[i].error));
  BOOST_CHECK(!made[5].created);
  BOOST_CHECK(made[5].error);
  BOOST_CHECK(made[0].created->created);
  BOOST_CHECK_EQUAL(made[0].created->user.email, "alice@example.com");
  BOOST_CHECK(made[1].created->created);
  BOOST_CHECK_EQUAL(made[1].created->user.email, "bob@example.com");
  BOOST_CHECK(!made[2].created->created);
  BOOST_CHECK(made[2].created->user == old);
  BOOST_CHECK(made[3].created->created);
  BOOST_CHECK(made[3].created->user.stripe_customer == std::string{"cus_carol"});
  BOOST_CHECK(made[3].created->user.subscription_id == std::string{"sub_carol"});
  BOOST_CHECK(!made[4].created->created);
  BOOST_CHECK(made[4].created->user == made[0].created->user);
  BOOST_CHECK_EQUAL(sql("SELECT count(*) FROM gateway.users")[0][0].as<int>(), 4);
  auto links = sql("SELECT event_id, user_id FROM gateway.signup_events ORDER BY event_id");
  BOOST_REQUIRE_EQUAL(links.size(), 4u);
  BOOST_CHECK_EQUAL(links[0][1].as<int32_t>(), made[0].created->user.id); // evt-a
  BOOST_CHECK_EQUAL(links[1][1].as<int32_t>(), made[1].created->user.id); // evt-b
  BOOST_CHECK_EQUAL(links[2][1].as<int32_t>(), made[3].created->user.id); // evt-c
  BOOST_CHECK_EQUAL(links[3][1].as<int32_t>(), old.id);                   // evt-old
  BOOST_CHECK_EQUAL(sql("SELECT user_id FROM gateway.billing_events")[0][0].as<int32_t>(),
                    made[3].created->user.id);
  // A taken e-mail in a batch fails it as a whole first; made again one by one, only that
  // user is a conflict.
  db::create_users again;
  again.users = {signup("erin@example.com", "evt-e"), signup("BOB@example.com", "evt-f")};
  auto second = must<std::vector<db::user_creation>>(again);
  BOOST_REQUIRE_EQUAL(second.size(), 2u);
  BOOST_CHECK(second[0].created && second[0].created->created);
  BOOST_CHECK(!second[1].created);
  BOOST_CHECK(code_of(second[1].error) == ec::conflict);
}

BOOST_AUTO_TEST_CASE(record_login_stores_the_session_and_stamps_the_user) {
  auto user = make_user("frank@example.com");
  session_record s{session_id(7), user.id, at(30 * 24h), at()};
  auto updated = must<user_record>(db::record_login{user.id, s});
  BOOST_REQUIRE(updated.last_login_at);
  BOOST_CHECK_EQUAL(us(*updated.last_login_at), us(at()));
  BOOST_CHECK_EQUAL(updated.email, user.email);
  auto account = must<session_account>(db::find_session{s.id});
  BOOST_CHECK(account.session == s);
  BOOST_CHECK(account.user == updated);
  BOOST_CHECK(!account.slice);
  // The same session id twice is a conflict.
  test::check_fails(ask<user_record>(db::record_login{user.id, s}), ec::conflict);
}

BOOST_AUTO_TEST_CASE(find_session_reads_the_users_slice_with_its_nulls) {
  auto user = make_user("grace@example.com");
  auto s = make_session(user.id, 1, at(), at(24h));
  auto slice_id = sql("INSERT INTO gateway.slices (port, status, user_id) VALUES (5001, "
                      "'assigned', "
                      + std::to_string(user.id) + ") RETURNING id")[0][0]
                    .as<int32_t>();
  sql("UPDATE gateway.users SET slice_id = " + std::to_string(slice_id));
  auto account = must<session_account>(db::find_session{s.id});
  BOOST_REQUIRE(account.slice);
  auto& slice = *account.slice;
  BOOST_CHECK_EQUAL(slice.id, slice_id);
  BOOST_CHECK_EQUAL(slice.port, 5001);
  BOOST_CHECK_EQUAL(slice.status, slice_status::assigned);
  BOOST_CHECK(slice.user_id == user.id);
  BOOST_CHECK(!slice.wa_connected);
  BOOST_CHECK(!slice.wa_phone);
  BOOST_CHECK(!slice.last_health_at);
  BOOST_CHECK(!slice.healthy);
  BOOST_CHECK_EQUAL(slice.storage_bytes, 0);
  BOOST_CHECK(account.user.slice_id == slice_id);
  // Now every column set.
  sql("UPDATE gateway.slices SET wa_connected = true, wa_phone = '+15551234567', "
      "last_health_at = '2026-11-24T16:07:41.123457Z', storage_bytes = 5000000000, "
      "healthy = false, status_changed_at = '1969-12-31T23:59:59.999999Z'");
  slice = *must<session_account>(db::find_session{s.id}).slice;
  BOOST_CHECK(slice.wa_connected);
  BOOST_CHECK(slice.wa_phone == std::string{"+15551234567"});
  BOOST_REQUIRE(slice.last_health_at);
  BOOST_CHECK_EQUAL(us(*slice.last_health_at), us(at()));
  BOOST_CHECK_EQUAL(slice.storage_bytes, 5'000'000'000);
  BOOST_CHECK(slice.healthy == false);
  BOOST_CHECK_EQUAL(us(slice.status_changed_at), -1);
}

BOOST_AUTO_TEST_CASE(slice_health_rows_are_written_as_one_batch) {
  sql("INSERT INTO gateway.slices (id, port, status, wa_phone, storage_bytes) VALUES "
      "(1, 5001, 'available', '+15550000001', 100), (2, 5003, 'available', '+15550000002', 200), "
      "(3, 5005, 'available', NULL, 300)");
  auto row = [](int32_t id, bool answered, optional<std::string> phone,
                optional<int64_t> storage) {
    db::slice_health_row r;
    r.slice_id = id;
    r.at = at(std::chrono::seconds{id});
    r.healthy = answered;
    r.wa_connected = answered;
    r.answered = answered;
    r.wa_phone = std::move(phone);
    r.storage_bytes = storage;
    return r;
  };
  // Slice 1 answered with a new phone and a disk figure; slice 2 did not answer (its phone
  // stays) and has no disk figure yet (its storage stays); slice 3 answered with a phone that
  // needs quoting in an array; slice 4 is gone.
  std::vector<db::slice_health_row> rows{
    row(1, true, std::string{"+15551111111"}, int64_t{5'000'000'000}),
    row(2, false, caf::none, caf::none),
    row(3, true, std::string{"a \"quoted\", {braced} \\ NULL"}, int64_t{0}),
    row(4, true, caf::none, caf::none),
  };
  BOOST_CHECK_EQUAL(must<int64_t>(db::update_slice_health{rows}), 3);
  auto result = sql("SELECT id, healthy, wa_connected, wa_phone, storage_bytes, "
                    "(extract(epoch FROM last_health_at) * 1000000)::bigint "
                    "FROM gateway.slices ORDER BY id");
  BOOST_REQUIRE_EQUAL(result.size(), 3u);
  BOOST_CHECK(result[0][1].as<bool>());
  BOOST_CHECK_EQUAL(result[0][3].as<std::string>(), "+15551111111");
  BOOST_CHECK_EQUAL(result[0][4].as<int64_t>(), 5'000'000'000);
  BOOST_CHECK_EQUAL(result[0][5].as<int64_t>(), us(at(1s)));
  BOOST_CHECK(!result[1][1].as<bool>());
  BOOST_CHECK(!result[1][2].as<bool>());
  BOOST_CHECK_EQUAL(result[1][3].as<std::string>(), "+15550000002");
  BOOST_CHECK_EQUAL(result[1][4].as<int64_t>(), 200);
  BOOST_CHECK_EQUAL(result[1][5].as<int64_t>(), us(at(2s)));
  BOOST_CHECK_EQUAL(result[2][3].as<std::string>(), "a \"quoted\", {braced} \\ NULL");
  BOOST_CHECK_EQUAL(result[2][4].as<int64_t>(), 0);
  // An empty batch writes nothing.
  BOOST_CHECK_EQUAL(must<int64_t>(db::update_slice_health{{}}), 0);
}

BOOST_AUTO_TEST_CASE(sessions_extend_and_delete) {
  auto user = make_user("heidi@example.com");
  auto s = make_session(user.id, 1, at(), at(24h));
  BOOST_CHECK(must<bool>(db::extend_session{s.id, at(30 * 24h + 1us)}));
  auto account = must<session_account>(db::find_session{s.id});
  BOOST_CHECK_EQUAL(us(account.session.expires_at), us(at(30 * 24h + 1us)));
  BOOST_CHECK_EQUAL(us(account.session.created_at), us(at()));
  BOOST_CHECK(!must<bool>(db::extend_session{session_id(99), at()}));
  BOOST_CHECK(must<bool>(db::delete_session{s.id}));
  BOOST_CHECK(!must<bool>(db::delete_session{s.id}));
  test::check_fails(ask<session_account>(db::find_session{s.id}), ec::not_found);
}

BOOST_AUTO_TEST_CASE(delete_user_sessions_keeps_the_named_one) {
  auto user = make_user("ivan@example.com");
  auto other = make_user("judy@example.com");
  auto s1 = make_session(user.id, 1, at(), at(24h));
  auto s2 = make_session(user.id, 2, at(), at(24h));
  auto s3 = make_session(user.id, 3, at(), at(24h));
  auto foreign = make_session(other.id, 4, at(), at(24h));
  auto deleted
    = must<std::vector<std::string>>(db::delete_user_sessions{user.id, std::string{s2.id}});
  BOOST_CHECK(sorted(deleted) == sorted({s1.id, s3.id}));
  deleted = must<std::vector<std::string>>(db::delete_user_sessions{user.id, caf::none});
  BOOST_CHECK(deleted == std::vector<std::string>{s2.id});
  // The other user's session survives.
  BOOST_CHECK_EQUAL(must<session_account>(db::find_session{foreign.id}).user.id, other.id);
}

BOOST_AUTO_TEST_CASE(set_password_revokes_the_other_sessions) {
  auto user = make_user("mallory@example.com");
  auto s1 = make_session(user.id, 1, at(), at(24h));
  auto s2 = make_session(user.id, 2, at(), at(24h));
  auto s3 = make_session(user.id, 3, at(), at(24h));
  auto deleted
    = must<std::vector<std::string>>(db::set_password{user.id, "$2b$12$the-new-hash", s1.id});
  BOOST_CHECK(sorted(deleted) == sorted({s2.id, s3.id}));
  BOOST_CHECK_EQUAL(must<credentials>(db::find_credentials_by_id{user.id}).password_hash,
                    "$2b$12$the-new-hash");
  BOOST_CHECK_EQUAL(must<session_account>(db::find_session{s1.id}).user.id, user.id);
  // Without a session to keep, all go.
  deleted = must<std::vector<std::string>>(db::set_password{user.id, "$2b$12$again", ""});
  BOOST_CHECK(deleted == std::vector<std::string>{s1.id});
}

BOOST_AUTO_TEST_CASE(delete_expired_sessions_by_expiry_and_by_age_in_batches) {
  auto user = make_user("oscar@example.com");
  auto now = at();
  auto max_age = caf::timespan{90 * 24h};
  std::vector<std::string> keep;
  // Expired: 3 (one a microsecond ago). Too old though not expired: 2. Alive: 2, one created
  // exactly at the cap (not older than it) and one expiring exactly now (not before now).
  make_session(user.id, 1, now - 24h, now - 1us);
  make_session(user.id, 2, now - 48h, now - 24h);
  make_session(user.id, 3, now - 72h, now - 48h);
  make_session(user.id, 4, now - max_age - 1us, now + 24h);
  make_session(user.id, 5, now - max_age - 24h, now + 24h);
  keep.push_back(make_session(user.id, 6, now - max_age, now + 24h).id);
  keep.push_back(make_session(user.id, 7, now - 1h, now).id);
  auto deleted = must<int64_t>(db::delete_expired_sessions{now, max_age, 2});
  BOOST_CHECK_EQUAL(deleted, 5);
  std::vector<std::string> left;
  for (const auto& row : sql("SELECT id FROM gateway.sessions"))
    left.push_back(row[0].as<std::string>());
  BOOST_CHECK(sorted(left) == sorted(keep));
  BOOST_CHECK_EQUAL(must<int64_t>(db::delete_expired_sessions{now, max_age, 2}), 0);
  test::check_fails(ask<int64_t>(db::delete_expired_sessions{now, max_age, 0}),
                    ec::invalid_request);
  test::check_fails(ask<int64_t>(db::delete_expired_sessions{now, caf::timespan::zero(), 10}),
                    ec::invalid_request);
}

BOOST_AUTO_TEST_CASE(set_admin_by_id_or_by_email) {
  auto user = make_user("peggy@example.com");
  auto admin = must<user_record>(db::set_admin{user.id, "", true});
  BOOST_CHECK(admin.is_admin);
  BOOST_CHECK_EQUAL(admin.id, user.id);
  // The last admin stays one, by id or by e-mail.
  test::check_fails(ask<user_record>(db::set_admin{user.id, "", false}), ec::conflict);
  test::check_fails(ask<user_record>(db::set_admin{0, "peggy@example.com", false}),
                    ec::conflict);
  BOOST_CHECK(must<user_record>(db::get_user{user.id}).is_admin);
  auto other = make_user("quinn@example.com");
  must<user_record>(db::set_admin{other.id, "", true});
  auto demoted = must<user_record>(db::set_admin{0, "PEGGY@example.com", false});
  BOOST_CHECK(!demoted.is_admin);
  BOOST_CHECK_EQUAL(demoted.id, user.id);
  BOOST_CHECK(must<user_record>(db::get_user{user.id}) == demoted);
  test::check_fails(ask<user_record>(db::set_admin{0, "", true}), ec::invalid_request);
}

BOOST_AUTO_TEST_CASE(hostile_strings_round_trip_unchanged) {
  // Quotes, backslashes, SQL, placeholders, control characters and non-ASCII text.
  std::string email = "o'brien\\\"--;drop table gateway.users;$1{name}@exämple.jp";
  std::string hash = "$2b$12$' OR '1'='1\\\\ \"; — ünïcødé 🙂\t\n\r%_";
  std::string customer = "Cus_'\"\\\t\n%_{}$1 ÜNÏ 🙂 \\x00 E'\\\\'";
  db::create_user x;
  x.email = email;
  x.password_hash = hash;
  x.subscription_status = subscription::trial;
  x.stripe_customer = customer;
  auto user = must<db::user_created>(x).user;
  BOOST_CHECK_EQUAL(user.email, email);
  BOOST_CHECK(user.stripe_customer == customer);
  auto found = must<credentials>(db::find_credentials{email});
  BOOST_CHECK_EQUAL(found.password_hash, hash);
  BOOST_CHECK(found.user == user);
  BOOST_CHECK_EQUAL(must<user_record>(db::set_admin{0, email, true}).id, user.id);
  // A hostile session id is a value like any other: it finds nothing.
  test::check_fails(ask<session_account>(db::find_session{"' OR '1'='1"}), ec::not_found);
  BOOST_CHECK_EQUAL(sql("SELECT count(*) FROM gateway.users")[0][0].as<int>(), 1);
}

BOOST_AUTO_TEST_CASE(text_with_a_nul_is_refused_rather_than_cut_short) {
  // libpq would send "nul@example.com" and store a different e-mail than the one asked for.
  auto victim = make_user("nul@example.com");
  std::string cut{"nul@example.com\0tail", 20};
  test::check_fails(ask<credentials>(db::find_credentials{cut}), ec::invalid_request);
  db::create_user x;
  x.email = "fresh@example.com";
  x.password_hash = "h";
  x.subscription_status = subscription::trial;
  x.stripe_customer = std::string{"cus\0", 4};
  test::check_fails(ask<db::user_created>(x), ec::invalid_request);
  session_record s{session_id(1), victim.id, at(24h), at()};
  s.id.back() = '\0';
  test::check_fails(ask<user_record>(db::record_login{victim.id, s}), ec::invalid_request);
  BOOST_CHECK_EQUAL(sql("SELECT count(*) FROM gateway.users")[0][0].as<int>(), 1);
}

BOOST_AUTO_TEST_CASE(a_postgres_outage_fails_fast_and_heals_on_the_same_actor) {
  auto user = make_user("trent@example.com");
  servers.stop_pg();
  // Every request fails with `unavailable`, quickly: the first two try to connect (refused at
  // once), the rest fall into the back-off.
  for (int i = 0; i < 5; ++i) {
    auto start = std::chrono::steady_clock::now();
    auto result = ask<user_record>(db::get_user{user.id});
    auto took = std::chrono::steady_clock::now() - start;
    test::check_fails(result, ec::unavailable);
    BOOST_CHECK_EQUAL(message_of(result.error()), "database unavailable");
    BOOST_CHECK_LT(std::chrono::duration_cast<std::chrono::milliseconds>(took).count(), 5000);
    BOOST_TEST_MESSAGE("request " << i << " during the outage failed after "
                                  << std::chrono::duration<double>(took).count() << " s");
  }
  db::create_user x;
  x.email = "victor@example.com";
  x.password_hash = "h";
  x.subscription_status = subscription::trial;
  test::check_fails(ask<db::user_created>(x), ec::unavailable);
  servers.start_pg();
  // Back without a restart of the actor; at most one back-off period of refusals.
  BOOST_CHECK(
    test::eventually([&] { return static_cast<bool>(ask<int32_t>(db::ping{})); }, 5s));
  BOOST_CHECK_EQUAL(must<user_record>(db::get_user{user.id}).id, user.id);
  BOOST_CHECK(must<db::user_created>(x).created);
}

BOOST_AUTO_TEST_CASE(a_database_that_refuses_writes_is_unavailable_not_the_requests_fault) {
  // A read-only primary after a failover (25006) and a statement held on a lock past
  // lock_timeout (55P03) fail the request as `unavailable`, which event consumers retry for
  // as long as it lasts, never as `internal`, which they give up on.
  auto user = make_user("ro@example.com");
  {
    pqxx::connection su{servers.superuser_url()};
    pqxx::nontransaction tx{su};
    tx.exec("ALTER DATABASE wank_saas SET default_transaction_read_only = on");
    tx.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = 'wank_saas' AND pid <> pg_backend_pid()");
  }
  db::create_user x;
  x.email = "during@example.com";
  x.password_hash = "$2b$12$abcdefghijklmnopqrstuuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01";
  x.subscription_status = subscription::trial;
  BOOST_CHECK(test::eventually(
    [&] {
      auto r = ask<db::user_created>(x);
      return !r && code_of(r.error()) == ec::unavailable
             && message_of(r.error()).find("25006") != std::string::npos;
    },
    10s));
  {
    pqxx::connection su{servers.superuser_url()};
    pqxx::nontransaction tx{su};
    tx.exec("ALTER DATABASE wank_saas SET default_transaction_read_only = off");
    tx.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = 'wank_saas' AND pid <> pg_backend_pid()");
  }
  BOOST_CHECK(test::eventually([&] { return static_cast<bool>(ask<db::user_created>(x)); }));
  // A row locked by another session past the lock timeout: unavailable too.
  persistence_config pc;
  pc.database_url = servers.database_url();
  pc.lock_timeout = 500ms;
  auto impatient = sys.spawn<caf::detached>(persistence, pc);
  pqxx::connection holder{servers.database_url()};
  pqxx::work hold{holder};
  hold.exec("SELECT 1 FROM gateway.users WHERE id = " + std::to_string(user.id) + " FOR UPDATE");
  auto blocked = test::ask<user_record>(sys, impatient, 30s, db::set_admin{user.id, "", true});
  test::check_fails(blocked, ec::unavailable);
  BOOST_CHECK_MESSAGE(!blocked && message_of(blocked.error()).find("55P03") != std::string::npos,
                      (blocked ? std::string{} : message_of(blocked.error())));
  hold.abort();
  BOOST_CHECK(test::ask<user_record>(sys, impatient, 30s, db::set_admin{user.id, "", true}));
  caf::anon_send_exit(impatient, caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_CASE(a_postgres_restart_while_idle_goes_unnoticed) {
  auto user = make_user("walter@example.com");
  servers.restart_pg();
  // The connection died while idle: the first request reconnects and succeeds.
  BOOST_CHECK_EQUAL(must<user_record>(db::get_user{user.id}).id, user.id);
  servers.restart_pg();
  session_record s{session_id(1), user.id, at(24h), at()};
  BOOST_CHECK(must<user_record>(db::record_login{user.id, s}).last_login_at);
}

BOOST_AUTO_TEST_SUITE_END()
