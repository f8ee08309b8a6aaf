#define BOOST_TEST_MODULE request_queue
#include "persistence/request_queue.hpp"

#include <chrono>
#include <memory>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <caf/all.hpp>

#include "messages/error.hpp"
#include "tests/support/ask.hpp"
#include "tests/support/system.hpp"

// The queue in front of the persistence worker, with a mocked worker whose barriers the test
// answers: requests pass through to the worker, a full queue sheds at once, and a request
// that waited longer than its callers do is answered without reaching the worker.

using namespace slicegate;
using namespace std::chrono_literals;

namespace {

struct worker_world {
  /// Pings the worker ran.
  int pings = 0;
  /// Barriers the worker has not answered yet: it is "busy" until the test answers them.
  std::vector<caf::response_promise> barriers;
};

using world_ptr = std::shared_ptr<worker_world>;

/// Tells the mocked worker to answer the barriers it holds.
using release_atom = caf::atom_constant<caf::atom("release")>;

caf::behavior mock_worker(caf::event_based_actor* self, world_ptr w) {
  return {
    [w](db::ping&) { return static_cast<int32_t>(++w->pings); },
    [self, w](barrier_atom) -> caf::result<bool> {
      w->barriers.push_back(self->make_response_promise());
      return caf::delegated<bool>{};
    },
    [w](release_atom) {
      auto held = std::move(w->barriers);
      w->barriers.clear();
      for (auto& rp : held)
        rp.deliver(true);
    },
    [](stats_atom) {
      metrics::persistence_stats s;
      s.up = true;
      s.queued = 1;
      return s;
    },
  };
}

struct fixture : test::deterministic_system {
  world_ptr w = std::make_shared<worker_world>();
  caf::timestamp now = caf::timestamp{std::chrono::hours{24 * 20000}};
  request_queue_config config;
  persistence_actor queue;
  caf::actor worker;

  fixture() {
    config.limit = 2;
    config.max_wait = 1s;
    config.window = 1;
  }

  void start() {
    worker = spawn(mock_worker, w);
    queue = caf::actor_cast<persistence_actor>(spawn(
      request_queue, caf::actor_cast<persistence_actor>(worker), config, [this] { return now; }));
    run();
  }

  /// The worker finishes what it was handed.
  void release() {
    caf::anon_send(worker, release_atom::value);
    run();
  }

  static bool unavailable(const test::pending<int32_t>& p) {
    return p.arrived() && !**p.reply && code_of((*p.reply)->error()) == ec::unavailable;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(request_queue_tests, fixture)

BOOST_AUTO_TEST_CASE(requests_reach_the_worker_which_answers_their_callers) {
  start();
  auto a = ask_later<int32_t>(queue, db::ping{});
  run();
  release();
  auto b = ask_later<int32_t>(queue, db::ping{});
  run();
  release();
  BOOST_REQUIRE(a.arrived() && **a.reply);
  BOOST_REQUIRE(b.arrived() && **b.reply);
  BOOST_TEST(***a.reply == 1);
  BOOST_TEST(***b.reply == 2);
}

BOOST_AUTO_TEST_CASE(requests_whose_callers_gave_up_are_answered_without_running) {
  start();
  auto first = ask_later<int32_t>(queue, db::ping{});
  auto second = ask_later<int32_t>(queue, db::ping{});
  auto third = ask_later<int32_t>(queue, db::ping{});
  run();
  // The worker holds the first; the others wait in the queue.
  BOOST_TEST(w->pings == 1);
  BOOST_TEST(!second.arrived());
  // The worker is stuck for longer than callers wait (a statement behind a lock).
  now += 2s;
  release();
  BOOST_TEST(w->pings == 1);
  BOOST_TEST(unavailable(second));
  BOOST_TEST(unavailable(third));
  BOOST_REQUIRE(first.arrived() && **first.reply);
  // A fresh request goes through again.
  auto fourth = ask_later<int32_t>(queue, db::ping{});
  run();
  release();
  BOOST_REQUIRE(fourth.arrived() && **fourth.reply);
  BOOST_TEST(***fourth.reply == 2);
  auto stats = test::ask<metrics::persistence_stats>(sys, queue, caf::infinite, stats_atom_v);
  BOOST_REQUIRE(stats);
  BOOST_TEST(stats->dropped == 2u);
  BOOST_TEST(stats->up);
}

BOOST_AUTO_TEST_CASE(a_full_queue_sheds_at_once) {
  start();
  auto held = ask_later<int32_t>(queue, db::ping{});
  run();
  auto waiting1 = ask_later<int32_t>(queue, db::ping{});
  auto waiting2 = ask_later<int32_t>(queue, db::ping{});
  run();
  auto shed = ask_later<int32_t>(queue, db::ping{});
  run();
  // The limit is two waiting: the fourth is refused before the worker is free.
  BOOST_TEST(unavailable(shed));
  BOOST_TEST(!waiting1.arrived());
  auto stats = test::ask<metrics::persistence_stats>(sys, queue, caf::infinite, stats_atom_v);
  BOOST_REQUIRE(stats);
  BOOST_TEST(stats->shed == 1u);
  // The worker's own count plus the two waiting.
  BOOST_TEST(stats->queued == 3u);
  release();
  release();
  release();
  BOOST_TEST(waiting1.arrived());
  BOOST_TEST(waiting2.arrived());
  BOOST_TEST(w->pings == 3);
}

BOOST_AUTO_TEST_CASE(the_queue_ends_with_its_worker) {
  start();
  auto queue_down = std::make_shared<bool>(false);
  spawn([queue = queue, queue_down](caf::event_based_actor* self) {
    self->monitor(queue);
    self->set_down_handler([queue_down](caf::down_msg&) { *queue_down = true; });
    return caf::behavior{[](int) {}};
  });
  run();
  BOOST_TEST(!*queue_down);
  // The worker fails: callers must not keep a queue that forwards to nobody.
  caf::anon_send_exit(worker, caf::exit_reason::kill);
  run();
  BOOST_TEST(*queue_down);
}

BOOST_AUTO_TEST_SUITE_END()
