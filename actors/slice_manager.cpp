#include "actors/slice_manager.hpp"

#include <algorithm>
#include <memory>
#include <utility>

#include <spdlog/spdlog.h>

#include "actors/janitor.hpp"
#include "common/database_url.hpp"
#include "common/duration.hpp"
#include "common/shards.hpp"
#include "messages/error.hpp"
#include "messages/status_reason.hpp"

// How a slice's life goes (DESIGN.md §3), and why it is crash-safe.
//
// The one durable record of intent is the slice row's status. Every multi-step operation
// first writes where it is going, then does the work, so a crash anywhere leaves a status that
// start-up reconciliation can finish:
//
// - Wipe. A slice being (re)made is in status `destroying`. The wipe procedure removes it from
//   the runtime (a missing one is fine), drops `wa_slice_<id>` WITH (FORCE) if it exists,
//   creates it again from the template, empties the data directory, starts the slice, and only
//   then marks it `available`. Every step can run again after a crash, so reconciliation runs
//   the whole procedure for every `destroying` slice it finds.
// - Credentials. With `slice_logins`, a slice logs in to its database as its own role
//   `wa_slice_<id>`, whose password exists only in the slice's environment: every time a slice
//   is started afresh, the provisioner sets a new one first. A slice that already runs with
//   its own role (a daemon restarted under running containers) is adopted as it is instead.
// - Provisioning reuses the wipe: a new row is inserted as `destroying` (reason
//   "provisioning") on the next free port, and wiped. Nothing exists before the row; the row
//   exists before anything else.
// - Destroy moves the slice to `destroying` and releases its user in one transaction, then
//   wipes it.
// - Suspend stops the slice, then records `suspended`; resume starts it, then records
//   `assigned`. Should the record fail, the runtime step is undone; should the process die in
//   between, reconciliation starts or stops each slice as its recorded status says.
// - Assignment is a single transaction in persistence (oldest waiting user, next healthy
//   available slice, both sides of the link), so there is nothing to reconcile.
//
// Within the process, `busy` keeps two multi-step operations off one slice, and every
// transition names the statuses it may start from, so the database refuses a stale one.

