#pragma once

// `slicectl dead-letters …`: inbound events slicegate rejected, kept with their original body;
// list them and publish one again once its cause is fixed.

#include <string>

#include "cli/options.hpp"

namespace slicegate::cli {

/// `dead-letters <verb>`: list, show, replay.
int dead_letters(const options& o, const std::string& verb);

} // namespace slicegate::cli
