#pragma once

// The persistence actor's store of dead letters: inbound events that could never be
// processed, kept with their original body for an operator to list and replay. Internal to
// persistence/ (it names the link, which includes libpqxx); the actor delegates one handler to
// each function, and lets libpqxx exceptions through to its handler boundary.

#include <cstdint>
#include <vector>

#include <caf/expected.hpp>

#include "messages/admin.hpp"
#include "persistence/detail/link.hpp"

namespace slicegate::dead_letter_store {

/// Keeps a rejected event; a redelivery of the same stream message updates its row.
caf::expected<int64_t> record(detail::link& gateway, const admin::record_dead_letter& x);

/// Dead letters with an id above `x.after`, oldest first.
caf::expected<std::vector<admin::dead_letter>> list(detail::link& gateway,
                                                    const admin::list_dead_letters& x);

/// One dead letter; `ec::not_found` for an unknown id.
caf::expected<admin::dead_letter> get(detail::link& gateway, const admin::get_dead_letter& x);

/// Stamps a dead letter as replayed now; `ec::not_found` for an unknown id.
caf::expected<admin::dead_letter> mark_replayed(detail::link& gateway,
                                                const admin::mark_replayed& x);

/// Deletes one batch of dead letters rejected before `x.cutoff`.
caf::expected<int64_t> prune(detail::link& gateway, const admin::prune_dead_letters& x);

} // namespace slicegate::dead_letter_store
