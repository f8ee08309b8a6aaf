#pragma once

// What slicectl's command line sets, the exit codes it promises, and the one failure every
// command throws when it cannot do what was asked.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "bridge/bridge.hpp"
#include "common/nats_credentials.hpp"

namespace slicegate::cli {

/// The exit codes scripts rely on.
namespace exit_code {
/// The command did what was asked.
constexpr int ok = 0;
/// slicegate answered with an error (or with something that is not a reply).
constexpr int error_reply = 1;
/// No slicegate to talk to: no connection, no responders, timeout.
constexpr int transport = 2;
/// `slices create --wait` gave up: the slices exist, some are still being made ready.
constexpr int not_ready = 3;
/// The command line was wrong; nothing was sent.
constexpr int usage = 64;
} // namespace exit_code

/// Everything the command line sets; each command reads its own part.
struct options {
  std::string nats_url = bridge_config{}.nats_url;
  /// `--nats-user`, `--nats-password`, `--nats-token`, `--nats-nkey-seed`, `--nats-creds`,
  /// `--nats-tls`, `--nats-tls-ca`, `--nats-tls-cert`, `--nats-tls-key`.
  nats_credentials nats;
  std::string subject_prefix = bridge_config{}.subject_prefix;
  std::string slices_stream = bridge_config{}.slices_stream;
  std::string service_name = "slicegate";
  std::string session;
  std::string timeout = "5s";
  bool json = false;
  std::string email;
  /// `slices` arguments.
  std::string status;
  int32_t slice_id = 0;
  int32_t count = 0;
  int32_t user_id = 0;
  std::string reason;
  /// `slices create`: the request's idempotency key (empty: none), and whether to wait, and
  /// how long, until the new slices are no longer `destroying`.
  std::string idempotency_key;
  bool wait = false;
  std::string wait_timeout = "120s";
  /// `users list` filters and paging.
  bool waiting = false;
  bool admins = false;
  std::string email_prefix;
  int32_t limit = 0;
  std::string cursor;
  bool oldest = false;
  /// `telemetry` window and resolution.
  std::string since = "24h";
  std::string bucket = "5m";
  /// `top` refresh interval and initial sort key.
  std::string interval = "2s";
  std::string sort = "status";
  /// `events`: replay window (empty: live only) and how many to print before leaving (0: no
  /// limit).
  std::string events_since;
  int64_t events_count = 0;
  /// `dead-letters`: the page's start, whether replayed ones count, the one to show or
  /// replay, and whether to replay it again.
  int64_t after = 0;
  bool include_replayed = false;
  int64_t dead_letter_id = 0;
  bool force = false;
};

/// Something the user should see, with the exit code it implies.
struct failure {
  int code;
  std::string message;
};

/// `--timeout` as milliseconds; a usage failure if it is not a positive duration.
std::chrono::milliseconds timeout_of(const options& o);

/// `text` as a positive duration; a usage failure naming `flag` otherwise.
std::chrono::milliseconds positive_duration(const std::string& text, std::string_view flag);

/// The admin session of `--session`; a usage failure if there is none.
const std::string& session_of(const options& o);

} // namespace slicegate::cli
