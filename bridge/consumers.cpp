#include "bridge/consumers.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "bridge/codec.hpp"
#include "bridge/stripe.hpp"
#include "bridge/subjects.hpp"

namespace slicegate::bridge {

namespace {

namespace event_kind = subjects::event_kind;

/// Every kind of event that comes in over JetStream, consumed yet or not.
constexpr std::string_view inbound_kinds[] = {event_kind::signup, event_kind::payment};

/// An internal error may be a passing fault (a serialization failure, a restart); it is
/// retried this many deliveries before the event counts as unprocessable.
constexpr uint64_t internal_error_deliveries = 5;

/// A consumer waits this much longer than the request it makes, so that the request's own
/// timeout decides.
constexpr caf::timespan handler_margin = std::chrono::seconds{5};

/// `gateway.events.signup` → `auth::signup_events` → session manager: a batch at once, one
/// transaction. An event that does not decode is rejected alone; the others' outcomes come
/// from the session manager's result for each, judged as one event's answer would be.
std::optional<event_handlers> make_signup_handler(const bridge_config& cfg,
                                                  const bridge_targets& targets) {
  if (!targets.sessions)
    return std::nullopt;
  event_handlers result;
  result.batch = [sessions = targets.sessions, timeout = cfg.request_timeout](
                   event_consumer_pointer self, const std::vector<event_message>& msgs,
                   batch_completion complete) {
    std::vector<outcome> outcomes(msgs.size());
    auth::signup_events batch;
    /// Per event of `batch`: its place in `msgs`, its delivery count and its id.
    std::vector<size_t> at;
    std::vector<uint64_t> delivered;
    std::vector<std::string> ids;
    for (size_t i = 0; i < msgs.size(); ++i) {
      auto event = codec::decode<auth::signup_event>(msgs[i].payload);
      if (!event) {
        outcomes[i] = rejected(message_of(event.error()), peek_event_id(msgs[i].payload));
        continue;
      }
      at.push_back(i);
      delivered.push_back(msgs[i].delivered);
      ids.push_back(event->event_id);
      batch.events.push_back(std::move(*event));
    }
    if (batch.events.empty()) {
      complete(std::move(outcomes));
      return;
    }
    auto judge = [at, delivered, ids](std::vector<outcome>& outcomes, size_t k,
                                      const caf::error& err) {
      auto result = classify(err, delivered[k]);
      result.event_id = ids[k];
      outcomes[at[k]] = std::move(result);
    };
    self->request(sessions, timeout, std::move(batch))
      .then(
        [complete, outcomes, judge, n = at.size()](
          std::vector<auth::signup_result>& results) mutable {
          for (size_t k = 0; k < n; ++k) {
            if (k >= results.size())
              judge(outcomes, k, make_error(ec::unavailable, "no result for this event"));
            else if (results[k].error)
              judge(outcomes, k, results[k].error);
          }
          complete(std::move(outcomes));
        },
        [complete, outcomes, judge, n = at.size()](caf::error& err) mutable {
          for (size_t k = 0; k < n; ++k)
            judge(outcomes, k, err);
          complete(std::move(outcomes));
        });
  };
  return result;
}

/// Why billing stored an event without applying it, for `<p>.events.rejected`: a refused
/// checkout names a user linked to another Stripe customer, and a link is never replaced.
std::string refusal_reason(const billing::outcome& out) {
  std::string who = "its user";
  if (!out.user_ids.empty())
    who = "user " + std::to_string(out.user_ids.front());
  return "refused: " + who
         + " is linked to another Stripe customer; the checkout is recorded, not applied";
}

/// `gateway.events.payment` → `billing::stripe_event` → billing actor. A Stripe event of a type
/// billing does not handle is acknowledged at once, without asking anyone. A checkout billing
/// refused is acknowledged too (it is recorded), and reported like an unprocessable event.
std::optional<event_handlers> make_payment_handler(const bridge_config& cfg,
                                                   const bridge_targets& targets) {
  if (!targets.billing)
    return std::nullopt;
  // One event at a time, in order: Stripe events of a customer build on each other.
  event_handlers result;
  result.each = [billing = targets.billing, timeout = cfg.request_timeout](
                  event_consumer_pointer self, const event_message& msg, completion complete) {
    auto parsed = stripe::parse_event(msg.payload);
    if (auto rej = std::get_if<stripe::rejected>(&parsed)) {
      complete(rejected(std::move(rej->reason), std::move(rej->event_id)));
      return;
    }
    if (auto ign = std::get_if<stripe::ignored>(&parsed)) {
      spdlog::debug("bridge acknowledges Stripe event {} of unhandled type {}", ign->event_id,
                    ign->type);
      complete(done());
      return;
    }
    auto& event = std::get<billing::stripe_event>(parsed);
    auto id = event.event_id;
    ask<billing::outcome>(self, billing, timeout, std::move(event), std::move(complete),
                          msg.delivered, id, [id](const billing::outcome& out) {
                            return out.kind == billing::outcome_kind::refused
                                     ? rejected(refusal_reason(out), id)
                                     : done();
                          });
  };
  return result;
}

} // namespace

const std::vector<consumer_entry>& consumer_table() {
  static const std::vector<consumer_entry> table{
    // kind, handler factory
    {event_kind::signup, make_signup_handler},
    {event_kind::payment, make_payment_handler},
  };
  return table;
}

stream_spec events_stream(const bridge_config& cfg) {
  stream_spec result{cfg.events_stream, {}, cfg.events_max_age};
  for (auto kind : inbound_kinds)
    result.subjects.push_back(subjects::event(cfg.subject_prefix, kind));
  return result;
}

stream_spec slices_stream(const bridge_config& cfg) {
  return {cfg.slices_stream,
          {subjects::slice_wildcard(cfg.subject_prefix),
           subjects::user_slice_wildcard(cfg.subject_prefix),
           subjects::server_wildcard(cfg.subject_prefix)},
          cfg.slices_max_age};
}

consumer_spec make_consumer_spec(const bridge_config& cfg, std::string_view kind) {
  consumer_spec result;
  result.stream = events_stream(cfg);
  result.durable = cfg.consumer_prefix + "_" + std::string{kind};
  result.filter_subject = subjects::event(cfg.subject_prefix, kind);
  result.rejected_subject = subjects::event(cfg.subject_prefix, event_kind::rejected);
  result.ack_wait = cfg.event_ack_wait;
  result.retry_delay = cfg.event_retry_delay;
  result.batch = std::max(1, cfg.event_batch);
  result.handler_timeout = cfg.request_timeout + handler_margin;
  return result;
}

outcome classify(const caf::error& err, uint64_t delivered) {
  auto code = code_of(err);
  auto reason = to_string(code) + ": " + message_of(err);
  switch (code) {
    case ec::unavailable:
    case ec::rate_limited: return retry_later(std::move(reason));
    case ec::internal:
      if (delivered < internal_error_deliveries)
        return retry_later(std::move(reason));
      return rejected(reason + " (after " + std::to_string(delivered) + " deliveries)");
    default: return rejected(std::move(reason));
  }
}

optional<std::string> peek_event_id(std::string_view payload) {
  auto j = codec::json::parse(payload.begin(), payload.end(), nullptr, false);
  if (!j.is_object())
    return {};
  auto i = j.find("id");
  if (i == j.end() || !i->is_string())
    return {};
  auto& id = i->get_ref<const std::string&>();
  if (id.size() > codec::limits::event_id)
    return {};
  return id;
}

} // namespace slicegate::bridge
