#pragma once

// `slicectl events`: slicegate's slice and user-slice events as they happen, one line each,
// optionally replayed first from stream GATEWAY_SLICES.

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "cli/options.hpp"

namespace slicegate::cli {

/// `events [--since D] [--count N]`: prints events until interrupted or N were printed.
int events(const options& o);

/// Whether `subject` is one `events` shows: `<prefix>.slice.…` or `<prefix>.user.slice.…`
/// (not `<prefix>.server.telemetry`, which the same stream keeps).
bool shown_event(std::string_view prefix, std::string_view subject);

/// One event as a line for people, e.g.
/// "2026-12-03T15:04:05Z  slice 3  status  available -> assigned (user 7): assigned".
std::string event_line(std::string_view prefix, const std::string& subject,
                       const std::string& body);

/// One event as a line of JSON: `{"subject": S, "event": BODY}` (BODY as a string if it is
/// not JSON).
std::string event_json(const std::string& subject, const std::string& body);

} // namespace slicegate::cli
