#pragma once

// Requests to the slice manager.

#include <cstdint>
#include <string>

#include "messages/records.hpp"

namespace slicegate::pool {

/// A user was created (either signup path): assign a slice if one is free. Replies with
/// where the user stands.
struct place_user {
  int32_t user_id = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, place_user& x) {
  return f(caf::meta::type_name("pool::place_user"), x.user_id);
}

inline bool operator==(const place_user& x, const place_user& y) {
  return x.user_id == y.user_id;
}

/// Reply to `place_user`: the slice the user has, or their place in the waiting queue.
struct placement {
  optional<slice_record> slice;
  optional<int32_t> waiting_position;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, placement& x) {
  return f(caf::meta::type_name("pool::placement"), x.slice, x.waiting_position);
}

inline bool operator==(const placement& x, const placement& y) {
  return x.slice == y.slice && x.waiting_position == y.waiting_position;
}

} // namespace slicegate::pool
