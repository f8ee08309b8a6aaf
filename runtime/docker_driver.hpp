#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "runtime/driver.hpp"

namespace slicegate {

/// Runs each slice as the container `slice-<id>` through the Docker Engine API (v1.41) on its
/// unix socket: `PORT`, `DATABASE_URL`, `DATA_DIR=/data` and `SLICE_ID` in its environment,
/// the slice port published on `slice_host`, the data directory mounted at `/data`, memory
/// and CPU limited, no restart policy (slicegate decides about restarts).
///
/// Containers outlive the daemon; starting an existing container reuses it as it is, so a
/// restarted daemon adopts its slices. Memory and CPU come from the container's cgroup v2
/// files, not from `docker stats`, which needs seconds per container.
class docker_driver : public runtime_driver {
public:
  explicit docker_driver(runtime_config cfg,
                         monotonic_clock clock = std::chrono::steady_clock::now);
  ~docker_driver() override;

  docker_driver(const docker_driver&) = delete;
  docker_driver& operator=(const docker_driver&) = delete;

  std::string name() const override;
  caf::error start(const slice_spec& spec) override;
  caf::error stop(int32_t slice_id) override;
  caf::error remove(int32_t slice_id) override;
  caf::expected<slice_usage> usage(int32_t slice_id) override;
  caf::expected<bool> running(int32_t slice_id) override;
  std::vector<rt::exited> reap() override;

  /// The container of a slice: `slice-<id>`.
  static std::string container_name(int32_t slice_id);

  /// The Engine API request body that creates the container of `spec`.
  std::string create_body(const slice_spec& spec) const;

  /// The cgroup directory of a container, where the layouts of the systemd and cgroupfs
  /// drivers put it; none if neither exists.
  optional<std::string> cgroup_dir(const std::string& container_id) const;

private:
  /// A container's CPU time from `cpu.stat`, and when it was read.
  struct cpu_reading {
    std::chrono::microseconds cpu;
    std::chrono::steady_clock::time_point at;
  };

  /// What the driver remembers of a slice's container.
  struct container {
    /// The full id (64 hex digits) names the cgroup; empty until inspected.
    std::string id;
    optional<cpu_reading> last_cpu;
  };

  /// What `GET /containers/<name>/json` says.
  struct inspection {
    std::string id;
    bool running = false;
  };

  /// Asks the Engine about a container; none if there is no such container.
  caf::expected<optional<inspection>> inspect(int32_t slice_id);

  caf::error create(const slice_spec& spec);

  /// HTTP over the unix socket; defined in the .cpp so that only it sees libcurl.
  class engine;

  runtime_config cfg_;
  monotonic_clock clock_;
  std::unique_ptr<engine> engine_;
  std::map<int32_t, container> containers_;
  /// Slices started and not stopped since: a container of theirs that is not running has
  /// died on its own.
  std::set<int32_t> started_;
  /// Whether the last `reap` could not reach the Engine, so that an outage is logged once.
  bool engine_lost_ = false;
  /// Whether a running container without a cgroup under `cgroup_root` was logged.
  bool cgroup_missing_reported_ = false;
};

} // namespace slicegate
