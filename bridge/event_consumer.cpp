#include "bridge/event_consumer.hpp"

#include <algorithm>
#include <exception>

#include <caf/sec.hpp>
#include <spdlog/spdlog.h>

#include "bridge/codec.hpp"
#include "bridge/link.hpp"
#include "messages/admin.hpp"
#include "messages/error.hpp"

namespace slicegate::bridge {

namespace {

/// Failed fetches in a row on a connected connection before the subscription is made anew.
constexpr int fetch_failures_before_rebind = 3;

/// How often an event in progress is reported to JetStream: three times per ack wait, so that
/// one lost report does not get it redelivered behind our back.
caf::timespan progress_interval(const consumer_spec& spec) {
  return std::max<caf::timespan>(spec.ack_wait / 3, std::chrono::milliseconds{10});
}

/// Tells the parent that `field` went up by one.
void count(event_consumer_pointer self, uint64_t bus::consumer_counters::*field) {
  bus::consumer_counters delta;
  delta.consumer = self->state.spec.durable;
  delta.*field = 1;
  self->send(self->state.parent, std::move(delta));
}

/// Ensures the stream and the consumer and binds a pull subscription; false on failure.
bool setup(event_consumer_state& st) {
  if (st.nc == nullptr)
    st.nc = st.nats->bulk();
  if (!connected(st.nc))
    return false;
  if (st.js == nullptr && (st.js = open_context(st.nc)) == nullptr)
    return false;
  auto& spec = st.spec;
  if (auto err = ensure_stream(st.js, spec.stream)) {
    spdlog::warn("consumer {} cannot set up its stream: {}", spec.durable, message_of(err));
    return false;
  }
  jsConsumerConfig cc;
  jsConsumerConfig_Init(&cc);
  cc.Durable = spec.durable.c_str();
  cc.FilterSubject = spec.filter_subject.c_str();
  cc.DeliverPolicy = js_DeliverAll;
  cc.AckPolicy = js_AckExplicit;
  cc.AckWait = spec.ack_wait.count();
  // Redeliver without limit: an event is either processed or explicitly rejected.
  cc.MaxDeliver = -1;
  // One event in flight: stream order holds across retries, restarts and instances.
  cc.MaxAckPending = 1;
  jsConsumerInfo* info = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  auto s = js_AddConsumer(&info, st.js, spec.stream.name.c_str(), &cc, nullptr, &jerr);
  if (s != NATS_OK && jerr != JSStreamNotFoundErr) {
    // It exists with another configuration (say, a changed ack wait): bring it to ours.
    jsConsumerInfo_Destroy(info);
    info = nullptr;
    auto first = last_error(s, jerr);
    jerr = static_cast<jsErrCode>(0);
    s = js_UpdateConsumer(&info, st.js, spec.stream.name.c_str(), &cc, nullptr, &jerr);
    if (s != NATS_OK)
      spdlog::warn("consumer {} cannot be created ({}) nor updated ({})", spec.durable, first,
                   last_error(s, jerr));
  }
  jsConsumerInfo_Destroy(info);
  if (s != NATS_OK)
    return false;
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = spec.stream.name.c_str();
  so.Consumer = spec.durable.c_str();
  jerr = static_cast<jsErrCode>(0);
  s = js_PullSubscribe(&st.sub, st.js, spec.filter_subject.c_str(), spec.durable.c_str(),
                       nullptr, &so, &jerr);
  if (s != NATS_OK) {
    spdlog::warn("consumer {} cannot subscribe: {}", spec.durable, last_error(s, jerr));
    st.sub = nullptr;
    return false;
  }
  spdlog::info("consumer {} takes {} from stream {}", spec.durable, spec.filter_subject,
               spec.stream.name);
  return true;
}

void teardown(event_consumer_state& st) {
  // Destroy, never Unsubscribe: the durable consumer and its position stay on the server.
  natsSubscription_Destroy(st.sub);
  st.sub = nullptr;
  jsCtx_Destroy(st.js);
  st.js = nullptr;
}

/// Sends the next `fetch`, now or after `delay`.
void schedule_fetch(event_consumer_pointer self, caf::timespan delay = caf::timespan{0}) {
  self->state.fetch_pending = true;
  if (delay > caf::timespan{0})
    self->delayed_send(self, delay, fetch_atom_v);
  else
    self->send(self, fetch_atom_v);
}

/// Starts the loop again unless it runs, an event is at hand, or there is nothing to do.
void resume(event_consumer_pointer self) {
  auto& st = self->state;
  if (st.fetch_pending || st.msg != nullptr || !st.handler || st.stopping)
    return;
  schedule_fetch(self);
}

/// Answers the stop requests and quits.
void finish(event_consumer_pointer self) {
  auto& st = self->state;
  for (auto& rp : st.stop_promises)
    rp.deliver(true);
  st.stop_promises.clear();
  self->quit();
}

void report_rejection(event_consumer_state& st, const char* subject, const outcome& result,
                      optional<int64_t> dead_letter_id) {
  events::event_rejected report{subject, result.event_id, result.reason, dead_letter_id};
  auto body = codec::dump(codec::to_json(report));
  natsConnection_Publish(st.nc, st.spec.rejected_subject.c_str(), body.data(),
                         static_cast<int>(body.size()));
}

/// `text` with every NUL replaced by U+FFFD: PostgreSQL text cannot hold one.
std::string without_nul(std::string text) {
  std::string result;
  result.reserve(text.size());
  for (auto c : text) {
    if (c == '\0')
      result += "\xEF\xBF\xBD";
    else
      result += c;
  }
  return result;
}

/// Settles the event at hand with JetStream and goes on; `dead_letter_id` names the stored
/// copy of a rejected event.
void conclude(event_consumer_pointer self, const outcome& result,
              optional<int64_t> dead_letter_id = caf::none) {
  auto& st = self->state;
  auto msg = st.msg;
  // Counted first: whoever sees the acknowledgement on the server then sees the count too.
  switch (result.what) {
    case verdict::done: count(self, &bus::consumer_counters::done); break;
    case verdict::rejected: count(self, &bus::consumer_counters::rejected); break;
    case verdict::retry_later: count(self, &bus::consumer_counters::retried); break;
  }
  switch (result.what) {
    case verdict::done: natsMsg_Ack(msg, nullptr); break;
    case verdict::rejected:
      spdlog::warn("consumer {} rejects an event on {} (dead letter {}): {}", st.spec.durable,
                   natsMsg_GetSubject(msg), dead_letter_id ? *dead_letter_id : 0, result.reason);
      report_rejection(st, natsMsg_GetSubject(msg), result, dead_letter_id);
      natsMsg_Ack(msg, nullptr);
      break;
    case verdict::retry_later: {
      auto delay = std::chrono::duration_cast<std::chrono::milliseconds>(st.spec.retry_delay);
      spdlog::warn("consumer {} puts an event back for {} ms: {}", st.spec.durable,
                   delay.count(), result.reason);
      natsMsg_NakWithDelay(msg, delay.count(), nullptr);
      break;
    }
  }
  natsMsg_Destroy(msg);
  st.msg = nullptr;
  if (st.stopping)
    finish(self);
  else
    resume(self);
}

/// Keeps the rejected event at hand as a dead letter, then acknowledges it; an event whose
/// dead letter cannot be stored is put back and comes again: nothing is acknowledged that is
/// not applied or kept.
void keep(event_consumer_pointer self, uint64_t number, outcome result) {
  auto& st = self->state;
  if (!st.store) {
    conclude(self, retry_later("rejected (" + result.reason
                               + "), and persistence is not running to keep it"));
    return;
  }
  admin::record_dead_letter letter;
  letter.subject = without_nul(natsMsg_GetSubject(st.msg));
  if (result.event_id)
    letter.event_id = without_nul(*result.event_id);
  if (auto size = natsMsg_GetDataLength(st.msg); size > 0) {
    auto data = reinterpret_cast<const uint8_t*>(natsMsg_GetData(st.msg));
    letter.payload.assign(data, data + size);
  }
  letter.reason = without_nul(result.reason);
  jsMsgMetaData* meta = nullptr;
  if (natsMsg_GetMetaData(&meta, st.msg) == NATS_OK) {
    letter.stream_sequence = static_cast<int64_t>(meta->Sequence.Stream);
    letter.deliveries = static_cast<int64_t>(meta->NumDelivered);
    jsMsgMetaData_Destroy(meta);
  }
  st.storing = true;
  st.deadline = std::chrono::steady_clock::now() + st.spec.handler_timeout;
  self->request(st.store, st.spec.handler_timeout, std::move(letter))
    .then(
      [self, number, result](int64_t id) {
        auto& st = self->state;
        st.storing = false;
        if (st.msg != nullptr && number == st.event_number)
          conclude(self, result, id);
      },
      [self, number, result](caf::error& err) {
        auto& st = self->state;
        st.storing = false;
        if (st.msg != nullptr && number == st.event_number)
          conclude(self, retry_later("rejected (" + result.reason
                                     + "), and its dead letter cannot be stored: "
                                     + message_of(err)));
      });
}

/// Settles event `number`, if it is still the one at hand and not being kept as a dead letter
/// already, and goes on.
void settle(event_consumer_pointer self, uint64_t number, outcome result) {
  auto& st = self->state;
  if (st.msg == nullptr || number != st.event_number || st.storing)
    return; // settled already, or being kept; a late answer
  if (result.what == verdict::rejected)
    keep(self, number, std::move(result));
  else
    conclude(self, result);
}

/// Publishes a dead letter's body again into the events stream.
caf::expected<uint64_t> replay(event_consumer_state& st, const std::string& subject,
                               const std::vector<uint8_t>& payload) {
  if (st.nc == nullptr)
    st.nc = st.nats->bulk();
  if (!connected(st.nc))
    return make_error(ec::unavailable, "NATS is not connected");
  if (st.js == nullptr && (st.js = open_context(st.nc)) == nullptr)
    return make_error(ec::unavailable, "JetStream is not available");
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.ExpectStream = st.spec.stream.name.c_str();
  jsPubAck* ack = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  auto s = js_Publish(&ack, st.js, subject.c_str(), payload.data(),
                      static_cast<int>(payload.size()), &po, &jerr);
  if (s != NATS_OK) {
    jsPubAck_Destroy(ack);
    return make_error(ec::unavailable, "stream " + st.spec.stream.name
                                         + " did not take the event: " + last_error(s, jerr));
  }
  auto sequence = ack->Sequence;
  jsPubAck_Destroy(ack);
  spdlog::info("consumer {} replays a dead letter on {} as stream sequence {}", st.spec.durable,
               subject, sequence);
  return sequence;
}

/// Hands the event to the handler; it is settled once the handler completes.
void process(event_consumer_pointer self, natsMsg* msg) {
  auto& st = self->state;
  count(self, &bus::consumer_counters::received);
  st.msg = msg;
  auto number = ++st.event_number;
  st.deadline = std::chrono::steady_clock::now() + st.spec.handler_timeout;
  event_message em;
  em.subject = natsMsg_GetSubject(msg);
  if (auto size = natsMsg_GetDataLength(msg); size > 0)
    em.payload.assign(natsMsg_GetData(msg), static_cast<size_t>(size));
  jsMsgMetaData* meta = nullptr;
  if (natsMsg_GetMetaData(&meta, msg) == NATS_OK) {
    em.stream_sequence = meta->Sequence.Stream;
    em.delivered = meta->NumDelivered;
    jsMsgMetaData_Destroy(meta);
  }
  completion complete = [self, number](outcome result) {
    settle(self, number, std::move(result));
  };
  try {
    st.handler(self, em, complete);
  } catch (const std::exception& e) {
    complete(retry_later(std::string{"handler failed: "} + e.what()));
  }
  if (st.msg != nullptr && st.event_number == number)
    self->delayed_send(self, progress_interval(st.spec), tick_atom_v, number);
}

void fetch(event_consumer_pointer self) {
  auto& st = self->state;
  st.fetch_pending = false;
  if (st.msg != nullptr || !st.handler || st.stopping)
    return;
  if (st.sub == nullptr && !setup(st)) {
    schedule_fetch(self, st.backoff);
    st.backoff = next_backoff(st.backoff);
    return;
  }
  natsMsgList list{nullptr, 0};
  jsErrCode jerr = static_cast<jsErrCode>(0);
  // One event per fetch: with MaxAckPending 1 a larger batch could only wait out the timeout.
  auto s = natsSubscription_Fetch(&list, st.sub, 1, st.spec.fetch_timeout.count(), &jerr);
  if (s == NATS_OK && list.Count > 0) {
    st.backoff = first_backoff;
    st.failures = 0;
    // The event is ours now; the list lets go of it.
    auto msg = list.Msgs[0];
    list.Msgs[0] = nullptr;
    natsMsgList_Destroy(&list);
    process(self, msg);
    return;
  }
  natsMsgList_Destroy(&list);
  if (s == NATS_OK || s == NATS_TIMEOUT) {
    schedule_fetch(self); // nothing to do yet
    return;
  }
  count(self, &bus::consumer_counters::fetch_errors);
  // While disconnected, nats.c restores the subscription by itself; a failure on a live
  // connection that persists means the consumer is gone (say, a wiped store): set it up anew.
  if (connected(st.nc) && ++st.failures >= fetch_failures_before_rebind) {
    spdlog::warn("consumer {} fails to fetch ({}); setting it up again", st.spec.durable,
                 last_error(s, jerr));
    teardown(st);
    st.failures = 0;
  }
  schedule_fetch(self, st.backoff);
  st.backoff = next_backoff(st.backoff);
}

void tick(event_consumer_pointer self, uint64_t number) {
  auto& st = self->state;
  if (st.msg == nullptr || number != st.event_number)
    return;
  auto now = std::chrono::steady_clock::now();
  if (now >= st.deadline) {
    settle(self, number, retry_later("no answer within the handler timeout"));
    return;
  }
  // Not redelivered behind our back while the handler works.
  natsMsg_InProgress(st.msg, nullptr);
  auto left = std::chrono::duration_cast<caf::timespan>(st.deadline - now);
  self->delayed_send(self, std::min(progress_interval(st.spec), left), tick_atom_v, number);
}

void make_handler(event_consumer_state& st, const bridge_targets& targets) {
  st.store = targets.persistence;
  auto handler = st.make(st.config, targets);
  st.handler = handler ? std::move(*handler) : event_handler{};
}

} // namespace

event_consumer_state::~event_consumer_state() {
  if (msg != nullptr) {
    spdlog::warn("consumer {} quits holding an event; JetStream redelivers it", spec.durable);
    natsMsg_Destroy(msg);
  }
  teardown(*this);
  spdlog::info("consumer {} stops", spec.durable);
}

event_consumer_actor::behavior_type event_consumer(event_consumer_pointer self,
                                                   event_consumer_setup setup,
                                                   consumer_parent_actor parent) {
  auto& st = self->state;
  st.nats = std::move(setup.nats);
  st.spec = std::move(setup.spec);
  st.config = std::move(setup.config);
  st.make = setup.make;
  st.parent = std::move(parent);
  make_handler(st, setup.targets);
  // Outlives its parent by no more than a fetch: nobody would restart or stop it.
  self->monitor(st.parent);
  self->set_down_handler([self](caf::down_msg& dm) {
    if (dm.source == self->state.parent.address())
      self->quit(dm.reason ? dm.reason : caf::make_error(caf::exit_reason::user_shutdown));
  });
  resume(self);
  return {
    [self](fetch_atom) { fetch(self); },
    [self](tick_atom, uint64_t number) { tick(self, number); },
    [self](bridge_targets& targets) {
      auto& st = self->state;
      auto had = static_cast<bool>(st.handler);
      make_handler(st, targets);
      if (had && !st.handler)
        spdlog::info("consumer {} pauses: its target is not running", st.spec.durable);
      else if (!had && st.handler)
        spdlog::info("consumer {} resumes", st.spec.durable);
      // The event at hand keeps its request; the next one goes to the new target.
      resume(self);
    },
    [self](replay_atom, const std::string& subject,
           const std::vector<uint8_t>& payload) -> caf::result<uint64_t> {
      auto result = replay(self->state, subject, payload);
      if (!result)
        return std::move(result.error());
      return *result;
    },
    [self](stop_atom) -> caf::result<bool> {
      auto& st = self->state;
      st.stopping = true;
      auto rp = self->make_response_promise<bool>();
      st.stop_promises.push_back(rp);
      if (st.msg == nullptr)
        finish(self);
      return rp;
    },
  };
}

} // namespace slicegate::bridge
