#define BOOST_TEST_MODULE slice_manager
#include "actors/slice_manager.hpp"

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/actors.hpp"
#include "messages/error.hpp"
#include "messages/status_reason.hpp"
#include "tests/support/ask.hpp"
#include "tests/support/printing.hpp"
#include "tests/support/system.hpp"

// The slice manager on the deterministic scheduler, against fakes of the four interfaces it
// talks to. The fake store keeps slices in a map and answers the pool's queries from it, so
// that a test reads as a story; what SQL does (FIFO order, waiting positions, concurrency) is
// tested against PostgreSQL in tests/integration/pool.cpp.

using namespace slicegate;
using namespace std::chrono_literals;

namespace {

/// What the fakes hold and saw. The deterministic scheduler runs every actor on the test's
/// thread, so the test and the fakes share this without locks.
struct world {
  /// Every request to the store, the runtime and the janitor, in order, e.g. "rt stop 4".
  std::vector<std::string> calls;
  /// The billing guards transitions carried, by slice.
  std::vector<std::pair<int32_t, db::due_guard>> guards;
  /// Slices the runtime says run with their own role (`rt::adopt` keeps them).
  std::set<int32_t> running;
  /// The database URL each slice was last started with, and the passwords handed out.
  std::map<int32_t, std::string> started_with;
  int logins = 0;
  /// Requests that fail once, by the same text as in `calls`.
  std::map<std::string, caf::error> fail_once;
  /// Requests whose answer the test gives later, by the text in `calls`; `holder` keeps
  /// them (a promise must be delivered from its owner's context).
  std::set<std::string> hold;
  caf::actor holder;

  // The fake store.
  std::map<int32_t, slice_record> slices;
  std::map<int32_t, optional<std::string>> reasons;
  int32_t next_id = 1;
  /// The slices each idempotency key of `insert_slices` made.
  std::map<std::string, std::vector<int32_t>> create_requests;
  /// Answers of `assign_next`, one per call; none left: nobody waits.
  std::deque<std::vector<db::assignment>> assignments;
  std::map<int32_t, pool::placement> placements;
  /// Answers of `due_actions`, one per call; none left: nothing is due.
  std::deque<std::vector<db::due_action>> due;
  std::vector<db::due_actions> due_queries;

  // What was published and told.
  std::vector<events::slice_status_changed> statuses;
  std::vector<events::user_slice_changed> user_slices;
  std::vector<events::slice_alert> alerts;
  std::vector<int32_t> users_changed;

  /// What the watchers went through, e.g. "spawn 4 available", "status 4 assigned",
  /// "started 4", "exit 4"; and the live ones.
  std::vector<std::string> watcher_log;
  std::map<int32_t, caf::actor> watchers;

  size_t count(const std::string& call) const {
    return static_cast<size_t>(std::count(calls.begin(), calls.end(), call));
  }

  /// The position of `call` in `calls` (calls.size() if absent).
  size_t position(const std::string& call) const {
    return static_cast<size_t>(std::find(calls.begin(), calls.end(), call) - calls.begin());
  }

