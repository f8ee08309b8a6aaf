#include "bridge/jetstream.hpp"

#include <algorithm>
#include <optional>

#include <spdlog/spdlog.h>

#include "bridge/codec.hpp"
#include "bridge/link.hpp"
#include "messages/error.hpp"

namespace slicegate::bridge {

namespace {

using namespace std::chrono_literals;

/// JetStream API requests (stream and consumer management) give up after this long.
constexpr int64_t api_wait_ms = 2000;
/// Back-off between failed set-up attempts or fetches: doubles from the first to the last.
constexpr caf::timespan first_backoff = 100ms;
constexpr caf::timespan last_backoff = 5s;
/// Failed fetches in a row on a connected connection before the subscription is made anew.
constexpr int fetch_failures_before_rebind = 3;

/// The text of the last nats.c error on this thread, which says more than the status alone
/// (e.g. which stream's subjects overlap).
std::string last_error(natsStatus s, jsErrCode jerr) {
  natsStatus ignored;
  auto text = nats_GetLastError(&ignored);
  auto result = text && *text ? std::string{text} : to_string(s);
  if (jerr != 0)
    result += " (JetStream error " + std::to_string(static_cast<int>(jerr)) + ")";
  return result;
}

jsCtx* open_context(natsConnection* nc) {
  jsOptions opts;
  jsOptions_Init(&opts);
  opts.Wait = api_wait_ms;
  jsCtx* js = nullptr;
  if (natsConnection_JetStream(&js, nc, &opts) != NATS_OK)
    return nullptr;
  return js;
}

bool connected(natsConnection* nc) {
  return nc != nullptr && natsConnection_Status(nc) == NATS_CONN_STATUS_CONNECTED;
}

std::string join(const std::vector<std::string>& xs) {
  std::string result;
  for (auto& x : xs)
    result += (result.empty() ? "" : ", ") + x;
  return result;
}

caf::timespan next_backoff(caf::timespan x) {
  return std::min(x * 2, last_backoff);
}

/// A handler's answer travelling back to the consumer thread.
struct handoff {
  std::mutex mtx;
  std::condition_variable cv;
  std::optional<outcome> result;
};

} // namespace

caf::error ensure_stream(jsCtx* js, const stream_spec& spec) {
  std::vector<const char*> subjects;
  for (auto& subject : spec.subjects)
    subjects.push_back(subject.c_str());
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = spec.name.c_str();
  cfg.Subjects = subjects.data();
  cfg.SubjectsLen = static_cast<int>(subjects.size());
  cfg.Storage = js_FileStorage;
  cfg.Retention = js_LimitsPolicy;
  cfg.MaxAge = spec.max_age.count();
  jsStreamInfo* info = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  auto s = js_AddStream(&info, js, &cfg, nullptr, &jerr);
  // The same configuration again is accepted; a different one is 10058 and needs an update.
  if (s != NATS_OK && jerr == JSStreamNameExistErr) {
    jerr = static_cast<jsErrCode>(0);
    s = js_UpdateStream(&info, js, &cfg, nullptr, &jerr);
  }
  jsStreamInfo_Destroy(info);
  if (s != NATS_OK)
    return make_error(ec::unavailable,
                      "cannot create stream " + spec.name + ": " + last_error(s, jerr));
  return caf::none;
}

// -- pull_consumer ----------------------------------------------------------------------------

pull_consumer::pull_consumer(connection_source source, consumer_spec spec,
                             event_handler handler)
  : source_(std::move(source)), spec_(std::move(spec)), handler_(std::move(handler)),
    counters_(std::make_shared<consumer_counters>()) {}

pull_consumer::~pull_consumer() {
  stop();
}

void pull_consumer::start() {
  thread_ = std::thread{[this] {
    run();
  }};
}

void pull_consumer::stop() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable())
    thread_.join();
}

bool pull_consumer::stopping() {
  std::lock_guard<std::mutex> guard{mtx_};
  return stop_;
}

bool pull_consumer::sleep_for(caf::timespan duration) {
  std::unique_lock<std::mutex> guard{mtx_};
  return cv_.wait_for(guard, duration, [this] { return stop_; });
}

