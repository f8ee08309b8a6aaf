// What provisioning costs beyond the CREATE DATABASE it cannot avoid. In one run, alternating
// for BENCH_ROUNDS rounds:
//   slicegate  BENCH_SLICES slices through the slice manager (`pool::create_slices`): each is
//              inserted as `destroying`, then wiped into `available` (runtime remove, DROP
//              DATABASE IF EXISTS, the slice's role, CREATE DATABASE … TEMPLATE … OWNER that
//              role, its objects handed to it, empty data directory, a fresh password, runtime
//              start, status), timed until the last of them is no longer `destroying`
//              (the reply comes once the rows exist; the slice list is polled after it);
//   bare       as many `CREATE DATABASE … TEMPLATE … OWNER wa_slice` statements, one after
//              the other on a connection of their own: the floor.
// The runtime is `external` (starting a slice is someone else's business), so the comparison
// is between slicegate's bookkeeping and PostgreSQL's copying of the template. Whatever a
// round made is dropped before the next.
//
// Environment: DATABASE_URL, ADMIN_DATABASE_URL and SUPERUSER_DATABASE_URL (scripts/bench.sh
// sets them; without them the binary starts its own servers), BENCH_SLICES (100),
// BENCH_ROUNDS (3), BENCH_WARMUP (10).
// Prints one line per target and round, then `ratio: <bare seconds / slicegate seconds>`,
// the median of the rounds' ratios.
//
// Both targets first make BENCH_WARMUP (10) databases that are not counted: right after
// start-up, CREATE DATABASE waits for the session that brought the template up to date to
// end, and for autovacuum's first visits of the new template, neither of which is a cost of
// provisioning. Dropping a round's databases forces checkpoints whose writes would
// slow the next round down, so each target starts after a CHECKPOINT (when
// SUPERUSER_DATABASE_URL allows one), and the targets alternate which goes first.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <caf/all.hpp>
#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

#include "actors/actors.hpp"
#include "actors/janitor.hpp"
#include "actors/runtime.hpp"
#include "actors/slice_manager.hpp"
#include "bench/database.hpp"
#include "bench/request_load.hpp"
#include "common/database_url.hpp"
#include "messages/register.hpp"
#include "persistence/persistence.hpp"
#include "persistence/provisioner.hpp"
#include "runtime/external_driver.hpp"
#include "tests/support/servers.hpp"
#include "tests/support/temp_dir.hpp"

using namespace slicegate;
using namespace std::chrono_literals;

namespace {

/// Publishes nothing: the benchmark measures provisioning, not the bus.
pool_event_sink_actor::behavior_type quiet_sink(pool_event_sink_actor::pointer) {
  return {
    [](const events::slice_status_changed&) {},
    [](const events::user_slice_changed&) {},
    [](const events::slice_alert&) {},
  };
}

template <class T, class Handle, class... Ts>
T must(caf::actor_system& sys, const Handle& dest, Ts... xs) {
  std::optional<T> result;
  caf::scoped_actor self{sys};
  self->request(dest, 30min, std::move(xs)...)
    .receive([&](T& x) { result = std::move(x); },
             [&](caf::error& err) {
               throw std::runtime_error("request failed: " + caf::to_string(err));
             });
  return std::move(*result);
}

std::vector<std::string> databases_like(pqxx::connection& admin, const std::string& pattern) {
  pqxx::nontransaction tx{admin};
  std::vector<std::string> result;
  for (const auto& row :
       tx.exec("SELECT datname FROM pg_database WHERE datname ~ " + tx.quote(pattern)))
    result.push_back(row[0].as<std::string>());
  return result;
}

void drop_databases(pqxx::connection& admin, const std::vector<std::string>& names) {
  pqxx::nontransaction tx{admin};
  for (auto& name : names)
    tx.exec("DROP DATABASE IF EXISTS " + tx.quote_name(name) + " WITH (FORCE)");
}

/// Forgets the slices of a round: their databases, then their rows.
void clear_slices(pqxx::connection& admin, pqxx::connection& gateway) {
  drop_databases(admin, databases_like(admin, "^wa_slice_[0-9]+$"));
  pqxx::work tx{gateway};
  tx.exec0("UPDATE gateway.users SET slice_id = NULL");
  tx.exec0("DELETE FROM gateway.slices");
  tx.commit();
}

/// How often the slicegate target looks whether its wipes have ended: small against the
/// seconds a round takes.
constexpr auto wipe_poll_interval = std::chrono::milliseconds{10};
/// A wipe that failed stays `destroying` until a sweep retries it: give up on the round.
constexpr auto wipe_patience = std::chrono::minutes{10};

double through_slicegate(caf::actor_system& sys, const slice_manager_full_actor& mgr,
                         pqxx::connection& gateway, int n) {
  auto start = bench::clock::now();
  auto created = must<std::vector<slice_record>>(sys, mgr, pool::create_slices{n, {}});
  // Every slice in the pool is this round's (the previous round's were cleared). Looked at on
  // a connection of its own: asking the slice manager would queue behind the wipes' requests.
  for (;;) {
    pqxx::nontransaction tx{gateway};
    auto waiting = tx.exec1("SELECT count(*) FROM gateway.slices WHERE status = 'destroying'")[0]
                     .as<int64_t>();
    if (waiting == 0)
      break;
    if (bench::clock::now() - start > wipe_patience)
      throw std::runtime_error(std::to_string(waiting) + " slices still destroying");
    std::this_thread::sleep_for(wipe_poll_interval);
  }
  auto seconds = std::chrono::duration<double>(bench::clock::now() - start).count();
  auto slices = must<std::vector<slice_record>>(sys, mgr, pool::list_slices{});
  if (slices.size() != created.size())
    throw std::runtime_error("the pool holds " + std::to_string(slices.size())
                             + " slices, not the " + std::to_string(created.size()) + " made");
  for (auto& s : slices)
    if (s.status != slice_status::available)
      throw std::runtime_error("slice " + std::to_string(s.id) + " ended "
                               + to_string(s.status));
  return seconds;
}

double bare(pqxx::connection& admin, const std::string& template_name, int n) {
  std::vector<std::string> names;
  for (int i = 1; i <= n; ++i)
    names.push_back("bench_bare_" + std::to_string(i));
  auto start = bench::clock::now();
  {
    pqxx::nontransaction tx{admin};
    for (auto& name : names)
      tx.exec("CREATE DATABASE " + tx.quote_name(name) + " TEMPLATE "
              + tx.quote_name(template_name) + " OWNER wa_slice");
  }
  auto seconds = std::chrono::duration<double>(bench::clock::now() - start).count();
  drop_databases(admin, names);
  return seconds;
}

} // namespace

