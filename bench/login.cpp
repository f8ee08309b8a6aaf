// Login, the expensive path, at the real bcrypt cost 12. Measures in one run:
// - what bcrypt allows: cores x (1 / time of one cost-12 verification on this machine);
// - logins per second with every core busy (4 requesters per core, one account each, so the
//   per-e-mail throttle never interferes), counted over 10 s of steady flood after a second
//   of ramp-up; the ratio of the two is the last line (target >= 0.85);
// - the p99 of a lone resolve requester while idle and during the flood (target <= 2x):
//   bcrypt must not slow the hot path down. Idle and flooded windows alternate (5 rounds of
//   2 s each by default), so that whatever else the machine does weighs on both alike.
//
// Environment: BENCH_SECONDS (10), BENCH_ROUNDS (5), BENCH_LOGIN_REQUESTERS (4 x cores).

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <thread>

#include "actors/hasher.hpp"
#include "bench/request_load.hpp"

using namespace slicegate;
using namespace std::chrono_literals;

namespace {

constexpr int cost = 12;

/// Time of one cost-12 verification on one thread, in seconds: the fastest of seven, which
/// is the machine's speed with nothing else in the way (a slower sample only measures
/// whatever else ran then, and would flatter the ratio).
double bcrypt_seconds() {
  auto hash = bcrypt_hash("a password to verify", cost);
  if (!hash)
    throw std::runtime_error("bcrypt_hash failed");
  std::vector<double> samples;
  for (int i = 0; i < 7; ++i) {
    auto start = bench::clock::now();
    bcrypt_verify("a password to verify", *hash);
    samples.push_back(std::chrono::duration<double>(bench::clock::now() - start).count());
  }
  return *std::min_element(samples.begin(), samples.end());
}

/// Closed-loop login requesters that can be switched on and off.
class login_flood {
 public:
  login_flood(const std::string& url, std::vector<std::string> bodies)
    : conn_(url), bodies_(std::move(bodies)) {
    for (size_t i = 0; i < bodies_.size(); ++i)
      threads_.emplace_back([this, i] { loop(bodies_[i]); });
  }

  ~login_flood() {
    stop_ = true;
    for (auto& t : threads_)
      t.join();
  }

  void on() {
    on_ = true;
  }

  /// Stops sending and waits for the logins in flight.
  void off() {
    on_ = false;
    while (in_flight_ > 0)
      std::this_thread::sleep_for(5ms);
  }

  size_t succeeded() const {
    return ok_;
  }

  size_t failed() const {
    return failed_;
  }

 private:
  void loop(const std::string& body) {
    while (!stop_) {
      if (!on_) {
        std::this_thread::sleep_for(5ms);
        continue;
      }
      ++in_flight_;
      natsMsg* reply = nullptr;
      auto s = natsConnection_Request(&reply, conn_.nc, "gateway.auth.login", body.data(),
                                      static_cast<int>(body.size()), 30000);
      const char* code = nullptr;
      if (s == NATS_OK && natsMsgHeader_Get(reply, "Nats-Service-Error-Code", &code) != NATS_OK)
        ++ok_;
      else
        ++failed_;
      natsMsg_Destroy(reply);
      --in_flight_;
    }
  }

  bench::connection conn_;
  std::vector<std::string> bodies_;
  std::vector<std::thread> threads_;
  std::atomic<bool> on_{false};
  std::atomic<bool> stop_{false};
  std::atomic<int> in_flight_{0};
  std::atomic<size_t> ok_{0};
  std::atomic<size_t> failed_{0};
};

int run() {
  auto seconds = bench::env_int("BENCH_SECONDS", 10);
  auto rounds = std::max(1, bench::env_int("BENCH_ROUNDS", 5));
  auto cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  auto requesters = bench::env_int("BENCH_LOGIN_REQUESTERS", 4 * cores);
  auto window = std::chrono::milliseconds{seconds * 1000 / rounds};
  const std::string password = "bench password";

  bench::bench_servers servers;
  test::daemon daemon{
    servers.daemon_args({"--bcrypt-cost=" + std::to_string(cost), "--log-level=warn"})};
  test::nats_client client{servers.nats_url()};
  auto probe_token = bench::sign_up(client, "probe", 1, password).front();
  bench::sign_up(client, "login", requesters, password);

  // bcrypt measured while the daemon is idle, on this machine, in this run.
  auto bcrypt_time = bcrypt_seconds();
  auto capacity = cores / bcrypt_time;

  std::vector<std::string> login_bodies;
  for (int i = 0; i < requesters; ++i)
    login_bodies.push_back(nlohmann::json{
      {"email", "login" + std::to_string(i) + "@bench.example"},
      {"password", password}}.dump());
  login_flood flood{servers.nats_url(), login_bodies};

  // Resolve latency, idle and flooded windows in turn.
  bench::connection resolve_conn{servers.nats_url()};
  auto probe_body = nlohmann::json{{"session_id", probe_token}}.dump();
  auto probe = [&](int, size_t) {
    return probe_body;
  };
  bench::drive(resolve_conn, "gateway.session.resolve", 1, 1s, probe);
  bench::load_result idle;
  bench::load_result busy;
  for (int round = 0; round < rounds; ++round) {
    bench::merge(idle, bench::drive(resolve_conn, "gateway.session.resolve", 1, window, probe));
    flood.on();
    // Until every worker has a job and the queue holds the rest.
    std::this_thread::sleep_for(500ms);
    bench::merge(busy, bench::drive(resolve_conn, "gateway.session.resolve", 1, window, probe));
    flood.off();
  }

  // Login throughput: steady flood, counted after a second of ramp-up.
  flood.on();
  std::this_thread::sleep_for(1s);
  auto count_start = flood.succeeded();
  auto time_start = bench::clock::now();
  std::this_thread::sleep_for(std::chrono::seconds{seconds});
  auto logins = flood.succeeded() - count_start;
  auto elapsed = std::chrono::duration<double>(bench::clock::now() - time_start).count();
  flood.off();
  auto login_rate = static_cast<double>(logins) / elapsed;

  auto ratio = login_rate / capacity;
  auto slowdown
    = idle.percentile_ms(0.99) > 0 ? busy.percentile_ms(0.99) / idle.percentile_ms(0.99) : 0.0;
  std::printf("login: %d cores, bcrypt cost %d takes %.1f ms -> capacity %.2f logins/s\n",
              cores, cost, bcrypt_time * 1000, capacity);
  std::printf("logins          %.2f logins/s over %d s  [%d requesters; %zu ok, %zu failed "
              "in the whole run]\n",
              login_rate, seconds, requesters, flood.succeeded(), flood.failed());
  std::printf("resolve idle    %s\n", bench::describe(idle).c_str());
  std::printf("resolve flooded %s\n", bench::describe(busy).c_str());
  std::printf("resolve p99 during the flood / idle: %.2fx (target <= 2x)\n", slowdown);
  if (!daemon.running())
    std::printf("the daemon died during the run\n");
  std::printf("ratio: %.3f\n", ratio);
  return flood.failed() == 0 && busy.failed == 0 ? 0 : 1;
}

} // namespace

int main() {
  // Exceptions end up here so that the servers and the daemon are stopped on the way out.
  try {
    return run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  }
}
