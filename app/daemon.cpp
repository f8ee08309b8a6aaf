#include "app/daemon.hpp"

#include <csignal>
#include <ctime>
#include <iostream>
#include <termios.h>
#include <unistd.h>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/actors.hpp"
#include "actors/billing.hpp"
#include "actors/credentials_rules.hpp"
#include "actors/hasher.hpp"
#include "actors/janitor.hpp"
#include "actors/runtime.hpp"
#include "actors/session_manager.hpp"
#include "actors/slice_manager.hpp"
#include "app/telemetry.hpp"
#include "bridge/bridge.hpp"
#include "messages/error.hpp"
#include "messages/register.hpp"
#include "persistence/migrator.hpp"
#include "persistence/persistence.hpp"
#include "runtime/driver.hpp"

namespace slicegate {

using namespace std::chrono_literals;

namespace {

/// SIGINT and SIGTERM are blocked in every thread and taken with sigtimedwait by the main
/// thread, so no actor or library thread is ever interrupted by them.
sigset_t block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

/// Waits up to `timeout` for a stop signal; returns whether one arrived.
bool stop_signal(const sigset_t& set, std::chrono::milliseconds timeout) {
  timespec ts{static_cast<time_t>(timeout.count() / 1000),
              static_cast<long>((timeout.count() % 1000) * 1'000'000)};
  auto sig = sigtimedwait(&set, nullptr, &ts);
  if (sig > 0)
    spdlog::info("slicegate received {}, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  return sig > 0;
}

struct system_config : caf::actor_system_config {
  explicit system_config(const settings& s) {
    register_types(*this);
    if (s.scheduler_threads > 0)
      set("scheduler.max-threads", static_cast<size_t>(s.scheduler_threads));
    // An idle worker spins, then polls every 50 us for 500 rounds, then sleeps on a condition
    // variable that a new job wakes. Traffic that comes in trickles (a login every 100 ms)
    // keeps the workers in the polling phase, where they take a core's tenth from bcrypt;
    // a short polling phase costs nothing, since the sleeping worker is woken anyway.
    set("work-stealing.moderate-poll-attempts", size_t{20});
    // The daemon's own settings are parsed by CLI11; CAF must not read ./caf-application.ini.
    set("logger.verbosity", caf::atom("quiet"));
  }
};

persistence_config persistence_settings(const settings& s) {
  persistence_config result;
  result.database_url = s.database_url;
  result.admin_database_url = s.admin_url();
  result.template_database = s.template_database;
  return result;
}

bridge_config make_bridge_config(const settings& s) {
  bridge_config result;
  result.nats_url = s.nats_url;
  result.subject_prefix = s.subject_prefix;
  result.service_name = s.service_name;
  result.request_timeout = s.request_timeout;
  result.max_payload = s.max_payload;
  result.event_ack_wait = s.event_ack_wait;
  return result;
}

/// Reads a line from the terminal without echoing it.
std::string read_secret(const std::string& prompt) {
  std::cerr << prompt << std::flush;
  termios old_mode{};
  tcgetattr(STDIN_FILENO, &old_mode);
  auto quiet = old_mode;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  std::string line;
  std::getline(std::cin, line);
  tcsetattr(STDIN_FILENO, TCSANOW, &old_mode);
  std::cerr << '\n';
  return line;
}

/// Asks `dest` and waits for the answer on the calling (non-actor) thread.
template <class Result, class Handle, class... Request>
caf::expected<Result> ask(caf::actor_system& sys, const Handle& dest, caf::timespan timeout,
                          Request... request) {
  caf::expected<Result> result{caf::sec::request_timeout};
  caf::scoped_actor self{sys};
  self->request(dest, timeout, std::move(request)...)
    .receive([&](Result& x) { result = std::move(x); },
             [&](caf::error& err) { result = std::move(err); });
  return result;
}

/// Repeats `attempt` until it succeeds, backing off up to 10 s, unless a stop signal comes.
template <class Attempt>
bool until_done(const sigset_t& signals, const char* what, Attempt attempt) {
  auto delay = std::chrono::milliseconds{500};
  for (;;) {
    auto err = attempt();
    if (!err)
      return true;
    spdlog::warn("slicegate cannot {} yet: {}; retrying in {} ms", what, message_of(err),
                 delay.count());
    if (stop_signal(signals, delay))
      return false;
    delay = std::min(delay * 2, std::chrono::milliseconds{10'000});
  }
}

} // namespace

int run_migrate(const settings& cfg) {
  try {
    auto applied = run_migrations(cfg.database_url);
    if (applied.empty())
      spdlog::info("slicegate migrate: schema is up to date");
    for (auto version : applied)
      spdlog::info("slicegate migrate applied migration {}", version);
    return 0;
  } catch (const std::exception& e) {
    spdlog::error("slicegate migrate failed: {}", e.what());
    return 1;
  }
}

int run_serve(const settings& cfg) {
  auto signals = block_stop_signals();
  if (cfg.bcrypt_cost < 12)
    spdlog::warn("bcrypt-cost {} is below 12: acceptable for tests only", cfg.bcrypt_cost);
  auto driver = make_runtime_driver(make_runtime_config(cfg));
  if (!driver) {
    spdlog::error("slicegate cannot use runtime {}: {}", cfg.runtime,
                  message_of(driver.error()));
    return 2;
  }
  system_config sys_cfg{cfg};
  caf::actor_system sys{sys_cfg};
  auto db = sys.spawn<caf::detached>(persistence, persistence_settings(cfg));
  std::vector<caf::actor> actors{caf::actor_cast<caf::actor>(db)};
  auto stopped = [&](int code) {
    for (auto& a : actors)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    sys.await_all_actors_done();
    return code;
  };
  if (!until_done(signals, "migrate the gateway database", [&] {
        auto applied = ask<std::vector<int32_t>>(sys, db, 60s, db::migrate{});
        if (!applied)
          return applied.error();
        for (auto version : *applied)
          spdlog::info("persistence applied migration {}", version);
        return caf::error{};
      }))
    return stopped(0);
  if (!until_done(signals, "prepare the slice template database", [&] {
        auto created = ask<bool>(sys, db, 60s, db::ensure_template{});
        return created ? caf::error{} : created.error();
      }))
    return stopped(0);

  // The bridge comes first so that events can flow as soon as the actors start.
  auto bridge = nats_bridge::start(sys, make_bridge_config(cfg));
  if (!bridge) {
    spdlog::error("slicegate cannot start the NATS bridge: {}", message_of(bridge.error()));
    return stopped(2);
  }
  auto events = (*bridge)->events();

  auto runtime_actor_handle = sys.spawn<caf::detached>(
    runtime, std::shared_ptr<runtime_driver>{std::move(*driver)}, caf::timespan{1s});
  auto janitor_handle = sys.spawn<caf::detached>(janitor, cfg.data_root);
  auto telemetry = spawn_telemetry(sys, cfg, db, events, actors);
  auto pool_cfg = make_slice_manager_config(cfg);
  pool_cfg.watchers
    = spawn_watchers(sys, watcher_peers(telemetry, runtime_actor_handle, events),
                     make_slice_watcher_config(cfg));
  auto slices = sys.spawn(slice_manager, std::move(pool_cfg), db, runtime_actor_handle,
                          janitor_handle, events, system_clock());
  auto hasher_handle = sys.spawn(hasher, make_hasher_config(cfg));
  auto sessions
    = sys.spawn(session_manager, make_session_config(cfg), db, hasher_handle, slices);
  auto billing = sys.spawn(billing_manager, db, slices, sessions, cfg.request_timeout);
  for (caf::actor a :
       {caf::actor_cast<caf::actor>(runtime_actor_handle),
        caf::actor_cast<caf::actor>(janitor_handle), caf::actor_cast<caf::actor>(slices),
        caf::actor_cast<caf::actor>(hasher_handle), caf::actor_cast<caf::actor>(sessions),
        caf::actor_cast<caf::actor>(billing)})
    actors.push_back(a);

  // Reconcile before serving: finish interrupted wipes, start what should run.
  if (!until_done(signals, "reconcile the slice pool", [&] {
        auto finished = ask<int32_t>(sys, slices, 600s, start_atom_v,
                                     caf::actor_cast<user_listener_actor>(sessions));
        if (finished && *finished > 0)
          spdlog::info("slice-manager finished {} interrupted wipes", *finished);
        return finished ? caf::error{} : finished.error();
      }))
    return stopped(0);
  if (auto err = (*bridge)->serve(bridge_targets{sessions, slices, db, billing})) {
    spdlog::error("slicegate cannot serve on NATS: {}", message_of(err));
    (*bridge)->drain(2s);
    return stopped(2);
  }
  spdlog::info("slicegate serves on {} as {} (runtime {})", cfg.nats_url,
               (*bridge)->service_id(), cfg.runtime);
  while (!stop_signal(signals, 3600s))
    ; // The main thread only waits for the stop signal.
  // Stop taking work first, so that in-flight requests finish against live actors.
  (*bridge)->drain(5s);
  auto code = stopped(0);
  bridge->reset();
  close_nats_library(2s);
  spdlog::info("slicegate stopped");
  return code;
}

int run_create_admin(const settings& cfg, const std::string& email, bool password_from_stdin) {
  auto normalized = normalize_email(email);
  if (!normalized) {
    spdlog::error("create-admin: {}", message_of(normalized.error()));
    return 2;
  }
  std::string password;
  if (password_from_stdin || !isatty(STDIN_FILENO)) {
    std::getline(std::cin, password);
  } else {
    password = read_secret("Password for " + *normalized + ": ");
    if (read_secret("Repeat it: ") != password) {
      spdlog::error("create-admin: the passwords differ");
      return 2;
    }
  }
  if (auto err = check_new_password(password)) {
    spdlog::error("create-admin: {}", message_of(err));
    return 2;
  }
  system_config sys_cfg{cfg};
  caf::actor_system sys{sys_cfg};
  auto db = sys.spawn<caf::detached>(persistence, persistence_settings(cfg));
  auto done = [&](int code) {
    caf::anon_send_exit(db, caf::exit_reason::user_shutdown);
    return code;
  };
  if (auto applied = ask<std::vector<int32_t>>(sys, db, 60s, db::migrate{}); !applied) {
    spdlog::error("create-admin cannot migrate: {}", message_of(applied.error()));
    return done(1);
  }
  // An existing account is promoted; its password stays as it is.
  auto promoted = ask<user_record>(sys, db, 30s, db::set_admin{0, *normalized, true});
  if (promoted) {
    spdlog::info("create-admin made user {} ({}) an admin", promoted->id, promoted->email);
    return done(0);
  }
  if (code_of(promoted.error()) != ec::not_found) {
    spdlog::error("create-admin failed: {}", message_of(promoted.error()));
    return done(1);
  }
  auto hash = bcrypt_hash(password, cfg.bcrypt_cost);
  if (!hash) {
    spdlog::error("create-admin cannot hash the password");
    return done(1);
  }
  db::create_user request;
  request.email = *normalized;
  request.password_hash = std::move(*hash);
  request.subscription_status = subscription::active;
  request.is_admin = true;
  auto created = ask<db::user_created>(sys, db, 30s, std::move(request));
  if (!created) {
    spdlog::error("create-admin failed: {}", message_of(created.error()));
    return done(1);
  }
  spdlog::info("create-admin created admin user {} ({})", created->user.id,
               created->user.email);
  return done(0);
}

} // namespace slicegate
