#pragma once

// A container's memory and CPU counters, read straight from its cgroup: a file read per
// figure, where the Engine's stats API takes a request and seconds per container.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "messages/runtime.hpp"

namespace slicegate {

/// The cgroup hierarchy a host runs.
enum class cgroup_layout {
  /// One unified hierarchy (`cgroup.controllers` at the root): memory.current, cpu.stat.
  v2,
  /// One hierarchy per controller (`memory/`, `cpuacct/` under the root):
  /// memory.usage_in_bytes, cpuacct.usage.
  v1,
  /// Neither is readable here, e.g. slicegate itself in a container without the host's
  /// `/sys/fs/cgroup`.
  none,
};

std::string to_string(cgroup_layout x);

/// What a container's cgroup says at one moment.
struct cgroup_counters {
  /// Memory as `docker stats` shows it: usage minus the inactive file cache the kernel would
  /// drop first. None if the file was unreadable.
  optional<int64_t> memory_bytes;
  /// CPU time used since the container started. None if the file was unreadable.
  optional<std::chrono::microseconds> cpu;
};

/// Finds and reads the cgroups of Docker containers. The layout is detected once, when it is
/// made; a container's directory is looked for where the cgroupfs and systemd cgroup drivers
/// put it (`docker/<id>`, `system.slice/docker-<id>.scope`, `docker.slice/docker-<id>.scope`).
class cgroup_reader {
 public:
  /// Detects the layout under `root` (normally `/sys/fs/cgroup`).
  explicit cgroup_reader(std::string root);

  cgroup_layout layout() const {
    return layout_;
  }

  const std::string& root() const {
    return root_;
  }

  /// The counters of the container with full id `container_id` (hex digits only); none if
  /// no cgroup of it is found, or the id is not one.
  optional<cgroup_counters> read(const std::string& container_id) const;

 private:
  /// Where the memory (v1: and cpuacct) directories of a container would be.
  std::vector<std::string> relative_dirs(const std::string& container_id) const;

  std::string root_;
  cgroup_layout layout_;
  /// v1: the controller directory that holds cpuacct.usage (`cpuacct`, `cpu,cpuacct`).
  std::string cpuacct_dir_;
};

} // namespace slicegate
