// How fast signups turn into assigned slices, through the whole daemon: JetStream consumer,
// session manager, slice manager, persistence, and the `gateway.user.slice.<id>` event out.
// In one run, against one daemon:
//   waiting   BENCH_USERS signup events while no slice is free: each becomes a waiting user;
//             timed from the first publish until the last user row exists (polled every
//             5 ms); these users are then cancelled, so that they wait no more;
//   assigned  BENCH_USERS more signup events against BENCH_USERS available slices: timed from
//             the first publish until the last `gateway.user.slice` event; per user, the
//             latency from its event's publish to its `gateway.user.slice` event.
// The events carry a precomputed bcrypt hash (cost 12), as publishers do. The slices are
// rows in status `available` made with SQL: assignment never touches a slice's database, and
// provisioning has its own benchmark (bench/provision.cpp).
//
// Environment: BENCH_USERS (1000).
// Prints both targets, the latency percentiles, then
// `ratio: <assigned signups/s / waiting signups/s>`: the share of signup throughput that
// assignment keeps (1.0: assigning costs nothing on top of creating the user).

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

  /// Waits until `n` users gained a slice; returns user id → arrival time.
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

/// Publishes one signup event per e-mail; returns each e-mail's publish time.
std::map<std::string, bench::clock::time_point> publish_signups(test::nats_client& client,
                                                                const std::string& prefix,
                                                                int n,
                                                                const std::string& hash) {
  std::map<std::string, bench::clock::time_point> sent;
  for (int i = 0; i < n; ++i) {
    auto email = prefix + std::to_string(i) + "@bench.example";
    auto id = "evt-" + prefix + std::to_string(i);
    nlohmann::json body{{"id", id}, {"email", email}, {"password_hash", hash}};
    sent[email] = bench::clock::now();
    client.js_publish("gateway.events.signup", body.dump(), id);
  }
  return sent;
}

int64_t count(pqxx::connection& conn, const std::string& query) {
  pqxx::work tx{conn};
  auto n = tx.exec1(query)[0].as<int64_t>();
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

int run() {
  auto n = bench::env_int("BENCH_USERS", 1000);
  test::servers servers;
  test::daemon daemon{bench::daemon_args(servers, {"--log-level=warn", "--sweep-interval=1h"})};
  test::nats_client client{servers.nats_url()};
  wait_until_ready(client);
  pqxx::connection conn{servers.database_url()};
  auto hash = bcrypt_hash("a precomputed password", 12);
  if (!hash)
    throw std::runtime_error("bcrypt_hash failed");

  // Waiting: signups alone, no slice to assign.
  auto waiting_sent = publish_signups(client, "wait", n, *hash);
  auto waiting_start = waiting_sent.begin()->second;
  for (auto& [email, at] : waiting_sent)
    waiting_start = std::min(waiting_start, at);
  auto deadline = bench::clock::now() + 300s;
  while (count(conn, "SELECT count(*) FROM gateway.users WHERE email LIKE 'wait%'") < n) {
    if (bench::clock::now() > deadline)
      throw std::runtime_error("the waiting signups did not all arrive");
    std::this_thread::sleep_for(5ms);
  }
  auto waiting_seconds = seconds_between(waiting_start, bench::clock::now());
  {
    pqxx::work tx{conn};
    tx.exec0("UPDATE gateway.users SET subscription_status = 'cancelled'"
             " WHERE email LIKE 'wait%'");
    tx.exec0("INSERT INTO gateway.slices (port, status) SELECT 20000 + 2 * i, 'available'"
             " FROM generate_series(1, "
             + std::to_string(n) + ") AS i");
    tx.commit();
  }

  // Assigned: the same signups, each meeting a free slice.
  arrivals arrived{servers.nats_url(), "gateway.user.slice.>"};
  auto sent = publish_signups(client, "assign", n, *hash);
  auto got = arrived.wait_for(static_cast<size_t>(n), 300s);
  std::map<std::string, int32_t> ids;
  {
    pqxx::work tx{conn};
    for (const auto& row :
         tx.exec("SELECT email, id FROM gateway.users WHERE email LIKE 'assign%'"))
      ids[row[0].as<std::string>()] = row[1].as<int32_t>();
    tx.commit();
  }
  std::vector<double> latencies_ms;
  auto first = sent.begin()->second;
  auto last = got.begin()->second;
  for (auto& [email, at] : sent) {
    first = std::min(first, at);
    auto i = got.find(ids.at(email));
    if (i == got.end())
      throw std::runtime_error(email + " got no slice");
    last = std::max(last, i->second);
    latencies_ms.push_back(1000 * seconds_between(at, i->second));
  }
  std::sort(latencies_ms.begin(), latencies_ms.end());
  auto at = [&](double p) {
    return latencies_ms[static_cast<size_t>(p * static_cast<double>(latencies_ms.size() - 1))];
  };
  auto assigned_seconds = seconds_between(first, last);
  auto assigned = count(conn, "SELECT count(*) FROM gateway.slices WHERE status = 'assigned'");
  std::printf("waiting:  %d signups in %.3f s, %.1f/s\n", n, waiting_seconds,
              n / waiting_seconds);
  std::printf("assigned: %d signups in %.3f s, %.1f assignments/s (%lld slices assigned)\n", n,
              assigned_seconds, n / assigned_seconds, static_cast<long long>(assigned));
  std::printf("publish to gateway.user.slice: p50 %.2f ms  p99 %.2f ms  max %.2f ms\n",
              at(0.50), at(0.99), latencies_ms.back());
  std::printf("ratio: %.3f\n", waiting_seconds / assigned_seconds);
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
