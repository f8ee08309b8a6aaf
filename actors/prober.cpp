#include "actors/prober.hpp"

#include <caf/all.hpp>

#include "probe/disk_usage.hpp"
#include "probe/health_client.hpp"

namespace slicegate {

prober_state::prober_state() = default;

prober_state::~prober_state() = default;

prober_actor::behavior_type prober(prober_actor::stateful_pointer<prober_state> self,
                                   prober_config config) {
  self->state.http = std::make_unique<probe::health_client>(config.max_running);
  self->state.disk = self->spawn<caf::detached + caf::linked>(disk_meter);
  return {
    [self](telemetry::health_check& x) -> caf::result<telemetry::health_result> {
      auto rp = self->make_response_promise<telemetry::health_result>();
      // The client calls back on its own thread; a promise may be delivered from there.
      self->state.http->check(
        x, [rp](telemetry::health_result result) mutable { rp.deliver(std::move(result)); });
      return rp;
    },
    [self](telemetry::disk_usage& x) -> caf::result<int64_t> {
      return self->delegate(self->state.disk, std::move(x));
    },
  };
}

disk_meter_actor::behavior_type disk_meter(disk_meter_actor::pointer) {
  return {
    [](telemetry::disk_usage& x) -> caf::result<int64_t> {
      auto bytes = probe::disk_usage(x.path);
      if (!bytes)
        return std::move(bytes.error());
      return *bytes;
    },
  };
}

} // namespace slicegate
