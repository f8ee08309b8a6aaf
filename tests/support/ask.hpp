#pragma once

// Requests to actors from a test's own thread: a scoped actor sends, waits for the reply and
// is gone again when the call returns.

#include <optional>
#include <string>
#include <utility>

#include <boost/test/unit_test.hpp>
#include <caf/all.hpp>

#include "messages/error.hpp"

namespace slicegate::test {

/// Sends `xs` to `dest` and waits up to `timeout` for the reply of type `T`.
template <class T, class Handle, class... Ts>
caf::expected<T> ask(caf::actor_system& sys, const Handle& dest, caf::timespan timeout,
                     Ts... xs) {
  std::optional<T> value;
  caf::error err;
  caf::scoped_actor self{sys};
  self->request(dest, timeout, std::move(xs)...)
    .receive([&](T& result) { value = std::move(result); },
             [&](caf::error& e) { err = std::move(e); });
  if (value)
    return std::move(*value);
  return err;
}

/// The error of `x` as text, "ok" for a value. (Boost.Test evaluates the arguments of a
/// message even when the check passes, and an `expected` holding a value has no error.)
template <class T>
std::string describe(const caf::expected<T>& x) {
  return x ? "ok" : message_of(x.error());
}

/// `ask`, requiring success.
template <class T, class Handle, class... Ts>
T must(caf::actor_system& sys, const Handle& dest, caf::timespan timeout, Ts... xs) {
  auto result = ask<T>(sys, dest, timeout, std::move(xs)...);
  BOOST_REQUIRE_MESSAGE(result, "request failed: " << describe(result));
  return std::move(*result);
}

} // namespace slicegate::test
