#pragma once

// The composition root's one way to wait for an actor's answer on a thread that is no actor
// (the main thread during start-up, shutdown and the subcommands).

#include <caf/actor_system.hpp>
#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/sec.hpp>
#include <caf/timestamp.hpp>

namespace slicegate {

/// Asks `dest` and waits for the answer, at most `timeout`.
template <class Result, class Handle, class... Request>
caf::expected<Result> ask(caf::actor_system& sys, const Handle& dest, caf::timespan timeout,
                          Request... request) {
  caf::expected<Result> result{caf::sec::request_timeout};
  caf::scoped_actor self{sys};
  self->request(dest, timeout, std::move(request)...)
    .receive([&](Result& x) { result = std::move(x); },
             [&](caf::error& err) { result = std::move(err); });
  return result;
}

} // namespace slicegate
