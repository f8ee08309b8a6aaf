#pragma once

// What crosses the NATS edge inside the process: a copied inbound message, the state of the
// components the bridge forwards to, and its consumers' counters. The bridge alone turns
// inbound messages into typed requests.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <caf/meta/type_name.hpp>
#include <caf/timestamp.hpp>

namespace slicegate::bus {

/// A core-NATS message copied out of nats.c's callback (the natsMsg is destroyed there).
struct inbound {
  std::string subject;
  std::string reply;
  std::string payload;
  std::vector<std::pair<std::string, std::string>> headers;
  caf::timestamp received_at;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, inbound& x) {
  return f(caf::meta::type_name("bus::inbound"), x.subject, x.reply, x.payload, x.headers,
           x.received_at);
}

inline bool operator==(const inbound& x, const inbound& y) {
  return x.subject == y.subject && x.reply == y.reply && x.payload == y.payload
         && x.headers == y.headers && x.received_at == y.received_at;
}

/// The NATS connection changed state (connected, disconnected, reconnected, closed).
struct connection_state {
  std::string state;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, connection_state& x) {
  return f(caf::meta::type_name("bus::connection_state"), x.state);
}

inline bool operator==(const connection_state& x, const connection_state& y) {
  return x.state == y.state;
}

/// The names of the components the bridge forwards to, as `component_state` and `$SRV.STATS`
/// (`components_down`) spell them.
namespace component {
constexpr const char* sessions = "sessions";
constexpr const char* slices = "slices";
constexpr const char* persistence = "persistence";
constexpr const char* billing = "billing";
} // namespace component

/// A component the bridge forwards to went down or came back (from the node that supervises
/// it). While it is down, its endpoints answer 503 `unavailable` at once and the consumers that
/// need it leave their events in the stream.
struct component_state {
  /// One of `component::…`.
  std::string name;
  bool up = true;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, component_state& x) {
  return f(caf::meta::type_name("bus::component_state"), x.name, x.up);
}

inline bool operator==(const component_state& x, const component_state& y) {
  return x.name == y.name && x.up == y.up;
}

/// What one of the bridge's JetStream consumers counted since its previous report; it reports
/// to the bridge after each change, and the bridge adds them up for `$SRV.STATS` (so the counts
/// survive a consumer's restart, whichever order its last report and its end arrive in).
struct consumer_counters {
  /// The durable's name.
  std::string consumer;
  uint64_t received = 0;
  uint64_t done = 0;
  uint64_t retried = 0;
  uint64_t rejected = 0;
  uint64_t fetch_errors = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, consumer_counters& x) {
  return f(caf::meta::type_name("bus::consumer_counters"), x.consumer, x.received, x.done,
           x.retried, x.rejected, x.fetch_errors);
}

inline bool operator==(const consumer_counters& x, const consumer_counters& y) {
  return x.consumer == y.consumer && x.received == y.received && x.done == y.done
         && x.retried == y.retried && x.rejected == y.rejected
         && x.fetch_errors == y.fetch_errors;
}

} // namespace slicegate::bus
