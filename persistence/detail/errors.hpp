#pragma once

// What a request that threw becomes for its requester. Internal to persistence/.

#include <exception>

#include <caf/error.hpp>

namespace slicegate::detail {

/// Maps what request `op` threw to the error its requester gets: `unavailable` for a lost
/// connection, `conflict`, `invalid_request`, `not_found` where the SQLSTATE says so, else
/// `internal`. Logs with the SQLSTATE only: PostgreSQL's message details may quote row values
/// (e-mails, password hashes).
caf::error to_error(const char* op, const std::exception& e);

} // namespace slicegate::detail
