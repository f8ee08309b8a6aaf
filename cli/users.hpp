#pragma once

// `slicectl users …`: accounts, as an admin.

#include <string>

#include "cli/options.hpp"

namespace slicegate::cli {

/// `users <verb>`: list, get, promote, demote, revoke-sessions.
int users(const options& o, const std::string& verb);

} // namespace slicegate::cli
