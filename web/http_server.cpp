#include "web/http_server.hpp"

#include <charconv>
#include <filesystem>
#include <httplib.h>
#include <thread>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "messages/error.hpp"

namespace slicegate::web {

struct http_server::impl {
  httplib::Server server;
  std::thread thread;
  int port = 0;
};

namespace {

/// What every answer carries: the page loads nothing from elsewhere and talks to NATS over
/// WebSocket only; nobody may frame it.
void harden(httplib::Response& res) {
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("X-Frame-Options", "DENY");
  res.set_header("Referrer-Policy", "no-referrer");
  res.set_header("Content-Security-Policy",
                 "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; "
                 "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'");
}

caf::expected<std::pair<std::string, int>> parse_listen(const std::string& listen) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return make_error(ec::invalid_request,
                      "http-listen: expected host:port, got '" + listen + "'");
  auto host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  int port = -1;
  auto text = listen.substr(colon + 1);
  auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (err != std::errc{} || end != text.data() + text.size() || port < 0 || port > 65535)
    return make_error(ec::invalid_request, "http-listen: bad port in '" + listen + "'");
  return std::make_pair(host, port);
}

} // namespace

http_server::http_server(std::unique_ptr<impl> ptr) : impl_(std::move(ptr)) {
  // nop
}

http_server::~http_server() {
  stop();
}

int http_server::port() const {
  return impl_->port;
}

void http_server::stop() {
  if (!impl_)
    return;
  impl_->server.stop();
  if (impl_->thread.joinable())
    impl_->thread.join();
}

caf::expected<std::unique_ptr<http_server>> http_server::start(http_config cfg,
                                                               metrics_fn metrics) {
  auto address = parse_listen(cfg.listen);
  if (!address)
    return std::move(address.error());
  auto self = std::make_unique<impl>();
  auto& srv = self->server;
  // The page's settings, fixed for the life of the listener.
  nlohmann::json page_config{{"subject_prefix", cfg.subject_prefix},
                             {"nats_ws_url", cfg.nats_ws_url.empty()
                                               ? nlohmann::json(nullptr)
                                               : nlohmann::json(cfg.nats_ws_url)}};
  auto config_body = page_config.dump();
  srv.set_post_routing_handler(
    [](const httplib::Request&, httplib::Response& res) { harden(res); });
  srv.Get("/config.json", [config_body](const httplib::Request&, httplib::Response& res) {
    res.set_header("Cache-Control", "no-store");
    res.set_content(config_body, "application/json");
  });
  srv.Get("/metrics", [metrics](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics(), "text/plain; version=0.0.4; charset=utf-8");
  });
  srv.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  std::error_code ec;
  if (!cfg.root.empty() && std::filesystem::is_directory(cfg.root, ec)) {
    srv.set_mount_point("/", cfg.root);
  } else {
    spdlog::warn("http serves no dashboard: '{}' is not a directory (build it with npm in "
                 "dashboard/, or set http-root)",
                 cfg.root);
    srv.Get("/", [](const httplib::Request&, httplib::Response& res) {
      res.status = 404;
      res.set_content("the dashboard is not installed on this instance\n", "text/plain");
    });
  }
  auto& [host, port] = *address;
  int bound
    = port == 0 ? srv.bind_to_any_port(host) : (srv.bind_to_port(host, port) ? port : -1);
  if (bound < 0)
    return make_error(ec::unavailable, "http-listen: cannot listen on " + cfg.listen);
  self->port = bound;
  auto raw = self.get();
  self->thread = std::thread{[raw] {
    raw->server.listen_after_bind();
  }};
  spdlog::info("http listens on {}:{} (dashboard, /metrics)", host, bound);
  return std::unique_ptr<http_server>{new http_server(std::move(self))};
}

} // namespace slicegate::web
