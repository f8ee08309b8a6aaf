#pragma once

// The slices' HTTP edge: `GET /health` over libcurl, and the body's two JSON fields. Like the
// NATS bridge for NATS, this is the one place that speaks HTTP to slices and parses what they
// answer; actors see only `telemetry::health_result`.

#include <cstddef>
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
class health_client {
 public:
  /// Receives the result, on the client's thread; it must not block.
  using callback = std::function<void(telemetry::health_result)>;

  /// Largest body read from a slice; the rest is discarded (the fields fit in far less).
  static constexpr size_t max_body_bytes = 16 * 1024;

  health_client();

  /// Stops the thread; probes still running complete with the error "prober stopped".
  ~health_client();

  health_client(const health_client&) = delete;
  health_client& operator=(const health_client&) = delete;

  /// Starts `GET http://<host>:<port>/health`; `done` is called exactly once.
  void check(const telemetry::health_check& request, callback done);

 private:
  struct transfer;

  /// The thread's loop: starts handed-over probes, drives the transfers, completes them.
  void run();
  /// Calls the callback of every transfer that is done and forgets it.
  void complete_finished();

  /// The multi handle (a `CURLM*`); used by the client's thread only, but for
  /// `curl_multi_wakeup`, which libcurl allows from any thread.
  void* multi_ = nullptr;
  std::mutex mtx_;
  /// Probes handed over by `check` and not yet started by the thread.
  std::vector<std::unique_ptr<transfer>> incoming_;
  bool stopping_ = false;
  /// Transfers the multi handle runs, by easy handle; the client's thread only.
  std::map<void*, std::unique_ptr<transfer>> running_;
  std::thread thread_;
};

} // namespace slicegate::probe
