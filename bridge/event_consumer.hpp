#pragma once

// A durable JetStream pull consumer as a detached actor (internal to bridge/). The bridge actor
// spawns one per entry of the consumer table whose target is running, monitors it and
// restarts it when it dies (bridge/bridge_actor.cpp); a restarted consumer binds to the same
// durable, so it goes on where its predecessor was.
//
// The pull loop is a self-message: `fetch` waits up to `fetch_timeout` for up to
// `spec.batch` events (blocking in nats.c is fine: the actor has a thread of its own, spawned
// detached) and sends itself the next `fetch`, or a delayed one after a failure, with the
// back-off of jetstream.hpp. With a batch at hand it fetches nothing. A batch handler gets
// the whole batch in one call (signups: one transaction); an event handler gets one event at
// a time, in order, the next once the previous answered (payments). Either asks its target
// with `self->request`, and the answers arrive on this actor's thread. Once every event of the
// batch has an outcome, the rejected ones are kept as dead letters by persistence
// (`gateway.dead_letters`, with the original body), one after the other; then the batch is
// settled in stream order: done → Ack; rejected → reported on `<p>.events.rejected` and
// acknowledged. An event to retry (its dependency is down, or its dead letter cannot be
// stored) is kept with every event behind it and handed to the handler again after the retry
// delay, counted as a redelivery; nothing is fetched meanwhile, so nothing overtakes it, and
// nothing is acknowledged that is not applied or kept. Only then does the loop go on. While
// the batch is at hand, a `tick` every ack_wait/3 tells JetStream that its events are in
// progress.
//
// `replay` publishes a dead letter's body again on its subject with a JetStream publish, so
// that the stream has it (or the caller hears why not) before the reply.
//
// Stopping: `stop` lets the handler's call at hand answer (at most the handler timeout), hands
// no further event of the batch to an event handler (those, and events waiting for a retry, go
// back: Nak), settles the batch and then quits. An exit from outside quits at once; the batch at hand, never
// acknowledged, comes back after ack_wait, to this consumer's successor or to another instance
// sharing the durable.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include <caf/replies_to.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>
#include <nats/nats.h>

#include "bridge/bridge.hpp"
#include "bridge/jetstream.hpp"
#include "messages/atoms.hpp"
#include "messages/bus.hpp"

namespace slicegate::bridge {

class link;
struct event_consumer_state;

/// One durable JetStream pull consumer.
using event_consumer_actor = caf::typed_actor<
  // Self: fetches the next batch, unless one is at hand, the consumer stops or it has no
  // handler.
  caf::reacts_to<fetch_atom>,
  // Self: the batch at hand (by its number) is still in progress; once past the handler
  // timeout, the events the handler did not answer for are put back.
  caf::reacts_to<tick_atom, uint64_t>,
  // New targets: the handler is made anew. Without its target the consumer pauses after the
  // batch at hand, and its events wait in the stream.
  caf::reacts_to<bridge_targets>,
  // Settles the batch at hand, then quits; replies just before.
  caf::replies_to<stop_atom>::with<bool>,
  // Publishes `payload` on `subject` into the events stream; replies with its sequence.
  caf::replies_to<replay_atom, std::string, std::vector<uint8_t>>::with<uint64_t>>;

using event_consumer_pointer = event_consumer_actor::stateful_pointer<event_consumer_state>;

/// Where a consumer reports what it counts, as increments: the bridge actor, which it also
/// watches and outlives by no more than a fetch.
using consumer_parent_actor = caf::typed_actor<caf::reacts_to<bus::consumer_counters>>;

/// Reports a handler's outcome. Call it on the consumer's thread, that is from the handler
/// itself or from a response handler of `self`; calls for an event already settled (say, after
/// the handler timeout) are ignored.
using completion = std::function<void(outcome)>;

/// Works on one event and calls `complete` when it knows the outcome, typically from the
/// response handler of a request it made with `self`.
using event_handler = std::function<void(event_consumer_pointer self, const event_message& msg,
                                         completion complete)>;

/// Reports a batch handler's outcomes, one per event in the order given; a missing one counts
/// as "retry later". Call it as `completion`.
using batch_completion = std::function<void(std::vector<outcome>)>;

/// Works on several events at once, in stream order, and calls `complete` once.
using batch_handler = std::function<void(event_consumer_pointer self,
                                         const std::vector<event_message>& msgs,
                                         batch_completion complete)>;

/// What a consumer hands its events to: one at a time (`each`) or a batch at once (`batch`).
struct event_handlers {
  event_handler each;
  batch_handler batch;

