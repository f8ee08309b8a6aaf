#pragma once

#include <string>

namespace slicegate {

/// Sets up the process-wide logger: text or JSON lines on stderr, at `level`.
void setup_logging(const std::string& level, bool json);

} // namespace slicegate
