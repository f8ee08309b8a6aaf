#include "probe/health_client.hpp"

#include <algorithm>
#include <chrono>
#include <string>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <nlohmann/json.hpp>

namespace slicegate::probe {

namespace {

constexpr size_t max_state_bytes = 32;

/// libcurl wants one global initialization per process before any handle is made.
void init_curl_once() {
  static const bool initialized = [] {
    return curl_global_init(CURL_GLOBAL_DEFAULT) == 0;
  }();
  (void)initialized;
}

/// Whether `host` is an IPv4 or IPv6 address rather than a name.
bool is_numeric_host(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  auto bare = host;
  if (bare.size() > 2 && bare.front() == '[' && bare.back() == ']')
    bare = bare.substr(1, bare.size() - 2);
  return inet_pton(AF_INET, bare.c_str(), buf) == 1 || inet_pton(AF_INET6, bare.c_str(), buf) == 1;
}

CURLM* as_multi(void* handle) {
  return static_cast<CURLM*>(handle);
}

optional<std::string> string_field(const nlohmann::json& object, const char* key) {
  auto i = object.find(key);
  if (i == object.end() || !i->is_string())
    return caf::none;
  return i->get<std::string>();
}

telemetry::health_result failure(std::string error) {
  telemetry::health_result result;
  result.error = std::move(error);
  return result;
}

/// A state as stored: a word of 1–32 letters, digits, `_`, `-` or `.` as sent, anything else
/// `invalid` (a tenant controls its answer; its text must not reach the database unchecked).
optional<std::string> checked_state(optional<std::string> state) {
  if (!state)
    return caf::none;
  auto word = !state->empty() && state->size() <= max_state_bytes
              && std::all_of(state->begin(), state->end(), [](char c) {
                   return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
                          || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
                 });
  return word ? std::move(state) : optional<std::string>{"invalid"};
}

/// A phone as stored: E.164 (`+`, then 7 to 15 digits, the first not 0), else none.
optional<std::string> checked_phone(optional<std::string> phone) {
  if (!phone || phone->size() < 8 || phone->size() > 16 || (*phone)[0] != '+'
      || (*phone)[1] == '0')
    return caf::none;
  if (!std::all_of(phone->begin() + 1, phone->end(), [](char c) { return c >= '0' && c <= '9'; }))
    return caf::none;
  return phone;
}

} // namespace

void read_health_body(std::string_view body, telemetry::health_result& result) {
  auto json = nlohmann::json::parse(body, nullptr, false);
  if (!json.is_object())
    return;
  result.wa_state = checked_state(string_field(json, "wa_state"));
  result.wa_phone = checked_phone(string_field(json, "wa_phone"));
}

/// One probe: its easy handle, what has been read so far, and whom to tell.
struct health_client::transfer {
  CURL* easy = nullptr;
  std::string url;
  std::string body;
  callback done;
  /// The transfer's own timeout, from when it starts; and the last instant it may start.
  std::chrono::milliseconds timeout{0};
  std::chrono::steady_clock::time_point start_by;

  ~transfer() {
    if (easy)
      curl_easy_cleanup(easy);
  }

  static size_t on_data(char* data, size_t size, size_t count, void* self) {
    auto& t = *static_cast<transfer*>(self);
    auto bytes = size * count;
    auto room = max_body_bytes - std::min(max_body_bytes, t.body.size());
    t.body.append(data, std::min(bytes, room));
    return bytes; // anything else would abort the transfer
  }

  /// Reads the outcome of a finished transfer.
  telemetry::health_result result(CURLcode code) const {
    if (code != CURLE_OK)
      return failure(curl_easy_strerror(code));
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    telemetry::health_result result;
    result.status = static_cast<int32_t>(status);
    if (result.ok())
      read_health_body(body, result);
    else
      result.error = "HTTP " + std::to_string(status);
    return result;
  }
};

health_client::health_client(size_t max_running)
  : max_running_(std::max<size_t>(1, max_running)) {
  init_curl_once();
  multi_ = curl_multi_init();
  // Every probe closes its connection: the cache needs no more room than the transfers.
  curl_multi_setopt(as_multi(multi_), CURLMOPT_MAXCONNECTS, static_cast<long>(max_running_));
  thread_ = std::thread{[this] {
    run();
  }};
}

health_client::~health_client() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stopping_ = true;
  }
  curl_multi_wakeup(as_multi(multi_));
  thread_.join();
  curl_multi_cleanup(as_multi(multi_));
}

