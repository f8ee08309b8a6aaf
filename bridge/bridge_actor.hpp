#pragma once

// The bridge actor (internal to bridge/): turns `bus::inbound` requests into typed requests to
// the actors and their replies into NATS replies, publishes events as JSON and answers the
// micro protocol. Endpoint handlers (bridge/endpoints.cpp) use the helpers declared here.
//
// It also supervises the JetStream consumers (bridge/event_consumer.hpp). When its targets
// arrive it spawns one consumer per table entry whose target is running, and monitors it. A
// consumer that dies abnormally is restarted after a back-off (100 ms, doubling with each
// restart in the window, at most 5 s); more than `consumer_max_restarts` restarts within
// `consumer_restart_period` make the bridge actor fail itself, and the consumers with it,
// so that its own supervisor decides. A consumer that quits normally (it was told to stop)
// is not restarted.

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include <caf/actor.hpp>
#include <caf/error.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/timestamp.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/actors.hpp"
#include "bridge/bridge.hpp"
#include "bridge/codec.hpp"
#include "bridge/event_consumer.hpp"
#include "bridge/jetstream.hpp"
#include "bridge/link.hpp"
#include "bridge/micro.hpp"
#include "common/restart_budget.hpp"
#include "messages/error.hpp"

namespace slicegate::bridge {

/// The queue group of every endpoint, as the micro protocol expects.
constexpr const char* queue_group = "q";

/// The bridge actor's whole interface: the public `bridge_actor`, and what `nats_bridge`, the
/// consumers and the actor itself tell it.
using bridge_internal_actor = bridge_actor::extend<
  // The targets (from `nats_bridge::serve`; again after a component got a new handle): starts
  // the consumers whose target is running and hands the others theirs. Replies once it has.
  caf::replies_to<bridge_targets>::with<bool>,
  // Replies once no request is in flight, or when the timeout passes, with the number left.
  caf::replies_to<drain_atom, caf::timespan>::with<int64_t>,
  // Self: the drain's time is up.
  caf::reacts_to<drain_atom>,
  // Stops every consumer (each settles its batch at hand) and replies once all are gone;
  // after the timeout, those still running are killed. Replies with how many were killed.
  caf::replies_to<stop_atom, caf::timespan>::with<int32_t>,
  // Self: the consumers' time to stop is up.
  caf::reacts_to<stop_atom>,
  // A consumer's counters, after each change.
  caf::reacts_to<bus::consumer_counters>,
  // Self: restarts the consumer of this durable after its back-off.
  caf::reacts_to<restart_atom, std::string>,
  // The running consumer of this durable, or a null handle.
  caf::replies_to<consumer_atom, std::string>::with<caf::actor>>;

/// One consumer of the table, as its supervisor sees it.
struct consumer_slot {
  /// Its row in the consumer table.
  size_t entry = 0;
  /// The durable's name.
  std::string durable;
  /// Null while not running.
  event_consumer_actor actor;
  /// What it and its predecessors did.
  bus::consumer_counters counters;
  uint64_t restarts = 0;
  /// A restart is due after the back-off.
  bool restart_pending = false;
};

/// A request an endpoint works on: what to answer and what to count it against.
struct pending_request {
  /// Index into the endpoint table.
  size_t endpoint = 0;
  /// Where the reply goes.
  std::string reply;
  caf::timestamp received_at;
};

struct bridge_state {
  static inline const char* name = "bridge";

  bridge_config config;
  /// `<p>.internal.sessions.forget`, compared with every inbound subject.
  std::string forget_subject;
  /// The singleton lease as this instance's keeper last reported it (`$SRV.STATS`).
  std::optional<lease::state> lease;
  std::shared_ptr<link> nats;
  /// As `serve` handed them over; null until then.
  bridge_targets targets;
  /// Components marked down (`bus::component_state`), by name.
  std::set<std::string> down;
  /// Consumers started so far, in the table's order.
  std::vector<consumer_slot> consumers;
  /// OTP's restart intensity over all consumers.
  restart_budget restarts{5, std::chrono::seconds{60}};
  /// Waiting for the last request in flight to be answered.
  std::vector<caf::typed_response_promise<int64_t>> drains;
  /// Set by `stop`: no consumer starts or restarts any more.
  bool stopping = false;
  /// Waiting for the consumers to be gone, and how many had to be killed.
  std::vector<caf::typed_response_promise<int32_t>> stops;
  int32_t killed = 0;
  caf::timestamp started;
  /// Full subjects of the endpoint table, in its order, and the way back.
  std::vector<std::string> subjects;
  std::unordered_map<std::string, size_t> by_subject;
  std::vector<micro::endpoint_stats> stats;
  /// Per endpoint, the latency histogram of /metrics (`metrics::latency_buckets()` + 1).
  std::vector<std::vector<uint64_t>> latency;
  /// Requests to subjects under the prefix that no endpoint serves.
  uint64_t unknown_requests = 0;
  uint64_t events_published = 0;
  uint64_t events_failed = 0;
};

using bridge_pointer = bridge_internal_actor::stateful_pointer<bridge_state>;

/// The targets, those marked down left null: their endpoints answer 503 at once and their
/// consumers pause.
bridge_targets available(const bridge_state& st);

/// The bridge actor. `cfg.service_id` must be set.
bridge_internal_actor::behavior_type bridge(bridge_pointer self, bridge_config cfg,
                                            std::shared_ptr<link> nats);

/// Answers `req` with `body` and records it in the endpoint's statistics.
void reply(bridge_pointer self, const pending_request& req, const codec::json& body);

/// Answers `req` with a body already serialized (a large reply written without a document).
void reply_text(bridge_pointer self, const pending_request& req, const std::string& body);

/// Answers `req` with an error body and the micro protocol's error headers.
void fail(bridge_pointer self, const pending_request& req, const caf::error& err);

/// Asks `target` and answers `req` with `encode(reply)` (a JSON document, or its text); a null
/// target is 503, a failure or a timeout is mapped to its error reply.
template <class Reply, class Target, class Request, class Encode>
void forward(bridge_pointer self, pending_request req, const Target& target, Request msg,
             Encode encode) {
  if (!target) {
    fail(self, req, make_error(ec::unavailable, "the service is starting or stopping"));
    return;
  }
  self->request(target, self->state.config.request_timeout, std::move(msg))
    .then(
      [self, req, encode](Reply& result) {
        if constexpr (std::is_same_v<decltype(encode(result)), std::string>)
          reply_text(self, req, encode(result));
        else
          reply(self, req, encode(result));
      },
      [self, req](caf::error& err) { fail(self, req, err); });
}

} // namespace slicegate::bridge
