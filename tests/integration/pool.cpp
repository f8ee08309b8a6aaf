#define BOOST_TEST_MODULE pool
#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <caf/all.hpp>
#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

#include "actors/actors.hpp"
#include "actors/janitor.hpp"
#include "actors/runtime.hpp"
#include "actors/slice_manager.hpp"
#include "common/database_url.hpp"
#include "messages/error.hpp"
#include "persistence/persistence.hpp"
#include "persistence/provisioner.hpp"
#include "runtime/external_driver.hpp"
#include "tests/support/ask.hpp"
#include "tests/support/printing.hpp"
#include "tests/support/servers.hpp"
#include "tests/support/sql.hpp"
#include "tests/support/system.hpp"
#include "tests/support/temp_dir.hpp"

// The slice manager with the real persistence actor on a real PostgreSQL, the real janitor,
// and the `external` runtime (slices run by someone else: starting and stopping succeed and do
// nothing). What leaves the process is caught by a recording event sink.

using namespace slicegate;
using namespace std::chrono_literals;

namespace {

/// What the recording event sink and user listener saw. They run on scheduler threads, the
/// test reads from its own: hence the lock.
struct recorder {
  std::mutex mtx;
  std::vector<events::slice_status_changed> statuses;
  std::vector<events::user_slice_changed> user_slices;
  std::vector<int32_t> users_changed;

  template <class F>
  auto with(F f) {
    std::lock_guard<std::mutex> guard{mtx};
    return f(*this);
  }

  std::vector<std::string> transitions_of(int32_t slice_id) {
    return with([slice_id](recorder& r) {
      std::vector<std::string> result;
      for (auto& e : r.statuses)
        if (e.slice_id == slice_id)
          result.push_back(to_string(e.from) + "->" + to_string(e.to) + " (" + e.reason + ")");
      return result;
    });
  }
};

using recorder_ptr = std::shared_ptr<recorder>;

pool_event_sink_actor::behavior_type recording_sink(pool_event_sink_actor::pointer,
                                                    recorder_ptr r) {
  return {
    [r](events::slice_status_changed& x) {
      r->with([&](recorder& r) { r.statuses.push_back(std::move(x)); });
    },
    [r](events::user_slice_changed& x) {
      r->with([&](recorder& r) { r.user_slices.push_back(std::move(x)); });
    },
    [r](events::slice_alert&) {},
  };
}

user_listener_actor::behavior_type recording_listener(user_listener_actor::pointer,
                                                      recorder_ptr r) {
  return {
    [r](const auth::user_changed& x) {
      r->with([&](recorder& r) { r.users_changed.push_back(x.user_id); });
    },
  };
}

/// A password hash nobody verifies here.
constexpr const char* some_hash
  = "$2b$12$abcdefghijklmnopqrstuuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01";

struct fixture {
  test::servers& servers = test::shared_servers();
  test::temp_dir data;
  test::system_config cfg;
  caf::actor_system sys{cfg};
  persistence_actor db;
  provisioner_actor provisioner_handle;
  runtime_actor runtime;
  janitor_actor sweeper;
  recorder_ptr seen = std::make_shared<recorder>();
  pool_event_sink_actor events;
  user_listener_actor listener;
  /// How far the slice manager's clock runs ahead of the real one.
  std::shared_ptr<std::atomic<int64_t>> shift_us = std::make_shared<std::atomic<int64_t>>(0);
  slice_manager_config config;
  std::vector<caf::actor> spawned;
  slice_manager_full_actor mgr;

