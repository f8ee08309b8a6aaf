#include "app/node.hpp"

#include <algorithm>
#include <filesystem>
#include <thread>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/billing.hpp"
#include "actors/hasher.hpp"
#include "actors/janitor.hpp"
#include "actors/prober.hpp"
#include "actors/runtime.hpp"
#include "actors/session_manager.hpp"
#include "actors/slice_manager.hpp"
#include "app/ask.hpp"
#include "common/database_url.hpp"
#include "bridge/bridge.hpp"
#include "messages/bus.hpp"
#include "messages/error.hpp"
#include "persistence/persistence.hpp"
#include "persistence/provisioner.hpp"
#include "persistence/lease.hpp"
#include "persistence/request_queue.hpp"
#include "runtime/driver.hpp"
#include "web/metrics.hpp"

namespace slicegate {

using namespace std::chrono_literals;

namespace {

/// How long the runtime may take for a request beyond its stop grace (a stop waits out the
/// grace, then kills, then the start follows).
constexpr caf::timespan runtime_margin = 50s;

/// Start-up steps: migrate, prepare the template, reconcile the pool.
constexpr caf::timespan migrate_timeout = 60s;
constexpr caf::timespan reconcile_timeout = 600s;

/// The telemetry writer is asked to flush again after this while the database fails.
constexpr caf::timespan flush_retry = 250ms;
/// With the process runtime, how often start-up tries the lease before it refuses: enough to
/// outwait a predecessor whose connection is still closing.
constexpr int process_lease_attempts = 10;

std::string log_dir_beside(const std::string& data_root) {
  // Logs live beside the slices' data directories, not in them: a slice's data directory
  // belongs to its customer and is emptied when the slice is recycled.
  std::filesystem::path root{data_root};
  if (!root.has_filename())
    root = root.parent_path();
  return (root.parent_path() / "logs").string();
}

/// `name` in the directory of the running slicegate binary (where a package installs the
/// dashboard beside it); just `name` if the binary cannot be found.
std::string beside_binary(const std::string& name) {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec)
    return name;
  return (exe.parent_path() / name).string();
}

/// Repeats `attempt` until it succeeds, backing off up to 10 s, unless a stop signal comes.
template <class Attempt>
bool until_done(const node::stop_wait& wait, const char* what, Attempt attempt) {
  auto delay = caf::timespan{500ms};
  for (;;) {
    auto err = attempt();
    if (!err)
      return true;
    spdlog::warn("node cannot {} yet: {}; retrying in {} ms", what, message_of(err),
                 std::chrono::duration_cast<std::chrono::milliseconds>(delay).count());
    if (wait(delay))
      return false;
    delay = std::min<caf::timespan>(delay * 2, 10s);
  }
}

} // namespace

