#pragma once

// What crosses the NATS edge inside the process: a copied inbound message. The bridge alone
// turns these into typed requests.

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

} // namespace slicegate::bus
