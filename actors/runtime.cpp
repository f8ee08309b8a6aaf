#include "actors/runtime.hpp"

#include <caf/actor_cast.hpp>
#include <spdlog/spdlog.h>

#include "messages/error.hpp"

namespace slicegate {

namespace {

/// Turns a driver's result into a handler's: true, or the driver's error.
caf::result<bool> done(caf::error err) {
  if (err)
    return err;
  return true;
}

} // namespace

runtime_actor::behavior_type runtime(runtime_actor::stateful_pointer<runtime_state> self,
                                     std::shared_ptr<runtime_driver> driver,
                                     caf::timespan reap_interval) {
  self->state.driver = std::move(driver);
  self->state.reap_interval = reap_interval;
  self->send(self, tick_atom_v);
  spdlog::info("runtime starts with the {} driver", self->state.driver->name());
  return {
    [self](rt::start& x) { return done(self->state.driver->start(x.spec)); },
    [self](rt::stop& x) { return done(self->state.driver->stop(x.slice_id)); },
    [self](rt::restart& x) { return done(self->state.driver->restart(x.spec)); },
    [self](rt::remove& x) { return done(self->state.driver->remove(x.slice_id)); },
    [self](rt::usage& x) -> caf::result<slice_usage> {
      auto result = self->state.driver->usage(x.slice_id);
      if (!result)
        return std::move(result.error());
      return std::move(*result);
    },
    [self](rt::running& x) -> caf::result<bool> {
      auto result = self->state.driver->running(x.slice_id);
      if (!result)
        return std::move(result.error());
      return *result;
    },
    [self](rt::adopt& x) -> caf::result<bool> {
      auto result = self->state.driver->adopt(x.slice_id, x.database_role);
      if (!result)
        return std::move(result.error());
      return *result;
    },
    [self](rt::subscribe&) {
      // The sender is the listener: an actor whose interface includes runtime_listener_actor.
      self->state.listener = caf::actor_cast<runtime_listener_actor>(self->current_sender());
      return true;
    },
    [self](tick_atom) {
      for (auto& exit : self->state.driver->reap()) {
        if (self->state.listener)
          self->send(self->state.listener, std::move(exit));
        else
          spdlog::warn("runtime has no listener for the exit of slice {}", exit.slice_id);
      }
      self->delayed_send(self, self->state.reap_interval, tick_atom_v);
    },
  };
}

} // namespace slicegate