node_config make_node_config(const settings& s) {
  node_config c;
  c.daemon.database_url = s.database_url;
  c.daemon.data_root = s.data_root;
  c.daemon.shutdown_grace = s.shutdown_grace;
  c.daemon.log_level = s.log_level;
  c.daemon.log_json = s.log_json;
  c.daemon.scheduler_threads = s.scheduler_threads;

  c.persistence.database_url = s.database_url;
  c.persistence_queue.limit = static_cast<size_t>(s.persistence_queue_limit);
  c.persistence_queue.max_wait = s.persistence_max_wait;
  c.persistence.statement_timeout = s.statement_timeout;
  c.persistence.lock_timeout = s.lock_timeout;
  c.persistence.idle_in_transaction_timeout = s.idle_in_transaction_timeout;
  c.persistence.keepalive_idle = s.tcp_keepalive;

  c.provisioner.database_url = s.database_url;
  c.provisioner.admin_database_url = s.admin_url();
  c.provisioner.template_database = s.template_database;
  c.provisioner.lock_timeout = s.provision_lock_timeout;
  c.provisioner.statement_timeout = s.provision_statement_timeout;
  c.provisioner.slice_connection_limit = s.slice_connection_limit;

  c.runtime.kind = s.runtime;
  c.runtime.slice_command = s.slice_command;
  c.runtime.log_dir = log_dir_beside(s.data_root);
  c.runtime.slice_host = s.slice_host;
  c.runtime.docker_socket = s.docker_socket;
  c.runtime.docker_image = s.docker_image;
  c.runtime.docker_network = s.docker_network;
  c.runtime.memory_limit = s.slice_memory_limit;
  c.runtime.cpu_limit = s.slice_cpu_limit;
  c.runtime.pids_limit = s.slice_pids_limit;
  c.runtime.cgroup_root = s.cgroup_root;
  c.runtime.stop_grace = s.stop_grace;

  c.bridge.nats_url = s.nats_url;
  c.bridge.credentials = s.nats;
  c.bridge.subject_prefix = s.subject_prefix;
  c.bridge.events_max_age = s.events_retention;
  c.bridge.max_in_flight = s.max_in_flight;
  c.bridge.service_name = s.service_name;
  c.bridge.request_timeout = s.request_timeout;
  c.bridge.max_payload = s.max_payload;
  c.bridge.event_ack_wait = s.event_ack_wait;
  c.bridge.event_batch = s.event_batch;

  c.http.listen = s.http_listen;
  c.http.root = s.http_root.empty() ? beside_binary("dashboard") : s.http_root;
  c.http.nats_ws_url = s.dashboard_nats_url;
  c.http.subject_prefix = s.subject_prefix;

  c.hasher.workers = static_cast<size_t>(std::max(0, s.bcrypt_workers));
  c.hasher.queue = static_cast<size_t>(std::max(0, s.bcrypt_queue));

  c.sessions.bcrypt_cost = s.bcrypt_cost;
  c.sessions.event_bcrypt_min_cost = s.event_bcrypt_min_cost;
  c.sessions.event_bcrypt_max_cost = s.event_bcrypt_max_cost;
  c.sessions.session_ttl = s.session_ttl;
  c.sessions.session_max_age = s.session_max_age;
  c.sessions.session_touch_interval = s.session_touch_interval;
  c.sessions.cache_size = static_cast<size_t>(std::max(s.session_cache_size, 1));
  c.sessions.login_max_failures = s.login_max_failures;
  c.sessions.login_failure_window = s.login_failure_window;
  c.sessions.trial_days = s.trial_days;
  c.sessions.request_timeout = s.request_timeout;

  c.slices.port_base = s.slice_port_base;
  c.slices.port_step = s.slice_port_step;
  c.slices.min_available = s.min_available;
  c.slices.max_slices = s.max_slices;
  c.slices.data_root = s.data_root;
  c.slices.slice_database_url = s.slice_url();
  c.slices.slice_logins = s.runtime != "external";
  c.slices.sweep_interval = s.sweep_interval;
  c.slices.past_due_grace = s.past_due_grace;
  c.slices.data_retention = s.data_retention;
  c.slices.runtime_timeout = s.stop_grace + runtime_margin;

  c.watchers.slice_host = s.slice_host;
  c.watchers.runtime_usage = s.runtime != "external";
  c.watchers.health_interval = s.health_interval;
  c.watchers.health_timeout = s.health_timeout;
  c.watchers.health_start_period = s.health_start_period;
  c.watchers.health_failures = s.health_failures;
  c.watchers.disk_interval = s.disk_interval;
  c.watchers.memory_alert_bytes = s.memory_alert_bytes;
  c.watchers.disk_alert_bytes = s.disk_alert_bytes;
  c.watchers.restart_timeout = s.stop_grace + runtime_margin;
  c.prober.max_running = static_cast<size_t>(std::max(1, s.probe_concurrency));

  c.monitor.data_root = s.data_root;
  c.monitor.interval = s.server_interval;

  c.retention.retention = s.retention;
  c.retention.interval = s.retention_interval;
  c.retention.session_max_age = s.session_max_age;
  c.retention.dead_letter_retention = s.dead_letter_retention;
  c.retention.wait_for_lease = true;
  c.monitor.wait_for_lease = true;
  c.slices.wait_for_lease = true;
  c.lease.interval = s.lease_interval;
  c.lease.shard_count = s.watch_shards;
  c.slices.watch_sync_interval = s.watch_sync_interval;
  c.lease.member_timeout = s.member_timeout;

  c.billing_timeout = s.request_timeout;
  return c;
}

