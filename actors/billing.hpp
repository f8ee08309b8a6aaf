#pragma once

#include <string>

#include <caf/expected.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/actors.hpp"

namespace slicegate {

/// What a Stripe event does to its user's subscription (DESIGN.md §4).
struct billing_effect {
  /// The user's `subscription_status` afterwards; none if the event sets none (a checkout
  /// only links a customer; an invoice outside any subscription changes nothing).
  optional<subscription> mapped_status;
  /// The raw Stripe status to record with it.
  optional<std::string> stripe_status;
};

/// Maps a raw Stripe subscription status: trialing → trial, active → active,
/// past_due|unpaid|incomplete|paused → past_due, canceled|incomplete_expired → cancelled.
/// None for a status this mapping does not know.
optional<subscription> map_stripe_status(const std::string& stripe_status);

/// Returns the effect of `x`: a subscription event maps its object's status (`deleted` is
/// always cancelled, `paused` always past_due with raw "paused"); a paid invoice of a
/// subscription is active (raw "active"), a failed one past_due (raw "past_due").
/// `ec::invalid_request` for a subscription status with no mapping.
caf::expected<billing_effect> effect_of(const billing::stripe_event& x);

struct billing_state {
  static inline const char* name = "billing";
  billing_store_actor db;
  /// May be null (tests): then nobody re-runs the slice policy at once; the sweep still does.
  billing_policy_actor slices;
  /// May be null (tests): then cached resolves show the old status until they expire.
  user_cache_actor sessions;
  /// How long persistence may take to apply one event.
  timespan request_timeout;
};

/// Applies Stripe events through `db` (the persistence actor), then sends
/// `pool::billing_changed` to `slices` (the slice manager) and `auth::user_changed` to
/// `sessions` (the session manager) for every user whose billing state changed. It never
/// blocks: spawn it on the shared scheduler.
billing_actor::behavior_type
billing_manager(billing_actor::stateful_pointer<billing_state> self, billing_store_actor db,
                billing_policy_actor slices, user_cache_actor sessions,
                timespan request_timeout);

} // namespace slicegate
