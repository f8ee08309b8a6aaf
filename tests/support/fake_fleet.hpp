#pragma once

// A fleet of stand-in slices in one thread: loopback listeners that answer every `GET /health`
// with `{"wa_state":"CONNECTED"}`, all driven by one epoll loop, counting connections per port
// and per second. Tests and benchmarks point slice rows at its ports to watch thousands of
// healthy slices without thousands of processes.
//
//     test::fake_fleet fleet{220, 20000};          // up to 220 ports from 20000 on
//     for (auto port : fleet.ports()) ...           // the ports it listens on

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace slicegate::test {

/// CPU seconds (user + system) of a process or thread, from its `stat` file
/// (`/proc/PID/stat`, `/proc/self/task/TID/stat`); 0 when it cannot be read.
double cpu_seconds(const std::string& stat_path);

/// Raises the soft limit on open descriptors to the hard one; returns the new soft limit.
long raise_fd_limit();

class fake_fleet {
 public:
  /// Seconds the per-second counters cover.
  static constexpr int max_seconds = 4 * 3600;

  /// Listens on up to `want` ports from `port_base` on, skipping ports in use and the
  /// ephemeral range, and leaving `spare_fds` descriptors of the process's limit free.
  fake_fleet(int want, int port_base, int spare_fds = 256);
  ~fake_fleet();

  fake_fleet(const fake_fleet&) = delete;
  fake_fleet& operator=(const fake_fleet&) = delete;

  const std::vector<int>& ports() const {
    return ports_;
  }

  /// Ports passed over because something else listened there.
  int skipped() const {
    return skipped_;
  }

  /// The second since the fleet started, as its counters count.
  int second_now() const;

  /// Connections in each of the seconds [from, to).
  std::vector<uint32_t> per_second(int from, int to) const;

  uint64_t total() const {
    return total_.load();
  }

  /// Ports that saw at least one connection.
  size_t ports_probed() const;

  /// CPU seconds of the serving thread.
  double cpu() const;

 private:
  void serve();

  int epoll_ = -1;
  int skipped_ = 0;
  std::vector<int> listeners_;
  std::vector<int> ports_;
  std::vector<std::atomic<uint32_t>> per_port_;
  std::vector<std::atomic<uint32_t>> per_second_;
  std::atomic<uint64_t> total_{0};
  std::atomic<int> tid_{0};
  std::atomic<bool> stopping_{false};
  std::chrono::steady_clock::time_point start_;
  std::thread thread_;
};

} // namespace slicegate::test