struct node::impl {
  impl(caf::actor_system& sys, node_config cfg, escalation on_escalation)
    : sys(sys), cfg(std::move(cfg)), on_escalation(std::move(on_escalation)) {}

  caf::actor_system& sys;
  node_config cfg;
  escalation on_escalation;

  persistence_actor db;
  persistence_actor db_worker;
  lease_keeper_actor lease;
  provisioner_actor provisioner_handle;
  std::unique_ptr<nats_bridge> bridge;
  std::unique_ptr<web::http_server> http;
  runtime_actor runtime_handle;
  janitor_actor janitor_handle;
  prober_actor prober_handle;
  telemetry_writer_actor writer;
  server_monitor_actor monitor;
  retention_actor pruner;
  slice_manager_full_actor slices;
  hasher_full_actor hasher_handle;
  session_manager_actor sessions;
  billing_actor billing;
  supervisor_actor supervisor_handle;
  /// Every component in spawn order, with its policy; the supervisor gets the same list.
  std::vector<child_spec> children;
  bool started = false;
  bool stopped = false;

  template <class Handle>
  void supervise(std::string name, restart_policy policy, const Handle& h,
                 std::function<caf::actor()> respawn = {}) {
    children.push_back(
      {std::move(name), policy, caf::actor_cast<caf::actor>(h), std::move(respawn)});
  }

  int start(const stop_wait& wait);
  void stop();
  /// Sends each actor an exit and waits (up to `timeout`) until all of them are gone.
  void stop_actors(std::vector<caf::actor> actors, caf::timespan timeout);
  /// Writes what the telemetry writer holds, retrying until `deadline`.
  void flush_telemetry(caf::timestamp deadline);
};

