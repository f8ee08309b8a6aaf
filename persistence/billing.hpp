#pragma once

// The persistence actor's billing work: Stripe events stored, deduplicated, ordered and
// applied to users. Internal to persistence/ (it names the link, which includes libpqxx); the
// actor delegates its billing handlers here.
//
// Like `database`, it returns a domain outcome as a `caf::expected` and lets libpqxx
// exceptions through to the actor's handler boundary (a payload PostgreSQL refuses is a
// `pqxx::data_exception` there, hence `ec::invalid_request`).

#include <caf/expected.hpp>

#include "messages/db_billing.hpp"
#include "persistence/detail/link.hpp"

namespace slicegate::billing_store {

/// Stores `x.event` and applies it in one transaction, by the rules listed with
/// `db::apply_billing_event`.
caf::expected<billing::outcome> apply(detail::link& gateway, const db::apply_billing_event& x);

/// Applies what waited for a new user, by the rules listed with `db::apply_waiting_billing`.
caf::expected<billing::outcome> apply_waiting(detail::link& gateway,
                                              const db::apply_waiting_billing& x);

} // namespace slicegate::billing_store
