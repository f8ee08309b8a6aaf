#include "bridge/jetstream.hpp"

#include <vector>

#include "bridge/link.hpp"
#include "messages/error.hpp"

namespace slicegate::bridge {

namespace {

/// JetStream API requests (stream and consumer management) give up after this long.
constexpr int64_t api_wait_ms = 2000;

} // namespace

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

} // namespace slicegate::bridge
