#pragma once

// Shared by the benchmarks: a daemon on throwaway servers, closed-loop request load over
// nats.c with latency percentiles, and a bare nats.c echo responder to compare against.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nats/nats.h>

#include "tests/support/nats_client.hpp"
#include "tests/support/servers.hpp"

namespace slicegate::bench {

using clock = std::chrono::steady_clock;

/// An integer from the environment, or `fallback`.
inline int env_int(const char* name, int fallback) {
  auto value = std::getenv(name);
  return value ? std::atoi(value) : fallback;
}

/// `args` with some replaced: `overrides`, then the words of $BENCH_DAEMON_ARGS, are
/// `--name=value` items that take the place of the same `--name` (CLI11 refuses an option
/// given twice).
inline std::vector<std::string> with_overrides(const std::vector<std::string>& args,
                                               std::vector<std::string> overrides) {
  if (auto extra = std::getenv("BENCH_DAEMON_ARGS")) {
    std::istringstream words{extra};
    for (std::string word; words >> word;)
      overrides.push_back(word);
  }
  auto name_of = [](const std::string& arg) {
    return arg.substr(0, arg.find('='));
  };
  std::vector<std::string> result;
  for (auto& arg : args) {
    auto replaced = std::any_of(overrides.begin(), overrides.end(), [&](const std::string& o) {
      return name_of(o) == name_of(arg);
    });
    if (!replaced)
      result.push_back(arg);
  }
  result.insert(result.end(), overrides.begin(), overrides.end());
  return result;
}

/// The test daemon's arguments for `s`, with `overrides` (see `with_overrides`).
inline std::vector<std::string> daemon_args(const test::servers& s,
                                            std::vector<std::string> overrides) {
  return with_overrides(test::daemon_args(s), std::move(overrides));
}

/// The servers a benchmark runs against: those scripts/bench.sh started and exported
/// ($NATS_URL, $DATABASE_URL, $ADMIN_DATABASE_URL, $SERVERS_DIR), or else a throwaway pair
/// of its own.
class bench_servers {
 public:
  bench_servers() {
    auto nats = std::getenv("NATS_URL");
    auto database = std::getenv("DATABASE_URL");
    auto admin = std::getenv("ADMIN_DATABASE_URL");
    auto dir = std::getenv("SERVERS_DIR");
    if (nats && database && admin && dir) {
      args_ = {"serve",
               std::string{"--database-url="} + database,
               std::string{"--admin-database-url="} + admin,
               std::string{"--nats-url="} + nats,
               "--bcrypt-cost=4",
               "--runtime=external",
               std::string{"--data-root="} + dir + "/slices",
               "--log-level=debug"};
      nats_url_ = nats;
      database_url_ = database;
    } else {
      own_.emplace();
      args_ = test::daemon_args(*own_);
      nats_url_ = own_->nats_url();
      database_url_ = own_->database_url();
    }
  }

  const std::string& nats_url() const {
    return nats_url_;
  }

  /// The gateway database, as the daemon's role.
  const std::string& database_url() const {
    return database_url_;
  }

  /// The daemon's arguments for these servers, with `overrides` (see `with_overrides`).
  std::vector<std::string> daemon_args(std::vector<std::string> overrides) const {
    return with_overrides(args_, std::move(overrides));
  }

 private:
  std::optional<test::servers> own_;
  std::vector<std::string> args_;
  std::string nats_url_;
  std::string database_url_;
};

/// Signs up `count` users named `<prefix><i>@bench.example`; returns their session tokens.
inline std::vector<std::string> sign_up(test::nats_client& client, const std::string& prefix,
                                        int count, const std::string& password) {
  std::vector<std::string> tokens;
  for (int i = 0; i < count; ++i) {
    nlohmann::json body{{"email", prefix + std::to_string(i) + "@bench.example"},
                        {"password", password}};
    auto reply = client.request("gateway.auth.signup", body, std::chrono::seconds{60});
    auto json = reply.json();
    if (!reply.ok() || !json.contains("session"))
      throw std::runtime_error("signup failed: " + reply.status + " " + reply.body);
    tokens.push_back(json["session"]["id"].get<std::string>());
  }
  return tokens;
}

/// The `gateway.session.resolve` bodies of `count` fresh accounts' sessions.
inline std::vector<std::string> resolve_bodies(test::nats_client& client,
                                               const std::string& prefix, int count) {
  std::vector<std::string> bodies;
  for (auto& token : sign_up(client, prefix, count, "bench password"))
    bodies.push_back(nlohmann::json{{"session_id", token}}.dump());
  return bodies;
}

/// One connection; `send_asap` skips the flusher's batching, as latency-bound clients do.
struct connection {
  natsConnection* nc = nullptr;

  explicit connection(const std::string& url, bool send_asap = true) {
    natsOptions* opts = nullptr;
    natsOptions_Create(&opts);
    natsOptions_SetURL(opts, url.c_str());
    natsOptions_SetSendAsap(opts, send_asap);
    auto s = natsConnection_Connect(&nc, opts);
    natsOptions_Destroy(opts);
    if (s != NATS_OK)
      throw std::runtime_error(std::string{"cannot connect: "} + natsStatus_GetText(s));
  }

