#include "bridge/bridge.hpp"

#include <thread>

#include <caf/send.hpp>
#include <nats/nats.h>
#include <spdlog/spdlog.h>

#include "bridge/bridge_actor.hpp"
#include "bridge/consumers.hpp"
#include "bridge/endpoints.hpp"
#include "bridge/jetstream.hpp"
#include "bridge/link.hpp"
#include "bridge/micro.hpp"
#include "bridge/subjects.hpp"

namespace slicegate {

namespace {

/// How long `serve` waits for the server to confirm the subscriptions.
constexpr std::chrono::milliseconds subscribe_flush_timeout{2000};

/// Service names and ids become subject tokens (`$SRV.PING.<name>.<id>`).
bool valid_token(const std::string& x) {
  return !x.empty() && subjects::valid_prefix(x) && x.find('.') == std::string::npos;
}

caf::error check(const bridge_config& cfg) {
  auto invalid = [](std::string text) {
    return make_error(ec::invalid_request, std::move(text));
  };
  if (!subjects::valid_prefix(cfg.subject_prefix))
    return invalid("subject prefix '" + cfg.subject_prefix
                   + "' must be dot-separated tokens of letters, digits, '_' and '-'");
  if (!valid_token(cfg.service_name))
    return invalid("service name '" + cfg.service_name
                   + "' must be letters, digits, '_' and '-'");
  if (!cfg.service_id.empty() && !valid_token(cfg.service_id))
    return invalid("service id '" + cfg.service_id + "' must be letters, digits, '_' and '-'");
  if (cfg.max_payload <= 0)
    return invalid("max payload must be positive");
  if (cfg.request_timeout <= caf::timespan{0})
    return invalid("request timeout must be positive");
  return caf::none;
}

} // namespace

struct nats_bridge::impl {
  impl(caf::actor_system& sys, bridge_config cfg) : sys(sys), config(std::move(cfg)) {}

