#include "actors/telemetry_writer.hpp"

#include <algorithm>
#include <iterator>
#include <memory>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "messages/error.hpp"

namespace slicegate {

namespace {

using writer_pointer = telemetry_writer_actor::stateful_pointer<telemetry_writer_state>;
using batch_ptr = std::shared_ptr<telemetry_batch>;

/// Drops from the front of `xs` until it holds at most `limit`; returns how many went.
template <class T>
int64_t trim_oldest(std::deque<T>& xs, size_t limit) {
  auto excess = xs.size() > limit ? xs.size() - limit : 0;
  xs.erase(xs.begin(), xs.begin() + static_cast<std::ptrdiff_t>(excess));
  return static_cast<int64_t>(excess);
}

void write_round(writer_pointer self);

/// A round ended with nothing left to write in it.
void round_done(writer_pointer self) {
  auto& st = self->state;
  st.writing = false;
  if (st.backoff > caf::timespan::zero())
    spdlog::info("telemetry-writer writes again");
  st.backoff = caf::timespan::zero();
  st.dropping = false;
  // Keep going while a full batch waits, or someone waits for the buffers to drain.
  auto remaining = !st.samples.empty() || !st.server_samples.empty() || !st.slice_rows.empty()
                   || !st.alerts.empty();
  if (st.samples.size() >= st.config.batch_size || (remaining && !st.flush_waiters.empty())) {
    write_round(self);
    return;
  }
  if (!remaining) {
    auto stats = st.current_stats();
    for (auto& rp : st.flush_waiters)
      rp.deliver(stats);
    st.flush_waiters.clear();
  }
}

/// A write of `batch` failed with `err`: keep it for a retry if the database may come back,
/// drop it if the database refused it.
void round_failed(writer_pointer self, batch_ptr batch, const caf::error& err) {
  auto& st = self->state;
  st.writing = false;
  ++st.stats.failed_writes;
  if (code_of(err) == ec::unavailable) {
    if (st.backoff == caf::timespan::zero())
      spdlog::warn("telemetry-writer cannot write, keeping up to {} samples: {}",
                   st.config.max_buffered, message_of(err));
    st.backoff
      = std::min(std::max(st.backoff * 2, st.config.flush_interval), st.config.max_backoff);
    st.retry_at = self->clock().now() + st.backoff;
    st.put_back(std::move(*batch));
  } else {
    spdlog::error("telemetry-writer drops a batch the database refused ({} samples, {} host "
                  "samples, {} slice rows, {} alerts): {}",
                  batch->samples.size(), batch->server_samples.size(), batch->slice_rows.size(),
                  batch->alerts.size(), message_of(err));
    st.stats.samples_dropped
      += static_cast<int64_t>(batch->samples.size() + batch->server_samples.size());
  }
  for (auto& rp : st.flush_waiters)
    rp.deliver(err);
  st.flush_waiters.clear();
}

/// Writes the alerts of `batch`, the last step of a round.
void write_alerts(writer_pointer self, batch_ptr batch) {
  if (batch->alerts.empty())
    return round_done(self);
  self
    ->request(self->state.store, self->state.config.request_timeout,
              admin::insert_alerts{batch->alerts})
    .then([self](int64_t) { round_done(self); },
          [self, batch](caf::error& err) { round_failed(self, batch, err); });
}

/// Writes the slice rows of `batch`, then its alerts.
void write_slice_rows(writer_pointer self, batch_ptr batch) {
  if (batch->slice_rows.empty())
    return write_alerts(self, std::move(batch));
  self
    ->request(self->state.store, self->state.config.request_timeout,
              db::update_slice_health{batch->slice_rows})
    .then(
      [self, batch](int64_t) {
        batch->slice_rows.clear();
        write_alerts(self, batch);
      },
      [self, batch](caf::error& err) { round_failed(self, batch, err); });
}

/// Writes the host samples of `batch`, then its slice rows.
void write_server_samples(writer_pointer self, batch_ptr batch) {
  if (batch->server_samples.empty())
    return write_slice_rows(self, std::move(batch));
  self
    ->request(self->state.store, self->state.config.request_timeout,
              db::insert_server_samples{batch->server_samples})
    .then(
      [self, batch](int64_t written) {
        self->state.stats.server_samples_written += written;
        batch->server_samples.clear();
        write_slice_rows(self, batch);
      },
      [self, batch](caf::error& err) { round_failed(self, batch, err); });
}

/// Takes a batch and writes it: per-slice samples, host samples, slice rows, alerts. Each
/// step runs only after the previous one succeeded, and a failure puts back what is left.
void write_round(writer_pointer self) {
  auto& st = self->state;
  auto batch = std::make_shared<telemetry_batch>(st.take());
  if (batch->empty())
    return round_done(self);
  st.writing = true;
  if (batch->samples.empty())
    return write_server_samples(self, std::move(batch));
  self->request(st.store, st.config.request_timeout, db::insert_telemetry{batch->samples})
    .then(
      [self, batch](int64_t written) {
        self->state.stats.samples_written += written;
        batch->samples.clear();
        write_server_samples(self, batch);
      },
      [self, batch](caf::error& err) { round_failed(self, batch, err); });
}

/// Starts a round unless one runs or the back-off after a failure has not passed.
void maybe_write(writer_pointer self) {
  auto& st = self->state;
  if (st.writing || (st.backoff > caf::timespan::zero() && self->clock().now() < st.retry_at))
    return;
  write_round(self);
}

} // namespace

telemetry_batch telemetry_writer_state::take() {
  telemetry_batch batch;
  auto n = std::min(samples.size(), config.batch_size);
  batch.samples.assign(
    std::make_move_iterator(samples.begin()),
    std::make_move_iterator(samples.begin() + static_cast<std::ptrdiff_t>(n)));
  samples.erase(samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(n));
  batch.server_samples.assign(std::make_move_iterator(server_samples.begin()),
                              std::make_move_iterator(server_samples.end()));
  server_samples.clear();
  for (auto& [id, row] : slice_rows)
    batch.slice_rows.push_back(std::move(row));
  slice_rows.clear();
  batch.alerts.assign(std::make_move_iterator(alerts.begin()),
                      std::make_move_iterator(alerts.end()));
  alerts.clear();
  return batch;
}

void telemetry_writer_state::put_back(telemetry_batch&& batch) {
  samples.insert(samples.begin(), std::make_move_iterator(batch.samples.begin()),
                 std::make_move_iterator(batch.samples.end()));
  server_samples.insert(server_samples.begin(),
                        std::make_move_iterator(batch.server_samples.begin()),
                        std::make_move_iterator(batch.server_samples.end()));
  // A row that arrived meanwhile is newer than the one that failed: emplace keeps it.
  for (auto& row : batch.slice_rows)
    slice_rows.emplace(row.slice_id, std::move(row));
  alerts.insert(alerts.begin(), std::make_move_iterator(batch.alerts.begin()),
                std::make_move_iterator(batch.alerts.end()));
  stats.alerts_dropped += trim_oldest(alerts, config.max_alerts_buffered);
  auto dropped = trim_oldest(samples, config.max_buffered)
                 + trim_oldest(server_samples, config.max_server_buffered);
  if (dropped > 0 && !dropping)
    spdlog::warn("telemetry-writer drops the oldest samples: its backlog is full");
  dropping = dropping || dropped > 0;
  stats.samples_dropped += dropped;
}

void telemetry_writer_state::push(telemetry_sample&& x) {
  samples.push_back(std::move(x));
  if (auto dropped = trim_oldest(samples, config.max_buffered); dropped > 0) {
    if (!dropping)
      spdlog::warn("telemetry-writer drops the oldest samples: its backlog is full");
    dropping = true;
    stats.samples_dropped += dropped;
  }
}

void telemetry_writer_state::push(server_sample&& x) {
  server_samples.push_back(std::move(x));
  stats.samples_dropped += trim_oldest(server_samples, config.max_server_buffered);
}

void telemetry_writer_state::push(events::slice_alert&& x) {
  alerts.push_back(std::move(x));
  stats.alerts_dropped += trim_oldest(alerts, config.max_alerts_buffered);
}

telemetry::writer_stats telemetry_writer_state::current_stats() const {
  auto result = stats;
  result.samples_buffered = static_cast<int64_t>(samples.size() + server_samples.size());
  result.slice_rows_buffered = static_cast<int64_t>(slice_rows.size());
  return result;
}

telemetry_writer_actor::behavior_type
telemetry_writer(telemetry_writer_actor::stateful_pointer<telemetry_writer_state> self,
                 telemetry_store_actor store, telemetry_writer_config cfg) {
  self->state.config = cfg;
  self->state.store = std::move(store);
  self->delayed_send(self, cfg.flush_interval, tick_atom_v);
  return {
    [self](telemetry_sample& x) {
      self->state.push(std::move(x));
      if (self->state.samples.size() >= self->state.config.batch_size)
        maybe_write(self);
    },
    [self](server_sample& x) { self->state.push(std::move(x)); },
    [self](events::slice_alert& x) { self->state.push(std::move(x)); },
    [self](db::slice_health_row& x) {
      auto id = x.slice_id;
      self->state.slice_rows.insert_or_assign(id, std::move(x));
    },
    [self](flush_atom) -> caf::result<telemetry::writer_stats> {
      auto& st = self->state;
      if (!st.writing && st.samples.empty() && st.server_samples.empty()
          && st.slice_rows.empty() && st.alerts.empty())
        return st.current_stats();
      auto rp = self->make_response_promise<telemetry::writer_stats>();
      st.flush_waiters.push_back(rp);
      // Someone is waiting: try now, back-off or not.
      if (!st.writing)
        write_round(self);
      return rp;
    },
    [self](stats_atom) { return self->state.current_stats(); },
    [self](tick_atom) {
      self->delayed_send(self, self->state.config.flush_interval, tick_atom_v);
      maybe_write(self);
    },
  };
}

} // namespace slicegate
