#pragma once

// The bridge's NATS connections and nats.c callbacks (internal to bridge/).
//
// Two connections, because their needs conflict (STACK.md §3.2):
// - `rpc` carries requests and replies. SendAsap cuts the ~1 ms the flusher adds to every
//   reply; all its subscriptions share one delivery thread instead of one thread each.
// - `bulk` publishes events and talks to JetStream, buffered through the flusher, which keeps
//   publishing throughput two orders of magnitude higher than SendAsap would.
//
// Each connection is first opened by a thread of its own that retries until a server answers,
// so that slicegate starts while NATS is down. Once connected, nats.c reconnects by itself,
// forever. (nats.c's RetryOnFailedConnect would spare that thread, but in 3.4.1 an initial
// handshake that fails after the TCP connect - a server still starting, a TCP self-connect on
// a loopback port - closes the connection for good.)
//
// nats.c threads never do work here: a callback copies subject, reply, headers and payload
// into a `bus::inbound`, destroys the natsMsg and `anon_send`s it to the bridge actor.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <caf/error.hpp>
#include <nats/nats.h>

#include "actors/actors.hpp"
#include "bridge/nats_options.hpp"
#include "common/nats_credentials.hpp"
#include "messages/error.hpp"

namespace slicegate::bridge {

/// Counters the nats.c threads update; `$SRV.STATS` reports them.
struct link_counters {
  std::atomic<uint64_t> disconnects{0};
  std::atomic<uint64_t> reconnects{0};
  std::atomic<uint64_t> async_errors{0};
  /// Events published before the first connection that did not fit the backlog.
  std::atomic<uint64_t> backlog_dropped{0};
  /// Requests answered 503 at once because `max_in_flight` were already being served.
  std::atomic<uint64_t> shed{0};
};

class link {
 public:
  /// `urls`: one or more server URLs, comma-separated. Bodies longer than `max_payload` are
  /// cut to `max_payload + 1` bytes when copied: enough for the actor to refuse them.
  /// `credentials`: how both connections authenticate and whether they use TLS.
  link(std::string urls, std::string client_name, int64_t max_payload,
       nats_credentials credentials = {});

  /// At most this many requests are served at once; one more is answered 503 `unavailable`
  /// on the spot by the NATS thread, without reaching any actor, so that no mailbox grows
  /// without bound under a flood. 0: no limit.
  void limit_in_flight(int64_t max) {
    max_in_flight_ = max;
  }

  /// Closes what is still open and waits for nats.c to let go of this object.
  ~link();

  link(const link&) = delete;
  link& operator=(const link&) = delete;

  /// Starts opening both connections in the background and reports their state changes to
  /// `receiver`. Fails only on a configuration nats.c refuses (credentials and TLS files
  /// included, checked before the first attempt) or a server that refuses the credentials.
  caf::error connect(bridge_actor receiver);

  /// Subscribes `subject` on the rpc connection, in queue group `queue` unless empty; before
  /// the first connection, as soon as it exists.
  caf::error subscribe(const std::string& subject, const std::string& queue);

  /// Waits up to `timeout` until the server has processed our subscriptions.
  void flush(std::chrono::milliseconds timeout);

  /// Sends a reply on the rpc connection; false if it could not be queued.
  bool reply(const std::string& to, std::string_view body);

  /// Publishes on the rpc connection, in order with the replies sent after it: a message that
  /// must reach other instances before a caller who got the next reply can ask them anything.
  bool publish_before_replies(const std::string& subject, std::string_view body) {
    return reply(subject, body);
  }

  /// Sends an error reply with the micro protocol's headers `Nats-Service-Error` and
  /// `Nats-Service-Error-Code`.
  bool reply_error(const std::string& to, std::string_view body, std::string_view description,
                   int code);

  /// Publishes an event on the bulk connection. Before its first connection, events wait in
  /// a bounded backlog (as nats.c's own reconnect buffer keeps them during later outages).
  bool publish(const std::string& subject, std::string_view body);

  /// The bulk connection once it first connected, else null. Once set, it stays valid until
  /// this object is destroyed (nats.c reconnects it in place).
  natsConnection* bulk() const {
    return bulk_role_.nc.load();
  }

  /// Stops taking requests: drains every subscription (already received messages are still
  /// delivered) and waits up to `timeout` for that to finish.
  void drain_subscriptions(std::chrono::milliseconds timeout);

  /// Stops connecting, flushes and closes both connections, waiting up to `timeout` for each
  /// to report closed.
  void close(std::chrono::milliseconds timeout);

  /// Requests that reached the actor and are not answered yet. The callback counts up, the
  /// actor counts down once it replied (or decided not to).
  std::atomic<int64_t> in_flight{0};

  link_counters counters;

 private:
  struct connection_role {
    connection_role(link* owner, const char* name, bool send_asap)
      : owner(owner), name(name), send_asap(send_asap) {}

    link* owner;
    const char* name;
    bool send_asap;
    std::atomic<natsConnection*> nc{nullptr};
    std::thread opener;
    /// Set by on_closed (guarded by the link's mutex).
    bool closed = false;
  };

  /// One attempt to connect `role`.
  natsStatus open(natsConnection** nc, connection_role& role);
  /// Retries `open` until it succeeds or `close` is called, then installs the connection.
  void keep_opening(connection_role& role);
  /// Runs with the mutex held, as the connection becomes visible to others.
  void install(connection_role& role, natsConnection* nc);
  natsStatus subscribe_now(const std::string& subject, const std::string& queue);

  static void on_message(natsConnection*, natsSubscription*, natsMsg*, void* closure);
  static void on_disconnected(natsConnection*, void* closure);
  static void on_reconnected(natsConnection*, void* closure);
  static void on_closed(natsConnection*, void* closure);
  static void on_error(natsConnection*, natsSubscription*, natsStatus, void* closure);

  void notify(const connection_role& role, const char* state);

  struct subscription_wish {
    std::string subject;
    std::string queue;
  };

  struct early_event {
    std::string subject;
    std::string body;
  };

  std::vector<std::string> urls_;
  /// As given, for `check`: it tells credentials in the URL from credentials of their own.
  std::string url_text_;
  std::string client_name_;
  nats_credentials credentials_;
  /// `credentials_` ready for nats.c, made by connect().
  prepared_credentials prepared_;
  int64_t max_payload_;
  std::atomic<int64_t> max_in_flight_{0};
  bridge_actor receiver_;
  connection_role rpc_role_{this, "rpc", true};
  connection_role bulk_role_{this, "bulk", false};
  /// Guards everything below, and the moment a connection is installed.
  std::mutex mtx_;
  std::condition_variable cv_;
  std::vector<subscription_wish> wishes_;
  std::vector<natsSubscription*> subscriptions_;
  std::vector<early_event> backlog_;
  size_t backlog_bytes_ = 0;
  /// Set by close(): openers stop, and the disconnects that follow are ours, not news.
  bool closing_ = false;
  std::atomic<bool> quiet_{false};
};

/// The text of a nats.c status, e.g. "Timeout".
std::string to_string(natsStatus status);

} // namespace slicegate::bridge
