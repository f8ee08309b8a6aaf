#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <sys/types.h>

#include "runtime/driver.hpp"

namespace slicegate {

/// Runs each slice as `/bin/sh -c <slice-command>` in its own session and process group, with
/// `PORT`, `DATABASE_URL`, `DATA_DIR` and `SLICE_ID` in its environment, its data directory as
/// working directory, and stdout and stderr appended to `<log_dir>/slice-<id>.log`.
///
/// Signals go to the whole process group, so a command that forks (a shell script, `npm
/// start`) is stopped as a whole. Exits are noticed by polling `waitpid` on the slices' own
/// pids (`reap`), never with a SIGCHLD handler or `waitpid(-1)`, which would steal children
/// of other parts of a multithreaded daemon. Memory is the sum of VmRSS over the group, CPU
/// the growth of its user and system time.
///
/// Each running slice's group leader is recorded with its start time in
/// `<log_dir>/slice-<id>.pid`. A daemon that goes away without its destructor running
/// (SIGKILL) leaves its slices running and their pid files behind; the next driver stops
/// those processes when it is created (SIGTERM, SIGKILL after the grace), so that the slices
/// can start again on their ports. (The `docker` runtime adopts its containers instead: a
/// process that is not our child cannot be waited for.)
class process_driver : public runtime_driver {
public:
  explicit process_driver(runtime_config cfg,
                          monotonic_clock clock = std::chrono::steady_clock::now);

  /// Stops every slice still running, all within one stop grace.
  ~process_driver() override;

  process_driver(const process_driver&) = delete;
  process_driver& operator=(const process_driver&) = delete;

  std::string name() const override;
  caf::error start(const slice_spec& spec) override;
  /// Starts the slice again as it was last started (its credentials included), `spec` only
  /// for a slice this driver never started.
  caf::error restart(const slice_spec& spec) override;
  caf::error stop(int32_t slice_id) override;
  caf::error remove(int32_t slice_id) override;
  caf::expected<slice_usage> usage(int32_t slice_id) override;
  caf::expected<bool> running(int32_t slice_id) override;
  std::vector<rt::exited> reap() override;

private:
  /// A CPU time total of a process group, and when it was read.
  struct cpu_reading {
    std::chrono::microseconds cpu;
    std::chrono::steady_clock::time_point at;
  };

  /// One running slice. Its pid is also its process group id and session id.
  struct child {
    pid_t pid = -1;
    optional<cpu_reading> last_cpu;
  };

  caf::error spawn(const slice_spec& spec);

  std::string pid_file(int32_t slice_id) const;

  /// Writes the pid file of a slice just started.
  void record(int32_t slice_id, pid_t pid);

  /// Removes the pid file of a slice that no longer runs.
  void forget(int32_t slice_id);

  /// Stops what the pid files in the log directory name, if it still runs.
  void stop_orphans();

  /// Checks whether a slice's leader has died; if so, kills what is left of its group, reaps
  /// the leader, forgets the slice, and queues an `exited` report. Returns whether it died.
  bool collect(int32_t slice_id);

  /// SIGTERM to each group, SIGKILL to those still alive after the grace, then reaps the
  /// leaders and forgets the slices.
  void terminate(const std::vector<int32_t>& slice_ids);

  /// Drops a queued `exited` report of a slice the caller stops or starts anyway.
  void forget_exits(int32_t slice_id);

  /// Reaps killed leaders that had not yet turned into zombies when they were stopped.
  void reap_lingering();

  runtime_config cfg_;
  monotonic_clock clock_;
  std::map<int32_t, child> children_;
  /// The spec each slice was last started with, kept after it stops until it is removed.
  std::map<int32_t, slice_spec> launched_;
  std::vector<rt::exited> exited_;
  std::vector<pid_t> lingering_;
};

/// Quotes `value` for a POSIX shell: returned as is when it consists only of characters no
/// shell treats specially, else in single quotes.
std::string shell_quote(const std::string& value);

/// Replaces `{port}`, `{slice_id}`, `{data_dir}` and `{database_url}` in `command` with the
/// shell-quoted values of `spec`. Placeholders are meant to stand bare, not inside quotes.
std::string expand_command(const std::string& command, const slice_spec& spec);

} // namespace slicegate
