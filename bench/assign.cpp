// How fast signups turn into assigned slices, through the whole daemon: JetStream consumer,
// session manager, slice manager, persistence, and the `gateway.user.slice.<id>` event out.
// In one run, against one daemon, after a warm-up of 100 signups that is not counted:
//   waiting   BENCH_USERS signup events while no slice is free: each becomes a waiting user;
//             timed from the first publish until the last user row exists (polled every
//             5 ms); these users are then cancelled, so that they wait no more;
//   assigned  BENCH_USERS more signup events, published as fast as JetStream acknowledges
//             them, against as many available slices: timed from the first publish until the
//             last `gateway.user.slice` event; per user, the latency from its event's publish
//             to its `gateway.user.slice` event (a burst: mostly time spent queued);
//   alone     BENCH_ALONE signups one at a time, each published once the previous one got its
//             slice: the latency of the path itself.
// The events carry a precomputed bcrypt hash (cost 12), as publishers do. The slices are
// rows in status `available` made with SQL: assignment never touches a slice's database, and
// provisioning has its own benchmark (bench/provision.cpp).
//
// Environment: BENCH_USERS (1000), BENCH_ALONE (100), BENCH_ROUNDS (3). The two bursts
// alternate which goes first from round to round.
// Prints each round, both targets over all rounds, the latency percentiles, then
// `ratio: <median over the rounds of assigned signups/s / waiting signups/s>`: the share of
// signup throughput that assignment keeps (1.0: assigning costs nothing on top of creating
// the user).

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nats/nats.h>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "actors/hasher.hpp"
#include "bench/request_load.hpp"

using namespace slicegate;
using namespace std::chrono_literals;

namespace {

/// Collects `gateway.user.slice.<id>` events with the time each arrived.
class arrivals {
 public:
  arrivals(const std::string& url, const std::string& subject) : conn_(url) {
    if (natsConnection_Subscribe(&sub_, conn_.nc, subject.c_str(), on_message, this) != NATS_OK
        || natsSubscription_SetPendingLimits(sub_, -1, -1) != NATS_OK
        || natsConnection_Flush(conn_.nc) != NATS_OK)
      throw std::runtime_error("cannot subscribe to " + subject);
  }

  ~arrivals() {
    natsSubscription_Unsubscribe(sub_);
    natsSubscription_Destroy(sub_);
  }

  /// Waits until `n` users in all gained a slice; returns user id → arrival time.
  std::map<int32_t, bench::clock::time_point> wait_for(size_t n, std::chrono::seconds timeout) {
    std::unique_lock<std::mutex> guard{mtx_};
    if (!cv_.wait_for(guard, timeout, [&] { return seen_.size() >= n; }))
      throw std::runtime_error("only " + std::to_string(seen_.size()) + " of "
                               + std::to_string(n) + " users got a slice in time");
    return seen_;
  }

 private:
  static void on_message(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
    auto now = bench::clock::now();
    auto self = static_cast<arrivals*>(closure);
    std::string subject = natsMsg_GetSubject(msg);
    std::string body{natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg))};
    natsMsg_Destroy(msg);
    // A user that lost a slice has `"slice": null`; only gains count.
    auto json = nlohmann::json::parse(body, nullptr, false);
    if (json.is_discarded() || !json.contains("slice") || json["slice"].is_null())
      return;
    auto user_id = std::stoi(subject.substr(subject.rfind('.') + 1));
    std::lock_guard<std::mutex> guard{self->mtx_};
    self->seen_.emplace(user_id, now);
    self->cv_.notify_all();
  }

  bench::connection conn_;
  natsSubscription* sub_ = nullptr;
  std::mutex mtx_;
  std::condition_variable cv_;
  std::map<int32_t, bench::clock::time_point> seen_;
};

bench::clock::time_point earliest(const std::map<std::string, bench::clock::time_point>& xs);

/// Publishes into JetStream without waiting for each acknowledgement, as a signup service
/// with a backlog does: a burst reaches the stream at once, not at one round trip per event.
class publisher {
 public:
  explicit publisher(const std::string& url) : conn_(url) {
    jsOptions opts;
    jsOptions_Init(&opts);
    opts.PublishAsync.MaxPending = 100000;
    if (natsConnection_JetStream(&js_, conn_.nc, &opts) != NATS_OK)
      throw std::runtime_error("no JetStream context");
  }

  ~publisher() {
    jsCtx_Destroy(js_);
  }

  void publish(const std::string& subject, const std::string& body, const std::string& id) {
    jsPubOptions opts;
    jsPubOptions_Init(&opts);
    opts.MsgId = id.c_str();
    if (js_PublishAsync(js_, subject.c_str(), body.data(), static_cast<int>(body.size()), &opts)
        != NATS_OK)
      throw std::runtime_error("js_PublishAsync failed");
  }

