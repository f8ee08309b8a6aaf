#include "bridge/bridge.hpp"

#include <algorithm>

#include <caf/actor_cast.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/spawn_options.hpp>
#include <nats/nats.h>
#include <spdlog/spdlog.h>

#include "bridge/bridge_actor.hpp"
#include "bridge/consumers.hpp"
#include "bridge/endpoints.hpp"
#include "bridge/jetstream.hpp"
#include "bridge/link.hpp"
#include "bridge/nats_options.hpp"
#include "bridge/micro.hpp"
#include "bridge/stream_keeper.hpp"
#include "bridge/subjects.hpp"
#include "common/database_url.hpp"

namespace slicegate {

namespace {

/// How long `serve` waits for the server to confirm the subscriptions.
constexpr std::chrono::milliseconds subscribe_flush_timeout{2000};

/// How long `serve` waits for the bridge actor to take its targets.
constexpr caf::timespan targets_timeout = std::chrono::seconds{5};

/// How much longer than the time it gives the actor `drain` waits for its answer.
constexpr caf::timespan answer_margin = std::chrono::milliseconds{500};

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

std::string check_credentials(const bridge_config& cfg) {
  bridge::prepared_credentials prepared;
  if (auto problem = bridge::prepare(cfg.credentials, cfg.nats_url, prepared); !problem.empty())
    return problem;
  natsOptions* opts = nullptr;
  if (natsOptions_Create(&opts) != NATS_OK)
    return "cannot create NATS options";
  auto problem = bridge::apply(opts, prepared);
  natsOptions_Destroy(opts);
  return problem;
}

struct nats_bridge::impl {
  impl(caf::actor_system& sys, bridge_config cfg) : sys(sys), config(std::move(cfg)) {}

  caf::actor_system& sys;
  bridge_config config;
  std::shared_ptr<bridge::link> nats;
  bridge::bridge_internal_actor actor;
  bridge::stream_keeper_actor keeper;
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
  d->nats = std::make_shared<bridge::link>(cfg.nats_url, cfg.service_name, cfg.max_payload,
                                           cfg.credentials);
  d->nats->limit_in_flight(cfg.max_in_flight);
  // A thread of its own: a request wakes it straight from its mailbox, where an idle
  // scheduler worker would first finish a 50 µs polling sleep (bench/README.md); and replies
  // written with SendAsap may block on the socket.
  d->actor = sys.spawn<caf::detached>(bridge::bridge, cfg, d->nats);
  if (auto err = d->nats->connect(d->actor)) {
    caf::anon_send_exit(d->actor, caf::exit_reason::user_shutdown);
    return err;
  }
  // Both streams exist from start-up on, so that events published before any consumer runs
  // (or while its target is down) are kept.
  d->keeper = sys.spawn<caf::detached>(
    bridge::stream_keeper, d->nats,
    std::vector<bridge::stream_spec>{bridge::slices_stream(cfg), bridge::events_stream(cfg)});
  spdlog::info("bridge starts as {} {} (id {}) on {} with {}", cfg.service_name,
               cfg.service_version, cfg.service_id, redact_url(cfg.nats_url),
               describe(cfg.credentials));
  return std::unique_ptr<nats_bridge>{new nats_bridge(std::move(d))};
}

caf::error nats_bridge::serve(bridge_targets targets) {
  auto& d = *impl_;
  if (d.serving || d.drained)
    return make_error(ec::conflict, "the bridge serves already or has stopped");
  d.serving = true;
  // Targets first, subscriptions second: no request can arrive before the targets are known.
  // The actor starts the consumers whose target is running as it takes them.
  caf::error refused;
  {
    caf::scoped_actor self{d.sys};
    self->request(d.actor, targets_timeout, std::move(targets))
      .receive([](bool) {}, [&refused](caf::error& x) { refused = std::move(x); });
  }
  if (refused)
    return refused;
  auto& prefix = d.config.subject_prefix;
  for (auto& x : bridge::endpoint_table())
    if (auto err = d.nats->subscribe(x.subject(prefix), bridge::queue_group))
      return err;
  for (auto& subject : bridge::catch_all_subjects(prefix))
    if (auto err = d.nats->subscribe(subject, bridge::queue_group))
      return err;
  // Every instance hears what the others revoked: no queue group.
  if (auto err = d.nats->subscribe(subjects::forget_sessions(prefix), {}))
    return err;
  // Every instance answers discovery: no queue group.
  for (auto verb :
       {subjects::micro_verb::ping, subjects::micro_verb::info, subjects::micro_verb::stats})
    for (auto& subject : {subjects::micro(verb), subjects::micro(verb, d.config.service_name),
                          subjects::micro(verb, d.config.service_name, d.config.service_id)})
      if (auto err = d.nats->subscribe(subject, {}))
        return err;
  d.nats->flush(subscribe_flush_timeout);
  spdlog::info("bridge serves {} endpoints under {}", bridge::endpoint_table().size(), prefix);
  return caf::none;
}

bridge_actor nats_bridge::handle() const {
  return impl_->actor;
}

event_sink_actor nats_bridge::events() const {
  return impl_->actor;
}

caf::actor nats_bridge::actor() const {
  return caf::actor_cast<caf::actor>(impl_->actor);
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
  auto wait = [&] {
    return std::chrono::duration_cast<caf::timespan>(left());
  };
  // 1. No new requests; those already received still reach the actor.
  d.nats->drain_subscriptions(left() / 2);
  caf::scoped_actor self{d.sys};
  // 2. The actor answers what it holds, and says when it has (or how many it could not).
  self->request(d.actor, wait() + answer_margin, drain_atom_v, wait())
    .receive(
      [](int64_t n) {
        if (n > 0)
          spdlog::warn("bridge stops with {} requests unanswered", n);
      },
      [](caf::error& err) {
        spdlog::warn("bridge actor does not drain: {}", caf::to_string(err));
      });
  // 3. Each consumer settles the batch at hand and quits; those that take too long are killed,
  // and JetStream redelivers their events later.
  self->request(d.actor, wait() + answer_margin, stop_atom_v, wait())
    .receive(
      [](int32_t killed) {
        if (killed > 0)
          spdlog::warn("bridge kills {} consumers that did not stop in time", killed);
      },
      [](caf::error& err) {
        spdlog::warn("bridge actor does not stop its consumers: {}", caf::to_string(err));
      });
  caf::anon_send_exit(d.keeper, caf::exit_reason::user_shutdown);
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
