#include "cli/events.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <deque>
#include <iostream>
#include <mutex>
#include <utility>
#include <vector>

#include <nats/nats.h>

#include "bridge/subjects.hpp"
#include "cli/connection.hpp"
#include "cli/output.hpp"

namespace slicegate::cli {

using nlohmann::json;
using namespace std::chrono_literals;

namespace {

/// Set by SIGINT and SIGTERM: leave after the current line, with exit code 0.
volatile std::sig_atomic_t stop_requested = 0;

void request_stop(int) {
  stop_requested = 1;
}

void on_stop_signals(void (*handler)(int)) {
  struct sigaction sa {};
  sa.sa_handler = handler;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

/// Messages handed from nats.c's delivery threads to the thread that prints them, in the
/// order they arrived.
struct mailbox {
  std::mutex mtx;
  std::condition_variable cv;
  std::deque<std::pair<std::string, std::string>> messages;
};

void on_message(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  auto box = static_cast<mailbox*>(closure);
  {
    std::lock_guard<std::mutex> guard{box->mtx};
    box->messages.emplace_back(natsMsg_GetSubject(msg),
                               std::string(natsMsg_GetData(msg), natsMsg_GetDataLength(msg)));
  }
  natsMsg_Destroy(msg);
  box->cv.notify_one();
}

/// Subscriptions that deliver into one mailbox; unsubscribed (which also removes an
/// ephemeral JetStream consumer) and freed on destruction.
class subscriptions {
 public:
  subscriptions() = default;
  subscriptions(const subscriptions&) = delete;
  subscriptions& operator=(const subscriptions&) = delete;

  ~subscriptions() {
    for (auto sub : subs_) {
      natsSubscription_Unsubscribe(sub);
      natsSubscription_Destroy(sub);
    }
    if (js_)
      jsCtx_Destroy(js_);
  }

  /// Core NATS: what is published from now on.
  void follow(natsConnection* nc, const std::string& subject, mailbox& box) {
    natsSubscription* sub = nullptr;
    auto s = natsConnection_Subscribe(&sub, nc, subject.c_str(), on_message, &box);
    if (s != NATS_OK)
      throw failure{exit_code::transport,
                    "cannot subscribe to " + subject + ": " + natsStatus_GetText(s)};
    keep(sub);
  }

  /// JetStream: everything `stream` kept on `subject` since `start`, then what comes next,
  /// in stream order, through one ordered consumer (it re-creates itself after a gap, so
  /// nothing is skipped or shown twice).
  void replay(natsConnection* nc, const std::string& stream, const std::string& subject,
              std::chrono::system_clock::time_point start, mailbox& box) {
    if (!js_ && natsConnection_JetStream(&js_, nc, nullptr) != NATS_OK)
      throw failure{exit_code::transport, "cannot use JetStream"};
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = stream.c_str();
    so.Ordered = true;
    so.Config.DeliverPolicy = js_DeliverByStartTime;
    so.Config.OptStartTime
      = std::chrono::duration_cast<std::chrono::nanoseconds>(start.time_since_epoch()).count();
    natsSubscription* sub = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    auto s = js_Subscribe(&sub, js_, subject.c_str(), on_message, &box, nullptr, &so, &code);
    if (s != NATS_OK) {
      // The last error says what the server objected to (no such stream, say).
      std::string detail = nats_GetLastError(nullptr) ? nats_GetLastError(nullptr) : "";
      // nats.c starts it with where it was raised: "(jsm.c:2867): ".
      if (auto end = detail.find("): ");
          !detail.empty() && detail[0] == '(' && end != detail.npos)
        detail.erase(0, end + 3);
      throw failure{exit_code::transport,
                    "cannot replay stream " + stream + ": "
                      + (detail.empty() ? std::string{natsStatus_GetText(s)} : detail)
                      + (code != 0 ? " (JetStream error " + std::to_string(code) + ")" : "")};
    }
    keep(sub);
  }

 private:
  void keep(natsSubscription* sub) {
    // Events come in bursts (a pool of slices created at once): never drop one.
    natsSubscription_SetPendingLimits(sub, -1, -1);
    subs_.push_back(sub);
  }

  jsCtx* js_ = nullptr;
  std::vector<natsSubscription*> subs_;
};

/// Prints what arrives in `box` until a stop signal, or until `count` lines (0: no limit).
void print_until_stopped(const options& o, mailbox& box) {
  int64_t printed = 0;
  auto done = [&] {
    return o.events_count > 0 && printed >= o.events_count;
  };
  while (!stop_requested && !done()) {
    std::deque<std::pair<std::string, std::string>> batch;
    {
      std::unique_lock<std::mutex> lock{box.mtx};
      box.cv.wait_for(lock, 100ms, [&] { return !box.messages.empty(); });
      batch.swap(box.messages);
    }
    for (auto& [subject, body] : batch) {
      if (done())
        break;
      if (!shown_event(o.subject_prefix, subject))
        continue;
      // Scripts read this through a pipe: each line whole, and at once.
      std::cout << (o.json ? event_json(subject, body)
                           : event_line(o.subject_prefix, subject, body))
                << std::endl;
      ++printed;
    }
  }
}

std::string slice_line(const std::string& kind, const json& e) {
  if (kind == subjects::slice_kind::status) {
    auto from = e.value("from", json{});
    auto user = e.value("user_id", json{});
    auto reason = e.value("reason", json{});
    return "status  " + (from.is_null() ? std::string{"new"} : text(from)) + " -> "
           + field(e, "to") + (user.is_null() ? "" : " (user " + text(user) + ")")
           + (reason.is_null() ? "" : ": " + text(reason));
  }
  if (kind == subjects::slice_kind::health) {
    auto healthy = e.value("healthy", json{});
    return std::string{"health  "}
           + (healthy.is_boolean() ? (healthy.get<bool>() ? "healthy" : "unhealthy")
                                   : "unchecked")
           + " " + field(e, "wa_state") + " mem " + bytes_text(e.value("rss_bytes", json{}))
           + " cpu " + percent_text(e.value("cpu_percent", json{})) + " disk "
           + bytes_text(e.value("disk_bytes", json{}));
  }
  if (kind == subjects::slice_kind::alert) {
    auto detail = e.value("detail", json{});
    return "alert  " + field(e, "kind") + (detail.is_null() ? "" : ": " + text(detail));
  }
  return kind + "  " + e.dump();
}

std::string user_slice_line(const json& e) {
  auto slice = e.value("slice", json{});
  if (!slice.is_object())
    return "slice  -> no slice";
  return "slice  -> slice " + field(slice, "id") + " (port " + field(slice, "port") + ")";
}

/// The tokens of `subject` after the prefix.
std::vector<std::string> tokens_after(std::string_view prefix, const std::string& subject) {
  std::vector<std::string> result;
  size_t start = prefix.size() + 1;
  while (start <= subject.size()) {
    auto dot = subject.find('.', start);
    if (dot == std::string::npos)
      dot = subject.size();
    result.push_back(subject.substr(start, dot - start));
    start = dot + 1;
  }
  return result;
}

} // namespace

bool shown_event(std::string_view prefix, std::string_view subject) {
  auto starts = [&](std::string_view family) {
    return subject.size() > prefix.size() + family.size() + 1
           && subject.substr(0, prefix.size()) == prefix && subject[prefix.size()] == '.'
           && subject.substr(prefix.size() + 1, family.size()) == family;
  };
  return starts("slice.") || starts("user.slice.");
}

std::string event_line(std::string_view prefix, const std::string& subject,
                       const std::string& body) {
  auto e = json::parse(body, nullptr, false);
  if (!e.is_object())
    return subject + "  " + body;
  auto at = time_text(e.value("at", json{}));
  auto tokens = tokens_after(prefix, subject);
  if (tokens.size() == 3 && tokens[0] == "slice") {
    auto id = e.value("slice_id", json{});
    return at + "  slice " + (id.is_null() ? tokens[2] : text(id)) + "  "
           + slice_line(tokens[1], e);
  }
  if (tokens.size() == 3 && tokens[0] == "user" && tokens[1] == "slice") {
    auto id = e.value("user_id", json{});
    return at + "  user " + (id.is_null() ? tokens[2] : text(id)) + "  " + user_slice_line(e);
  }
  return at + "  " + subject + "  " + e.dump();
}

std::string event_json(const std::string& subject, const std::string& body) {
  auto e = json::parse(body, nullptr, false);
  // Ordered: the subject first, as the help text shows it.
  nlohmann::ordered_json line;
  line["subject"] = subject;
  line["event"]
    = e.is_discarded() ? nlohmann::ordered_json(body) : nlohmann::ordered_json::parse(body);
  return line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

int events(const options& o) {
  std::optional<std::chrono::milliseconds> since;
  if (!o.events_since.empty())
    since = positive_duration(o.events_since, "--since");
  if (o.events_count < 0)
    throw failure{exit_code::usage, "--count expects a number of events, 0 for no limit"};
  auto start = std::chrono::system_clock::now() - since.value_or(0ms);
  on_stop_signals(request_stop);
  // The mailbox outlives the connection and nats.c's threads, which may still be delivering
  // while the subscriptions close.
  mailbox box;
  {
    connection nc{o, timeout_of(o), reconnects::reported};
    subscriptions subs;
    if (since) {
      // One consumer over the whole stream keeps the two families in their true order; the
      // server's telemetry it also holds is dropped before printing.
      subs.replay(nc.native(), o.slices_stream, o.subject_prefix + ".>", start, box);
    } else {
      subs.follow(nc.native(), subjects::slice_wildcard(o.subject_prefix), box);
      subs.follow(nc.native(), subjects::user_slice_wildcard(o.subject_prefix), box);
      // Once the server has the subscriptions, nothing published from now on is missed.
      if (natsConnection_FlushTimeout(nc.native(), timeout_of(o).count()) != NATS_OK)
        throw failure{exit_code::transport, "NATS does not confirm the subscriptions"};
    }
    std::cerr << "slicectl: following "
              << (since ? "stream " + o.slices_stream + " from " + rfc3339(start) + " on"
                        : std::string{"live events"})
              << std::endl;
    print_until_stopped(o, box);
  }
  nats_CloseAndWait(2000);
  return exit_code::ok;
}

} // namespace slicegate::cli
