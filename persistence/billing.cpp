#include "persistence/billing.hpp"

#include <optional>
#include <string>

#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

#include "persistence/detail/rows.hpp"

namespace slicegate::billing_store {

using billing::outcome;
using billing::outcome_kind;

namespace {

using detail::to_sql;

std::optional<int32_t> to_sql(const optional<int32_t>& x) {
  if (!x)
    return std::nullopt;
  return *x;
}

/// What billing_event_standing.sql decided, as an outcome.
outcome_kind standing_of(const std::string& standing) {
  if (standing == "apply")
    return outcome_kind::applied;
  if (standing == "stale")
    return outcome_kind::stale;
  if (standing == "superseded")
    return outcome_kind::superseded;
  return outcome_kind::ignored;
}

/// Applies stored event `event_id` to user `user_id` if the billing rules let it (see
/// billing_event_standing.sql: the user's current subscription, ordering, a cancelled user's
/// invoices), and records on the event that it concerned the user and whether it applied;
/// returns what became of it.
outcome_kind apply_stored(pqxx::transaction_base& tx, int32_t user_id,
                          const std::string& event_id) {
  auto standing = tx.exec_prepared("billing_event_standing", user_id, event_id);
  auto kind = standing.empty() ? outcome_kind::ignored
                               : standing_of(standing[0]["standing"].as<std::string>());
  if (kind == outcome_kind::applied
      && tx.exec_prepared("billing_apply_event", user_id, event_id).empty())
    kind = outcome_kind::ignored;
  tx.exec_prepared("billing_mark_event", event_id, user_id, kind == outcome_kind::applied);
  return kind;
}

/// Applies the stored events of `customer` that waited for a link to `user_id`, in the order
/// Stripe created them; returns whether any applied.
bool apply_waiting_events(pqxx::transaction_base& tx, int32_t user_id,
                          const std::string& customer) {
  auto any = false;
  for (const auto& row : tx.exec_prepared("billing_waiting_events", customer))
    any = apply_stored(tx, user_id, row["event_id"].as<std::string>()) == outcome_kind::applied
          || any;
  return any;
}

/// A subscription or invoice event: applies to the user linked to its customer, if any.
outcome apply_change(pqxx::transaction_base& tx, const billing::stripe_event& e) {
  // The edge refuses such events; without a customer there is nobody to apply them to.
  if (!e.customer)
    return {outcome_kind::ignored, {}};
  auto user = tx.exec_prepared("billing_customer_user", *e.customer);
  if (user.empty())
    return {outcome_kind::pending, {}};
  auto user_id = user[0]["id"].as<int32_t>();
  auto kind = apply_stored(tx, user_id, e.event_id);
  if (kind == outcome_kind::applied || kind == outcome_kind::superseded)
    return {kind, {user_id}};
  return {kind, {}};
}

/// A completed checkout: links its customer to the user it names, then applies the customer's
/// events that waited for the link. It never replaces a link: a user linked to a different
/// customer stays as they are, and the checkout is marked with them, not applied.
outcome link_customer(pqxx::transaction_base& tx, const billing::stripe_event& e) {
  // A one-off payment may complete without a customer: nothing to link.
  if (!e.customer)
    return {outcome_kind::ignored, {}};
  auto named = tx.exec_prepared("billing_link_customer", to_sql(e.client_reference_id),
                                to_sql(e.customer_email), *e.customer,
                                to_sql(e.subscription_id), to_sql(e.created));
  // Nobody by that id or e-mail yet: the checkout waits for the user's creation.
  if (named.empty())
    return {outcome_kind::pending, {}};
  auto user_id = named[0]["id"].as<int32_t>();
  auto linked = named[0]["linked"].as<bool>();
  tx.exec_prepared("billing_mark_event", e.event_id, user_id, linked);
  if (!linked)
    return {outcome_kind::refused, {user_id}};
  apply_waiting_events(tx, user_id, *e.customer);
  return {outcome_kind::applied, {user_id}};
}

} // namespace

caf::expected<outcome> apply(detail::link& gateway, const db::apply_billing_event& x) {
  return gateway.run([&x](pqxx::connection& c) {
    auto& e = x.event;
    pqxx::work tx{c};
    auto stored = tx.exec_prepared(
      "billing_insert_event", e.event_id, to_sql(e.customer), to_sql(e.subscription_id),
      billing::to_string(e.type), to_sql(e.stripe_status), to_sql(x.mapped_status),
      to_sql(e.subscription_ends_at), to_sql(e.created), e.payload,
      to_sql(e.client_reference_id), to_sql(e.customer_email), to_sql(e.subscription_created));
    if (stored.empty())
      return outcome{outcome_kind::duplicate, {}};
    outcome result;
    if (e.type == billing::event_type::checkout_session_completed)
      result = link_customer(tx, e);
    else if (x.mapped_status)
      result = apply_change(tx, e);
    else
      result = outcome{outcome_kind::ignored, {}};
    tx.commit();
    return result;
  });
}

bool apply_waiting(pqxx::transaction_base& tx, int32_t user_id) {
  auto changed = false;
  auto checkout = tx.exec_prepared("billing_link_waiting_checkout", user_id);
  if (!checkout.empty()) {
    auto event_id = checkout[0]["event_id"].as<std::string>();
    auto linked = checkout[0]["linked"].as<bool>();
    tx.exec_prepared("billing_mark_event", event_id, user_id, linked);
    if (linked)
      changed = true;
    else
      // The user was created with another customer: the checkout stays on record, refused.
      spdlog::warn("billing refuses waiting checkout.session.completed {}: user {} was created "
                   "with a Stripe customer other than {}",
                   event_id, user_id, checkout[0]["stripe_customer"].as<std::string>());
  }
  // The customer the checkout just linked, or the one the user was created with.
  auto customer = tx.exec_prepared("billing_user_customer", user_id);
  if (!customer.empty() && !customer[0]["stripe_customer"].is_null())
    changed
      = apply_waiting_events(tx, user_id, customer[0]["stripe_customer"].as<std::string>())
        || changed;
  return changed;
}

} // namespace slicegate::billing_store
