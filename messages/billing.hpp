#pragma once

// Billing: Stripe events as the actors see them (the NATS edge parses the JSON, see
// bridge/stripe.hpp), and what became of one.

#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "messages/records.hpp"

namespace slicegate::billing {

/// The Stripe event types that billing handles (DESIGN.md §4). Any other type is acknowledged
/// and ignored at the edge, so it never becomes a `stripe_event`.
enum class event_type : uint8_t {
  /// `checkout.session.completed`: links a Stripe customer to a user.
  checkout_session_completed,
  /// `customer.subscription.created`.
  subscription_created,
  /// `customer.subscription.updated`.
  subscription_updated,
  /// `customer.subscription.deleted`.
  subscription_deleted,
  /// `customer.subscription.paused`.
  subscription_paused,
  /// `customer.subscription.resumed`.
  subscription_resumed,
  /// `invoice.paid`.
  invoice_paid,
  /// `invoice.payment_failed`.
  invoice_payment_failed,
};

/// Returns Stripe's spelling of `x`, e.g. "customer.subscription.updated".
std::string to_string(event_type x);

/// Returns the handled type Stripe spells `text`, or none.
optional<event_type> parse_event_type(const std::string& text);

/// One Stripe Event, reduced to the facts the billing rules read. Which fields are set depends
/// on the type: a checkout has no status, an invoice's subscription may be missing.
struct stripe_event {
  /// Stripe's event id (`evt_…`): the dedupe key.
  std::string event_id;
  event_type type = event_type::subscription_updated;
  /// Stripe's `created`: events of one user apply in this order.
  timestamp created;
  /// The Stripe customer (`cus_…`) the event is about.
  optional<std::string> customer;
  /// The subscription (`sub_…`) the event is about, or the one a checkout created.
  optional<std::string> subscription_id;
  /// The subscription's raw Stripe status (`trialing`, `unpaid`, …) as the object carries it;
  /// none for checkouts and invoices.
  optional<std::string> stripe_status;
  /// When the paid (or trial) period ends or ended; none if the event does not say.
  optional<timestamp> subscription_ends_at;
  /// A subscription event's subscription `created`: which of a customer's subscriptions is
  /// the newer one. None for checkouts and invoices, which do not carry it.
  optional<timestamp> subscription_created;
  /// A checkout's `client_reference_id`, when it is a user id.
  optional<int32_t> client_reference_id;
  /// A checkout's customer e-mail (`customer_details.email`, else `customer_email`).
  optional<std::string> customer_email;
  /// The event as Stripe sent it (JSON text), kept for the audit trail.
  std::string payload;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stripe_event& x) {
  return f(caf::meta::type_name("billing::stripe_event"), x.event_id, x.type, x.created,
           x.customer, x.subscription_id, x.stripe_status, x.subscription_ends_at,
           x.subscription_created, x.client_reference_id, x.customer_email, x.payload);
}

inline bool operator==(const stripe_event& x, const stripe_event& y) {
  return std::tie(x.event_id, x.type, x.created, x.customer, x.subscription_id, x.stripe_status,
                  x.subscription_ends_at, x.subscription_created, x.client_reference_id,
                  x.customer_email, x.payload)
         == std::tie(y.event_id, y.type, y.created, y.customer, y.subscription_id,
                     y.stripe_status, y.subscription_ends_at, y.subscription_created,
                     y.client_reference_id, y.customer_email, y.payload);
}

/// What became of a Stripe event.
enum class outcome_kind : uint8_t {
  /// Applied to the users listed (a checkout also applies the events that waited for it).
  applied,
  /// The event id was seen before; nothing changed.
  duplicate,
  /// Older than the state it would overwrite: stored, not applied.
  stale,
  /// Of a subscription other than the user's current one (an older, replaced subscription),
  /// or an invoice for a user whose subscription is cancelled (a final invoice paid at
  /// cancellation): stored and marked with the user (listed), not applied. Only a checkout
  /// or a newer active or trialing subscription changes which subscription is current.
  superseded,
  /// Stored until its customer is linked to a user (by a checkout, or by a user created with
  /// that customer); a checkout that names no existing user waits for that user.
  pending,
  /// Nothing to apply: a checkout without a customer, an invoice outside any subscription.
  ignored,
  /// A checkout naming a user who is linked to a different Stripe customer: stored and marked
  /// with that user (listed), not applied. A link is never replaced.
  refused,
};

/// Returns "applied", "duplicate", "stale", "superseded", "pending", "ignored" or "refused".
std::string to_string(outcome_kind x);

/// Reply to a `stripe_event`.
struct outcome {
  outcome_kind kind = outcome_kind::ignored;
  /// `applied`: the users whose billing state changed; `refused`: the user the checkout named,
  /// `superseded`: the user the event concerned, neither of whose state changed; otherwise
  /// empty.
  std::vector<int32_t> user_ids;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, outcome& x) {
  return f(caf::meta::type_name("billing::outcome"), x.kind, x.user_ids);
}

inline bool operator==(const outcome& x, const outcome& y) {
  return x.kind == y.kind && x.user_ids == y.user_ids;
}

} // namespace slicegate::billing