  /// Waits until JetStream acknowledged everything published.
  void complete() {
    jsPubOptions opts;
    jsPubOptions_Init(&opts);
    opts.MaxWait = 60000;
    if (js_PublishAsyncComplete(js_, &opts) != NATS_OK)
      throw std::runtime_error("JetStream did not acknowledge every event");
  }

 private:
  bench::connection conn_;
  jsCtx* js_ = nullptr;
};

/// Publishes one signup event per e-mail; returns each e-mail's publish time.
std::map<std::string, bench::clock::time_point> publish_signups(publisher& client,
                                                                const std::string& prefix,
                                                                int n,
                                                                const std::string& hash) {
  std::map<std::string, bench::clock::time_point> sent;
  for (int i = 0; i < n; ++i) {
    auto email = prefix + std::to_string(i) + "@bench.example";
    auto id = "evt-" + prefix + std::to_string(i);
    nlohmann::json body{{"id", id}, {"email", email}, {"password_hash", hash}};
    sent[email] = bench::clock::now();
    client.publish("gateway.events.signup", body.dump(), id);
  }
  auto began = earliest(sent);
  client.complete();
  if (n > 1)
    std::printf("  %s: %d events in the stream after %.1f ms\n", prefix.c_str(), n,
                std::chrono::duration<double, std::milli>(bench::clock::now() - began).count());
  return sent;
}

/// The count `query` returns; `$1`, if the query has it, is `prefix` (an e-mail prefix).
int64_t count(pqxx::connection& conn, const std::string& query,
              const std::string& prefix = "") {
  pqxx::work tx{conn};
  auto n = (prefix.empty() ? tx.exec1(query) : tx.exec_params1(query, prefix))[0].as<int64_t>();
  tx.commit();
  return n;
}

/// Waits for the daemon to answer the NATS micro protocol and to accept signup events.
void wait_until_ready(test::nats_client& client) {
  auto deadline = bench::clock::now() + 60s;
  while (bench::clock::now() < deadline) {
    if (client.request("$SRV.PING.slicegate", std::string{}, 500ms).ok())
      return;
    std::this_thread::sleep_for(100ms);
  }
  throw std::runtime_error("the daemon did not come up");
}

