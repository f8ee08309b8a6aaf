#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include <caf/error.hpp>
#include <caf/make_message.hpp>
#include <caf/optional.hpp>

#include "messages/enum_names.hpp"

namespace slicegate {

/// The domain's errors. Every handler that fails returns one of these as a `caf::error`; the
/// NATS edge sends each as one error word and one HTTP-like number, both from the one wire
/// table in messages/error.cpp.
enum class ec : uint8_t {
  /// Not an error.
  none = 0,
  /// The request is malformed: not JSON, a missing or mistyped field, an invalid value.
  invalid_request,
  /// The password exceeds bcrypt's 72-byte limit; refused rather than truncated.
  password_too_long,
  /// A bad, expired or revoked session.
  unauthorized,
  /// Wrong e-mail or password (the two are never told apart).
  invalid_credentials,
  /// The caller is authenticated but not allowed (e.g. not an admin).
  forbidden,
  /// The addressed object does not exist.
  not_found,
  /// The request conflicts with current state (e-mail taken, slice busy).
  conflict,
  /// Too many attempts; the caller should retry later.
  rate_limited,
  /// A dependency (PostgreSQL, a worker pool) cannot serve right now.
  unavailable,
  /// A bug or an unexpected failure.
  internal,
};

/// Returns the error word of `x` as clients see it in `{"error": {"code"}}`, e.g.
/// "invalid_request" (the wire table).
std::string to_string(ec x);

/// Returns the HTTP-like number of `x` as clients see it in `Nats-Service-Error-Code`, e.g.
/// 400 (the wire table).
int status_code(ec x);

/// Returns the `ec` whose error word is `word`, or none.
template <>
caf::optional<ec> from_string<ec>(std::string_view word);

/// Makes a domain error with a human-readable message.
caf::error make_error(ec code, std::string message);

/// Makes a domain error that also tells the caller how long to wait before trying again; the
/// NATS edge sends it as the error's `retry_after` field.
caf::error make_error(ec code, std::string message, std::chrono::seconds retry_after);

/// Returns the wait a domain error carries (see above), or none.
caf::optional<std::chrono::seconds> retry_after_of(const caf::error& err);

/// Returns the domain code of `err`, or `ec::internal` if it is not a domain error.
ec code_of(const caf::error& err);

/// Returns the human-readable message of a domain error (its context), or a rendering of a
/// foreign error.
std::string message_of(const caf::error& err);

} // namespace slicegate

CAF_ERROR_CODE_ENUM(slicegate::ec, "slicegate")
