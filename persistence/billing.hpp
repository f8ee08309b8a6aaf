#pragma once

// The persistence actor's billing work: Stripe events stored, deduplicated, ordered and
// applied to users. Internal to persistence/ (it names the link, which includes libpqxx); the
// actor delegates its billing handlers here.
//
// Like `database`, it returns a domain outcome as a `caf::expected` and lets libpqxx
// exceptions through to the actor's handler boundary (a payload PostgreSQL refuses is a
// `pqxx::data_exception` there, hence `ec::invalid_request`).

#include <caf/expected.hpp>
#include <pqxx/transaction>

#include "messages/db_billing.hpp"
#include "persistence/detail/link.hpp"

namespace slicegate::billing_store {

/// Stores `x.event` and applies it in one transaction, by the rules listed with
/// `db::apply_billing_event`.
caf::expected<billing::outcome> apply(detail::link& gateway, const db::apply_billing_event& x);

/// Applies, inside `tx` (the transaction that creates user `user_id`), what waited for the
/// user to exist: links the latest checkout that named the user (by id or e-mail) unless the
/// user was created with a different Stripe customer (then the checkout is marked with the
/// user, not applied, and logged at warn), then applies the stored events of the user's
/// Stripe customer, oldest `created` first. Returns whether that changed the user.
bool apply_waiting(pqxx::transaction_base& tx, int32_t user_id);

} // namespace slicegate::billing_store
