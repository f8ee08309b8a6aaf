#include "runtime/cgroup.hpp"

#include <filesystem>
#include <fstream>

namespace slicegate {

namespace fs = std::filesystem;

namespace {

bool present(const fs::path& p) {
  std::error_code err;
  return fs::exists(p, err);
}

/// Reads the first number of a file such as `memory.current`.
optional<int64_t> read_number(const fs::path& file) {
  std::ifstream in{file};
  int64_t value = 0;
  if (in >> value)
    return value;
  return caf::none;
}

/// Reads `key value` from a flat-keyed file such as `memory.stat` or `cpu.stat`.
optional<int64_t> read_key(const fs::path& file, const std::string& key) {
  std::ifstream in{file};
  std::string name;
  int64_t value = 0;
  while (in >> name >> value)
    if (name == key)
      return value;
  return caf::none;
}

/// Usage minus what the kernel would reclaim first, as `docker stats` computes it.
optional<int64_t> without_inactive_file(optional<int64_t> usage, optional<int64_t> inactive) {
  if (!usage)
    return caf::none;
  auto drop = inactive.value_or(0);
  return drop < *usage ? *usage - drop : *usage;
}

} // namespace

std::string to_string(cgroup_layout x) {
  switch (x) {
    case cgroup_layout::v2: return "cgroup v2";
    case cgroup_layout::v1: return "cgroup v1";
    case cgroup_layout::none: return "no cgroup";
  }
  return "no cgroup";
}

cgroup_reader::cgroup_reader(std::string root) : root_(std::move(root)) {
  fs::path base{root_};
  if (present(base / "memory" / "memory.usage_in_bytes")) {
    layout_ = cgroup_layout::v1;
    // cpuacct is mounted alone or together with cpu, under either name order.
    cpuacct_dir_ = "cpuacct";
    for (const char* name : {"cpuacct", "cpu,cpuacct", "cpuacct,cpu"})
      if (present(base / name / "cpuacct.usage")) {
        cpuacct_dir_ = name;
        break;
      }
  } else if (present(base / "memory")) {
    // A v1 memory hierarchy without its root files is still v1 (seen on trimmed mounts).
    layout_ = cgroup_layout::v1;
    cpuacct_dir_ = "cpuacct";
  } else {
    // A unified hierarchy; where even that is missing, reads find nothing and say so.
    layout_ = present(base) ? cgroup_layout::v2 : cgroup_layout::none;
  }
}

std::vector<std::string> cgroup_reader::relative_dirs(const std::string& id) const {
  return {
    // cgroupfs cgroup driver, Docker's default where systemd does not run init.
    "docker/" + id,
    // systemd cgroup driver (Docker's default on systemd hosts with cgroup v2).
    "system.slice/docker-" + id + ".scope",
    // systemd driver with a `docker.slice` parent.
    "docker.slice/docker-" + id + ".scope",
  };
}

optional<cgroup_counters> cgroup_reader::read(const std::string& container_id) const {
  // Only a full id (hex digits) may become part of a path.
  if (layout_ == cgroup_layout::none || container_id.empty()
      || container_id.find_first_not_of("0123456789abcdef") != std::string::npos)
    return caf::none;
  fs::path base{root_};
  for (auto& rel : relative_dirs(container_id)) {
    if (layout_ == cgroup_layout::v2) {
      auto dir = base / rel;
      if (!present(dir / "memory.current"))
        continue;
      cgroup_counters result;
      result.memory_bytes = without_inactive_file(
        read_number(dir / "memory.current"), read_key(dir / "memory.stat", "inactive_file"));
      if (auto usec = read_key(dir / "cpu.stat", "usage_usec"))
        result.cpu = std::chrono::microseconds{*usec};
      return result;
    }
    auto memory = base / "memory" / rel;
    if (!present(memory / "memory.usage_in_bytes"))
      continue;
    cgroup_counters result;
    // v1's memory.stat counts the cgroup's own pages and, prefixed total_, its children's.
    result.memory_bytes
      = without_inactive_file(read_number(memory / "memory.usage_in_bytes"),
                              read_key(memory / "memory.stat", "total_inactive_file"));
    if (auto ns = read_number(base / cpuacct_dir_ / rel / "cpuacct.usage"))
      result.cpu
        = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::nanoseconds{*ns});
    return result;
  }
  return caf::none;
}

} // namespace slicegate
