#pragma once

// `slicectl overview`: the state of the whole installation at a glance. The lines are shared
// with `top`, which shows the same reply at the top of its screen.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/options.hpp"

namespace slicegate::cli {

/// `overview`: the reply of `admin.overview` as a readable block.
int overview(const options& o);

/// "10 total: 3 available, 5 assigned, 1 suspended, 1 destroying".
std::string slice_counts_text(const nlohmann::json& slices);

/// "4 healthy, 1 unhealthy, 5 unchecked".
std::string health_counts_text(const nlohmann::json& slices);

/// "2 waiting, the longest for 1h 5m (since …)" or "nobody waiting".
std::string waiting_text(const nlohmann::json& waiting);

/// "RAM 3.1 GiB / 8 GiB, swap …, CPU 12.5%, disk …, slices 5/10 active" or "no sample yet".
std::string server_text(const nlohmann::json& server);

} // namespace slicegate::cli