int node::impl::start(const stop_wait& wait) {
  auto driver = make_runtime_driver(cfg.runtime);
  if (!driver) {
    spdlog::error("node cannot use runtime {}: {}", cfg.runtime.kind,
                  message_of(driver.error()));
    return 2;
  }
  started = true;

  // 1. Persistence: everything else reads and writes through it. Detached: it blocks on
  //    PostgreSQL. Policy: escalate (every component holds its handle; its state is the
  //    database itself, so a fresh daemon loses nothing).
  // Callers talk to the queue in front of the worker that owns the connection; the two are
  // linked, so either's end is persistence's.
  db_worker = sys.spawn<caf::detached>(persistence, cfg.persistence);
  db = caf::actor_cast<persistence_actor>(
    sys.spawn(request_queue, db_worker, cfg.persistence_queue, system_clock()));
  supervise("persistence", restart_policy::escalate, db);
  if (!until_done(wait, "migrate the gateway database", [&] {
        auto applied = ask<std::vector<int32_t>>(sys, db, migrate_timeout, db::migrate{});
        if (!applied)
          return applied.error();
        for (auto version : *applied)
          spdlog::info("persistence applied migration {}", version);
        return caf::error{};
      }))
    return 0;
  //    The provisioner: slice databases and roles, on connections of their own, so that
  //    CREATE DATABASE never waits in front of a login. Detached; escalate (the slice
  //    manager holds it; its state is the database).
  provisioner_handle = sys.spawn<caf::detached>(provisioner, cfg.provisioner);
  supervise("provisioner", restart_policy::escalate, provisioner_handle);
  if (!until_done(wait, "prepare the slice template database", [&] {
        auto created
          = ask<bool>(sys, provisioner_handle, migrate_timeout, db::ensure_template{});
        return created ? caf::error{} : created.error();
      }))
    return 0;

  // 2. The bridge connects early, so that the actors can publish events from their first
  //    message on; it serves requests and events only at the end. Policy: escalate (every
  //    publisher holds its handle).
  auto started_bridge = nats_bridge::start(sys, cfg.bridge);
  if (!started_bridge) {
    spdlog::error("node cannot start the NATS bridge: {}", message_of(started_bridge.error()));
    return 2;
  }
  bridge = std::move(*started_bridge);
  auto events = bridge->events();

  // 2b. The singleton lease, on a connection of its own: several instances may share the
  //     database, and only the holder reconciles, sweeps, keeps the floor, prunes and watches.
  //     The process runtime's slices are this daemon's children, which no other instance can
  //     stop or adopt: with it, an instance that cannot take the lease refuses to start.
  auto lease_cfg = cfg.lease;
  lease_cfg.database_url = cfg.persistence.database_url;
  lease_cfg.holder = bridge->service_id();
  lease = sys.spawn<caf::detached>(lease_keeper, lease_cfg);
  supervise("lease", restart_policy::escalate, lease);
  if (cfg.runtime.kind == "process") {
    optional<lease::state> now;
    for (int attempt = 0; attempt < process_lease_attempts && !(now && now->held); ++attempt) {
      if (attempt > 0)
        std::this_thread::sleep_for(cfg.lease.interval);
      if (auto x = ask<lease::state>(sys, lease, 5s, lease_atom_v))
        now = *x;
    }
    if (!now || !now->held) {
      spdlog::error("node refuses to start: another slicegate instance ({}) holds the lease on "
                    "this database, and the process runtime's slices can only be run by one "
                    "instance (use the docker or external runtime for several)",
                    now && !now->holder.empty() ? now->holder : "unknown");
      return 2;
    }
  }
  caf::anon_send(lease, caf::actor_cast<lease_listener_actor>(bridge->handle()));
  supervise("bridge", restart_policy::escalate, bridge->handle());

  // 3. The runtime and the janitor: detached, they block on processes, the Docker Engine and
  //    the file system. Policy: escalate (the slice manager and the watchers hold them); the
  //    slices themselves keep running and a fresh daemon adopts them.
  runtime_handle = sys.spawn<caf::detached>(
    runtime, std::shared_ptr<runtime_driver>{std::move(*driver)}, caf::timespan{1s});
  supervise("runtime", restart_policy::escalate, runtime_handle);
  janitor_handle = sys.spawn<caf::detached>(janitor, cfg.daemon.data_root);
  supervise("janitor", restart_policy::escalate, janitor_handle);

  // 4. Telemetry. The prober and the writer are shared by every watcher: escalate. The server
  //    monitor and retention are held by nobody and keep no state of their own: restart.
  prober_handle = sys.spawn(prober, cfg.prober);
  supervise("prober", restart_policy::escalate, prober_handle);
  writer = sys.spawn(telemetry_writer, db, cfg.writer);
  supervise("telemetry-writer", restart_policy::escalate, writer);
  auto spawn_monitor = [this, events] {
    server_monitor_peers peers{db, writer, events, system_clock()};
    auto m = sys.spawn<caf::detached>(server_monitor, cfg.monitor, peers);
    caf::anon_send(lease, caf::actor_cast<lease_listener_actor>(m));
    return m;
  };
  monitor = spawn_monitor();
  supervise("server-monitor", restart_policy::restart, monitor,
            [spawn_monitor] { return caf::actor_cast<caf::actor>(spawn_monitor()); });
  auto spawn_pruner = [this] {
    auto pruner = sys.spawn(retention, cfg.retention, db, system_clock());
    caf::anon_send(lease, caf::actor_cast<lease_listener_actor>(pruner));
    return pruner;
  };
  pruner = spawn_pruner();
  supervise("retention", restart_policy::restart, pruner,
            [spawn_pruner] { return caf::actor_cast<caf::actor>(spawn_pruner()); });

  // 5. The managers. The slice manager owns the watchers (linked; it respawns one that
  //    fails). Each is held by the others or by the bridge: escalate.
  auto pool_cfg = cfg.slices;
  pool_cfg.alert_log = writer;
  // One timer thread for every watcher's probe and walk ticks, rather than CAF's clock woken
  // for each (see `tick_schedule`). A tick may go out up to 1 % of the health interval late,
  // at most 100 ms: the probes due within it start together, one wake-up of the scheduler,
  // the prober and libcurl for several probes. At 10,000 slices and 60 s that is 17 probes
  // ten times a second instead of one every 6 ms, and it more than halved the daemon's CPU
  // per probe (bench/README.md, watch_10k).
  auto tick_resolution = std::clamp<caf::timespan>(cfg.watchers.health_interval / 100,
                                                   std::chrono::milliseconds{1},
                                                   std::chrono::milliseconds{100});
  slice_watcher_peers watcher_peers{prober_handle, runtime_handle, writer, events,
                                    system_clock(),
                                    std::make_shared<tick_schedule>(tick_resolution)};
  pool_cfg.watchers = spawn_watchers(sys, std::move(watcher_peers), cfg.watchers);
  slices = sys.spawn(slice_manager, std::move(pool_cfg), db, provisioner_handle, runtime_handle,
                     janitor_handle, events, system_clock());
  supervise("slices", restart_policy::escalate, slices);
  caf::anon_send(lease, caf::actor_cast<lease_listener_actor>(slices));
  hasher_handle = sys.spawn(hasher, cfg.hasher);
  supervise("hasher", restart_policy::escalate, hasher_handle);
  sessions = sys.spawn(session_manager, cfg.sessions, db, hasher_handle, slices,
                       caf::actor_cast<session_peers_actor>(bridge->handle()));
  supervise("sessions", restart_policy::escalate, sessions);
  billing = sys.spawn(billing_manager, db, slices, sessions, cfg.billing_timeout);
  supervise("billing", restart_policy::escalate, billing);

  // From here on a component that ends is noticed.
  // The request path's components, when down, are answered 503 by the bridge at once.
  auto watch = [bridge_actor = bridge->actor()](const std::string& name, bool up) {
    for (auto target : {bus::component::sessions, bus::component::slices,
                        bus::component::persistence, bus::component::billing})
      if (name == target)
        caf::anon_send(bridge_actor, bus::component_state{name, up});
  };
  supervisor_handle = sys.spawn(supervisor, children, on_escalation, watch);

  // 6. Reconcile before serving: finish interrupted wipes, start what should run.
  if (!until_done(wait, "reconcile the slice pool", [&] {
        auto finished = ask<int32_t>(sys, slices, reconcile_timeout, start_atom_v,
                                     caf::actor_cast<user_listener_actor>(sessions));
        if (finished && *finished > 0)
          spdlog::info("slice-manager finished {} interrupted wipes", *finished);
        return finished ? caf::error{} : finished.error();
      }))
    return 0;

  // 7. Serve: requests and events flow.
  if (auto err = bridge->serve(bridge_targets{sessions, slices, db, billing})) {
    spdlog::error("node cannot serve on NATS: {}", message_of(err));
    return 2;
  }
  spdlog::info("slicegate serves on {} as {} (runtime {})", redact_url(cfg.bridge.nats_url),
               bridge->service_id(), cfg.runtime.kind);

  // 8. The dashboard and /metrics, when asked for.
  if (!cfg.http.listen.empty()) {
    web::metrics_sources sources{bridge->handle(), db, hasher_handle, writer,
                                 cfg.bridge.service_version};
    auto metrics = [this, sources] {
      return web::collect_metrics(sys, sources, std::chrono::seconds{2});
    };
    auto server = web::http_server::start(cfg.http, metrics);
    if (!server) {
      spdlog::error("node cannot serve HTTP: {}", message_of(server.error()));
      return 2;
    }
    http = std::move(*server);
  }
  return 0;
}

