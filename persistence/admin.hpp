#pragma once

// The persistence actor's reads for the admin console: users and their details, telemetry
// series, the slice pool with its newest samples, the overview; and the alert log behind the
// overview. Internal to persistence/ (it names the link, which includes libpqxx); the actor
// delegates one handler to each function.
//
// Like `database`, every function returns a domain outcome as a `caf::expected` error and
// lets libpqxx exceptions through to the actor's handler boundary.

#include <cstdint>
#include <vector>

#include <caf/expected.hpp>

#include "messages/admin.hpp"
#include "persistence/detail/link.hpp"

namespace slicegate::admin_store {

/// One page of users.
caf::expected<admin::user_page> list_users(detail::link& gateway, const admin::list_users& x);

/// A user with slice, waiting position, live sessions and last billing events.
caf::expected<admin::user_detail> get_user(detail::link& gateway, const admin::get_user& x);

/// A slice's telemetry per bucket; `ec::not_found` for an unknown slice.
caf::expected<std::vector<admin::slice_point>> slice_series(detail::link& gateway,
                                                            const admin::slice_series& x);

/// The host's telemetry per bucket.
caf::expected<std::vector<admin::server_point>> server_series(detail::link& gateway,
                                                              const admin::server_series& x);

/// Slices with their user's e-mail and newest sample.
caf::expected<std::vector<admin::slice_view>>
list_slice_views(detail::link& gateway, const admin::list_slice_views& x);

/// The overview, read in one snapshot.
caf::expected<admin::overview> overview(detail::link& gateway, const admin::get_overview& x);

/// Stores alerts in one transaction; replies with the rows written.
caf::expected<int64_t> insert_alerts(detail::link& gateway, const admin::insert_alerts& x);

/// Deletes one batch of alerts raised before `x.cutoff`.
caf::expected<int64_t> prune_alerts(detail::link& gateway, const admin::prune_alerts& x);

} // namespace slicegate::admin_store
