#include "actors/billing.hpp"

#include <array>
#include <string_view>
#include <utility>

#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "messages/error.hpp"

namespace slicegate {

namespace {

/// DESIGN.md §4. `unpaid` and `paused` map to past_due like a failed payment, but the raw
/// status stays on the user, and the slice policy suspends at once for those two.
constexpr std::array<std::pair<std::string_view, subscription>, 8> status_mapping{{
  {"trialing", subscription::trial},
  {"active", subscription::active},
  {"past_due", subscription::past_due},
  {"unpaid", subscription::past_due},
  {"incomplete", subscription::past_due},
  {"paused", subscription::past_due},
  {"canceled", subscription::cancelled},
  {"incomplete_expired", subscription::cancelled},
}};

/// Tells the slice manager and the session manager that `user_id`'s billing state changed.
void notify(billing_actor::stateful_pointer<billing_state> self, int32_t user_id) {
  if (self->state.slices)
    self->send(self->state.slices, pool::billing_changed{user_id});
  if (self->state.sessions)
    self->send(self->state.sessions, auth::user_changed{user_id});
}

/// What the log says about an event once persistence answered (never the payload).
struct event_summary {
  billing::event_type type;
  std::string event_id;
  optional<std::string> customer;
  billing_effect effect;
};

void log_outcome(const event_summary& x, const billing::outcome& out) {
  auto type = billing::to_string(x.type);
  if (out.kind == billing::outcome_kind::refused) {
    for (auto user_id : out.user_ids)
      spdlog::warn(
        "billing refuses {} {}: user {} is linked to a Stripe customer other than {}", type,
        x.event_id, user_id, x.customer ? *x.customer : "-");
    return;
  }
  if (out.kind != billing::outcome_kind::applied) {
    spdlog::debug("billing keeps {} {} as {}", type, x.event_id, to_string(out.kind));
    return;
  }
  for (auto user_id : out.user_ids) {
    if (x.effect.mapped_status)
      spdlog::info("billing sets user {} to {} (Stripe {}) on {} {}", user_id,
                   to_string(*x.effect.mapped_status),
                   x.effect.stripe_status ? *x.effect.stripe_status : "-", type, x.event_id);
    else
      spdlog::info("billing links Stripe customer {} to user {} on {} {}",
                   x.customer ? *x.customer : "-", user_id, type, x.event_id);
  }
}

/// Asks persistence to apply `request`. Once it answers, `log` sees the outcome, the slice
/// manager and the session manager hear about every user it changed (only an applied event
/// changes anyone), and the requester gets it; a failure goes to the requester as is. `what`
/// names the work in logs.
template <class Request, class Log>
caf::result<billing::outcome>
apply_and_notify(billing_actor::stateful_pointer<billing_state> self, Request request,
                 std::string what, Log log) {
  auto rp = self->make_response_promise<billing::outcome>();
  self->request(self->state.db, self->state.request_timeout, std::move(request))
    .then(
      [self, rp, log](billing::outcome& out) mutable {
        log(out);
        if (out.kind == billing::outcome_kind::applied)
          for (auto user_id : out.user_ids)
            notify(self, user_id);
        rp.deliver(std::move(out));
      },
      [rp, what](caf::error& err) mutable {
        spdlog::warn("billing cannot apply {}: {}", what, message_of(err));
        rp.deliver(std::move(err));
      });
  return rp;
}

} // namespace

optional<subscription> map_stripe_status(const std::string& stripe_status) {
  for (auto& [raw, mapped] : status_mapping)
    if (raw == stripe_status)
      return mapped;
  return caf::none;
}

caf::expected<billing_effect> effect_of(const billing::stripe_event& x) {
  using billing::event_type;
  switch (x.type) {
    case event_type::checkout_session_completed:
      // A checkout links a customer; its subscription's own events carry the status.
      return billing_effect{};
    case event_type::subscription_deleted:
      // Over, whatever the object's last status; that status is still worth recording.
      return billing_effect{subscription::cancelled,
                            x.stripe_status ? x.stripe_status : std::string{"canceled"}};
    case event_type::subscription_paused:
      return billing_effect{subscription::past_due, std::string{"paused"}};
    case event_type::invoice_paid:
    case event_type::invoice_payment_failed: {
      // An invoice outside any subscription (a one-off charge) says nothing about one.
      if (!x.subscription_id)
        return billing_effect{};
      std::string raw = x.type == event_type::invoice_paid ? "active" : "past_due";
      return billing_effect{map_stripe_status(raw), raw};
    }
    case event_type::subscription_created:
    case event_type::subscription_updated:
    case event_type::subscription_resumed: break;
  }
  if (!x.stripe_status)
    return make_error(ec::invalid_request,
                      billing::to_string(x.type) + " event without a subscription status");
  auto mapped = map_stripe_status(*x.stripe_status);
  if (!mapped)
    return make_error(ec::invalid_request,
                      "unknown Stripe subscription status '" + *x.stripe_status + "'");
  return billing_effect{std::move(mapped), x.stripe_status};
}

billing_actor::behavior_type
billing_manager(billing_actor::stateful_pointer<billing_state> self, billing_store_actor db,
                billing_policy_actor slices, user_cache_actor sessions,
                timespan request_timeout) {
  self->state.db = std::move(db);
  self->state.slices = std::move(slices);
  self->state.sessions = std::move(sessions);
  self->state.request_timeout = request_timeout;
  return {
    [self](billing::stripe_event& x) -> caf::result<billing::outcome> {
      auto effect = effect_of(x);
      if (!effect) {
        spdlog::warn("billing refuses {} {}: {}", billing::to_string(x.type), x.event_id,
                     message_of(effect.error()));
        return std::move(effect.error());
      }
      event_summary summary{x.type, x.event_id, x.customer, *effect};
      auto what = billing::to_string(x.type) + " " + x.event_id;
      x.stripe_status = effect->stripe_status;
      return apply_and_notify(
        self, db::apply_billing_event{std::move(x), effect->mapped_status}, std::move(what),
        [summary](const billing::outcome& out) { log_outcome(summary, out); });
    },
  };
}

} // namespace slicegate