natsConnection* pull_consumer::connection() {
  if (nc_ == nullptr)
    nc_ = source_();
  return nc_;
}

bool pull_consumer::setup() {
  if (!connected(connection()))
    return false;
  if (js_ == nullptr && (js_ = open_context(nc_)) == nullptr)
    return false;
  if (auto err = ensure_stream(js_, spec_.stream)) {
    spdlog::warn("consumer {} cannot set up its stream: {}", spec_.durable, message_of(err));
    return false;
  }
  jsConsumerConfig cc;
  jsConsumerConfig_Init(&cc);
  cc.Durable = spec_.durable.c_str();
  cc.FilterSubject = spec_.filter_subject.c_str();
  cc.DeliverPolicy = js_DeliverAll;
  cc.AckPolicy = js_AckExplicit;
  cc.AckWait = spec_.ack_wait.count();
  // Redeliver without limit: an event is either processed or explicitly rejected.
  cc.MaxDeliver = -1;
  // One event in flight: stream order holds across retries and across instances.
  cc.MaxAckPending = 1;
  jsConsumerInfo* info = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  auto s = js_AddConsumer(&info, js_, spec_.stream.name.c_str(), &cc, nullptr, &jerr);
  if (s != NATS_OK && jerr != JSStreamNotFoundErr) {
    // It exists with another configuration (say, a changed ack wait): bring it to ours.
    jsConsumerInfo_Destroy(info);
    info = nullptr;
    auto first = last_error(s, jerr);
    jerr = static_cast<jsErrCode>(0);
    s = js_UpdateConsumer(&info, js_, spec_.stream.name.c_str(), &cc, nullptr, &jerr);
    if (s != NATS_OK)
      spdlog::warn("consumer {} cannot be created ({}) nor updated ({})", spec_.durable, first,
                   last_error(s, jerr));
  }
  jsConsumerInfo_Destroy(info);
  if (s != NATS_OK)
    return false;
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = spec_.stream.name.c_str();
  so.Consumer = spec_.durable.c_str();
  jerr = static_cast<jsErrCode>(0);
  s = js_PullSubscribe(&sub_, js_, spec_.filter_subject.c_str(), spec_.durable.c_str(), nullptr,
                       &so, &jerr);
  if (s != NATS_OK) {
    spdlog::warn("consumer {} cannot subscribe: {}", spec_.durable, last_error(s, jerr));
    sub_ = nullptr;
    return false;
  }
  spdlog::info("consumer {} takes {} from stream {}", spec_.durable, spec_.filter_subject,
               spec_.stream.name);
  return true;
}

void pull_consumer::teardown() {
  // Destroy, never Unsubscribe: the durable consumer and its position stay on the server.
  natsSubscription_Destroy(sub_);
  sub_ = nullptr;
  jsCtx_Destroy(js_);
  js_ = nullptr;
}

void pull_consumer::run() {
  auto backoff = first_backoff;
  int failures = 0;
  while (!stopping()) {
    if (sub_ == nullptr && !setup()) {
      if (sleep_for(backoff))
        break;
      backoff = next_backoff(backoff);
      continue;
    }
    natsMsgList list{nullptr, 0};
    jsErrCode jerr = static_cast<jsErrCode>(0);
    // One event per fetch: with MaxAckPending 1 a larger batch could only wait out the timeout.
    auto s = natsSubscription_Fetch(&list, sub_, 1, spec_.fetch_timeout.count(), &jerr);
    if (s == NATS_OK) {
      backoff = first_backoff;
      failures = 0;
      for (int i = 0; i < list.Count; ++i)
        process(list.Msgs[i]);
      natsMsgList_Destroy(&list);
      continue;
    }
    natsMsgList_Destroy(&list);
    if (s == NATS_TIMEOUT)
      continue; // nothing to do
    counters_->fetch_errors.fetch_add(1);
    // While disconnected, nats.c restores the subscription by itself; a failure on a live
    // connection that persists means the consumer is gone (say, a wiped store): set it up anew.
    if (connected(nc_) && ++failures >= fetch_failures_before_rebind) {
      spdlog::warn("consumer {} fails to fetch ({}); setting it up again", spec_.durable,
                   last_error(s, jerr));
      teardown();
      failures = 0;
    }
    if (sleep_for(backoff))
      break;
    backoff = next_backoff(backoff);
  }
  teardown();
  spdlog::info("consumer {} stops", spec_.durable);
}

