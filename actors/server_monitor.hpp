#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include <caf/stateful_actor.hpp>

#include "actors/actors.hpp"
#include "actors/clock.hpp"

namespace slicegate {


/// Host metrics as Linux reports them, parsed by pure functions (tested on fixed text).
namespace host {

/// RAM and swap from /proc/meminfo. Used RAM is what `free` calls used: total minus
/// available, so page cache the kernel would give back does not count.
struct memory {
  int64_t ram_total_bytes = 0;
  int64_t ram_used_bytes = 0;
  int64_t swap_total_bytes = 0;
  int64_t swap_used_bytes = 0;
};

/// Parses /proc/meminfo; none if MemTotal or MemAvailable is missing.
optional<memory> parse_meminfo(std::string_view text);

/// The aggregate CPU counters of /proc/stat, in clock ticks since boot.
struct cpu_times {
  uint64_t busy = 0;
  uint64_t total = 0;
};

/// Parses the `cpu` line of /proc/stat; none if it is missing. Idle time includes iowait;
/// guest time is already part of user time and is not counted twice.
optional<cpu_times> parse_cpu_times(std::string_view text);

/// The share of all CPUs that was busy between two readings, 0 to 100; 0 when no time passed.
float cpu_percent(const cpu_times& before, const cpu_times& after);

/// Size and use of the file system holding a path.
struct disk {
  int64_t total_bytes = 0;
  int64_t used_bytes = 0;
};

/// Reads the file system of `path` with statvfs; a path that does not exist yet is measured
/// at its nearest existing ancestor. None if nothing can be read.
optional<disk> disk_of(const std::string& path);

} // namespace host

/// Where the server monitor reads and how often.
struct server_monitor_config {
  /// The directory with the slices' data; its file system is the disk that is sampled.
  std::string data_root;
  caf::timespan interval = std::chrono::seconds{60};
  /// Where /proc is (tests point it at fixtures).
  std::string proc_root = "/proc";
  /// How long the slice count may take; the last known counts are used after that.
  caf::timespan request_timeout = std::chrono::seconds{10};
  /// Whether samples are written only while this instance holds the singleton lease
  /// (several instances on one database); otherwise always.
  bool wait_for_lease = false;
};


/// Whom the server monitor talks to.
struct server_monitor_peers {
  /// Counts slices: the persistence actor.
  slice_counter_actor counter;
  telemetry_writer_actor writer;
  event_sink_actor events;
  clock_fn clock = system_clock();
};

struct server_monitor_state {
  static inline const char* name = "server-monitor";
  server_monitor_config config;
  server_monitor_peers peers;
  /// The previous CPU reading: a percentage needs two.
  optional<host::cpu_times> cpu;
  /// The last slice counts, for a sample taken while the database does not answer.
  db::slice_totals slices;
  /// A sample is being taken.
  bool sampling = false;
  /// Whether samples are written: the lease is held, or none is needed.
  bool leading = true;
};

/// Samples the host every interval: RAM and swap from /proc/meminfo, CPU from /proc/stat
/// deltas, the disk of `data_root` via statvfs, and assigned and total slice counts; sends
/// the sample to the writer (`gateway.server_telemetry`) and publishes `server_telemetry`.
/// It reads files on its own thread: spawn it detached, `sys.spawn<caf::detached>(
/// server_monitor, config, peers)`.
server_monitor_actor::behavior_type
server_monitor(server_monitor_actor::stateful_pointer<server_monitor_state> self,
               server_monitor_config config, server_monitor_peers peers);

} // namespace slicegate
