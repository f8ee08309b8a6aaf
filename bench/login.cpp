// Login, the expensive path, at the real bcrypt cost 12. Measures in one run:
// - what bcrypt allows: cores x (1 / time of one cost-12 verification on this machine);
// - logins per second with every core busy (4 requesters per core, one account each, so the
//   per-e-mail throttle never interferes); the ratio of the two is the last line (>= 0.85);
// - resolve p99 of a lone requester while idle and during the login flood (target <= 2x):
//   bcrypt must not slow the hot path down.
//
// Environment: BENCH_SECONDS (10), BENCH_LOGIN_REQUESTERS (4 x cores).

#include <algorithm>
#include <cstdio>
#include <future>
#include <thread>

#include "actors/hasher.hpp"
#include "bench/request_load.hpp"

using namespace slicegate;
using namespace std::chrono_literals;

namespace {

constexpr int cost = 12;

/// Median time of one cost-12 verification on one thread, in seconds.
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
  std::sort(samples.begin(), samples.end());
  return samples[samples.size() / 2];
}

int run() {
  auto seconds = bench::env_int("BENCH_SECONDS", 10);
  auto cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  auto requesters = bench::env_int("BENCH_LOGIN_REQUESTERS", 4 * cores);
  auto duration = std::chrono::milliseconds{seconds * 1000};
  const std::string password = "bench password";

  test::servers servers;
  test::daemon daemon{bench::daemon_args(
    servers, {"--bcrypt-cost=" + std::to_string(cost), "--log-level=warn"})};
  test::nats_client client{servers.nats_url()};
  auto probe_token = bench::sign_up(client, "probe", 1, password).front();
  bench::sign_up(client, "login", requesters, password);

  // bcrypt measured while the daemon is idle, on this machine, in this run.
  auto bcrypt_time = bcrypt_seconds();
  auto capacity = cores / bcrypt_time;

  bench::connection resolve_conn{servers.nats_url()};
  auto probe_body = nlohmann::json{{"session_id", probe_token}}.dump();
  auto probe = [&](int, size_t) { return probe_body; };
  bench::drive(resolve_conn, "gateway.session.resolve", 1, 1s, probe);
  auto idle = bench::drive(resolve_conn, "gateway.session.resolve", 1, duration, probe);

  std::vector<std::string> login_bodies;
  for (int i = 0; i < requesters; ++i)
    login_bodies.push_back(nlohmann::json{{"email", "login" + std::to_string(i)
                                                      + "@bench.example"},
                                          {"password", password}}
                             .dump());
  bench::connection login_conn{servers.nats_url()};
  auto flood = std::async(std::launch::async, [&] {
    return bench::drive(login_conn, "gateway.auth.login", requesters, duration,
                        [&](int thread, size_t) { return login_bodies[thread]; });
  });
  // Let the flood fill every worker before measuring alongside it.
  std::this_thread::sleep_for(500ms);
  auto busy = bench::drive(resolve_conn, "gateway.session.resolve", 1, duration - 1s, probe);
  auto logins = flood.get();

  auto ratio = logins.rate() / capacity;
  auto slowdown = idle.percentile_ms(0.99) > 0
                    ? busy.percentile_ms(0.99) / idle.percentile_ms(0.99)
                    : 0.0;
  std::printf("login: %d cores, bcrypt cost %d takes %.1f ms -> capacity %.2f logins/s\n",
              cores, cost, bcrypt_time * 1000, capacity);
  std::printf("logins          %s  [%d requesters, %d s]\n",
              bench::describe(logins, "logins/s").c_str(), requesters, seconds);
  std::printf("resolve idle    %s\n", bench::describe(idle).c_str());
  std::printf("resolve flooded %s\n", bench::describe(busy).c_str());
  std::printf("resolve p99 during the flood / idle: %.2fx (target <= 2x)\n", slowdown);
  if (!daemon.running())
    std::printf("the daemon died during the run\n");
  std::printf("ratio: %.3f\n", ratio);
  return logins.failed == 0 && busy.failed == 0 ? 0 : 1;
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
