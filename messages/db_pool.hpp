#pragma once

// Requests to the persistence actor about the slice pool and the waiting queue. Each struct is
// one operation; its reply type is listed with the persistence interface in actors/actors.hpp
// (and with `pool_store_actor`, the part of it the slice manager uses).

#include <chrono>
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "messages/pool.hpp"
#include "messages/records.hpp"

namespace slicegate::db {

/// How long an idempotency key of `insert_slices` is remembered: a repeat within this window
/// replies with the first request's slices, a later one provisions anew.
constexpr auto idempotency_window = std::chrono::hours{24};

/// Inserts `count` slices on the smallest free ports `port_base + k * port_step`, in status
/// `destroying` with reason "provisioning" and data directory `<data_root>/slice-<id>`;
/// replies with an `inserted_slices`. The wipe that follows makes each one available, and a
/// crash before then leaves a row that start-up reconciliation finishes, so provisioning never
/// leaves anything half-made. `ec::conflict` when the pool would grow past `max_slices`
/// (0: no limit) or the ports run out; then nothing is inserted.
///
/// With `idempotency_key`, the key is looked up and recorded in the same transaction as the
/// insert: a key seen within `idempotency_window` inserts nothing and replies with the slices
/// of its first request (`repeated`). Keys past the window are deleted by that transaction.
struct insert_slices {
  int32_t count = 1;
  int32_t port_base = 5001;
  int32_t port_step = 2;
  int32_t max_slices = 0;
  std::string data_root;
  optional<std::string> idempotency_key;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, insert_slices& x) {
  return f(caf::meta::type_name("db::insert_slices"), x.count, x.port_base, x.port_step,
           x.max_slices, x.data_root, x.idempotency_key);
}

inline bool operator==(const insert_slices& x, const insert_slices& y) {
  return std::tie(x.count, x.port_base, x.port_step, x.max_slices, x.data_root,
                  x.idempotency_key)
         == std::tie(y.count, y.port_base, y.port_step, y.max_slices, y.data_root,
                     y.idempotency_key);
}

/// Reply to `insert_slices`: the new rows, or with `repeated` the slices an earlier request
/// with the same idempotency key made, as they are now (nothing was inserted: they need no
/// wipe from this request).
struct inserted_slices {
  std::vector<slice_record> slices;
  bool repeated = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, inserted_slices& x) {
  return f(caf::meta::type_name("db::inserted_slices"), x.slices, x.repeated);
}

inline bool operator==(const inserted_slices& x, const inserted_slices& y) {
  return x.slices == y.slices && x.repeated == y.repeated;
}

/// Lists slices by id, all or those in one status; replies with a
/// `std::vector<slice_record>`.
struct list_slices {
  optional<slice_status> status;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, list_slices& x) {
  return f(caf::meta::type_name("db::list_slices"), x.status);
}

inline bool operator==(const list_slices& x, const list_slices& y) {
  return x.status == y.status;
}

/// Reads one slice with its newest telemetry sample; replies with a `pool::slice_detail`,
/// `ec::not_found` if there is no such slice.
struct get_slice_detail {
  int32_t slice_id = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, get_slice_detail& x) {
  return f(caf::meta::type_name("db::get_slice_detail"), x.slice_id);
}

inline bool operator==(const get_slice_detail& x, const get_slice_detail& y) {
  return x.slice_id == y.slice_id;
}

/// Moves a slice from one of the statuses `from` to `to`, recording `reason` (none clears
/// it); replies with a `slice_transition`. Moving to `destroying` or `available` releases the
/// slice's user on both sides in the same transaction; moving to `available` also forgets the
/// health of what was wiped. `ec::not_found` if there is no such slice, `ec::conflict` if its
/// status is not one of `from`.
/// The billing policy's verdict a transition depends on: the move happens only when, in its
/// own transaction, with the slice and its user locked, the policy (`due_actions` at these
/// times) still asks for `action` on the slice. Otherwise the move is refused (`conflict`):
/// a payment that landed since the sweep read what was due wins.
struct due_guard {
  timestamp now;
  timestamp past_due_before;
  timestamp ended_before;
  pool::verb action = pool::verb::suspend;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, due_guard& x) {
  return f(caf::meta::type_name("db::due_guard"), x.now, x.past_due_before, x.ended_before,
           x.action);
}

inline bool operator==(const due_guard& x, const due_guard& y) {
  return std::tie(x.now, x.past_due_before, x.ended_before, x.action)
         == std::tie(y.now, y.past_due_before, y.ended_before, y.action);
}

struct transition_slice {
  int32_t slice_id = 0;
  std::vector<slice_status> from;
  slice_status to = slice_status::available;
  optional<std::string> reason;
  /// When set, the move is made only while the billing policy still asks for it.
  optional<due_guard> due;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, transition_slice& x) {
  return f(caf::meta::type_name("db::transition_slice"), x.slice_id, x.from, x.to, x.reason,
           x.due);
}

inline bool operator==(const transition_slice& x, const transition_slice& y) {
  return std::tie(x.slice_id, x.from, x.to, x.reason, x.due)
         == std::tie(y.slice_id, y.from, y.to, y.reason, y.due);
}

/// Reply to `transition_slice`: the slice afterwards, and what it was before.
struct slice_transition {
  slice_record slice;
  /// The status before.
  slice_status from = slice_status::available;
  /// The user the slice had before (released when `slice.user_id` is now none).
  optional<int32_t> previous_user_id;
  /// The status reason before, e.g. "provisioning".
  optional<std::string> previous_reason;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, slice_transition& x) {
  return f(caf::meta::type_name("db::slice_transition"), x.slice, x.from, x.previous_user_id,
           x.previous_reason);
}

inline bool operator==(const slice_transition& x, const slice_transition& y) {
  return std::tie(x.slice, x.from, x.previous_user_id, x.previous_reason)
         == std::tie(y.slice, y.from, y.previous_user_id, y.previous_reason);
}

/// A user that got a slice, and the slice (now `assigned`).
struct assignment {
  int32_t user_id = 0;
  slice_record slice;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, assignment& x) {
  return f(caf::meta::type_name("db::assignment"), x.user_id, x.slice);
}

inline bool operator==(const assignment& x, const assignment& y) {
  return x.user_id == y.user_id && x.slice == y.slice;
}

/// Gives up to `limit` waiting users a slice each, in one transaction: the oldest waiting
/// users (no slice; `active`, or `trial` not ended at `now`) paired in queue order with the
/// available slices not known to be unhealthy, lowest id first. Replies with a
/// `std::vector<assignment>` in queue order; fewer than `limit` means the queue or the pool
/// ran dry.
struct assign_next {
  int32_t limit = 100;
  timestamp now;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, assign_next& x) {
  return f(caf::meta::type_name("db::assign_next"), x.limit, x.now);
}

inline bool operator==(const assign_next& x, const assign_next& y) {
  return x.limit == y.limit && x.now == y.now;
}

/// Gives one user a slice, whatever its place in the queue (admin): slice `slice_id`, or the
/// next available one not known to be unhealthy. Replies with an `assignment`.
/// `ec::not_found` for an unknown user or slice; `ec::conflict` if the user has a slice, the
/// slice is not available, or none is free.
struct assign_user {
  int32_t user_id = 0;
  optional<int32_t> slice_id;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, assign_user& x) {
  return f(caf::meta::type_name("db::assign_user"), x.user_id, x.slice_id);
}

inline bool operator==(const assign_user& x, const assign_user& y) {
  return x.user_id == y.user_id && x.slice_id == y.slice_id;
}

/// Where a user stands at `now`: its slice, or its 1-based place among the waiting users
/// (those created before it, ties broken by id, plus itself). Replies with a
/// `pool::placement`; both fields none for a user who neither has a slice nor waits (e.g.
/// cancelled). `ec::not_found` for an unknown user.
struct get_placement {
  int32_t user_id = 0;
  timestamp now;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, get_placement& x) {
  return f(caf::meta::type_name("db::get_placement"), x.user_id, x.now);
}

inline bool operator==(const get_placement& x, const get_placement& y) {
  return x.user_id == y.user_id && x.now == y.now;
}

/// `get_placement` for several users in one read; replies with one placement per user, in the
/// same order (an unknown user's is empty).
struct get_placements {
  std::vector<int32_t> user_ids;
  timestamp now;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, get_placements& x) {
  return f(caf::meta::type_name("db::get_placements"), x.user_ids, x.now);
}

inline bool operator==(const get_placements& x, const get_placements& y) {
  return x.user_ids == y.user_ids && x.now == y.now;
}

/// The lifecycle actions the billing policy of DESIGN.md §3 asks for at `now` (see
/// sql/queries/pool_due_actions.sql for the rules); replies with a
/// `std::vector<due_action>` by slice id.
struct due_actions {
  timestamp now;
  /// `now` minus the past-due grace period.
  timestamp past_due_before;
  /// `now` minus the data retention after a cancelled subscription ended.
  timestamp ended_before;
  /// Only this user's slice; none: every slice.
  optional<int32_t> user_id;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, due_actions& x) {
  return f(caf::meta::type_name("db::due_actions"), x.now, x.past_due_before, x.ended_before,
           x.user_id);
}

inline bool operator==(const due_actions& x, const due_actions& y) {
  return std::tie(x.now, x.past_due_before, x.ended_before, x.user_id)
         == std::tie(y.now, y.past_due_before, y.ended_before, y.user_id);
}

/// One action `due_actions` found.
struct due_action {
  int32_t slice_id = 0;
  optional<int32_t> user_id;
  /// The slice's status when read; `destroy` of a `destroying` slice retries its wipe.
  slice_status status = slice_status::available;
  pool::verb action = pool::verb::suspend;
  /// Why, e.g. "billing: trial ended"; becomes the slice's status reason.
  std::string reason;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, due_action& x) {
  return f(caf::meta::type_name("db::due_action"), x.slice_id, x.user_id, x.status, x.action,
           x.reason);
}

inline bool operator==(const due_action& x, const due_action& y) {
  return std::tie(x.slice_id, x.user_id, x.status, x.action, x.reason)
         == std::tie(y.slice_id, y.user_id, y.status, y.action, y.reason);
}

/// Counts the pool for its floor; replies with a `pool_totals`.
struct count_pool {};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, count_pool&) {
  return f(caf::meta::type_name("db::count_pool"));
}

inline bool operator==(const count_pool&, const count_pool&) {
  return true;
}

/// Reply to `count_pool`.
struct pool_totals {
  /// Every slice.
  int32_t total = 0;
  /// Available, without a user, not known to be unhealthy: ready to hand out.
  int32_t ready = 0;
  /// Being wiped; each becomes available when its wipe is done.
  int32_t destroying = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pool_totals& x) {
  return f(caf::meta::type_name("db::pool_totals"), x.total, x.ready, x.destroying);
}

inline bool operator==(const pool_totals& x, const pool_totals& y) {
  return std::tie(x.total, x.ready, x.destroying) == std::tie(y.total, y.ready, y.destroying);
}

} // namespace slicegate::db