  ~connection() {
    natsConnection_Destroy(nc);
  }

  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;
};

/// Replies to every request on `subject` with its own payload, from nats.c's callback
/// thread: the cheapest responder there is.
class echo_responder {
 public:
  echo_responder(const std::string& url, const std::string& subject) : conn_(url) {
    if (natsConnection_QueueSubscribe(&sub_, conn_.nc, subject.c_str(), "q", on_message,
                                      conn_.nc)
          != NATS_OK
        || natsSubscription_SetPendingLimits(sub_, -1, -1) != NATS_OK
        || natsConnection_Flush(conn_.nc) != NATS_OK)
      throw std::runtime_error("cannot subscribe the echo responder");
  }

  ~echo_responder() {
    natsSubscription_Unsubscribe(sub_);
    natsSubscription_Destroy(sub_);
  }

 private:
  static void on_message(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
    auto nc = static_cast<natsConnection*>(closure);
    if (auto reply = natsMsg_GetReply(msg))
      natsConnection_Publish(nc, reply, natsMsg_GetData(msg), natsMsg_GetDataLength(msg));
    natsMsg_Destroy(msg);
  }

  connection conn_;
  natsSubscription* sub_ = nullptr;
};

/// What a load run measured.
struct load_result {
  double seconds = 0;
  size_t ok = 0;
  size_t failed = 0;
  /// Latencies of the successful requests, microseconds, sorted.
  std::vector<double> latencies_us;

  double rate() const {
    return seconds > 0 ? static_cast<double>(ok) / seconds : 0;
  }

  double percentile_ms(double p) const {
    if (latencies_us.empty())
      return 0;
    auto index = static_cast<size_t>(p * static_cast<double>(latencies_us.size() - 1));
    return latencies_us[index] / 1000.0;
  }
};

/// Closed-loop load: `threads` requesters share `conn`, each sending its next request as soon
/// as the previous one is answered, until `duration` has passed. `body(thread, n)` makes the
/// n-th request of a thread. A reply with a `Nats-Service-Error-Code` header counts as failed.
inline load_result drive(connection& conn, const std::string& subject, int threads,
                         std::chrono::milliseconds duration,
                         const std::function<std::string(int, size_t)>& body) {
  std::mutex mtx;
  load_result result;
  std::vector<std::thread> workers;
  auto start = clock::now();
  auto deadline = start + duration;
  std::atomic<int64_t> last_end_ns{0};
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      std::vector<double> latencies;
      size_t ok = 0;
      size_t failed = 0;
      for (size_t n = 0; clock::now() < deadline; ++n) {
        auto payload = body(t, n);
        natsMsg* reply = nullptr;
        auto sent = clock::now();
        auto s = natsConnection_Request(&reply, conn.nc, subject.c_str(), payload.data(),
                                        static_cast<int>(payload.size()), 10000);
        auto done = clock::now();
        const char* code = nullptr;
        if (s == NATS_OK
            && natsMsgHeader_Get(reply, "Nats-Service-Error-Code", &code) != NATS_OK) {
          ++ok;
          latencies.push_back(std::chrono::duration<double, std::micro>(done - sent).count());
        } else {
          ++failed;
        }
        natsMsg_Destroy(reply);
        auto end_ns
          = std::chrono::duration_cast<std::chrono::nanoseconds>(done - start).count();
        auto prev = last_end_ns.load();
        while (end_ns > prev && !last_end_ns.compare_exchange_weak(prev, end_ns)) {
        }
      }
      std::lock_guard<std::mutex> guard{mtx};
      result.ok += ok;
      result.failed += failed;
      result.latencies_us.insert(result.latencies_us.end(), latencies.begin(), latencies.end());
    });
  }
  for (auto& w : workers)
    w.join();
  // Up to the last answer, not the deadline: requests in flight at the deadline count, and
  // so does the time they took.
  result.seconds = static_cast<double>(last_end_ns.load()) / 1e9;
  std::sort(result.latencies_us.begin(), result.latencies_us.end());
  return result;
}

/// Adds `more` to `total` (rates over the summed time, percentiles over all samples).
inline void merge(load_result& total, load_result more) {
  total.seconds += more.seconds;
  total.ok += more.ok;
  total.failed += more.failed;
  auto middle = total.latencies_us.size();
  total.latencies_us.insert(total.latencies_us.end(), more.latencies_us.begin(),
                            more.latencies_us.end());
  std::inplace_merge(total.latencies_us.begin(), total.latencies_us.begin() + middle,
                     total.latencies_us.end());
}

/// The median of `xs` (the mean of the middle two for an even count); 0 for none. Benchmarks
/// that alternate rounds report the median of the per-round ratios: one round slowed by
/// something else on the machine moves it much less than it moves a ratio of totals.
inline double median(std::vector<double> xs) {
  if (xs.empty())
    return 0.0;
  std::sort(xs.begin(), xs.end());
  auto n = xs.size();
  return n % 2 == 1 ? xs[n / 2] : (xs[n / 2 - 1] + xs[n / 2]) / 2;
}

/// "12345 req/s  p50 1.23 ms  p99 4.56 ms  (n ok, m failed)".
inline std::string describe(const load_result& r, const char* unit = "req/s") {
  char buf[256];
  std::snprintf(buf, sizeof buf, "%10.1f %s  p50 %7.3f ms  p99 %7.3f ms  (%zu ok, %zu failed)",
                r.rate(), unit, r.percentile_ms(0.50), r.percentile_ms(0.99), r.ok, r.failed);
  return buf;
}

} // namespace slicegate::bench
