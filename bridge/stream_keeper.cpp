#include "bridge/stream_keeper.hpp"

#include <spdlog/spdlog.h>

#include "bridge/link.hpp"
#include "messages/error.hpp"

namespace slicegate::bridge {

namespace {

std::string join(const std::vector<std::string>& xs) {
  std::string result;
  for (auto& x : xs)
    result += (result.empty() ? "" : ", ") + x;
  return result;
}

/// One attempt at the next stream; true once it exists.
bool try_next(stream_keeper_state& st) {
  auto nc = st.nats->bulk();
  if (!connected(nc))
    return false;
  auto js = open_context(nc);
  if (js == nullptr)
    return false;
  auto& spec = st.streams.back();
  auto err = ensure_stream(js, spec);
  jsCtx_Destroy(js);
  if (err) {
    spdlog::warn("bridge cannot set up stream {} yet: {}", spec.name, message_of(err));
    return false;
  }
  spdlog::info("bridge keeps stream {} on {}", spec.name, join(spec.subjects));
  return true;
}

} // namespace

stream_keeper_actor::behavior_type
stream_keeper(stream_keeper_actor::stateful_pointer<stream_keeper_state> self,
              std::shared_ptr<link> nats, std::vector<stream_spec> streams) {
  self->state.nats = std::move(nats);
  self->state.streams = std::move(streams);
  self->send(self, retry_atom_v);
  return {
    [self](retry_atom) {
      auto& st = self->state;
      if (st.streams.empty()) {
        self->quit();
        return;
      }
      if (try_next(st)) {
        st.streams.pop_back();
        st.backoff = first_backoff;
        self->send(self, retry_atom_v);
        return;
      }
      self->delayed_send(self, st.backoff, retry_atom_v);
      st.backoff = next_backoff(st.backoff);
    },
  };
}

} // namespace slicegate::bridge
