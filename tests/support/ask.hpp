#pragma once

// Requests to actors from a test's own thread, on either scheduler (see system.hpp).

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <boost/test/unit_test.hpp>
#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "messages/error.hpp"

namespace slicegate::test {

/// A reply that may not have arrived yet, and the probe actor waiting for it.
template <class T>
struct pending {
  std::shared_ptr<std::optional<caf::expected<T>>> reply
    = std::make_shared<std::optional<caf::expected<T>>>();
  caf::actor probe;

  bool arrived() const {
    return reply->has_value();
  }
};

/// Sends `xs` to `dest` from a probe actor; its reply lands in the returned slot. On the
/// deterministic scheduler that is once the test runs the system; a probe that never gets an
/// answer stays until it is killed.
template <class T, class Handle, class... Ts>
pending<T> ask_later(caf::actor_system& sys, const Handle& dest, Ts... xs) {
  pending<T> result;
  result.probe = sys.spawn([slot = result.reply, dest, xs...](caf::event_based_actor* self) {
    self->request(dest, caf::infinite, xs...)
      .then([slot](T& x) { *slot = caf::expected<T>{std::move(x)}; },
            [slot](caf::error& err) { *slot = caf::expected<T>{std::move(err)}; });
  });
  return result;
}

/// Sends `xs` to `dest` and returns the reply of type `T` or the error. Threaded, it waits up
/// to `timeout`. Deterministic, it runs every actor until all is quiet; no reply by then is a
/// `request_timeout`, as it would be on a real clock (`timeout`, a duration or
/// `caf::infinite`, does not apply there: no time passes).
template <class T, class Handle, class Timeout, class... Ts>
caf::expected<T> ask(caf::actor_system& sys, const Handle& dest, Timeout timeout, Ts... xs) {
  if (auto* sched = dynamic_cast<caf::scheduler::test_coordinator*>(&sys.scheduler())) {
    auto later = ask_later<T>(sys, dest, std::move(xs)...);
    sched->run();
    if (later.arrived())
      return std::move(**later.reply);
    caf::anon_send_exit(later.probe, caf::exit_reason::kill);
    sched->run();
    return caf::make_error(caf::sec::request_timeout, "no reply once all actors were idle");
  }
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

/// Checks that `result` failed with `code`.
template <class T>
void check_fails(const caf::expected<T>& result, ec code) {
  BOOST_REQUIRE_MESSAGE(!result, "expected " << to_string(code) << ", got a value");
  BOOST_CHECK_EQUAL(to_string(code_of(result.error())), to_string(code));
}

/// `ask`, requiring success.
template <class T, class Handle, class Timeout, class... Ts>
T must(caf::actor_system& sys, const Handle& dest, Timeout timeout, Ts... xs) {
  auto result = ask<T>(sys, dest, timeout, std::move(xs)...);
  BOOST_REQUIRE_MESSAGE(result, "request failed: " << describe(result));
  return std::move(*result);
}

} // namespace slicegate::test
