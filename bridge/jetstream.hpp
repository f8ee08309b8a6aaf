#pragma once

// JetStream pieces of the bridge (internal to bridge/): keeping streams in place, and durable
// pull consumers that hand each event to a handler and acknowledge it only once the handler
// says it is done, that is after the database commit.
//
// A consumer processes its events strictly one at a time, in stream order, on its own
// thread: the durable allows one unacknowledged event (MaxAckPending 1), so JetStream hands out
// the next event only once the current one is settled, even to another slicegate instance
// sharing the durable. The handler answers asynchronously with one of three outcomes:
// - done: acknowledged;
// - retry later (a dependency is down): negatively acknowledged with a delay; JetStream
//   redelivers the same event after it, and nothing behind it overtakes it;
// - rejected (the event can never be processed): reported on `<p>.events.rejected`, then
//   acknowledged, so that a poison message is not redelivered forever.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
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

/// Hands out the NATS connection once it exists (null before); afterwards always the same one.
using connection_source = std::function<natsConnection*()>;

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

/// Reports a handler's outcome. Call it exactly once, from any thread; later calls are ignored.
using completion = std::function<void(outcome)>;

/// Works on one event and calls `complete` when it knows the outcome, typically from an
/// actor's response handler.
using event_handler = std::function<void(const event_message& msg, completion complete)>;

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
  /// How long one fetch waits for an event; also bounds how long `stop` waits for the loop.
  std::chrono::milliseconds fetch_timeout{1000};
};

/// What a consumer did so far; `$SRV.STATS` reports it.
struct consumer_counters {
  std::atomic<uint64_t> received{0};
  std::atomic<uint64_t> done{0};
  std::atomic<uint64_t> retried{0};
  std::atomic<uint64_t> rejected{0};
  std::atomic<uint64_t> fetch_errors{0};
};

/// A durable pull consumer on its own thread. It survives NATS restarts: failed fetches back
/// off, and the stream, consumer and subscription are set up again.
class pull_consumer {
 public:
  /// The connection `source` hands out must outlive this object.
  pull_consumer(connection_source source, consumer_spec spec, event_handler handler);

  /// Stops.
  ~pull_consumer();

  pull_consumer(const pull_consumer&) = delete;
  pull_consumer& operator=(const pull_consumer&) = delete;

  /// Starts the fetch loop.
  void start();

  /// Lets the event at hand finish (up to the handler timeout) and joins the thread.
  void stop();

  const consumer_spec& spec() const {
    return spec_;
  }

  std::shared_ptr<const consumer_counters> counters() const {
    return counters_;
  }

 private:
  void run();
  /// Ensures the stream and the consumer and binds a pull subscription; false on failure.
  bool setup();
  void teardown();
  /// Hands one event to the handler and settles it with JetStream.
  void process(natsMsg* msg);
  outcome await_handler(natsMsg* msg);
  void report_rejection(const char* subject, const outcome& result);
  /// Waits up to `duration`; true if stop() was called meanwhile.
  bool sleep_for(caf::timespan duration);
  bool stopping();

  /// The connection, once the source has one.
  natsConnection* connection();

  connection_source source_;
  natsConnection* nc_ = nullptr;
  consumer_spec spec_;
  event_handler handler_;
  std::shared_ptr<consumer_counters> counters_;
  jsCtx* js_ = nullptr;
  natsSubscription* sub_ = nullptr;
  std::thread thread_;
  std::mutex mtx_;
  std::condition_variable cv_;
  bool stop_ = false;
};

/// Keeps streams in place from a background thread: retries until each exists, so that the
/// bridge starts while NATS is still down.
class stream_keeper {
 public:
  /// The connection `source` hands out must outlive this object.
  stream_keeper(connection_source source, std::vector<stream_spec> streams);
  ~stream_keeper();

  stream_keeper(const stream_keeper&) = delete;
  stream_keeper& operator=(const stream_keeper&) = delete;

  void start();
  void stop();

 private:
  void run();

  connection_source source_;
  std::vector<stream_spec> streams_;
  std::thread thread_;
  std::mutex mtx_;
  std::condition_variable cv_;
  bool stop_ = false;
};

} // namespace slicegate::bridge
