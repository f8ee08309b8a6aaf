#include "tests/support/system.hpp"

#include <caf/atom.hpp>
#include <caf/exit_reason.hpp>

#include "messages/register.hpp"

namespace slicegate::test {

system_config::system_config(scheduling mode) {
  register_types(*this);
  set("logger.verbosity", caf::atom("quiet"));
  if (mode == scheduling::deterministic) {
    set("scheduler.policy", caf::atom("testing"));
    set("logger.inline-output", true);
  }
}

deterministic_system::deterministic_system()
  : sched(dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler())) {
  // nop
}

deterministic_system::~deterministic_system() {
  for (auto& handle : owned_)
    caf::anon_send_exit(handle, caf::exit_reason::kill);
  sched.run();
}

void deterministic_system::run() {
  sched.run();
}

void deterministic_system::advance(caf::timespan d) {
  sched.advance_time(d);
  sched.run();
}

caf::actor_clock::time_point deterministic_system::clock_now() {
  return sched.clock().now();
}

} // namespace slicegate::test
