#pragma once

// Watch shards: how the slices' watchers are spread over the live slicegate instances.
//
// A slice belongs to shard `slice_id mod count`, for a `count` fixed per deployment. Each
// shard goes to one live instance by rendezvous hashing: every instance scores every shard
// against every member's name and the highest score wins. All instances that see the same
// members thus agree on the owner of every shard without talking to each other, the shards
// spread evenly, and when a member joins or leaves only the shards it wins or held move.
//
//     auto mine = shards::owned({"a", "b", "c"}, "b", 64);   // about a third of 0..63
//     if (std::binary_search(mine.begin(), mine.end(), shards::of(slice_id, 64))) ...

#include <cstdint>
#include <string>
#include <vector>

namespace slicegate::shards {

/// The shard of a slice among `count` (> 0).
int32_t of(int32_t slice_id, int32_t count);

/// The score of `member` for `shard`: the rendezvous weight, a well-mixed 64-bit hash.
uint64_t score(const std::string& member, int32_t shard);

/// The shards among 0..count-1 that `member` wins against `members`, ascending. `member` is
/// counted as alive whether or not `members` lists it.
std::vector<int32_t> owned(const std::vector<std::string>& members, const std::string& member,
                           int32_t count);

} // namespace slicegate::shards