void health_client::check(const telemetry::health_check& request, callback done) {
  auto t = std::make_unique<transfer>();
  t->url = "http://" + request.host + ":" + std::to_string(request.port) + "/health";
  t->done = std::move(done);
  auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(request.timeout);
  t->timeout = std::max(std::chrono::milliseconds{1}, timeout);
  t->start_by = std::chrono::steady_clock::now() + t->timeout;
  auto easy = t->easy = curl_easy_init();
  curl_easy_setopt(easy, CURLOPT_URL, t->url.c_str());
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http");
  // The whole transfer, connect included, must fit into the health timeout; libcurl reads 0
  // as "wait forever", which a probe never should.
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(t->timeout.count()));
  // libcurl must never raise signals in a multi-threaded process.
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  // Slices sit next to slicegate: an http_proxy meant for the outside world must not apply.
  curl_easy_setopt(easy, CURLOPT_NOPROXY, "*");
  // libcurl caches every resolved "host:port" for a minute and scans the whole cache for
  // stale entries before each transfer: with one port per slice that is one entry per slice
  // and a scan of ten thousand entries per probe, a fifth of the prober's time at 10,000
  // slices (bench/README.md, watch_10k). A numeric host (the default 127.0.0.1) needs no
  // resolver, so nothing is cached for it; a name keeps the cache, which saves its lookups.
  if (is_numeric_host(request.host))
    curl_easy_setopt(easy, CURLOPT_DNS_CACHE_TIMEOUT, 0L);
  // Each probe asks whether the slice still accepts connections; a minute-old pooled
  // connection would answer another question and hold a descriptor per slice.
  curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, 1L);
  curl_easy_setopt(easy, CURLOPT_FORBID_REUSE, 1L);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &transfer::on_data);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, t.get());
  bool accepted = false;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!stopping_) {
      incoming_.push_back(std::move(t));
      accepted = true;
    }
  }
  if (!accepted) {
    t->done(failure("prober stopped"));
    return;
  }
  curl_multi_wakeup(as_multi(multi_));
}

void health_client::run() {
  auto multi = as_multi(multi_);
  for (;;) {
    std::vector<std::unique_ptr<transfer>> started;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      if (stopping_)
        break;
      started.swap(incoming_);
    }
    for (auto& t : started)
      waiting_.push_back(std::move(t));
    start_waiting();
    int active = 0;
    curl_multi_perform(multi, &active);
    complete_finished();
    // Transfers that ended made room for waiting probes, which start at the next perform.
    start_waiting();
    {
      std::lock_guard<std::mutex> guard{mtx_};
      counters_.running = running_.size();
      counters_.waiting = waiting_.size();
    }
    // Sleeps until a socket is ready, a timeout is due or `check` wakes it; the cap bounds
    // what a lost wakeup could cost, and how late a waiting probe past its timeout fails.
    auto wait_ms = waiting_.empty() ? 1000 : 100;
    if (!waiting_.empty() && running_.size() < max_running_)
      wait_ms = 0;
    curl_multi_poll(multi, nullptr, 0, wait_ms, nullptr);
  }
  for (auto& [easy, t] : running_) {
    curl_multi_remove_handle(multi, easy);
    t->done(failure("prober stopped"));
  }
  running_.clear();
  for (auto& t : waiting_)
    t->done(failure("prober stopped"));
  waiting_.clear();
  std::vector<std::unique_ptr<transfer>> unstarted;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    unstarted.swap(incoming_);
  }
  for (auto& t : unstarted)
    t->done(failure("prober stopped"));
}

void health_client::complete_finished() {
  auto multi = as_multi(multi_);
  int queued = 0;
  while (auto msg = curl_multi_info_read(multi, &queued)) {
    if (msg->msg != CURLMSG_DONE)
      continue;
    auto node = running_.extract(msg->easy_handle);
    auto& t = *node.mapped();
    auto result = t.result(msg->data.result);
    curl_multi_remove_handle(multi, t.easy);
    t.done(std::move(result));
  }
}

void health_client::start_waiting() {
  auto multi = as_multi(multi_);
  auto now = std::chrono::steady_clock::now();
  size_t expired = 0;
  while (!waiting_.empty() && running_.size() < max_running_) {
    auto t = std::move(waiting_.front());
    waiting_.pop_front();
    if (now > t->start_by) {
      ++expired;
      t->done(failure("not started within " + std::to_string(t->timeout.count())
                      + " ms: " + std::to_string(running_.size()) + " probes running"));
      continue;
    }
    curl_multi_add_handle(multi, t->easy);
    running_.emplace(t->easy, std::move(t));
  }
  // Probes behind a full set of transfers fail once their time is up, in order: the queue is
  // first come first started, so the oldest are at its front.
  while (!waiting_.empty() && now > waiting_.front()->start_by) {
    auto t = std::move(waiting_.front());
    waiting_.pop_front();
    ++expired;
    t->done(failure("not started within " + std::to_string(t->timeout.count())
                    + " ms: " + std::to_string(running_.size()) + " probes running"));
  }
  std::lock_guard<std::mutex> guard{mtx_};
  counters_.expired += expired;
  counters_.max_running_seen = std::max(counters_.max_running_seen, running_.size());
}

health_client::counters health_client::stats() {
  std::lock_guard<std::mutex> guard{mtx_};
  return counters_;
}

} // namespace slicegate::probe
