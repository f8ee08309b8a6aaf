#pragma once

// A plain nats.c client for tests and benchmarks: requests with headers, subscriptions that
// collect messages, and JetStream publishing. It is what other services would use.

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

struct __natsConnection;
struct __natsSubscription;
struct __natsMsg;
struct __jsCtx;

namespace slicegate::test {

/// A reply to a request.
struct reply {
  /// Transport outcome: "ok", "timeout", "no_responders" or another nats.c status text.
  std::string status = "ok";
  std::string body;
  std::map<std::string, std::string> headers;

  /// The body parsed as JSON (null if not JSON).
  nlohmann::json json() const;
  bool ok() const {
    return status == "ok";
  }
  /// The `error.code` of an error reply, empty otherwise.
  std::string error_code() const;
  /// The value of `Nats-Service-Error-Code`, 0 if absent.
  int service_error_code() const;
};

/// A message a subscription received.
struct received {
  std::string subject;
  std::string body;
  nlohmann::json json() const;
};

class nats_client {
public:
  explicit nats_client(const std::string& url, bool send_asap = true);
  ~nats_client();

  nats_client(const nats_client&) = delete;
  nats_client& operator=(const nats_client&) = delete;

  /// Sends a request; retries on "no responders" until `timeout` is used up (a responder may
  /// still be subscribing after a reconnect).
  reply request(const std::string& subject, const std::string& body,
                std::chrono::milliseconds timeout = std::chrono::seconds{5});
  reply request(const std::string& subject, const nlohmann::json& body,
                std::chrono::milliseconds timeout = std::chrono::seconds{5});

  void publish(const std::string& subject, const std::string& body);

  /// Publishes to JetStream and waits for the ack; throws on failure.
  void js_publish(const std::string& subject, const std::string& body,
                  const std::string& msg_id = "");

  /// Starts collecting messages on `subject` (wildcards allowed).
  void subscribe(const std::string& subject);
  /// Messages collected so far.
  std::vector<received> messages();
  /// Waits until at least `n` messages were collected; returns them.
  std::vector<received> wait_for(size_t n,
                                 std::chrono::milliseconds timeout = std::chrono::seconds{10});
  void clear();

  __natsConnection* connection() {
    return nc_;
  }

private:
  static void on_message(__natsConnection*, __natsSubscription*, __natsMsg*, void*);

  __natsConnection* nc_ = nullptr;
  __jsCtx* js_ = nullptr;
  std::vector<__natsSubscription*> subs_;
  std::mutex mtx_;
  std::condition_variable cv_;
  std::vector<received> received_;
};

} // namespace slicegate::test
