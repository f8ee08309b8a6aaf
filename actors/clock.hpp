#pragma once

#include <functional>

#include <caf/timestamp.hpp>

namespace slicegate {

/// Wall-clock time as the actors see it. The daemon uses the system clock; tests inject one
/// they can move, so expiry and sweeps are tested without waiting.
using clock_fn = std::function<caf::timestamp()>;

/// Returns a clock reading the system time.
inline clock_fn system_clock() {
  return [] { return caf::make_timestamp(); };
}

} // namespace slicegate