  explicit operator bool() const {
    return static_cast<bool>(each) || static_cast<bool>(batch);
  }
};

/// Builds a consumer's handler for `targets`, or nothing when the target it needs is null.
using handler_factory
  = std::optional<event_handlers> (*)(const bridge_config& cfg, const bridge_targets& targets);

/// One fetched event, not yet settled.
struct held_event {
  natsMsg* msg = nullptr;
  /// What the handler sees.
  event_message message;
  /// Known once the handler answered for it.
  std::optional<outcome> result;
  /// The stored copy of a rejected event.
  optional<int64_t> dead_letter_id;
};

/// What a consumer is spawned with.
struct event_consumer_setup {
  consumer_spec spec;
  /// Handed to `make`.
  bridge_config config;
  handler_factory make = nullptr;
  bridge_targets targets;
  /// The bulk connection the consumer fetches on; kept alive while the consumer runs.
  std::shared_ptr<link> nats;
};

struct event_consumer_state {
  static inline const char* name = "event_consumer";

  event_consumer_state() = default;
  event_consumer_state(const event_consumer_state&) = delete;
  event_consumer_state& operator=(const event_consumer_state&) = delete;

  /// Lets go of the batch at hand without settling it (JetStream redelivers it after
  /// ack_wait) and of the subscription, never of the durable.
  ~event_consumer_state();

  /// Declared first, destroyed last: the connection outlives what was made on it.
  std::shared_ptr<link> nats;
  consumer_spec spec;
  bridge_config config;
  handler_factory make = nullptr;
  /// Empty while the target is not running.
  event_handlers handler;
  /// Keeps the dead letters; null while persistence is not running (a rejected event then
  /// waits in the stream).
  persistence_actor store;
  consumer_parent_actor parent;
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  natsSubscription* sub = nullptr;
  /// The batch at hand, in stream order.
  std::vector<held_event> held;
  /// Numbers the batches, so that a tick for a settled one is recognised.
  uint64_t batch_number = 0;
  /// Numbers each call of the handler and each dead letter stored, so that a late answer is
  /// recognised.
  uint64_t step_number = 0;
  /// A handler call or a dead letter store is under way.
  bool busy = false;
  /// The events the handler call under way was given, by index into `held`.
  std::vector<size_t> step_events;
  /// The step under way stores a dead letter (else it is a handler call).
  bool storing = false;
  /// Events of the batch at hand wait out the retry delay before they go to the handler
  /// again (a `fetch` ends the wait).
  bool waiting = false;
  /// When the handler call under way has run out of time.
  std::chrono::steady_clock::time_point deadline;
  /// A `fetch` is on its way (the loop runs); no second one is sent.
  bool fetch_pending = false;
  caf::timespan backoff = first_backoff;
  /// Failed fetches in a row on a connected connection.
  int failures = 0;
  /// `stop` arrived: no further fetch; quit once the batch at hand is settled.
  bool stopping = false;
  std::vector<caf::typed_response_promise<bool>> stop_promises;
};

/// The consumer. Spawn it detached: fetches and JetStream API calls block.
event_consumer_actor::behavior_type event_consumer(event_consumer_pointer self,
                                                   event_consumer_setup setup,
                                                   consumer_parent_actor parent);

} // namespace slicegate::bridge
