#pragma once

// The NATS bridge: what the daemon starts, hands actor handles to, and drains at shutdown.
// This header includes neither nats.h nor a JSON library, so app/ and daemon/ may use it.
//
//     auto b = nats_bridge::start(sys, cfg);            // events can flow from here on
//     ... spawn the actors, giving them b->events() ...
//     b->serve({sessions, slices, persistence});       // endpoints and consumers go live
//     ... on SIGTERM:
//     b->drain(5s);                                    // finish in-flight replies, close
//     close_nats_library(2s);                          // just before returning from main

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/timestamp.hpp>

#include "actors/actors.hpp"
#include "common/nats_credentials.hpp"

namespace slicegate {

/// What the bridge needs to know.
struct bridge_config {
  /// One or more server URLs, comma-separated.
  std::string nats_url = "nats://127.0.0.1:4222";
  /// Credentials and TLS of both connections; none by default (or those of the URL).
  nats_credentials credentials;
  /// First token of every subject.
  std::string subject_prefix = "gateway";
  /// Name in the micro protocol (`$SRV.PING.slicegate`).
  std::string service_name = "slicegate";
  /// Semantic version reported by `$SRV.INFO`.
  std::string service_version = "0.1.0";
  /// Instance id reported by the micro protocol; random if empty.
  std::string service_id;
  /// Description reported by `$SRV.INFO`.
  std::string description = "slicegate control plane: accounts, sessions and slices";
  /// How long an endpoint waits for the actor it asked.
  caf::timespan request_timeout = std::chrono::seconds{10};
  /// Largest request body accepted; larger ones get 400.
  int64_t max_payload = 64 * 1024;
  /// Requests served at once; one more is answered 503 at once (0: no limit).
  int64_t max_in_flight = 10000;
  /// JetStream stream of inbound events (`<p>.events.signup`, `<p>.events.payment`).
  std::string events_stream = "GATEWAY_EVENTS";
  /// How long inbound events stay in their stream (they carry e-mails, password hashes and
  /// payment payloads); zero keeps them. Long enough to outlast any outage: an event is
  /// applied, or kept as rejected in the database, well before.
  caf::timespan events_max_age = std::chrono::hours{24 * 30};
  /// JetStream stream that keeps outbound slice events for durable subscribers.
  std::string slices_stream = "GATEWAY_SLICES";
  caf::timespan slices_max_age = std::chrono::hours{24 * 7};
  /// Durable consumers are named `<consumer_prefix>_<event kind>`.
  std::string consumer_prefix = "slicegate";
  /// An event whose handler says "retry later" (e.g. the database is down) comes back after
  /// this long.
  caf::timespan event_retry_delay = std::chrono::seconds{5};
  /// JetStream redelivers an event not acknowledged within this long.
  caf::timespan event_ack_wait = std::chrono::seconds{30};
  /// Most events a consumer fetches and applies at once (a signup batch is one transaction).
  int event_batch = 100;
  /// The bridge restarts a consumer that dies, at most this many times within
  /// `consumer_restart_period` (all consumers together: OTP's restart intensity). One more and
  /// the bridge actor fails, so that whoever monitors it decides.
  size_t consumer_max_restarts = 5;
  caf::timespan consumer_restart_period = std::chrono::seconds{60};
};

/// What is wrong with the NATS credentials of `cfg`, naming the option, or empty: the
/// combination (see `check` in common/nats_credentials.hpp), files that cannot be read, an
/// NKey seed file without a user seed, TLS files nats.c refuses. For a start-up check before
/// anything else is done; `nats_bridge::start` checks the same.
std::string check_credentials(const bridge_config& cfg);

/// Where the endpoints and consumers send their typed requests. A null handle (or a component
/// marked down with `bus::component_state`) makes the endpoints that need it answer 503
/// `unavailable` and keeps its consumers stopped. The bridge actor receives them as a message.
struct bridge_targets {
  /// Component "sessions".
  session_manager_actor sessions;
  /// Component "slices".
  slice_manager_actor slices;
  /// Component "persistence".
  persistence_actor persistence;
  /// Component "billing": applies Stripe events (`<p>.events.payment`).
  billing_actor billing;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, bridge_targets& x) {
  return f(caf::meta::type_name("bridge_targets"), x.sessions, x.slices, x.persistence,
           x.billing);
}

inline bool operator==(const bridge_targets& x, const bridge_targets& y) {
  return x.sessions == y.sessions && x.slices == y.slices && x.persistence == y.persistence
         && x.billing == y.billing;
}

/// A running bridge: two NATS connections, the bridge actor, the micro-protocol responder and
/// the JetStream consumers.
class nats_bridge {
 public:
  /// Spawns the bridge actor and connects. NATS being down is no error: after one attempt each
  /// connection keeps trying in the background (forever, every ~250 ms) and what is published
  /// meanwhile waits in a bounded buffer. Fails only on a bad configuration (prefix, names,
  /// URL, credentials nats.c refuses).
  static caf::expected<std::unique_ptr<nats_bridge>> start(caf::actor_system& sys,
                                                           bridge_config cfg);

  /// Drains (with a short timeout) unless `drain` ran already.
  ~nats_bridge();

  nats_bridge(const nats_bridge&) = delete;
  nats_bridge& operator=(const nats_bridge&) = delete;

  /// Hands the targets to the bridge actor, which starts the JetStream consumers whose
  /// targets are set, and once it has them subscribes the endpoints and the micro protocol.
  /// Call once, after the actors behind `targets` exist.
  caf::error serve(bridge_targets targets);

  /// The bridge actor: `bus::inbound` from nats.c, events from the actors, component states
  /// from the node.
  bridge_actor handle() const;

  /// The same actor as an untyped handle, to `monitor`. It fails (quits with an error) when
  /// its JetStream consumers die more often than `consumer_max_restarts` within
  /// `consumer_restart_period`.
  caf::actor actor() const;

  /// The same actor, as the event sink the other actors publish through.
  event_sink_actor events() const;

  /// The instance id in the micro protocol.
  const std::string& service_id() const;

  /// Shuts down in order: stops taking requests (drains the subscriptions), waits for the
  /// replies in flight (the actor says when none is left), lets each consumer finish and
  /// settle the batch at hand, closes the connections and stops the actor. Returns
  /// within about `timeout`.
  void drain(caf::timespan timeout = std::chrono::seconds{5});

  struct impl;

 private:
  explicit nats_bridge(std::unique_ptr<impl> ptr);

  std::unique_ptr<impl> impl_;
};

/// Starts and serves in one step.
caf::expected<std::unique_ptr<nats_bridge>>
start_bridge(caf::actor_system& sys, bridge_config cfg, bridge_targets targets);

/// Releases nats.c's global threads and memory. Call once at the very end of the process,
/// after every bridge (and any other nats.c user) is gone.
void close_nats_library(caf::timespan timeout = std::chrono::seconds{2});

} // namespace slicegate