void pull_consumer::process(natsMsg* msg) {
  counters_->received.fetch_add(1);
  auto result = await_handler(msg);
  switch (result.what) {
    case verdict::done:
      counters_->done.fetch_add(1);
      natsMsg_Ack(msg, nullptr);
      break;
    case verdict::rejected:
      counters_->rejected.fetch_add(1);
      spdlog::warn("consumer {} rejects an event on {}: {}", spec_.durable,
                   natsMsg_GetSubject(msg), result.reason);
      report_rejection(natsMsg_GetSubject(msg), result);
      natsMsg_Ack(msg, nullptr);
      break;
    case verdict::retry_later: {
      counters_->retried.fetch_add(1);
      auto delay = std::chrono::duration_cast<std::chrono::milliseconds>(spec_.retry_delay);
      spdlog::warn("consumer {} puts an event back for {} ms: {}", spec_.durable, delay.count(),
                   result.reason);
      natsMsg_NakWithDelay(msg, delay.count(), nullptr);
      break;
    }
  }
}

outcome pull_consumer::await_handler(natsMsg* msg) {
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
  auto state = std::make_shared<handoff>();
  completion complete = [state](outcome result) {
    {
      std::lock_guard<std::mutex> guard{state->mtx};
      if (state->result)
        return;
      state->result = std::move(result);
    }
    state->cv.notify_all();
  };
  try {
    handler_(em, complete);
  } catch (const std::exception& e) {
    complete(retry_later(std::string{"handler failed: "} + e.what()));
  }
  // While the handler works, tell JetStream the event is in progress, so that it is not
  // redelivered behind our back.
  auto refresh = std::max<caf::timespan>(spec_.ack_wait / 3, std::chrono::milliseconds{10});
  auto deadline = std::chrono::steady_clock::now() + spec_.handler_timeout;
  std::unique_lock<std::mutex> guard{state->mtx};
  while (!state->result) {
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline)
      return retry_later("no answer within the handler timeout");
    auto until = std::min(deadline, now + refresh);
    if (!state->cv.wait_until(guard, until, [&] { return state->result.has_value(); })) {
      guard.unlock();
      natsMsg_InProgress(msg, nullptr);
      guard.lock();
    }
  }
  return std::move(*state->result);
}

void pull_consumer::report_rejection(const char* subject, const outcome& result) {
  events::event_rejected report{subject, result.event_id, result.reason};
  auto body = codec::dump(codec::to_json(report));
  natsConnection_Publish(nc_, spec_.rejected_subject.c_str(), body.data(),
                         static_cast<int>(body.size()));
}

// -- stream_keeper ----------------------------------------------------------------------------

stream_keeper::stream_keeper(connection_source source, std::vector<stream_spec> streams)
  : source_(std::move(source)), streams_(std::move(streams)) {}

stream_keeper::~stream_keeper() {
  stop();
}

void stream_keeper::start() {
  thread_ = std::thread{[this] {
    run();
  }};
}

void stream_keeper::stop() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable())
    thread_.join();
}

void stream_keeper::run() {
  auto backoff = first_backoff;
  std::unique_lock<std::mutex> guard{mtx_};
  while (!stop_ && !streams_.empty()) {
    guard.unlock();
    bool progress = false;
    if (auto nc = source_(); connected(nc)) {
      if (auto js = open_context(nc)) {
        auto& spec = streams_.back();
        if (auto err = ensure_stream(js, spec)) {
          spdlog::warn("bridge cannot set up stream {} yet: {}", spec.name, message_of(err));
        } else {
          spdlog::info("bridge keeps stream {} on {}", spec.name, join(spec.subjects));
          progress = true;
        }
        jsCtx_Destroy(js);
      }
    }
    guard.lock();
    if (progress) {
      streams_.pop_back();
      backoff = first_backoff;
    } else {
      cv_.wait_for(guard, backoff, [this] { return stop_; });
      backoff = next_backoff(backoff);
    }
  }
}

} // namespace slicegate::bridge
