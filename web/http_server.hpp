#pragma once

// slicegate's optional HTTP listener (`http-listen`): the admin dashboard's files, the page's
// `/config.json`, and `GET /metrics` in the Prometheus text format. It serves no API of its
// own: the dashboard talks to slicegate over NATS (WebSocket) like every other caller.
// cpp-httplib runs it on threads of its own; this header includes neither it nor JSON.

#include <functional>
#include <memory>
#include <string>

#include <caf/expected.hpp>

namespace slicegate::web {

struct http_config {
  /// `host:port`; port 0 picks a free one.
  std::string listen;
  /// The dashboard's built files; none served when empty or missing.
  std::string root;
  /// What `/config.json` tells the page: where NATS' WebSocket listener is (empty: the page
  /// asks), and the subject prefix.
  std::string nats_ws_url;
  std::string subject_prefix = "gateway";
};

class http_server {
 public:
  /// Produces the `/metrics` body; called on a listener thread, may block briefly.
  using metrics_fn = std::function<std::string()>;

  /// Binds and starts serving; fails on an address that does not parse or cannot be bound.
  static caf::expected<std::unique_ptr<http_server>> start(http_config cfg, metrics_fn metrics);

  /// Stops serving and joins the listener thread.
  ~http_server();

  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  /// The port bound (useful with port 0).
  int port() const;

  /// Stops serving; idempotent.
  void stop();

  struct impl;

 private:
  explicit http_server(std::unique_ptr<impl> ptr);
  std::unique_ptr<impl> impl_;
};

} // namespace slicegate::web
