#include "bridge/bridge_actor.hpp"

#include <caf/sec.hpp>
#include <caf/spawn_options.hpp>
#include <spdlog/spdlog.h>

#include "bridge/consumers.hpp"
#include "bridge/endpoints.hpp"
#include "bridge/subjects.hpp"

namespace slicegate::bridge {

namespace {

constexpr std::string_view micro_prefix = "$SRV.";

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

/// Back-off before a consumer restarts: doubles with each restart in the budget's window.
constexpr caf::timespan first_restart_delay = std::chrono::milliseconds{100};
constexpr caf::timespan last_restart_delay = std::chrono::seconds{5};

/// The request is answered (or deliberately not): one less in flight. A drain waiting for the
/// last one hears of it now.
void finished(bridge_pointer self) {
  auto& st = self->state;
  if (st.nats->in_flight.fetch_sub(1) == 1 && !st.drains.empty()) {
    for (auto& rp : st.drains)
      rp.deliver(int64_t{0});
    st.drains.clear();
  }
}

/// The text a client sees for `err`. Domain errors carry their own; CAF's (a timeout, a dead
/// actor) are described without internals.
std::string describe(const caf::error& err, ec code) {
  if (err.category() == caf::atom("slicegate"))
    return message_of(err);
  if (err.category() == caf::atom("system")) {
    auto sec = static_cast<caf::sec>(err.code());
    if (sec == caf::sec::request_timeout)
      return "the service did not answer in time";
    if (sec == caf::sec::request_receiver_down)
      return "the service is not running";
  }
  return code == ec::unavailable ? "the service is unavailable" : "internal error";
}

void send_error(bridge_pointer self, const std::string& to, ec code, const std::string& message,
                optional<std::chrono::seconds> retry_after = caf::none) {
  auto body = codec::dump(codec::error_body(code, message, retry_after));
  self->state.nats->reply_error(to, body, message, status_code(code));
}

/// Accounts the time from receipt to reply.
void record_time(bridge_pointer self, const pending_request& req) {
  auto& st = self->state;
  auto elapsed = caf::make_timestamp() - req.received_at;
  st.stats[req.endpoint].processing_time += elapsed;
  // The latency histogram of /metrics: the first bucket whose bound holds it.
  auto seconds = std::chrono::duration<double>(elapsed).count();
  auto& bounds = metrics::latency_buckets();
  auto& counts = st.latency[req.endpoint];
  auto bucket = std::lower_bound(bounds.begin(), bounds.end(), seconds) - bounds.begin();
  ++counts[static_cast<size_t>(bucket)];
}

metrics::bridge_stats stats_of(const bridge_state& st) {
  metrics::bridge_stats result;
  auto& table = endpoint_table();
  for (size_t i = 0; i < table.size(); ++i) {
    auto& s = st.stats[i];
    result.endpoints.push_back(
      {table[i].name, s.requests, s.errors, st.latency[i],
       std::chrono::duration<double>(s.processing_time).count()});
  }
  for (auto& slot : st.consumers) {
    auto& c = slot.counters;
    result.consumers.push_back(
      {slot.durable, c.received, c.done, c.retried, c.rejected, c.fetch_errors, slot.restarts});
  }
  result.events_published = st.events_published;
  result.events_publish_failed = st.events_failed;
  result.unknown_subject_requests = st.unknown_requests;
  result.nats_disconnects = st.nats->counters.disconnects.load();
  result.nats_reconnects = st.nats->counters.reconnects.load();
  result.components_down.assign(st.down.begin(), st.down.end());
  return result;
}

std::vector<micro::endpoint> endpoint_list(const bridge_state& st) {
  std::vector<micro::endpoint> result;
  auto& table = endpoint_table();
  for (size_t i = 0; i < table.size(); ++i)
    result.push_back({table[i].name, st.subjects[i], queue_group, st.stats[i]});
  return result;
}

/// Shards as ranges, "0-3,7,9-12" ("-" for none).
std::string shard_ranges(const std::vector<int32_t>& shards) {
  std::string out;
  for (size_t i = 0; i < shards.size();) {
    auto j = i;
    while (j + 1 < shards.size() && shards[j + 1] == shards[j] + 1)
      ++j;
    if (!out.empty())
      out += ',';
    out += std::to_string(shards[i]);
    if (j > i)
      out += '-' + std::to_string(shards[j]);
    i = j + 1;
  }
  return out.empty() ? "-" : out;
}

micro::identity identity(const bridge_state& st, bool with_counters) {
  micro::identity who{st.config.service_name,
                      st.config.service_id,
                      st.config.service_version,
                      st.config.description,
                      {{"subject_prefix", st.config.subject_prefix}}};
  // Which singleton lease and watch shards this instance holds: every verb says, so that
  // `slicectl ping` shows who does what.
  if (st.lease) {
    auto& lease = *st.lease;
    who.metadata["lease_singleton"]
      = lease.held ? "held, term " + std::to_string(lease.term)
                   : "standby" + (lease.holder.empty() ? std::string{} : ", held by " + lease.holder);
    if (lease.shard_count > 0) {
      who.metadata["watch_shards"] = std::to_string(lease.shards.size()) + "/"
                                     + std::to_string(lease.shard_count);
      who.metadata["watch_shard_list"] = shard_ranges(lease.shards);
      who.metadata["instances"] = std::to_string(lease.members.size());
    }
  }
  if (!with_counters)
    return who;
  // The daemon's own counters. Metadata values are strings by the protocol's definition.
  auto& m = who.metadata;
  auto put = [&m](const std::string& key, uint64_t value) {
    m[key] = std::to_string(value);
  };
  put("nats_disconnects", st.nats->counters.disconnects.load());
  put("nats_reconnects", st.nats->counters.reconnects.load());
  put("nats_async_errors", st.nats->counters.async_errors.load());
  put("requests_shed", st.nats->counters.shed.load());
  put("events_published", st.events_published);
  put("events_publish_failed", st.events_failed);
  put("unknown_subject_requests", st.unknown_requests);
  for (auto& slot : st.consumers) {
    auto& c = slot.counters;
    auto& name = slot.durable;
    put("consumer_" + name + "_received", c.received);
    put("consumer_" + name + "_done", c.done);
    put("consumer_" + name + "_retried", c.retried);
    put("consumer_" + name + "_rejected", c.rejected);
    put("consumer_" + name + "_fetch_errors", c.fetch_errors);
    put("consumer_" + name + "_restarts", slot.restarts);
  }
  std::string down;
  for (auto& name : st.down)
    down += (down.empty() ? "" : ",") + name;
  m["components_down"] = down;
  return who;
}

/// `$SRV.<verb>[.<name>[.<id>]]`; only subjects naming this service are subscribed.
void answer_micro(bridge_pointer self, const bus::inbound& in) {
  auto& st = self->state;
  if (in.reply.empty())
    return;
  auto verb = std::string_view{in.subject}.substr(micro_prefix.size());
  verb = verb.substr(0, verb.find('.'));
  codec::json body;
  if (verb == subjects::micro_verb::ping)
    body = micro::ping_response(identity(st, false));
  else if (verb == subjects::micro_verb::info)
    body = micro::info_response(identity(st, false), endpoint_list(st));
  else if (verb == subjects::micro_verb::stats)
    body = micro::stats_response(identity(st, true), st.started, endpoint_list(st));
  else
    return;
  st.nats->reply(in.reply, codec::dump(body));
}

/// Another instance revoked or changed these sessions and users: the session manager forgets
/// what it cached of them. Our own announcements come back too and are ignored.
void hear_forget(bridge_pointer self, const bus::inbound& in) {
  auto& st = self->state;
  auto body = codec::parse_object(in.payload, true);
  if (!body)
    return;
  std::string instance;
  codec::fields f{*body};
  f.text("instance", instance, codec::limits::token, codec::charset::printable);
  if (f.error() || instance == st.config.service_id)
    return;
  auth::forget_cached x;
  auto sessions = body->find("sessions");
  if (sessions != body->end() && sessions->is_array())
    for (auto& id : *sessions)
      if (id.is_string() && id.get_ref<const std::string&>().size() <= codec::limits::token)
        x.session_ids.push_back(id.get<std::string>());
  auto users = body->find("users");
  if (users != body->end() && users->is_array())
    for (auto& id : *users)
      if (id.is_number_integer() && id.get<int64_t>() > 0 && id.get<int64_t>() <= INT32_MAX)
        x.user_ids.push_back(static_cast<int32_t>(id.get<int64_t>()));
  if (x.session_ids.empty() && x.user_ids.empty())
    return;
  if (auto sessions_target = available(st).sessions)
    self->send(sessions_target, std::move(x));
}

void dispatch(bridge_pointer self, bus::inbound& in) {
  auto& st = self->state;
  if (starts_with(in.subject, micro_prefix)) {
    answer_micro(self, in);
    finished(self);
    return;
  }
  if (in.subject == st.forget_subject) {
    hear_forget(self, in);
    finished(self);
    return;
  }
  // A publish without a reply subject is nobody's request: doing the work would answer no one.
  if (in.reply.empty()) {
    spdlog::debug("bridge drops a message without reply subject on {}", in.subject);
    finished(self);
    return;
  }
  auto i = st.by_subject.find(in.subject);
  if (i == st.by_subject.end()) {
    ++st.unknown_requests;
    send_error(self, in.reply, ec::not_found, "no endpoint serves " + in.subject);
    finished(self);
    return;
  }
  pending_request req{i->second, std::move(in.reply), in.received_at};
  ++st.stats[req.endpoint].requests;
  if (static_cast<int64_t>(in.payload.size()) > st.config.max_payload) {
    fail(self, req,
         make_error(ec::invalid_request, "payload too large; at most "
                                           + std::to_string(st.config.max_payload) + " bytes"));
    return;
  }
  endpoint_table()[req.endpoint].handle(self, std::move(req), in.payload);
}

void publish(bridge_pointer self, const std::string& subject, const codec::json& body) {
  auto& st = self->state;
  if (st.nats->publish(subject, codec::dump(body))) {
    ++st.events_published;
  } else {
    ++st.events_failed;
    spdlog::warn("bridge fails to publish an event on {}", subject);
  }
}

// -- supervising the consumers ----------------------------------------------------------------

consumer_slot* find_slot(bridge_state& st, const std::string& durable) {
  for (auto& slot : st.consumers)
    if (slot.durable == durable)
      return &slot;
  return nullptr;
}

consumer_slot* find_slot(bridge_state& st, const caf::actor_addr& who) {
  for (auto& slot : st.consumers)
    if (slot.actor && slot.actor.address() == who)
      return &slot;
  return nullptr;
}

bool known_component(const std::string& name) {
  namespace c = bus::component;
  return name == c::sessions || name == c::slices || name == c::persistence
         || name == c::billing;
}

void spawn_consumer(bridge_pointer self, consumer_slot& slot) {
  auto& st = self->state;
  auto& entry = consumer_table()[slot.entry];
  event_consumer_setup setup{make_consumer_spec(st.config, entry.kind), st.config, entry.make,
                             available(st), st.nats};
  // Detached: fetches and JetStream API calls block.
  slot.actor = self->spawn<caf::detached>(event_consumer, std::move(setup),
                                          caf::actor_cast<consumer_parent_actor>(self));
  self->monitor(slot.actor);
}

/// Starts the consumers whose target is running and hands the running ones the targets as
/// they are now (a consumer whose target is gone pauses).
void apply_targets(bridge_pointer self) {
  auto& st = self->state;
  if (st.stopping)
    return;
  auto live = available(st);
  auto& table = consumer_table();
  for (size_t i = 0; i < table.size(); ++i) {
    auto durable = make_consumer_spec(st.config, table[i].kind).durable;
    auto slot = find_slot(st, durable);
    if (slot != nullptr && slot->actor) {
      self->send(slot->actor, live);
      continue;
    }
    if (slot != nullptr && slot->restart_pending)
      continue; // it starts with the targets of then
    if (!table[i].make(st.config, live)) {
      if (slot == nullptr)
        spdlog::info("consumer {} stays stopped: its target is not running", durable);
      continue;
    }
    if (slot == nullptr) {
      st.consumers.push_back(consumer_slot{i, durable, {}, {}, 0, false});
      slot = &st.consumers.back();
      slot->counters.consumer = durable;
    }
    spawn_consumer(self, *slot);
  }
}

/// Answers the stop requests once no consumer runs any more.
void check_stopped(bridge_pointer self) {
  auto& st = self->state;
  for (auto& slot : st.consumers)
    if (slot.actor)
      return;
  for (auto& rp : st.stops)
    rp.deliver(st.killed);
  st.stops.clear();
}

void on_consumer_down(bridge_pointer self, const caf::down_msg& dm) {
  auto& st = self->state;
  auto slot = find_slot(st, dm.source);
  if (slot == nullptr)
    return;
  slot->actor = event_consumer_actor{};
  if (st.stopping) {
    check_stopped(self);
    return;
  }
  // A consumer quits normally only when told to stop.
  if (!dm.reason)
    return;
  auto now = restart_budget::clock::now();
  if (!st.restarts.try_restart(now)) {
    auto period = std::chrono::duration_cast<std::chrono::seconds>(st.restarts.period());
    auto what = "consumer " + slot->durable + " failed (" + caf::to_string(dm.reason)
                + ") after " + std::to_string(st.restarts.max_restarts())
                + " restarts of consumers within " + std::to_string(period.count()) + " s";
    spdlog::error("bridge gives up: {}", what);
    self->quit(make_error(ec::internal, what));
    return;
  }
  ++slot->restarts;
  slot->restart_pending = true;
  auto delay = std::chrono::duration_cast<caf::timespan>(
    st.restarts.backoff(first_restart_delay, last_restart_delay, now));
  spdlog::warn("consumer {} fails ({}); the bridge restarts it in {} ms", slot->durable,
               caf::to_string(dm.reason),
               std::chrono::duration_cast<std::chrono::milliseconds>(delay).count());
  self->delayed_send(self, delay, restart_atom_v, slot->durable);
}

void restart(bridge_pointer self, const std::string& durable) {
  auto& st = self->state;
  auto slot = find_slot(st, durable);
  if (slot == nullptr || !slot->restart_pending)
    return;
  slot->restart_pending = false;
  if (st.stopping || slot->actor)
    return;
  if (!consumer_table()[slot->entry].make(st.config, available(st))) {
    // Started again by `apply_targets` once its target is back.
    spdlog::info("consumer {} waits for its target before it restarts", durable);
    return;
  }
  spawn_consumer(self, *slot);
}

caf::result<int32_t> stop_consumers(bridge_pointer self, caf::timespan timeout) {
  auto& st = self->state;
  st.stopping = true;
  auto rp = self->make_response_promise<int32_t>();
  st.stops.push_back(rp);
  bool running = false;
  for (auto& slot : st.consumers) {
    slot.restart_pending = false;
    if (!slot.actor)
      continue;
    running = true;
    // The reply only says it stopped; its end (a down message) is what counts.
    self->request(slot.actor, timeout + std::chrono::seconds{1}, stop_atom_v)
      .then([](bool) {}, [](caf::error&) {});
  }
  if (running)
    self->delayed_send(self, timeout, stop_atom_v);
  else
    check_stopped(self);
  return rp;
}

/// The consumers' time to stop is up: those still running are killed. Their events at hand
/// come back after ack_wait.
void kill_consumers(bridge_pointer self) {
  auto& st = self->state;
  for (auto& slot : st.consumers) {
    if (!slot.actor)
      continue;
    spdlog::warn("consumer {} does not stop in time; the bridge kills it", slot.durable);
    self->send_exit(slot.actor, caf::exit_reason::kill);
    ++st.killed;
  }
}

} // namespace

bridge_targets available(const bridge_state& st) {
  auto result = st.targets;
  auto down = [&st](const char* name) {
    return st.down.count(name) > 0;
  };
  if (down(bus::component::sessions))
    result.sessions = session_manager_actor{};
  if (down(bus::component::slices))
    result.slices = slice_manager_actor{};
  if (down(bus::component::persistence))
    result.persistence = persistence_actor{};
  if (down(bus::component::billing))
    result.billing = billing_actor{};
  return result;
}

void reply(bridge_pointer self, const pending_request& req, const codec::json& body) {
  reply_text(self, req, codec::dump(body));
}

void reply_text(bridge_pointer self, const pending_request& req, const std::string& body) {
  auto& st = self->state;
  if (st.nats->reply(req.reply, body)) {
    record_time(self, req);
    finished(self);
    return;
  }
  // Most likely larger than the server's max_payload; the client should hear that much.
  fail(self, req, make_error(ec::internal, "the reply could not be sent"));
}

void fail(bridge_pointer self, const pending_request& req, const caf::error& err) {
  auto& st = self->state;
  auto code = code_of(err);
  if (code == ec::none)
    code = ec::internal;
  auto message = describe(err, code);
  auto status = status_code(code);
  if (status >= 500)
    spdlog::warn("bridge answers {} on {}: {}", status, st.subjects[req.endpoint],
                 caf::to_string(err));
  send_error(self, req.reply, code, message, retry_after_of(err));
  auto& stats = st.stats[req.endpoint];
  ++stats.errors;
  stats.last_error = std::to_string(status) + " " + to_string(code) + ": " + message;
  record_time(self, req);
  finished(self);
}

bridge_internal_actor::behavior_type bridge(bridge_pointer self, bridge_config cfg,
                                            std::shared_ptr<link> nats) {
  auto& st = self->state;
  st.config = std::move(cfg);
  st.forget_subject = subjects::forget_sessions(st.config.subject_prefix);
  st.nats = std::move(nats);
  st.restarts = restart_budget{st.config.consumer_max_restarts,
                               std::chrono::duration_cast<restart_budget::clock::duration>(
                                 st.config.consumer_restart_period)};
  st.started = caf::make_timestamp();
  // Only consumers are monitored.
  self->set_down_handler([self](caf::down_msg& dm) { on_consumer_down(self, dm); });
  for (auto& x : endpoint_table()) {
    st.by_subject.emplace(x.subject(st.config.subject_prefix), st.subjects.size());
    st.subjects.push_back(x.subject(st.config.subject_prefix));
  }
  st.stats.resize(st.subjects.size());
  st.latency.assign(st.subjects.size(),
                    std::vector<uint64_t>(metrics::latency_buckets().size() + 1, 0));
  auto prefix = st.config.subject_prefix;
  return {
    [self, prefix](events::slice_status_changed& x) {
      publish(self, subjects::slice(prefix, subjects::slice_kind::status, x.slice_id),
              codec::to_json(x));
    },
    [self, prefix](events::user_slice_changed& x) {
      publish(self, subjects::user_slice(prefix, x.user_id), codec::to_json(x));
    },
    [self, prefix](events::slice_health& x) {
      publish(self, subjects::slice(prefix, subjects::slice_kind::health, x.sample.slice_id),
              codec::to_json(x));
    },
    [self, prefix](events::slice_alert& x) {
      publish(self, subjects::slice(prefix, subjects::slice_kind::alert, x.slice_id),
              codec::to_json(x));
    },
    [self](lease::state& x) { self->state.lease = std::move(x); },
    [self, prefix](auth::forget_cached& x) {
      // The session manager sends this before it answers the request that revoked: on the
      // connection the answer takes, the others hear of it before the caller hears the answer,
      // and before anything the caller asks next reaches them.
      auto& st = self->state;
      auto body = codec::dump(codec::json{
        {"instance", st.config.service_id}, {"sessions", x.session_ids}, {"users", x.user_ids}});
      if (st.nats->publish_before_replies(st.forget_subject, body))
        ++st.events_published;
      else
        ++st.events_failed;
    },
    [self, prefix](events::event_rejected& x) {
      publish(self, subjects::event(prefix, subjects::event_kind::rejected), codec::to_json(x));
    },
    [self, prefix](events::server_telemetry& x) {
      publish(self, subjects::server_telemetry(prefix), codec::to_json(x));
    },
    [self](bus::inbound& in) { dispatch(self, in); },
    [](bus::connection_state& x) {
      if (x.state.find("disconnected") != std::string::npos)
        spdlog::warn("bridge's NATS connection {}", x.state);
      else
        spdlog::info("bridge's NATS connection {}", x.state);
    },
    [self](bus::component_state& x) {
      auto& st = self->state;
      if (!known_component(x.name)) {
        spdlog::warn("bridge ignores the state of unknown component '{}'", x.name);
        return;
      }
      auto changed = x.up ? st.down.erase(x.name) > 0 : st.down.insert(x.name).second;
      if (!changed)
        return;
      if (x.up)
        spdlog::info("bridge forwards to {} again", x.name);
      else
        spdlog::warn("bridge answers 503 for {} while it is down", x.name);
      apply_targets(self);
    },
    [self](bridge_targets& targets) {
      self->state.targets = std::move(targets);
      apply_targets(self);
      return true;
    },
    [self](drain_atom, caf::timespan timeout) -> caf::result<int64_t> {
      auto& st = self->state;
      if (st.nats->in_flight.load() <= 0)
        return int64_t{0};
      auto rp = self->make_response_promise<int64_t>();
      st.drains.push_back(rp);
      self->delayed_send(self, timeout, drain_atom_v);
      return rp;
    },
    [self](drain_atom) {
      auto& st = self->state;
      auto left = st.nats->in_flight.load();
      for (auto& rp : st.drains)
        rp.deliver(left);
      st.drains.clear();
    },
    [self](stop_atom, caf::timespan timeout) { return stop_consumers(self, timeout); },
    [self](stop_atom) { kill_consumers(self); },
    [self](bus::consumer_counters& x) {
      auto slot = find_slot(self->state, x.consumer);
      if (slot == nullptr)
        return;
      auto& c = slot->counters;
      c.received += x.received;
      c.done += x.done;
      c.retried += x.retried;
      c.rejected += x.rejected;
      c.fetch_errors += x.fetch_errors;
    },
    [self](restart_atom, std::string& durable) { restart(self, durable); },
    [self](stats_atom) { return stats_of(self->state); },
    [self](consumer_atom, std::string& durable) {
      auto slot = find_slot(self->state, durable);
      return slot != nullptr && slot->actor ? caf::actor_cast<caf::actor>(slot->actor)
                                            : caf::actor{};
    },
  };
}

} // namespace slicegate::bridge
