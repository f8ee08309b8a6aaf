#pragma once

// Stripe events for tests, built from the real object shapes in tests/fixtures/stripe/ (see
// SOURCE.md there) in either API shape.

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace slicegate::test::stripe {

using json = nlohmann::json;

/// Which Stripe API version's shape to build.
enum class api {
  /// Period end per subscription item; an invoice's subscription under
  /// `parent.subscription_details`.
  current,
  /// Period end top-level on the subscription; an invoice's subscription top-level.
  legacy,
};

/// The object fixture `tests/fixtures/stripe/<name>.json`, e.g. "subscription".
json fixture(const std::string& name);

/// `event.json` carrying `object` as event `id` of `type`, created at `created` (Unix seconds).
json event(const std::string& id, const std::string& type, int64_t created, json object);

/// `subscription.json` as subscription `id` of `customer` in `status`, its current period
/// ending at `period_end`, with `ended_at`, `cancel_at` and `trial_end` cleared.
json subscription(const std::string& customer, const std::string& id, const std::string& status,
                  int64_t period_end, api shape = api::current);

/// `invoice.json` of `customer` for subscription `subscription_id` (none: a one-off invoice),
/// with one line whose period ends at `period_end`.
json invoice(const std::string& customer, const std::optional<std::string>& subscription_id,
             int64_t period_end, api shape = api::current);

/// `checkout.session.json` completed by `customer`, with `client_reference_id`, the e-mail in
/// `customer_details.email`, and the subscription it created.
json checkout(const std::optional<std::string>& customer,
              const std::optional<std::string>& client_reference_id,
              const std::optional<std::string>& email,
              const std::optional<std::string>& subscription = std::nullopt);

} // namespace slicegate::test::stripe
