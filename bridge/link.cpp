#include "bridge/link.hpp"

#include <algorithm>
#include <cstdlib>
#include <random>

#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include "bridge/codec.hpp"
#include "common/database_url.hpp"
#include "messages/error.hpp"

namespace slicegate::bridge {

namespace {

/// How long nats.c waits between reconnect attempts, plus a random jitter so that many
/// clients do not hit a restarted server at the same instant. The first connection is retried
/// at the same pace.
constexpr int64_t reconnect_wait_ms = 250;
constexpr int64_t reconnect_jitter_ms = 100;
/// A half-open TCP connection is noticed after two missed pings.
constexpr int64_t ping_interval_ms = 10'000;
/// Events published before the first connection are kept up to this many bytes, as much as
/// nats.c's reconnect buffer keeps during later outages.
constexpr size_t backlog_limit = 8 * 1024 * 1024;

/// Failures that mean "no server yet": worth retrying. Anything else is a configuration
/// nats.c refuses.
bool transient(natsStatus s) {
  switch (s) {
    case NATS_NO_SERVER:
    case NATS_IO_ERROR:
    case NATS_TIMEOUT:
    case NATS_PROTOCOL_ERROR:
    case NATS_CONNECTION_CLOSED:
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_STALE_CONNECTION:
    case NATS_NOT_YET_CONNECTED: return true;
    default: return false;
  }
}

std::vector<std::string> split_urls(const std::string& urls) {
  std::vector<std::string> result;
  size_t start = 0;
  while (start <= urls.size()) {
    auto end = urls.find(',', start);
    if (end == std::string::npos)
      end = urls.size();
    auto url = urls.substr(start, end - start);
    url.erase(0, url.find_first_not_of(" \t"));
    url.erase(url.find_last_not_of(" \t") + 1);
    if (!url.empty())
      result.push_back(std::move(url));
    start = end + 1;
  }
  return result;
}

/// A header value must stay on one line: control characters become spaces.
std::string header_safe(std::string_view text) {
  std::string result{text};
  for (auto& c : result)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      c = ' ';
  return result;
}

void copy_headers(natsMsg* msg, bus::inbound& out) {
  const char** keys = nullptr;
  int count = 0;
  if (natsMsgHeader_Keys(msg, &keys, &count) != NATS_OK)
    return;
  for (int i = 0; i < count; ++i) {
    const char** values = nullptr;
    int n = 0;
    if (natsMsgHeader_Values(msg, keys[i], &values, &n) != NATS_OK)
      continue;
    for (int j = 0; j < n; ++j)
      out.headers.emplace_back(keys[i], values[j] ? values[j] : "");
    std::free(values);
  }
  std::free(keys);
}

} // namespace

std::string to_string(natsStatus status) {
  return natsStatus_GetText(status);
}

namespace {

/// The status and what nats.c said about it, e.g. "Not Permitted (Authorization Violation)"
/// or the TLS handshake's error.
std::string last_error_text(natsStatus status) {
  auto result = to_string(status);
  if (auto detail = nats_GetLastError(nullptr); detail != nullptr && *detail != '\0')
    result += std::string{" ("} + detail + ")";
  return result;
}

} // namespace

link::link(std::string urls, std::string client_name, int64_t max_payload,
           nats_credentials credentials)
  : urls_(split_urls(urls)),
    url_text_(std::move(urls)),
    client_name_(std::move(client_name)),
    credentials_(std::move(credentials)),
    max_payload_(max_payload) {}

link::~link() {
  close(std::chrono::seconds{2});
  natsConnection_Destroy(rpc_role_.nc.load());
  natsConnection_Destroy(bulk_role_.nc.load());
}

natsStatus link::open(natsConnection** nc, connection_role& role) {
  natsOptions* opts = nullptr;
  auto s = natsOptions_Create(&opts);
  if (s != NATS_OK)
    return s;
  std::vector<const char*> servers;
  for (auto& url : urls_)
    servers.push_back(url.c_str());
  auto name = client_name_ + " " + role.name;
  s = natsOptions_SetServers(opts, servers.data(), static_cast<int>(servers.size()));
  if (s == NATS_OK)
    s = natsOptions_SetName(opts, name.c_str());
  if (s == NATS_OK)
    s = natsOptions_SetMaxReconnect(opts, -1);
  if (s == NATS_OK)
    s = natsOptions_SetReconnectWait(opts, reconnect_wait_ms);
  if (s == NATS_OK)
    s = natsOptions_SetReconnectJitter(opts, reconnect_jitter_ms, reconnect_jitter_ms);
  if (s == NATS_OK)
    s = natsOptions_SetPingInterval(opts, ping_interval_ms);
  if (s == NATS_OK)
    s = natsOptions_SetSendAsap(opts, role.send_asap);
  if (s == NATS_OK)
    s = natsOptions_UseGlobalMessageDelivery(opts, true);
  if (s == NATS_OK)
    s = natsOptions_SetDisconnectedCB(opts, on_disconnected, &role);
  if (s == NATS_OK)
    s = natsOptions_SetReconnectedCB(opts, on_reconnected, &role);
  if (s == NATS_OK)
    s = natsOptions_SetClosedCB(opts, on_closed, &role);
  if (s == NATS_OK)
    s = natsOptions_SetErrorHandler(opts, on_error, &role);
  // connect() applied the same credentials once already, so they are known to be accepted.
  if (s == NATS_OK && !apply(opts, prepared_).empty())
    s = NATS_INVALID_ARG;
  if (s == NATS_OK)
    s = natsConnection_Connect(nc, opts);
  natsOptions_Destroy(opts);
  return s;
}

caf::error link::connect(bridge_actor receiver) {
  if (urls_.empty())
    return make_error(ec::invalid_request, "no NATS server URL given");
  // Files and combinations are checked once, here, so that a mistake stops the start with a
  // message naming the option instead of failing every connection attempt.
  if (auto problem = prepare(credentials_, url_text_, prepared_); !problem.empty())
    return make_error(ec::invalid_request, problem);
  {
    natsOptions* opts = nullptr;
    if (auto s = natsOptions_Create(&opts); s != NATS_OK)
      return make_error(ec::invalid_request, "cannot create NATS options: " + to_string(s));
    auto problem = apply(opts, prepared_);
    natsOptions_Destroy(opts);
    if (!problem.empty())
      return make_error(ec::invalid_request, problem);
  }
  // Set before any connection exists: callbacks read it without a lock.
  receiver_ = std::move(receiver);
  for (auto role : {&rpc_role_, &bulk_role_}) {
    // The first attempt runs here, so that a bad configuration fails the start and a running
    // server is connected to before start() returns.
    natsConnection* nc = nullptr;
    auto s = open(&nc, *role);
    if (s == NATS_OK) {
      std::lock_guard<std::mutex> guard{mtx_};
      install(*role, nc);
      continue;
    }
    if (!transient(s))
      return make_error(ec::invalid_request, "cannot connect to NATS at "
                                               + redact_url(urls_.front()) + " with "
                                               + describe(credentials_) + ": "
                                               + last_error_text(s));
    spdlog::warn("bridge finds no NATS server at {} ({}); its {} connection keeps trying",
                 redact_url(urls_.front()), to_string(s), role->name);
    role->opener = std::thread{[this, role] {
      keep_opening(*role);
    }};
  }
  return caf::none;
}

void link::keep_opening(connection_role& role) {
  std::minstd_rand random{std::random_device{}()};
  for (;;) {
    auto pause = std::chrono::milliseconds{reconnect_wait_ms + random() % reconnect_jitter_ms};
    {
      std::unique_lock<std::mutex> guard{mtx_};
      if (cv_.wait_for(guard, pause, [this] { return closing_; }))
        return;
    }
    natsConnection* nc = nullptr;
    auto s = open(&nc, role);
    if (s == NATS_OK) {
      // close() joins this thread before it closes connections, so even a connection made
      // while closing is installed and then closed.
      std::lock_guard<std::mutex> guard{mtx_};
      install(role, nc);
      return;
    }
    if (!transient(s))
      spdlog::error("bridge's {} connection fails: {}", role.name, last_error_text(s));
  }
}

void link::install(connection_role& role, natsConnection* nc) {
  role.nc.store(nc);
  if (&role == &rpc_role_) {
    for (auto& wish : wishes_)
      if (auto s = subscribe_now(wish.subject, wish.queue); s != NATS_OK)
        spdlog::error("bridge cannot subscribe to {}: {}", wish.subject, to_string(s));
  } else {
    for (auto& event : backlog_)
      natsConnection_Publish(nc, event.subject.c_str(), event.body.data(),
                             static_cast<int>(event.body.size()));
    backlog_.clear();
    backlog_bytes_ = 0;
  }
  notify(role, "connected");
}

namespace {

/// Bounds of one request subscription's backlog inside nats.c: far above what the callback
/// thread lets pile up in a burst, and a few seconds of a flood at most.
constexpr int pending_messages_limit = 262144;
constexpr int pending_bytes_limit = 256 * 1024 * 1024;

} // namespace

natsStatus link::subscribe_now(const std::string& subject, const std::string& queue) {
  auto nc = rpc_role_.nc.load();
  natsSubscription* sub = nullptr;
  auto s = queue.empty() ? natsConnection_Subscribe(&sub, nc, subject.c_str(), on_message, this)
                         : natsConnection_QueueSubscribe(&sub, nc, subject.c_str(),
                                                         queue.c_str(), on_message, this);
  if (s != NATS_OK)
    return s;
  // The callback only copies and forwards (or sheds past max_in_flight), so a backlog means a
  // burst the callback thread has not reached yet. It is bounded all the same: past the
  // limits nats.c drops requests (their callers time out) and reports a slow consumer, which
  // `nats_async_errors` counts, instead of holding a flood in memory.
  natsSubscription_SetPendingLimits(sub, pending_messages_limit, pending_bytes_limit);
  subscriptions_.push_back(sub);
  return NATS_OK;
}

caf::error link::subscribe(const std::string& subject, const std::string& queue) {
  std::lock_guard<std::mutex> guard{mtx_};
  wishes_.push_back({subject, queue});
  if (rpc_role_.nc.load() == nullptr)
    return caf::none; // install() subscribes
  if (auto s = subscribe_now(subject, queue); s != NATS_OK)
    return make_error(ec::unavailable, "cannot subscribe to " + subject + ": " + to_string(s));
  return caf::none;
}

void link::flush(std::chrono::milliseconds timeout) {
  auto nc = rpc_role_.nc.load();
  if (nc != nullptr && natsConnection_Status(nc) == NATS_CONN_STATUS_CONNECTED)
    natsConnection_FlushTimeout(nc, timeout.count());
}

bool link::reply(const std::string& to, std::string_view body) {
  auto nc = rpc_role_.nc.load();
  return nc != nullptr
         && natsConnection_Publish(nc, to.c_str(), body.data(), static_cast<int>(body.size()))
              == NATS_OK;
}

bool link::reply_error(const std::string& to, std::string_view body,
                       std::string_view description, int code) {
  auto nc = rpc_role_.nc.load();
  if (nc == nullptr)
    return false;
  natsMsg* msg = nullptr;
  auto s
    = natsMsg_Create(&msg, to.c_str(), nullptr, body.data(), static_cast<int>(body.size()));
  if (s == NATS_OK)
    s = natsMsgHeader_Set(msg, "Nats-Service-Error", header_safe(description).c_str());
  if (s == NATS_OK)
    s = natsMsgHeader_Set(msg, "Nats-Service-Error-Code", std::to_string(code).c_str());
  if (s == NATS_OK)
    s = natsConnection_PublishMsg(nc, msg);
  natsMsg_Destroy(msg);
  return s == NATS_OK;
}

bool link::publish(const std::string& subject, std::string_view body) {
  auto publish_on = [&](natsConnection* nc) {
    return natsConnection_Publish(nc, subject.c_str(), body.data(),
                                  static_cast<int>(body.size()))
           == NATS_OK;
  };
  if (auto nc = bulk_role_.nc.load())
    return publish_on(nc);
  std::lock_guard<std::mutex> guard{mtx_};
  if (auto nc = bulk_role_.nc.load()) // installed meanwhile
    return publish_on(nc);
  if (backlog_bytes_ + body.size() > backlog_limit) {
    counters.backlog_dropped.fetch_add(1);
    return false;
  }
  backlog_bytes_ += body.size();
  backlog_.push_back({subject, std::string{body}});
  return true;
}

void link::drain_subscriptions(std::chrono::milliseconds timeout) {
  std::vector<natsSubscription*> subs;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    wishes_.clear();
    subs.swap(subscriptions_);
  }
  for (auto sub : subs)
    natsSubscription_Drain(sub);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (auto sub : subs) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
    natsSubscription_WaitForDrainCompletion(sub, std::max<int64_t>(left.count(), 1));
    natsSubscription_Destroy(sub);
  }
}

