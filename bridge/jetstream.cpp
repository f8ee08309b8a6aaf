#include "bridge/jetstream.hpp"

#include <algorithm>
#include <string_view>
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

namespace {

/// Whether NATS subject pattern `pattern` (with `*` and `>` wildcards) matches `subject`.
bool covers(std::string_view pattern, std::string_view subject) {
  while (!pattern.empty() && !subject.empty()) {
    auto p_end = pattern.find('.');
    auto s_end = subject.find('.');
    auto p_token = pattern.substr(0, p_end);
    auto s_token = subject.substr(0, s_end);
    if (p_token == ">")
      return true;
    if (p_token != "*" && p_token != s_token)
      return false;
    pattern = p_end == std::string_view::npos ? std::string_view{} : pattern.substr(p_end + 1);
    subject = s_end == std::string_view::npos ? std::string_view{} : subject.substr(s_end + 1);
  }
  return pattern.empty() && subject.empty();
}

} // namespace

caf::error ensure_stream(jsCtx* js, const stream_spec& spec) {
  jsStreamInfo* info = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  auto s = js_GetStreamInfo(&info, js, spec.name.c_str(), nullptr, &jerr);
  if (s == NATS_OK && info != nullptr && info->Config != nullptr) {
    // It exists: slicegate sets only what it owns, its subjects and the age limit of its
    // setting. Every other limit (size, count, replicas, discard policy) stays as an operator
    // made it.
    auto& found = *info->Config;
    std::vector<const char*> subjects(found.Subjects, found.Subjects + found.SubjectsLen);
    auto changed = found.MaxAge != spec.max_age.count();
    for (auto& subject : spec.subjects)
      if (std::none_of(subjects.begin(), subjects.end(),
                       [&](const char* x) { return covers(x, subject); })) {
        subjects.push_back(subject.c_str());
        changed = true;
      }
    if (changed) {
      auto own = found.Subjects;
      auto own_len = found.SubjectsLen;
      found.MaxAge = spec.max_age.count();
      found.Subjects = subjects.data();
      found.SubjectsLen = static_cast<int>(subjects.size());
      jsStreamInfo* updated = nullptr;
      s = js_UpdateStream(&updated, js, &found, nullptr, &jerr);
      jsStreamInfo_Destroy(updated);
      // The info frees its own array, not ours.
      found.Subjects = own;
      found.SubjectsLen = own_len;
    }
    jsStreamInfo_Destroy(info);
    if (s != NATS_OK)
      return make_error(ec::unavailable,
                        "cannot update stream " + spec.name + ": " + last_error(s, jerr));
    return caf::none;
  }
  jsStreamInfo_Destroy(info);
  if (s != NATS_NOT_FOUND && jerr != JSStreamNotFoundErr)
    return make_error(ec::unavailable,
                      "cannot read stream " + spec.name + ": " + last_error(s, jerr));
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
  info = nullptr;
  jerr = static_cast<jsErrCode>(0);
  s = js_AddStream(&info, js, &cfg, nullptr, &jerr);
  jsStreamInfo_Destroy(info);
  // Another instance made it in between: it is then as wanted, or the next start updates it.
  if (s != NATS_OK && jerr != JSStreamNameExistErr)
    return make_error(ec::unavailable,
                      "cannot create stream " + spec.name + ": " + last_error(s, jerr));
  return caf::none;
}

} // namespace slicegate::bridge
