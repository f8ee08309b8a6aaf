#pragma once

// JetStream pieces of the bridge (internal to bridge/): keeping streams in place, and what the
// durable pull consumers (bridge/event_consumer.hpp) and their handlers share. A consumer hands
// each event to a handler and acknowledges it only once the handler says it is done, that is
// after the database commit.
//
// A consumer processes its events in stream order, a batch at a time: the durable allows as
// many unacknowledged events as one batch holds (MaxAckPending = batch), so JetStream hands
// out further events only as the current ones are settled. Another slicegate instance sharing
// the durable may take events while this one holds a batch smaller than that: batches of
// different instances may interleave (`event-batch 1` keeps the strict order of one event
// at a time across instances). The handler answers asynchronously with one of three outcomes
// per event:
// - done: acknowledged;
// - retry later (a dependency is down): kept, with the events behind it, and handed to the
//   handler again after a delay; the consumer fetches nothing meanwhile, so nothing overtakes
//   it (a consumer that stops puts them back: negatively acknowledged with the delay);
// - rejected (the event can never be processed): reported on `<p>.events.rejected`, then
//   acknowledged, so that a poison message is not redelivered forever.
// A batch is acknowledged only once every event in it is settled.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/timestamp.hpp>
#include <nats/nats.h>

#include "messages/records.hpp"

namespace slicegate::bridge {

/// A stream the bridge creates at start-up, or brings back to this configuration.
struct stream_spec {
  std::string name;
  std::vector<std::string> subjects;
  /// Zero keeps messages forever.
  caf::timespan max_age{0};
};

/// Creates the stream, or updates it when it exists with a different configuration. Blocks
/// for up to a few seconds (JetStream API requests).
caf::error ensure_stream(jsCtx* js, const stream_spec& spec);

/// What a handler decided about one event.
enum class verdict {
  done,
  retry_later,
  rejected,
};

/// A handler's answer.
struct outcome {
  verdict what = verdict::done;
  /// Why it must wait or was rejected; logged, and reported for rejections.
  std::string reason;
  /// The event's own id, if the handler could read one.
  optional<std::string> event_id;
};

/// The event is processed (committed).
inline outcome done() {
  return {verdict::done, {}, {}};
}

/// A dependency cannot serve now; the event comes back after the consumer's retry delay.
inline outcome retry_later(std::string reason) {
  return {verdict::retry_later, std::move(reason), {}};
}

/// The event can never be processed.
inline outcome rejected(std::string reason, optional<std::string> event_id = {}) {
  return {verdict::rejected, std::move(reason), std::move(event_id)};
}

/// One JetStream message, as a handler sees it.
struct event_message {
  std::string subject;
  std::string payload;
  uint64_t stream_sequence = 0;
  /// 1 on the first delivery.
  uint64_t delivered = 1;
};

/// A durable pull consumer's configuration.
struct consumer_spec {
  /// The stream, ensured before the consumer is created.
  stream_spec stream;
  /// Durable name (no dots).
  std::string durable;
  /// The subject this consumer takes from the stream.
  std::string filter_subject;
  /// Where rejected events are reported.
  std::string rejected_subject;
  /// JetStream redelivers an event not acknowledged within this long.
  caf::timespan ack_wait = std::chrono::seconds{30};
  /// Redelivery delay after "retry later".
  caf::timespan retry_delay = std::chrono::seconds{5};
  /// Longest wait for a handler's answer; no answer counts as "retry later".
  caf::timespan handler_timeout = std::chrono::seconds{30};
  /// Most events fetched at once, and held unacknowledged (MaxAckPending); 1 takes one event
  /// at a time.
  int batch = 1;
  /// How long one fetch waits for an event. The consumer handles no message meanwhile, so
  /// this also bounds how long a stop or an exit waits.
  std::chrono::milliseconds fetch_timeout{250};
};

/// Back-off between failed set-up attempts or fetches: doubles from the first to the last.
constexpr caf::timespan first_backoff = std::chrono::milliseconds{100};
constexpr caf::timespan last_backoff = std::chrono::seconds{5};

inline caf::timespan next_backoff(caf::timespan x) {
  return std::min(x * 2, last_backoff);
}

/// A JetStream context whose API requests give up after a few seconds; null on failure.
jsCtx* open_context(natsConnection* nc);

/// Whether `nc` exists and is connected right now.
bool connected(natsConnection* nc);

/// The text of the last nats.c error on this thread, which says more than the status alone
/// (e.g. which stream's subjects overlap), with the JetStream error code if there is one.
std::string last_error(natsStatus s, jsErrCode jerr);

} // namespace slicegate::bridge
