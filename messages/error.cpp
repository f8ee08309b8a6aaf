#include "messages/error.hpp"

#include <array>

#include <caf/message.hpp>
#include <caf/sec.hpp>

namespace slicegate {

namespace {

/// How one `ec` leaves the process: the number of `Nats-Service-Error-Code` and the word of
/// `{"error": {"code"}}` (DESIGN.md §4, README "Errors everywhere").
struct wire_error {
  ec code;
  int status;
  const char* word;
};

/// The wire error table: one row per `ec`, in the enum's order.
constexpr std::array<wire_error, 11> wire_errors{{
  {ec::none, 200, "none"},
  {ec::invalid_request, 400, "invalid_request"},
  // The accounts contract names these two precisely: a client can tell a password that is
  // too long from other bad input, and failed credentials from a dead session.
  {ec::password_too_long, 400, "password_too_long"},
  {ec::unauthorized, 401, "unauthorized"},
  {ec::invalid_credentials, 401, "invalid_credentials"},
  {ec::forbidden, 403, "forbidden"},
  {ec::not_found, 404, "not_found"},
  {ec::conflict, 409, "conflict"},
  {ec::rate_limited, 429, "rate_limited"},
  {ec::unavailable, 503, "unavailable"},
  {ec::internal, 500, "internal"},
}};

constexpr bool in_enum_order() {
  for (size_t i = 0; i < wire_errors.size(); ++i)
    if (static_cast<size_t>(wire_errors[i].code) != i)
      return false;
  return true;
}

static_assert(in_enum_order(), "the wire error table lists every ec once, in order");
static_assert(wire_errors.size() == static_cast<size_t>(ec::internal) + 1,
              "every ec has a row in the wire error table");

/// The row of `x`; an out-of-range value (a foreign error code) is `internal`.
const wire_error& row_of(ec x) {
  auto i = static_cast<size_t>(x);
  return i < wire_errors.size() ? wire_errors[i] : wire_errors.back();
}

bool is_domain_error(const caf::error& err) {
  // An empty error has no category to read.
  return err && err.category() == caf::atom("slicegate");
}

} // namespace

std::string to_string(ec x) {
  return row_of(x).word;
}

int status_code(ec x) {
  return row_of(x).status;
}

template <>
caf::optional<ec> from_string<ec>(std::string_view word) {
  for (auto& row : wire_errors)
    if (word == row.word)
      return row.code;
  return caf::none;
}

caf::error make_error(ec code, std::string message) {
  return caf::error{static_cast<uint8_t>(code), caf::atom("slicegate"),
                    caf::make_message(std::move(message))};
}

caf::error make_error(ec code, std::string message, std::chrono::seconds retry_after) {
  // The context is (message, seconds); message_of() and retry_after_of() read it.
  return caf::error{static_cast<uint8_t>(code), caf::atom("slicegate"),
                    caf::make_message(std::move(message), int64_t{retry_after.count()})};
}

caf::optional<std::chrono::seconds> retry_after_of(const caf::error& err) {
  if (!is_domain_error(err))
    return caf::none;
  auto& ctx = err.context();
  if (ctx.size() == 2 && ctx.match_element<int64_t>(1))
    return std::chrono::seconds{ctx.get_as<int64_t>(1)};
  return caf::none;
}

ec code_of(const caf::error& err) {
  if (!err)
    return ec::none;
  if (is_domain_error(err))
    return static_cast<ec>(err.code());
  if (err.category() == caf::atom("system")) {
    // A request that timed out or whose receiver is gone means a component cannot serve.
    auto code = static_cast<caf::sec>(err.code());
    if (code == caf::sec::request_timeout || code == caf::sec::request_receiver_down)
      return ec::unavailable;
  }
  return ec::internal;
}

std::string message_of(const caf::error& err) {
  if (is_domain_error(err)) {
    auto& ctx = err.context();
    if (ctx.size() >= 1 && ctx.match_element<std::string>(0))
      return ctx.get_as<std::string>(0);
    return to_string(static_cast<ec>(err.code()));
  }
  return caf::to_string(err);
}

} // namespace slicegate
