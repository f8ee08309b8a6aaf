#pragma once

namespace slicegate::test {

/// A loopback TCP port nobody listens on right now: the kernel's choice for a bind to port 0,
/// released again. For servers a test starts itself, such as slices on the host network.
int free_port();

} // namespace slicegate::test