void node::impl::stop_actors(std::vector<caf::actor> actors, caf::timespan timeout) {
  caf::scoped_actor self{sys};
  size_t waiting = 0;
  for (auto& a : actors) {
    if (!a)
      continue;
    self->monitor(a);
    self->send_exit(a, caf::exit_reason::user_shutdown);
    ++waiting;
  }
  bool late = false;
  while (waiting > 0 && !late)
    self->receive([&](caf::down_msg&) { --waiting; },
                  caf::after(timeout) >> [&] { late = true; });
  if (late)
    spdlog::warn("node stops while {} components are still ending", waiting);
}

void node::impl::flush_telemetry(caf::timestamp deadline) {
  if (!writer)
    return;
  for (;;) {
    auto left = deadline - caf::make_timestamp();
    if (left <= caf::timespan{0})
      break;
    auto stats = ask<telemetry::writer_stats>(sys, writer, left, flush_atom_v);
    if (stats && stats->samples_buffered == 0 && stats->slice_rows_buffered == 0)
      return;
    std::this_thread::sleep_for(std::min<caf::timespan>(flush_retry, left));
  }
  auto stats = ask<telemetry::writer_stats>(sys, writer, 1s, stats_atom_v);
  if (stats)
    spdlog::warn("node stops with {} telemetry samples unwritten: the database does not "
                 "answer",
                 stats->samples_buffered);
}

