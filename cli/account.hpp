#pragma once

// Commands anyone may run: discovery over the micro protocol and one's own session.

#include <string_view>

#include "cli/options.hpp"

namespace slicegate::cli {

/// `ping`, `info`, `stats`: every running instance's answer to `$SRV.<verb>`.
int discover(const options& o, std::string_view verb);

/// `login --email E`: opens a session; prints its token.
int login(const options& o);

/// `whoami`: the account behind `--session`.
int whoami(const options& o);

/// `logout`: revokes `--session`.
int logout(const options& o);

} // namespace slicegate::cli
