#pragma once

// Throwaway PostgreSQL and nats-server for integration tests and benchmarks, started through
// scripts/servers.sh on free loopback ports, and stopped, killed and restarted on demand.

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace slicegate::test {

class servers {
public:
  /// Starts both servers in a fresh temporary directory.
  servers();
  /// Stops both servers and removes the directory.
  ~servers();

  servers(const servers&) = delete;
  servers& operator=(const servers&) = delete;

  /// Gateway database as `wank_gateway`.
  const std::string& database_url() const;
  /// Maintenance database as `wank_gateway`.
  const std::string& admin_database_url() const;
  /// Maintenance database as `wa_slice`: where slices reach PostgreSQL (each logs in as its
  /// own role; `wa_slice` itself cannot log in).
  const std::string& slice_database_url() const;
  /// Maintenance database as superuser `postgres` (for test set-up only).
  const std::string& superuser_url() const;
  const std::string& nats_url() const;
  int nats_monitor_port() const;
  const std::string& dir() const;

  void stop_pg();
  void start_pg();
  void restart_pg();
  void kill_nats();
  void start_nats();

  /// Drops and re-creates the gateway database (through sql/setup.sh), so that a test starts
  /// from nothing.
  void reset_database();

private:
  void script(const std::string& verb);

  std::string dir_;
  std::map<std::string, std::string> env_;
};

/// Shared servers for one test executable, started on first use.
servers& shared_servers();

/// Runs a shell command; returns its exit code. Output goes to the test log.
int run(const std::string& command);

/// Runs a shell command and returns its standard output.
std::string capture(const std::string& command);

/// Path of the built `slicegate` daemon and `slicectl`.
std::string slicegate_binary();
std::string slicectl_binary();

/// Resident memory of process `pid` in KiB, from /proc; 0 when unreadable.
long rss_kib(int pid);

/// Runs `slicegate` as a child process, with arguments and extra environment.
class daemon {
public:
  daemon(std::vector<std::string> args, std::map<std::string, std::string> env = {});
  ~daemon();

  daemon(const daemon&) = delete;
  daemon& operator=(const daemon&) = delete;

  /// Sends a signal (default SIGTERM) and waits up to `timeout`; returns the exit code, or
  /// -signal if it died of a signal, or -1000 on timeout (then it is killed). When it had
  /// ended already (see `running`), returns how it ended, -1 if that is unknown.
  int stop(int signal = 15, std::chrono::seconds timeout = std::chrono::seconds{20});
  /// SIGKILL, no grace.
  void kill();
  bool running();
  int pid() const {
    return pid_;
  }
  /// What it wrote to stdout and stderr so far.
  std::string log() const;

private:
  int pid_ = -1;
  int exit_code_ = -1;
  std::string log_path_;
};

/// The standard arguments that point a daemon at `s` (database, NATS, cost 4 bcrypt, …).
std::vector<std::string> daemon_args(const servers& s);

/// Polls `pred` every 20 ms until it holds or `timeout` passes; returns whether it held.
template <class Predicate>
bool eventually(Predicate pred, std::chrono::milliseconds timeout = std::chrono::seconds{10});

} // namespace slicegate::test

#include "tests/support/servers_impl.hpp"
