#include "bridge/bridge_actor.hpp"

#include <caf/sec.hpp>
#include <spdlog/spdlog.h>

#include "bridge/endpoints.hpp"
#include "bridge/subjects.hpp"

namespace slicegate::bridge {

// -- shared_context ---------------------------------------------------------------------------

void shared_context::set_targets(bridge_targets targets) {
  std::lock_guard<std::mutex> guard{mtx_};
  targets_ = std::move(targets);
}

bridge_targets shared_context::targets() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return targets_;
}

void shared_context::add_consumer(std::string name,
                                  std::shared_ptr<const consumer_counters> counters) {
  std::lock_guard<std::mutex> guard{mtx_};
  consumers_.emplace_back(std::move(name), std::move(counters));
}

std::vector<std::pair<std::string, std::shared_ptr<const consumer_counters>>>
shared_context::consumers() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return consumers_;
}

namespace {

constexpr std::string_view micro_prefix = "$SRV.";

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

/// The request is answered (or deliberately not): one less in flight.
void finished(bridge_pointer self) {
  self->state.nats->in_flight.fetch_sub(1);
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
  self->state.stats[req.endpoint].processing_time += caf::make_timestamp() - req.received_at;
}

std::vector<micro::endpoint> endpoint_list(const bridge_state& st) {
  std::vector<micro::endpoint> result;
  auto& table = endpoint_table();
  for (size_t i = 0; i < table.size(); ++i)
    result.push_back({table[i].name, st.subjects[i], queue_group, st.stats[i]});
  return result;
}

micro::identity identity(const bridge_state& st, bool with_counters) {
  micro::identity who{st.config.service_name,
                      st.config.service_id,
                      st.config.service_version,
                      st.config.description,
                      {{"subject_prefix", st.config.subject_prefix}}};
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
  put("events_published", st.events_published);
  put("events_publish_failed", st.events_failed);
  put("unknown_subject_requests", st.unknown_requests);
  for (auto& [name, c] : st.shared->consumers()) {
    put("consumer_" + name + "_received", c->received.load());
    put("consumer_" + name + "_done", c->done.load());
    put("consumer_" + name + "_retried", c->retried.load());
    put("consumer_" + name + "_rejected", c->rejected.load());
    put("consumer_" + name + "_fetch_errors", c->fetch_errors.load());
  }
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

void dispatch(bridge_pointer self, bus::inbound& in) {
  auto& st = self->state;
  if (starts_with(in.subject, micro_prefix)) {
    answer_micro(self, in);
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

} // namespace

void reply(bridge_pointer self, const pending_request& req, const codec::json& body) {
  auto& st = self->state;
  if (st.nats->reply(req.reply, codec::dump(body))) {
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

bridge_actor::behavior_type bridge(bridge_pointer self, bridge_config cfg,
                                   std::shared_ptr<link> nats,
                                   std::shared_ptr<shared_context> shared) {
  auto& st = self->state;
  st.config = std::move(cfg);
  st.nats = std::move(nats);
  st.shared = std::move(shared);
  st.started = caf::make_timestamp();
  for (auto& x : endpoint_table()) {
    st.by_subject.emplace(x.subject(st.config.subject_prefix), st.subjects.size());
    st.subjects.push_back(x.subject(st.config.subject_prefix));
  }
  st.stats.resize(st.subjects.size());
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
  };
}

} // namespace slicegate::bridge
