#include "messages/billing.hpp"

#include <array>
#include <utility>

namespace slicegate::billing {

namespace {

constexpr std::array<std::pair<event_type, const char*>, 8> stripe_names{{
  {event_type::checkout_session_completed, "checkout.session.completed"},
  {event_type::subscription_created, "customer.subscription.created"},
  {event_type::subscription_updated, "customer.subscription.updated"},
  {event_type::subscription_deleted, "customer.subscription.deleted"},
  {event_type::subscription_paused, "customer.subscription.paused"},
  {event_type::subscription_resumed, "customer.subscription.resumed"},
  {event_type::invoice_paid, "invoice.paid"},
  {event_type::invoice_payment_failed, "invoice.payment_failed"},
}};

} // namespace

std::string to_string(event_type x) {
  for (auto& [type, name] : stripe_names)
    if (type == x)
      return name;
  return "unknown";
}

optional<event_type> parse_event_type(const std::string& text) {
  for (auto& [type, name] : stripe_names)
    if (text == name)
      return type;
  return caf::none;
}

std::string to_string(outcome_kind x) {
  switch (x) {
    case outcome_kind::applied: return "applied";
    case outcome_kind::duplicate: return "duplicate";
    case outcome_kind::stale: return "stale";
    case outcome_kind::superseded: return "superseded";
    case outcome_kind::pending: return "pending";
    case outcome_kind::ignored: return "ignored";
    case outcome_kind::refused: return "refused";
  }
  return "ignored";
}

} // namespace slicegate::billing
