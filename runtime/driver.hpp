#pragma once

// The one interface through which slices are started, stopped and measured, and the choice
// between its implementations: `process` (a command per slice, for development and tests),
// `docker` (the Docker Engine API) and `external` (slices run by someone else).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/timestamp.hpp>

#include "messages/runtime.hpp"

namespace slicegate {

/// A monotonic clock; CPU percentages divide by the time between two of its readings. Tests
/// pass one they move by hand.
using monotonic_clock = std::function<std::chrono::steady_clock::time_point()>;

/// The part of the daemon's settings the runtime drivers read.
struct runtime_config {
  /// `process`, `docker` or `external`.
  std::string kind = "process";
  /// process: the shell command run per slice, with `{port}`, `{slice_id}`, `{data_dir}` and
  /// `{database_url}` replaced by shell-quoted values.
  std::string slice_command;
  /// process: where each slice's stdout and stderr go (`slice-<id>.log`).
  std::string log_dir;
  /// docker: the host address a slice's port is published on.
  std::string slice_host = "127.0.0.1";
  /// docker: the Engine API's unix socket, the image, and the network (empty: the default).
  std::string docker_socket = "/var/run/docker.sock";
  std::string docker_image = "wa-crm-slice:latest";
  std::string docker_network;
  /// docker: limits per container (0: none). The pids limit bounds processes and threads
  /// together: a fork bomb in one slice cannot starve the host.
  int64_t memory_limit = 512LL * 1024 * 1024;
  double cpu_limit = 1.0;
  int64_t pids_limit = 512;
  /// docker: root of the host's cgroup hierarchy (v1 or v2, detected), where container
  /// memory and CPU are read.
  std::string cgroup_root = "/sys/fs/cgroup";
  /// Time between SIGTERM (or `docker stop`) and SIGKILL.
  caf::timespan stop_grace = std::chrono::seconds{10};
};

/// Starts, stops and measures slices. Calls block (processes are waited for, the Docker
/// Engine is asked over HTTP), so only a detached actor calls them, and only one thread at a
/// time. Errors are domain errors: `ec::invalid_request` for a bad spec, `ec::unavailable`
/// when the runtime cannot be reached, `ec::internal` when it refuses.
class runtime_driver {
 public:
  virtual ~runtime_driver();

  /// The runtime's name as the `runtime` setting spells it.
  virtual std::string name() const = 0;

  /// Starts a slice; a slice that already runs is left alone.
  virtual caf::error start(const slice_spec& spec) = 0;

  /// Stops a slice: a polite signal, then a kill once `stop_grace` has passed. Stopping a
  /// stopped or unknown slice succeeds.
  virtual caf::error stop(int32_t slice_id) = 0;

  /// Stops a slice if it runs, then starts it from `spec`.
  virtual caf::error restart(const slice_spec& spec);

  /// Stops a slice and forgets it: the container is deleted, its data directory kept.
  virtual caf::error remove(int32_t slice_id) = 0;

  /// Reads memory and CPU. A stopped slice has no figures; that is not an error.
  virtual caf::expected<slice_usage> usage(int32_t slice_id) = 0;

  /// Tells whether a slice runs.
  virtual caf::expected<bool> running(int32_t slice_id) = 0;

  /// Keeps a slice that runs as this driver would run it with database role `database_role`
  /// (see `rt::adopt`); false when it does not run or runs differently, and then nothing
  /// changes. The default: whether it runs (a driver that starts every slice itself knows
  /// its credentials are current).
  virtual caf::expected<bool> adopt(int32_t slice_id, const std::string& database_role);

  /// Returns the slices that died on their own since the last call, each once. A slice that
  /// `stop` or `remove` ended is not among them.
  virtual std::vector<rt::exited> reap() = 0;
};

/// Makes the driver `cfg.kind` names; `ec::invalid_request` for an unknown kind or a
/// setting the kind cannot do without.
caf::expected<std::unique_ptr<runtime_driver>> make_runtime_driver(const runtime_config& cfg);

/// Checks a spec before any driver acts on it: a positive id, a port in 1–65535, a data
/// directory.
caf::error validate(const slice_spec& spec);

/// Creates `path` and its parents if missing.
caf::error ensure_directory(const std::string& path);

/// The percentage of one core that `used` CPU time over `wall` time means; none when the
/// wall time is not positive or the counter went backwards.
optional<double> cpu_percent(std::chrono::microseconds used, std::chrono::microseconds wall);

} // namespace slicegate
