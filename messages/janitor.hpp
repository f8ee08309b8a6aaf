#pragma once

// Requests to the janitor, which does the slice manager's filesystem work off the scheduler's
// threads.

#include <cstdint>

#include <caf/meta/type_name.hpp>

namespace slicegate::fs {

/// Empties the data directory of slice `slice_id` (`<data-root>/slice-<id>`), creating it
/// and its parents if missing; replies with the directory's path. The janitor derives the
/// path itself, so no message can make it delete anything outside the data root.
struct empty_slice_dir {
  int32_t slice_id = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, empty_slice_dir& x) {
  return f(caf::meta::type_name("fs::empty_slice_dir"), x.slice_id);
}

inline bool operator==(const empty_slice_dir& x, const empty_slice_dir& y) {
  return x.slice_id == y.slice_id;
}

} // namespace slicegate::fs
