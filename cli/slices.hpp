#pragma once

// `slicectl slices …`: the slice pool, as an admin.

#include <string>

#include "cli/options.hpp"

namespace slicegate::cli {

/// `slices <verb>`: list, get, create, suspend, resume, destroy, assign.
int slices(const options& o, const std::string& verb);

} // namespace slicegate::cli
