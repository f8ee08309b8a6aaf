#pragma once

#include <string>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/actors.hpp"

namespace slicegate {

struct janitor_state {
  static inline const char* name = "janitor";
  /// Holds one `slice-<id>` directory per slice; nothing outside it is ever touched.
  std::string data_root;
};

/// Returns the data directory of slice `slice_id` below `data_root`.
std::string slice_data_dir(const std::string& data_root, int32_t slice_id);

/// The janitor: the slice manager's filesystem work (emptying data directories of slices
/// being wiped). Removing a large tree blocks, so spawn it detached, never on the scheduler.
janitor_actor::behavior_type janitor(janitor_actor::stateful_pointer<janitor_state> self,
                                     std::string data_root);

} // namespace slicegate
