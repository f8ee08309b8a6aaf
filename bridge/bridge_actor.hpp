#pragma once

// The bridge actor (internal to bridge/): turns `bus::inbound` requests into typed requests to
// the actors and their replies into NATS replies, publishes events as JSON and answers the
// micro protocol. Endpoint handlers (bridge/endpoints.cpp) use the helpers declared here.

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <caf/error.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/timestamp.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/actors.hpp"
#include "bridge/bridge.hpp"
#include "bridge/codec.hpp"
#include "bridge/jetstream.hpp"
#include "bridge/link.hpp"
#include "bridge/micro.hpp"
#include "messages/error.hpp"

namespace slicegate::bridge {

/// The queue group of every endpoint, as the micro protocol expects.
constexpr const char* queue_group = "q";

/// What the public `nats_bridge` and the actor share: the targets, set once `serve` runs, and
/// the consumers' counters.
class shared_context {
 public:
  void set_targets(bridge_targets targets);
  bridge_targets targets() const;

  void add_consumer(std::string name, std::shared_ptr<const consumer_counters> counters);
  std::vector<std::pair<std::string, std::shared_ptr<const consumer_counters>>>
  consumers() const;

 private:
  mutable std::mutex mtx_;
  bridge_targets targets_;
  std::vector<std::pair<std::string, std::shared_ptr<const consumer_counters>>> consumers_;
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
  std::shared_ptr<link> nats;
  std::shared_ptr<shared_context> shared;
  caf::timestamp started;
  /// Full subjects of the endpoint table, in its order, and the way back.
  std::vector<std::string> subjects;
  std::unordered_map<std::string, size_t> by_subject;
  std::vector<micro::endpoint_stats> stats;
  /// Requests to subjects under the prefix that no endpoint serves.
  uint64_t unknown_requests = 0;
  uint64_t events_published = 0;
  uint64_t events_failed = 0;
};

using bridge_pointer = bridge_actor::stateful_pointer<bridge_state>;

/// The bridge actor. `cfg.service_id` must be set.
bridge_actor::behavior_type bridge(bridge_pointer self, bridge_config cfg,
                                   std::shared_ptr<link> nats,
                                   std::shared_ptr<shared_context> shared);

/// Answers `req` with `body` and records it in the endpoint's statistics.
void reply(bridge_pointer self, const pending_request& req, const codec::json& body);

/// Answers `req` with an error body and the micro protocol's error headers.
void fail(bridge_pointer self, const pending_request& req, const caf::error& err);

/// Asks `target` and answers `req` with `encode(reply)`; a null target is 503, a failure or a
/// timeout is mapped to its error reply.
template <class Reply, class Target, class Request, class Encode>
void forward(bridge_pointer self, pending_request req, const Target& target, Request msg,
             Encode encode) {
  if (!target) {
    fail(self, req, make_error(ec::unavailable, "the service is starting or stopping"));
    return;
  }
  self->request(target, self->state.config.request_timeout, std::move(msg))
    .then([self, req, encode](Reply& result) { reply(self, req, encode(result)); },
          [self, req](caf::error& err) { fail(self, req, err); });
}

} // namespace slicegate::bridge
