#pragma once

// Stripe Event objects (the bodies of `<p>.events.payment`) to typed billing events. Only the
// bridge and tests include this header; actors see `billing::stripe_event`.
//
// Both Stripe API shapes are read: a subscription's period end top-level
// (`current_period_end`, older API versions) or per item (`items.data[].current_period_end`),
// and an invoice's subscription top-level (`subscription`) or under
// `parent.subscription_details.subscription`. Expandable references (`customer`,
// `subscription`) may be an id or an expanded object with an `id`.
//
// The payload kept for the audit trail is the body as sent, except that every `\u0000`
// escape is written `\ufffd`: PostgreSQL holds U+0000 in neither jsonb nor text, and an
// event must be stored (and applied) whatever its metadata contains.

#include <string>
#include <string_view>
#include <variant>

#include "messages/billing.hpp"

namespace slicegate::stripe {

/// A well-formed event of a type billing does not handle: acknowledged, never stored.
struct ignored {
  std::string event_id;
  std::string type;
};

/// A message that can never be processed: acknowledged and reported on
/// `<p>.events.rejected`.
struct rejected {
  /// The event's id, if the message got that far.
  optional<std::string> event_id;
  /// What is wrong, naming the field ("field 'created': expected a Unix time").
  std::string reason;
};

/// What one payment message is.
using parsed = std::variant<billing::stripe_event, ignored, rejected>;

/// Parses a Stripe Event as Stripe delivers it (`id`, `type`, `created`, `data.object`).
/// Never throws: malformed input of any kind is `rejected`.
parsed parse_event(std::string_view body);

} // namespace slicegate::stripe
