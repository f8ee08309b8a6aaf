#pragma once

// The queue in front of the persistence actor. Every request for the gateway database goes
// through it: it stamps each request with the time it arrived, hands the worker (the detached
// actor that owns the connection) a few at a time, and
// - answers 503 `unavailable` at once when `limit` requests are waiting already, so that a
//   burst is shed instead of every caller timing out while the mailbox grows;
// - answers `unavailable` without running it a request that waited longer than `max_wait`,
//   the longest a caller on the request path waits: after a stall (a statement held on a lock,
//   a reconnect) the worker does not spend the database's time on answers nobody reads.
//
// It is an untyped actor with a default handler, because it forwards whatever the worker
// understands without naming each message; its handle is cast to `persistence_actor`, so
// that callers see the worker's typed interface. Forwarding uses `response_promise::delegate`:
// the worker answers the original caller directly. After each batch the queue asks the worker
// for a `barrier`; its answer says that every request before it has run.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>

#include <caf/actor.hpp>
#include <caf/message.hpp>
#include <caf/response_promise.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/actors.hpp"
#include "actors/clock.hpp"

namespace slicegate {

struct request_queue_config {
  /// Requests that may wait; one more is answered `unavailable` at once (0: no limit).
  size_t limit = 5000;
  /// A request that waited longer is answered `unavailable` without being run (0: never).
  caf::timespan max_wait = std::chrono::seconds{10};
  /// Requests in the worker's mailbox at most: a short one keeps ages accurate.
  size_t window = 8;
};

struct request_queue_state {
  static inline const char* name = "persistence-queue";

  struct entry {
    caf::timestamp received;
    caf::message content;
    caf::response_promise promise;
  };

  request_queue_config config;
  persistence_actor worker;
  clock_fn clock;
  std::deque<entry> waiting;
  /// Handed to the worker, not yet confirmed by a barrier.
  size_t in_worker = 0;
  /// Answered `unavailable`: at once because the queue was full, or after waiting too long.
  uint64_t shed = 0;
  uint64_t dropped = 0;
};

using request_queue_pointer = caf::stateful_actor<request_queue_state>*;

/// The queue in front of `worker`, linked to it: either ends with the other.
caf::behavior request_queue(request_queue_pointer self, persistence_actor worker,
                            request_queue_config config, clock_fn clock);

} // namespace slicegate