double seconds_between(bench::clock::time_point a, bench::clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

/// Waits until `n` users whose e-mail starts with `prefix` exist.
void wait_for_users(pqxx::connection& conn, const std::string& prefix, int n) {
  auto deadline = bench::clock::now() + 300s;
  const std::string query = "SELECT count(*) FROM gateway.users WHERE starts_with(email, $1)";
  while (count(conn, query, prefix) < n) {
    if (bench::clock::now() > deadline)
      throw std::runtime_error("the " + prefix + " signups did not all arrive");
    std::this_thread::sleep_for(5ms);
  }
}

/// Takes the users whose e-mail starts with `prefix` out of the waiting queue.
void cancel(pqxx::connection& conn, const std::string& prefix) {
  pqxx::work tx{conn};
  tx.exec_params0("UPDATE gateway.users SET subscription_status = 'cancelled'"
                  " WHERE starts_with(email, $1)",
                  prefix);
  tx.commit();
}

/// Per e-mail of `sent`, milliseconds from its publish to its user's slice event, sorted.
std::vector<double> latencies(pqxx::connection& conn, const std::string& prefix,
                              const std::map<std::string, bench::clock::time_point>& sent,
                              const std::map<int32_t, bench::clock::time_point>& got) {
  std::map<std::string, int32_t> ids;
  {
    pqxx::work tx{conn};
    for (const auto& row : tx.exec_params(
           "SELECT email, id FROM gateway.users WHERE starts_with(email, $1)", prefix))
      ids[row[0].as<std::string>()] = row[1].as<int32_t>();
    tx.commit();
  }
  std::vector<double> result;
  for (auto& [email, at] : sent) {
    auto i = got.find(ids.at(email));
    if (i == got.end())
      throw std::runtime_error(email + " got no slice");
    result.push_back(1000 * seconds_between(at, i->second));
  }
  std::sort(result.begin(), result.end());
  return result;
}

double percentile(const std::vector<double>& sorted, double p) {
  return sorted[static_cast<size_t>(p * static_cast<double>(sorted.size() - 1))];
}

bench::clock::time_point earliest(const std::map<std::string, bench::clock::time_point>& xs) {
  auto result = xs.begin()->second;
  for (auto& [key, at] : xs)
    result = std::min(result, at);
  return result;
}

/// Makes `n` available slices (rows only) on ports from `first_port`.
void add_slices(pqxx::connection& conn, int n, int first_port) {
  pqxx::work tx{conn};
  tx.exec_params0("INSERT INTO gateway.slices (port, status)"
                  " SELECT $2 + 2 * i, 'available' FROM generate_series(0, $1 - 1) AS i",
                  n, first_port);
  tx.commit();
}

/// One round of one target.
struct round_result {
  double seconds = 0;
  /// Per user, publish to `gateway.user.slice`, ms (assigned only).
  std::vector<double> latencies;
};

int run() {
  auto n = bench::env_int("BENCH_USERS", 1000);
  auto alone_n = bench::env_int("BENCH_ALONE", 100);
  auto rounds = std::max(1, bench::env_int("BENCH_ROUNDS", 3));
  test::servers servers;
  test::daemon daemon{bench::daemon_args(servers, {"--log-level=warn", "--sweep-interval=1h"})};
  test::nats_client client{servers.nats_url()};
  wait_until_ready(client);
  publisher events{servers.nats_url()};
  pqxx::connection conn{servers.database_url()};
  auto hash = bcrypt_hash("a precomputed password", 12);
  if (!hash)
    throw std::runtime_error("bcrypt_hash failed");
  arrivals arrived{servers.nats_url(), "gateway.user.slice.>"};
  size_t slices_given = 0;
  int next_port = 20000;

  // Warm-up: connections, statement preparation, caches.
  publish_signups(events, "warm", 100, *hash);
  wait_for_users(conn, "warm", 100);
  cancel(conn, "warm");

  // Waiting: signups alone, no slice to assign; these users are then cancelled.
  auto waiting = [&](int round) {
    auto prefix = "wait" + std::to_string(round) + "-";
    auto sent = publish_signups(events, prefix, n, *hash);
    wait_for_users(conn, prefix, n);
    round_result r;
    r.seconds = seconds_between(earliest(sent), bench::clock::now());
    cancel(conn, prefix);
    return r;
  };
  // Assigned: the same burst, each signup meeting a free slice.
  auto assigned = [&](int round) {
    add_slices(conn, n, next_port);
    next_port += 2 * n;
    auto prefix = "assign" + std::to_string(round) + "-";
    auto sent = publish_signups(events, prefix, n, *hash);
    slices_given += static_cast<size_t>(n);
    auto got = arrived.wait_for(slices_given, 300s);
    round_result r;
    r.latencies = latencies(conn, prefix, sent, got);
    // Earlier rounds' users arrived before this burst was published.
    auto last = earliest(sent);
    for (auto& [id, at] : got)
      last = std::max(last, at);
    r.seconds = seconds_between(earliest(sent), last);
    return r;
  };

  // The targets alternate which goes first, so that a slow moment of the machine does not
  // always land on the same one.
  std::vector<double> ratios;
  std::vector<double> burst;
  double waiting_total = 0;
  double assigned_total = 0;
  for (int round = 0; round < rounds; ++round) {
    round_result w;
    round_result a;
    if (round % 2 == 0) {
      w = waiting(round);
      a = assigned(round);
    } else {
      a = assigned(round);
      w = waiting(round);
    }
    waiting_total += w.seconds;
    assigned_total += a.seconds;
    ratios.push_back(w.seconds / a.seconds);
    burst.insert(burst.end(), a.latencies.begin(), a.latencies.end());
    std::printf("round %d: waiting %.1f signups/s, assigned %.1f assignments/s, burst p50 %.2f ms"
                "  p99 %.2f ms, ratio %.3f\n",
                round + 1, n / w.seconds, n / a.seconds, percentile(a.latencies, 0.50),
                percentile(a.latencies, 0.99), ratios.back());
  }
  std::sort(burst.begin(), burst.end());

  // Alone: one signup at a time.
  add_slices(conn, alone_n, next_port);
  std::map<std::string, bench::clock::time_point> alone_sent;
  std::map<int32_t, bench::clock::time_point> got;
  for (int i = 0; i < alone_n; ++i) {
    auto one = publish_signups(events, "alone" + std::to_string(i) + "-", 1, *hash);
    alone_sent.insert(one.begin(), one.end());
    got = arrived.wait_for(slices_given + static_cast<size_t>(i) + 1, 60s);
  }
  auto alone = latencies(conn, "alone", alone_sent, got);

  auto count_assigned
    = count(conn, "SELECT count(*) FROM gateway.slices WHERE status = 'assigned'");
  std::printf("waiting:  %d signups x %d rounds in %.3f s, %.1f/s\n", n, rounds, waiting_total,
              n * rounds / waiting_total);
  std::printf("assigned: %d signups x %d rounds in %.3f s, %.1f assignments/s (%lld slices"
              " assigned)\n",
              n, rounds, assigned_total, n * rounds / assigned_total,
              static_cast<long long>(count_assigned));
  std::printf("burst, publish to gateway.user.slice: p50 %.2f ms  p99 %.2f ms  max %.2f ms\n",
              percentile(burst, 0.50), percentile(burst, 0.99), burst.back());
  std::printf("alone, publish to gateway.user.slice: p50 %.2f ms  p99 %.2f ms  max %.2f ms\n",
              percentile(alone, 0.50), percentile(alone, 0.99), alone.back());
  std::printf("ratio of the totals: %.3f\n", waiting_total / assigned_total);
  std::printf("ratio: %.3f\n", bench::median(ratios));
  return 0;
}

} // namespace

int main() {
  try {
    return run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_assign: %s\n", e.what());
    return 1;
  }
}
