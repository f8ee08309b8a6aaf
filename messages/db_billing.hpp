#pragma once

// The billing requests to the persistence actor; their reply types are listed with the
// persistence interface in actors/actors.hpp.

#include <tuple>

#include "messages/billing.hpp"
#include "messages/records.hpp"

namespace slicegate::db {

/// Stores a Stripe event and applies it, all in one transaction. Replies with a
/// `billing::outcome`:
/// - an event id stored before is a `duplicate`, and nothing changes;
/// - a checkout links its customer (and subscription) to the user named by
///   `client_reference_id`, else by e-mail, then applies every event of that customer that
///   waited for the link, oldest `created` first; a checkout naming nobody waits (`pending`)
///   for its user's creation (`db::create_user` applies what waited); a checkout naming a user
///   linked to another customer is stored and `refused`, and nothing of that user changes;
/// - an event with a `mapped_status` applies to the user linked to its customer, per
///   subscription: an event of a subscription other than the user's current one changes
///   nothing (`superseded`) unless it is a subscription created/updated/resumed event of an
///   active or trialing subscription created after the current one, which then becomes
///   current; an event of the current subscription older than the last one applied is
///   `stale`; an invoice never moves a cancelled user (`superseded`); with no user linked it
///   waits (`pending`);
/// - anything else is only stored (`ignored`).
/// The bridge writes `\u0000` in payloads as `\ufffd`; a payload PostgreSQL still refuses is
/// `ec::invalid_request`.
struct apply_billing_event {
  /// The event; its `stripe_status` is the raw status to record (the billing rules may set one
  /// that the Stripe object lacks, e.g. "active" for a paid invoice).
  billing::stripe_event event;
  /// The user's `subscription_status` after this event, none if it sets none.
  optional<subscription> mapped_status;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, apply_billing_event& x) {
  return f(caf::meta::type_name("db::apply_billing_event"), x.event, x.mapped_status);
}

inline bool operator==(const apply_billing_event& x, const apply_billing_event& y) {
  return x.event == y.event && x.mapped_status == y.mapped_status;
}

} // namespace slicegate::db
