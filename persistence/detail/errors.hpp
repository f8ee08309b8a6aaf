#pragma once

// What a request that threw becomes for its requester. Internal to persistence/.

#include <exception>
#include <string>

#include <caf/error.hpp>

namespace slicegate::detail {

/// Whether SQLSTATE `state` says the database itself fails (resources, a read-only or
/// failing-over server, a timeout, a serialization failure or deadlock) rather than that the
/// request is wrong: such a request may succeed later, and its caller should try again.
bool database_fails(const std::string& state);

/// Maps what request `op` threw to the error its requester gets: `unavailable` for a lost
/// connection or a database that fails (`database_fails`), `conflict`, `invalid_request`,
/// `not_found` where the SQLSTATE says so, else `internal`. Logs with the SQLSTATE only: PostgreSQL's message details may quote row values
/// (e-mails, password hashes).
caf::error to_error(const char* op, const std::exception& e);

} // namespace slicegate::detail
