#include "app/supervisor.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "common/duration.hpp"

namespace slicegate {

namespace {

using self_ptr = supervisor_actor::stateful_pointer<supervisor_state>;

void give_up(self_ptr self, const std::string& why) {
  auto& st = self->state;
  if (st.escalated)
    return;
  st.escalated = true;
  spdlog::critical("node stops the daemon: {}", why);
  if (st.escalate)
    st.escalate(why);
}

void on_down(self_ptr self, const caf::down_msg& msg) {
  auto& st = self->state;
  auto i = std::find_if(st.children.begin(), st.children.end(), [&](const auto& c) {
    return !c.down && c.spec.handle.address() == msg.source;
  });
  if (i == st.children.end() || st.draining)
    return;
  auto& c = *i;
  c.down = true;
  auto reason = caf::to_string(msg.reason);
  if (st.watch)
    st.watch(c.spec.name, false);
  if (c.spec.policy == restart_policy::escalate) {
    give_up(self, c.spec.name + " is down (" + reason + ")");
    return;
  }
  if (!c.budget.try_restart()) {
    give_up(self, c.spec.name + " is down (" + reason + ") after "
                    + std::to_string(c.budget.recent()) + " restarts within the budget");
    return;
  }
  auto delay = std::chrono::duration_cast<caf::timespan>(
    c.budget.backoff(std::chrono::milliseconds{100}, std::chrono::seconds{5}));
  spdlog::error("node restarts {} in {}: it is down ({})", c.spec.name,
                render_duration(delay), reason);
  self->delayed_send(self, delay, retry_atom_v,
                     static_cast<int32_t>(std::distance(st.children.begin(), i)));
}

} // namespace

const char* to_string(restart_policy x) {
  return x == restart_policy::restart ? "restart" : "escalate";
}

supervisor_actor::behavior_type
supervisor(supervisor_actor::stateful_pointer<supervisor_state> self,
           std::vector<child_spec> children, escalation escalate, component_watch watch) {
  auto& st = self->state;
  st.escalate = std::move(escalate);
  st.watch = std::move(watch);
  for (auto& spec : children) {
    // Monitoring an actor that is gone already delivers its down message at once.
    self->monitor(spec.handle);
    st.children.push_back({std::move(spec), restart_budget{}, false});
  }
  self->set_down_handler([self](caf::down_msg& msg) { on_down(self, msg); });
  return {
    [self](drain_atom) {
      self->state.draining = true;
      return true;
    },
    [self](lookup_atom, const std::string& name) {
      for (auto& c : self->state.children)
        if (c.spec.name == name && !c.down)
          return c.spec.handle;
      return caf::actor{};
    },
    [self](retry_atom, int32_t index) {
      auto& st = self->state;
      if (st.draining || index < 0 || static_cast<size_t>(index) >= st.children.size())
        return;
      auto& c = st.children[static_cast<size_t>(index)];
      c.spec.handle = c.spec.respawn();
      c.down = false;
      self->monitor(c.spec.handle);
      if (st.watch)
        st.watch(c.spec.name, true);
      spdlog::info("node restarted {}", c.spec.name);
    },
  };
}

} // namespace slicegate
