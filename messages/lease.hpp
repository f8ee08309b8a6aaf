#pragma once

// The singleton lease: which instance of several on one database does the work that runs on
// its own clock (the sweep, the pool floor, start-up reconciliation and wipes, retention) and
// watches the slices. Held as a PostgreSQL advisory lock on a connection of its own
// (persistence/lease.hpp); `term` counts the takeovers. The same keeper holds this instance's
// watch shards (common/shards.hpp): the slices it watches, whoever holds the lease.

#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include <caf/meta/type_name.hpp>

namespace slicegate::lease {

/// Where the lease stands, as its keeper saw it last.
struct state {
  /// Whether this instance holds it.
  bool held = false;
  /// The term of this instance's holding (1 for the first holder ever), 0 when not held.
  int64_t term = 0;
  /// Who holds it, as recorded in `gateway.leases` (empty when unknown).
  std::string holder;
  /// The watch shards this instance holds, ascending: it watches the slices in them.
  std::vector<int32_t> shards;
  /// How many watch shards there are (0: no shards, the lease holder watches every slice).
  int32_t shard_count = 0;
  /// The live instances, this one included, as of the keeper's last beat.
  std::vector<std::string> members;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, state& x) {
  return f(caf::meta::type_name("lease::state"), x.held, x.term, x.holder, x.shards,
           x.shard_count, x.members);
}

inline bool operator==(const state& x, const state& y) {
  return std::tie(x.held, x.term, x.holder, x.shards, x.shard_count, x.members)
         == std::tie(y.held, y.term, y.holder, y.shards, y.shard_count, y.members);
}

} // namespace slicegate::lease
