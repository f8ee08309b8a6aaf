#include "actors/slice_watcher.hpp"

#include <algorithm>
#include <cmath>
#include <string_view>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "messages/error.hpp"

namespace slicegate {

namespace {

using watcher_pointer = slice_watcher_actor::stateful_pointer<slice_watcher_state>;

/// A probe may wait in the prober's queue for up to its timeout before its transfer starts,
/// and the transfer may take the timeout again (see `probe::health_client`); this covers the
/// hand-over on either side.
constexpr caf::timespan prober_margin = std::chrono::seconds{1};

/// How long a cycle waits for the prober's and the runtime's answers.
caf::timespan cycle_deadline(const slice_watcher_config& config) {
  return 2 * config.health_timeout + prober_margin;
}

/// Sends `tick` to the watcher itself after `delay`, through the shared schedule if there is
/// one.
template <class Atom>
void send_later(watcher_pointer self, caf::timespan delay, Atom tick) {
  if (auto& schedule = self->state.peers.schedule)
    schedule->send_after(delay, self->address(), caf::make_message(tick));
  else
    self->delayed_send(self, delay, tick);
}

/// Arms the next staggered probe: the slice's next phase, at least half an interval after the
/// one armed last, so that a timer firing a little early (the actor clock is not the wall
/// clock) never yields a second probe at the same phase.
void arm_probe(watcher_pointer self) {
  auto& st = self->state;
  auto interval = st.config.health_interval;
  auto now = st.peers.clock();
  auto after = std::max(now, st.next_probe_at + interval / 2);
  st.next_probe_at = next_phase(after, interval, phase_offset(st.slice.spec.slice_id, interval));
  // A wall clock set back or forth must not park the watcher for longer than an interval.
  auto delay = std::clamp(caf::timespan{st.next_probe_at - now}, caf::timespan::zero(),
                          interval);
  send_later(self, delay, tick_atom_v);
}

/// Arms the next staggered disk walk, as `arm_probe` does the probes.
void arm_walk(watcher_pointer self) {
  auto& st = self->state;
  auto interval = st.config.disk_interval;
  auto now = st.peers.clock();
  auto after = std::max(now, st.next_walk_at + interval / 2);
  st.next_walk_at = next_phase(after, interval, phase_offset(st.slice.spec.slice_id, interval));
  auto delay = std::clamp(caf::timespan{st.next_walk_at - now}, caf::timespan::zero(),
                          interval);
  send_later(self, delay, disk_atom_v);
}

std::string mebibytes(int64_t bytes) {
  return std::to_string(bytes / (1024 * 1024)) + " MiB";
}

void alert(watcher_pointer self, events::alert_kind kind, std::string detail) {
  auto& st = self->state;
  // Good news is worth an info line; the rest needs someone's attention.
  using events::alert_kind;
  auto good = kind == alert_kind::recovered || kind == alert_kind::wa_connected
              || kind == alert_kind::restarted;
  spdlog::log(good ? spdlog::level::info : spdlog::level::warn,
              "slice-watcher {} raises {}: {}", st.slice.spec.slice_id, to_string(kind),
              detail);
  events::slice_alert event{st.slice.spec.slice_id, st.peers.clock(), kind, std::move(detail)};
  self->send(st.peers.writer, event);
  self->send(st.peers.events, std::move(event));
}

/// Asks the runtime to restart the slice, unless a restart runs or the back-off after the
/// last one has not passed. The next probe looks again.
void maybe_restart(watcher_pointer self) {
  auto& st = self->state;
  auto now = st.peers.clock();
  if (st.restarting || now < st.restart_at)
    return;
  st.restarting = true;
  auto failures = st.failures;
  spdlog::info("slice-watcher {} restarts its slice after {} failed probes",
               st.slice.spec.slice_id, failures);
  // Whatever the outcome, the next attempt waits for the back-off, which grows each time.
  st.restart_backoff = st.restart_backoff == caf::timespan::zero()
                         ? st.config.restart_backoff
                         : std::min(st.restart_backoff * 2, st.config.max_restart_backoff);
  st.restart_at = now + st.restart_backoff;
  self->request(st.peers.runtime, st.config.restart_timeout, rt::restart{st.slice.spec})
    .then(
      [self, failures](bool) {
        auto& st = self->state;
        st.restarting = false;
        st.slice.started_at = st.peers.clock();
        st.failures = 0;
        alert(self, events::alert_kind::restarted,
              "restarted after " + std::to_string(failures) + " failed probes");
      },
      [self](caf::error& err) {
        auto& st = self->state;
        st.restarting = false;
        spdlog::error("slice-watcher {} cannot restart its slice: {}", st.slice.spec.slice_id,
                      message_of(err));
      });
}

/// Judges a probe: counts failures outside the start period, raises `unhealthy` (and
/// restarts) on an assigned slice, `recovered` when an unhealthy slice answers again.
void judge_health(watcher_pointer self, const telemetry::health_result& health) {
  auto& st = self->state;
  if (health.ok()) {
    st.failures = 0;
    if (st.unhealthy) {
      st.unhealthy = false;
      st.restart_backoff = caf::timespan::zero();
      st.restart_at = {};
      alert(self, events::alert_kind::recovered, "answers its health probe again");
    }
    return;
  }
  if (st.peers.clock() < st.slice.started_at + st.config.health_start_period)
    return;
  ++st.failures;
  if (st.failures < st.config.health_failures || st.slice.status != slice_status::assigned)
    return;
  if (!st.unhealthy) {
    st.unhealthy = true;
    alert(self, events::alert_kind::unhealthy,
          std::to_string(st.failures)
            + " failed health probes in a row, last: " + health.error);
  }
  maybe_restart(self);
}

/// Raises `wa_connected` / `wa_disconnected` when an answering slice reports a change. A
/// slice that does not answer, or does not say, tells nothing about WhatsApp (`unhealthy`
/// covers the former).
void judge_whatsapp(watcher_pointer self, const telemetry::health_result& health) {
  auto& st = self->state;
  if (!health.ok())
    return;
  st.wa_phone = health.wa_phone;
  if (!health.wa_state)
    return;
  auto& wa_state = *health.wa_state;
  auto connected = wa_connected(wa_state);
  if (st.slice.wa_connected && *st.slice.wa_connected != connected)
    alert(self,
          connected ? events::alert_kind::wa_connected : events::alert_kind::wa_disconnected,
          "wa_state " + wa_state);
  st.slice.wa_connected = connected;
}

/// Raises `kind` when `value` rises above a non-zero `threshold`; `raised` remembers it until
/// the value falls back, so that a slice staying high alerts once.
void judge_threshold(watcher_pointer self, events::alert_kind kind, optional<int64_t> value,
                     int64_t threshold, bool& raised) {
  if (threshold <= 0 || !value)
    return;
  if (*value <= threshold) {
    raised = false;
    return;
  }
  if (!raised)
    alert(self, kind, mebibytes(*value) + " above the threshold of " + mebibytes(threshold));
  raised = true;
}

/// Both answers of a probe cycle are in: record, publish, judge, and arm the next cycle.
void finish_cycle(watcher_pointer self) {
  auto& st = self->state;
  auto health = std::move(*st.health);
  auto usage = std::move(*st.usage);
  st.health = caf::none;
  st.usage = caf::none;
  st.probing = false;
  auto healthy = health.ok();
  telemetry_sample sample;
  sample.slice_id = st.slice.spec.slice_id;
  sample.at = st.peers.clock();
  sample.rss_bytes = usage.rss_bytes;
  sample.wa_state
    = healthy ? health.wa_state.value_or(wa_state_unknown) : std::string{wa_state_unreachable};
  sample.cpu_percent = usage.cpu_percent;
  sample.disk_bytes = st.disk_bytes;
  judge_whatsapp(self, health);
  auto connected = wa_connected(sample.wa_state);
  db::slice_health_row row;
  row.slice_id = sample.slice_id;
  row.at = sample.at;
  row.healthy = healthy;
  row.wa_connected = connected;
  row.answered = healthy;
  row.wa_phone = st.wa_phone;
  row.storage_bytes = st.disk_bytes;
  self->send(st.peers.writer, std::move(row));
  self->send(st.peers.events, events::slice_health{sample, healthy, connected, st.wa_phone});
  self->send(st.peers.writer, std::move(sample));
  judge_health(self, health);
  judge_threshold(self, events::alert_kind::memory_high, usage.rss_bytes,
                  st.config.memory_alert_bytes, st.memory_high);
  if (!st.config.stagger)
    self->delayed_send(self, st.config.health_interval, tick_atom_v);
}

void maybe_finish_cycle(watcher_pointer self) {
  if (self->state.health && self->state.usage)
    finish_cycle(self);
}

/// Probes the slice and reads its usage at the same time; `finish_cycle` runs once both have
/// answered. Failures become results (unreachable, no figures), so a cycle always finishes.
///
/// Unstaggered, each request has a timeout. Staggered, the requests have none: every timeout
/// set and cancelled wakes the thread of CAF's actor clock, and at 10,000 slices those
/// wake-ups cost about as much as the probes themselves (bench/README.md, watch_10k). The
/// next phase's tick stands in for them: a cycle past its deadline then is given up on, its
/// missing answers recorded as failures, and a late answer to it is dropped. The prober and
/// the runtime answer every request, or fail it when they end.
void start_cycle(watcher_pointer self) {
  auto& st = self->state;
  if (st.probing) {
    if (!st.config.stagger || st.peers.clock() < st.cycle_started + cycle_deadline(st.config))
      return;
    if (!st.health) {
      telemetry::health_result result;
      result.error = "no answer from the prober in time";
      st.health = std::move(result);
    }
    if (!st.usage)
      st.usage = slice_usage{};
    finish_cycle(self);
  }
  st.probing = true;
  auto cycle = ++st.cycle;
  st.cycle_started = st.peers.clock();
  auto staggered = st.config.stagger;
  auto probe_timeout
    = staggered ? caf::duration{caf::infinite} : caf::duration{cycle_deadline(st.config)};
  auto usage_timeout
    = staggered ? caf::duration{caf::infinite} : caf::duration{st.config.health_timeout};
  auto current = [self, cycle] {
    return self->state.probing && self->state.cycle == cycle;
  };
  auto& spec = st.slice.spec;
  self
    ->request(st.peers.prober, probe_timeout,
              telemetry::health_check{st.config.slice_host, spec.port, st.config.health_timeout})
    .then(
      [self, current](telemetry::health_result& result) {
        if (!current())
          return;
        self->state.health = std::move(result);
        maybe_finish_cycle(self);
      },
      [self, current](caf::error& err) {
        if (!current())
          return;
        telemetry::health_result result;
        result.error = message_of(err);
        self->state.health = std::move(result);
        maybe_finish_cycle(self);
      });
  if (!st.config.runtime_usage) {
    st.usage = slice_usage{};
    return;
  }
  // A runtime busy elsewhere (a restart waits out its grace period) costs this sample its
  // figures, not its timing.
  self->request(st.peers.runtime, usage_timeout, rt::usage{spec.slice_id})
    .then(
      [self, current](slice_usage& usage) {
        if (!current())
          return;
        self->state.usage = std::move(usage);
        maybe_finish_cycle(self);
      },
      [self, current](caf::error& err) {
        if (!current())
          return;
        spdlog::debug("slice-watcher {} has no usage figures: {}",
                      self->state.slice.spec.slice_id, message_of(err));
        self->state.usage = slice_usage{};
        maybe_finish_cycle(self);
      });
}

/// Measures the data directory through the prober and arms the next measurement.
void start_disk_walk(watcher_pointer self) {
  auto& st = self->state;
  if (st.measuring || st.slice.spec.data_dir.empty())
    return;
  st.measuring = true;
  // A walk that outlasts the interval is useless; the next one starts over.
  self
    ->request(st.peers.prober, st.config.disk_interval,
              telemetry::disk_usage{st.slice.spec.data_dir})
    .then(
      [self](int64_t bytes) {
        auto& st = self->state;
        st.measuring = false;
        st.disk_bytes = bytes;
        judge_threshold(self, events::alert_kind::disk_high, bytes, st.config.disk_alert_bytes,
                        st.disk_high);
        if (!st.config.stagger)
          self->delayed_send(self, st.config.disk_interval, disk_atom_v);
      },
      [self](caf::error& err) {
        auto& st = self->state;
        st.measuring = false;
        spdlog::warn("slice-watcher {} cannot measure {}: {}", st.slice.spec.slice_id,
                     st.slice.spec.data_dir, message_of(err));
        if (!st.config.stagger)
          self->delayed_send(self, st.config.disk_interval, disk_atom_v);
      });
}

} // namespace

caf::timespan phase_offset(int32_t slice_id, caf::timespan interval) {
  constexpr double golden = 0.6180339887498949;
  double whole = 0;
  auto fraction = std::modf(slice_id * golden, &whole);
  return std::chrono::duration_cast<caf::timespan>(interval * fraction);
}

timestamp next_phase(timestamp after, caf::timespan interval, caf::timespan offset) {
  if (interval <= caf::timespan::zero())
    return after;
  auto since_epoch = std::chrono::duration_cast<caf::timespan>(after.time_since_epoch());
  // The phase instant at or before `after` (floor, also before the epoch), then the next one.
  auto shifted = since_epoch - offset;
  auto periods = shifted / interval;
  if (shifted % interval < caf::timespan::zero())
    --periods;
  auto t = periods * interval + offset;
  if (t <= since_epoch)
    t += interval;
  return timestamp{std::chrono::duration_cast<timestamp::duration>(t)};
}

bool wa_connected(const std::string& wa_state) {
  return wa_state == "CONNECTED" || wa_state == "open";
}

slice_watcher_actor::behavior_type
slice_watcher(slice_watcher_actor::stateful_pointer<slice_watcher_state> self,
              watched_slice slice, slice_watcher_peers peers, slice_watcher_config config) {
  auto& st = self->state;
  st.slice = std::move(slice);
  st.peers = std::move(peers);
  st.config = std::move(config);
  if (st.config.stagger) {
    // Nothing at spawn: ten thousand watchers spawned together would probe and walk at
    // once. The first walk comes at its phase of the disk interval; until then the slice row
    // keeps the storage figure it had.
    arm_walk(self);
    arm_probe(self);
  } else {
    // The first walk starts at once, ahead of the first probe, so that early samples can
    // carry a disk figure.
    self->send(self, disk_atom_v);
    self->send(self, tick_atom_v);
  }
  return {
    [self](tick_atom) {
      // Staggered, the next phase is armed before the cycle starts, whatever it takes.
      if (self->state.config.stagger)
        arm_probe(self);
      start_cycle(self);
    },
    [self](disk_atom) {
      if (self->state.config.stagger)
        arm_walk(self);
      start_disk_walk(self);
    },
    [self](telemetry::slice_status& x) {
      auto& st = self->state;
      if (st.slice.status != x.status)
        spdlog::debug("slice-watcher {} sees status {}", st.slice.spec.slice_id,
                      to_string(x.status));
      st.slice.status = x.status;
    },
    [self](telemetry::slice_started& x) {
      auto& st = self->state;
      st.slice.started_at = x.at;
      st.failures = 0;
    },
  };
}

} // namespace slicegate
