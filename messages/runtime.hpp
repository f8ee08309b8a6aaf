#pragma once

// Requests to the runtime actor, which starts, stops and measures slices through the
// configured runtime driver (runtime/driver.hpp), and what it reports back.

#include <cstdint>
#include <string>
#include <tuple>

#include "messages/records.hpp"

namespace slicegate {

/// What a runtime driver needs to run one slice.
struct slice_spec {
  int32_t slice_id = 0;
  /// The port the slice listens on (on `slice-host`; inside its container as well).
  int32_t port = 0;
  /// The slice's data directory on this host.
  std::string data_dir;
  /// The slice's own database (`wa_slice_<id>`).
  std::string database_url;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, slice_spec& x) {
  // omittable(): the database URL may carry a password; logs never render it.
  return f(caf::meta::type_name("slice_spec"), x.slice_id, x.port, x.data_dir,
           caf::meta::omittable(), x.database_url);
}

inline bool operator==(const slice_spec& x, const slice_spec& y) {
  return std::tie(x.slice_id, x.port, x.data_dir, x.database_url)
         == std::tie(y.slice_id, y.port, y.data_dir, y.database_url);
}

/// Memory and CPU of one slice. A value is none when the runtime cannot tell (a stopped slice,
/// the `external` runtime, or the first CPU reading, which has nothing to compare with).
struct slice_usage {
  /// Resident memory without reclaimable file cache: the figure `docker stats` shows.
  optional<int64_t> rss_bytes;
  /// CPU since the previous reading, 100 per fully used core.
  optional<double> cpu_percent;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, slice_usage& x) {
  return f(caf::meta::type_name("slice_usage"), x.rss_bytes, x.cpu_percent);
}

inline bool operator==(const slice_usage& x, const slice_usage& y) {
  return x.rss_bytes == y.rss_bytes && x.cpu_percent == y.cpu_percent;
}

} // namespace slicegate

namespace slicegate::rt {

/// Starts a slice; a slice that already runs is left alone. Replies true.
struct start {
  slice_spec spec;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, start& x) {
  return f(caf::meta::type_name("rt::start"), x.spec);
}

inline bool operator==(const start& x, const start& y) {
  return x.spec == y.spec;
}

/// Stops a slice (SIGTERM or `docker stop`, then a kill after `stop-grace`); its data and, for
/// docker, its container are kept. Stopping a stopped slice is fine. Replies true.
struct stop {
  int32_t slice_id = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stop& x) {
  return f(caf::meta::type_name("rt::stop"), x.slice_id);
}

inline bool operator==(const stop& x, const stop& y) {
  return x.slice_id == y.slice_id;
}

/// Stops a slice if it runs, then starts it again. Replies true.
struct restart {
  slice_spec spec;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, restart& x) {
  return f(caf::meta::type_name("rt::restart"), x.spec);
}

inline bool operator==(const restart& x, const restart& y) {
  return x.spec == y.spec;
}

/// Stops a slice and deletes what the runtime keeps for it (the container); the data
/// directory stays. Removing an unknown slice is fine. Replies true.
struct remove {
  int32_t slice_id = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, remove& x) {
  return f(caf::meta::type_name("rt::remove"), x.slice_id);
}

inline bool operator==(const remove& x, const remove& y) {
  return x.slice_id == y.slice_id;
}

/// Reads a slice's memory and CPU; replies with a `slice_usage`.
struct usage {
  int32_t slice_id = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, usage& x) {
  return f(caf::meta::type_name("rt::usage"), x.slice_id);
}

inline bool operator==(const usage& x, const usage& y) {
  return x.slice_id == y.slice_id;
}

/// Keeps a slice that already runs, if it runs as this daemon would run it with the database
/// role `database_role`; replies true when it does. Replies false, and leaves the runtime as
/// it is, when the slice does not run, or runs differently: the caller then starts it afresh
/// (`start`) with new credentials. A daemon that restarts thus keeps its slices running
/// without knowing their passwords.
struct adopt {
  int32_t slice_id = 0;
  std::string database_role;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, adopt& x) {
  return f(caf::meta::type_name("rt::adopt"), x.slice_id, x.database_role);
}

inline bool operator==(const adopt& x, const adopt& y) {
  return x.slice_id == y.slice_id && x.database_role == y.database_role;
}

/// Asks whether a slice runs; replies with a bool.
struct running {
  int32_t slice_id = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, running& x) {
  return f(caf::meta::type_name("rt::running"), x.slice_id);
}

inline bool operator==(const running& x, const running& y) {
  return x.slice_id == y.slice_id;
}

/// Makes the sender the one actor told about slices that die on their own (`exited`); a later
/// subscriber replaces an earlier one. Replies true.
struct subscribe {};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, subscribe&) {
  return f(caf::meta::type_name("rt::subscribe"));
}

inline bool operator==(const subscribe&, const subscribe&) {
  return true;
}

/// A slice's process or container stopped without being asked to.
struct exited {
  int32_t slice_id = 0;
  /// How it ended, e.g. "exited with status 1" or "killed by signal 9".
  std::string reason;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, exited& x) {
  return f(caf::meta::type_name("rt::exited"), x.slice_id, x.reason);
}

inline bool operator==(const exited& x, const exited& y) {
  return x.slice_id == y.slice_id && x.reason == y.reason;
}

} // namespace slicegate::rt