void node::impl::stop() {
  if (stopped)
    return;
  stopped = true;
  if (!started)
    return;
  auto begin = caf::make_timestamp();
  auto deadline = begin + cfg.daemon.shutdown_grace;
  auto left = [&] {
    return std::max<caf::timespan>(deadline - caf::make_timestamp(), 100ms);
  };
  // Exits from here on are the shutdown's own.
  if (supervisor_handle)
    ask<bool>(sys, supervisor_handle, 1s, drain_atom_v);
  // 1. No new requests or events; those in flight are answered, the events at hand
  //    acknowledged once committed. The HTTP listener first: its scrapes ask the others.
  if (http)
    http->stop();
  if (bridge)
    bridge->drain(left());
  // 2. Nothing new can arrive: the managers go, the slice manager with its watchers, and
  //    the periodic producers of telemetry.
  stop_actors({caf::actor_cast<caf::actor>(billing), caf::actor_cast<caf::actor>(sessions),
               caf::actor_cast<caf::actor>(hasher_handle), caf::actor_cast<caf::actor>(slices)},
              left());
  std::vector<caf::actor> producers{caf::actor_cast<caf::actor>(prober_handle)};
  for (auto name : {"server-monitor", "retention"})
    if (supervisor_handle)
      if (auto h = ask<caf::actor>(sys, supervisor_handle, 1s, lookup_atom_v, std::string{name}))
        producers.push_back(*h);
  stop_actors(producers, left());
  // The lease goes back as soon as nothing here does the pool's own work, so that a standby
  // takes over within its lease interval. The process runtime's slices are stopped first,
  // below: the next holder may start them again on the same ports.
  auto release_lease = [&] {
    stop_actors({caf::actor_cast<caf::actor>(lease)}, left());
    lease = nullptr;
  };
  if (cfg.runtime.kind != "process")
    release_lease();
  // 3. What the telemetry writer holds is written while the grace lasts.
  flush_telemetry(deadline);
  // 4. The runtime and the janitor, then the writer, then persistence, last. Docker and
  //    external slices keep running and the next daemon adopts them; the process runtime's
  //    slices are the daemon's own children and stop with it.
  stop_actors({caf::actor_cast<caf::actor>(runtime_handle),
               caf::actor_cast<caf::actor>(janitor_handle), caf::actor_cast<caf::actor>(writer)},
              left());
  if (lease)
    release_lease();
  stop_actors({caf::actor_cast<caf::actor>(db), caf::actor_cast<caf::actor>(db_worker),
               caf::actor_cast<caf::actor>(provisioner_handle)},
              left());
  stop_actors({caf::actor_cast<caf::actor>(supervisor_handle)}, 1s);
  bridge.reset();
  spdlog::info("node stopped in {} ms",
               std::chrono::duration_cast<std::chrono::milliseconds>(caf::make_timestamp()
                                                                     - begin)
                 .count());
}

node::node(caf::actor_system& sys, node_config cfg, escalation on_escalation)
  : impl_(std::make_unique<impl>(sys, std::move(cfg), std::move(on_escalation))) {
  // Nothing runs before start().
}

node::~node() {
  impl_->stop();
}

int node::start(const stop_wait& wait) {
  return impl_->start(wait);
}

void node::stop() {
  impl_->stop();
}

caf::actor node::component(const std::string& name) const {
  auto& d = *impl_;
  if (!d.supervisor_handle)
    return {};
  auto found = ask<caf::actor>(d.sys, d.supervisor_handle, std::chrono::seconds{5},
                               lookup_atom_v, name);
  return found ? *found : caf::actor{};
}

std::vector<std::string> node::components() const {
  std::vector<std::string> result;
  for (auto& c : impl_->children)
    result.push_back(c.name);
  return result;
}

std::string node::service_id() const {
  return impl_->bridge ? impl_->bridge->service_id() : std::string{};
}

} // namespace slicegate
