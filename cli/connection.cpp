#include "cli/connection.hpp"

#include <cstdlib>
#include <iostream>

#include <nats/nats.h>

#include "bridge/nats_options.hpp"
#include "bridge/subjects.hpp"
#include "cli/output.hpp"
#include "common/database_url.hpp"

namespace slicegate::cli {

using nlohmann::json;
using namespace std::chrono_literals;

namespace {

void on_disconnected(natsConnection* nc, void*) {
  // Closing the connection on purpose disconnects it too.
  if (!natsConnection_IsClosed(nc))
    std::cerr << "slicectl: lost the connection to NATS, reconnecting" << std::endl;
}

void on_reconnected(natsConnection*, void*) {
  std::cerr << "slicectl: reconnected to NATS" << std::endl;
}

/// `<prefix>.admin.<resource>.<verb>`, or `<prefix>.admin.<resource>` for a resource that is
/// its own verb (`overview`).
std::string admin_subject(const options& o, std::string_view resource, std::string_view verb) {
  if (!verb.empty())
    return subjects::admin(o.subject_prefix, resource, verb);
  return o.subject_prefix + "." + std::string{subjects::family::admin} + "."
         + std::string{resource};
}

} // namespace

connection::connection(const std::string& urls, const nats_credentials& credentials,
                       std::chrono::milliseconds timeout, reconnects policy)
  : timeout_(timeout) {
  bridge::prepared_credentials prepared;
  if (auto problem = bridge::prepare(credentials, urls, prepared); !problem.empty())
    throw failure{exit_code::usage, problem};
  natsOptions* opts = nullptr;
  natsOptions_Create(&opts);
  if (auto problem = bridge::apply(opts, prepared); !problem.empty()) {
    natsOptions_Destroy(opts);
    throw failure{exit_code::usage, problem};
  }
  natsOptions_SetURL(opts, urls.c_str());
  natsOptions_SetTimeout(opts, timeout.count());
  natsOptions_SetMaxReconnect(opts, policy == reconnects::never ? 0 : -1);
  if (policy == reconnects::reported) {
    natsOptions_SetDisconnectedCB(opts, on_disconnected, nullptr);
    natsOptions_SetReconnectedCB(opts, on_reconnected, nullptr);
  }
  natsOptions_SetSendAsap(opts, true);
  natsOptions_SetName(opts, "slicectl");
  auto s = natsConnection_Connect(&nc_, opts);
  natsOptions_Destroy(opts);
  if (s != NATS_OK) {
    std::string text = natsStatus_GetText(s);
    if (auto detail = nats_GetLastError(nullptr); detail != nullptr && *detail != '\0')
      text += std::string{" ("} + detail + ")";
    throw failure{exit_code::transport, "cannot connect to " + slicegate::redact_url(urls)
                                          + " with " + describe(credentials) + ": " + text};
  }
}

connection::~connection() {
  natsConnection_Destroy(nc_);
}

reply connection::request(const std::string& subject, const std::string& body) {
  natsMsg* msg = nullptr;
  auto s = natsConnection_Request(&msg, nc_, subject.c_str(), body.data(),
                                  static_cast<int>(body.size()), timeout_.count());
  if (s == NATS_NO_RESPONDERS)
    throw failure{exit_code::transport, "no slicegate answers on " + subject};
  if (s != NATS_OK)
    throw failure{exit_code::transport,
                  "request on " + subject + " failed: " + natsStatus_GetText(s)};
  reply result{std::string(natsMsg_GetData(msg), natsMsg_GetDataLength(msg))};
  const char* code = nullptr;
  if (natsMsgHeader_Get(msg, "Nats-Service-Error-Code", &code) == NATS_OK && code)
    result.error_code = std::atoi(code);
  natsMsg_Destroy(msg);
  return result;
}

std::vector<std::pair<json, std::chrono::microseconds>>
connection::gather(const std::string& subject) {
  natsInbox* inbox = nullptr;
  natsSubscription* sub = nullptr;
  natsInbox_Create(&inbox);
  natsConnection_SubscribeSync(&sub, nc_, inbox);
  auto sent = std::chrono::steady_clock::now();
  natsConnection_PublishRequest(nc_, subject.c_str(), inbox, nullptr, 0);
  std::vector<std::pair<json, std::chrono::microseconds>> result;
  auto wait = timeout_;
  for (;;) {
    natsMsg* msg = nullptr;
    if (natsSubscription_NextMsg(&msg, sub, wait.count()) != NATS_OK)
      break;
    auto rtt = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - sent);
    if (!natsMsg_IsNoResponders(msg)) {
      auto j = json::parse(std::string(natsMsg_GetData(msg), natsMsg_GetDataLength(msg)),
                           nullptr, false);
      if (!j.is_discarded())
        result.emplace_back(std::move(j), rtt);
    }
    natsMsg_Destroy(msg);
    wait = 250ms;
  }
  natsSubscription_Destroy(sub);
  natsInbox_Destroy(inbox);
  if (result.empty())
    throw failure{exit_code::transport, "no slicegate answers on " + subject};
  return result;
}

json call(connection& nc, const std::string& subject, const json& body) {
  auto r = nc.request(subject, body.dump());
  if (r.error_code != 0)
    throw failure{exit_code::error_reply, error_text(r.body, r.error_code)};
  auto j = json::parse(r.body, nullptr, false);
  if (!j.is_object())
    throw failure{exit_code::error_reply, "the reply is not a JSON object"};
  return j;
}

json call(const options& o, const std::string& subject, const json& body) {
  connection nc{o, timeout_of(o)};
  return call(nc, subject, body);
}

json admin_call(connection& nc, const options& o, std::string_view resource,
                std::string_view verb, json fields) {
  fields["session_id"] = session_of(o);
  return call(nc, admin_subject(o, resource, verb), fields);
}

json admin_call(const options& o, std::string_view resource, std::string_view verb,
                json fields) {
  session_of(o); // a usage error, before anything is sent
  connection nc{o, timeout_of(o)};
  return admin_call(nc, o, resource, verb, std::move(fields));
}

} // namespace slicegate::cli
