#pragma once

// The persistence actor's pool work: slices inserted, listed, moved between statuses, and
// paired with waiting users. Internal to persistence/ (it names the link, which includes
// libpqxx); the actor delegates one handler to each function.
//
// Like `database`, every function returns a domain outcome (`not_found`, `conflict`, …) as a
// `caf::expected` error and lets libpqxx exceptions through to the actor's handler boundary.
// Each runs one short transaction; the pool's invariants (a slice has at most one user and a
// user at most one slice) hold inside each one, and the UNIQUE constraints of migration 002
// back them up.

#include <vector>

#include <caf/expected.hpp>

#include "messages/db_pool.hpp"
#include "persistence/detail/link.hpp"

namespace slicegate::pool_store {

/// Inserts `x.count` slices in status `destroying` on the next free ports; all or nothing.
/// With an idempotency key seen within `db::idempotency_window`, inserts nothing and
/// replies with that key's slices.
caf::expected<db::inserted_slices> insert_slices(detail::link& gateway,
                                                const db::insert_slices& x);

/// Lists slices by id, all or those in `x.status`.
caf::expected<std::vector<slice_record>> list_slices(detail::link& gateway,
                                                     const db::list_slices& x);

/// Reads one slice and its newest telemetry sample.
caf::expected<pool::slice_detail> get_slice_detail(detail::link& gateway,
                                                   const db::get_slice_detail& x);

/// Moves one slice between statuses, releasing its user where `db::transition_slice` says.
caf::expected<db::slice_transition> transition_slice(detail::link& gateway,
                                                     const db::transition_slice& x);

/// Pairs up to `x.limit` of the oldest waiting users with free slices in one transaction.
caf::expected<std::vector<db::assignment>> assign_next(detail::link& gateway,
                                                       const db::assign_next& x);

/// Gives one user a slice, whatever its place in the queue.
caf::expected<db::assignment> assign_user(detail::link& gateway, const db::assign_user& x);

/// Reads a user's slice or place in the waiting queue.
caf::expected<pool::placement> get_placement(detail::link& gateway, const db::get_placement& x);
/// Where each of several users stands, in one read transaction.
caf::expected<std::vector<pool::placement>> get_placements(detail::link& gateway,
                                                           const db::get_placements& x);

/// Lists the lifecycle actions the billing policy asks for.
caf::expected<std::vector<db::due_action>> due_actions(detail::link& gateway,
                                                       const db::due_actions& x);

/// Counts all, ready and destroying slices.
caf::expected<db::pool_totals> count_pool(detail::link& gateway, const db::count_pool& x);

} // namespace slicegate::pool_store
