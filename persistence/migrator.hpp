#pragma once

// Schema migrations without an actor system, for `slicegate migrate`.

#include <cstdint>
#include <string>
#include <vector>

namespace slicegate {

/// Connects to the gateway database at `url` (a libpq URL or keyword string), applies the
/// pending files of sql/migrations/ and disconnects; returns the numbers applied now, empty
/// when the schema was up to date. Safe to run while a daemon migrates the same database.
/// Throws `std::runtime_error` (a libpqxx error) when the database cannot be reached or a
/// migration fails; migrations applied before the failure stay applied.
std::vector<int32_t> run_migrations(const std::string& url);

} // namespace slicegate
