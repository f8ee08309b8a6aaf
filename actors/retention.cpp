#include "actors/retention.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "messages/error.hpp"

namespace slicegate {

namespace {

using retention_pointer = retention_actor::stateful_pointer<retention_state>;
using telemetry::retention_report;

/// Ends a pass: logs what it deleted and answers whoever asked for it.
void finish_pass(retention_pointer self, const caf::error& err) {
  auto& st = self->state;
  st.running = false;
  auto& r = st.report;
  if (err)
    spdlog::warn("retention stops a pass after dropping {} day partitions and deleting {} "
                 "telemetry rows, {} server telemetry rows, {} dead letters and {} sessions: {}",
                 r.partitions_dropped, r.telemetry, r.server_telemetry, r.dead_letters,
                 r.sessions, message_of(err));
  else
    spdlog::info("retention creates {} and drops {} day partitions, deletes {} telemetry rows, "
                 "{} server telemetry rows, {} dead letters and {} expired sessions",
                 r.partitions_created, r.partitions_dropped, r.telemetry, r.server_telemetry,
                 r.dead_letters, r.sessions);
  for (auto& rp : st.waiters) {
    if (err)
      rp.deliver(err);
    else
      rp.deliver(r);
  }
  st.waiters.clear();
}

/// Sends `request` (one batch) again and again, adding the rows deleted to `count`, until a
/// batch comes back short; then calls `next`.
template <class Request, class Next>
void prune_batches(retention_pointer self, Request request, int64_t retention_report::*count,
                   Next next) {
  self->request(self->state.store, self->state.config.request_timeout, request)
    .then(
      [self, request, count, next](int64_t deleted) {
        self->state.report.*count += deleted;
        if (deleted >= request.batch)
          prune_batches(self, request, count, next);
        else
          next();
      },
      [self](caf::error& err) { finish_pass(self, err); });
}

void delete_sessions(retention_pointer self) {
  auto& st = self->state;
  self
    ->request(
      st.store, st.config.request_timeout,
      db::delete_expired_sessions{st.clock(), st.config.session_max_age, st.config.batch})
    .then(
      [self](int64_t deleted) {
        self->state.report.sessions = deleted;
        finish_pass(self, caf::error{});
      },
      [self](caf::error& err) { finish_pass(self, err); });
}

void prune_dead_letters(retention_pointer self) {
  auto& st = self->state;
  auto cutoff = st.clock() - st.config.dead_letter_retention;
  prune_batches(self, admin::prune_dead_letters{cutoff, st.config.batch},
                &retention_report::dead_letters, [self] { delete_sessions(self); });
}

/// The rows of the boundary day older than `cutoff`, per-slice then host, then alerts, dead
/// letters and sessions.
void prune_rows(retention_pointer self, timestamp cutoff) {
  auto batch = self->state.config.batch;
  prune_batches(self, db::prune_telemetry{cutoff, batch}, &retention_report::telemetry,
                [self, cutoff, batch] {
                  prune_batches(self, db::prune_server_telemetry{cutoff, batch},
                                &retention_report::server_telemetry, [self, cutoff, batch] {
                                  prune_batches(self, admin::prune_alerts{cutoff, batch},
                                                &retention_report::alerts,
                                                [self] { prune_dead_letters(self); });
                                });
                });
}

/// Starts a pass unless one runs: day partitions first (ahead and behind), then rows.
void start_pass(retention_pointer self) {
  auto& st = self->state;
  if (st.running)
    return;
  st.running = true;
  st.report = retention_report{};
  auto now = st.clock();
  auto cutoff = now - st.config.retention;
  self
    ->request(st.store, st.config.request_timeout,
              db::maintain_partitions{now, st.config.partitions_ahead, cutoff})
    .then(
      [self, cutoff](db::partition_report& x) {
        auto& r = self->state.report;
        r.partitions_created = x.created;
        r.partitions_dropped = x.dropped;
        if (x.busy > 0)
          spdlog::warn("retention leaves {} old day partitions to the next pass: readers "
                       "held them",
                       x.busy);
        prune_rows(self, cutoff);
      },
      [self](caf::error& err) { finish_pass(self, err); });
}

} // namespace

retention_actor::behavior_type
retention(retention_actor::stateful_pointer<retention_state> self, retention_config config,
          pruner_actor store, clock_fn clock) {
  auto& st = self->state;
  st.config = std::move(config);
  st.store = std::move(store);
  st.clock = std::move(clock);
  st.leader = !st.config.wait_for_lease;
  // A daemon restarted more often than hourly would otherwise never prune.
  self->send(self, tick_atom_v);
  return {
    [self](tick_atom) {
      self->delayed_send(self, self->state.config.interval, tick_atom_v);
      if (self->state.leader)
        start_pass(self);
    },
    [self](lease::state& x) {
      auto& st = self->state;
      if (st.config.wait_for_lease && x.held != st.leader) {
        st.leader = x.held;
        // A new holder prunes at once, as a freshly started daemon does.
        if (st.leader)
          start_pass(self);
      }
    },
    [self](telemetry::prune_now) -> caf::result<retention_report> {
      auto rp = self->make_response_promise<retention_report>();
      self->state.waiters.push_back(rp);
      start_pass(self);
      return rp;
    },
  };
}

} // namespace slicegate
