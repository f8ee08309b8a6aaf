#pragma once

// Durations as the settings, the logs and slicectl write them: `500ms`, `60s`, `5m`, `1h`,
// `7d`. Shared by every layer; depends on nothing of slicegate's.

#include <optional>
#include <string>

#include <caf/timestamp.hpp>

namespace slicegate {

/// Parses a duration such as `500ms`, `60s`, `5m`, `1h` or `7d`; nullopt if malformed.
std::optional<caf::timespan> parse_duration(const std::string& text);

/// Renders a duration in the largest unit that divides it, e.g. `7d`, `90s`.
std::string render_duration(caf::timespan x);

} // namespace slicegate
