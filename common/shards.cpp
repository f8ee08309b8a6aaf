#include "common/shards.hpp"

namespace slicegate::shards {

namespace {

/// SplitMix64's finalizer: spreads the FNV hash's weak low bits over the whole word.
uint64_t mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

} // namespace

int32_t of(int32_t slice_id, int32_t count) {
  auto r = slice_id % count;
  return r < 0 ? r + count : r;
}

uint64_t score(const std::string& member, int32_t shard) {
  // FNV-1a over the name and the shard's four bytes: stable across builds and hosts, which
  // std::hash is not.
  uint64_t h = 0xcbf29ce484222325ULL;
  auto add = [&h](unsigned char c) {
    h ^= c;
    h *= 0x100000001b3ULL;
  };
  for (unsigned char c : member)
    add(c);
  auto s = static_cast<uint32_t>(shard);
  for (int i = 0; i < 4; ++i)
    add(static_cast<unsigned char>(s >> (8 * i)));
  return mix(h);
}

std::vector<int32_t> owned(const std::vector<std::string>& members, const std::string& member,
                           int32_t count) {
  std::vector<int32_t> result;
  for (int32_t shard = 0; shard < count; ++shard) {
    auto mine = score(member, shard);
    bool wins = true;
    for (auto& other : members) {
      if (other == member)
        continue;
      auto theirs = score(other, shard);
      // Ties (all but impossible) go to the smaller name, so that every member agrees.
      if (theirs > mine || (theirs == mine && other < member)) {
        wins = false;
        break;
      }
    }
    if (wins)
      result.push_back(shard);
  }
  return result;
}

} // namespace slicegate::shards
