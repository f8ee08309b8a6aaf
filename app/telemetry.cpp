#include "app/telemetry.hpp"

#include <caf/all.hpp>

#include "actors/prober.hpp"
#include "actors/retention.hpp"
#include "actors/server_monitor.hpp"
#include "actors/telemetry_writer.hpp"

namespace slicegate {

telemetry_handles spawn_telemetry(caf::actor_system& sys, const settings& cfg,
                                  const persistence_actor& db, const event_sink_actor& events,
                                  std::vector<caf::actor>& owned) {
  telemetry_handles t;
  t.prober = sys.spawn(prober);
  t.writer = sys.spawn(telemetry_writer, db, telemetry_writer_config{});
  server_monitor_peers monitor_peers{db, t.writer, events, system_clock()};
  t.monitor = sys.spawn<caf::detached>(server_monitor, make_server_monitor_config(cfg),
                                       monitor_peers);
  t.pruner = sys.spawn(retention, make_retention_config(cfg), db, system_clock());
  for (caf::actor a : {caf::actor_cast<caf::actor>(t.prober), caf::actor_cast<caf::actor>(t.writer),
                       caf::actor_cast<caf::actor>(t.monitor),
                       caf::actor_cast<caf::actor>(t.pruner)})
    owned.push_back(a);
  return t;
}

slice_watcher_peers watcher_peers(const telemetry_handles& t, const runtime_actor& runtime,
                                  const event_sink_actor& events) {
  return slice_watcher_peers{t.prober, runtime, t.writer, events, system_clock()};
}

} // namespace slicegate