int main() {
  auto n = bench::env_int("BENCH_SLICES", 100);
  auto rounds = bench::env_int("BENCH_ROUNDS", 3);
  spdlog::set_level(spdlog::level::warn);
  bench::target_database target;
  test::temp_dir data;
  bench::actor_config cfg;
  caf::actor_system sys{cfg};
  persistence_config dc;
  dc.database_url = target.url;
  auto db = sys.spawn<caf::detached>(persistence, dc);
  provisioner_config pc;
  pc.database_url = target.url;
  pc.admin_database_url = target.admin_url;
  auto provisioner_handle = sys.spawn<caf::detached>(provisioner, pc);
  bench::migrate(sys, db);
  auto runtime = sys.spawn<caf::detached>(
    slicegate::runtime, std::make_shared<external_driver>(), caf::timespan{1s});
  auto sweeper = sys.spawn<caf::detached>(janitor, data / "slices");
  auto sink = sys.spawn(quiet_sink);
  slice_manager_config config;
  config.data_root = data / "slices";
  config.slice_database_url = target.url;
  config.sweep_interval = 1h;
  config.request_timeout = 10min;
  auto mgr = sys.spawn(slice_manager, config, pool_store_actor{db}, provisioner_handle, runtime,
                       sweeper, sink, system_clock());
  // Start-up creates the template; nobody listens for user changes here.
  must<int32_t>(sys, mgr, start_atom_v, user_listener_actor{});
  pqxx::connection admin{target.admin_url};
  pqxx::connection gateway{target.url};
  clear_slices(admin, gateway);
  auto warmup = bench::env_int("BENCH_WARMUP", 10);
  through_slicegate(sys, mgr, gateway, warmup);
  clear_slices(admin, gateway);
  bare(admin, pc.template_database, warmup);
  double slicegate_seconds = 0;
  double bare_seconds = 0;
  double round_slicegate = 0;
  double round_bare = 0;
  std::vector<double> ratios;
  auto run_slicegate = [&](int round) {
    target.settle();
    auto s = through_slicegate(sys, mgr, gateway, n);
    slicegate_seconds += s;
    round_slicegate = s;
    std::printf("slicegate round %d: %d slices in %.3f s, %.1f ms each\n", round, n, s,
                1000 * s / n);
    clear_slices(admin, gateway);
  };
  auto run_bare = [&](int round) {
    target.settle();
    auto b = bare(admin, pc.template_database, n);
    bare_seconds += b;
    round_bare = b;
    std::printf("bare      round %d: %d databases in %.3f s, %.1f ms each\n", round, n, b,
                1000 * b / n);
  };
  for (int round = 1; round <= rounds; ++round) {
    if (round % 2 == 1) {
      run_slicegate(round);
      run_bare(round);
    } else {
      run_bare(round);
      run_slicegate(round);
    }
    ratios.push_back(round_bare / round_slicegate);
  }
  for (auto& a : {caf::actor_cast<caf::actor>(mgr), caf::actor_cast<caf::actor>(sink),
                  caf::actor_cast<caf::actor>(sweeper), caf::actor_cast<caf::actor>(runtime),
                  caf::actor_cast<caf::actor>(db)})
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  // The median of the rounds' ratios: one round slowed by the machine does not decide it.
  std::printf("ratio of the totals: %.3f\n", bare_seconds / slicegate_seconds);
  std::printf("ratio: %.3f\n", bench::median(ratios));
  return 0;
}
