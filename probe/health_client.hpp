#pragma once

// The slices' HTTP edge: `GET /health` over libcurl, and the body's two JSON fields. Like the
// NATS bridge for NATS, this is the one place that speaks HTTP to slices and parses what they
// answer; actors see only `telemetry::health_result`.

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

#include "messages/telemetry.hpp"

namespace slicegate::probe {

/// Reads `wa_state` and `wa_phone` from a `/health` body into `result`. A field that is
/// missing or not a string stays none; a body that is not a JSON object leaves both none.
/// What a slice sends is bounded here, before anything stores it: a state that is not a word
/// of at most 32 letters, digits, `_`, `-` or `.` becomes `invalid`, and a phone that is not
/// E.164 (`+` and 7–15 digits) is dropped. A NUL byte or 16 KiB of text thus never reaches the
/// telemetry batch, where it would fail every other slice's rows with it.
void read_health_body(std::string_view body, telemetry::health_result& result);

/// Runs health probes concurrently on one libcurl multi handle, driven by a thread of its own,
/// so that a thousand slices (or a few hung ones) cost one thread and no scheduler time.
/// Thread-safe: any thread may call `check`.
///
/// At most `max_running` transfers run at once; further probes wait, first come first
/// started. A transfer has its full timeout from when it starts, so a queue never shortens a
/// slow slice's time. A probe still waiting when its timeout has passed since `check` fails
/// without starting ("not started within …"): a probe is answered within twice its timeout
/// however long the queue. Every probe opens a fresh connection and closes it (see `check`).
class health_client {
 public:
  /// Receives the result, on the client's thread; it must not block.
  using callback = std::function<void(telemetry::health_result)>;

  /// Largest body read from a slice; the rest is discarded (the fields fit in far less).
  static constexpr size_t max_body_bytes = 16 * 1024;

  /// Transfers running at once unless told otherwise.
  static constexpr size_t default_max_running = 256;

  /// `max_running` 0 counts as 1.
  explicit health_client(size_t max_running = default_max_running);

  /// Stops the thread; probes still running complete with the error "prober stopped".
  ~health_client();

  health_client(const health_client&) = delete;
  health_client& operator=(const health_client&) = delete;

  /// Starts `GET http://<host>:<port>/health`; `done` is called exactly once.
  void check(const telemetry::health_check& request, callback done);

  /// Figures for tests and statistics.
  struct counters {
    /// Transfers running now, and the most that ever ran at once.
    size_t running = 0;
    size_t max_running_seen = 0;
    /// Probes waiting for a free transfer now.
    size_t waiting = 0;
    /// Probes that failed in the queue because their timeout passed before they started.
    size_t expired = 0;
  };

  /// The counters as the client's thread last published them; any thread.
  counters stats();

 private:
  struct transfer;

  /// The thread's loop: starts handed-over probes, drives the transfers, completes them.
  void run();
  /// Calls the callback of every transfer that is done and forgets it.
  void complete_finished();
  /// Starts waiting probes while there is room, and fails those whose timeout has passed.
  void start_waiting();

  /// Transfers running at once, at most.
  size_t max_running_;

  /// The multi handle (a `CURLM*`); used by the client's thread only, but for
  /// `curl_multi_wakeup`, which libcurl allows from any thread.
  void* multi_ = nullptr;
  std::mutex mtx_;
  /// Probes handed over by `check` and not yet started by the thread.
  std::vector<std::unique_ptr<transfer>> incoming_;
  bool stopping_ = false;
  /// Transfers the multi handle runs, by easy handle; the client's thread only.
  std::map<void*, std::unique_ptr<transfer>> running_;
  /// Handed-over probes waiting for room, oldest first; the client's thread only.
  std::deque<std::unique_ptr<transfer>> waiting_;
  /// Published by the client's thread under `mtx_` for `stats`.
  counters counters_;
  std::thread thread_;
};

} // namespace slicegate::probe
