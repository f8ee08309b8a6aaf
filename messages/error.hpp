#pragma once

#include <cstdint>
#include <string>

#include <caf/error.hpp>
#include <caf/make_message.hpp>

namespace slicegate {

/// The domain's errors. Every handler that fails returns one of these as a `caf::error`; the
/// NATS edge maps each to one error word and one HTTP-like number (bridge/errors.cpp).
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

/// Returns the error word of `x`, e.g. "invalid_request".
std::string to_string(ec x);

/// Returns the HTTP-like number of `x`, e.g. 400.
int status_code(ec x);

/// Makes a domain error with a human-readable message.
caf::error make_error(ec code, std::string message);

/// Returns the domain code of `err`, or `ec::internal` if it is not a domain error.
ec code_of(const caf::error& err);

/// Returns the human-readable message of a domain error (its context), or a rendering of a
/// foreign error.
std::string message_of(const caf::error& err);

} // namespace slicegate

CAF_ERROR_CODE_ENUM(slicegate::ec, "slicegate")
