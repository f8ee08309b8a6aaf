#pragma once

// The admin endpoints of DESIGN.md §4 (`<p>.admin.…`): the slice pool, users, telemetry
// series and the overview. Every one applies the admin rule first: 401 without a valid
// session (a body that is not JSON or has no `session_id` included), 403 for a non-admin,
// and only then reads its own fields.

#include <vector>

#include "bridge/endpoints.hpp"

namespace slicegate::bridge {

/// The admin endpoints, in the order `$SRV.INFO` lists them.
std::vector<endpoint> admin_endpoints();

} // namespace slicegate::bridge
