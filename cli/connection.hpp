#pragma once

// slicectl's one way to NATS: a connection, requests with the micro protocol's error header,
// and the admin call that adds the session.

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/options.hpp"

struct __natsConnection;

namespace slicegate::cli {

/// A reply: its body, and the micro protocol's error code if it is an error.
struct reply {
  std::string body;
  int error_code = 0;
};

/// What a connection does when the server goes away.
enum class reconnects {
  /// Nothing: a one-shot command fails at once with a transport error.
  never,
  /// Reconnects for as long as it takes, saying nothing (the caller reports failed requests).
  quietly,
  /// Reconnects for as long as it takes and says so on stderr.
  reported,
};

/// One connection to NATS, closed on destruction.
class connection {
 public:
  /// Connects to `urls` with `credentials`; a credentials mistake (a combination, a file
  /// that cannot be read) throws a usage failure naming the option, a refused connection a
  /// transport failure.
  connection(const std::string& urls, const nats_credentials& credentials,
             std::chrono::milliseconds timeout, reconnects policy = reconnects::never);

  /// The URL and credentials of `o`.
  connection(const options& o, std::chrono::milliseconds timeout,
             reconnects policy = reconnects::never)
    : connection(o.nats_url, o.nats, timeout, policy) {}
  ~connection();

  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  /// One request, one reply; a transport failure throws.
  reply request(const std::string& subject, const std::string& body);

  /// A request every instance answers: collects replies until the first has waited the full
  /// timeout or, after that, until none came for a quarter of a second.
  std::vector<std::pair<nlohmann::json, std::chrono::microseconds>>
  gather(const std::string& subject);

  /// The nats.c handle, for subscriptions.
  __natsConnection* native() {
    return nc_;
  }

 private:
  __natsConnection* nc_ = nullptr;
  std::chrono::milliseconds timeout_;
};

/// Sends `body` to `subject` and returns the reply object; an error reply throws.
nlohmann::json call(connection& nc, const std::string& subject, const nlohmann::json& body);

/// The same on a connection of its own, opened for this one call.
nlohmann::json call(const options& o, const std::string& subject, const nlohmann::json& body);

/// Calls `<prefix>.admin.<resource>.<verb>` with the admin session added to `fields`; an
/// empty `verb` calls `<prefix>.admin.<resource>`.
nlohmann::json admin_call(connection& nc, const options& o, std::string_view resource,
                          std::string_view verb, nlohmann::json fields);

/// The same on a connection of its own.
nlohmann::json admin_call(const options& o, std::string_view resource, std::string_view verb,
                          nlohmann::json fields);

} // namespace slicegate::cli
