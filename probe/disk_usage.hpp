#pragma once

// Disk usage of a slice's data directory, measured like `du -s`. It walks the whole tree, so
// only a detached actor calls it.

#include <cstdint>
#include <string>

#include <caf/expected.hpp>

namespace slicegate::probe {

/// Returns the bytes the tree at `path` occupies on disk: allocated blocks (a sparse file
/// counts what it uses, not its length), every hard-linked file once, symbolic links not
/// followed. Entries that vanish or cannot be read during the walk are skipped. Fails with
/// `ec::not_found` if `path` does not exist.
caf::expected<int64_t> disk_usage(const std::string& path);

} // namespace slicegate::probe