  fixture() {
    spdlog::set_level(spdlog::level::warn);
    servers.reset_database();
    drop_slice_databases();
    db = spawn_persistence();
    must<std::vector<int32_t>>(db, db::migrate{});
    provisioner_config pc;
    pc.database_url = servers.database_url();
    pc.admin_database_url = servers.admin_database_url();
    provisioner_handle = sys.spawn<caf::detached>(provisioner, pc);
    keep(provisioner_handle);
    runtime = sys.spawn<caf::detached>(slicegate::runtime, std::make_shared<external_driver>(),
                                       caf::timespan{1s});
    sweeper = sys.spawn<caf::detached>(janitor, data_root());
    events = sys.spawn(recording_sink, seen);
    listener = sys.spawn(recording_listener, seen);
    keep(runtime, sweeper, events, listener);
    config.data_root = data_root();
    config.slice_database_url = servers.slice_database_url();
    // Most tests drive the policy by hand; the sweep test sets a short interval.
    config.sweep_interval = 1h;
  }

  ~fixture() {
    for (auto& a : spawned)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  }

  template <class... Handles>
  void keep(const Handles&... xs) {
    (spawned.push_back(caf::actor_cast<caf::actor>(xs)), ...);
  }

  std::string data_root() const {
    return data / "slices";
  }

  persistence_actor spawn_persistence() {
    persistence_config pc;
    pc.database_url = servers.database_url();
    auto result = sys.spawn<caf::detached>(persistence, pc);
    keep(result);
    return result;
  }

  clock_fn clock() const {
    return [shift = shift_us] {
      return caf::make_timestamp() + std::chrono::microseconds{shift->load()};
    };
  }

  void shift_clock(caf::timespan d) {
    *shift_us += std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  }

  slice_manager_full_actor spawn_manager(persistence_actor store) {
    auto result = sys.spawn(slice_manager, config, pool_store_actor{store}, provisioner_handle,
                            runtime, sweeper, events, clock());
    keep(result);
    return result;
  }

  /// Spawns the slice manager on `db` and runs start-up reconciliation; returns the number of
  /// interrupted wipes it finished.
  int32_t start_manager() {
    mgr = spawn_manager(db);
    return must<int32_t>(mgr, start_atom_v, listener);
  }

  template <class T, class Handle, class... Ts>
  caf::expected<T> ask(const Handle& dest, Ts... xs) {
    return test::ask<T>(sys, dest, 60s, std::move(xs)...);
  }

  template <class T, class Handle, class... Ts>
  T must(const Handle& dest, Ts... xs) {
    return test::must<T>(sys, dest, 60s, std::move(xs)...);
  }

  /// Creates a user in `trial` ending in 14 days (as signup does) without placing it.
  user_record make_user(const std::string& email, persistence_actor store = {}) {
    db::create_user x;
    x.email = email;
    x.password_hash = some_hash;
    x.subscription_status = subscription::trial;
    x.subscription_ends_at = caf::make_timestamp() + std::chrono::hours{24 * 14};
    return must<db::user_created>(store ? store : db, x).user;
  }

  /// Provisions `n` slices; returns them once every wipe has ended (`create_slices`
  /// answers as soon as the rows exist, in status `destroying`).
  std::vector<slice_record> create_slices(int32_t n) {
    auto created = must<std::vector<slice_record>>(mgr, pool::create_slices{n});
    BOOST_REQUIRE(test::eventually(
      [&] {
        return std::none_of(created.begin(), created.end(), [&](const slice_record& x) {
          return status_of(x.id) == slice_status::destroying;
        });
      },
      60s));
    for (auto& x : created)
      x = must<pool::slice_detail>(mgr, pool::get_slice{x.id}).slice;
    return created;
  }

  pool::placement place(int32_t user_id) {
    return must<pool::placement>(mgr, pool::place_user{user_id});
  }

  slice_record change(int32_t slice_id, pool::verb verb, std::string reason = "") {
    return must<slice_record>(mgr, pool::change_slice{slice_id, verb, std::move(reason)});
  }

  /// Runs statements on the gateway database, outside the actors.
  pqxx::result sql(const std::string& text, const std::string& url = "") {
    return test::sql(url.empty() ? servers.database_url() : url, text);
  }

  std::string slice_database_url(int32_t slice_id) const {
    // What the slice's database holds, read as the superuser (tests/integration/tenancy.cpp
    // connects as the slices' own roles).
    return with_database(servers.superuser_url(), "wa_slice_" + std::to_string(slice_id));
  }

