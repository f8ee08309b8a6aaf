#define BOOST_TEST_MODULE session_manager
#include <boost/test/unit_test.hpp>

// The session manager on CAF's deterministic scheduler, against in-memory fakes of
// persistence, the hasher and the slice manager. Time is a value the tests move.
//
// The fakes are untyped actors cast to the typed handles: the persistence interface has many
// handlers this actor never uses, and a catch-all that records anything unexpected fails the
// test just as an unused typed handler would, without every new persistence handler
// breaking this file.

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "actors/credentials_rules.hpp"
#include "actors/session_manager.hpp"
#include "messages/error.hpp"
#include "tests/support/ask.hpp"
#include "tests/support/printing.hpp"
#include "tests/support/system.hpp"

using namespace slicegate;
using namespace std::chrono_literals;
using namespace std::string_literals;

namespace slicegate {

std::ostream& operator<<(std::ostream& os, ec x) {
  return os << to_string(x);
}

} // namespace slicegate

namespace {

constexpr auto day = std::chrono::hours{24};

/// 2026-11-24T16:07:41.123457Z: microsecond-exact, as PostgreSQL stores it.
const timestamp start_time{std::chrono::microseconds{1'795'536'461'123'457}};

// -- fake persistence -------------------------------------------------------------------------

struct fake_user {
  user_record user;
  std::string hash;
};

struct fake_db_data {
  std::shared_ptr<timestamp> clock;
  std::map<int32_t, fake_user> users;
  std::map<std::string, int32_t> events;
  std::map<std::string, session_record> sessions;
  std::map<int32_t, slice_record> slices;
  std::map<std::string, int> calls;
  std::vector<std::string> unexpected;
  /// When set, every request fails with it (the database is down).
  std::optional<caf::error> outage;
  int32_t next_id = 1;

  int count(const std::string& name) const {
    auto i = calls.find(name);
    return i == calls.end() ? 0 : i->second;
  }

  fake_user* by_email(const std::string& email) {
    for (auto& [id, u] : users)
      if (u.user.email == email)
        return &u;
    return nullptr;
  }

  std::vector<std::string> delete_sessions_of(int32_t user_id, const std::string& keep) {
    std::vector<std::string> result;
    for (auto i = sessions.begin(); i != sessions.end();) {
      if (i->second.user_id == user_id && i->first != keep) {
        result.push_back(i->first);
        i = sessions.erase(i);
      } else {
        ++i;
      }
    }
    return result;
  }
};

caf::behavior fake_db(caf::event_based_actor* self, std::shared_ptr<fake_db_data> d) {
  self->set_default_handler(
    [d](caf::scheduled_actor*, caf::message_view& x) -> caf::result<caf::message> {
      d->unexpected.push_back(caf::to_string(x.content()));
      return caf::sec::unexpected_message;
    });
  // Counts the call; answers the outage error if there is one.
  auto enter = [d](const char* name) -> std::optional<caf::error> {
    ++d->calls[name];
    return d->outage;
  };
  // One user as the real store makes it: created, seen before, or a taken e-mail.
  auto make_user = [d](db::create_user& x) -> caf::expected<db::user_created> {
    if (x.signup_event_id) {
      auto i = d->events.find(*x.signup_event_id);
      if (i != d->events.end())
        return db::user_created{d->users[i->second].user, false};
    }
    if (d->by_email(x.email))
      return make_error(ec::conflict, "duplicate key value violates unique constraint");
    fake_user u;
    u.user.id = d->next_id++;
    u.user.email = x.email;
    u.user.subscription_status = x.subscription_status;
    u.user.subscription_ends_at = x.subscription_ends_at;
    u.user.stripe_customer = x.stripe_customer;
    u.user.is_admin = x.is_admin;
    u.user.created_at = *d->clock;
    u.hash = x.password_hash;
    d->users[u.user.id] = u;
    if (x.signup_event_id)
      d->events[*x.signup_event_id] = u.user.id;
    return db::user_created{u.user, true};
  };
  return {
    [enter, make_user](db::create_user& x) -> caf::result<db::user_created> {
      if (auto err = enter("create_user"))
        return *err;
      return make_user(x);
    },
    [enter, make_user](db::create_users& x) -> caf::result<std::vector<db::user_creation>> {
      if (auto err = enter("create_users"))
        return *err;
      std::vector<db::user_creation> result;
      for (auto& one : x.users) {
        auto r = make_user(one);
        db::user_creation c;
        if (r)
          c.created = std::move(*r);
        else
          c.error = std::move(r.error());
        result.push_back(std::move(c));
      }
      return result;
    },
    [d, enter](db::find_credentials& x) -> caf::result<credentials> {
      if (auto err = enter("find_credentials"))
        return *err;
      if (auto u = d->by_email(x.email))
        return credentials{u->user, u->hash};
      return make_error(ec::not_found, "no such user");
    },
    [d, enter](db::find_credentials_by_id& x) -> caf::result<credentials> {
      if (auto err = enter("find_credentials_by_id"))
        return *err;
      auto i = d->users.find(x.user_id);
      if (i == d->users.end())
        return make_error(ec::not_found, "no such user");
      return credentials{i->second.user, i->second.hash};
    },
    [d, enter](db::record_login& x) -> caf::result<user_record> {
      if (auto err = enter("record_login"))
        return *err;
      auto i = d->users.find(x.user_id);
      if (i == d->users.end())
        return make_error(ec::not_found, "no such user");
      i->second.user.last_login_at = *d->clock;
      d->sessions[x.session.id] = x.session;
      return i->second.user;
    },
    [d, enter](db::set_password& x) -> caf::result<std::vector<std::string>> {
      if (auto err = enter("set_password"))
        return *err;
      d->users[x.user_id].hash = x.password_hash;
      return d->delete_sessions_of(x.user_id, x.keep_session_id);
    },
    [d, enter](db::find_session& x) -> caf::result<session_account> {
      if (auto err = enter("find_session"))
        return *err;
      auto i = d->sessions.find(x.session_id);
      if (i == d->sessions.end())
        return make_error(ec::not_found, "no such session");
      session_account result;
      result.session = i->second;
      result.user = d->users[i->second.user_id].user;
      if (result.user.slice_id)
        result.slice = d->slices[*result.user.slice_id];
      return result;
    },
    [d, enter](db::extend_session& x) -> caf::result<bool> {
      if (auto err = enter("extend_session"))
        return *err;
      auto i = d->sessions.find(x.session_id);
      if (i == d->sessions.end())
        return false;
      i->second.expires_at = x.expires_at;
      return true;
    },
    [d, enter](db::delete_session& x) -> caf::result<bool> {
      if (auto err = enter("delete_session"))
        return *err;
      return d->sessions.erase(x.session_id) > 0;
    },
    [d, enter](db::delete_user_sessions& x) -> caf::result<std::vector<std::string>> {
      if (auto err = enter("delete_user_sessions"))
        return *err;
      return d->delete_sessions_of(x.user_id, x.keep_session_id.value_or(""));
    },
    [d, enter](db::get_user& x) -> caf::result<user_record> {
      if (auto err = enter("get_user"))
        return *err;
      auto i = d->users.find(x.user_id);
      if (i == d->users.end())
        return make_error(ec::not_found, "no such user");
      return i->second.user;
    },
    [d, enter](db::set_admin& x) -> caf::result<user_record> {
      if (auto err = enter("set_admin"))
        return *err;
      auto i = d->users.find(x.user_id);
      if (i == d->users.end())
        return make_error(ec::not_found, "no such user");
      i->second.user.is_admin = x.is_admin;
      return i->second.user;
    },
  };
}

// -- fake hasher ------------------------------------------------------------------------------

/// Hashes are "fake$<password>"; a verification matches when the hash is that. Anything
/// else, such as the session manager's `$2b$` dummy, never matches.
struct fake_hasher_data {
  std::vector<int32_t> hash_costs;
  std::vector<std::string> verified_hashes;
  /// When set, every job is refused as a saturated pool would.
  bool saturated = false;
  /// When set, verifications wait in `parked` until the hasher receives `ok_atom`.
  bool park = false;
  std::vector<std::pair<caf::response_promise, bool>> parked;
};

caf::behavior fake_hasher(caf::event_based_actor* self, std::shared_ptr<fake_hasher_data> d) {
  auto saturated = [] {
    return make_error(ec::rate_limited, "password hashing is saturated; retry later");
  };
  return {
    [d, saturated](auth::hash_password& x) -> caf::result<std::string> {
      if (d->saturated)
        return saturated();
      d->hash_costs.push_back(x.cost);
      return "fake$" + x.password;
    },
    [self, d, saturated](auth::verify_password& x) -> caf::result<bool> {
      if (d->saturated)
        return saturated();
      d->verified_hashes.push_back(x.hash);
      auto match = x.hash == "fake$" + x.password;
      if (!d->park)
        return match;
      auto rp = self->make_response_promise();
      d->parked.emplace_back(rp, match);
      return caf::delegated<bool>{};
    },
    // A saturated pool shows a full queue.
    [d](stats_atom) {
      metrics::hasher_stats s;
      s.workers = 2;
      s.queue_capacity = 64;
      s.queued = d->saturated ? 64 : 0;
      return s;
    },
    // Answers the parked verifications (from inside the actor, as promises require).
    [d](caf::ok_atom) {
      for (auto& [rp, result] : d->parked)
        rp.deliver(result);
      d->parked.clear();
    },
  };
}

// -- fake slice manager -----------------------------------------------------------------------

struct fake_slices_data {
  std::vector<int32_t> placed;
  /// `place_users` requests received.
  int batches = 0;
  /// What the next placements answer; an error if `fail` is set.
  pool::placement answer;
  bool fail = false;
};

caf::behavior fake_slices(caf::event_based_actor*, std::shared_ptr<fake_slices_data> d) {
  return {
    [d](pool::place_user& x) -> caf::result<pool::placement> {
      d->placed.push_back(x.user_id);
      if (d->fail)
        return make_error(ec::unavailable, "slice manager busy");
      return d->answer;
    },
    [d](pool::place_users& x) -> caf::result<std::vector<pool::placement>> {
      ++d->batches;
      d->placed.insert(d->placed.end(), x.user_ids.begin(), x.user_ids.end());
      if (d->fail)
        return make_error(ec::unavailable, "slice manager busy");
      return std::vector<pool::placement>(x.user_ids.size(), d->answer);
    },
  };
}

/// The bridge as the session manager's peers see it: records what other instances are told.
struct fake_peers_data {
  std::vector<auth::forget_cached> told;
};

session_peers_actor::behavior_type fake_peers(session_peers_actor::pointer,
                                              std::shared_ptr<fake_peers_data> d) {
  return {
    [d](auth::forget_cached& x) { d->told.push_back(std::move(x)); },
  };
}

// -- fixture ----------------------------------------------------------------------------------

struct fixture : test::deterministic_system {

  std::shared_ptr<timestamp> now = std::make_shared<timestamp>(start_time);
  std::shared_ptr<fake_db_data> db_data = std::make_shared<fake_db_data>();
  std::shared_ptr<fake_hasher_data> hasher_data = std::make_shared<fake_hasher_data>();
  std::shared_ptr<fake_slices_data> slices_data = std::make_shared<fake_slices_data>();
  std::shared_ptr<fake_peers_data> peers_data = std::make_shared<fake_peers_data>();

  persistence_actor db;
  hasher_full_actor hasher;
  slice_manager_actor slices;
  session_peers_actor peers;
  session_config sm_cfg;
  session_manager_actor sm;

  fixture() {
    db_data->clock = now;
    db = caf::actor_cast<persistence_actor>(spawn(fake_db, db_data));
    hasher = caf::actor_cast<hasher_full_actor>(spawn(fake_hasher, hasher_data));
    slices = caf::actor_cast<slice_manager_actor>(spawn(fake_slices, slices_data));
    peers = spawn(fake_peers, peers_data);
    sm_cfg.now = [clock = now] {
      return *clock;
    };
    sm_cfg.bcrypt_cost = 12;
    start();
  }

  ~fixture() {
    BOOST_CHECK_MESSAGE(db_data->unexpected.empty(), "persistence got unexpected messages: "
                                                       << db_data->unexpected.size() << " e.g. "
                                                       << first_unexpected());
  }

  std::string first_unexpected() const {
    return db_data->unexpected.empty() ? "" : db_data->unexpected.front();
  }

  /// (Re)starts the session manager with `sm_cfg`: a fresh process with an empty cache.
  void start(slice_manager_actor with_slices) {
    if (sm)
      caf::anon_send_exit(sm, caf::exit_reason::user_shutdown);
    sm = spawn(session_manager, sm_cfg, db, hasher, with_slices, peers);
    run();
  }

  void start() {
    start(slices);
  }

  /// Moves the session manager's injected wall clock (it keeps no timers of its own).
  void advance(timespan x) {
    *now += x;
  }

  /// Sends `request` to the session manager, runs every actor until all is quiet, and
  /// returns the reply.
  template <class T, class Request>
  caf::expected<T> ask(Request request) {
    return test::ask<T>(sys, sm, caf::infinite, std::move(request));
  }

  caf::expected<auth::signed_in> signup(std::string email, std::string password) {
    return ask<auth::signed_in>(auth::signup{std::move(email), std::move(password)});
  }

  caf::expected<auth::signed_in> login(std::string email, std::string password) {
    return ask<auth::signed_in>(auth::login{std::move(email), std::move(password)});
  }

  caf::expected<auth::signed_in> resolve(const std::string& token) {
    return ask<auth::signed_in>(auth::resolve{token});
  }

  /// Signs `email` up (password "password1") and returns the token.
  std::string account(const std::string& email, const std::string& password = "password1") {
    auto in = signup(email, password);
    if (!in)
      BOOST_FAIL("signup failed: " << message_of(in.error()));
    return in->token;
  }

  int db_calls(const std::string& name) const {
    return db_data->count(name);
  }
};

/// Whether a reply arrived and was not an error.
template <class T>
bool ok(const caf::expected<T>& x) {
  return static_cast<bool>(x);
}

template <class T>
ec code(const caf::expected<T>& x) {
  return x ? ec::none : code_of(x.error());
}

template <class T>
std::string message(const caf::expected<T>& x) {
  return x ? std::string{} : message_of(x.error());
}

/// The wait a refusal carries as its own field, in seconds; -1 for none.
template <class T>
int64_t retry_after(const caf::expected<T>& x) {
  if (x)
    return -1;
  auto wait = retry_after_of(x.error());
  return wait ? wait->count() : int64_t{-1};
}

slice_record make_slice(int32_t id, int32_t port) {
  slice_record s;
  s.id = id;
  s.port = port;
  s.status = slice_status::assigned;
  return s;
}

} // namespace

// -- signup -----------------------------------------------------------------------------------

BOOST_FIXTURE_TEST_SUITE(signup, fixture)

BOOST_AUTO_TEST_CASE(creates_a_trial_account_with_its_first_session) {
  auto in = signup("  Alice@Example.COM ", "correct horse");
  BOOST_REQUIRE(in);
  BOOST_TEST(in->user.email == "alice@example.com");
  BOOST_TEST(in->user.subscription_status == subscription::trial);
  BOOST_REQUIRE(in->user.subscription_ends_at);
  BOOST_TEST((*in->user.subscription_ends_at == start_time + 14 * day));
  BOOST_TEST(static_cast<bool>(in->user.last_login_at));
  // The token is 64 hex characters; the database holds its SHA-256, never the token.
  BOOST_TEST(in->token.size() == 64u);
  BOOST_TEST(in->token.find_first_not_of("0123456789abcdef") == std::string::npos);
  BOOST_REQUIRE_EQUAL(db_data->sessions.size(), 1u);
  auto& [stored_id, stored] = *db_data->sessions.begin();
  BOOST_TEST(stored_id != in->token);
  BOOST_TEST(stored_id == sha256_hex(in->token));
  BOOST_TEST(stored.user_id == in->user.id);
  BOOST_TEST((stored.created_at == start_time));
  BOOST_TEST((stored.expires_at == start_time + 30 * day));
  BOOST_TEST((in->expires_at == start_time + 30 * day));
  // Hashed at the configured cost, stored as the hasher made it.
  BOOST_TEST(hasher_data->hash_costs == std::vector<int32_t>{12});
  BOOST_TEST(db_data->users[in->user.id].hash == "fake$correct horse");
}

BOOST_AUTO_TEST_CASE(tells_the_slice_manager_and_replies_with_its_placement) {
  slices_data->answer.slice = make_slice(3, 5005);
  auto in = signup("alice@example.com", "password1");
  BOOST_REQUIRE(in);
  BOOST_TEST(slices_data->placed == std::vector<int32_t>{in->user.id});
  BOOST_REQUIRE(in->slice);
  BOOST_TEST(in->slice->port == 5005);
  BOOST_TEST((in->user.slice_id == caf::optional<int32_t>{3}));
  BOOST_TEST(!in->waiting_position);
  slices_data->answer = pool::placement{caf::none, 4};
  auto waiting = signup("bob@example.com", "password1");
  BOOST_REQUIRE(waiting);
  BOOST_TEST(!waiting->slice);
  BOOST_TEST((waiting->waiting_position == caf::optional<int32_t>{4}));
}

BOOST_AUTO_TEST_CASE(succeeds_without_a_placement_when_the_slice_manager_fails) {
  slices_data->fail = true;
  auto in = signup("alice@example.com", "password1");
  BOOST_REQUIRE(in);
  BOOST_TEST(!in->slice);
  BOOST_TEST(!in->waiting_position);
  BOOST_TEST(slices_data->placed.size() == 1u);
}

BOOST_AUTO_TEST_CASE(succeeds_without_a_placement_when_there_is_no_slice_manager) {
  start(slice_manager_actor{});
  auto in = signup("alice@example.com", "password1");
  BOOST_REQUIRE(in);
  BOOST_TEST(!in->slice);
  BOOST_TEST(!in->waiting_position);
  BOOST_TEST(slices_data->placed.empty());
}

BOOST_AUTO_TEST_CASE(a_taken_email_is_a_conflict_whatever_its_case) {
  account("alice@example.com");
  auto again = signup("ALICE@example.com ", "another password");
  BOOST_TEST(code(again) == ec::conflict);
  BOOST_TEST(message(again) == "email already registered");
  BOOST_TEST(db_data->users.size() == 1u);
}

BOOST_AUTO_TEST_CASE(password_of_72_bytes_is_accepted) {
  auto in = signup("alice@example.com", std::string(72, 'p'));
  BOOST_REQUIRE(in);
  BOOST_TEST(db_data->users.begin()->second.hash == "fake$" + std::string(72, 'p'));
}

BOOST_AUTO_TEST_CASE(password_of_73_bytes_is_refused_and_nothing_is_stored) {
  auto in = signup("alice@example.com", std::string(73, 'p'));
  BOOST_TEST(code(in) == ec::password_too_long);
  BOOST_TEST(hasher_data->hash_costs.empty());
  BOOST_TEST(db_data->calls.empty());
  BOOST_TEST(db_data->users.empty());
  // Bytes, not characters: 37 two-byte characters are 74 bytes.
  std::string wide;
  for (int i = 0; i < 37; ++i)
    wide += "\xc3\xa9";
  BOOST_TEST(code(signup("alice@example.com", wide)) == ec::password_too_long);
}

BOOST_AUTO_TEST_CASE(short_passwords_and_bad_emails_are_invalid_requests) {
  BOOST_TEST(code(signup("alice@example.com", "1234567")) == ec::invalid_request);
  BOOST_TEST(code(signup("alice@example.com", "")) == ec::invalid_request);
  BOOST_TEST(code(signup("alice", "password1")) == ec::invalid_request);
  BOOST_TEST(code(signup("", "password1")) == ec::invalid_request);
  BOOST_TEST(code(signup("al ice@example.com", "password1")) == ec::invalid_request);
  BOOST_TEST(message(signup("alice", "password1")).rfind("email: ", 0) == 0u);
  BOOST_TEST(code(signup("alice@example.com", "password\0with nul"s)) == ec::invalid_request);
  BOOST_TEST(hasher_data->hash_costs.empty());
  BOOST_TEST(db_data->calls.empty());
}

BOOST_AUTO_TEST_CASE(a_saturated_hasher_is_passed_on_and_nothing_is_stored) {
  hasher_data->saturated = true;
  auto in = signup("alice@example.com", "password1");
  BOOST_TEST(code(in) == ec::rate_limited);
  BOOST_TEST(db_data->users.empty());
}

BOOST_AUTO_TEST_CASE(database_down_is_unavailable) {
  db_data->outage = make_error(ec::unavailable, "database unavailable");
  BOOST_TEST(code(signup("alice@example.com", "password1")) == ec::unavailable);
}

BOOST_AUTO_TEST_SUITE_END()

// -- login ------------------------------------------------------------------------------------

BOOST_FIXTURE_TEST_SUITE(login, fixture)

BOOST_AUTO_TEST_CASE(opens_a_new_session_and_stamps_last_login) {
  account("alice@example.com", "password1");
  advance(1h);
  auto in = login(" ALICE@example.com", "password1");
  BOOST_REQUIRE(in);
  BOOST_TEST(in->user.email == "alice@example.com");
  BOOST_TEST((in->user.last_login_at == caf::optional<timestamp>{start_time + 1h}));
  BOOST_TEST(db_data->sessions.size() == 2u);
  BOOST_TEST(db_data->sessions.count(sha256_hex(in->token)) == 1u);
  BOOST_TEST((in->expires_at == start_time + 1h + 30 * day));
  BOOST_TEST(hasher_data->verified_hashes == std::vector<std::string>{"fake$password1"});
}

BOOST_AUTO_TEST_CASE(reply_carries_the_users_slice) {
  account("alice@example.com");
  auto& user = db_data->by_email("alice@example.com")->user;
  user.slice_id = 7;
  db_data->slices[7] = make_slice(7, 5013);
  auto in = login("alice@example.com", "password1");
  BOOST_REQUIRE(in);
  BOOST_REQUIRE(in->slice);
  BOOST_TEST(in->slice->port == 5013);
}

BOOST_AUTO_TEST_CASE(unknown_email_and_wrong_password_look_the_same) {
  account("alice@example.com", "password1");
  auto wrong = login("alice@example.com", "password2");
  auto unknown = login("nobody@example.com", "password1");
  BOOST_TEST(code(wrong) == ec::invalid_credentials);
  BOOST_TEST(code(unknown) == ec::invalid_credentials);
  BOOST_TEST(message(wrong) == message(unknown));
  BOOST_TEST(message(wrong) == "invalid email or password");
  // Both spent one bcrypt verification; the unknown e-mail against a `$2b$` hash at the
  // configured cost, so that it takes as long.
  BOOST_REQUIRE_EQUAL(hasher_data->verified_hashes.size(), 2u);
  auto dummy = hasher_data->verified_hashes[1];
  BOOST_TEST(dummy.rfind("$2b$12$", 0) == 0u);
  BOOST_TEST(bcrypt_cost_of(dummy).value_or(0) == 12);
}

BOOST_AUTO_TEST_CASE(the_dummy_follows_the_configured_cost) {
  sm_cfg.bcrypt_cost = 13;
  start();
  login("nobody@example.com", "password1");
  BOOST_REQUIRE_EQUAL(hasher_data->verified_hashes.size(), 1u);
  BOOST_TEST(hasher_data->verified_hashes[0].rfind("$2b$13$", 0) == 0u);
}

BOOST_AUTO_TEST_CASE(password_of_73_bytes_is_refused_without_verifying) {
  account("alice@example.com", std::string(72, 'p'));
  BOOST_TEST(ok(login("alice@example.com", std::string(72, 'p'))));
  BOOST_TEST(code(login("alice@example.com", std::string(73, 'p'))) == ec::password_too_long);
  BOOST_TEST(hasher_data->verified_hashes.size() == 1u);
}

BOOST_AUTO_TEST_CASE(malformed_input_is_an_invalid_request) {
  BOOST_TEST(code(login("", "password1")) == ec::invalid_request);
  BOOST_TEST(code(login("alice@example.com", "")) == ec::invalid_request);
  BOOST_TEST(code(login("not an email", "password1")) == ec::invalid_request);
  BOOST_TEST(db_data->calls.empty());
}

BOOST_AUTO_TEST_CASE(a_saturated_hasher_is_rate_limited_not_a_failure) {
  account("alice@example.com");
  hasher_data->saturated = true;
  auto lookups = db_calls("find_credentials");
  for (int i = 0; i < 15; ++i)
    BOOST_TEST(code(login("alice@example.com", "password1")) == ec::rate_limited);
  // Refused before the database read anything for them.
  BOOST_TEST(db_calls("find_credentials") == lookups);
  hasher_data->saturated = false;
  BOOST_TEST(ok(login("alice@example.com", "password1")));
}

BOOST_AUTO_TEST_SUITE_END()

// -- throttling -------------------------------------------------------------------------------

BOOST_FIXTURE_TEST_SUITE(throttling, fixture)

BOOST_AUTO_TEST_CASE(ten_failures_in_the_window_refuse_the_eleventh_before_any_bcrypt) {
  account("alice@example.com");
  for (int i = 0; i < 10; ++i) {
    BOOST_TEST(code(login("alice@example.com", "wrong password")) == ec::invalid_credentials);
    advance(1min);
  }
  auto verifications = hasher_data->verified_hashes.size();
  auto lookups = db_calls("find_credentials");
  // Even the right password is refused now; the first failure leaves the window at
  // start + 15 min, and it is start + 10 min.
  auto refused = login("alice@example.com", "password1");
  BOOST_TEST(code(refused) == ec::rate_limited);
  BOOST_TEST(message(refused) == "too many failed logins; retry after 300 s");
  BOOST_TEST(retry_after(refused) == 300);
  BOOST_TEST(hasher_data->verified_hashes.size() == verifications);
  BOOST_TEST(db_calls("find_credentials") == lookups);
  advance(5min);
  BOOST_TEST(ok(login("alice@example.com", "password1")));
}

BOOST_AUTO_TEST_CASE(unknown_emails_are_throttled_alike) {
  for (int i = 0; i < 10; ++i)
    BOOST_TEST(code(login("nobody@example.com", "guess" + std::to_string(i)))
               == ec::invalid_credentials);
  auto refused = login("NOBODY@example.com", "guess");
  BOOST_TEST(code(refused) == ec::rate_limited);
  BOOST_TEST(message(refused) == "too many failed logins; retry after 900 s");
  BOOST_TEST(retry_after(refused) == 900);
}

BOOST_AUTO_TEST_CASE(throttling_is_per_email) {
  account("alice@example.com");
  account("bob@example.com");
  for (int i = 0; i < 10; ++i)
    login("alice@example.com", "wrong password");
  BOOST_TEST(code(login("alice@example.com", "password1")) == ec::rate_limited);
  BOOST_TEST(ok(login("bob@example.com", "password1")));
}

BOOST_AUTO_TEST_CASE(a_success_clears_that_emails_failures) {
  account("alice@example.com");
  for (int i = 0; i < 9; ++i)
    login("alice@example.com", "wrong password");
  BOOST_TEST(ok(login("alice@example.com", "password1")));
  for (int i = 0; i < 9; ++i)
    BOOST_TEST(code(login("alice@example.com", "wrong password")) == ec::invalid_credentials);
  BOOST_TEST(ok(login("alice@example.com", "password1")));
}

BOOST_AUTO_TEST_CASE(limit_and_window_are_settings) {
  sm_cfg.login_max_failures = 3;
  sm_cfg.login_failure_window = 1min;
  start();
  for (int i = 0; i < 3; ++i)
    login("alice@example.com", "wrong password");
  auto refused = login("alice@example.com", "wrong password");
  BOOST_TEST(message(refused) == "too many failed logins; retry after 60 s");
  BOOST_TEST(retry_after(refused) == 60);
  advance(1min);
  BOOST_TEST(code(login("alice@example.com", "wrong password")) == ec::invalid_credentials);
}

BOOST_AUTO_TEST_CASE(attempts_in_flight_count_so_a_burst_cannot_slip_through) {
  account("alice@example.com");
  hasher_data->park = true;
  std::vector<test::pending<auth::signed_in>> replies;
  for (int i = 0; i < 12; ++i)
    replies.push_back(ask_later<auth::signed_in>(
      sm, auth::login{"alice@example.com", "guess" + std::to_string(i)}));
  run();
  // Ten are being verified; the other two were refused at once.
  BOOST_TEST(hasher_data->parked.size() == 10u);
  auto count = [&](ec code) {
    return std::count_if(replies.begin(), replies.end(), [code](const auto& x) {
      return x.arrived() && !**x.reply && code_of((*x.reply)->error()) == code;
    });
  };
  BOOST_TEST(count(ec::rate_limited) == 2);
  caf::anon_send(caf::actor_cast<caf::actor>(hasher), caf::ok_atom::value);
  run();
  BOOST_TEST(count(ec::invalid_credentials) == 10);
  hasher_data->park = false;
  BOOST_TEST(code(login("alice@example.com", "password1")) == ec::rate_limited);
}

BOOST_AUTO_TEST_SUITE_END()

// -- resolve ----------------------------------------------------------------------------------

BOOST_FIXTURE_TEST_SUITE(resolve, fixture)

BOOST_AUTO_TEST_CASE(tells_who_owns_a_session_and_where_their_slice_is) {
  slices_data->answer.slice = make_slice(2, 5003);
  auto token = account("alice@example.com");
  auto& user = db_data->by_email("alice@example.com")->user;
  user.slice_id = 2;
  db_data->slices[2] = make_slice(2, 5003);
  auto in = resolve(token);
  BOOST_REQUIRE(in);
  BOOST_TEST(in->user.email == "alice@example.com");
  BOOST_TEST(in->token == token);
  BOOST_REQUIRE(in->slice);
  BOOST_TEST(in->slice->port == 5003);
}

BOOST_AUTO_TEST_CASE(a_cache_hit_sends_nothing_to_persistence) {
  auto token = account("alice@example.com");
  auto before = db_data->calls;
  for (int i = 0; i < 100; ++i)
    BOOST_REQUIRE(resolve(token));
  BOOST_TEST((db_data->calls == before));
}

BOOST_AUTO_TEST_CASE(a_miss_reads_the_database_once_then_hits) {
  auto token = account("alice@example.com");
  start(); // A restart: the cache is empty, the database is not.
  BOOST_REQUIRE(resolve(token));
  BOOST_TEST(db_calls("find_session") == 1);
  BOOST_REQUIRE(resolve(token));
  BOOST_TEST(db_calls("find_session") == 1);
}

BOOST_AUTO_TEST_CASE(concurrent_misses_share_one_lookup) {
  auto token = account("alice@example.com");
  start();
  std::vector<test::pending<auth::signed_in>> replies;
  for (int i = 0; i < 5; ++i)
    replies.push_back(ask_later<auth::signed_in>(sm, auth::resolve{token}));
  run();
  int answered = 0;
  for (auto& x : replies)
    answered += x.arrived() && **x.reply && (*x.reply)->value().token == token;
  BOOST_TEST(answered == 5);
  BOOST_TEST(db_calls("find_session") == 1);
}

BOOST_AUTO_TEST_CASE(an_unknown_token_costs_one_lookup_for_a_while) {
  account("alice@example.com");
  auto bogus = std::string(64, 'b');
  auto before = db_calls("find_session");
  for (int i = 0; i < 50; ++i)
    BOOST_TEST(code(resolve(bogus)) == ec::unauthorized);
  BOOST_TEST(db_calls("find_session") == before + 1);
  // Remembered for a short while only.
  advance(sm_cfg.unknown_ttl + std::chrono::seconds{1});
  BOOST_TEST(code(resolve(bogus)) == ec::unauthorized);
  BOOST_TEST(db_calls("find_session") == before + 2);
}

BOOST_AUTO_TEST_CASE(a_logout_taints_only_lookups_of_its_own_session) {
  auto token = account("alice@example.com");
  auto other = account("bob@example.com");
  start(); // The cache is empty.
  // Alice's resolve misses and asks the database; Bob logs out before the answer.
  auto lookup = ask_later<auth::signed_in>(sm, auth::resolve{token});
  auto logout = ask_later<bool>(sm, auth::logout{other});
  run();
  BOOST_REQUIRE(lookup.arrived());
  BOOST_REQUIRE(logout.arrived());
  // Alice's session was cached all the same: her next resolve needs no database.
  auto calls = db_calls("find_session");
  BOOST_REQUIRE(resolve(token));
  BOOST_TEST(db_calls("find_session") == calls);
}

BOOST_AUTO_TEST_CASE(unknown_and_malformed_tokens_are_unauthorized) {
  account("alice@example.com");
  auto unknown = resolve(std::string(64, 'a'));
  BOOST_TEST(code(unknown) == ec::unauthorized);
  BOOST_TEST(message(unknown) == "invalid or expired session");
  auto calls = db_calls("find_session");
  BOOST_TEST(code(resolve("")) == ec::unauthorized);
  BOOST_TEST(code(resolve("not a token")) == ec::unauthorized);
  BOOST_TEST(code(resolve(std::string(63, 'a'))) == ec::unauthorized);
  // Malformed tokens never reach the database.
  BOOST_TEST(db_calls("find_session") == calls);
}

BOOST_AUTO_TEST_CASE(the_stored_id_is_not_a_token) {
  auto token = account("alice@example.com");
  auto stored_id = db_data->sessions.begin()->first;
  BOOST_TEST(code(resolve(stored_id)) == ec::unauthorized);
  BOOST_TEST(ok(resolve(token)));
}

BOOST_AUTO_TEST_CASE(expiry_rolls_but_is_written_at_most_once_a_day) {
  auto token = account("alice@example.com");
  auto id = sha256_hex(token);
  advance(12h);
  auto in = resolve(token);
  BOOST_REQUIRE(in);
  BOOST_TEST(db_calls("extend_session") == 0);
  BOOST_TEST((in->expires_at == start_time + 30 * day));
  advance(12h);
  in = resolve(token);
  BOOST_REQUIRE(in);
  BOOST_TEST(db_calls("extend_session") == 1);
  BOOST_TEST((in->expires_at == start_time + 31 * day));
  BOOST_TEST((db_data->sessions[id].expires_at == start_time + 31 * day));
  for (int i = 0; i < 10; ++i) {
    advance(1h);
    BOOST_REQUIRE(resolve(token));
  }
  BOOST_TEST(db_calls("extend_session") == 1);
  advance(14h);
  BOOST_REQUIRE(resolve(token));
  BOOST_TEST(db_calls("extend_session") == 2);
  BOOST_TEST((db_data->sessions[id].expires_at == start_time + 2 * day + 30 * day));
}

BOOST_AUTO_TEST_CASE(an_idle_session_expires_even_while_cached) {
  // Keep the cached copy from being refreshed, so that expiry is all that stops it.
  sm_cfg.cache_refresh = 365 * day;
  start();
  auto token = account("alice@example.com");
  advance(30 * day - 1s);
  BOOST_REQUIRE(resolve(token));
  // That resolve rolled it to 60 days; let it lapse.
  advance(30 * day);
  auto in = resolve(token);
  BOOST_TEST(code(in) == ec::unauthorized);
  // Deleted from the database as well.
  BOOST_TEST(db_data->sessions.empty());
  BOOST_TEST(db_calls("find_session") == 0);
}

BOOST_AUTO_TEST_CASE(the_rolling_expiry_is_written_from_the_database_copy_too) {
  auto token = account("alice@example.com");
  start();
  advance(2 * day);
  auto in = resolve(token);
  BOOST_REQUIRE(in);
  BOOST_TEST(db_calls("extend_session") == 1);
  BOOST_TEST((in->expires_at == start_time + 32 * day));
}

BOOST_AUTO_TEST_CASE(an_expired_session_in_the_database_is_refused_and_deleted) {
  auto token = account("alice@example.com");
  start();
  advance(31 * day);
  BOOST_TEST(code(resolve(token)) == ec::unauthorized);
  BOOST_TEST(db_data->sessions.empty());
}

BOOST_AUTO_TEST_CASE(the_absolute_cap_ends_every_session) {
  auto token = account("alice@example.com");
  auto id = sha256_hex(token);
  // Used every 20 days: rolling alone would keep it forever.
  for (int i = 1; i <= 4; ++i) {
    advance(20 * day);
    auto in = resolve(token);
    BOOST_REQUIRE(in);
    BOOST_TEST((in->expires_at <= start_time + 90 * day));
  }
  BOOST_TEST((db_data->sessions[id].expires_at == start_time + 90 * day));
  advance(10 * day - 1s);
  BOOST_TEST(ok(resolve(token)));
  advance(1s);
  BOOST_TEST(code(resolve(token)) == ec::unauthorized);
}

BOOST_AUTO_TEST_CASE(max_age_is_a_setting) {
  sm_cfg.session_max_age = 2 * day;
  start();
  auto token = account("alice@example.com");
  auto in = resolve(token);
  BOOST_REQUIRE(in);
  BOOST_TEST((in->expires_at == start_time + 2 * day));
  advance(2 * day);
  BOOST_TEST(code(resolve(token)) == ec::unauthorized);
}

BOOST_AUTO_TEST_CASE(a_cached_copy_is_refreshed_after_a_while) {
  auto token = account("alice@example.com");
  advance(4min);
  BOOST_REQUIRE(resolve(token));
  BOOST_TEST(db_calls("find_session") == 0);
  advance(2min);
  BOOST_REQUIRE(resolve(token));
  BOOST_TEST(db_calls("find_session") == 1);
}

BOOST_AUTO_TEST_CASE(user_changed_drops_the_cached_copy) {
  auto token = account("alice@example.com");
  BOOST_REQUIRE(resolve(token));
  auto& user = db_data->by_email("alice@example.com")->user;
  user.slice_id = 9;
  db_data->slices[9] = make_slice(9, 5017);
  caf::anon_send(sm, auth::user_changed{user.id});
  run();
  auto in = resolve(token);
  BOOST_REQUIRE(in);
  BOOST_REQUIRE(in->slice);
  BOOST_TEST(in->slice->id == 9);
}

BOOST_AUTO_TEST_CASE(a_new_login_refreshes_the_users_other_cached_sessions) {
  auto first = account("alice@example.com");
  BOOST_REQUIRE(resolve(first));
  advance(1h);
  BOOST_REQUIRE(login("alice@example.com", "password1"));
  auto in = resolve(first);
  BOOST_REQUIRE(in);
  BOOST_TEST((in->user.last_login_at == caf::optional<timestamp>{start_time + 1h}));
}

BOOST_AUTO_TEST_CASE(the_cache_is_bounded) {
  sm_cfg.cache_size = 2;
  start();
  std::vector<std::string> tokens;
  for (int i = 0; i < 3; ++i)
    tokens.push_back(account("user" + std::to_string(i) + "@example.com"));
  // The first one was evicted by the third.
  BOOST_REQUIRE(resolve(tokens[2]));
  BOOST_REQUIRE(resolve(tokens[1]));
  BOOST_TEST(db_calls("find_session") == 0);
  BOOST_REQUIRE(resolve(tokens[0]));
  BOOST_TEST(db_calls("find_session") == 1);
}

BOOST_AUTO_TEST_CASE(database_down_on_a_miss_is_unavailable_not_unauthorized) {
  auto token = account("alice@example.com");
  start();
  db_data->outage = make_error(ec::unavailable, "database unavailable");
  BOOST_TEST(code(resolve(token)) == ec::unavailable);
}

BOOST_AUTO_TEST_SUITE_END()

// -- logout and revocation --------------------------------------------------------------------

BOOST_FIXTURE_TEST_SUITE(revocation, fixture)

BOOST_AUTO_TEST_CASE(logout_takes_effect_at_once) {
  auto token = account("alice@example.com");
  BOOST_REQUIRE(resolve(token));
  auto revoked = ask<bool>(auth::logout{token});
  BOOST_REQUIRE(revoked);
  BOOST_TEST(*revoked);
  BOOST_TEST(db_data->sessions.empty());
  BOOST_TEST(code(resolve(token)) == ec::unauthorized);
  // A second logout finds nothing to revoke.
  auto again = ask<bool>(auth::logout{token});
  BOOST_REQUIRE(again);
  BOOST_TEST(!*again);
  BOOST_TEST(code(ask<bool>(auth::logout{"garbage"})) == ec::unauthorized);
}

BOOST_AUTO_TEST_CASE(a_lookup_racing_a_logout_does_not_resurrect_the_session) {
  auto token = account("alice@example.com");
  start();
  // The resolve misses and asks the database; the logout arrives before the answer.
  auto lookup = ask_later<auth::signed_in>(sm, auth::resolve{token});
  auto logout = ask_later<bool>(sm, auth::logout{token});
  run();
  BOOST_TEST(lookup.arrived());
  BOOST_TEST(logout.arrived());
  BOOST_TEST(code(resolve(token)) == ec::unauthorized);
}

BOOST_AUTO_TEST_CASE(logout_all_revokes_every_session_of_the_caller_only) {
  auto first = account("alice@example.com");
  auto second = login("alice@example.com", "password1");
  BOOST_REQUIRE(second);
  auto bob = account("bob@example.com");
  BOOST_REQUIRE(resolve(first));
  BOOST_REQUIRE(resolve(second->token));
  auto revoked = ask<int32_t>(auth::logout_all{second->token});
  BOOST_REQUIRE(revoked);
  BOOST_TEST(*revoked == 2);
  BOOST_TEST(code(resolve(first)) == ec::unauthorized);
  BOOST_TEST(code(resolve(second->token)) == ec::unauthorized);
  BOOST_TEST(ok(resolve(bob)));
  BOOST_TEST(code(ask<int32_t>(auth::logout_all{first})) == ec::unauthorized);
}

BOOST_AUTO_TEST_CASE(revoke_sessions_revokes_every_session_cached_or_not) {
  auto first = account("alice@example.com");
  auto second = login("alice@example.com", "password1");
  BOOST_REQUIRE(second);
  // Both are cached now: the revocation must reach the cache, not only the database.
  BOOST_REQUIRE(ok(resolve(first)));
  BOOST_REQUIRE(ok(resolve(second->token)));
  auto lookups = db_data->count("find_session");
  auto user_id = second->user.id;
  auto revoked = ask<int32_t>(admin::revoke_sessions{99, user_id});
  BOOST_REQUIRE(revoked);
  BOOST_TEST(*revoked == 2);
  BOOST_TEST(code(resolve(first)) == ec::unauthorized);
  BOOST_TEST(code(resolve(second->token)) == ec::unauthorized);
  BOOST_TEST(db_data->count("find_session") > lookups);
}

BOOST_AUTO_TEST_CASE(every_revocation_and_change_is_announced_to_the_other_instances) {
  auto token = account("alice@example.com");
  auto user_id = db_data->by_email("alice@example.com")->user.id;
  auto second = login("alice@example.com", "password1");
  BOOST_REQUIRE(second);
  peers_data->told.clear();
  // A logout names its session, once the delete committed.
  BOOST_REQUIRE(ok(ask<bool>(auth::logout{second->token})));
  BOOST_REQUIRE_EQUAL(peers_data->told.size(), 1u);
  BOOST_TEST(peers_data->told[0].session_ids.size() == 1u);
  BOOST_TEST(db_data->sessions.count(peers_data->told[0].session_ids[0]) == 0u);
  BOOST_TEST(peers_data->told[0].user_ids.empty());
  // A logout of nothing announces nothing.
  BOOST_REQUIRE(ok(ask<bool>(auth::logout{second->token})));
  BOOST_TEST(peers_data->told.size() == 1u);
  // Rights, a revocation and a changed row name the user.
  BOOST_REQUIRE(ok(ask<user_record>(admin::update_user{99, user_id, true})));
  BOOST_REQUIRE(ok(ask<int32_t>(admin::revoke_sessions{99, user_id})));
  caf::anon_send(sm, auth::user_changed{user_id});
  run();
  BOOST_REQUIRE_EQUAL(peers_data->told.size(), 4u);
  for (size_t i = 1; i < 4; ++i) {
    BOOST_TEST(peers_data->told[i].session_ids.empty());
    BOOST_TEST(peers_data->told[i].user_ids == std::vector<int32_t>{user_id});
  }
  BOOST_TEST(code(resolve(token)) == ec::unauthorized);
}

BOOST_AUTO_TEST_CASE(what_another_instance_revoked_is_forgotten_and_not_announced_again) {
  auto token = account("alice@example.com");
  auto user_id = db_data->by_email("alice@example.com")->user.id;
  BOOST_REQUIRE(ok(resolve(token)));
  BOOST_REQUIRE(ok(resolve(token)));
  auto lookups = db_data->count("find_session");
  peers_data->told.clear();
  // Another instance logged this session out: the database no longer has it, and the cache
  // must not answer for it.
  auto id = db_data->sessions.begin()->first;
  db_data->sessions.clear();
  caf::anon_send(sm, auth::forget_cached{{id}, {}});
  run();
  BOOST_TEST(code(resolve(token)) == ec::unauthorized);
  BOOST_TEST(db_data->count("find_session") == lookups + 1);
  // A user another instance changed is read again too.
  auto other = account("bob@example.com");
  BOOST_REQUIRE(ok(resolve(other)));
  lookups = db_data->count("find_session");
  auto bob_id = db_data->by_email("bob@example.com")->user.id;
  BOOST_TEST(bob_id != user_id);
  caf::anon_send(sm, auth::forget_cached{{}, {bob_id}});
  run();
  BOOST_REQUIRE(ok(resolve(other)));
  BOOST_TEST(db_data->count("find_session") == lookups + 1);
  // Nothing is echoed back to the others.
  BOOST_TEST(peers_data->told.empty());
}

BOOST_AUTO_TEST_CASE(revoke_sessions_of_an_unknown_user_is_not_found) {
  BOOST_TEST(code(ask<int32_t>(admin::revoke_sessions{1, 4711})) == ec::not_found);
  BOOST_TEST(db_data->count("delete_user_sessions") == 0);
}

BOOST_AUTO_TEST_CASE(a_demotion_takes_effect_on_the_next_request_while_cached) {
  auto token = account("alice@example.com");
  auto user_id = db_data->by_email("alice@example.com")->user.id;
  db_data->by_email("alice@example.com")->user.is_admin = true;
  caf::anon_send(sm, auth::user_changed{user_id});
  run();
  BOOST_REQUIRE(ok(ask<user_record>(auth::authorize_admin{token})));
  // Cached: a second check costs no lookup.
  auto lookups = db_data->count("find_session");
  BOOST_REQUIRE(ok(ask<user_record>(auth::authorize_admin{token})));
  BOOST_REQUIRE_EQUAL(db_data->count("find_session"), lookups);
  auto demoted = ask<user_record>(admin::update_user{99, user_id, false});
  BOOST_REQUIRE(demoted);
  BOOST_TEST(!demoted->is_admin);
  BOOST_TEST(code(ask<user_record>(auth::authorize_admin{token})) == ec::forbidden);
  auto promoted = ask<user_record>(admin::update_user{99, user_id, true});
  BOOST_REQUIRE(promoted);
  BOOST_TEST(ok(ask<user_record>(auth::authorize_admin{token})));
}

BOOST_AUTO_TEST_CASE(authorize_admin_needs_an_admin_session) {
  auto token = account("alice@example.com");
  BOOST_TEST(code(ask<user_record>(auth::authorize_admin{token})) == ec::forbidden);
  BOOST_TEST(code(ask<user_record>(auth::authorize_admin{std::string(64, 'b')}))
             == ec::unauthorized);
  db_data->by_email("alice@example.com")->user.is_admin = true;
  auto user_id = db_data->by_email("alice@example.com")->user.id;
  caf::anon_send(sm, auth::user_changed{user_id});
  run();
  auto admin = ask<user_record>(auth::authorize_admin{token});
  BOOST_REQUIRE(admin);
  BOOST_TEST(admin->is_admin);
}

BOOST_AUTO_TEST_SUITE_END()

// -- password change --------------------------------------------------------------------------

BOOST_FIXTURE_TEST_SUITE(password_change, fixture)

BOOST_AUTO_TEST_CASE(replaces_the_hash_and_revokes_the_callers_other_sessions) {
  auto caller = account("alice@example.com", "old password");
  auto other = login("alice@example.com", "old password");
  BOOST_REQUIRE(other);
  BOOST_REQUIRE(resolve(other->token));
  auto revoked = ask<int32_t>(auth::change_password{caller, "old password", "new password"});
  BOOST_REQUIRE(revoked);
  BOOST_TEST(*revoked == 1);
  BOOST_TEST(code(resolve(other->token)) == ec::unauthorized);
  BOOST_TEST(ok(resolve(caller)));
  BOOST_TEST(hasher_data->hash_costs.back() == 12);
  BOOST_TEST(code(login("alice@example.com", "old password")) == ec::invalid_credentials);
  BOOST_TEST(ok(login("alice@example.com", "new password")));
}

BOOST_AUTO_TEST_CASE(a_wrong_old_password_changes_nothing) {
  auto caller = account("alice@example.com", "old password");
  auto result = ask<int32_t>(auth::change_password{caller, "not it", "new password"});
  BOOST_TEST(code(result) == ec::invalid_credentials);
  BOOST_TEST(db_calls("set_password") == 0);
  BOOST_TEST(ok(login("alice@example.com", "old password")));
}

BOOST_AUTO_TEST_CASE(wrong_old_passwords_are_throttled_like_logins) {
  auto caller = account("alice@example.com", "old password");
  for (int i = 0; i < 10; ++i)
    ask<int32_t>(auth::change_password{caller, "guess" + std::to_string(i), "new password"});
  BOOST_TEST(code(ask<int32_t>(auth::change_password{caller, "old password", "new password"}))
             == ec::rate_limited);
  BOOST_TEST(code(login("alice@example.com", "old password")) == ec::rate_limited);
}

BOOST_AUTO_TEST_CASE(the_new_password_follows_the_rules) {
  auto caller = account("alice@example.com", "old password");
  BOOST_TEST(
    code(ask<int32_t>(auth::change_password{caller, "old password", std::string(73, 'x')}))
    == ec::password_too_long);
  BOOST_TEST(code(ask<int32_t>(auth::change_password{caller, "old password", "short"}))
             == ec::invalid_request);
  BOOST_TEST(code(ask<int32_t>(auth::change_password{caller, "", "new password"}))
             == ec::invalid_request);
  BOOST_TEST(db_calls("set_password") == 0);
  BOOST_TEST(hasher_data->hash_costs.size() == 1u);
}

BOOST_AUTO_TEST_CASE(needs_a_live_session) {
  account("alice@example.com", "old password");
  BOOST_TEST(code(ask<int32_t>(
               auth::change_password{std::string(64, 'c'), "old password", "new password"}))
             == ec::unauthorized);
}

BOOST_AUTO_TEST_SUITE_END()

// -- signup events ----------------------------------------------------------------------------

BOOST_FIXTURE_TEST_SUITE(signup_events, fixture)

/// A well-formed bcrypt hash at `cost`.
std::string bcrypt_like(int cost) {
  auto digits = std::to_string(cost);
  if (digits.size() < 2)
    digits = "0" + digits;
  return "$2b$" + digits + "$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234";
}

auth::signup_event event(std::string id, std::string email, int cost = 12) {
  return auth::signup_event{std::move(id), std::move(email), bcrypt_like(cost), caf::none};
}

BOOST_AUTO_TEST_CASE(creates_a_trial_account_and_places_it) {
  auto ev = event("evt_1", " Carol@Example.com");
  ev.stripe_customer = "cus_123";
  auto user = ask<user_record>(ev);
  BOOST_REQUIRE(user);
  BOOST_TEST(user->email == "carol@example.com");
  BOOST_TEST(user->subscription_status == subscription::trial);
  BOOST_TEST((user->stripe_customer == caf::optional<std::string>{"cus_123"}));
  BOOST_TEST(db_data->users[user->id].hash == bcrypt_like(12));
  BOOST_TEST(slices_data->placed == std::vector<int32_t>{user->id});
  // No session: nobody signed in.
  BOOST_TEST(db_data->sessions.empty());
}

BOOST_AUTO_TEST_CASE(a_batch_makes_its_accounts_in_one_request_and_answers_each) {
  auto web = account("taken@example.com");
  slices_data->answer.slice = slice_record{};
  slices_data->answer.slice->id = 9;
  auto calls = db_data->calls["create_users"];
  auto placed_before = slices_data->placed.size();
  auto results = ask<std::vector<auth::signup_result>>(auth::signup_events{
    {event("evt_a", "a@example.com"), event("evt_cost", "b@example.com", 4),
     event("evt_taken", "Taken@example.com"), event("evt_c", "c@example.com")}});
  BOOST_REQUIRE(results);
  BOOST_REQUIRE_EQUAL(results->size(), 4u);
  auto& r = *results;
  BOOST_REQUIRE(r[0].user);
  BOOST_TEST(r[0].user->email == "a@example.com");
  BOOST_TEST((r[0].user->slice_id == caf::optional<int32_t>{9}));
  // Refused before the database, alone.
  BOOST_TEST(!r[1].user);
  BOOST_TEST((code_of(r[1].error) == ec::invalid_request));
  // The address has an account: that account, as for one event.
  BOOST_REQUIRE(r[2].user);
  BOOST_TEST(!r[2].error);
  BOOST_TEST(db_data->users[r[2].user->id].hash == "fake$password1");
  BOOST_REQUIRE(r[3].user);
  BOOST_TEST(r[3].user->email == "c@example.com");
  // One transaction for the three that reached the database, one pass for the two new ones.
  BOOST_TEST(db_data->calls["create_users"] - calls == 1);
  BOOST_TEST(slices_data->batches == 1);
  BOOST_TEST(std::vector<int32_t>(slices_data->placed.begin() + placed_before,
                                  slices_data->placed.end())
             == (std::vector<int32_t>{r[0].user->id, r[3].user->id}));
  BOOST_TEST(ok(resolve(web)));
}

BOOST_AUTO_TEST_CASE(a_batch_the_database_cannot_take_fails_each_event) {
  db_data->outage = make_error(ec::unavailable, "database unavailable");
  auto results = ask<std::vector<auth::signup_result>>(auth::signup_events{
    {event("evt_a", "a@example.com"), event("evt_cost", "b@example.com", 4)}});
  BOOST_REQUIRE(results);
  BOOST_REQUIRE_EQUAL(results->size(), 2u);
  BOOST_TEST((code_of((*results)[0].error) == ec::unavailable));
  BOOST_TEST((code_of((*results)[1].error) == ec::invalid_request));
  BOOST_TEST(slices_data->placed.empty());
}

BOOST_AUTO_TEST_CASE(is_idempotent_by_event_id) {
  auto first = ask<user_record>(event("evt_1", "carol@example.com"));
  auto again = ask<user_record>(event("evt_1", "carol@example.com"));
  BOOST_REQUIRE(first);
  BOOST_REQUIRE(again);
  BOOST_TEST(first->id == again->id);
  BOOST_TEST(db_data->users.size() == 1u);
  BOOST_TEST(slices_data->placed.size() == 1u);
}

BOOST_AUTO_TEST_CASE(is_idempotent_by_email) {
  auto web = account("carol@example.com");
  auto user = ask<user_record>(event("evt_2", "CAROL@example.com"));
  BOOST_REQUIRE(user);
  BOOST_TEST(user->email == "carol@example.com");
  BOOST_TEST(db_data->users.size() == 1u);
  // The existing account keeps its password and its sessions.
  BOOST_TEST(db_data->users[user->id].hash == "fake$password1");
  BOOST_TEST(ok(resolve(web)));
  BOOST_TEST(slices_data->placed.size() == 1u);
}

BOOST_AUTO_TEST_CASE(the_hash_must_be_bcrypt_of_cost_12_or_more) {
  BOOST_TEST(code(ask<user_record>(event("evt_1", "a@example.com", 11)))
             == ec::invalid_request);
  BOOST_TEST(ok(ask<user_record>(event("evt_2", "b@example.com", 13))));
  auto plain = event("evt_3", "c@example.com");
  plain.password_hash = "hunter22";
  BOOST_TEST(code(ask<user_record>(plain)) == ec::invalid_request);
  auto yescrypt = event("evt_4", "d@example.com");
  yescrypt.password_hash = "$y$j9T$abcdefghijklmnopqrstuv$ABCDEFGHIJKLMNOPQRSTUVWXYZ012345678";
  BOOST_TEST(code(ask<user_record>(yescrypt)) == ec::invalid_request);
  BOOST_TEST(db_data->users.size() == 1u);
}

BOOST_AUTO_TEST_CASE(the_hash_cost_must_stay_within_the_configured_range) {
  // Cost 31 is a day of CPU per login attempt: refused, as is anything above the range.
  for (auto cost : {15, 20, 31})
    BOOST_TEST(code(ask<user_record>(event("evt_hi_" + std::to_string(cost),
                                           std::to_string(cost) + "@example.com", cost)))
                 == ec::invalid_request,
               "cost " << cost);
  BOOST_TEST(ok(ask<user_record>(event("evt_14", "fourteen@example.com", 14))));
  BOOST_TEST(db_data->users.size() == 1u);
}

BOOST_AUTO_TEST_CASE(malformed_events_are_invalid_requests) {
  BOOST_TEST(code(ask<user_record>(event("", "a@example.com"))) == ec::invalid_request);
  BOOST_TEST(code(ask<user_record>(event("evt_1", "not an email"))) == ec::invalid_request);
  BOOST_TEST(code(ask<user_record>(event("evt_1", ""))) == ec::invalid_request);
  BOOST_TEST(db_data->calls.empty());
}

BOOST_AUTO_TEST_CASE(database_down_is_passed_on_so_the_event_is_retried) {
  db_data->outage = make_error(ec::unavailable, "database unavailable");
  BOOST_TEST(code(ask<user_record>(event("evt_1", "a@example.com"))) == ec::unavailable);
}

BOOST_AUTO_TEST_SUITE_END()
