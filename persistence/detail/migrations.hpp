#pragma once

// Applies the numbered files of sql/migrations/ to the gateway database.

#include <cstdint>
#include <vector>

namespace slicegate::detail {

class link;

/// Applies every migration not yet recorded in `gateway.schema_migrations`, in the order of its
/// number, each in its own transaction together with its record; returns the numbers applied
/// now (empty when the schema was up to date). Concurrent migrators wait for each other on a
/// transaction-level advisory lock, so each file runs once. Throws the pqxx exception that
/// stopped it; what was applied before stays applied.
std::vector<int32_t> apply_migrations(link& gateway);

} // namespace slicegate::detail
