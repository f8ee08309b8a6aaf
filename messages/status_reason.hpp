#pragma once

// Status reasons: why a slice is in its status (`gateway.slices.status_reason`, and the
// `reason` of `gateway.slice.status.<id>`). A reason reads "<cause>" or "<cause>: <detail>".
// The cause is read back — the sweep resumes only what billing suspended
// (sql/queries/pool_due_actions.sql), a finished wipe tells provisioning from destruction —
// so it is a type, spelled in one place, and prefixed in one place.

#include <cstdint>
#include <string>
#include <string_view>

#include "messages/enum_names.hpp"

namespace slicegate {

/// Who or what moved a slice.
enum class reason_cause : uint8_t {
  /// An admin's verb; the detail is the admin's own words.
  admin,
  /// The billing policy of DESIGN.md §3; only its suspensions are undone by the sweep.
  billing,
  /// A new slice whose first wipe has not finished (set by sql/queries/slice_insert.sql).
  provisioning,
};

/// Returns the prefix spelling of `x`, e.g. "admin".
std::string to_string(reason_cause x);

/// Returns the cause spelled `text`, or none.
template <>
caf::optional<reason_cause> from_string<reason_cause>(std::string_view text);

/// Returns "<cause>" for an empty `detail`, else "<cause>: <detail>".
std::string make_reason(reason_cause cause, const std::string& detail = {});

/// Returns the cause `reason` starts with, or none for a reason without one.
caf::optional<reason_cause> cause_of(std::string_view reason);

} // namespace slicegate