  slice_record& add_slice(int32_t id, slice_status status, optional<int32_t> user = caf::none,
                          optional<std::string> reason = caf::none) {
    auto& s = slices[id];
    s.id = id;
    s.port = 5001 + 2 * (id - 1);
    s.status = status;
    s.user_id = user;
    reasons[id] = std::move(reason);
    next_id = std::max(next_id, id + 1);
    return s;
  }
};

using world_ptr = std::shared_ptr<world>;

/// Logs `call`; replies with the error it should fail with once, if any.
optional<caf::error> record(const world_ptr& w, std::string call) {
  w->calls.push_back(call);
  if (auto i = w->fail_once.find(call); i != w->fail_once.end()) {
    auto err = std::move(i->second);
    w->fail_once.erase(i);
    return err;
  }
  return caf::none;
}

/// Replies `value` now, or passes the request to the holder, who answers it when the test
/// releases it.
template <class T, class Self>
caf::result<T> answer(Self* self, const world_ptr& w, const std::string& call, T value) {
  if (w->hold.count(call) == 0)
    return value;
  auto rp = self->template make_response_promise<T>();
  rp.delegate(w->holder, call);
  return rp;
}

/// Keeps held requests until the test sends `(ok_atom, call, reply)`.
caf::behavior holder(caf::event_based_actor* self, world_ptr w) {
  auto held = std::make_shared<std::map<std::string, caf::response_promise>>();
  return {
    [self, held](const std::string& call) {
      auto rp = self->make_response_promise();
      (*held)[call] = rp;
      return rp;
    },
    [held](caf::ok_atom, const std::string& call, caf::message& reply) {
      auto i = held->find(call);
      if (i == held->end()) {
        BOOST_ERROR("nothing held for " << call);
        return;
      }
      i->second.deliver(std::move(reply));
      held->erase(i);
    },
  };
}

caf::result<db::slice_transition> fake_transition(const world_ptr& w,
                                                  const db::transition_slice& x) {
  auto i = w->slices.find(x.slice_id);
  if (i == w->slices.end())
    return make_error(ec::not_found, "no slice");
  auto& s = i->second;
  if (std::find(x.from.begin(), x.from.end(), s.status) == x.from.end())
    return make_error(ec::conflict, "slice is " + to_string(s.status));
  db::slice_transition t;
  t.from = s.status;
  t.previous_user_id = s.user_id;
  t.previous_reason = w->reasons[s.id];
  s.status = x.to;
  w->reasons[s.id] = x.reason;
  if (x.to == slice_status::destroying || x.to == slice_status::available)
    s.user_id = caf::none;
  t.slice = s;
  return t;
}

provisioner_actor::behavior_type fake_provisioner(provisioner_actor::pointer, world_ptr w) {
  return {
    [w](db::ensure_template) -> caf::result<bool> {
      if (auto err = record(w, "db ensure_template"))
        return *err;
      return false;
    },
    [w](const db::create_slice_database& x) -> caf::result<bool> {
      if (auto err = record(w, "db create " + x.name))
        return *err;
      return true;
    },
    [w](const db::drop_slice_database& x) -> caf::result<bool> {
      if (auto err = record(w, "db drop " + x.name))
        return *err;
      return true;
    },
    [w](const db::slice_login& x) -> caf::result<db::slice_credentials> {
      auto n = std::to_string(x.slice_id);
      if (auto err = record(w, "db login " + n))
        return *err;
      return db::slice_credentials{"wa_slice_" + n, "pw-" + n + "-" + std::to_string(++w->logins)};
    },
  };
}

pool_store_actor::behavior_type fake_store(pool_store_actor::pointer self, world_ptr w) {
  return {
    [w](const db::insert_slices& x) -> caf::result<db::inserted_slices> {
      if (auto err = record(w, "db insert " + std::to_string(x.count)))
        return *err;
      auto made = x.idempotency_key ? w->create_requests.find(*x.idempotency_key)
                                    : w->create_requests.end();
      if (made != w->create_requests.end()) {
        db::inserted_slices repeat{{}, true};
        for (auto id : made->second)
          repeat.slices.push_back(w->slices[id]);
        return repeat;
      }
      if (x.max_slices > 0 && w->slices.size() + x.count > static_cast<size_t>(x.max_slices))
        return make_error(ec::conflict, "max-slices");
      db::inserted_slices result;
      for (int32_t i = 0; i < x.count; ++i) {
        auto id = w->next_id;
        result.slices.push_back(
          w->add_slice(id, slice_status::destroying, caf::none, std::string{"provisioning"}));
        if (x.idempotency_key)
          w->create_requests[*x.idempotency_key].push_back(id);
      }
      return result;
    },
    [w](const db::list_slices& x) -> caf::result<std::vector<slice_record>> {
      if (auto err = record(w, "db list"))
        return *err;
      std::vector<slice_record> result;
      for (auto& [id, s] : w->slices)
        if (!x.status || s.status == *x.status)
          result.push_back(s);
      return result;
    },
    [w](const db::get_slice_detail& x) -> caf::result<pool::slice_detail> {
      if (auto err = record(w, "db get " + std::to_string(x.slice_id)))
        return *err;
      auto i = w->slices.find(x.slice_id);
      if (i == w->slices.end())
        return make_error(ec::not_found, "no slice");
      return pool::slice_detail{i->second, caf::none};
    },
    [w](const db::transition_slice& x) -> caf::result<db::slice_transition> {
      if (x.due)
        w->guards.push_back({x.slice_id, *x.due});
      auto status = w->slices.count(x.slice_id) ? to_string(w->slices[x.slice_id].status) : "?";
      if (auto err = record(w, "db transition " + std::to_string(x.slice_id) + " " + status
                                 + "->" + to_string(x.to)))
        return *err;
      return fake_transition(w, x);
    },
    [w](const db::assign_next&) -> caf::result<std::vector<db::assignment>> {
      if (auto err = record(w, "db assign_next"))
        return *err;
      if (w->assignments.empty())
        return std::vector<db::assignment>{};
      auto result = std::move(w->assignments.front());
      w->assignments.pop_front();
      for (auto& a : result) {
        w->add_slice(a.slice.id, slice_status::assigned, a.user_id);
        a.slice = w->slices[a.slice.id];
      }
      return result;
    },
    [w](const db::assign_user& x) -> caf::result<db::assignment> {
      if (auto err = record(w, "db assign_user " + std::to_string(x.user_id)))
        return *err;
      auto i = x.slice_id ? w->slices.find(*x.slice_id) : w->slices.end();
      if (i == w->slices.end() || i->second.status != slice_status::available)
        return make_error(ec::conflict, "slice not available");
      i->second.status = slice_status::assigned;
      i->second.user_id = x.user_id;
      return db::assignment{x.user_id, i->second};
    },
    [w](const db::get_placement& x) -> caf::result<pool::placement> {
      if (auto err = record(w, "db placement " + std::to_string(x.user_id)))
        return *err;
      return w->placements[x.user_id];
    },
    [w](const db::get_placements& x) -> caf::result<std::vector<pool::placement>> {
      std::string ids;
      for (auto id : x.user_ids)
        ids += " " + std::to_string(id);
      if (auto err = record(w, "db placements" + ids))
        return *err;
      std::vector<pool::placement> result;
      for (auto id : x.user_ids)
        result.push_back(w->placements[id]);
      return result;
    },
    [self, w](const db::due_actions& x) -> caf::result<std::vector<db::due_action>> {
      if (auto err = record(w, "db due_actions"))
        return *err;
      w->due_queries.push_back(x);
      std::vector<db::due_action> result;
      if (!w->due.empty()) {
        result = std::move(w->due.front());
        w->due.pop_front();
      }
      return answer(self, w, "db due_actions", std::move(result));
    },
    [w](db::count_pool) -> caf::result<db::pool_totals> {
      if (auto err = record(w, "db count"))
        return *err;
      db::pool_totals t;
      for (auto& [id, s] : w->slices) {
        ++t.total;
        if (s.status == slice_status::available && !s.user_id && s.healthy != false)
          ++t.ready;
        if (s.status == slice_status::destroying)
          ++t.destroying;
      }
      return t;
    },
  };
}

pool_runtime_actor::behavior_type fake_runtime(pool_runtime_actor::pointer self, world_ptr w) {
  auto reply = [self, w](std::string call) -> caf::result<bool> {
    if (auto err = record(w, call))
      return *err;
    return answer(self, w, call, true);
  };
  return {
    [reply, w](const rt::start& x) {
      w->started_with[x.spec.slice_id] = x.spec.database_url;
      return reply("rt start " + std::to_string(x.spec.slice_id));
    },
    [w](const rt::adopt& x) -> caf::result<bool> {
      if (auto err = record(w, "rt adopt " + std::to_string(x.slice_id) + " " + x.database_role))
        return *err;
      return w->running.count(x.slice_id) > 0;
    },
    [reply](const rt::stop& x) { return reply("rt stop " + std::to_string(x.slice_id)); },
    [reply](const rt::remove& x) { return reply("rt remove " + std::to_string(x.slice_id)); },
    [reply](rt::subscribe) { return reply("rt subscribe"); },
  };
}

janitor_actor::behavior_type fake_janitor(janitor_actor::pointer, world_ptr w) {
  return {
    [w](const fs::empty_slice_dir& x) -> caf::result<std::string> {
      if (auto err = record(w, "fs empty " + std::to_string(x.slice_id)))
        return *err;
      return "/data/slice-" + std::to_string(x.slice_id);
    },
  };
}

pool_event_sink_actor::behavior_type fake_events(pool_event_sink_actor::pointer, world_ptr w) {
  return {
    [w](events::slice_status_changed& x) { w->statuses.push_back(std::move(x)); },
    [w](events::user_slice_changed& x) { w->user_slices.push_back(std::move(x)); },
    [w](events::slice_alert& x) { w->alerts.push_back(std::move(x)); },
  };
}

slice_watcher_actor::behavior_type fake_watcher(slice_watcher_actor::pointer self, world_ptr w,
                                                watched_slice slice) {
  auto id = std::to_string(slice.spec.slice_id);
  w->watcher_log.push_back("spawn " + id + " " + to_string(slice.status));
  w->watchers[slice.spec.slice_id] = caf::actor_cast<caf::actor>(self);
  self->attach_functor([w, id] { w->watcher_log.push_back("exit " + id); });
  return {
    // The watcher's own timers; the slice manager never sends them.
    [](tick_atom) { BOOST_ERROR("the slice manager sent a watcher a tick"); },
    [](disk_atom) { BOOST_ERROR("the slice manager sent a watcher a disk tick"); },
    [w, id](const telemetry::slice_status& x) {
      w->watcher_log.push_back("status " + id + " " + to_string(x.status));
    },
    [w, id](const telemetry::slice_started&) { w->watcher_log.push_back("started " + id); },
  };
}

user_listener_actor::behavior_type fake_listener(user_listener_actor::pointer, world_ptr w) {
  return {
    [w](const auth::user_changed& x) { w->users_changed.push_back(x.user_id); },
  };
}

using test::pending;

struct fixture : test::deterministic_system {
  world_ptr w = std::make_shared<world>();
  timestamp now = timestamp{std::chrono::hours{24 * 20000}};
  slice_manager_config config;
  pool_store_actor store;
  provisioner_actor provisioner;
  pool_runtime_actor runtime;
  janitor_actor janitor;
  pool_event_sink_actor events;
  user_listener_actor listener;
  slice_manager_full_actor mgr;

