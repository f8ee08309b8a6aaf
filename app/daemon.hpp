#pragma once

#include <string>

#include "app/settings.hpp"

namespace slicegate {

/// Runs the daemon until SIGTERM or SIGINT; returns the process exit code.
int run_serve(const settings& cfg);

/// Applies pending migrations and returns the process exit code.
int run_migrate(const settings& cfg);

/// Creates an admin account (asking for a password) or grants admin to an existing one.
int run_create_admin(const settings& cfg, const std::string& email, bool password_from_stdin,
                     bool reset_password);

} // namespace slicegate
