#include "tests/support/nats_client.hpp"

#include <stdexcept>
#include <thread>

#include <nats/nats.h>

namespace slicegate::test {

nlohmann::json reply::json() const {
  return nlohmann::json::parse(body, nullptr, false);
}

std::string reply::error_code() const {
  auto j = json();
  if (j.is_object() && j.contains("error") && j["error"].is_object()
      && j["error"].contains("code") && j["error"]["code"].is_string())
    return j["error"]["code"].get<std::string>();
  return {};
}

int reply::service_error_code() const {
  auto i = headers.find("Nats-Service-Error-Code");
  return i == headers.end() ? 0 : std::stoi(i->second);
}

nlohmann::json received::json() const {
  return nlohmann::json::parse(body, nullptr, false);
}

nats_client::nats_client(const std::string& url, bool send_asap) {
  natsOptions* opts = nullptr;
  natsOptions_Create(&opts);
  natsOptions_SetURL(opts, url.c_str());
  natsOptions_SetMaxReconnect(opts, -1);
  natsOptions_SetReconnectWait(opts, 100);
  natsOptions_SetSendAsap(opts, send_asap);
  auto s = natsConnection_Connect(&nc_, opts);
  natsOptions_Destroy(opts);
  if (s != NATS_OK)
    throw std::runtime_error(std::string{"cannot connect to NATS: "} + natsStatus_GetText(s));
  if (natsConnection_JetStream(&js_, nc_, nullptr) != NATS_OK)
    throw std::runtime_error("cannot open JetStream context");
}

nats_client::~nats_client() {
  for (auto sub : subs_) {
    natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);
  }
  jsCtx_Destroy(js_);
  natsConnection_Destroy(nc_);
}

reply nats_client::request(const std::string& subject, const std::string& body,
                           std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      return reply{"timeout", {}, {}};
    natsMsg* msg = nullptr;
    auto s = natsConnection_Request(&msg, nc_, subject.c_str(), body.data(),
                                    static_cast<int>(body.size()), left.count());
    if (s == NATS_NO_RESPONDERS) {
      std::this_thread::sleep_for(std::chrono::milliseconds{50});
      continue;
    }
    if (s == NATS_TIMEOUT)
      return reply{"timeout", {}, {}};
    if (s != NATS_OK)
      return reply{natsStatus_GetText(s), {}, {}};
    reply r;
    r.body.assign(natsMsg_GetData(msg), natsMsg_GetDataLength(msg));
    const char** keys = nullptr;
    int count = 0;
    if (natsMsgHeader_Keys(msg, &keys, &count) == NATS_OK) {
      for (int i = 0; i < count; ++i) {
        const char* value = nullptr;
        if (natsMsgHeader_Get(msg, keys[i], &value) == NATS_OK && value)
          r.headers[keys[i]] = value;
      }
      free(keys);
    }
    natsMsg_Destroy(msg);
    return r;
  }
}

reply nats_client::request(const std::string& subject, const nlohmann::json& body,
                           std::chrono::milliseconds timeout) {
  return request(subject, body.dump(), timeout);
}

void nats_client::publish(const std::string& subject, const std::string& body) {
  natsConnection_Publish(nc_, subject.c_str(), body.data(), static_cast<int>(body.size()));
  natsConnection_Flush(nc_);
}

void nats_client::js_publish(const std::string& subject, const std::string& body,
                             const std::string& msg_id) {
  jsPubOptions opts;
  jsPubOptions_Init(&opts);
  if (!msg_id.empty())
    opts.MsgId = msg_id.c_str();
  opts.MaxWait = 5000;
  jsPubAck* ack = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  auto s = js_Publish(&ack, js_, subject.c_str(), body.data(), static_cast<int>(body.size()),
                      &opts, &jerr);
  jsPubAck_Destroy(ack);
  if (s != NATS_OK)
    throw std::runtime_error("js_Publish to " + subject + " failed: " + natsStatus_GetText(s)
                             + " (" + std::to_string(static_cast<int>(jerr)) + ")");
}

void nats_client::on_message(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  auto self = static_cast<nats_client*>(closure);
  received r{natsMsg_GetSubject(msg),
             std::string(natsMsg_GetData(msg), natsMsg_GetDataLength(msg))};
  natsMsg_Destroy(msg);
  {
    std::lock_guard<std::mutex> guard{self->mtx_};
    self->received_.push_back(std::move(r));
  }
  self->cv_.notify_all();
}

void nats_client::subscribe(const std::string& subject) {
  natsSubscription* sub = nullptr;
  if (natsConnection_Subscribe(&sub, nc_, subject.c_str(), on_message, this) != NATS_OK)
    throw std::runtime_error("cannot subscribe to " + subject);
  natsSubscription_SetPendingLimits(sub, -1, -1);
  subs_.push_back(sub);
  natsConnection_Flush(nc_);
}

std::vector<received> nats_client::messages() {
  std::lock_guard<std::mutex> guard{mtx_};
  return received_;
}

std::vector<received> nats_client::wait_for(size_t n, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> guard{mtx_};
  cv_.wait_for(guard, timeout, [&] { return received_.size() >= n; });
  return received_;
}

void nats_client::clear() {
  std::lock_guard<std::mutex> guard{mtx_};
  received_.clear();
}

} // namespace slicegate::test
