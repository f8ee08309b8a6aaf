#pragma once

#include <caf/actor_system_config.hpp>

namespace slicegate {

/// Registers every message type and the error category with `cfg`. Called from the config
/// constructor of the daemon, the CLI and the tests.
void register_types(caf::actor_system_config& cfg);

} // namespace slicegate
