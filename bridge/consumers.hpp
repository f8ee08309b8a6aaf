#pragma once

// The JetStream consumers of inbound events (DESIGN.md §4 "Events in"), in one table
// (bridge/consumers.cpp). Each kind of event gets a durable pull consumer on stream
// GATEWAY_EVENTS and a handler that decodes the body into a typed message, asks an actor, and
// turns the answer into an outcome.
//
// Adding a consumer takes three steps:
// 1. a decoder from the event's JSON to its typed message that never throws and names what is
//    wrong (codec::from_json for the signup event; bridge/stripe.hpp parses Stripe events);
// 2. a `make_…_handler` beside the signup one: its target missing (add the actor to
//    bridge_targets, and its name to bus::component) → nullopt; otherwise an
//    `event_handlers` whose `each` decodes one event, rejects what does not decode, and
//    `ask<Reply>(self, …)`s the target (or whose `batch` does so for a batch at once, as the
//    signup handler does);
// 3. a row `{event_kind::payment, make_payment_handler}` in `consumer_table()`.
// The stream keeps every inbound kind from start-up on, so events published before step 3
// wait there.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bridge/bridge.hpp"
#include "bridge/event_consumer.hpp"
#include "bridge/jetstream.hpp"
#include "messages/error.hpp"

namespace slicegate::bridge {

/// One kind of inbound event.
struct consumer_entry {
  /// Event kind: subject `<p>.events.<kind>`, durable `<consumer_prefix>_<kind>`.
  std::string_view kind;
  /// Builds the handler, or nothing when the target it needs is null (not running, or marked
  /// down): the consumer then stays stopped or pauses, and its events wait in the stream.
  handler_factory make;
};

/// Every consumer the bridge runs.
const std::vector<consumer_entry>& consumer_table();

/// Stream GATEWAY_EVENTS: every inbound kind, but not `<p>.events.rejected`, which slicegate
/// itself publishes and must not consume.
stream_spec events_stream(const bridge_config& cfg);

/// Stream GATEWAY_SLICES: the outbound slice, user-slice and server events, for durable
/// subscribers that want to replay them.
stream_spec slices_stream(const bridge_config& cfg);

/// The durable consumer of one kind.
consumer_spec make_consumer_spec(const bridge_config& cfg, std::string_view kind);

/// The outcome for an actor's failure: `unavailable` and `rate_limited` (and an internal error
/// on its first deliveries) retry later; anything else can never succeed and is rejected.
outcome classify(const caf::error& err, uint64_t delivered);

/// The `id` field of an event body, if it has one; for reports on events that do not decode.
optional<std::string> peek_event_id(std::string_view payload);

/// Asks `target` with `msg` from the consumer `self` and completes with `judge(reply)` once a
/// `Reply` arrives, i.e. after the target committed, or with `classify`'s outcome on failure
/// (a timeout included). The answer arrives on the consumer's thread.
template <class Reply, class Target, class Message, class Judge>
void ask(event_consumer_pointer self, const Target& target, caf::timespan timeout, Message msg,
         completion complete, uint64_t delivered, optional<std::string> event_id, Judge judge) {
  self->request(target, timeout, std::move(msg))
    .then([complete, judge](Reply& reply) { complete(judge(reply)); },
          [complete, delivered, event_id](caf::error& err) {
            auto result = classify(err, delivered);
            result.event_id = event_id;
            complete(std::move(result));
          });
}

/// As above, completing with done whatever the `Reply`.
template <class Reply, class Target, class Message>
void ask(event_consumer_pointer self, const Target& target, caf::timespan timeout, Message msg,
         completion complete, uint64_t delivered, optional<std::string> event_id) {
  ask<Reply>(self, target, timeout, std::move(msg), std::move(complete), delivered,
             std::move(event_id), [](const Reply&) { return done(); });
}

} // namespace slicegate::bridge
