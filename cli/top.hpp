#pragma once

// `slicectl top`: a full-screen view of the installation and every slice, refreshed on an
// interval, sortable and scrollable. Needs a terminal.

#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "cli/options.hpp"

namespace slicegate::cli {

/// What `top` orders the slices by.
enum class sort_key { status, memory, cpu, disk, id, user };

/// The word for `k`, as `--sort` takes it.
std::string_view to_string(sort_key k);

/// The key of a `--sort` word; nullopt if there is none.
std::optional<sort_key> sort_key_from(std::string_view word);

/// Orders the slice objects of `admin.slices.list` (with telemetry) by `k`: memory, CPU and
/// disk largest first, the others ascending; ties and missing values by id.
void sort_slices(nlohmann::json& slices, sort_key k);

/// `top [--interval D] [--sort K]`: runs until `q`, Ctrl-C or SIGTERM.
int top(const options& o);

} // namespace slicegate::cli
