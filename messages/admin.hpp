#pragma once

// What the admin console asks and what it gets back (DESIGN.md §4, `users.*`, `telemetry.*`,
// `overview`, `slices.list` with telemetry). Reads go to persistence; the changes to a user
// (`update_user`, `revoke_sessions`) go to the session manager, which owns the session cache
// they must reach at once.

#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "messages/events.hpp"
#include "messages/records.hpp"

namespace slicegate::admin {

// -- users ------------------------------------------------------------------------------------

/// Where a page of users ends: the (created_at, id) of its last row.
struct page_key {
  timestamp created_at;
  int32_t id = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, page_key& x) {
  return f(caf::meta::type_name("admin::page_key"), x.created_at, x.id);
}

inline bool operator==(const page_key& x, const page_key& y) {
  return std::tie(x.created_at, x.id) == std::tie(y.created_at, y.id);
}

/// Lists users, newest first unless `oldest_first`, `limit` at a time. Every filter left empty
/// matches everyone. Replies with a `user_page`.
struct list_users {
  optional<subscription> status;
  /// Waiting for a slice (DESIGN.md §3: no slice, and active or in a running trial), or not.
  optional<bool> waiting;
  optional<bool> is_admin;
  /// Lowercase; matched literally against the start of the e-mail.
  optional<std::string> email_prefix;
  int32_t limit = 50;
  /// The end of the previous page; none starts at the beginning.
  optional<page_key> after;
  bool oldest_first = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, list_users& x) {
  return f(caf::meta::type_name("admin::list_users"), x.status, x.waiting, x.is_admin,
           x.email_prefix, x.limit, x.after, x.oldest_first);
}

inline bool operator==(const list_users& x, const list_users& y) {
  return std::tie(x.status, x.waiting, x.is_admin, x.email_prefix, x.limit, x.after,
                  x.oldest_first)
         == std::tie(y.status, y.waiting, y.is_admin, y.email_prefix, y.limit, y.after,
                     y.oldest_first);
}

/// One page of users; `next` is set when more rows may follow.
struct user_page {
  std::vector<user_record> users;
  optional<page_key> next;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, user_page& x) {
  return f(caf::meta::type_name("admin::user_page"), x.users, x.next);
}

inline bool operator==(const user_page& x, const user_page& y) {
  return std::tie(x.users, x.next) == std::tie(y.users, y.next);
}

/// To the session manager: one user with what an operator looks at next (a `user_detail`);
/// `ec::not_found` for an unknown id. The session manager asks persistence with `get_user`.
struct find_user {
  int32_t user_id = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, find_user& x) {
  return f(caf::meta::type_name("admin::find_user"), x.user_id);
}

inline bool operator==(const find_user& x, const find_user& y) {
  return x.user_id == y.user_id;
}

/// To persistence: `find_user` at `now`, with the session rules of the session manager.
struct get_user {
  int32_t user_id = 0;
  /// Decides the waiting position (a trial that has ended does not wait) and which sessions
  /// have expired.
  timestamp now;
  /// Sessions created before this have reached their absolute end (`session-max-age`).
  timestamp sessions_created_after;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, get_user& x) {
  return f(caf::meta::type_name("admin::get_user"), x.user_id, x.now, x.sessions_created_after);
}

inline bool operator==(const get_user& x, const get_user& y) {
  return std::tie(x.user_id, x.now, x.sessions_created_after)
         == std::tie(y.user_id, y.now, y.sessions_created_after);
}

/// A row of `gateway.billing_events` as an operator reads it (no payload).
struct billing_entry {
  std::string event_id;
  std::string type;
  optional<std::string> stripe_status;
  optional<std::string> mapped_status;
  timestamp stripe_created;
  timestamp received_at;
  optional<timestamp> applied_at;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, billing_entry& x) {
  return f(caf::meta::type_name("admin::billing_entry"), x.event_id, x.type, x.stripe_status,
           x.mapped_status, x.stripe_created, x.received_at, x.applied_at);
}

inline bool operator==(const billing_entry& x, const billing_entry& y) {
  return std::tie(x.event_id, x.type, x.stripe_status, x.mapped_status, x.stripe_created,
                  x.received_at, x.applied_at)
         == std::tie(y.event_id, y.type, y.stripe_status, y.mapped_status, y.stripe_created,
                     y.received_at, y.applied_at);
}

/// Reply to `get_user`.
struct user_detail {
  user_record user;
  optional<slice_record> slice;
  /// 1-based place in the waiting queue; none when not waiting.
  optional<int32_t> waiting_position;
  int32_t live_sessions = 0;
  /// The newest first, at most ten.
  std::vector<billing_entry> billing_events;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, user_detail& x) {
  return f(caf::meta::type_name("admin::user_detail"), x.user, x.slice, x.waiting_position,
           x.live_sessions, x.billing_events);
}

inline bool operator==(const user_detail& x, const user_detail& y) {
  return std::tie(x.user, x.slice, x.waiting_position, x.live_sessions, x.billing_events)
         == std::tie(y.user, y.slice, y.waiting_position, y.live_sessions, y.billing_events);
}

/// To the session manager: admin `by` grants or withdraws admin rights of `user_id`. Takes
/// effect on that user's next request; `ec::conflict` when it would leave no admin. Replies
/// with the updated user.
struct update_user {
  int32_t by = 0;
  int32_t user_id = 0;
  bool is_admin = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, update_user& x) {
  return f(caf::meta::type_name("admin::update_user"), x.by, x.user_id, x.is_admin);
}

inline bool operator==(const update_user& x, const update_user& y) {
  return std::tie(x.by, x.user_id, x.is_admin) == std::tie(y.by, y.user_id, y.is_admin);
}

/// To the session manager: admin `by` ends every session of `user_id` at once; replies with
/// the number ended, `ec::not_found` for an unknown user.
struct revoke_sessions {
  int32_t by = 0;
  int32_t user_id = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, revoke_sessions& x) {
  return f(caf::meta::type_name("admin::revoke_sessions"), x.by, x.user_id);
}

inline bool operator==(const revoke_sessions& x, const revoke_sessions& y) {
  return std::tie(x.by, x.user_id) == std::tie(y.by, y.user_id);
}

// -- telemetry --------------------------------------------------------------------------------

/// Most points one series reply may hold.
constexpr int64_t max_series_points = 10000;

/// A time range cut into buckets of `bucket_seconds`, aligned to multiples of it since the
/// epoch.
struct series_range {
  timestamp from;
  timestamp to;
  int64_t bucket_seconds = 300;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, series_range& x) {
  return f(caf::meta::type_name("admin::series_range"), x.from, x.to, x.bucket_seconds);
}

inline bool operator==(const series_range& x, const series_range& y) {
  return std::tie(x.from, x.to, x.bucket_seconds) == std::tie(y.from, y.to, y.bucket_seconds);
}

/// How many buckets `x` touches.
int64_t bucket_count(const series_range& x);

/// The telemetry of one slice, aggregated per bucket; `ec::not_found` for an unknown slice.
struct slice_series {
  int32_t slice_id = 0;
  series_range range;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, slice_series& x) {
  return f(caf::meta::type_name("admin::slice_series"), x.slice_id, x.range);
}

inline bool operator==(const slice_series& x, const slice_series& y) {
  return std::tie(x.slice_id, x.range) == std::tie(y.slice_id, y.range);
}

/// One bucket of a slice's series.
struct slice_point {
  /// The bucket's start.
  timestamp at;
  int32_t samples = 0;
  optional<double> rss_bytes_avg;
  optional<int64_t> rss_bytes_max;
  optional<double> cpu_percent_avg;
  optional<double> cpu_percent_max;
  optional<int64_t> disk_bytes_last;
  /// Share of the samples in which WhatsApp was connected, 0 to 1.
  double wa_connected_share = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, slice_point& x) {
  return f(caf::meta::type_name("admin::slice_point"), x.at, x.samples, x.rss_bytes_avg,
           x.rss_bytes_max, x.cpu_percent_avg, x.cpu_percent_max, x.disk_bytes_last,
           x.wa_connected_share);
}

inline bool operator==(const slice_point& x, const slice_point& y) {
  return std::tie(x.at, x.samples, x.rss_bytes_avg, x.rss_bytes_max, x.cpu_percent_avg,
                  x.cpu_percent_max, x.disk_bytes_last, x.wa_connected_share)
         == std::tie(y.at, y.samples, y.rss_bytes_avg, y.rss_bytes_max, y.cpu_percent_avg,
                     y.cpu_percent_max, y.disk_bytes_last, y.wa_connected_share);
}

/// The host's telemetry, aggregated per bucket.
struct server_series {
  series_range range;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, server_series& x) {
  return f(caf::meta::type_name("admin::server_series"), x.range);
}

inline bool operator==(const server_series& x, const server_series& y) {
  return x.range == y.range;
}

/// One bucket of the host's series: usage averaged (and its peak), totals and slice counts
/// as the bucket's newest sample had them.
struct server_point {
  timestamp at;
  int32_t samples = 0;
  double ram_used_bytes_avg = 0;
  int64_t ram_used_bytes_max = 0;
  int64_t ram_total_bytes = 0;
  double swap_used_bytes_avg = 0;
  int64_t swap_total_bytes = 0;
  double cpu_percent_avg = 0;
  double cpu_percent_max = 0;
  int64_t disk_used_bytes_last = 0;
  int64_t disk_total_bytes = 0;
  int32_t active_slices_last = 0;
  int32_t total_slices_last = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, server_point& x) {
  return f(caf::meta::type_name("admin::server_point"), x.at, x.samples, x.ram_used_bytes_avg,
           x.ram_used_bytes_max, x.ram_total_bytes, x.swap_used_bytes_avg, x.swap_total_bytes,
           x.cpu_percent_avg, x.cpu_percent_max, x.disk_used_bytes_last, x.disk_total_bytes,
           x.active_slices_last, x.total_slices_last);
}

inline bool operator==(const server_point& x, const server_point& y) {
  return std::tie(x.at, x.samples, x.ram_used_bytes_avg, x.ram_used_bytes_max,
                  x.ram_total_bytes, x.swap_used_bytes_avg, x.swap_total_bytes,
                  x.cpu_percent_avg, x.cpu_percent_max, x.disk_used_bytes_last,
                  x.disk_total_bytes, x.active_slices_last, x.total_slices_last)
         == std::tie(y.at, y.samples, y.ram_used_bytes_avg, y.ram_used_bytes_max,
                     y.ram_total_bytes, y.swap_used_bytes_avg, y.swap_total_bytes,
                     y.cpu_percent_avg, y.cpu_percent_max, y.disk_used_bytes_last,
                     y.disk_total_bytes, y.active_slices_last, y.total_slices_last);
}

// -- the pool at a glance ---------------------------------------------------------------------

/// Lists slices with their user's e-mail and newest sample (`slicectl top`).
struct list_slice_views {
  optional<slice_status> status;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, list_slice_views& x) {
  return f(caf::meta::type_name("admin::list_slice_views"), x.status);
}

inline bool operator==(const list_slice_views& x, const list_slice_views& y) {
  return x.status == y.status;
}

/// A slice with what a live view shows beside it.
struct slice_view {
  slice_record slice;
  optional<std::string> user_email;
  optional<telemetry_sample> latest;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, slice_view& x) {
  return f(caf::meta::type_name("admin::slice_view"), x.slice, x.user_email, x.latest);
}

inline bool operator==(const slice_view& x, const slice_view& y) {
  return std::tie(x.slice, x.user_email, x.latest) == std::tie(y.slice, y.user_email, y.latest);
}

/// Reads the overview: counts, the waiting queue, the newest host sample, recent alerts.
struct get_overview {
  /// Alerts raised since then are listed (the last hour).
  timestamp alerts_since;
  /// Listed at most; `alerts_total` counts them all.
  int32_t max_alerts = 50;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, get_overview& x) {
  return f(caf::meta::type_name("admin::get_overview"), x.alerts_since, x.max_alerts);
}

inline bool operator==(const get_overview& x, const get_overview& y) {
  return std::tie(x.alerts_since, x.max_alerts) == std::tie(y.alerts_since, y.max_alerts);
}

/// Reply to `get_overview`.
struct overview {
  timestamp at;
  int32_t slices_total = 0;
  int32_t available = 0;
  int32_t assigned = 0;
  int32_t suspended = 0;
  int32_t destroying = 0;
  /// Of the watched (available and assigned) slices.
  int32_t healthy = 0;
  int32_t unhealthy = 0;
  int32_t unchecked = 0;
  int32_t waiting = 0;
  /// When the user waiting longest signed up; none when nobody waits.
  optional<timestamp> oldest_waiting_since;
  int32_t users_total = 0;
  int32_t trial = 0;
  int32_t active = 0;
  int32_t past_due = 0;
  int32_t cancelled = 0;
  int32_t admins = 0;
  optional<server_sample> server;
  std::vector<events::slice_alert> alerts;
  int32_t alerts_total = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, overview& x) {
  return f(caf::meta::type_name("admin::overview"), x.at, x.slices_total, x.available,
           x.assigned, x.suspended, x.destroying, x.healthy, x.unhealthy, x.unchecked,
           x.waiting, x.oldest_waiting_since, x.users_total, x.trial, x.active, x.past_due,
           x.cancelled, x.admins, x.server, x.alerts, x.alerts_total);
}

inline bool operator==(const overview& x, const overview& y) {
  auto fields = [](const overview& o) {
    return std::tie(o.at, o.slices_total, o.available, o.assigned, o.suspended, o.destroying,
                    o.healthy, o.unhealthy, o.unchecked, o.waiting, o.oldest_waiting_since,
                    o.users_total, o.trial, o.active, o.past_due, o.cancelled, o.admins,
                    o.server, o.alerts, o.alerts_total);
  };
  return fields(x) == fields(y);
}

// -- alerts -----------------------------------------------------------------------------------

/// Stores alerts as they were published (the telemetry writer batches them).
struct insert_alerts {
  std::vector<events::slice_alert> alerts;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, insert_alerts& x) {
  return f(caf::meta::type_name("admin::insert_alerts"), x.alerts);
}

inline bool operator==(const insert_alerts& x, const insert_alerts& y) {
  return x.alerts == y.alerts;
}

/// Deletes one batch of alerts raised before `cutoff`; replies with the rows deleted.
struct prune_alerts {
  timestamp cutoff;
  int32_t batch = 10000;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, prune_alerts& x) {
  return f(caf::meta::type_name("admin::prune_alerts"), x.cutoff, x.batch);
}

inline bool operator==(const prune_alerts& x, const prune_alerts& y) {
  return std::tie(x.cutoff, x.batch) == std::tie(y.cutoff, y.batch);
}

// -- dead letters -----------------------------------------------------------------------------

/// An inbound event that could never be processed, kept with its original body for an
/// operator to list and replay (`<p>.admin.dead_letters.*`).
struct dead_letter {
  int64_t id = 0;
  /// The subject it arrived on, e.g. "gateway.events.signup".
  std::string subject;
  /// The body's `id`, when it has one.
  optional<std::string> event_id;
  /// The body exactly as it arrived; bytes, not text.
  std::vector<uint8_t> payload;
  std::string reason;
  /// Its sequence in the events stream, and how often it had been delivered.
  optional<int64_t> stream_sequence;
  int64_t deliveries = 0;
  timestamp rejected_at;
  /// The last replay, and how many there were.
  optional<timestamp> replayed_at;
  int32_t replays = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, dead_letter& x) {
  return f(caf::meta::type_name("admin::dead_letter"), x.id, x.subject, x.event_id, x.payload,
           x.reason, x.stream_sequence, x.deliveries, x.rejected_at, x.replayed_at, x.replays);
}

inline bool operator==(const dead_letter& x, const dead_letter& y) {
  return std::tie(x.id, x.subject, x.event_id, x.payload, x.reason, x.stream_sequence,
                  x.deliveries, x.rejected_at, x.replayed_at, x.replays)
         == std::tie(y.id, y.subject, y.event_id, y.payload, y.reason, y.stream_sequence,
                     y.deliveries, y.rejected_at, y.replayed_at, y.replays);
}

/// Keeps a rejected event; replies with its row's id. A redelivery of the same stream message
/// updates its row.
struct record_dead_letter {
  std::string subject;
  optional<std::string> event_id;
  std::vector<uint8_t> payload;
  std::string reason;
  optional<int64_t> stream_sequence;
  int64_t deliveries = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, record_dead_letter& x) {
  return f(caf::meta::type_name("admin::record_dead_letter"), x.subject, x.event_id, x.payload,
           x.reason, x.stream_sequence, x.deliveries);
}

inline bool operator==(const record_dead_letter& x, const record_dead_letter& y) {
  return std::tie(x.subject, x.event_id, x.payload, x.reason, x.stream_sequence, x.deliveries)
         == std::tie(y.subject, y.event_id, y.payload, y.reason, y.stream_sequence,
                     y.deliveries);
}

/// Most dead letters one `list_dead_letters` returns.
constexpr int32_t max_dead_letter_page = 500;

/// Lists dead letters with an id above `after`, oldest first, at most `limit`; replayed ones
/// only with `include_replayed`. Replies with a `std::vector<dead_letter>`.
struct list_dead_letters {
  int64_t after = 0;
  int32_t limit = 50;
  bool include_replayed = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, list_dead_letters& x) {
  return f(caf::meta::type_name("admin::list_dead_letters"), x.after, x.limit,
           x.include_replayed);
}

inline bool operator==(const list_dead_letters& x, const list_dead_letters& y) {
  return std::tie(x.after, x.limit, x.include_replayed)
         == std::tie(y.after, y.limit, y.include_replayed);
}

/// Reads one dead letter; `not_found` for an unknown id.
struct get_dead_letter {
  int64_t id = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, get_dead_letter& x) {
  return f(caf::meta::type_name("admin::get_dead_letter"), x.id);
}

inline bool operator==(const get_dead_letter& x, const get_dead_letter& y) {
  return x.id == y.id;
}

/// Stamps a dead letter as published again now; replies with its row.
struct mark_replayed {
  int64_t id = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, mark_replayed& x) {
  return f(caf::meta::type_name("admin::mark_replayed"), x.id);
}

inline bool operator==(const mark_replayed& x, const mark_replayed& y) {
  return x.id == y.id;
}

/// Deletes one batch of dead letters rejected before `cutoff`; replies with the rows deleted.
struct prune_dead_letters {
  timestamp cutoff;
  int32_t batch = 10000;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, prune_dead_letters& x) {
  return f(caf::meta::type_name("admin::prune_dead_letters"), x.cutoff, x.batch);
}

inline bool operator==(const prune_dead_letters& x, const prune_dead_letters& y) {
  return std::tie(x.cutoff, x.batch) == std::tie(y.cutoff, y.batch);
}

} // namespace slicegate::admin
