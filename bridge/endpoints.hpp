#pragma once

// The request-reply endpoints of DESIGN.md §4, in one table (bridge/endpoints.cpp): the name
// the micro protocol lists, the subject, and the handler that decodes the body, asks an actor
// and encodes its reply.

#include <string>
#include <string_view>
#include <vector>

#include "bridge/bridge_actor.hpp"

namespace slicegate::bridge {

/// One endpoint.
struct endpoint {
  /// Name in `$SRV.INFO` and `$SRV.STATS` (letters, digits, `_` and `-`).
  const char* name;
  /// The full subject for a prefix.
  std::string (*subject)(std::string_view prefix);
  /// Handles one request whose body is at most `max_payload` bytes. Must answer exactly once,
  /// through `reply`, `fail` or `forward`.
  void (*handle)(bridge_pointer self, pending_request req, std::string_view payload);
};

/// Every endpoint, in the order `$SRV.INFO` lists them.
const std::vector<endpoint>& endpoint_table();

/// Subjects subscribed besides the endpoints, so that a request to an unknown verb of a
/// request-reply family gets 404 instead of "no responders" (`<p>.auth.>` and so on). They
/// share the endpoints' queue group, so each request still reaches one subscription only; the
/// actor routes by subject, whichever of the two received it.
std::vector<std::string> catch_all_subjects(std::string_view prefix);

} // namespace slicegate::bridge
