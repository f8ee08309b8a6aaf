#include "app/daemon.hpp"

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
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
#include "app/ask.hpp"
#include "common/duration.hpp"
#include "app/node.hpp"
#include "bridge/bridge.hpp"
#include "common/database_url.hpp"
#include "messages/error.hpp"
#include "messages/register.hpp"
#include "persistence/migrator.hpp"
#include "persistence/persistence.hpp"
#include "runtime/driver.hpp"

namespace slicegate {

using namespace std::chrono_literals;

namespace {

/// Exit code after a component the daemon cannot do without has ended (EX_SOFTWARE).
constexpr int exit_component_failed = 70;

/// SIGINT, SIGTERM and SIGUSR1 (the supervisor's escalation) are blocked in every thread and
/// taken with sigtimedwait by the main thread, so no actor or library thread is ever
/// interrupted by them.
sigset_t block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

/// Waits up to `timeout` for a stop signal; returns whether one arrived.
bool stop_signal(const sigset_t& set, std::chrono::milliseconds timeout) {
  timespec ts{static_cast<time_t>(timeout.count() / 1000),
              static_cast<long>((timeout.count() % 1000) * 1'000'000)};
  auto sig = sigtimedwait(&set, nullptr, &ts);
  if (sig == SIGTERM || sig == SIGINT)
    spdlog::info("slicegate received {}, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  return sig > 0;
}

struct system_config : caf::actor_system_config {
  explicit system_config(const settings& s) {
    register_types(*this);
    if (s.scheduler_threads > 0)
      set("scheduler.max-threads", static_cast<size_t>(s.scheduler_threads));
    // An idle worker spins, then by default polls every 50 us for 500 rounds, then sleeps on
    // a condition variable that a new job wakes. The polling phase is pure cost here: each
    // poll is a sleep and a context switch, and a request every few hundred microseconds (the
    // resolve path under load) or a login every 100 ms keeps every worker in it, taking the
    // cores from nats-server, bcrypt and the workers that have jobs. Measured with
    // `scripts/bench.sh session_resolve` on two cores: 0.54 of the echo's throughput with 20
    // polling rounds, 0.61-0.69 with none. A sleeping worker is woken by the next job anyway.
    set("work-stealing.moderate-poll-attempts", size_t{0});
    // The daemon's own settings are parsed by CLI11; CAF must not read ./caf-application.ini.
    set("logger.verbosity", caf::atom("quiet"));
  }
};

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
  // A credentials mistake stops the start here, before the database is touched.
  if (auto problem = check_credentials(make_node_config(cfg).bridge); !problem.empty()) {
    spdlog::error("{}", problem);
    return 2;
  }
  // Slices run here get the slice database URL: never the gateway's own role, which owns
  // every user, password hash, session and payment.
  if (cfg.runtime == "process" || cfg.runtime == "docker") {
    if (cfg.slice_database_url.empty()) {
      spdlog::error("slice-database-url is not set: the {} runtime hands it to every slice, "
                    "with the slice's own role and database. Set it "
                    "(SLICEGATE_SLICE_DATABASE_URL) to where slices reach PostgreSQL, e.g. "
                    "postgresql://wa_slice@host:5432/postgres",
                    cfg.runtime);
      return 2;
    }
    if (role_of(cfg.slice_database_url) == role_of(cfg.database_url)) {
      spdlog::error("slice-database-url logs in as '{}', the gateway's own role: every slice "
                    "would hold the keys to every user and session. Give the slices their "
                    "own role (wa_slice)",
                    role_of(cfg.database_url));
      return 2;
    }
  }
  if (cfg.event_bcrypt_min_cost > cfg.event_bcrypt_max_cost) {
    spdlog::error("signup-event-min-cost {} is above signup-event-max-cost {}: no signup event "
                  "could be accepted",
                  cfg.event_bcrypt_min_cost, cfg.event_bcrypt_max_cost);
    return 2;
  }
  if (cfg.member_timeout < 2 * cfg.lease_interval) {
    spdlog::error("member-timeout {} is under two lease intervals ({}): a live instance would "
                  "be taken for dead between two of its beats",
                  render_duration(cfg.member_timeout), render_duration(cfg.lease_interval));
    return 2;
  }
  auto signals = block_stop_signals();
  if (cfg.bcrypt_cost < 12)
    spdlog::warn("bcrypt-cost {} is below 12: acceptable for tests only", cfg.bcrypt_cost);
  system_config sys_cfg{cfg};
  caf::actor_system sys{sys_cfg};
  // A component the daemon cannot do without has ended: the supervisor says so from its
  // thread, and the main thread, which waits for signals, takes SIGUSR1 as the order to stop
  // with a non-zero exit, so that the service manager starts a fresh daemon.
  std::atomic<bool> escalated{false};
  node n{sys, make_node_config(cfg), [&escalated](const std::string&) {
           escalated = true;
           kill(getpid(), SIGUSR1);
         }};
  auto wait = [&signals](caf::timespan timeout) {
    return stop_signal(signals, std::chrono::duration_cast<std::chrono::milliseconds>(timeout));
  };
  auto code = n.start(wait);
  if (code == 0 && !escalated)
    while (!wait(std::chrono::hours{1}))
      ; // The main thread only waits for a signal.
  n.stop();
  sys.await_all_actors_done();
  close_nats_library(2s);
  if (escalated) {
    spdlog::error("slicegate stopped after a component failed");
    code = exit_component_failed;
  } else {
    spdlog::info("slicegate stopped");
  }
  // nats.c 3.4 frees OpenSSL's compression methods when it closes without forgetting them
  // (nats-io/nats.c#904, fixed in 3.11), and OpenSSL's own clean-up at exit frees them again:
  // the daemon crashed on its way out after a TLS session. Everything has stopped by now, so
  // it leaves without the exit handlers, once the logs are out.
  if (cfg.nats.wants_tls() || cfg.nats_url.find("tls://") != std::string::npos) {
    spdlog::shutdown();
    std::fflush(nullptr);
    std::_Exit(code);
  }
  return code;
}

namespace {

/// `t` to the second, in UTC, for people reading the console.
std::string utc_text(caf::timestamp t) {
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
  auto tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

} // namespace

int run_create_admin(const settings& cfg, const std::string& email, bool password_from_stdin,
                     bool reset_password) {
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
  auto db = sys.spawn<caf::detached>(persistence, make_node_config(cfg).persistence);
  auto done = [&](int code) {
    caf::anon_send_exit(db, caf::exit_reason::user_shutdown);
    return code;
  };
  if (auto applied = ask<std::vector<int32_t>>(sys, db, 60s, db::migrate{}); !applied) {
    spdlog::error("create-admin cannot migrate: {}", message_of(applied.error()));
    return done(1);
  }
  // Signup verifies no e-mail: whoever registered the address first owns the account. It is
  // made admin only by whoever knows its password, or, with --reset-password, after its
  // password is replaced and every session of it ended, with its history shown.
  auto existing = ask<credentials>(sys, db, 30s, db::find_credentials{*normalized});
  if (!existing && code_of(existing.error()) != ec::not_found) {
    spdlog::error("create-admin failed: {}", message_of(existing.error()));
    return done(1);
  }
  if (existing) {
    auto& user = existing->user;
    if (!bcrypt_verify(password, existing->password_hash)) {
      if (!reset_password) {
        spdlog::error("create-admin: an account with this e-mail exists (user {}, created {}) "
                      "and the password given is not its password; nothing changed. Give its "
                      "password, or take the account over with --reset-password",
                      user.id, utc_text(user.created_at));
        return done(1);
      }
      auto hash = bcrypt_hash(password, cfg.bcrypt_cost);
      if (!hash) {
        spdlog::error("create-admin cannot hash the password");
        return done(1);
      }
      // An empty session to keep: every session of the account ends.
      auto revoked
        = ask<std::vector<std::string>>(sys, db, 30s, db::set_password{user.id, *hash, ""});
      if (!revoked) {
        spdlog::error("create-admin cannot reset the password: {}",
                      message_of(revoked.error()));
        return done(1);
      }
      std::cout << "create-admin: took over user " << user.id << " (" << user.email
                << "): created " << utc_text(user.created_at) << ", last login "
                << (user.last_login_at ? utc_text(*user.last_login_at) : "never") << "; "
                << revoked->size()
                << " sessions ended, password replaced (a running slicegate forgets its "
                   "cached copies of them within its cache refresh, 5 minutes; `slicectl users "
                   "revoke-sessions "
                << user.id << "` ends them at once)\n";
    }
    auto promoted = ask<user_record>(sys, db, 30s, db::set_admin{user.id, "", true});
    if (!promoted) {
      spdlog::error("create-admin failed: {}", message_of(promoted.error()));
      return done(1);
    }
    spdlog::info("create-admin made user {} ({}) an admin", promoted->id, promoted->email);
    return done(0);
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