  /// The slice databases a previous test left behind would collide with this one's ids.
  void drop_slice_databases() {
    pqxx::connection conn{servers.superuser_url()};
    pqxx::nontransaction tx{conn};
    for (const auto& row :
         tx.exec("SELECT datname FROM pg_database WHERE datname ~ '^wa_slice_[0-9]+$'"))
    {
      tx.exec("ALTER DATABASE " + tx.quote_name(row[0].as<std::string>()) + " IS_TEMPLATE false");
      tx.exec("DROP DATABASE " + tx.quote_name(row[0].as<std::string>()) + " WITH (FORCE)");
    }
  }

  optional<int32_t> slice_of(int32_t user_id) {
    auto row
      = sql("SELECT slice_id FROM gateway.users WHERE id = " + std::to_string(user_id))[0];
    if (row[0].is_null())
      return caf::none;
    return row[0].as<int32_t>();
  }

  slice_status status_of(int32_t slice_id) {
    auto text
      = sql("SELECT status FROM gateway.slices WHERE id = " + std::to_string(slice_id))[0][0]
          .as<std::string>();
    auto status = from_string<slice_status>(text);
    BOOST_REQUIRE_MESSAGE(status, "slice " << slice_id << " has status " << text);
    return *status;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(pool_tests, fixture)

BOOST_AUTO_TEST_CASE(slices_go_to_the_oldest_waiting_users_and_the_rest_learn_their_place) {
  BOOST_TEST(start_manager() == 0);
  std::vector<user_record> users;
  for (int i = 1; i <= 5; ++i)
    users.push_back(make_user("fifo" + std::to_string(i) + "@example.com"));
  // Nobody has been placed yet; new slices still go to the oldest waiting users.
  auto slices = create_slices(2);
  BOOST_REQUIRE_EQUAL(slices.size(), 2u);
  BOOST_TEST(slices[0].port == 5001);
  BOOST_TEST(slices[1].port == 5003);
  BOOST_REQUIRE(test::eventually([&] { return slice_of(users[1].id) != caf::none; }));
  BOOST_TEST(*slice_of(users[0].id) == slices[0].id);
  BOOST_TEST(*slice_of(users[1].id) == slices[1].id);
  for (int i = 2; i < 5; ++i) {
    auto p = place(users[i].id);
    BOOST_TEST(!p.slice);
    BOOST_REQUIRE(p.waiting_position);
    BOOST_TEST(*p.waiting_position == i - 1);
  }
  // An assigned user's placement is its slice.
  auto first = place(users[0].id);
  BOOST_REQUIRE(first.slice);
  BOOST_TEST(first.slice->id == slices[0].id);
  BOOST_TEST(first.slice->status == slice_status::assigned);
  // The next slice goes to the head of the queue; everyone behind moves up.
  auto third = create_slices(1);
  BOOST_REQUIRE(test::eventually([&] { return slice_of(users[2].id) != caf::none; }));
  BOOST_TEST(*slice_of(users[2].id) == third[0].id);
  BOOST_TEST(*place(users[3].id).waiting_position == 1);
  BOOST_TEST(*place(users[4].id).waiting_position == 2);
  // Everyone who got a slice heard of it, in queue order.
  auto gained = seen->with([](recorder& r) {
    std::vector<int32_t> result;
    for (auto& e : r.user_slices)
      if (e.slice)
        result.push_back(e.user_id);
    return result;
  });
  BOOST_TEST(gained == (std::vector<int32_t>{users[0].id, users[1].id, users[2].id}));
}

BOOST_AUTO_TEST_CASE(a_thousand_users_from_two_streams_share_a_hundred_slices) {
  start_manager();
  BOOST_REQUIRE_EQUAL(create_slices(100).size(), 100u);
  // A second slice manager on its own connection: two daemons' worth of concurrency at the
  // database, not just two mailboxes.
  auto db_b = spawn_persistence();
  auto mgr_b = spawn_manager(db_b);
  std::atomic<int> with_slice{0};
  std::atomic<int> waiting{0};
  std::atomic<int> failures{0};
  auto stream = [&](char name, persistence_actor store, slice_manager_full_actor manager) {
    caf::scoped_actor self{sys};
    for (int i = 0; i < 500; ++i) {
      db::create_user x;
      x.email = std::string{name} + std::to_string(i) + "@example.com";
      x.password_hash = some_hash;
      x.subscription_status = subscription::trial;
      x.subscription_ends_at = caf::make_timestamp() + std::chrono::hours{24 * 14};
      int32_t id = 0;
      self->request(store, 30s, x)
        .receive([&](db::user_created& u) { id = u.user.id; },
                 [&](caf::error&) { ++failures; });
      if (id == 0)
        continue;
      self->request(manager, 30s, pool::place_user{id})
        .receive(
          [&](pool::placement& p) {
            if (p.slice)
              ++with_slice;
            else if (p.waiting_position)
              ++waiting;
            else
              ++failures;
          },
          [&](caf::error&) { ++failures; });
    }
  };
  std::thread a{stream, 'a', db, mgr};
  std::thread b{stream, 'b', db_b, mgr_b};
  a.join();
  b.join();
  BOOST_TEST(failures.load() == 0);
  BOOST_TEST(with_slice.load() + waiting.load() == 1000);
  // A reply may predate the other manager's pass that served its user: the database decides.
  auto row = sql("SELECT count(*) FILTER (WHERE slice_id IS NOT NULL),"
                 "       count(DISTINCT slice_id),"
                 "       (SELECT count(*) FROM gateway.slices WHERE status = 'assigned'),"
                 "       (SELECT count(*) FROM gateway.users u JOIN gateway.slices s"
                 "          ON s.id = u.slice_id AND s.user_id = u.id)"
                 " FROM gateway.users")[0];
  BOOST_TEST(row[0].as<int>() == 100);
  BOOST_TEST(row[1].as<int>() == 100);
  BOOST_TEST(row[2].as<int>() == 100);
  BOOST_TEST(row[3].as<int>() == 100);
  BOOST_TEST(with_slice.load() <= 100);
  // Each assignment was announced once: 100 distinct users, 100 distinct slices.
  auto [users, slices, total] = seen->with([](recorder& r) {
    std::set<int32_t> users;
    std::set<int32_t> slices;
    size_t total = 0;
    for (auto& e : r.user_slices)
      if (e.slice) {
        ++total;
        users.insert(e.user_id);
        slices.insert(e.slice->id);
      }
    return std::make_tuple(users.size(), slices.size(), total);
  });
  BOOST_TEST(total == 100u);
  BOOST_TEST(users == 100u);
  BOOST_TEST(slices == 100u);
  // The 900 left form one queue, numbered 1 to 900 in the order they signed up.
  auto queue
    = sql("SELECT id FROM gateway.users WHERE slice_id IS NULL ORDER BY created_at, id");
  BOOST_REQUIRE_EQUAL(queue.size(), 900u);
  for (pqxx::result::size_type i = 0; i < queue.size(); i += 97) {
    auto p = place(queue[i][0].as<int32_t>());
    BOOST_REQUIRE(p.waiting_position);
    BOOST_TEST(*p.waiting_position == static_cast<int32_t>(i + 1));
  }
}

BOOST_AUTO_TEST_CASE(two_creates_with_one_idempotency_key_make_one_set_of_slices) {
  // Two persistence actors, two connections: the key's lock, not one mailbox, keeps the
  // second request from inserting while the first has not committed.
  auto db_b = spawn_persistence();
  auto request = [&](persistence_actor store) {
    db::insert_slices x{3, config.port_base, config.port_step, 0, data_root()};
    x.idempotency_key = std::string{"same-key"};
    return ask<db::inserted_slices>(pool_store_actor{store}, x);
  };
  for (int round = 0; round < 5; ++round) {
    sql("DELETE FROM gateway.create_requests");
    caf::expected<db::inserted_slices> a{caf::error{}};
    caf::expected<db::inserted_slices> b{caf::error{}};
    std::thread first{[&] { a = request(db); }};
    std::thread second{[&] { b = request(db_b); }};
    first.join();
    second.join();
    BOOST_REQUIRE_MESSAGE(a, test::describe(a));
    BOOST_REQUIRE_MESSAGE(b, test::describe(b));
    BOOST_TEST(a->repeated != b->repeated);
    BOOST_TEST((a->slices == b->slices));
    BOOST_TEST(a->slices.size() == 3u);
    BOOST_TEST(sql("SELECT count(*) FROM gateway.slices")[0][0].as<int>() == 3 * (round + 1));
  }
  // A key is kept with the slices it made, and only for a day.
  BOOST_TEST(sql("SELECT count(*) FROM gateway.create_requests")[0][0].as<int>() == 1);
  sql("UPDATE gateway.create_requests SET created_at = now() - interval '25 hours'");
  auto renewed = request(db);
  BOOST_REQUIRE(renewed);
  BOOST_TEST(!renewed->repeated);
  BOOST_TEST(sql("SELECT count(*) FROM gateway.create_requests")[0][0].as<int>() == 1);
  BOOST_TEST(sql("SELECT count(*) FROM gateway.slices")[0][0].as<int>() == 18);
}

BOOST_AUTO_TEST_CASE(every_transition_is_published_with_its_user_side) {
  start_manager();
  auto user = make_user("life@example.com");
  auto id = create_slices(1)[0].id;
  BOOST_TEST(place(user.id).slice->id == id);
  BOOST_TEST(change(id, pool::verb::suspend, "abuse").status == slice_status::suspended);
  BOOST_TEST(change(id, pool::verb::resume).status == slice_status::assigned);
  // A user still in good standing would be given a fresh slice at once: cancel first.
  sql("UPDATE gateway.users SET subscription_status = 'cancelled' WHERE id = "
      + std::to_string(user.id));
  auto destroyed = change(id, pool::verb::destroy, "requested");
  BOOST_TEST(destroyed.status == slice_status::available);
  BOOST_TEST(!destroyed.user_id);
  BOOST_TEST(!slice_of(user.id));
  BOOST_TEST(seen->transitions_of(id)
             == (std::vector<std::string>{
               "destroying->available (provisioned)",
               "available->assigned (assigned to the oldest "
               "waiting user)",
               "assigned->suspended (admin: abuse)", "suspended->assigned (admin)",
               "assigned->destroying (admin: requested)", "destroying->available (wiped)"}));
  auto user_events = seen->with([](recorder& r) { return r.user_slices; });
  BOOST_REQUIRE_EQUAL(user_events.size(), 2u);
  BOOST_TEST(user_events[0].user_id == user.id);
  BOOST_REQUIRE(user_events[0].slice);
  BOOST_TEST(user_events[0].slice->id == id);
  BOOST_TEST(user_events[1].user_id == user.id);
  BOOST_TEST(!user_events[1].slice);
  // The session manager heard of every change of that user's slice.
  auto told = seen->with([](recorder& r) { return r.users_changed; });
  BOOST_TEST(told.size() == 4u);
  BOOST_TEST(std::all_of(told.begin(), told.end(), [&](int32_t x) { return x == user.id; }));
  // The suspension's reason was recorded, the resumption cleared it.
  auto reason
    = sql("SELECT status_reason FROM gateway.slices WHERE id = " + std::to_string(id));
  BOOST_TEST(reason[0][0].is_null());
}

BOOST_AUTO_TEST_CASE(destroy_scrubs_the_slice_database_and_the_data_directory) {
  start_manager();
  auto user = make_user("scrub@example.com");
  auto id = create_slices(1)[0].id;
  BOOST_TEST(place(user.id).slice->id == id);
  sql("INSERT INTO contacts (wa_id, name) VALUES ('15551234567@s.whatsapp.net', 'Ada')",
      slice_database_url(id));
  auto dir = std::filesystem::path{data_root()} / ("slice-" + std::to_string(id));
  std::filesystem::create_directories(dir / "media");
  std::ofstream{dir / "media" / "photo.jpg"} << "not really a photo";
  std::ofstream{dir / "session.json"} << "{}";
  BOOST_TEST(sql("SELECT count(*) FROM contacts", slice_database_url(id))[0][0].as<int>() == 1);
  change(id, pool::verb::destroy);
  BOOST_TEST(sql("SELECT count(*) FROM contacts", slice_database_url(id))[0][0].as<int>() == 0);
  BOOST_TEST(std::filesystem::is_directory(dir));
  BOOST_TEST(std::filesystem::is_empty(dir));
  // The re-made database belongs to the slice's own role.
  auto owner = sql("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'wa_slice_"
                   + std::to_string(id) + "'");
  BOOST_TEST(owner[0][0].as<std::string>() == "wa_slice_" + std::to_string(id));
}

BOOST_AUTO_TEST_CASE(start_up_finishes_slices_left_in_destroying) {
  // A first run: one slice in use, then a crash mid-provisioning (the row exists, nothing
  // else) and one mid-destroy (database still full).
  start_manager();
  auto user = make_user("crash@example.com");
  auto used = create_slices(1)[0].id;
  BOOST_TEST(place(user.id).slice->id == used);
  caf::anon_send_exit(mgr, caf::exit_reason::kill);
  auto half_made = must<db::inserted_slices>(
                     pool_store_actor{db},
                     db::insert_slices{1, config.port_base, config.port_step, 0, data_root()})
                     .slices[0];
  sql("INSERT INTO contacts (wa_id) VALUES ('x@s.whatsapp.net')", slice_database_url(used));
  sql("UPDATE gateway.slices SET status = 'destroying', user_id = NULL WHERE id = "
      + std::to_string(used)
      + "; UPDATE gateway.users SET slice_id = NULL WHERE id = " + std::to_string(user.id));
  BOOST_TEST(status_of(half_made.id) == slice_status::destroying);
  // The next run finishes both before it answers (and the waiting user may have one of
  // them already).
  BOOST_TEST(start_manager() == 2);
  for (auto id : {half_made.id, used})
    BOOST_TEST(
      (status_of(id) == slice_status::available || status_of(id) == slice_status::assigned));
  BOOST_TEST(sql("SELECT count(*) FROM contacts", slice_database_url(used))[0][0].as<int>()
             == 0);
  BOOST_TEST(
    sql("SELECT count(*) FROM contacts", slice_database_url(half_made.id))[0][0].as<int>()
    == 0);
  BOOST_TEST(seen->transitions_of(half_made.id)
             == std::vector<std::string>{"destroying->available (provisioned)"});
  auto used_events = seen->transitions_of(used);
  BOOST_TEST(std::count(used_events.begin(), used_events.end(), "destroying->available (wiped)")
             == 1);
  // The waiting user gets a slice again once slices are available.
  BOOST_REQUIRE(test::eventually([&] { return slice_of(user.id) != caf::none; }));
}

BOOST_AUTO_TEST_CASE(the_sweep_applies_the_billing_policy_by_the_injected_clock) {
  config.sweep_interval = 100ms;
  start_manager();
  auto trial = make_user("trial@example.com");
  auto paying = make_user("paying@example.com");
  auto slices = create_slices(2);
  auto trial_slice = *place(trial.id).slice;
  auto paying_slice = *place(paying.id).slice;
  sql("UPDATE gateway.users SET subscription_status = 'active' WHERE id = "
      + std::to_string(paying.id));
  // An admin's suspension is never undone by the sweep, whatever the billing state.
  change(paying_slice.id, pool::verb::suspend, "abuse");
  // Fifteen days later the trial has ended without payment.
  shift_clock(std::chrono::hours{24 * 15});
  BOOST_REQUIRE(
    test::eventually([&] { return status_of(trial_slice.id) == slice_status::suspended; }));
  BOOST_TEST(sql("SELECT status_reason FROM gateway.slices WHERE id = "
                 + std::to_string(trial_slice.id))[0][0]
               .as<std::string>()
             == "billing: trial ended");
  // Payment arrives: billing resumes what billing suspended.
  sql("UPDATE gateway.users SET subscription_status = 'active' WHERE id = "
      + std::to_string(trial.id));
  BOOST_REQUIRE(
    test::eventually([&] { return status_of(trial_slice.id) == slice_status::assigned; }));
  // Then a cancellation that ended a day ago (by the shifted clock): suspended at once...
  sql("UPDATE gateway.users SET subscription_status = 'cancelled',"
      " subscription_ends_at = now() + interval '14 days' WHERE id = "
      + std::to_string(trial.id));
  BOOST_REQUIRE(
    test::eventually([&] { return status_of(trial_slice.id) == slice_status::suspended; }));
  // ...and destroyed once the 30 days of data retention have passed.
  shift_clock(std::chrono::hours{24 * 30});
  BOOST_REQUIRE(test::eventually([&] { return slice_of(trial.id) == caf::none; }));
  BOOST_REQUIRE(
    test::eventually([&] { return status_of(trial_slice.id) == slice_status::available; }));
  BOOST_TEST(seen->transitions_of(trial_slice.id)
             == (std::vector<std::string>{
               "destroying->available (provisioned)",
               "available->assigned (assigned to the oldest waiting user)",
               "assigned->suspended (billing: trial ended)",
               "suspended->assigned (billing: subscription active)",
               "assigned->suspended (billing: subscription ended)",
               "suspended->destroying (billing: data retention after cancellation ended)",
               "destroying->available (wiped)"}));
  BOOST_TEST(status_of(paying_slice.id) == slice_status::suspended);
}

BOOST_AUTO_TEST_CASE(a_payment_after_the_sweep_read_what_was_due_keeps_the_data) {
  start_manager();
  auto user = make_user("late@example.com");
  create_slices(1);
  auto slice = *place(user.id).slice;
  // Cancelled, ended 40 days ago: the slice's data is due for destruction.
  sql("UPDATE gateway.users SET subscription_status = 'cancelled',"
      " subscription_ends_at = now() - interval '40 days' WHERE id = "
      + std::to_string(user.id));
  auto now = caf::make_timestamp();
  db::due_actions query{now, now - config.past_due_grace, now - config.data_retention,
                        user.id};
  auto due = must<std::vector<db::due_action>>(db, query);
  BOOST_REQUIRE_EQUAL(due.size(), 1u);
  BOOST_REQUIRE(due[0].action == pool::verb::destroy);
  // The customer pays after the sweep read that, before it acts.
  sql("UPDATE gateway.users SET subscription_status = 'active', subscription_ends_at = NULL "
      "WHERE id = " + std::to_string(user.id));
  db::transition_slice destroy{slice.id,
                               {slice_status::assigned, slice_status::suspended},
                               slice_status::destroying,
                               due[0].reason,
                               db::due_guard{query.now, query.past_due_before,
                                             query.ended_before, pool::verb::destroy}};
  test::check_fails(ask<db::slice_transition>(db, destroy), ec::conflict);
  BOOST_TEST(status_of(slice.id) == slice_status::assigned);
  BOOST_TEST((slice_of(user.id) == optional<int32_t>{slice.id}));
  // Without the payment the same request destroys.
  sql("UPDATE gateway.users SET subscription_status = 'cancelled',"
      " subscription_ends_at = now() - interval '40 days' WHERE id = "
      + std::to_string(user.id));
  auto moved = must<db::slice_transition>(db, destroy);
  BOOST_TEST(moved.slice.status == slice_status::destroying);
}

BOOST_AUTO_TEST_CASE(past_due_suspends_after_the_grace_period_or_at_once_when_unpaid) {
  start_manager();
  auto late = make_user("late@example.com");
  auto recent = make_user("recent@example.com");
  auto unpaid = make_user("unpaid@example.com");
  create_slices(3);
  std::map<int32_t, int32_t> slice;
  for (auto& u : {late, recent, unpaid})
    slice[u.id] = place(u.id).slice->id;
  sql("UPDATE gateway.users SET subscription_status = 'past_due', stripe_status = 'past_due',"
      " past_due_since = now() - interval '15 days' WHERE id = "
      + std::to_string(late.id));
  sql("UPDATE gateway.users SET subscription_status = 'past_due', stripe_status = 'past_due',"
      " past_due_since = now() - interval '1 day' WHERE id = "
      + std::to_string(recent.id));
  sql("UPDATE gateway.users SET subscription_status = 'past_due', stripe_status = 'unpaid',"
      " past_due_since = now() WHERE id = "
      + std::to_string(unpaid.id));
  // The billing actor's nudge applies the policy to that user at once.
  for (auto& u : {late, recent, unpaid})
    caf::anon_send(mgr, pool::billing_changed{u.id});
  BOOST_REQUIRE(test::eventually([&] {
    return status_of(slice[late.id]) == slice_status::suspended
           && status_of(slice[unpaid.id]) == slice_status::suspended;
  }));
  BOOST_TEST(status_of(slice[recent.id]) == slice_status::assigned);
}

BOOST_AUTO_TEST_CASE(admin_assignment_and_the_listing) {
  start_manager();
  auto a = make_user("a@example.com");
  auto b = make_user("b@example.com");
  auto slices = create_slices(2);
  // Both were waiting when the slices came: the oldest got the first.
  BOOST_REQUIRE(test::eventually([&] { return slice_of(b.id) != caf::none; }));
  change(*slice_of(a.id), pool::verb::destroy);
  BOOST_REQUIRE(test::eventually([&] { return slice_of(a.id) != caf::none; }));
  auto c = make_user("c@example.com");
  auto none_free = ask<slice_record>(mgr, pool::assign_slice{c.id, caf::none});
  BOOST_REQUIRE(!none_free);
  BOOST_TEST((code_of(none_free.error()) == ec::conflict));
  auto extra = create_slices(1)[0];
  BOOST_REQUIRE(test::eventually([&] { return slice_of(c.id) != caf::none; }));
  BOOST_TEST(*slice_of(c.id) == extra.id);
  auto listed = must<std::vector<slice_record>>(mgr, pool::list_slices{});
  BOOST_TEST(listed.size() == 3u);
  auto detail = must<pool::slice_detail>(mgr, pool::get_slice{extra.id});
  BOOST_TEST((detail.slice.user_id == optional<int32_t>{c.id}));
  BOOST_TEST(!detail.latest);
  auto missing = ask<pool::slice_detail>(mgr, pool::get_slice{9999});
  BOOST_REQUIRE(!missing);
  BOOST_TEST((code_of(missing.error()) == ec::not_found));
}

BOOST_AUTO_TEST_CASE(the_pool_floor_keeps_slices_ready_up_to_the_ceiling) {
  config.min_available = 3;
  config.max_slices = 4;
  start_manager();
  BOOST_REQUIRE(test::eventually([&] {
    return sql("SELECT count(*) FROM gateway.slices WHERE status = 'available'")[0][0].as<int>()
           == 3;
  }));
  std::vector<user_record> users;
  for (int i = 0; i < 3; ++i)
    users.push_back(make_user("floor" + std::to_string(i) + "@example.com"));
  for (auto& u : users)
    BOOST_TEST(static_cast<bool>(place(u.id).slice));
  BOOST_REQUIRE(test::eventually(
    [&] { return sql("SELECT count(*) FROM gateway.slices")[0][0].as<int>() == 4; }));
  std::this_thread::sleep_for(300ms);
  BOOST_TEST(sql("SELECT count(*) FROM gateway.slices")[0][0].as<int>() == 4);
}

BOOST_AUTO_TEST_SUITE_END()