namespace slicegate {

namespace {

using self_ptr = slice_manager_full_actor::stateful_pointer<slice_manager_state>;

/// When a slice died this long after its previous death, its restart back-off starts over.
constexpr caf::timespan restart_memory = std::chrono::minutes{10};

/// Most slices one `create_slices` request may add (persistence has the same limit).
constexpr int32_t max_create = 1000;

// -- small helpers -------------------------------------------------------------------------

std::string database_name(int32_t slice_id) {
  return "wa_slice_" + std::to_string(slice_id);
}

/// What the runtime needs to run `slice`. With `login`, the slice's database URL logs in as
/// its own role; without, it is the configured URL with the slice's database (no password
/// of a slice role: enough to adopt or measure a slice, not to start one).
slice_spec spec_of(self_ptr self, const slice_record& slice,
                   const db::slice_credentials* login = nullptr) {
  auto& cfg = self->state.config;
  auto url = with_database(cfg.slice_database_url, database_name(slice.id));
  if (login != nullptr)
    url = with_login(url, login->role, login->password);
  return {slice.id, slice.port, slice_data_dir(cfg.data_root, slice.id), std::move(url)};
}

using started_continuation = std::function<void(caf::expected<bool>)>;

/// Starts `slice`. Unless `fresh`, a slice that already runs with its own role is kept as it
/// is; otherwise its role gets a new password and the runtime starts it with that (a running
/// one with other credentials is replaced).
void launch(self_ptr self, const slice_record& slice, bool fresh, started_continuation k) {
  auto& st = self->state;
  if (!st.config.slice_logins) {
    self->request(st.runtime, st.config.runtime_timeout, rt::start{spec_of(self, slice)})
      .then([k](bool ok) { k(ok); }, [k](caf::error& err) { k(std::move(err)); });
    return;
  }
  if (!fresh) {
    self
      ->request(st.runtime, st.config.runtime_timeout,
                rt::adopt{slice.id, database_name(slice.id)})
      .then(
        [self, slice, k](bool kept) {
          if (kept)
            return k(true);
          launch(self, slice, true, k);
        },
        [k](caf::error& err) { k(std::move(err)); });
    return;
  }
  self->request(st.provisioner, st.config.request_timeout, db::slice_login{slice.id})
    .then(
      [self, slice, k](db::slice_credentials& login) {
        auto& st = self->state;
        self
          ->request(st.runtime, st.config.runtime_timeout,
                    rt::start{spec_of(self, slice, &login)})
          .then([k](bool ok) { k(ok); }, [k](caf::error& err) { k(std::move(err)); });
      },
      [k](caf::error& err) { k(std::move(err)); });
}

bool claim(self_ptr self, int32_t slice_id) {
  return self->state.busy.insert(slice_id).second;
}

void release(self_ptr self, int32_t slice_id) {
  self->state.busy.erase(slice_id);
}

caf::error busy_error(int32_t slice_id) {
  return make_error(ec::conflict, "slice busy: another operation on slice "
                                    + std::to_string(slice_id) + " is in progress");
}

/// The status reason of an admin's action, `text` being the admin's own words: "admin: <text>"
/// (or "admin"), never a billing reason, so the sweep never undoes it.
std::string admin_reason(const std::string& text) {
  return make_reason(reason_cause::admin, text);
}

caf::timespan next_delay(caf::timespan previous, const slice_manager_config& cfg) {
  if (previous <= caf::timespan::zero())
    return cfg.retry_min;
  return std::min(previous * 2, cfg.retry_max);
}

// -- watchers --------------------------------------------------------------------------------

bool watched(slice_status status) {
  return status == slice_status::available || status == slice_status::assigned;
}

/// Whether this instance watches the slice: it holds the slice's shard, or, without shards,
/// it is the leader.
bool owns(self_ptr self, int32_t slice_id) {
  auto& st = self->state;
  if (st.shard_count <= 0)
    return st.leader;
  return std::binary_search(st.shards.begin(), st.shards.end(),
                            shards::of(slice_id, st.shard_count));
}

void unwatch(self_ptr self, int32_t slice_id) {
  auto& watchers = self->state.watchers;
  auto i = watchers.find(slice_id);
  if (i == watchers.end())
    return;
  // Unlinked first: its exit is ours, not news.
  self->unlink_from(i->second);
  self->send_exit(i->second, caf::exit_reason::user_shutdown);
  watchers.erase(i);
  self->state.watching.erase(slice_id);
  self->state.watcher_restarts.erase(slice_id);
}

/// Keeps the watchers in line with a slice's status: an available or assigned slice has one,
/// told of the status; any other has none. `started` says the runtime has just started the
/// slice, so failed probes during the start period that begins now do not count.
void watch(self_ptr self, const slice_record& slice, bool started) {
  auto& st = self->state;
  if (!st.config.watchers)
    return;
  // One instance probes each slice and writes its telemetry: the holder of its shard.
  if (!owns(self, slice.id))
    return unwatch(self, slice.id);
  if (!watched(slice.status))
    return unwatch(self, slice.id);
  auto now = st.clock();
  if (auto i = st.watchers.find(slice.id); i != st.watchers.end()) {
    st.watching[slice.id].status = slice.status;
    if (started)
      st.watching[slice.id].started_at = now;
    self->send(i->second, telemetry::slice_status{slice.status});
    if (started)
      self->send(i->second, telemetry::slice_started{now});
    return;
  }
  watched_slice ws;
  ws.spec = spec_of(self, slice);
  ws.status = slice.status;
  ws.started_at = now;
  // Only a probe that happened says anything about the phone.
  if (slice.last_health_at)
    ws.wa_connected = slice.wa_connected;
  st.watching[slice.id] = ws;
  auto watcher = st.config.watchers(std::move(ws));
  self->link_to(watcher);
  st.watchers.emplace(slice.id, std::move(watcher));
}

// -- what others hear ------------------------------------------------------------------------

void tell_user(self_ptr self, int32_t user_id) {
  if (self->state.users)
    self->send(self->state.users, auth::user_changed{user_id});
}

/// Publishes a transition the database made, with the user side of it.
void announce(self_ptr self, const db::slice_transition& t, const std::string& reason) {
  auto at = self->state.clock();
  auto& slice = t.slice;
  auto user = slice.user_id ? slice.user_id : t.previous_user_id;
  spdlog::info("slice-manager moves slice {} from {} to {} ({})", slice.id, to_string(t.from),
               to_string(slice.status), reason);
  self->send(self->state.events,
             events::slice_status_changed{slice.id, at, t.from, slice.status, user, reason});
  // Leaving `destroying` means the wipe has just started the slice.
  watch(self, slice, t.from == slice_status::destroying);
  if (t.previous_user_id && !slice.user_id) {
    spdlog::info("slice-manager takes slice {} from user {}", slice.id, *t.previous_user_id);
    self->send(self->state.events, events::user_slice_changed{*t.previous_user_id, at, {}});
  }
  if (user)
    tell_user(self, *user);
}

void announce(self_ptr self, const db::assignment& a, const std::string& reason) {
  auto at = self->state.clock();
  spdlog::info("slice-manager assigns slice {} to user {}", a.slice.id, a.user_id);
  self->send(self->state.events,
             events::slice_status_changed{a.slice.id, at, slice_status::available,
                                          slice_status::assigned, a.user_id, reason});
  self->send(self->state.events, events::user_slice_changed{a.user_id, at, a.slice});
  watch(self, a.slice, false);
  tell_user(self, a.user_id);
}

// -- forward declarations: the operations below call each other ------------------------------

void request_assignment(self_ptr self);
void ensure_floor(self_ptr self);
void pump_wipes(self_ptr self);

// -- transitions -----------------------------------------------------------------------------

/// Records a transition and announces it. `db_reason` becomes the status reason (none clears
/// it); `reason` goes into the event.
void transition(self_ptr self, int32_t slice_id, std::vector<slice_status> from,
                slice_status to, optional<std::string> db_reason, std::string reason,
                std::function<void(caf::expected<db::slice_transition>)> k,
                optional<db::due_guard> due = caf::none) {
  auto& st = self->state;
  self
    ->request(st.db, st.config.request_timeout,
              db::transition_slice{slice_id, std::move(from), to, std::move(db_reason),
                                   std::move(due)})
    .then(
      [self, reason, k](db::slice_transition& t) {
        announce(self, t, reason);
        k(std::move(t));
      },
      [k](caf::error& err) { k(std::move(err)); });
}

/// Reads a slice and checks that it is in `expected` status.
void read_slice(self_ptr self, int32_t slice_id, slice_status expected, const char* verb,
                std::function<void(caf::expected<slice_record>)> k) {
  auto& st = self->state;
  self->request(st.db, st.config.request_timeout, db::get_slice_detail{slice_id})
    .then(
      [slice_id, expected, verb, k](pool::slice_detail& d) {
        if (d.slice.status != expected) {
          k(make_error(ec::conflict, "slice " + std::to_string(slice_id) + " is "
                                       + to_string(d.slice.status) + "; only a slice that is "
                                       + to_string(expected) + " can be " + verb));
          return;
        }
        k(std::move(d.slice));
      },
      [k](caf::error& err) { k(std::move(err)); });
}

/// One step of the runtime on a slice: starts or stops it, then calls the continuation.
using runtime_step = void (*)(self_ptr, const slice_record&, started_continuation);

void start_step(self_ptr self, const slice_record& slice, started_continuation k) {
  launch(self, slice, false, std::move(k));
}

void stop_step(self_ptr self, const slice_record& slice, started_continuation k) {
  auto& st = self->state;
  self->request(st.runtime, st.config.runtime_timeout, rt::stop{slice.id})
    .then([k](bool ok) { k(ok); }, [k](caf::error& err) { k(std::move(err)); });
}

/// Moves a slice from status `from` to `to` by way of the runtime: `act` first, then the
/// record. Should the record fail, `undo` brings the runtime back in line with the status that
/// stays recorded. The caller holds the slice's busy mark.
void runtime_transition(self_ptr self, int32_t slice_id, slice_status from, slice_status to,
                        const char* verb, optional<std::string> db_reason, std::string reason,
                        runtime_step act, runtime_step undo, slice_continuation done,
                        optional<db::due_guard> due = caf::none) {
  read_slice(self, slice_id, from, verb, [=](caf::expected<slice_record> slice) {
    if (!slice)
      return done(std::move(slice.error()));
    act(self, *slice, [=, slice = *slice](caf::expected<bool> acted) {
      if (!acted)
        return done(std::move(acted.error()));
      transition(self, slice_id, {from}, to, db_reason, reason,
                 [=](caf::expected<db::slice_transition> t) {
                   if (t)
                     return done(std::move(t->slice));
                   spdlog::error("slice-manager cannot record slice {} as {}: {}; "
                                 "undoing the runtime's step",
                                 slice_id, to_string(to), message_of(t.error()));
                   undo(self, slice, [slice_id](caf::expected<bool> undone) {
                     if (!undone)
                       spdlog::error("slice-manager cannot undo the runtime's step for slice "
                                     "{}: {}; start-up reconciliation will",
                                     slice_id, message_of(undone.error()));
                   });
                   done(std::move(t.error()));
                 },
                 due);
    });
  });
}

/// assigned → suspended: the runtime stops the slice, its data stays.
void suspend(self_ptr self, int32_t slice_id, std::string reason, slice_continuation done,
             optional<db::due_guard> due = caf::none) {
  runtime_transition(self, slice_id, slice_status::assigned, slice_status::suspended,
                     "suspended", reason, reason, stop_step, start_step, std::move(done),
                     std::move(due));
}

/// suspended → assigned: the runtime starts the slice again; the status reason is cleared.
void resume(self_ptr self, int32_t slice_id, std::string reason, slice_continuation done) {
  runtime_transition(self, slice_id, slice_status::suspended, slice_status::assigned, "resumed",
                     caf::none, std::move(reason), start_step, stop_step, std::move(done));
}

// -- the wipe procedure ----------------------------------------------------------------------

/// Queues a `destroying` slice for the wipe procedure; `done` gets the slice once it is
/// available again. The caller holds the busy mark.
void wipe(self_ptr self, slice_record slice, slice_continuation done) {
  wipe_job job;
  job.slice = std::move(slice);
  job.done = std::move(done);
  self->state.wipe_queue.push_back(std::move(job));
  pump_wipes(self);
}

void finish_wipe(self_ptr self, const std::shared_ptr<wipe_job>& job,
                 caf::expected<slice_record> result) {
  auto& st = self->state;
  --st.wipes_running;
  if (!result)
    spdlog::warn("slice-manager cannot wipe slice {}: {}; the sweep tries again", job->slice.id,
                 message_of(result.error()));
  job->done(std::move(result));
  pump_wipes(self);
}

/// Runs the next step of `job`, each step a request whose answer runs the one after. The order
/// matters: the runtime lets go of the slice before its database goes, the database exists
/// again before the slice starts, and `available` is written last, so a crash at any point
/// leaves `destroying` and the whole procedure runs again at start-up.
void advance(self_ptr self, std::shared_ptr<wipe_job> job) {
  using step = wipe_job::step;
  auto& st = self->state;
  auto id = job->slice.id;
  auto fail = [self, job](caf::error& err) {
    finish_wipe(self, job, std::move(err));
  };
  auto then_next = [self, job](step next) {
    job->next = next;
    advance(self, job);
  };
  switch (job->next) {
    case step::remove:
      self->request(st.runtime, st.config.runtime_timeout, rt::remove{id})
        .then([then_next](bool) { then_next(step::drop); }, fail);
      return;
    case step::drop:
      self
        ->request(st.provisioner, st.config.request_timeout,
                  db::drop_slice_database{database_name(id)})
        .then([then_next](bool) { then_next(step::create); }, fail);
      return;
    case step::create:
      self
        ->request(st.provisioner, st.config.request_timeout,
                  db::create_slice_database{database_name(id)})
        .then([then_next](bool) { then_next(step::empty_dir); }, fail);
      return;
    case step::empty_dir:
      self->request(st.janitor, st.config.request_timeout, fs::empty_slice_dir{id})
        .then([then_next](const std::string&) { then_next(step::start); }, fail);
      return;
    case step::start:
      launch(self, job->slice, true, [then_next, fail](caf::expected<bool> started) {
        if (!started)
          return fail(started.error());
        then_next(step::mark_available);
      });
      return;
    case step::mark_available:
      self
        ->request(st.db, st.config.request_timeout,
                  db::transition_slice{id, {slice_status::destroying},
                                       slice_status::available, caf::none, caf::none})
        .then(
          [self, job](db::slice_transition& t) {
            auto provisioned
              = t.previous_reason && cause_of(*t.previous_reason) == reason_cause::provisioning;
            announce(self, t, provisioned ? "provisioned" : "wiped");
            finish_wipe(self, job, std::move(t.slice));
            request_assignment(self);
          },
          fail);
      return;
  }
}

void pump_wipes(self_ptr self) {
  auto& st = self->state;
  while (!st.wipe_queue.empty()
         && st.wipes_running < std::max(1, st.config.max_parallel_wipes)) {
    auto job = std::make_shared<wipe_job>(std::move(st.wipe_queue.front()));
    st.wipe_queue.pop_front();
    ++st.wipes_running;
    advance(self, std::move(job));
  }
}

/// assigned|suspended|available (or an unfinished destroying) → destroying → available: the
/// user is released in the first transaction, then the slice is wiped. The caller holds the
/// busy mark.
/// Moves a slice to `destroying` and wipes it. With `due`, only while the billing policy
/// still asks for it when the move is written (the sweep: a payment may land in between).
void destroy(self_ptr self, int32_t slice_id, std::string reason, slice_continuation done,
             optional<db::due_guard> due = caf::none) {
  transition(
    self, slice_id,
    {slice_status::available, slice_status::assigned, slice_status::suspended,
     slice_status::destroying},
    slice_status::destroying, reason, reason,
    [self, done](caf::expected<db::slice_transition> t) {
      if (!t)
        return done(std::move(t.error()));
      wipe(self, std::move(t->slice), done);
    },
    std::move(due));
}

// -- provisioning and the pool floor ---------------------------------------------------------

using slices_continuation = std::function<void(caf::expected<std::vector<slice_record>>)>;

/// Inserts `request.count` slices as `destroying` and wipes each. `inserted` gets the new
/// rows as soon as the insert commits (`slices.create` answers then: the wipes may take
/// longer than its caller waits); `done` gets them in their final state once every wipe has
/// ended (`destroying` for a wipe that failed: the sweep retries). A repeated idempotency key
/// wipes nothing: both get the earlier request's slices as they are now. Should the insert
/// fail, both get the error.
void provision(self_ptr self, db::insert_slices request, slices_continuation inserted,
               slices_continuation done) {
  auto& st = self->state;
  self->request(st.db, st.config.request_timeout, std::move(request))
    .then(
      [self, inserted, done](db::inserted_slices& result) {
        auto& rows = result.slices;
        if (result.repeated || rows.empty()) {
          inserted(rows);
          return done(std::move(rows));
        }
        spdlog::info("slice-manager provisions {} slice(s) on ports {} to {}", rows.size(),
                     rows.front().port, rows.back().port);
        struct batch {
          std::vector<slice_record> slices;
          size_t pending;
        };
        auto shared = std::make_shared<batch>(batch{rows, rows.size()});
        // Claimed before anyone hears of them: an admin acting on a new slice at once finds
        // it busy rather than racing its wipe.
        for (auto& row : rows)
          claim(self, row.id);
        inserted(rows);
        for (size_t i = 0; i < rows.size(); ++i) {
          auto id = rows[i].id;
          wipe(self, std::move(rows[i]),
               [self, shared, i, id, done](caf::expected<slice_record> result) {
                 release(self, id);
                 if (result)
                   shared->slices[i] = std::move(*result);
                 if (--shared->pending == 0)
                   done(std::move(shared->slices));
               });
        }
      },
      [inserted, done](caf::error& err) {
        inserted(err);
        done(std::move(err));
      });
}

/// The insert request for `count` new slices under the manager's pool settings.
db::insert_slices insert_request(self_ptr self, int32_t count,
                                 optional<std::string> idempotency_key = caf::none) {
  auto& cfg = self->state.config;
  return db::insert_slices{count,          cfg.port_base, cfg.port_step,
                           cfg.max_slices, cfg.data_root, std::move(idempotency_key)};
}

void retry_floor_later(self_ptr self, const std::string& why) {
  auto& st = self->state;
  st.floor_delay = next_delay(st.floor_delay, st.config);
  st.floor_retry_pending = true;
  spdlog::warn("slice-manager cannot reach the pool floor of {} slices: {}; retrying in {}",
               st.config.min_available, why, render_duration(st.floor_delay));
  self->delayed_send(self, st.floor_delay, retry_atom_v);
}

/// Provisions slices until `min_available` are ready to hand out, counting those being wiped
/// as ready soon, and never past `max_slices`. Failures back off exponentially.
void ensure_floor(self_ptr self) {
  auto& st = self->state;
  if (st.config.min_available <= 0 || !st.started || !st.leader || st.provisioning
      || st.floor_retry_pending)
    return;
  st.provisioning = true;
  self->request(st.db, st.config.request_timeout, db::count_pool{})
    .then(
      [self](const db::pool_totals& totals) {
        auto& st = self->state;
        auto& cfg = st.config;
        auto wanted = cfg.min_available - (totals.ready + totals.destroying);
        if (cfg.max_slices > 0)
          wanted = std::min(wanted, cfg.max_slices - totals.total);
        if (wanted <= 0) {
          st.provisioning = false;
          return;
        }
        // The floor counts slices being wiped as ready soon, so it needs to hear when the
        // wipes end, not when the rows exist.
        auto wiped = [self](caf::expected<std::vector<slice_record>> slices) {
          auto& st = self->state;
          st.provisioning = false;
          if (!slices)
            return retry_floor_later(self, message_of(slices.error()));
          auto ready = std::count_if(slices->begin(), slices->end(), [](auto& x) {
            return x.status != slice_status::destroying;
          });
          if (ready < static_cast<std::ptrdiff_t>(slices->size()))
            return retry_floor_later(self, "some new slices could not be wiped");
          st.floor_delay = caf::timespan::zero();
          // Waiting users may have taken the new slices already.
          ensure_floor(self);
        };
        provision(self, insert_request(self, wanted),
                  [](const caf::expected<std::vector<slice_record>>&) {}, wiped);
      },
      [self](caf::error& err) {
        self->state.provisioning = false;
        retry_floor_later(self, message_of(err));
      });
}

// -- assignment ------------------------------------------------------------------------------

void start_pass(self_ptr self);

/// Answers every `place_user` whose user the last pass covered with where that user stands.
void answer_placements(self_ptr self) {
  auto& st = self->state;
  auto ready = std::stable_partition(
    st.placement_waiters.begin(), st.placement_waiters.end(),
    [&](const placement_waiter& w) { return w.needs > st.assign_done; });
  for (auto i = ready; i != st.placement_waiters.end(); ++i) {
    auto rp = i->promise;
    self->request(st.db, st.config.request_timeout, db::get_placement{i->user_id, st.clock()})
      .then([rp](pool::placement& p) mutable { rp.deliver(std::move(p)); },
            [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
  }
  st.placement_waiters.erase(ready, st.placement_waiters.end());
  // A burst's users: one read for all of them.
  auto batches = std::stable_partition(
    st.batch_waiters.begin(), st.batch_waiters.end(),
    [&](const placements_waiter& w) { return w.needs > st.assign_done; });
  for (auto i = batches; i != st.batch_waiters.end(); ++i) {
    auto rp = i->promise;
    self
      ->request(st.db, st.config.request_timeout,
                db::get_placements{std::move(i->user_ids), st.clock()})
      .then([rp](std::vector<pool::placement>& ps) mutable { rp.deliver(std::move(ps)); },
            [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
  }
  st.batch_waiters.erase(batches, st.batch_waiters.end());
}

void finish_pass(self_ptr self, uint64_t covers, size_t assigned) {
  auto& st = self->state;
  st.assigning = false;
  st.assign_done = covers;
  answer_placements(self);
  if (st.assign_wanted > st.assign_done)
    start_pass(self);
  else if (assigned > 0)
    ensure_floor(self);
}

/// One assignment transaction; repeats while a full batch came back (more may pair).
void run_pass(self_ptr self, uint64_t covers, size_t assigned) {
  auto& st = self->state;
  auto batch = std::max(1, st.config.assign_batch);
  self->request(st.db, st.config.request_timeout, db::assign_next{batch, st.clock()})
    .then(
      [self, covers, assigned, batch](std::vector<db::assignment>& xs) {
        for (auto& x : xs)
          announce(self, x, "assigned to the oldest waiting user");
        if (xs.size() == static_cast<size_t>(batch))
          run_pass(self, covers, assigned + xs.size());
        else
          finish_pass(self, covers, assigned + xs.size());
      },
      [self, covers, assigned](caf::error& err) {
        // The next request for a pass (at the latest the next sweep) tries again.
        spdlog::warn("slice-manager cannot assign slices: {}", message_of(err));
        finish_pass(self, covers, assigned);
      });
}

void start_pass(self_ptr self) {
  auto& st = self->state;
  st.assigning = true;
  run_pass(self, st.assign_wanted, 0);
}

/// Asks for an assignment pass after the current one (if any): requests that arrive while a
/// pass runs share the next one.
void request_assignment(self_ptr self) {
  auto& st = self->state;
  ++st.assign_wanted;
  if (!st.assigning)
    start_pass(self);
}

// -- the billing policy ----------------------------------------------------------------------

/// Runs one action of the billing policy, unless another operation holds the slice (the next
/// sweep sees it again).
void run_action(self_ptr self, const db::due_action& a, const db::due_actions& query,
                std::function<void()> k) {
  if (!claim(self, a.slice_id)) {
    spdlog::debug("slice-manager defers {} of busy slice {}", pool::to_string(a.action),
                  a.slice_id);
    return k();
  }
  auto id = a.slice_id;
  auto done = [self, id, k, what = pool::to_string(a.action)](caf::expected<slice_record> r) {
    release(self, id);
    if (!r)
      spdlog::warn("slice-manager cannot {} slice {}: {}", what, id, message_of(r.error()));
    k();
  };
  // Suspensions and destructions happen only if, when written, they are still due.
  db::due_guard due{query.now, query.past_due_before, query.ended_before, a.action};
  switch (a.action) {
    case pool::verb::suspend: return suspend(self, id, a.reason, done, due);
    case pool::verb::resume: return resume(self, id, a.reason, done);
    case pool::verb::destroy:
      if (a.status == slice_status::destroying) {
        // An unfinished wipe: run it again (the wipe needs the slice's port).
        auto& st = self->state;
        self->request(st.db, st.config.request_timeout, db::get_slice_detail{id})
          .then([self, done](pool::slice_detail& d) { wipe(self, std::move(d.slice), done); },
                [done](caf::error& err) { done(std::move(err)); });
        return;
      }
      return destroy(self, id, a.reason, done, due);
  }
}

/// Asks persistence which actions are due (for one user, or all) and runs them; `k` runs
/// once every one has ended.
void apply_policy(self_ptr self, optional<int32_t> user_id, std::function<void()> k) {
  auto& st = self->state;
  auto now = st.clock();
  db::due_actions query{now, now - st.config.past_due_grace, now - st.config.data_retention,
                        user_id};
  self->request(st.db, st.config.request_timeout, query)
    .then(
      [self, k, query](std::vector<db::due_action>& actions) {
        if (actions.empty())
          return k();
        spdlog::debug("slice-manager finds {} lifecycle action(s) due", actions.size());
        auto pending = std::make_shared<size_t>(actions.size());
        for (auto& a : actions)
          run_action(self, a, query, [pending, k] {
            if (--*pending == 0)
              k();
          });
      },
      [k](caf::error& err) {
        spdlog::warn("slice-manager cannot read the lifecycle actions due: {}",
                     message_of(err));
        k();
      });
}

void start_syncing(self_ptr self);

/// Brings the watchers in line with the slices as recorded: with several instances, a slice
/// that another instance created, assigned or suspended changed without this one hearing of
/// it. Slices busy with an operation here are left to it.
void sync_watchers(self_ptr self) {
  auto& st = self->state;
  if (!st.config.watchers)
    return;
  self->request(st.db, st.config.request_timeout, db::list_slices{})
    .then(
      [self](std::vector<slice_record>& slices) {
        auto& st = self->state;
        std::set<int32_t> present;
        for (auto& s : slices) {
          present.insert(s.id);
          if (st.busy.count(s.id) > 0)
            continue;
          if (!owns(self, s.id)) {
            unwatch(self, s.id);
            continue;
          }
          auto known = st.watching.find(s.id);
          if (known == st.watching.end() ? watched(s.status) : known->second.status != s.status)
            watch(self, s, false);
        }
        std::vector<int32_t> gone;
        for (auto& kv : st.watchers)
          if (present.count(kv.first) == 0)
            gone.push_back(kv.first);
        for (auto id : gone)
          unwatch(self, id);
      },
      [](caf::error& err) {
        spdlog::debug("slice-manager cannot list the slices to check its watchers: {}",
                      message_of(err));
      });
}

void sweep(self_ptr self) {
  auto& st = self->state;
  if (st.sweeping) {
    spdlog::debug("slice-manager skips a sweep: the previous one still runs");
    return;
  }
  st.sweeping = true;
  apply_policy(self, caf::none, [self] {
    self->state.sweeping = false;
    request_assignment(self);
    ensure_floor(self);
    if (self->state.config.wait_for_lease)
      sync_watchers(self);
  });
}

// -- start-up --------------------------------------------------------------------------------

/// What start-up reconciliation has done so far.
struct reconciliation {
  std::vector<slice_record> slices;
  /// The next slice to look at.
  size_t next = 0;
  size_t wipes_pending = 0;
  int32_t wiped = 0;
  bool walked = false;
  std::function<void(int32_t)> done;
};

void reconciled_one(self_ptr self, const std::shared_ptr<reconciliation>& r) {
  if (r->walked && r->wipes_pending == 0)
    r->done(r->wiped);
}

/// Looks at the slices from `r->next` on: queues each `destroying` one for its wipe, and
/// asks the runtime to start or stop the next other one, continuing when it has answered
/// (the runtime works serially anyway, and a burst of requests would only age in its queue).
void reconcile_next(self_ptr self, std::shared_ptr<reconciliation> r) {
  auto& st = self->state;
  while (r->next < r->slices.size()) {
    auto& slice = r->slices[r->next++];
    auto id = slice.id;
    if (slice.status == slice_status::destroying) {
      if (!claim(self, id))
        continue;
      ++r->wipes_pending;
      wipe(self, slice, [self, r, id](caf::expected<slice_record> result) {
        release(self, id);
        if (result)
          ++r->wiped;
        --r->wipes_pending;
        reconciled_one(self, r);
      });
      continue;
    }
    // A slice that should run is watched even when it would not start: its watcher sees it
    // fail and, once it is assigned, restarts it.
    auto proceed = [self, r, slice](bool) {
      watch(self, slice, true);
      reconcile_next(self, r);
    };
    auto skip = [self, r, slice](caf::error& err) {
      spdlog::warn("slice-manager cannot reconcile slice {} with the runtime: {}", slice.id,
                   message_of(err));
      watch(self, slice, true);
      reconcile_next(self, r);
    };
    if (slice.status == slice_status::suspended)
      self->request(st.runtime, st.config.runtime_timeout, rt::stop{id}).then(proceed, skip);
    else
      launch(self, slice, false, [proceed, skip](caf::expected<bool> started) {
        if (started)
          return proceed(true);
        skip(started.error());
      });
    return;
  }
  r->walked = true;
  reconciled_one(self, r);
}

/// Brings the runtime in line with each slice's recorded status and finishes every
/// interrupted wipe; `done` gets the number of wipes finished.
void reconcile(self_ptr self, std::vector<slice_record> slices,
               std::function<void(int32_t)> done) {
  auto r = std::make_shared<reconciliation>();
  r->slices = std::move(slices);
  r->done = std::move(done);
  reconcile_next(self, std::move(r));
}

/// Remembers a slice's death and schedules its restart after a back-off that doubles while
/// it keeps dying.
void schedule_restart(self_ptr self, const rt::exited& x) {
  auto& st = self->state;
  auto now = st.clock();
  auto& b = st.restarts[x.slice_id];
  b.delay
    = now - b.last_exit > restart_memory ? st.config.retry_min : next_delay(b.delay, st.config);
  b.last_exit = now;
  spdlog::warn("slice-manager hears that slice {} died ({}); restarting it in {}", x.slice_id,
               x.reason, render_duration(b.delay));
  self->delayed_send(self, b.delay, retry_atom_v, x.slice_id);
}

void restart(self_ptr self, int32_t slice_id) {
  // Whatever holds the slice now decides whether it runs.
  if (!claim(self, slice_id))
    return;
  auto& st = self->state;
  self->request(st.db, st.config.request_timeout, db::get_slice_detail{slice_id})
    .then(
      [self, slice_id](pool::slice_detail& d) {
        if (d.slice.status != slice_status::available
            && d.slice.status != slice_status::assigned)
          return release(self, slice_id);
        // It died: started afresh, with a new password.
        launch(self, d.slice, true, [self, slice_id, slice = d.slice](caf::expected<bool> started) {
          release(self, slice_id);
          if (!started) {
            spdlog::warn("slice-manager cannot restart slice {}: {}", slice_id,
                         message_of(started.error()));
            schedule_restart(self, rt::exited{slice_id, "restart failed"});
            return;
          }
          spdlog::info("slice-manager restarted slice {}", slice_id);
          watch(self, slice, true);
          events::slice_alert alert{slice_id, self->state.clock(), events::alert_kind::restarted,
                                    "started again after it died"};
          if (auto& log = self->state.config.alert_log)
            self->send(log, alert);
          self->send(self->state.events, std::move(alert));
        });
      },
      [self, slice_id](caf::error& err) {
        release(self, slice_id);
        spdlog::warn("slice-manager cannot read slice {} to restart it: {}", slice_id,
                     message_of(err));
      });
}

/// This instance does the pool's own work from now on: reconciles the pool (adopting what runs,
/// finishing interrupted wipes, watching what should be watched), then sweeps and keeps the
/// floor. `done` gets the number of wipes finished.
void take_over(self_ptr self, std::function<void(caf::expected<int32_t>)> done) {
  auto& st = self->state;
  self->request(st.db, st.config.request_timeout, db::list_slices{})
    .then(
      [self, done](std::vector<slice_record>& slices) {
        reconcile(self, std::move(slices), [self, done](int32_t wiped) {
          auto& st = self->state;
          if (!st.started) {
            st.started = true;
            self->delayed_send(self, st.config.sweep_interval, tick_atom_v);
          }
          spdlog::info("slice-manager reconciled the pool ({} wipe(s) finished)", wiped);
          done(wiped);
          request_assignment(self);
          ensure_floor(self);
          start_syncing(self);
        });
      },
      [done](caf::error& err) { done(std::move(err)); });
}

/// Stops the watchers of slices this instance no longer watches; returns how many.
size_t drop_foreign_watchers(self_ptr self) {
  auto& st = self->state;
  std::vector<int32_t> ids;
  for (auto& kv : st.watchers)
    if (!owns(self, kv.first))
      ids.push_back(kv.first);
  for (auto id : ids)
    unwatch(self, id);
  return ids.size();
}

/// Another instance holds the lease now: sweeps and the floor pause (and, without shards,
/// the watchers stop).
void stand_by(self_ptr self) {
  auto stopped = drop_foreign_watchers(self);
  spdlog::warn("slice-manager stands by: it no longer holds the lease ({} watcher(s) "
               "stopped)",
               stopped);
}

/// Brings the watchers in line now and, while this instance holds shards, every
/// `watch_sync_interval`.
void start_syncing(self_ptr self) {
  auto& st = self->state;
  if (st.shards.empty())
    return;
  sync_watchers(self);
  if (!st.sync_armed) {
    st.sync_armed = true;
    self->delayed_send(self, st.config.watch_sync_interval, sync_atom_v);
  }
}

/// The watch shards changed: the watchers of shards given up stop at once, those of shards
/// taken start from the slices as recorded, and an instance with shards re-reads the slices
/// every `watch_sync_interval`.
void reshard(self_ptr self, std::vector<int32_t> shards, int32_t count) {
  auto& st = self->state;
  if (shards == st.shards && count == st.shard_count)
    return;
  st.shards = std::move(shards);
  st.shard_count = count;
  auto stopped = drop_foreign_watchers(self);
  spdlog::info("slice-manager watches {} of {} shard(s) ({} watcher(s) stopped)",
               st.shards.size(), count, stopped);
  if (st.start_done)
    start_syncing(self);
}

template <class T>
auto deliver_to(caf::typed_response_promise<T> rp) {
  return [rp](caf::expected<T> x) mutable {
    if (x)
      rp.deliver(std::move(*x));
    else
      rp.deliver(std::move(x.error()));
  };
}

} // namespace

watcher_factory spawn_watchers(caf::actor_system& sys, slice_watcher_peers peers,
                               slice_watcher_config config) {
  return [&sys, peers = std::move(peers), config = std::move(config)](watched_slice slice) {
    return sys.spawn(slice_watcher, std::move(slice), peers, config);
  };
}

slice_manager_full_actor::behavior_type
slice_manager(slice_manager_full_actor::stateful_pointer<slice_manager_state> self,
              slice_manager_config cfg, pool_store_actor db, provisioner_actor provisioner,
              pool_runtime_actor runtime, janitor_actor janitor, pool_event_sink_actor events,
              clock_fn clock) {
  auto& st = self->state;
  st.config = std::move(cfg);
  st.db = std::move(db);
  st.provisioner = std::move(provisioner);
  st.runtime = std::move(runtime);
  st.janitor = std::move(janitor);
  st.events = std::move(events);
  st.clock = clock ? std::move(clock) : system_clock();
  st.leader = !st.config.wait_for_lease;
  // Watchers are linked, so they end with this actor. One that fails is spawned again from
  // what it was spawned with (its state is the slice row and the next probe), within a
  // restart budget; past it, the slice stays unwatched until its next transition. Any other
  // exit ends us.
  self->set_exit_handler([self](caf::exit_msg& msg) {
    auto& st = self->state;
    auto i = std::find_if(st.watchers.begin(), st.watchers.end(),
                          [&](const auto& kv) { return kv.second.address() == msg.source; });
    if (i == st.watchers.end())
      return self->quit(msg.reason);
    auto id = i->first;
    st.watchers.erase(i);
    auto spec = st.watching.find(id);
    if (spec == st.watching.end() || !st.watcher_restarts[id].try_restart()) {
      spdlog::error("slice-manager lost the watcher of slice {}: {}; the slice stays "
                    "unwatched until its next transition",
                    id, caf::to_string(msg.reason));
      st.watching.erase(id);
      return;
    }
    spdlog::error("slice-manager restarts the watcher of slice {}: {}", id,
                  caf::to_string(msg.reason));
    auto watcher = st.config.watchers(spec->second);
    self->link_to(watcher);
    st.watchers.emplace(id, std::move(watcher));
  });
  return {
    [self](const pool::place_user& x) -> caf::result<pool::placement> {
      auto& st = self->state;
      auto rp = self->make_response_promise<pool::placement>();
      request_assignment(self);
      st.placement_waiters.push_back({x.user_id, st.assign_wanted, rp});
      return rp;
    },
    [self](pool::place_users& x) -> caf::result<std::vector<pool::placement>> {
      auto& st = self->state;
      auto rp = self->make_response_promise<std::vector<pool::placement>>();
      request_assignment(self);
      st.batch_waiters.push_back({std::move(x.user_ids), st.assign_wanted, rp});
      return rp;
    },
    [self](const pool::create_slices& x) -> caf::result<std::vector<slice_record>> {
      if (x.count < 1 || x.count > max_create)
        return make_error(ec::invalid_request,
                          "count must be between 1 and " + std::to_string(max_create));
      auto rp = self->make_response_promise<std::vector<slice_record>>();
      // The answer goes out once the rows exist: the wipes go on behind it, and the slices'
      // status events (or `slices.get`) tell when each is available. A failed wipe says so
      // itself and the sweep retries it, so nobody waits for the end here.
      auto ended = [](const caf::expected<std::vector<slice_record>>&) {};
      provision(self, insert_request(self, x.count, x.idempotency_key), deliver_to(rp), ended);
      return rp;
    },
    [self](const pool::list_slices& x) -> caf::result<std::vector<slice_record>> {
      auto& st = self->state;
      return self->delegate(st.db, db::list_slices{x.status});
    },
    [self](const pool::get_slice& x) -> caf::result<pool::slice_detail> {
      auto& st = self->state;
      return self->delegate(st.db, db::get_slice_detail{x.slice_id});
    },
    [self](const pool::change_slice& x) -> caf::result<slice_record> {
      if (!claim(self, x.slice_id))
        return busy_error(x.slice_id);
      auto rp = self->make_response_promise<slice_record>();
      auto id = x.slice_id;
      auto done = [self, id, k = deliver_to(rp)](caf::expected<slice_record> r) mutable {
        release(self, id);
        k(std::move(r));
      };
      auto reason = admin_reason(x.reason);
      switch (x.action) {
        case pool::verb::suspend: suspend(self, id, reason, done); break;
        case pool::verb::resume: resume(self, id, reason, done); break;
        case pool::verb::destroy: destroy(self, id, reason, done); break;
      }
      return rp;
    },
    [self](const pool::assign_slice& x) -> caf::result<slice_record> {
      auto& st = self->state;
      if (x.slice_id && !claim(self, *x.slice_id))
        return busy_error(*x.slice_id);
      auto rp = self->make_response_promise<slice_record>();
      auto held = x.slice_id;
      self->request(st.db, st.config.request_timeout, db::assign_user{x.user_id, x.slice_id})
        .then(
          [self, held, rp](db::assignment& a) mutable {
            if (held)
              release(self, *held);
            announce(self, a, admin_reason({}));
            ensure_floor(self);
            rp.deliver(std::move(a.slice));
          },
          [self, held, rp](caf::error& err) mutable {
            if (held)
              release(self, *held);
            rp.deliver(std::move(err));
          });
      return rp;
    },
    [self](const pool::billing_changed& x) {
      apply_policy(self, x.user_id, [self] {
        // The change may also have made the user one who waits for a slice.
        request_assignment(self);
        ensure_floor(self);
      });
    },
    [self](start_atom, user_listener_actor users) -> caf::result<int32_t> {
      auto& st = self->state;
      st.users = std::move(users);
      auto rp = self->make_response_promise<int32_t>();
      // Subscribing makes this actor the one the runtime tells about slices that die.
      self->request(st.runtime, st.config.runtime_timeout, rt::subscribe{})
        .then([](bool) {},
              [](caf::error& err) {
                spdlog::warn("slice-manager cannot subscribe to slice exits: {}",
                             message_of(err));
              });
      self->request(st.provisioner, st.config.request_timeout, db::ensure_template{})
        .then(
          [self, rp](bool created) mutable {
            auto& st = self->state;
            if (created)
              spdlog::info("slice-manager created the slice template database");
            st.start_done = true;
            if (!st.leader) {
              spdlog::info("slice-manager stands by: another instance holds the lease");
              start_syncing(self);
              rp.deliver(int32_t{0});
              return;
            }
            take_over(self, [rp](caf::expected<int32_t> wiped) mutable {
              if (wiped)
                rp.deliver(*wiped);
              else
                rp.deliver(std::move(wiped.error()));
            });
          },
          [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
      return rp;
    },
    [self](const rt::exited& x) {
      // An operation holding the slice starts, stops or removes it anyway; and only the lease
      // holder restarts slices.
      if (self->state.busy.count(x.slice_id) > 0 || !self->state.leader)
        return;
      schedule_restart(self, x);
    },
    [self](tick_atom) {
      self->delayed_send(self, self->state.config.sweep_interval, tick_atom_v);
      if (self->state.leader)
        sweep(self);
    },
    [self](sync_atom) {
      auto& st = self->state;
      st.sync_armed = false;
      start_syncing(self);
    },
    [self](lease::state& x) {
      auto& st = self->state;
      if (!st.config.wait_for_lease)
        return;
      reshard(self, std::move(x.shards), x.shard_count);
      if (x.held == st.leader)
        return;
      st.leader = x.held;
      if (!st.leader)
        return stand_by(self);
      spdlog::info("slice-manager takes over the pool in lease term {}", x.term);
      if (st.start_done)
        take_over(self, [](caf::expected<int32_t> wiped) {
          if (!wiped)
            spdlog::warn("slice-manager cannot reconcile the pool it took over: {}",
                         message_of(wiped.error()));
        });
    },
    [self](retry_atom) {
      self->state.floor_retry_pending = false;
      ensure_floor(self);
    },
    [self](retry_atom, int32_t slice_id) {
      if (self->state.leader)
        restart(self, slice_id);
    },
  };
}

} // namespace slicegate
