#pragma once

// Requests to the slice manager.

#include <cstdint>
#include <string>
#include <vector>

#include "messages/records.hpp"

namespace slicegate::pool {

/// A user was created (either signup path): assign a slice if one is free. Replies with
/// where the user stands.
struct place_user {
  int32_t user_id = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, place_user& x) {
  return f(caf::meta::type_name("pool::place_user"), x.user_id);
}

inline bool operator==(const place_user& x, const place_user& y) {
  return x.user_id == y.user_id;
}

/// Reply to `place_user`: the slice the user has, or their place in the waiting queue.
struct placement {
  optional<slice_record> slice;
  optional<int32_t> waiting_position;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, placement& x) {
  return f(caf::meta::type_name("pool::placement"), x.slice, x.waiting_position);
}

inline bool operator==(const placement& x, const placement& y) {
  return x.slice == y.slice && x.waiting_position == y.waiting_position;
}

/// Several users were created at once (a burst of signup events): one assignment pass for
/// all. Replies with one `placement` per user, in the same order.
struct place_users {
  std::vector<int32_t> user_ids;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, place_users& x) {
  return f(caf::meta::type_name("pool::place_users"), x.user_ids);
}

inline bool operator==(const place_users& x, const place_users& y) {
  return x.user_ids == y.user_ids;
}

/// Admin: provision `count` more slices. Replies with the new slices as soon as their rows
/// exist, in status `destroying`; each turns `available` once its wipe ends. With
/// `idempotency_key`, a repeat of an earlier request with the same key (within
/// `db::idempotency_window`) creates nothing and replies with that request's slices as they
/// are now.
struct create_slices {
  int32_t count = 1;
  optional<std::string> idempotency_key;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, create_slices& x) {
  return f(caf::meta::type_name("pool::create_slices"), x.count, x.idempotency_key);
}

inline bool operator==(const create_slices& x, const create_slices& y) {
  return x.count == y.count && x.idempotency_key == y.idempotency_key;
}

/// Admin: list slices, optionally of one status.
struct list_slices {
  optional<slice_status> status;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, list_slices& x) {
  return f(caf::meta::type_name("pool::list_slices"), x.status);
}

inline bool operator==(const list_slices& x, const list_slices& y) {
  return x.status == y.status;
}

/// Admin: one slice with its latest telemetry sample.
struct get_slice {
  int32_t slice_id = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, get_slice& x) {
  return f(caf::meta::type_name("pool::get_slice"), x.slice_id);
}

inline bool operator==(const get_slice& x, const get_slice& y) {
  return x.slice_id == y.slice_id;
}

/// Reply to `get_slice`.
struct slice_detail {
  slice_record slice;
  optional<telemetry_sample> latest;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, slice_detail& x) {
  return f(caf::meta::type_name("pool::slice_detail"), x.slice, x.latest);
}

inline bool operator==(const slice_detail& x, const slice_detail& y) {
  return x.slice == y.slice && x.latest == y.latest;
}

/// The lifecycle verbs an admin (or the billing policy) can apply to one slice.
enum class verb : uint8_t { suspend, resume, destroy };

/// Returns "suspend", "resume" or "destroy".
std::string to_string(verb x);

/// Admin: suspend, resume or destroy a slice. Replies with the slice after the transition.
struct change_slice {
  int32_t slice_id = 0;
  verb action = verb::suspend;
  /// The admin's own words, without any prefix: the slice manager records the status reason
  /// as "admin: <reason>", or "admin" when this is empty.
  std::string reason;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, change_slice& x) {
  return f(caf::meta::type_name("pool::change_slice"), x.slice_id, x.action, x.reason);
}

inline bool operator==(const change_slice& x, const change_slice& y) {
  return x.slice_id == y.slice_id && x.action == y.action && x.reason == y.reason;
}

/// Admin: give a waiting user a slice (a given one, or the next healthy available one).
struct assign_slice {
  int32_t user_id = 0;
  optional<int32_t> slice_id;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, assign_slice& x) {
  return f(caf::meta::type_name("pool::assign_slice"), x.user_id, x.slice_id);
}

inline bool operator==(const assign_slice& x, const assign_slice& y) {
  return x.user_id == y.user_id && x.slice_id == y.slice_id;
}

/// A user's billing state changed: apply the slice policy to that user now rather than at
/// the next sweep.
struct billing_changed {
  int32_t user_id = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, billing_changed& x) {
  return f(caf::meta::type_name("pool::billing_changed"), x.user_id);
}

inline bool operator==(const billing_changed& x, const billing_changed& y) {
  return x.user_id == y.user_id;
}

} // namespace slicegate::pool
