#pragma once

// The persistence actor's time-series work: telemetry batches, slice health columns, host
// samples, slice counts, day partitions and retention batches. Internal to persistence/ (it names the link,
// which includes libpqxx); the actor delegates one handler to each function.
//
// Like `database`, every function returns a domain outcome as a `caf::expected` error and
// lets libpqxx exceptions through to the actor's handler boundary.

#include <cstdint>

#include <caf/expected.hpp>

#include "messages/db_telemetry.hpp"
#include "persistence/detail/link.hpp"

namespace slicegate::telemetry_store {

/// Writes `x.samples` with one COPY in one transaction; replies with the rows written.
caf::expected<int64_t> insert(detail::link& gateway, const db::insert_telemetry& x);

/// Updates the health columns of `x.rows` in one transaction; replies with the rows updated.
caf::expected<int64_t> update_slice_health(detail::link& gateway,
                                           const db::update_slice_health& x);

/// Inserts `x.samples` into `gateway.server_telemetry` in one transaction.
caf::expected<int64_t> insert_server_samples(detail::link& gateway,
                                             const db::insert_server_samples& x);

/// Counts assigned and all slices.
caf::expected<db::slice_totals> slice_counts(detail::link& gateway, const db::slice_counts& x);

/// Deletes one batch of per-slice samples older than `x.cutoff` on the day of `x.cutoff`.
caf::expected<int64_t> prune(detail::link& gateway, const db::prune_telemetry& x);

/// Creates the day partitions of both telemetry tables ahead and drops those older than
/// `x.cutoff`, through the functions of migration 009.
caf::expected<db::partition_report> maintain_partitions(detail::link& gateway,
                                                        const db::maintain_partitions& x);

/// Deletes one batch of host samples older than `x.cutoff`.
caf::expected<int64_t> prune_server(detail::link& gateway, const db::prune_server_telemetry& x);

} // namespace slicegate::telemetry_store
