#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/expected.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/actors.hpp"
#include "actors/negative_cache.hpp"
#include "actors/revocations.hpp"
#include "actors/clock.hpp"
#include "actors/login_throttle.hpp"
#include "actors/session_cache.hpp"

namespace slicegate {

/// What the session manager needs to know.
struct session_config {
  /// The wall clock; tests move it by hand.
  clock_fn now = system_clock();
  /// bcrypt work factor for new hashes (and for the dummy an unknown e-mail is checked
  /// against).
  int32_t bcrypt_cost = 12;
  /// The bcrypt costs a signup event's hash may have: below, it is too weak to store; above,
  /// every login attempt on the account would hold a hasher thread for seconds or days.
  int32_t event_bcrypt_min_cost = 12;
  int32_t event_bcrypt_max_cost = 14;
  /// A session stays valid this long after it was last extended...
  timespan session_ttl = std::chrono::hours{24 * 30};
  /// ...but never longer than this after it was created.
  timespan session_max_age = std::chrono::hours{24 * 90};
  /// The rolling expiry is written at most this often per session.
  timespan session_touch_interval = std::chrono::hours{24};
  /// Sessions resolved from memory (entries).
  size_t cache_size = 100000;
  /// Session ids found missing, remembered this long so that the same unknown token costs
  /// one database round trip, not one per resolve; at most this many.
  timespan unknown_ttl = std::chrono::seconds{10};
  size_t unknown_capacity = 100000;
  /// A cached session is read again from the database after this long, which bounds how
  /// stale a copy can get should a change reach the database without telling us.
  timespan cache_refresh = std::chrono::minutes{5};
  /// Failed logins per e-mail within the window before further attempts are refused.
  int32_t login_max_failures = 10;
  timespan login_failure_window = std::chrono::minutes{15};
  /// E-mails the login throttle tracks at most.
  size_t throttle_capacity = 100000;
  /// New users start in `trial` until now + this many days.
  int32_t trial_days = 14;
  /// How long a request to persistence, the hasher or the slice manager may take.
  timespan request_timeout = std::chrono::seconds{10};
};


/// Called with the live session a token names, or with why there is none.
using session_continuation = std::function<void(caf::expected<session_account>)>;

struct session_manager_state {
  static inline const char* name = "session-manager";
  session_config cfg;
  persistence_actor db;
  hasher_full_actor hasher;
  /// May be null: signups then succeed without a placement.
  slice_manager_actor slices;
  /// Told what other instances must forget once a revocation or change committed; may be null
  /// (one instance, or tests).
  session_peers_actor peers;
  /// A hash at the configured cost that no password matches; an unknown e-mail is verified
  /// against it so that it costs the same time as a wrong password.
  std::string dummy_hash;
  session_cache cache;
  negative_cache unknown{0, timespan{0}};
  login_throttle throttle;
  /// Revocations that database reads in flight may have missed: such a read answers its
  /// callers but is not cached.
  revocations revoked;
  /// Callers waiting for the database lookup of a session id already on its way, so that a
  /// burst of resolves of one uncached session costs one round trip.
  std::unordered_map<std::string, std::vector<session_continuation>> pending;
};

/// Signs users up and in, resolves sessions and revokes them. bcrypt runs on `hasher`'s
/// threads, so a login flood never delays a resolve, and a cached resolve costs no database
/// round trip. Every revocation (logout, revoke, password change) and change of a user
/// (rights, row, slice) is announced to `peers` after its commit, so that other instances drop
/// what they cached; what `peers` hears from them arrives as `forget_cached`.
session_manager_actor::behavior_type
session_manager(session_manager_actor::stateful_pointer<session_manager_state> self,
                session_config cfg, persistence_actor db, hasher_full_actor hasher,
                slice_manager_actor slices, session_peers_actor peers);

} // namespace slicegate
