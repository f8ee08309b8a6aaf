#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "runtime/cgroup.hpp"
#include "runtime/driver.hpp"

namespace slicegate {

/// Runs each slice as the container `slice-<id>` through the Docker Engine API (v1.41) on its
/// unix socket: `PORT`, `DATABASE_URL`, `DATA_DIR=/data` and `SLICE_ID` in its environment
/// (never on a command line), the slice port published on `slice_host`, the data directory
/// mounted at `/data`, memory, CPU and pids limited, every capability dropped,
/// `no-new-privileges`, the label `slicegate.slice=<id>`, no restart policy (slicegate
/// decides about restarts).
///
/// Containers outlive the daemon: a restarted daemon adopts a slice's container if it carries
/// the slice's label and the configured image, and replaces it otherwise. Memory and CPU come
/// from the container's cgroup (v1 or v2, see cgroup.hpp); where no cgroup is readable, from
/// the Engine's one-shot stats, a request per container.
class docker_driver : public runtime_driver {
 public:
  explicit docker_driver(runtime_config cfg,
                         monotonic_clock clock = std::chrono::steady_clock::now);
  ~docker_driver() override;

  docker_driver(const docker_driver&) = delete;
  docker_driver& operator=(const docker_driver&) = delete;

  std::string name() const override;
  caf::error start(const slice_spec& spec) override;
  /// Restarts the slice's container as it is (its environment, and so its credentials,
  /// kept); creates it from `spec` only when there is none.
  caf::error restart(const slice_spec& spec) override;
  caf::error stop(int32_t slice_id) override;
  caf::error remove(int32_t slice_id) override;
  caf::expected<slice_usage> usage(int32_t slice_id) override;
  caf::expected<bool> running(int32_t slice_id) override;
  caf::expected<bool> adopt(int32_t slice_id, const std::string& database_role) override;
  std::vector<rt::exited> reap() override;

  /// The container of a slice: `slice-<id>`.
  static std::string container_name(int32_t slice_id);

  /// The Engine API request body that creates the container of `spec`.
  std::string create_body(const slice_spec& spec) const;

  /// The cgroup layout usage is read from.
  cgroup_layout layout() const {
    return cgroups_.layout();
  }

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
    /// The image the container was created from, as named at its creation.
    std::string image;
    /// The value of its `slicegate.slice` label; empty without one.
    std::string slice_label;
    /// The `DATABASE_URL` in its environment; empty without one. Never logged.
    std::string database_url;
  };

  /// Asks the Engine about a container; none if there is no such container.
  caf::expected<optional<inspection>> inspect(int32_t slice_id);

  caf::error create(const slice_spec& spec);

  /// Why an existing container may not serve as slice `slice_id`'s; empty if it may.
  std::string unfit(int32_t slice_id, const inspection& found) const;

  /// Memory and CPU from the Engine's stats API, for hosts where no cgroup is readable.
  caf::expected<cgroup_counters> engine_stats(int32_t slice_id);

  /// HTTP over the unix socket; defined in the .cpp so that only it sees libcurl.
  class engine;

  runtime_config cfg_;
  monotonic_clock clock_;
  cgroup_reader cgroups_;
  std::unique_ptr<engine> engine_;
  std::map<int32_t, container> containers_;
  /// Slices started and not stopped since: a container of theirs that is not running has
  /// died on its own.
  std::set<int32_t> started_;
  /// Whether the last `reap` could not reach the Engine, so that an outage is logged once.
  bool engine_lost_ = false;
  /// Whether falling back to the Engine's stats (no cgroup under `cgroup_root`) was logged.
  bool stats_fallback_reported_ = false;
};

} // namespace slicegate