void link::close(std::chrono::milliseconds timeout) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    closing_ = true;
    quiet_ = true;
    wishes_.clear();
    for (auto sub : subscriptions_)
      natsSubscription_Destroy(sub);
    subscriptions_.clear();
  }
  cv_.notify_all();
  for (auto role : {&rpc_role_, &bulk_role_})
    if (role->opener.joinable())
      role->opener.join();
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (auto role : {&rpc_role_, &bulk_role_}) {
    auto nc = role->nc.load();
    if (nc == nullptr || natsConnection_IsClosed(nc))
      continue;
    if (natsConnection_Status(nc) == NATS_CONN_STATUS_CONNECTED)
      natsConnection_FlushTimeout(nc, 500);
    natsConnection_Close(nc);
    // nats.c calls on_closed on its own thread, with a pointer into this object: wait for it.
    std::unique_lock<std::mutex> guard{mtx_};
    cv_.wait_until(guard, deadline, [role] { return role->closed; });
  }
}

void link::notify(const connection_role& role, const char* state) {
  if (quiet_)
    return;
  caf::anon_send(receiver_, bus::connection_state{std::string{role.name} + " " + state});
}

void link::on_message(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  auto self = static_cast<link*>(closure);
  // Nothing may throw into C; an allocation failure drops this one message.
  try {
    auto limit = self->max_in_flight_.load();
    auto reply_to = natsMsg_GetReply(msg);
    auto is_request = reply_to != nullptr && *reply_to != '\0';
    // Only requests are shed: a message without a reply (another instance's revocation) is
    // cheap, and losing it would leave a revoked session cached here.
    if (limit > 0 && is_request && self->in_flight.load() >= limit) {
      self->counters.shed.fetch_add(1);
      static const std::string busy = codec::dump(codec::error_body(
        ec::unavailable, "the service is busy; try again", std::chrono::seconds{1}));
      self->reply_error(reply_to, busy, "the service is busy; try again", 503);
      natsMsg_Destroy(msg);
      return;
    }
    bus::inbound in;
    in.received_at = caf::make_timestamp();
    in.subject = natsMsg_GetSubject(msg);
    if (auto reply = natsMsg_GetReply(msg))
      in.reply = reply;
    auto size = static_cast<int64_t>(natsMsg_GetDataLength(msg));
    if (size > 0)
      in.payload.assign(natsMsg_GetData(msg),
                        static_cast<size_t>(std::min(size, self->max_payload_ + 1)));
    copy_headers(msg, in);
    natsMsg_Destroy(msg);
    msg = nullptr;
    self->in_flight.fetch_add(1);
    caf::anon_send(self->receiver_, std::move(in));
  } catch (...) {
    natsMsg_Destroy(msg);
  }
}

void link::on_disconnected(natsConnection*, void* closure) {
  auto role = static_cast<connection_role*>(closure);
  role->owner->counters.disconnects.fetch_add(1);
  role->owner->notify(*role, "disconnected");
}

void link::on_reconnected(natsConnection*, void* closure) {
  auto role = static_cast<connection_role*>(closure);
  role->owner->counters.reconnects.fetch_add(1);
  role->owner->notify(*role, "reconnected");
}

void link::on_closed(natsConnection*, void* closure) {
  auto role = static_cast<connection_role*>(closure);
  auto owner = role->owner;
  {
    std::lock_guard<std::mutex> guard{owner->mtx_};
    role->closed = true;
  }
  owner->cv_.notify_all();
}

void link::on_error(natsConnection*, natsSubscription* sub, natsStatus err, void* closure) {
  auto role = static_cast<connection_role*>(closure);
  role->owner->counters.async_errors.fetch_add(1);
  spdlog::warn("bridge's {} connection reports {}{}", role->name, to_string(err),
               sub ? " on a subscription" : "");
}

} // namespace slicegate::bridge
