#include "app/daemon.hpp"

#include <csignal>
#include <ctime>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/actors.hpp"
#include "messages/error.hpp"
#include "messages/register.hpp"
#include "persistence/migrator.hpp"
#include "persistence/persistence.hpp"

namespace slicegate {

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
      set("scheduler.max-threads", s.scheduler_threads);
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

/// Asks `dest` and waits for the answer on the calling (non-actor) thread.
template <class Result, class Handle, class Request>
caf::expected<Result> ask(caf::actor_system& sys, const Handle& dest, Request request,
                          caf::timespan timeout) {
  caf::expected<Result> result{caf::sec::request_timeout};
  caf::scoped_actor self{sys};
  self->request(dest, timeout, std::move(request))
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
  system_config sys_cfg{cfg};
  caf::actor_system sys{sys_cfg};
  auto db = sys.spawn<caf::detached>(persistence, persistence_settings(cfg));
  auto stopped = [&] {
    caf::anon_send_exit(db, caf::exit_reason::user_shutdown);
    sys.await_all_actors_done();
    return 0;
  };
  if (!until_done(signals, "migrate the gateway database", [&] {
        auto applied = ask<std::vector<int32_t>>(sys, db, db::migrate{}, std::chrono::seconds{60});
        if (!applied)
          return applied.error();
        for (auto version : *applied)
          spdlog::info("persistence applied migration {}", version);
        return caf::error{};
      }))
    return stopped();
  spdlog::info("slicegate serves (database ready)");
  while (!stop_signal(signals, std::chrono::seconds{3600}))
    ; // Nothing else to do on this thread.
  return stopped();
}

int run_create_admin(const settings& cfg, const std::string& email, bool password_from_stdin) {
  spdlog::error("create-admin is not available in this build");
  return 1;
}

} // namespace slicegate
