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
  // One batch in flight: stream order holds across retries, restarts and instances.
  cc.MaxAckPending = std::max(1, spec.batch);
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

/// Starts the loop again unless it runs, a batch is at hand, or there is nothing to do.
void resume(event_consumer_pointer self) {
  auto& st = self->state;
  if (st.fetch_pending || !st.held.empty() || !st.handler || st.stopping)
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

bool retried(const held_event& x) {
  return x.result && x.result->what == verdict::retry_later;
}

/// Settles the batch at hand with JetStream, in stream order, and goes on: acknowledges what
/// is applied or kept, up to the first event that is neither (the consumer stops, or its
/// target went away); that one and every event behind it go back, after the retry delay if
/// one of them is to be retried, else at once.
void conclude(event_consumer_pointer self) {
  auto& st = self->state;
  auto settled = [](const held_event& x) {
    return x.result
           && (x.result->what == verdict::done
               || (x.result->what == verdict::rejected && x.dead_letter_id));
  };
  auto back = std::find_if_not(st.held.begin(), st.held.end(), settled);
  auto delayed = std::any_of(back, st.held.end(), retried);
  // Counted first: whoever sees the acknowledgement on the server then sees the count too.
  for (auto i = st.held.begin(); i != back; ++i)
    count(self, i->result->what == verdict::done ? &bus::consumer_counters::done
                                                 : &bus::consumer_counters::rejected);
  for (auto i = back; i != st.held.end(); ++i)
    if (retried(*i))
      count(self, &bus::consumer_counters::retried);
  for (auto i = st.held.begin(); i != back; ++i) {
    if (i->result->what == verdict::rejected) {
      spdlog::warn("consumer {} rejects an event on {} (dead letter {}): {}", st.spec.durable,
                   natsMsg_GetSubject(i->msg), *i->dead_letter_id, i->result->reason);
      report_rejection(st, natsMsg_GetSubject(i->msg), *i->result, i->dead_letter_id);
    }
    natsMsg_Ack(i->msg, nullptr);
  }
  if (back != st.held.end()) {
    auto delay = std::chrono::duration_cast<std::chrono::milliseconds>(
      delayed ? st.spec.retry_delay : caf::timespan{0});
    spdlog::warn("consumer {} puts {} event(s) back for {} ms", st.spec.durable,
                 st.held.end() - back, delay.count());
    for (auto i = back; i != st.held.end(); ++i)
      natsMsg_NakWithDelay(i->msg, delay.count(), nullptr);
  }
  for (auto& x : st.held)
    natsMsg_Destroy(x.msg);
  st.held.clear();
  if (st.stopping)
    finish(self);
  else
    resume(self);
}

void advance(event_consumer_pointer self);

/// Whether an answer for step `number` is for the step under way.
bool current(event_consumer_pointer self, uint64_t number) {
  auto& st = self->state;
  return st.busy && number == st.step_number && !st.held.empty();
}

/// Keeps the rejected event `held[i]` as a dead letter; one whose dead letter cannot be stored
/// is to be retried: nothing is acknowledged that is not applied or kept.
void keep(event_consumer_pointer self, size_t i) {
  auto& st = self->state;
  auto& x = st.held[i];
  auto result = *x.result;
  if (!st.store) {
    x.result = retry_later("rejected (" + result.reason
                           + "), and persistence is not running to keep it");
    return advance(self);
  }
  admin::record_dead_letter letter;
  letter.subject = without_nul(natsMsg_GetSubject(x.msg));
  if (result.event_id)
    letter.event_id = without_nul(*result.event_id);
  letter.payload.assign(x.message.payload.begin(), x.message.payload.end());
  letter.reason = without_nul(result.reason);
  jsMsgMetaData* meta = nullptr;
  if (natsMsg_GetMetaData(&meta, x.msg) == NATS_OK) {
    letter.stream_sequence = static_cast<int64_t>(meta->Sequence.Stream);
    jsMsgMetaData_Destroy(meta);
  }
  letter.deliveries = static_cast<int64_t>(x.message.delivered);
  st.busy = true;
  st.storing = true;
  auto number = ++st.step_number;
  self->request(st.store, st.spec.handler_timeout, std::move(letter))
    .then(
      [self, number, i](int64_t id) {
        if (!current(self, number))
          return;
        auto& st = self->state;
        st.busy = st.storing = false;
        st.held[i].dead_letter_id = id;
        advance(self);
      },
      [self, number, i, result](caf::error& err) {
        if (!current(self, number))
          return;
        auto& st = self->state;
        st.busy = st.storing = false;
        st.held[i].result = retry_later("rejected (" + result.reason
                                        + "), and its dead letter cannot be stored: "
                                        + message_of(err));
        advance(self);
      });
}

/// Takes the handler's outcomes for the step `number`: one per event it was given.
void answer(event_consumer_pointer self, uint64_t number, std::vector<outcome> results,
            const std::string& missing) {
  if (!current(self, number) || self->state.storing)
    return; // a late answer
  auto& st = self->state;
  st.busy = false;
  for (size_t k = 0; k < st.step_events.size(); ++k) {
    auto& x = st.held[st.step_events[k]];
    x.result = k < results.size() ? std::move(results[k]) : retry_later(missing);
  }
  advance(self);
}

/// Hands the events without an outcome to the handler: all of them to a batch handler, the
/// first to an event handler.
void dispatch(event_consumer_pointer self) {
  auto& st = self->state;
  auto handler = st.handler;
  st.step_events.clear();
  for (size_t i = 0; i < st.held.size(); ++i) {
    if (st.held[i].result)
      continue;
    st.step_events.push_back(i);
    if (!handler.batch)
      break;
  }
  st.busy = true;
  st.deadline = std::chrono::steady_clock::now() + st.spec.handler_timeout;
  auto number = ++st.step_number;
  try {
    if (handler.batch) {
      std::vector<event_message> msgs;
      msgs.reserve(st.step_events.size());
      for (auto i : st.step_events)
        msgs.push_back(st.held[i].message);
      handler.batch(self, msgs, [self, number](std::vector<outcome> results) {
        answer(self, number, std::move(results), "the handler did not answer for it");
      });
    } else {
      handler.each(self, st.held[st.step_events.front()].message,
                   [self, number](outcome result) {
                     std::vector<outcome> results;
                     results.push_back(std::move(result));
                     answer(self, number, std::move(results),
                            "the handler did not answer for it");
                   });
    }
  } catch (const std::exception& e) {
    answer(self, number, {}, std::string{"handler failed: "} + e.what());
  }
}

/// Takes the batch at hand one step further: events to the handler, then dead letters, then
/// the settlement. Events go to an event handler one at a time, and none after an event that
/// is to be retried. Events to retry are kept, not put back, and handed to the handler again
/// after the retry delay: nothing is fetched meanwhile, so nothing overtakes them.
void advance(event_consumer_pointer self) {
  auto& st = self->state;
  if (st.busy || st.waiting || st.held.empty())
    return;
  if (std::any_of(st.held.begin(), st.held.end(), retried)) {
    if (st.stopping || !st.handler)
      return conclude(self);
    auto delay = std::chrono::duration_cast<std::chrono::milliseconds>(st.spec.retry_delay);
    auto first = std::find_if(st.held.begin(), st.held.end(), retried);
    spdlog::warn("consumer {} retries {} event(s) in {} ms: {}", st.spec.durable,
                 std::count_if(st.held.begin(), st.held.end(), retried), delay.count(),
                 first->result->reason);
    for (auto& x : st.held) {
      if (!retried(x))
        continue;
      count(self, &bus::consumer_counters::retried);
      x.result.reset();
      // As JetStream would count a redelivery (an internal error is retried a few
      // deliveries, then rejected).
      ++x.message.delivered;
    }
    st.waiting = true;
    schedule_fetch(self, st.spec.retry_delay);
    return;
  }
  auto open = std::any_of(st.held.begin(), st.held.end(),
                          [](const held_event& x) { return !x.result; });
  if (open && st.handler && !st.stopping)
    return dispatch(self);
  for (size_t i = 0; i < st.held.size(); ++i) {
    auto& x = st.held[i];
    if (x.result && x.result->what == verdict::rejected && !x.dead_letter_id)
      return keep(self, i);
  }
  conclude(self);
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

/// Holds a fetched event.
held_event hold(event_consumer_pointer self, natsMsg* msg) {
  count(self, &bus::consumer_counters::received);
  held_event x;
  x.msg = msg;
  auto& em = x.message;
  em.subject = natsMsg_GetSubject(msg);
  if (auto size = natsMsg_GetDataLength(msg); size > 0)
    em.payload.assign(natsMsg_GetData(msg), static_cast<size_t>(size));
  jsMsgMetaData* meta = nullptr;
  if (natsMsg_GetMetaData(&meta, msg) == NATS_OK) {
    em.stream_sequence = meta->Sequence.Stream;
    em.delivered = meta->NumDelivered;
    jsMsgMetaData_Destroy(meta);
  }
  return x;
}

void fetch(event_consumer_pointer self) {
  auto& st = self->state;
  st.fetch_pending = false;
  if (!st.held.empty()) {
    // The retry delay of the batch at hand is over.
    if (st.waiting) {
      st.waiting = false;
      advance(self);
    }
    return;
  }
  if (!st.handler || st.stopping)
    return;
  if (st.sub == nullptr && !setup(st)) {
    schedule_fetch(self, st.backoff);
    st.backoff = next_backoff(st.backoff);
    return;
  }
  natsMsgList list{nullptr, 0};
  jsErrCode jerr = static_cast<jsErrCode>(0);
  auto s = natsSubscription_Fetch(&list, st.sub, std::max(1, st.spec.batch),
                                  st.spec.fetch_timeout.count(), &jerr);
  if (s == NATS_OK && list.Count > 0) {
    st.backoff = first_backoff;
    st.failures = 0;
    // The events are ours now; the list lets go of them.
    st.held.reserve(static_cast<size_t>(list.Count));
    for (int i = 0; i < list.Count; ++i) {
      st.held.push_back(hold(self, list.Msgs[i]));
      list.Msgs[i] = nullptr;
    }
    natsMsgList_Destroy(&list);
    spdlog::debug("consumer {} takes {} event(s)", st.spec.durable, st.held.size());
    auto number = ++st.batch_number;
    advance(self);
    if (!st.held.empty() && st.batch_number == number)
      self->delayed_send(self, progress_interval(st.spec), tick_atom_v, number);
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
  if (st.held.empty() || number != st.batch_number)
    return;
  auto now = std::chrono::steady_clock::now();
  if (st.busy && !st.storing && now >= st.deadline)
    answer(self, st.step_number, {}, "no answer within the handler timeout");
  if (st.held.empty() || number != st.batch_number)
    return;
  // Not redelivered behind our back while the handler works.
  for (auto& x : st.held)
    natsMsg_InProgress(x.msg, nullptr);
  auto interval = progress_interval(st.spec);
  if (st.busy && !st.storing)
    interval = std::min(interval, std::chrono::duration_cast<caf::timespan>(st.deadline - now));
  self->delayed_send(self, std::max<caf::timespan>(interval, std::chrono::milliseconds{1}),
                     tick_atom_v, number);
}

void make_handler(event_consumer_state& st, const bridge_targets& targets) {
  st.store = targets.persistence;
  auto handler = st.make(st.config, targets);
  st.handler = handler ? std::move(*handler) : event_handlers{};
}

} // namespace

event_consumer_state::~event_consumer_state() {
  if (!held.empty()) {
    spdlog::warn("consumer {} quits holding {} event(s); JetStream redelivers them",
                 spec.durable, held.size());
    for (auto& x : held)
      natsMsg_Destroy(x.msg);
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
      // The call at hand keeps its request; the next one goes to the new target.
      if (st.held.empty())
        resume(self);
      else
        advance(self);
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
      if (st.held.empty()) {
        finish(self);
      } else {
        st.waiting = false; // events waiting for a retry go back now
        advance(self);
      }
      return rp;
    },
  };
}

} // namespace slicegate::bridge
