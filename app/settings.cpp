#include "app/settings.hpp"

#include <cctype>
#include <cstdlib>
#include <regex>

#include <CLI/CLI.hpp>

namespace slicegate {

namespace {

std::string env_name(const std::string& flag) {
  std::string result = "SLICEGATE_";
  for (char c : flag)
    result += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return result;
}

template <class T>
CLI::Option* add(CLI::App& app, const std::string& name, T& target, const std::string& help) {
  return app.add_option("--" + name, target, help)
    ->envname(env_name(name))
    ->capture_default_str();
}

/// A setting whose value is a secret: its value never shows in `--help`.
CLI::Option* add_secret(CLI::App& app, const std::string& name, std::string& target,
                        const std::string& help) {
  return app.add_option("--" + name, target, help)->envname(env_name(name));
}

/// A URL setting: `--help` shows its default with the password replaced by `***` (the
/// default may come from DATABASE_URL or NATS_URL).
CLI::Option* add_url(CLI::App& app, const std::string& name, std::string& target,
                     const std::string& help) {
  return app.add_option("--" + name, target, help)
    ->envname(env_name(name))
    ->default_str(redact_url(target));
}

void add_duration(CLI::App& app, const std::string& name, caf::timespan& target,
                  const std::string& help) {
  app
    .add_option_function<std::string>(
      "--" + name,
      [&target, name](const std::string& text) {
        auto d = parse_duration(text);
        if (!d)
          throw CLI::ValidationError("--" + name,
                                     "expects a duration such as 500ms, 60s, 5m, 1h or 7d");
        target = *d;
      },
      help)
    ->envname(env_name(name))
    ->default_str(render_duration(target));
}

} // namespace

std::string settings::admin_url() const {
  return admin_database_url.empty() ? with_database(database_url, "postgres")
                                    : admin_database_url;
}

std::string settings::slice_url() const {
  return slice_database_url.empty() ? database_url : slice_database_url;
}

void add_settings(CLI::App& app, settings& s) {
  // The conventional variables count too, below their SLICEGATE_ forms.
  if (auto url = std::getenv("DATABASE_URL"))
    s.database_url = url;
  if (auto url = std::getenv("NATS_URL"))
    s.nats_url = url;
  app.set_config("--config", "", "Read settings from this TOML/INI file")
    ->envname("SLICEGATE_CONFIG");
  add_url(app, "database-url", s.database_url, "Gateway database (libpq URL)");
  add_url(app, "admin-database-url", s.admin_database_url,
      "Maintenance database for CREATE/DROP DATABASE (default: database-url with "
      "database postgres)");
  add_url(app, "slice-database-url", s.slice_database_url,
      "Where slices reach PostgreSQL; the database becomes wa_slice_<id>, and with the process "
      "and docker runtimes the login becomes the slice's own role wa_slice_<id>. Required with "
      "those runtimes, and never naming the gateway's role");
  add(app, "persistence-queue-limit", s.persistence_queue_limit,
      "Database requests that may wait; more are answered 503 at once (0: no limit)")
    ->check(CLI::Range(int64_t{0}, int64_t{1} << 30));
  add_duration(app, "persistence-max-wait", s.persistence_max_wait,
               "A database request that waited longer is answered 503 without being run: its "
               "caller gave up (keep it at request-timeout; 0s: never)");
  add_duration(app, "lease-interval", s.lease_interval,
               "How often the singleton lease is tried or checked (several instances)");
  add(app, "watch-shards", s.watch_shards,
      "Shards the slice watchers are spread over among the instances; the same on all")
    ->check(CLI::Range(1, 4096));
  add_duration(app, "watch-sync-interval", s.watch_sync_interval,
               "How often an instance re-reads the slices of its watch shards, to watch those "
               "other instances created or changed");
  add_duration(app, "member-timeout", s.member_timeout,
               "An instance silent this long counts as dead and its watch shards move");
  add_duration(app, "statement-timeout", s.statement_timeout,
               "Longest statement on the gateway connection (0s: no limit)");
  add_duration(app, "lock-timeout", s.lock_timeout,
               "Longest wait for a lock on the gateway connection (0s: no limit)");
  add_duration(app, "idle-in-transaction-timeout", s.idle_in_transaction_timeout,
               "Longest idle time inside a transaction on the gateway connection");
  add_duration(app, "tcp-keepalive", s.tcp_keepalive,
               "Idle time before TCP keepalives probe the gateway connection (0s: libpq's)");
  add_duration(app, "provision-lock-timeout", s.provision_lock_timeout,
               "How long CREATE/DROP DATABASE and role changes wait for a lock");
  add_duration(app, "provision-statement-timeout", s.provision_statement_timeout,
               "How long one provisioning statement may run");
  add(app, "slice-connection-limit", s.slice_connection_limit,
      "Database connections one slice's role may hold at once")
    ->check(CLI::Range(1, 10000));
  add_url(app, "nats-url", s.nats_url, "NATS server URL(s), comma-separated");
  add(app, "nats-user", s.nats.user, "NATS user (with nats-password)");
  add_secret(app, "nats-password", s.nats.password,
             "NATS password (best from the environment: a flag shows in the process list)");
  add_secret(app, "nats-token", s.nats.token, "NATS token");
  add(app, "nats-nkey-seed", s.nats.nkey_seed_file, "File holding a NATS NKey user seed (SU...)");
  add(app, "nats-creds", s.nats.creds_file, "NATS .creds file (user JWT and NKey seed)");
  app.add_flag("--nats-tls", s.nats.tls,
               "Require TLS to NATS (trusting the system's CAs unless nats-tls-ca is set)")
    ->envname(env_name("nats-tls"));
  add(app, "nats-tls-ca", s.nats.tls_ca, "CA certificates (PEM) NATS' certificate must chain to");
  add(app, "nats-tls-cert", s.nats.tls_cert, "Client certificate (PEM) for NATS, with nats-tls-key");
  add(app, "nats-tls-key", s.nats.tls_key, "Private key (PEM) of nats-tls-cert");
  add(app, "subject-prefix", s.subject_prefix, "First token of every subject");
  add(app, "max-in-flight", s.max_in_flight,
      "Requests served at once; more are answered 503 at once (0: no limit)")
    ->check(CLI::Range(int64_t{0}, int64_t{1} << 30));
  add_duration(app, "events-retention", s.events_retention,
               "How long the inbound event stream keeps events (0s: for ever); other limits "
               "an operator set on the stream are kept");
  add_duration(app, "dead-letter-retention", s.dead_letter_retention,
               "How long rejected inbound events are kept for replay (slicectl dead-letters)");
  add(app, "service-name", s.service_name, "Name in the NATS micro protocol");
  add(app, "runtime", s.runtime, "How slices run: process, docker or external")
    ->check(CLI::IsMember({"process", "docker", "external"}));
  add(app, "slice-command", s.slice_command,
      "Command the process runtime runs per slice ({port}, {slice_id}, {data_dir}, "
      "{database_url} substituted)");
  add(app, "slice-host", s.slice_host, "Host the slices listen on");
  add(app, "slice-port-base", s.slice_port_base, "Port of the first slice");
  add(app, "slice-port-step", s.slice_port_step, "Distance between slice ports");
  add(app, "data-root", s.data_root, "Directory with one data directory per slice");
  add(app, "template-database", s.template_database,
      "Template database every wa_slice_N is created from");
  add_duration(app, "health-interval", s.health_interval, "Health probe cadence");
  add_duration(app, "health-timeout", s.health_timeout, "Health probe timeout");
  add_duration(app, "health-start-period", s.health_start_period,
               "Failures after a start that do not count");
  add(app, "health-failures", s.health_failures, "Consecutive failures before an alert");
  add_duration(app, "disk-interval", s.disk_interval, "Disk usage cadence");
  add(app, "probe-concurrency", s.probe_concurrency,
      "Health probes running at once, at most; the rest wait their turn")
    ->check(CLI::Range(1, 100000));
  add_duration(app, "server-interval", s.server_interval, "Host metrics cadence");
  add_duration(app, "retention", s.retention, "How long telemetry is kept");
  add_duration(app, "retention-interval", s.retention_interval,
               "How often telemetry is pruned");
  add_duration(app, "sweep-interval", s.sweep_interval, "Time-based lifecycle sweep cadence");
  add_duration(app, "session-ttl", s.session_ttl, "Rolling session expiry");
  add_duration(app, "session-max-age", s.session_max_age, "Absolute session lifetime");
  add_duration(app, "session-touch-interval", s.session_touch_interval,
               "Minimum time between two writes of a session's rolling expiry");
  add(app, "session-cache-size", s.session_cache_size, "Resolved sessions cached in memory");
  add(app, "signup-event-min-cost", s.event_bcrypt_min_cost,
      "Lowest bcrypt cost of a hash in a signup event")
    ->check(CLI::Range(4, 31));
  add(app, "signup-event-max-cost", s.event_bcrypt_max_cost,
      "Highest bcrypt cost of a hash in a signup event (each login verifies at that cost)")
    ->check(CLI::Range(4, 31));
  add(app, "bcrypt-cost", s.bcrypt_cost, "bcrypt work factor (12; lower only for tests)")
    ->check(CLI::Range(4, 31));
  add(app, "bcrypt-workers", s.bcrypt_workers, "bcrypt threads (0: one per core)");
  add(app, "bcrypt-queue", s.bcrypt_queue, "bcrypt jobs that may wait before 429");
  add(app, "login-max-failures", s.login_max_failures,
      "Failed logins per e-mail within the window before 429");
  add_duration(app, "login-failure-window", s.login_failure_window,
               "Window of the failed-login count");
  add(app, "trial-days", s.trial_days, "Length of a new user's trial");
  add_duration(app, "past-due-grace", s.past_due_grace, "past_due time before suspension");
  add_duration(app, "data-retention", s.data_retention,
               "Time after a cancelled subscription ends before its slice is destroyed");
  add(app, "min-available", s.min_available,
      "Keep at least this many healthy available slices");
  add(app, "max-slices", s.max_slices, "Never provision more slices than this (0: no limit)");
  add_duration(app, "request-timeout", s.request_timeout,
               "How long a NATS request may wait for an answer inside slicegate");
  add(app, "max-payload", s.max_payload, "Largest accepted request body in bytes");
  add_duration(app, "event-ack-wait", s.event_ack_wait,
               "How long an unacknowledged event waits before JetStream redelivers it");
  add(app, "event-batch", s.event_batch,
      "Most events a consumer fetches and applies at once (1: one at a time)")
    ->check(CLI::Range(1, 1000));
  add(app, "docker-socket", s.docker_socket, "Docker Engine API unix socket");
  add(app, "docker-image", s.docker_image, "Image the docker runtime runs per slice");
  add(app, "docker-network", s.docker_network, "Docker network for slice containers");
  add(app, "slice-memory-limit", s.slice_memory_limit, "Memory limit per slice in bytes");
  add(app, "slice-cpu-limit", s.slice_cpu_limit, "CPU limit per slice in cores");
  add(app, "slice-pids-limit", s.slice_pids_limit,
      "Most processes and threads per slice container (0: none)");
  add(app, "cgroup-root", s.cgroup_root,
      "Root of the host's cgroup hierarchy (v1 or v2), where container usage is read");
  add_duration(app, "stop-grace", s.stop_grace, "Grace between SIGTERM and SIGKILL");
  add_duration(app, "shutdown-grace", s.shutdown_grace,
               "How long a clean stop may take to finish requests, events and writes");
  add(app, "memory-alert-bytes", s.memory_alert_bytes, "Alert above this slice RSS (0: off)");
  add(app, "disk-alert-bytes", s.disk_alert_bytes, "Alert above this slice disk use (0: off)");
  add(app, "log-level", s.log_level, "trace, debug, info, warn, error")
    ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  add(app, "log-json", s.log_json, "Write logs as JSON lines");
  add(app, "http-listen", s.http_listen,
      "Serve the admin dashboard and /metrics on this host:port (default: off)");
  add(app, "http-root", s.http_root,
      "The dashboard's built files (default: dashboard/ beside the slicegate binary)");
  add(app, "dashboard-nats-url", s.dashboard_nats_url,
      "NATS WebSocket URL the dashboard connects to from the browser, e.g. "
      "ws://127.0.0.1:8443");
  add(app, "scheduler-threads", s.scheduler_threads,
      "CAF worker threads (0: CAF's default, the number of cores but at least 4)");
}

} // namespace slicegate
