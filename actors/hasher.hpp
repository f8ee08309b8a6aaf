#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/actors.hpp"

namespace slicegate {


/// How the hasher sizes its pool.
struct hasher_config {
  /// bcrypt worker threads; 0 means one per core.
  size_t workers = 0;
  /// Jobs that may wait for a free worker; beyond that a job is refused at once.
  size_t queue = 64;
  /// Runs the worker threads under SCHED_IDLE. bcrypt is the one CPU hog of the process;
  /// at idle priority it gets every cycle the request path leaves, and a waking NATS or CAF
  /// thread always preempts it, so session resolves stay fast during a login flood. (Nice
  /// values do not do this: on an EEVDF kernel a niced hog delayed resolves more than one
  /// at normal priority.) The price: on a host saturated by other processes, logins wait
  /// until their request times out.
  bool idle_priority = true;
};


/// A request waiting for a worker, with the promise its answer goes to.
struct hash_job {
  auth::hash_password request;
  caf::typed_response_promise<std::string> promise;
};

/// A verification waiting for a worker.
struct verify_job {
  auth::verify_password request;
  caf::typed_response_promise<bool> promise;
};

struct hasher_state {
  static inline const char* name = "hasher";
  /// Detached actors, one thread each, linked to the facade.
  std::vector<hasher_actor> workers;
  /// Indexes into `workers` of those without a job.
  std::vector<size_t> idle;
  /// Jobs waiting for a worker, oldest first; never longer than `max_queue`.
  std::deque<std::variant<hash_job, verify_job>> queue;
  size_t max_queue = 0;
  /// Jobs refused because the queue was full.
  uint64_t rejected = 0;
};

/// The facade in front of the bcrypt workers. It runs on the scheduler and never hashes
/// itself: it hands each job to an idle worker, queues it while all are busy, and refuses it
/// with `ec::rate_limited` when the queue is full, so that a flood costs bounded memory and
/// gets a fast answer.
hasher_full_actor::behavior_type hasher(hasher_full_actor::stateful_pointer<hasher_state> self,
                                        hasher_config cfg);

// bcrypt itself. These block for the whole work factor (about 220 ms at cost 12): call them
// only from a detached actor or a thread of your own, never from a scheduler thread.

/// Returns a `$2b$` hash of `password` at `cost` with a salt from the OS CSPRNG; none if
/// libxcrypt refuses (cost out of range, no entropy). `password` must hold no NUL byte.
std::optional<std::string> bcrypt_hash(std::string_view password, int cost);

/// Returns whether `password` matches `hash`, comparing in constant time; false for a
/// malformed hash.
bool bcrypt_verify(std::string_view password, std::string_view hash);

/// Returns a well-formed `$2b$` hash at `cost` that no password matches. Verifying against it
/// costs exactly what verifying against a real hash of that cost does, which is what a login
/// for an unknown e-mail spends so that it cannot be told apart by its timing.
std::string bcrypt_dummy_hash(int cost);

} // namespace slicegate
