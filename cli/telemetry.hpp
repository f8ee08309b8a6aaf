#pragma once

// `slicectl telemetry …`: a slice's or the server's samples over a window, aggregated into
// buckets, as a table and as sparklines.

#include <string>

#include "cli/options.hpp"

namespace slicegate::cli {

/// `telemetry slice ID` or `telemetry server`, over `--since` in `--bucket` steps.
int telemetry(const options& o, const std::string& verb);

} // namespace slicegate::cli