  fixture() {
    spdlog::set_level(spdlog::level::warn);
    config.data_root = "/data";
    config.slice_database_url = "postgresql://wank_gateway@127.0.0.1:5432/wank_saas";
    config.sweep_interval = 10s;
    config.retry_min = 1s;
    config.retry_max = 8s;
    store = spawn(fake_store, w);
    provisioner = spawn(fake_provisioner, w);
    runtime = spawn(fake_runtime, w);
    janitor = spawn(fake_janitor, w);
    events = spawn(fake_events, w);
    listener = spawn(fake_listener, w);
    w->holder = spawn(holder, w);
  }

  void spawn_manager() {
    config.watchers = [this](watched_slice slice) {
      return spawn(fake_watcher, w, std::move(slice));
    };
    auto clock = [this] {
      return now;
    };
    mgr = spawn(slice_manager, config, store, provisioner, runtime, janitor, events,
                clock_fn{clock});
    run();
  }

  /// Spawns the manager and runs start-up reconciliation.
  void start() {
    spawn_manager();
    auto wiped = ask<int32_t>(start_atom_v, listener);
    BOOST_REQUIRE(wiped);
  }

  /// Sends a request to the manager; the reply lands in the returned slot once the system
  /// has run.
  template <class T, class... Ts>
  pending<T> ask_later(Ts... xs) {
    return deterministic_system::ask_later<T>(mgr, std::move(xs)...);
  }

  template <class T, class... Ts>
  caf::expected<T> ask(Ts... xs) {
    return test::ask<T>(sys, mgr, caf::infinite, std::move(xs)...);
  }

  template <class T>
  void tell(T x) {
    caf::anon_send(mgr, std::move(x));
    run();
  }

  /// Moves both clocks: the actors' timers and the injected wall clock.
  void advance(caf::timespan d) {
    now += d;
    deterministic_system::advance(d);
  }

  /// Answers a held request.
  template <class T>
  void release(const std::string& call, T value) {
    w->hold.erase(call);
    caf::anon_send(w->holder, caf::ok_atom::value, call, caf::make_message(std::move(value)));
    run();
  }

  /// The wipe of slice `id`, step by step, as `calls` should show it.
  static std::vector<std::string> wipe_calls(int32_t id) {
    auto n = std::to_string(id);
    return {"rt remove " + n,          "db drop wa_slice_" + n,
            "db create wa_slice_" + n, "fs empty " + n,
            "db login " + n,           "rt start " + n,
            "db transition " + n + " destroying->available"};
  }

  void check_wiped_in_order(int32_t id) {
    size_t last = 0;
    for (auto& call : wipe_calls(id)) {
      auto pos = w->position(call);
      BOOST_TEST_CONTEXT("call " << call) {
        BOOST_TEST(pos < w->calls.size());
        BOOST_TEST(pos >= last);
      }
      last = pos;
    }
  }

