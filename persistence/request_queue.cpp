#include "persistence/request_queue.hpp"

#include <string>

#include <caf/event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "messages/error.hpp"

namespace slicegate {

namespace {

std::string milliseconds(caf::timespan x) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(x).count())
         + " ms";
}

/// Hands the worker what waits, up to the window, dropping what its caller gave up on; then
/// asks for a barrier that confirms the batch.
void pump(request_queue_pointer self) {
  auto& st = self->state;
  size_t handed = 0;
  auto now = st.clock();
  while (!st.waiting.empty() && st.in_worker + handed < st.config.window) {
    auto e = std::move(st.waiting.front());
    st.waiting.pop_front();
    auto waited = now - e.received;
    if (st.config.max_wait > caf::timespan::zero() && waited > st.config.max_wait) {
      ++st.dropped;
      if (st.dropped == 1 || st.dropped % 1000 == 0)
        spdlog::warn("persistence drops requests whose callers gave up ({} so far; this one "
                     "waited {})",
                     st.dropped, milliseconds(waited));
      if (e.promise.pending())
        e.promise.deliver(make_error(ec::unavailable, "persistence dropped the request: it "
                                                      "waited "
                                                        + milliseconds(waited)
                                                        + ", longer than callers wait"));
      continue;
    }
    if (e.promise.pending())
      e.promise.delegate(caf::actor_cast<caf::actor>(st.worker), std::move(e.content));
    else
      self->send(caf::actor_cast<caf::actor>(st.worker), std::move(e.content));
    ++handed;
  }
  if (handed == 0)
    return;
  st.in_worker += handed;
  self->request(st.worker, caf::infinite, barrier_atom_v)
    .then(
      [self, handed](bool) {
        self->state.in_worker -= handed;
        pump(self);
      },
      [self](caf::error& err) {
        // The worker is gone; the link ends this actor too.
        self->quit(std::move(err));
      });
}

} // namespace

caf::behavior request_queue(request_queue_pointer self, persistence_actor worker,
                            request_queue_config config, clock_fn clock) {
  auto& st = self->state;
  st.config = config;
  st.worker = std::move(worker);
  st.clock = clock ? std::move(clock) : system_clock();
  self->link_to(st.worker);
  self->set_default_handler([](caf::scheduled_actor* ptr,
                               caf::message_view& x) -> caf::result<caf::message> {
    auto self = static_cast<request_queue_pointer>(ptr);
    auto& st = self->state;
    auto promise = self->make_response_promise();
    if (st.config.limit > 0 && st.waiting.size() >= st.config.limit) {
      ++st.shed;
      if (promise.pending())
        promise.deliver(make_error(ec::unavailable, "persistence is busy"));
      return caf::delegated<caf::message>{};
    }
    st.waiting.push_back({st.clock(), x.move_content_to_message(), std::move(promise)});
    pump(self);
    return caf::delegated<caf::message>{};
  });
  return {
    // Its own counters on top of the worker's.
    [self](stats_atom) -> caf::result<metrics::persistence_stats> {
      auto& st = self->state;
      auto rp = self->make_response_promise<metrics::persistence_stats>();
      self->request(st.worker, caf::infinite, stats_atom_v)
        .then(
          [self, rp](metrics::persistence_stats& s) mutable {
            auto& st = self->state;
            s.queued += st.waiting.size();
            s.shed = st.shed;
            s.dropped = st.dropped;
            rp.deliver(s);
          },
          [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
      return rp;
    },
  };
}

} // namespace slicegate
