#pragma once

// Keeps the bridge's streams in place (internal to bridge/): a detached actor that creates
// each stream once NATS is there, retrying with back-off as delayed self-messages, so that the
// bridge starts while NATS is still down. It quits when every stream exists.

#include <memory>
#include <vector>

#include <caf/replies_to.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "bridge/jetstream.hpp"
#include "messages/atoms.hpp"

namespace slicegate::bridge {

class link;

using stream_keeper_actor = caf::typed_actor<
  // Self: tries to set up the next stream.
  caf::reacts_to<retry_atom>>;

struct stream_keeper_state {
  static inline const char* name = "stream_keeper";

  /// Declared first, destroyed last.
  std::shared_ptr<link> nats;
  /// Still to set up, the next one last.
  std::vector<stream_spec> streams;
  caf::timespan backoff = first_backoff;
};

/// The keeper. Spawn it detached: JetStream API calls block for up to a few seconds.
stream_keeper_actor::behavior_type
stream_keeper(stream_keeper_actor::stateful_pointer<stream_keeper_state> self,
              std::shared_ptr<link> nats, std::vector<stream_spec> streams);

} // namespace slicegate::bridge