  std::vector<std::string> transitions_of(int32_t slice_id) const {
    std::vector<std::string> result;
    for (auto& e : w->statuses)
      if (e.slice_id == slice_id)
        result.push_back(to_string(e.from) + "->" + to_string(e.to) + " (" + e.reason + ")");
    return result;
  }
};

db::assignment assignment_of(int32_t user, int32_t slice) {
  db::assignment a;
  a.user_id = user;
  a.slice.id = slice;
  a.slice.port = 5001 + 2 * (slice - 1);
  a.slice.status = slice_status::assigned;
  a.slice.user_id = user;
  return a;
}

db::due_action action(int32_t slice, optional<int32_t> user, slice_status status,
                      pool::verb verb, std::string reason) {
  return db::due_action{slice, user, status, verb, std::move(reason)};
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(slice_manager_tests, fixture)

BOOST_AUTO_TEST_CASE(provisioning_inserts_then_wipes_each_slice_into_available) {
  start();
  auto slices = ask<std::vector<slice_record>>(pool::create_slices{2});
  BOOST_REQUIRE(slices);
  BOOST_REQUIRE_EQUAL(slices->size(), 2u);
  for (auto& s : *slices) {
    // The reply shows the rows as inserted; the wipes ran behind it.
    BOOST_TEST(s.status == slice_status::destroying);
    BOOST_TEST(w->slices[s.id].status == slice_status::available);
    check_wiped_in_order(s.id);
    BOOST_TEST(transitions_of(s.id)
               == std::vector<std::string>{"destroying->available (provisioned)"});
  }
  BOOST_TEST((*slices)[0].port == 5001);
  BOOST_TEST((*slices)[1].port == 5003);
  // The row exists before anything else does.
  BOOST_TEST(w->position("db insert 2") < w->position("rt remove 1"));
  // A slice that became available is offered to the waiting queue.
  BOOST_TEST(w->count("db assign_next") >= 1u);
}

BOOST_AUTO_TEST_CASE(create_slices_answers_once_the_rows_exist_before_the_wipes_end) {
  start();
  w->hold.insert("rt start 1");
  auto created = ask_later<std::vector<slice_record>>(pool::create_slices{2});
  run();
  // Slice 1's wipe hangs at its start; the caller has its answer all the same.
  BOOST_REQUIRE(created.arrived());
  auto& slices = **created.reply;
  BOOST_REQUIRE(slices);
  BOOST_REQUIRE_EQUAL(slices->size(), 2u);
  BOOST_TEST((*slices)[0].id == 1);
  BOOST_TEST((*slices)[1].id == 2);
  for (auto& s : *slices)
    BOOST_TEST(s.status == slice_status::destroying);
  BOOST_TEST(w->slices[1].status == slice_status::destroying);
  BOOST_TEST(w->count("db transition 1 destroying->available") == 0u);
  // The slice stays claimed by its wipe: an admin's destroy meanwhile is refused, not raced.
  auto destroyed = ask<slice_record>(pool::change_slice{1, pool::verb::destroy, ""});
  BOOST_REQUIRE(!destroyed);
  BOOST_TEST((code_of(destroyed.error()) == ec::conflict));
  // Once the runtime answers, the wipe ends and the slice is available and announced.
  release("rt start 1", true);
  BOOST_TEST(w->slices[1].status == slice_status::available);
  BOOST_TEST(w->slices[2].status == slice_status::available);
  BOOST_TEST(transitions_of(1)
             == std::vector<std::string>{"destroying->available (provisioned)"});
  // And free for the next operation.
  BOOST_TEST(
    static_cast<bool>(ask<slice_record>(pool::change_slice{1, pool::verb::destroy, ""})));
}

BOOST_AUTO_TEST_CASE(a_repeated_idempotency_key_creates_and_wipes_nothing) {
  start();
  w->hold.insert("rt start 1");
  auto first = ask<std::vector<slice_record>>(pool::create_slices{1, std::string{"k-1"}});
  BOOST_REQUIRE(first);
  BOOST_REQUIRE_EQUAL(first->size(), 1u);
  // Retried while the first request's wipe still runs: the same slice, as it is now.
  auto again = ask<std::vector<slice_record>>(pool::create_slices{1, std::string{"k-1"}});
  BOOST_REQUIRE(again);
  BOOST_REQUIRE_EQUAL(again->size(), 1u);
  BOOST_TEST((*again)[0].id == (*first)[0].id);
  BOOST_TEST((*again)[0].status == slice_status::destroying);
  release("rt start 1", true);
  // Retried after it ended: available now; one wipe in all, and no second slice.
  auto late = ask<std::vector<slice_record>>(pool::create_slices{1, std::string{"k-1"}});
  BOOST_REQUIRE(late);
  BOOST_REQUIRE_EQUAL(late->size(), 1u);
  BOOST_TEST((*late)[0].id == (*first)[0].id);
  BOOST_TEST((*late)[0].status == slice_status::available);
  BOOST_TEST(w->count("rt remove 1") == 1u);
  BOOST_TEST(w->slices.size() == 1u);
  // Another key is another request.
  auto other = ask<std::vector<slice_record>>(pool::create_slices{1, std::string{"k-2"}});
  BOOST_REQUIRE(other);
  BOOST_REQUIRE_EQUAL(other->size(), 1u);
  BOOST_TEST((*other)[0].id == 2);
  BOOST_TEST(w->slices.size() == 2u);
}

BOOST_AUTO_TEST_CASE(create_slices_refuses_a_bad_count_and_reports_the_pool_ceiling) {
  config.max_slices = 1;
  start();
  auto none = ask<std::vector<slice_record>>(pool::create_slices{0});
  BOOST_REQUIRE(!none);
  BOOST_TEST((code_of(none.error()) == ec::invalid_request));
  auto too_many = ask<std::vector<slice_record>>(pool::create_slices{2});
  BOOST_REQUIRE(!too_many);
  BOOST_TEST((code_of(too_many.error()) == ec::conflict));
  BOOST_TEST(w->count("rt remove 1") == 0u);
}

BOOST_AUTO_TEST_CASE(a_new_user_gets_a_slice_and_everyone_hears_of_it) {
  start();
  w->add_slice(3, slice_status::available);
  w->assignments.push_back({assignment_of(42, 3)});
  w->placements[42] = pool::placement{w->slices[3], caf::none};
  w->placements[42].slice->status = slice_status::assigned;
  auto placed = ask<pool::placement>(pool::place_user{42});
  BOOST_REQUIRE(placed);
  BOOST_REQUIRE(placed->slice);
  BOOST_TEST(placed->slice->id == 3);
  BOOST_TEST(!placed->waiting_position);
  BOOST_TEST(
    transitions_of(3)
    == std::vector<std::string>{"available->assigned (assigned to the oldest waiting user)"});
  BOOST_REQUIRE_EQUAL(w->user_slices.size(), 1u);
  BOOST_TEST(w->user_slices[0].user_id == 42);
  BOOST_REQUIRE(w->user_slices[0].slice);
  BOOST_TEST(w->user_slices[0].slice->id == 3);
  BOOST_TEST((w->user_slices[0].at == now));
  BOOST_TEST(w->users_changed == std::vector<int32_t>{42});
  // The reply is read after the assignment transaction.
  BOOST_TEST(w->position("db assign_next") < w->position("db placement 42"));
}

BOOST_AUTO_TEST_CASE(a_user_without_a_free_slice_learns_their_place_in_the_queue) {
  start();
  w->placements[7] = pool::placement{caf::none, 3};
  auto placed = ask<pool::placement>(pool::place_user{7});
  BOOST_REQUIRE(placed);
  BOOST_TEST(!placed->slice);
  BOOST_REQUIRE(placed->waiting_position);
  BOOST_TEST(*placed->waiting_position == 3);
  BOOST_TEST(w->statuses.empty());
  BOOST_TEST(w->user_slices.empty());
}

BOOST_AUTO_TEST_CASE(users_arriving_together_share_assignment_passes) {
  start();
  auto before = w->count("db assign_next");
  std::vector<pending<pool::placement>> replies;
  for (int32_t user = 1; user <= 5; ++user) {
    w->placements[user] = pool::placement{caf::none, user};
    replies.push_back(ask_later<pool::placement>(pool::place_user{user}));
  }
  run();
  for (int32_t user = 1; user <= 5; ++user) {
    auto& reply = *replies[user - 1].reply;
    BOOST_REQUIRE(reply);
    BOOST_REQUIRE(*reply);
    BOOST_TEST(*(*reply)->waiting_position == user);
  }
  // One pass for the first, one shared by the four that came while it ran.
  BOOST_TEST(w->count("db assign_next") - before <= 2u);
}

BOOST_AUTO_TEST_CASE(a_burst_of_users_takes_one_pass_and_one_read) {
  start();
  w->add_slice(3, slice_status::available);
  w->assignments.push_back({assignment_of(42, 3)});
  w->placements[42] = pool::placement{w->slices[3], caf::none};
  w->placements[43] = pool::placement{caf::none, 1};
  auto before = w->count("db assign_next");
  auto placed = ask<std::vector<pool::placement>>(pool::place_users{{42, 43}});
  BOOST_REQUIRE(placed);
  BOOST_REQUIRE_EQUAL(placed->size(), 2u);
  BOOST_REQUIRE((*placed)[0].slice);
  BOOST_TEST((*placed)[0].slice->id == 3);
  BOOST_TEST(!(*placed)[1].slice);
  BOOST_TEST(*(*placed)[1].waiting_position == 1);
  BOOST_TEST(w->count("db assign_next") - before == 1u);
  // Both read at once, after the assignment transaction; none one by one.
  BOOST_TEST(w->count("db placements 42 43") == 1u);
  BOOST_TEST(w->count("db placement 42") == 0u);
  BOOST_TEST(w->position("db assign_next") < w->position("db placements 42 43"));
}

BOOST_AUTO_TEST_CASE(a_full_batch_is_followed_by_another_pass) {
  config.assign_batch = 2;
  start();
  w->assignments.push_back({assignment_of(1, 1), assignment_of(2, 2)});
  w->assignments.push_back({assignment_of(3, 3)});
  auto before = w->count("db assign_next");
  auto placed = ask<pool::placement>(pool::place_user{3});
  BOOST_REQUIRE(placed);
  BOOST_TEST(w->count("db assign_next") - before == 2u);
  BOOST_TEST(w->user_slices.size() == 3u);
}

BOOST_AUTO_TEST_CASE(status_reasons_name_their_cause_once) {
  BOOST_TEST(make_reason(reason_cause::admin, "abuse report") == "admin: abuse report");
  BOOST_TEST(make_reason(reason_cause::admin) == "admin");
  BOOST_TEST((cause_of("billing: trial ended") == reason_cause::billing));
  BOOST_TEST((cause_of("provisioning") == reason_cause::provisioning));
  BOOST_TEST((cause_of("admin") == reason_cause::admin));
  BOOST_TEST(!cause_of("wipe retried"));
  BOOST_TEST(!cause_of("administered"));
  // An admin's words that look like billing's stay the admin's: the sweep leaves them alone.
  BOOST_TEST(
    (cause_of(make_reason(reason_cause::admin, "billing: refund")) == reason_cause::admin));
}

BOOST_AUTO_TEST_CASE(suspend_stops_the_slice_then_records_it) {
  start();
  w->add_slice(4, slice_status::assigned, 9);
  auto slice = ask<slice_record>(pool::change_slice{4, pool::verb::suspend, "abuse report"});
  BOOST_REQUIRE(slice);
  BOOST_TEST(slice->status == slice_status::suspended);
  BOOST_TEST(w->position("rt stop 4") < w->position("db transition 4 assigned->suspended"));
  BOOST_TEST(*w->reasons[4] == "admin: abuse report");
  BOOST_REQUIRE_EQUAL(w->statuses.size(), 1u);
  auto& e = w->statuses[0];
  BOOST_TEST(e.from == slice_status::assigned);
  BOOST_TEST(e.to == slice_status::suspended);
  BOOST_TEST(*e.user_id == 9);
  BOOST_TEST(e.reason == "admin: abuse report");
  BOOST_TEST((e.at == now));
  // The user keeps the slice: no gain or loss to announce, but cached resolves are stale.
  BOOST_TEST(w->user_slices.empty());
  BOOST_TEST(w->users_changed == std::vector<int32_t>{9});
}

BOOST_AUTO_TEST_CASE(only_an_assigned_slice_can_be_suspended) {
  start();
  w->add_slice(4, slice_status::available);
  auto slice = ask<slice_record>(pool::change_slice{4, pool::verb::suspend, ""});
  BOOST_REQUIRE(!slice);
  BOOST_TEST((code_of(slice.error()) == ec::conflict));
  BOOST_TEST(w->count("rt stop 4") == 0u);
  BOOST_TEST(w->statuses.empty());
  // The slice is free again for the next operation.
  BOOST_TEST(
    static_cast<bool>(ask<slice_record>(pool::change_slice{4, pool::verb::destroy, ""})));
}

BOOST_AUTO_TEST_CASE(resume_starts_the_slice_then_records_it) {
  start();
  w->add_slice(4, slice_status::suspended, 9, std::string{"admin"});
  auto slice = ask<slice_record>(pool::change_slice{4, pool::verb::resume, ""});
  BOOST_REQUIRE(slice);
  BOOST_TEST(slice->status == slice_status::assigned);
  BOOST_TEST(w->position("rt start 4") < w->position("db transition 4 suspended->assigned"));
  BOOST_TEST(!w->reasons[4]);
  BOOST_TEST(transitions_of(4) == std::vector<std::string>{"suspended->assigned (admin)"});
  BOOST_TEST(w->users_changed == std::vector<int32_t>{9});
}

BOOST_AUTO_TEST_CASE(a_suspension_that_cannot_be_recorded_starts_the_slice_again) {
  start();
  w->add_slice(4, slice_status::assigned, 9);
  w->fail_once["db transition 4 assigned->suspended"] = make_error(ec::unavailable, "down");
  auto slice = ask<slice_record>(pool::change_slice{4, pool::verb::suspend, ""});
  BOOST_REQUIRE(!slice);
  BOOST_TEST((code_of(slice.error()) == ec::unavailable));
  BOOST_TEST(w->position("rt stop 4") < w->position("rt start 4"));
  BOOST_TEST(w->slices[4].status == slice_status::assigned);
  BOOST_TEST(w->statuses.empty());
}

BOOST_AUTO_TEST_CASE(destroy_releases_the_user_then_wipes_the_slice) {
  start();
  w->add_slice(4, slice_status::assigned, 9);
  auto slice = ask<slice_record>(pool::change_slice{4, pool::verb::destroy, "requested"});
  BOOST_REQUIRE(slice);
  BOOST_TEST(slice->status == slice_status::available);
  BOOST_TEST(!slice->user_id);
  BOOST_TEST(w->position("db transition 4 assigned->destroying") < w->position("rt remove 4"));
  check_wiped_in_order(4);
  BOOST_TEST(transitions_of(4)
             == (std::vector<std::string>{"assigned->destroying (admin: requested)",
                                          "destroying->available (wiped)"}));
  BOOST_TEST(*w->statuses[0].user_id == 9);
  BOOST_REQUIRE_EQUAL(w->user_slices.size(), 1u);
  BOOST_TEST(w->user_slices[0].user_id == 9);
  BOOST_TEST(!w->user_slices[0].slice);
  BOOST_TEST(w->users_changed == std::vector<int32_t>{9});
}

BOOST_AUTO_TEST_CASE(a_busy_slice_refuses_a_second_operation) {
  start();
  w->add_slice(4, slice_status::assigned, 9);
  w->hold.insert("rt stop 4");
  auto suspended = ask_later<slice_record>(pool::change_slice{4, pool::verb::suspend, ""});
  run();
  BOOST_TEST(!suspended.arrived());
  auto destroyed = ask<slice_record>(pool::change_slice{4, pool::verb::destroy, ""});
  BOOST_REQUIRE(!destroyed);
  BOOST_TEST((code_of(destroyed.error()) == ec::conflict));
  BOOST_TEST(message_of(destroyed.error()).find("slice busy") != std::string::npos);
  release("rt stop 4", true);
  BOOST_REQUIRE(suspended.arrived());
  BOOST_TEST((**suspended.reply)->status == slice_status::suspended);
}

BOOST_AUTO_TEST_CASE(a_failed_wipe_is_reported_and_the_sweep_finishes_it) {
  start();
  w->add_slice(4, slice_status::suspended, 9);
  w->fail_once["db create wa_slice_4"] = make_error(ec::unavailable, "down");
  auto destroyed = ask<slice_record>(pool::change_slice{4, pool::verb::destroy, ""});
  BOOST_REQUIRE(!destroyed);
  BOOST_TEST(w->slices[4].status == slice_status::destroying);
  BOOST_TEST(w->count("fs empty 4") == 0u);
  w->due.push_back(
    {action(4, caf::none, slice_status::destroying, pool::verb::destroy, "wipe retried")});
  advance(config.sweep_interval);
  BOOST_TEST(w->slices[4].status == slice_status::available);
  BOOST_TEST(w->count("db create wa_slice_4") == 2u);
  BOOST_TEST(transitions_of(4)
             == (std::vector<std::string>{"suspended->destroying (admin)",
                                          "destroying->available (wiped)"}));
}

BOOST_AUTO_TEST_CASE(the_sweep_asks_with_the_injected_clock_and_applies_what_is_due) {
  config.past_due_grace = 14 * 24h;
  config.data_retention = 30 * 24h;
  start();
  w->add_slice(1, slice_status::assigned, 11);
  w->add_slice(2, slice_status::suspended, 12, std::string{"billing: trial ended"});
  w->add_slice(3, slice_status::assigned, 13);
  w->due.push_back(
    {action(1, 11, slice_status::assigned, pool::verb::suspend, "billing: trial ended"),
     action(2, 12, slice_status::suspended, pool::verb::resume, "billing: subscription active"),
     action(3, 13, slice_status::assigned, pool::verb::destroy,
            "billing: data retention after cancellation ended")});
  BOOST_TEST(w->due_queries.empty());
  advance(config.sweep_interval);
  BOOST_REQUIRE_EQUAL(w->due_queries.size(), 1u);
  auto& q = w->due_queries[0];
  BOOST_TEST((q.now == now));
  BOOST_TEST((q.past_due_before == now - config.past_due_grace));
  BOOST_TEST((q.ended_before == now - config.data_retention));
  BOOST_TEST(!q.user_id);
  BOOST_TEST(w->slices[1].status == slice_status::suspended);
  BOOST_TEST(*w->reasons[1] == "billing: trial ended");
  BOOST_TEST(w->slices[2].status == slice_status::assigned);
  BOOST_TEST(w->slices[3].status == slice_status::available);
  BOOST_TEST(transitions_of(1)
             == std::vector<std::string>{"assigned->suspended (billing: trial ended)"});
  BOOST_TEST(transitions_of(2)
             == std::vector<std::string>{"suspended->assigned (billing: subscription active)"});
  BOOST_TEST(transitions_of(3)
             == (std::vector<std::string>{
               "assigned->destroying (billing: data retention after cancellation ended)",
               "destroying->available (wiped)"}));
  // The suspension and the destruction are written only if still due then, by the same
  // rules at the same times; a resumption (nothing lost) needs no such check.
  BOOST_REQUIRE_EQUAL(w->guards.size(), 2u);
  for (auto& [id, guard] : w->guards) {
    BOOST_TEST((guard.now == q.now && guard.past_due_before == q.past_due_before
                && guard.ended_before == q.ended_before));
    BOOST_TEST((guard.action == (id == 1 ? pool::verb::suspend : pool::verb::destroy)));
  }
  // The next sweep comes one interval later, with the clock as it is then.
  advance(config.sweep_interval);
  BOOST_REQUIRE_EQUAL(w->due_queries.size(), 2u);
  BOOST_TEST((w->due_queries[1].now == now));
}

BOOST_AUTO_TEST_CASE(sweeps_never_overlap) {
  start();
  w->hold.insert("db due_actions");
  advance(config.sweep_interval);
  BOOST_TEST(w->due_queries.size() == 1u);
  advance(config.sweep_interval);
  advance(config.sweep_interval);
  BOOST_TEST(w->due_queries.size() == 1u);
  release("db due_actions", std::vector<db::due_action>{});
  advance(config.sweep_interval);
  BOOST_TEST(w->due_queries.size() == 2u);
}

BOOST_AUTO_TEST_CASE(the_sweep_leaves_a_busy_slice_for_the_next_one) {
  start();
  w->add_slice(4, slice_status::assigned, 9);
  w->hold.insert("rt stop 4");
  auto suspended = ask_later<slice_record>(pool::change_slice{4, pool::verb::suspend, ""});
  run();
  w->due.push_back({action(4, 9, slice_status::assigned, pool::verb::destroy, "billing: x")});
  advance(config.sweep_interval);
  BOOST_TEST(w->count("db transition 4 assigned->destroying") == 0u);
  release("rt stop 4", true);
  BOOST_REQUIRE(suspended.arrived());
}

BOOST_AUTO_TEST_CASE(start_keeps_slices_running_with_their_role_and_gives_others_a_new_login) {
  w->add_slice(2, slice_status::available);
  w->add_slice(4, slice_status::assigned, 40);
  // Slice 2 runs with its own role (a container a previous daemon started); slice 4 does not.
  w->running.insert(2);
  spawn_manager();
  BOOST_REQUIRE(ask<int32_t>(start_atom_v, listener));
  BOOST_TEST(w->count("rt adopt 2 wa_slice_2") == 1u);
  BOOST_TEST(w->count("db login 2") == 0u);
  BOOST_TEST(w->count("rt start 2") == 0u);
  BOOST_TEST(w->count("rt adopt 4 wa_slice_4") == 1u);
  BOOST_TEST(w->position("db login 4") < w->position("rt start 4"));
  // The slice's own role and the password just set, in place of the configured login.
  BOOST_TEST(w->started_with[4] == "postgresql://wa_slice_4:pw-4-1@127.0.0.1:5432/wa_slice_4");
}

BOOST_AUTO_TEST_CASE(every_fresh_start_sets_a_new_password) {
  w->add_slice(4, slice_status::assigned, 40);
  start();
  auto first = w->started_with[4];
  // The slice dies: it is started afresh, with a password of its own again, never the last.
  tell(rt::exited{4, "killed"});
  advance(1s);
  BOOST_TEST(w->count("db login 4") == 2u);
  BOOST_TEST(w->count("rt adopt 4 wa_slice_4") == 1u);
  BOOST_TEST(w->started_with[4] != first);
  BOOST_TEST(w->started_with[4].find("wa_slice_4:pw-4-2@") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(without_slice_logins_the_configured_url_is_handed_out) {
  config.slice_logins = false;
  config.slice_database_url = "postgresql://crm:secret@db.example:5432/postgres";
  w->add_slice(4, slice_status::assigned, 40);
  start();
  BOOST_TEST(w->count("rt adopt 4 wa_slice_4") == 0u);
  BOOST_TEST(w->count("db login 4") == 0u);
  BOOST_TEST(w->started_with[4] == "postgresql://crm:secret@db.example:5432/wa_slice_4");
}

BOOST_AUTO_TEST_CASE(start_finishes_interrupted_wipes_and_aligns_the_runtime) {
  w->add_slice(1, slice_status::destroying, caf::none, std::string{"provisioning"});
  w->add_slice(2, slice_status::available);
  w->add_slice(3, slice_status::suspended, 30, std::string{"admin"});
  w->add_slice(4, slice_status::assigned, 40);
  spawn_manager();
  auto wiped = ask<int32_t>(start_atom_v, listener);
  BOOST_REQUIRE(wiped);
  BOOST_TEST(*wiped == 1);
  BOOST_TEST(w->position("db ensure_template") < w->position("db list"));
  BOOST_TEST(w->count("rt subscribe") == 1u);
  check_wiped_in_order(1);
  BOOST_TEST(w->count("rt start 2") == 1u);
  BOOST_TEST(w->count("rt stop 3") == 1u);
  BOOST_TEST(w->count("rt start 4") == 1u);
  BOOST_TEST(w->count("rt start 3") == 0u);
  BOOST_TEST(transitions_of(1)
             == std::vector<std::string>{"destroying->available (provisioned)"});
  // No sweep before start; the first one an interval after it.
  BOOST_TEST(w->due_queries.empty());
  advance(config.sweep_interval);
  BOOST_TEST(w->due_queries.size() == 1u);
}

BOOST_AUTO_TEST_CASE(the_pool_floor_provisions_with_back_off_up_to_max_slices) {
  config.min_available = 3;
  config.max_slices = 2;
  w->fail_once["db insert 2"] = make_error(ec::unavailable, "down");
  start();
  BOOST_TEST(w->count("db insert 2") == 1u);
  advance(999ms);
  BOOST_TEST(w->count("db insert 2") == 1u);
  w->fail_once["db insert 2"] = make_error(ec::unavailable, "down");
  advance(1ms);
  BOOST_TEST(w->count("db insert 2") == 2u);
  // The second failure waits twice as long.
  advance(1s);
  BOOST_TEST(w->count("db insert 2") == 2u);
  advance(1s);
  BOOST_TEST(w->count("db insert 2") == 3u);
  BOOST_TEST(w->slices.size() == 2u);
  for (auto& [id, s] : w->slices)
    BOOST_TEST(s.status == slice_status::available);
  // At max-slices the floor asks for no more.
  advance(config.sweep_interval);
  BOOST_TEST(w->slices.size() == 2u);
}

BOOST_AUTO_TEST_CASE(the_pool_floor_counts_slices_being_wiped_as_coming) {
  config.min_available = 2;
  w->add_slice(1, slice_status::available);
  w->add_slice(2, slice_status::destroying);
  w->hold.insert("rt remove 2");
  spawn_manager();
  auto started = ask_later<int32_t>(start_atom_v, listener);
  run();
  BOOST_TEST(w->count("db insert 1") == 0u);
  release("rt remove 2", true);
  BOOST_REQUIRE(started.arrived());
  BOOST_TEST(w->count("db insert 1") == 0u);
  BOOST_TEST(w->slices.size() == 2u);
}

BOOST_AUTO_TEST_CASE(billing_changes_apply_the_policy_to_that_user_at_once) {
  start();
  w->add_slice(4, slice_status::assigned, 9);
  w->due.push_back({action(4, 9, slice_status::assigned, pool::verb::suspend,
                           "billing: stripe status unpaid")});
  auto passes = w->count("db assign_next");
  tell(pool::billing_changed{9});
  BOOST_REQUIRE_EQUAL(w->due_queries.size(), 1u);
  BOOST_REQUIRE(w->due_queries[0].user_id);
  BOOST_TEST(*w->due_queries[0].user_id == 9);
  BOOST_TEST(w->slices[4].status == slice_status::suspended);
  // The change may have made the user one who waits.
  BOOST_TEST(w->count("db assign_next") == passes + 1);
}

BOOST_AUTO_TEST_CASE(a_slice_that_died_is_started_again_with_back_off) {
  start();
  w->add_slice(2, slice_status::available);
  tell(rt::exited{2, "killed by signal 9"});
  BOOST_TEST(w->count("rt start 2") == 0u);
  advance(1s);
  BOOST_TEST(w->count("rt start 2") == 1u);
  BOOST_REQUIRE_EQUAL(w->alerts.size(), 1u);
  BOOST_TEST(w->alerts[0].kind == events::alert_kind::restarted);
  // Dying again soon after waits twice as long.
  tell(rt::exited{2, "killed by signal 9"});
  advance(1s);
  BOOST_TEST(w->count("rt start 2") == 1u);
  advance(1s);
  BOOST_TEST(w->count("rt start 2") == 2u);
}

BOOST_AUTO_TEST_CASE(a_suspended_slice_that_died_stays_down) {
  start();
  w->add_slice(3, slice_status::suspended, 30);
  tell(rt::exited{3, "exited with status 0"});
  advance(1s);
  BOOST_TEST(w->count("rt start 3") == 0u);
  BOOST_TEST(w->alerts.empty());
}

BOOST_AUTO_TEST_CASE(an_admin_assigns_a_given_slice) {
  start();
  w->add_slice(5, slice_status::available);
  auto slice = ask<slice_record>(pool::assign_slice{77, 5});
  BOOST_REQUIRE(slice);
  BOOST_TEST(slice->status == slice_status::assigned);
  BOOST_TEST(*slice->user_id == 77);
  BOOST_TEST(transitions_of(5) == std::vector<std::string>{"available->assigned (admin)"});
  BOOST_TEST(w->users_changed == std::vector<int32_t>{77});
  auto again = ask<slice_record>(pool::assign_slice{78, 5});
  BOOST_REQUIRE(!again);
  BOOST_TEST((code_of(again.error()) == ec::conflict));
}

BOOST_AUTO_TEST_CASE(list_and_get_read_through_to_the_store) {
  start();
  w->add_slice(1, slice_status::available);
  w->add_slice(2, slice_status::assigned, 5);
  auto assigned = ask<std::vector<slice_record>>(pool::list_slices{slice_status::assigned});
  BOOST_REQUIRE(assigned);
  BOOST_REQUIRE_EQUAL(assigned->size(), 1u);
  BOOST_TEST((*assigned)[0].id == 2);
  auto detail = ask<pool::slice_detail>(pool::get_slice{1});
  BOOST_REQUIRE(detail);
  BOOST_TEST(detail->slice.id == 1);
  auto missing = ask<pool::slice_detail>(pool::get_slice{99});
  BOOST_REQUIRE(!missing);
  BOOST_TEST((code_of(missing.error()) == ec::not_found));
}

BOOST_AUTO_TEST_CASE(available_and_assigned_slices_are_watched) {
  w->add_slice(1, slice_status::available);
  w->add_slice(2, slice_status::assigned, 20);
  w->add_slice(3, slice_status::suspended, 30, std::string{"admin"});
  w->add_slice(4, slice_status::destroying);
  start();
  auto log = [&] {
    auto result = w->watcher_log;
    w->watcher_log.clear();
    return result;
  };
  BOOST_TEST(log()
             == (std::vector<std::string>{"spawn 1 available", "spawn 2 assigned",
                                          "spawn 4 available"}));
  w->assignments.push_back({assignment_of(7, 1)});
  BOOST_TEST(static_cast<bool>(ask<pool::placement>(pool::place_user{7})));
  BOOST_TEST(log() == std::vector<std::string>{"status 1 assigned"});
  BOOST_TEST(
    static_cast<bool>(ask<slice_record>(pool::change_slice{2, pool::verb::suspend, ""})));
  BOOST_TEST(log() == std::vector<std::string>{"exit 2"});
  BOOST_TEST(
    static_cast<bool>(ask<slice_record>(pool::change_slice{2, pool::verb::resume, ""})));
  BOOST_TEST(log() == std::vector<std::string>{"spawn 2 assigned"});
  BOOST_TEST(
    static_cast<bool>(ask<slice_record>(pool::change_slice{1, pool::verb::destroy, ""})));
  BOOST_TEST(log() == (std::vector<std::string>{"exit 1", "spawn 1 available"}));
  // A slice that died and is started again begins a new start period.
  tell(rt::exited{4, "killed by signal 9"});
  advance(1s);
  BOOST_TEST(log() == (std::vector<std::string>{"status 4 available", "started 4"}));
}

BOOST_AUTO_TEST_CASE(a_watcher_that_dies_is_spawned_again_within_its_restart_budget) {
  w->add_slice(1, slice_status::assigned, 20);
  start();
  BOOST_REQUIRE_EQUAL(w->watchers.count(1), 1u);
  // Five failures within a minute: each time a fresh watcher with the slice's current status.
  for (int i = 0; i < 5; ++i) {
    auto dead = w->watchers[1];
    w->watcher_log.clear();
    // As if it threw: its links hear the reason.
    caf::anon_send_exit(dead, caf::exit_reason::unhandled_exception);
    run();
    BOOST_TEST(w->watcher_log == (std::vector<std::string>{"exit 1", "spawn 1 assigned"}));
    BOOST_TEST((w->watchers[1] != dead));
  }
  // The sixth is past the budget: the slice stays unwatched, the slice manager runs on.
  w->watcher_log.clear();
  caf::anon_send_exit(w->watchers[1], caf::exit_reason::unhandled_exception);
  run();
  BOOST_TEST(w->watcher_log == std::vector<std::string>{"exit 1"});
  auto listed = ask<std::vector<slice_record>>(pool::list_slices{});
  BOOST_REQUIRE(listed);
  BOOST_TEST(listed->size() == 1u);
  // Its next transition watches it again.
  BOOST_TEST(
    static_cast<bool>(ask<slice_record>(pool::change_slice{1, pool::verb::destroy, ""})));
  BOOST_TEST(w->watcher_log.back() == "spawn 1 available");
}

BOOST_AUTO_TEST_CASE(an_exit_from_anyone_else_ends_the_slice_manager_and_its_watchers) {
  w->add_slice(1, slice_status::available);
  start();
  caf::anon_send_exit(mgr, caf::exit_reason::user_shutdown);
  run();
  BOOST_TEST(w->watcher_log.back() == "exit 1");
  auto reply = ask<std::vector<slice_record>>(pool::list_slices{});
  BOOST_REQUIRE(!reply);
}

BOOST_AUTO_TEST_SUITE_END()
