#include "messages/error.hpp"

#include <caf/message.hpp>
#include <caf/sec.hpp>

namespace slicegate {

std::string to_string(ec x) {
  switch (x) {
    case ec::none: return "none";
    case ec::invalid_request: return "invalid_request";
    case ec::password_too_long: return "password_too_long";
    case ec::unauthorized: return "unauthorized";
    case ec::invalid_credentials: return "invalid_credentials";
    case ec::forbidden: return "forbidden";
    case ec::not_found: return "not_found";
    case ec::conflict: return "conflict";
    case ec::rate_limited: return "rate_limited";
    case ec::unavailable: return "unavailable";
    case ec::internal: return "internal";
  }
  return "internal";
}

int status_code(ec x) {
  switch (x) {
    case ec::none: return 200;
    case ec::invalid_request:
    case ec::password_too_long: return 400;
    case ec::unauthorized:
    case ec::invalid_credentials: return 401;
    case ec::forbidden: return 403;
    case ec::not_found: return 404;
    case ec::conflict: return 409;
    case ec::rate_limited: return 429;
    case ec::unavailable: return 503;
    case ec::internal: return 500;
  }
  return 500;
}

caf::error make_error(ec code, std::string message) {
  return caf::error{static_cast<uint8_t>(code), caf::atom("slicegate"),
                    caf::make_message(std::move(message))};
}

ec code_of(const caf::error& err) {
  if (!err)
    return ec::none;
  if (err.category() == caf::atom("slicegate"))
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
  if (err.category() == caf::atom("slicegate")) {
    auto& ctx = err.context();
    if (ctx.size() == 1 && ctx.match_element<std::string>(0))
      return ctx.get_as<std::string>(0);
    return to_string(static_cast<ec>(err.code()));
  }
  return caf::to_string(err);
}

} // namespace slicegate
