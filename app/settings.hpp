#pragma once

// Every setting of the daemon with its default, in one place. Each setting has a flag
// `--name`, an environment variable `SLICEGATE_NAME` and a key in the config file.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include <caf/timestamp.hpp>

namespace CLI {
class App;
} // namespace CLI

namespace slicegate {

using namespace std::chrono_literals;

namespace defaults {
/// Gateway database.
constexpr const char* database_url = "postgresql:///wank_saas";
/// NATS server.
constexpr const char* nats_url = "nats://127.0.0.1:4222";
/// First token of every subject.
constexpr const char* subject_prefix = "gateway";
/// How slices are run: process, docker or external.
constexpr const char* runtime = "process";
/// Slices' host, first port and port step.
constexpr const char* slice_host = "127.0.0.1";
constexpr int32_t slice_port_base = 5001;
constexpr int32_t slice_port_step = 2;
/// Health probing of slices.
constexpr caf::timespan health_interval = 60s;
constexpr caf::timespan health_timeout = 5s;
constexpr caf::timespan health_start_period = 60s;
constexpr int32_t health_failures = 3;
/// Slower cadences: disk usage and host metrics.
constexpr caf::timespan disk_interval = 300s;
constexpr caf::timespan server_interval = 60s;
/// Telemetry is kept this long and pruned this often.
constexpr caf::timespan retention = std::chrono::hours{24 * 7};
constexpr caf::timespan retention_interval = 1h;
/// Time-based lifecycle transitions run this often.
constexpr caf::timespan sweep_interval = 60s;
/// Rolling session expiry and the absolute cap after creation.
constexpr caf::timespan session_ttl = std::chrono::hours{24 * 30};
constexpr caf::timespan session_max_age = std::chrono::hours{24 * 90};
/// A rolling expiry is written at most this often per session.
constexpr caf::timespan session_touch_interval = std::chrono::hours{24};
/// Resolves cached in memory (entries).
constexpr int32_t session_cache_size = 100000;
/// bcrypt work factor; below 12 only for tests.
constexpr int32_t bcrypt_cost = 12;
/// bcrypt worker threads (0: one per core) and the jobs that may wait for one.
constexpr int32_t bcrypt_workers = 0;
constexpr int32_t bcrypt_queue = 64;
/// Failed logins per e-mail within the window before 429.
constexpr int32_t login_max_failures = 10;
constexpr caf::timespan login_failure_window = 15min;
/// Billing.
constexpr int32_t trial_days = 14;
constexpr caf::timespan past_due_grace = std::chrono::hours{24 * 14};
constexpr caf::timespan data_retention = std::chrono::hours{24 * 30};
/// Pool floor (0: off) and ceiling (0: no limit).
constexpr int32_t min_available = 0;
constexpr int32_t max_slices = 0;
/// How long the bridge waits for an actor to answer a request.
constexpr caf::timespan request_timeout = 10s;
/// Largest request body the bridge accepts.
constexpr int64_t max_payload = 64 * 1024;
/// How long JetStream waits for the ack of an event in flight before it delivers it again
/// (after a crash, the events of a stream resume once this passed).
constexpr caf::timespan event_ack_wait = 30s;
} // namespace defaults

/// The daemon's settings.
struct settings {
  std::string database_url = defaults::database_url;
  /// Empty: derived from database_url with database `postgres`.
  std::string admin_database_url;
  /// Who slices connect as (role, password, host); the database becomes `wa_slice_<id>`.
  /// Empty: database_url's.
  std::string slice_database_url;
  std::string nats_url = defaults::nats_url;
  std::string subject_prefix = defaults::subject_prefix;
  std::string service_name = "slicegate";
  std::string runtime = defaults::runtime;
  std::string slice_command;
  std::string slice_host = defaults::slice_host;
  int32_t slice_port_base = defaults::slice_port_base;
  int32_t slice_port_step = defaults::slice_port_step;
  std::string data_root = "/var/lib/slicegate/slices";
  std::string template_database = "wa_slice_template";
  caf::timespan health_interval = defaults::health_interval;
  caf::timespan health_timeout = defaults::health_timeout;
  caf::timespan health_start_period = defaults::health_start_period;
  int32_t health_failures = defaults::health_failures;
  caf::timespan disk_interval = defaults::disk_interval;
  caf::timespan server_interval = defaults::server_interval;
  caf::timespan retention = defaults::retention;
  caf::timespan retention_interval = defaults::retention_interval;
  caf::timespan sweep_interval = defaults::sweep_interval;
  caf::timespan session_ttl = defaults::session_ttl;
  caf::timespan session_max_age = defaults::session_max_age;
  caf::timespan session_touch_interval = defaults::session_touch_interval;
  int32_t session_cache_size = defaults::session_cache_size;
  int32_t bcrypt_cost = defaults::bcrypt_cost;
  int32_t bcrypt_workers = defaults::bcrypt_workers;
  int32_t bcrypt_queue = defaults::bcrypt_queue;
  int32_t login_max_failures = defaults::login_max_failures;
  caf::timespan login_failure_window = defaults::login_failure_window;
  int32_t trial_days = defaults::trial_days;
  caf::timespan past_due_grace = defaults::past_due_grace;
  caf::timespan data_retention = defaults::data_retention;
  int32_t min_available = defaults::min_available;
  int32_t max_slices = defaults::max_slices;
  caf::timespan request_timeout = defaults::request_timeout;
  int64_t max_payload = defaults::max_payload;
  caf::timespan event_ack_wait = defaults::event_ack_wait;
  /// Docker runtime: Engine API socket, image, limits, and where container cgroups live.
  std::string docker_socket = "/var/run/docker.sock";
  std::string docker_image = "wa-crm-slice:latest";
  std::string docker_network;
  int64_t slice_memory_limit = 512LL * 1024 * 1024;
  double slice_cpu_limit = 1.0;
  std::string cgroup_root = "/sys/fs/cgroup";
  /// Grace between SIGTERM (or docker stop) and SIGKILL.
  caf::timespan stop_grace = 10s;
  /// Memory and disk above these raise alerts (0: off).
  int64_t memory_alert_bytes = 0;
  int64_t disk_alert_bytes = 0;
  std::string log_level = "info";
  /// Log as JSON lines instead of text.
  bool log_json = false;
  int32_t scheduler_threads = 0;

  /// The URL slices are handed, before their database name is put in.
  std::string slice_url() const;

  /// The admin database URL, derived from `database_url` when not set.
  std::string admin_url() const;
};

/// Adds every setting of `s` to `app` as a flag with its environment variable.
void add_settings(CLI::App& app, settings& s);

/// Parses a duration such as `500ms`, `60s`, `5m`, `1h` or `7d`; nullopt if malformed.
std::optional<caf::timespan> parse_duration(const std::string& text);

/// Renders a duration in the largest unit that divides it, e.g. `7d`, `90s`.
std::string render_duration(caf::timespan x);

/// Replaces the database name of a libpq URL or keyword string.
std::string with_database(const std::string& url, const std::string& dbname);

} // namespace slicegate
