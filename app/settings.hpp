#pragma once

// Every setting of the daemon, in one place. Each setting has a flag `--name`, an environment
// variable `SLICEGATE_NAME` and a key in the config file. A setting that configures one
// component takes its default from that component's config struct, where the default is
// written once and documented; the node (app/node.hpp) turns these settings back into the
// config structs.

#include <chrono>
#include <cstdint>
#include <string>

#include <caf/timestamp.hpp>

#include "actors/hasher.hpp"
#include "actors/retention.hpp"
#include "actors/server_monitor.hpp"
#include "actors/session_manager.hpp"
#include "actors/slice_manager.hpp"
#include "actors/prober.hpp"
#include "actors/slice_watcher.hpp"
#include "persistence/lease.hpp"
#include "persistence/request_queue.hpp"
#include "bridge/bridge.hpp"
#include "common/database_url.hpp"
#include "common/duration.hpp"
#include "common/nats_credentials.hpp"
#include "persistence/persistence.hpp"
#include "persistence/provisioner.hpp"
#include "runtime/driver.hpp"

namespace CLI {
class App;
} // namespace CLI

namespace slicegate {

/// The daemon's own settings: what belongs to no single component.
struct daemon_config {
  /// Gateway database.
  std::string database_url = "postgresql:///wank_saas";
  /// Directory holding one data directory per slice; slice logs go to `logs/` beside it.
  std::string data_root = "/var/lib/slicegate/slices";
  /// How long a clean stop (SIGTERM, SIGINT) may take: draining NATS, the requests and events
  /// in flight, the last telemetry flush. What is not done by then is left (an event not
  /// acknowledged comes back from JetStream to the next daemon).
  caf::timespan shutdown_grace = std::chrono::seconds{10};
  /// Log level and format.
  std::string log_level = "info";
  bool log_json = false;
  /// CAF worker threads (0: CAF's default).
  int32_t scheduler_threads = 0;
};

/// The daemon's settings.
struct settings {
  std::string database_url = daemon_config{}.database_url;
  /// Empty: derived from database_url with database `postgres`.
  std::string admin_database_url;
  /// Where slices reach PostgreSQL (host, port, parameters); the database becomes
  /// `wa_slice_<id>` and, with the process and docker runtimes, the login the slice's own
  /// role. Empty: database_url's (refused with those runtimes).
  std::string slice_database_url;
  /// The provisioner's bounds on lock waits and statements, and a slice role's connections.
  caf::timespan provision_lock_timeout = provisioner_config{}.lock_timeout;
  caf::timespan provision_statement_timeout = provisioner_config{}.statement_timeout;
  int32_t slice_connection_limit = provisioner_config{}.slice_connection_limit;
  std::string nats_url = bridge_config{}.nats_url;
  caf::timespan events_retention = bridge_config{}.events_max_age;
  caf::timespan dead_letter_retention = retention_config{}.dead_letter_retention;
  int64_t persistence_queue_limit = static_cast<int64_t>(request_queue_config{}.limit);
  caf::timespan persistence_max_wait = request_queue_config{}.max_wait;
  caf::timespan lease_interval = lease_config{}.interval;
  /// Watch shards the slices are spread over among the instances; the same on every one.
  int32_t watch_shards = 64;
  caf::timespan member_timeout = lease_config{}.member_timeout;
  caf::timespan watch_sync_interval = slice_manager_config{}.watch_sync_interval;
  caf::timespan statement_timeout = persistence_config{}.statement_timeout;
  caf::timespan lock_timeout = persistence_config{}.lock_timeout;
  caf::timespan idle_in_transaction_timeout = persistence_config{}.idle_in_transaction_timeout;
  caf::timespan tcp_keepalive = persistence_config{}.keepalive_idle;
  int64_t max_in_flight = bridge_config{}.max_in_flight;
  /// `nats-user`, `nats-password`, `nats-token`, `nats-nkey-seed`, `nats-creds`, `nats-tls`,
  /// `nats-tls-ca`, `nats-tls-cert`, `nats-tls-key`.
  nats_credentials nats;
  std::string subject_prefix = bridge_config{}.subject_prefix;
  std::string service_name = bridge_config{}.service_name;
  std::string runtime = runtime_config{}.kind;
  std::string slice_command;
  std::string slice_host = runtime_config{}.slice_host;
  int32_t slice_port_base = slice_manager_config{}.port_base;
  int32_t slice_port_step = slice_manager_config{}.port_step;
  std::string data_root = daemon_config{}.data_root;
  std::string template_database = provisioner_config{}.template_database;
  caf::timespan health_interval = slice_watcher_config{}.health_interval;
  caf::timespan health_timeout = slice_watcher_config{}.health_timeout;
  caf::timespan health_start_period = slice_watcher_config{}.health_start_period;
  int32_t health_failures = slice_watcher_config{}.health_failures;
  caf::timespan disk_interval = slice_watcher_config{}.disk_interval;
  int32_t probe_concurrency = static_cast<int32_t>(prober_config{}.max_running);
  caf::timespan server_interval = server_monitor_config{}.interval;
  caf::timespan retention = retention_config{}.retention;
  caf::timespan retention_interval = retention_config{}.interval;
  caf::timespan sweep_interval = slice_manager_config{}.sweep_interval;
  caf::timespan session_ttl = session_config{}.session_ttl;
  caf::timespan session_max_age = session_config{}.session_max_age;
  caf::timespan session_touch_interval = session_config{}.session_touch_interval;
  int32_t session_cache_size = static_cast<int32_t>(session_config{}.cache_size);
  int32_t bcrypt_cost = session_config{}.bcrypt_cost;
  int32_t event_bcrypt_min_cost = session_config{}.event_bcrypt_min_cost;
  int32_t event_bcrypt_max_cost = session_config{}.event_bcrypt_max_cost;
  int32_t bcrypt_workers = static_cast<int32_t>(hasher_config{}.workers);
  int32_t bcrypt_queue = static_cast<int32_t>(hasher_config{}.queue);
  int32_t login_max_failures = session_config{}.login_max_failures;
  caf::timespan login_failure_window = session_config{}.login_failure_window;
  int32_t trial_days = session_config{}.trial_days;
  caf::timespan past_due_grace = slice_manager_config{}.past_due_grace;
  caf::timespan data_retention = slice_manager_config{}.data_retention;
  int32_t min_available = slice_manager_config{}.min_available;
  int32_t max_slices = slice_manager_config{}.max_slices;
  caf::timespan request_timeout = bridge_config{}.request_timeout;
  int64_t max_payload = bridge_config{}.max_payload;
  caf::timespan event_ack_wait = bridge_config{}.event_ack_wait;
  int event_batch = bridge_config{}.event_batch;
  std::string docker_socket = runtime_config{}.docker_socket;
  std::string docker_image = runtime_config{}.docker_image;
  std::string docker_network = runtime_config{}.docker_network;
  int64_t slice_memory_limit = runtime_config{}.memory_limit;
  double slice_cpu_limit = runtime_config{}.cpu_limit;
  int64_t slice_pids_limit = runtime_config{}.pids_limit;
  std::string cgroup_root = runtime_config{}.cgroup_root;
  caf::timespan stop_grace = runtime_config{}.stop_grace;
  int64_t memory_alert_bytes = slice_watcher_config{}.memory_alert_bytes;
  int64_t disk_alert_bytes = slice_watcher_config{}.disk_alert_bytes;
  caf::timespan shutdown_grace = daemon_config{}.shutdown_grace;
  std::string log_level = daemon_config{}.log_level;
  /// The HTTP listener (dashboard and /metrics): `host:port`, empty for none.
  std::string http_listen;
  /// The dashboard's built files; empty: `dashboard` beside the slicegate binary.
  std::string http_root;
  /// NATS' WebSocket URL as the dashboard in a browser reaches it (`/config.json`).
  std::string dashboard_nats_url;
  bool log_json = daemon_config{}.log_json;
  int32_t scheduler_threads = daemon_config{}.scheduler_threads;

  /// The URL slices are handed, before their database name is put in.
  std::string slice_url() const;

  /// The admin database URL, derived from `database_url` when not set.
  std::string admin_url() const;
};

/// Adds every setting of `s` to `app` as a flag with its environment variable.
void add_settings(CLI::App& app, settings& s);

} // namespace slicegate