  caf::actor_system& sys;
  bridge_config config;
  std::shared_ptr<bridge::link> nats;
  std::shared_ptr<bridge::shared_context> shared;
  bridge_actor actor;
  std::unique_ptr<bridge::stream_keeper> keeper;
  std::vector<std::unique_ptr<bridge::pull_consumer>> consumers;
  bool serving = false;
  bool drained = false;
};

nats_bridge::nats_bridge(std::unique_ptr<impl> ptr) : impl_(std::move(ptr)) {}

nats_bridge::~nats_bridge() {
  drain(std::chrono::seconds{2});
}

caf::expected<std::unique_ptr<nats_bridge>> nats_bridge::start(caf::actor_system& sys,
                                                               bridge_config cfg) {
  if (auto err = check(cfg))
    return err;
  if (cfg.service_id.empty())
    cfg.service_id = micro::random_id();
  auto d = std::make_unique<impl>(sys, cfg);
  d->nats = std::make_shared<bridge::link>(cfg.nats_url, cfg.service_name, cfg.max_payload);
  d->shared = std::make_shared<bridge::shared_context>();
  // A thread of its own: a request wakes it straight from its mailbox, where an idle
  // scheduler worker would first finish a 50 µs polling sleep (bench/README.md); and replies
  // written with SendAsap may block on the socket.
  d->actor = sys.spawn<caf::detached>(bridge::bridge, cfg, d->nats, d->shared);
  if (auto err = d->nats->connect(d->actor)) {
    caf::anon_send_exit(d->actor, caf::exit_reason::user_shutdown);
    return err;
  }
  // Both streams exist from start-up on, so that events published before any consumer runs
  // (or while its target is down) are kept.
  d->keeper = std::make_unique<bridge::stream_keeper>(
    [nats = d->nats.get()] { return nats->bulk(); },
    std::vector<bridge::stream_spec>{bridge::slices_stream(cfg), bridge::events_stream(cfg)});
  d->keeper->start();
  spdlog::info("bridge starts as {} {} (id {}) on {}", cfg.service_name, cfg.service_version,
               cfg.service_id, cfg.nats_url);
  return std::unique_ptr<nats_bridge>{new nats_bridge(std::move(d))};
}

caf::error nats_bridge::serve(bridge_targets targets) {
  auto& d = *impl_;
  if (d.serving || d.drained)
    return make_error(ec::conflict, "the bridge serves already or has stopped");
  d.serving = true;
  d.shared->set_targets(targets);
  auto& prefix = d.config.subject_prefix;
  // Targets first, subscriptions second: no request can arrive before the targets are known.
  for (auto& x : bridge::endpoint_table())
    if (auto err = d.nats->subscribe(x.subject(prefix), bridge::queue_group))
      return err;
  for (auto& subject : bridge::catch_all_subjects(prefix))
    if (auto err = d.nats->subscribe(subject, bridge::queue_group))
      return err;
  // Every instance answers discovery: no queue group.
  for (auto verb :
       {subjects::micro_verb::ping, subjects::micro_verb::info, subjects::micro_verb::stats})
    for (auto& subject : {subjects::micro(verb), subjects::micro(verb, d.config.service_name),
                          subjects::micro(verb, d.config.service_name, d.config.service_id)})
      if (auto err = d.nats->subscribe(subject, {}))
        return err;
  d.nats->flush(subscribe_flush_timeout);
  for (auto& entry : bridge::consumer_table()) {
    auto spec = bridge::make_consumer_spec(d.config, entry.kind);
    auto handler = entry.make(d.sys, d.config, targets);
    if (!handler) {
      spdlog::info("consumer {} stays stopped: its target is not running", spec.durable);
      continue;
    }
    auto consumer = std::make_unique<bridge::pull_consumer>(
      [nats = d.nats.get()] { return nats->bulk(); }, std::move(spec), *handler);
    d.shared->add_consumer(consumer->spec().durable, consumer->counters());
    consumer->start();
    d.consumers.push_back(std::move(consumer));
  }
  spdlog::info("bridge serves {} endpoints under {}", bridge::endpoint_table().size(), prefix);
  return caf::none;
}

bridge_actor nats_bridge::handle() const {
  return impl_->actor;
}

event_sink_actor nats_bridge::events() const {
  return impl_->actor;
}

const std::string& nats_bridge::service_id() const {
  return impl_->config.service_id;
}

void nats_bridge::drain(caf::timespan timeout) {
  auto& d = *impl_;
  if (d.drained)
    return;
  d.drained = true;
  auto start = std::chrono::steady_clock::now();
  auto deadline = start + timeout;
  auto left = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::max(
      deadline - std::chrono::steady_clock::now(), std::chrono::steady_clock::duration{0}));
  };
  // 1. No new requests; those already received still reach the actor.
  d.nats->drain_subscriptions(left() / 2);
  // 2. The actor answers what it holds.
  while (d.nats->in_flight.load() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds{2});
  if (auto n = d.nats->in_flight.load(); n > 0)
    spdlog::warn("bridge stops with {} requests unanswered", n);
  // 3. Each consumer finishes and acknowledges the event at hand.
  for (auto& consumer : d.consumers)
    consumer->stop();
  d.keeper->stop();
  // 4. What was published goes out; then the connections close.
  d.nats->close(std::max(left(), std::chrono::milliseconds{100}));
  caf::anon_send_exit(d.actor, caf::exit_reason::user_shutdown);
  spdlog::info("bridge stops after {} ms",
               std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::steady_clock::now() - start)
                 .count());
}

caf::expected<std::unique_ptr<nats_bridge>>
start_bridge(caf::actor_system& sys, bridge_config cfg, bridge_targets targets) {
  auto result = nats_bridge::start(sys, std::move(cfg));
  if (!result)
    return result;
  if (auto err = (*result)->serve(std::move(targets)))
    return err;
  return result;
}

void close_nats_library(caf::timespan timeout) {
  nats_CloseAndWait(std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count());
}

} // namespace slicegate
