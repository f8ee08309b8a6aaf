// Resolves of valid sessions under a flood of random tokens. In one run, alternating:
//   idle     BENCH_VALID (4) requesters resolve valid sessions, nothing else runs;
//   flooded  the same, while BENCH_FLOODERS (32) requesters on a connection of their own send
//            random well-formed tokens as fast as they are answered (each one a miss that
//            the database must be asked about once).
// Prints both latency distributions, the flood's own rate and answers, the daemon's resident
// memory before and after, each round's p99s, and `ratio: <median over the rounds of idle p99 /
// flooded p99>` (target >= 0.5).
//
// Environment: BENCH_SECONDS (10, per target), BENCH_ROUNDS (5), BENCH_VALID (4),
// BENCH_FLOODERS (32), BENCH_SESSIONS (64), BENCH_FLOOD_TOKENS (0: every token new; n: the
// flood cycles through n bogus tokens, which the negative cache answers after the first).

#include <algorithm>
#include <cstdio>
#include <random>
#include <string>
#include <thread>

#include "bench/request_load.hpp"

using namespace slicegate;
using namespace std::chrono_literals;

namespace {

std::string random_token(std::mt19937_64& rng) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string token(64, '0');
  for (auto& c : token)
    c = digits[rng() % 16];
  return nlohmann::json{{"session_id", token}}.dump();
}

int run() {
  auto seconds = bench::env_int("BENCH_SECONDS", 10);
  auto rounds = std::max(1, bench::env_int("BENCH_ROUNDS", 5));
  auto valid = bench::env_int("BENCH_VALID", 4);
  auto flooders = bench::env_int("BENCH_FLOODERS", 32);
  auto sessions = bench::env_int("BENCH_SESSIONS", 64);
  auto flood_tokens = bench::env_int("BENCH_FLOOD_TOKENS", 0);
  auto slice = std::chrono::milliseconds{seconds * 1000 / rounds};

  bench::bench_servers servers;
  test::daemon daemon{servers.daemon_args({"--log-level=warn"})};
  test::nats_client client{servers.nats_url()};
  auto bodies = bench::resolve_bodies(client, "flood", sessions);
  auto valid_body = [&](int thread, size_t n) {
    return bodies[(static_cast<size_t>(thread) + n) % bodies.size()];
  };

  bench::connection conn{servers.nats_url()};
  bench::connection flood_conn{servers.nats_url()};
  bench::drive(conn, "gateway.session.resolve", valid, 1s, valid_body);
  auto rss_before = test::rss_kib(daemon.pid());

  bench::load_result idle;
  bench::load_result flooded;
  bench::load_result flood;
  std::vector<double> ratios;
  for (int round = 0; round < rounds; ++round) {
    auto idle_round = bench::drive(conn, "gateway.session.resolve", valid, slice, valid_body);
    bench::load_result flood_round;
    std::thread flooder{[&] {
      std::vector<std::mt19937_64> rngs;
      for (int t = 0; t < flooders; ++t)
        rngs.emplace_back(static_cast<uint64_t>(round * 1000 + t));
      flood_round = bench::drive(flood_conn, "gateway.session.resolve", flooders, slice,
                                 [&](int t, size_t n) {
                                   if (flood_tokens > 0)
                                     rngs[t].seed(static_cast<uint64_t>(n % flood_tokens));
                                   return random_token(rngs[t]);
                                 });
    }};
    // The flood gets going first.
    std::this_thread::sleep_for(200ms);
    auto flooded_round
      = bench::drive(conn, "gateway.session.resolve", valid, slice - 200ms, valid_body);
    flooder.join();
    auto idle_p99 = idle_round.percentile_ms(0.99);
    auto flooded_p99 = flooded_round.percentile_ms(0.99);
    std::printf("round %d    idle p99 %7.3f ms  flooded p99 %7.3f ms\n", round + 1, idle_p99,
                flooded_p99);
    ratios.push_back(flooded_p99 > 0 ? idle_p99 / flooded_p99 : 0.0);
    bench::merge(idle, std::move(idle_round));
    bench::merge(flooded, std::move(flooded_round));
    bench::merge(flood, std::move(flood_round));
  }
  auto rss_after = test::rss_kib(daemon.pid());

  std::printf("resolve_flood: %d valid requesters, %d flooders with random tokens, %d s each "
              "in %d rounds, %u cores\n",
              valid, flooders, seconds, rounds, std::thread::hardware_concurrency());
  std::printf("idle       %s\n", bench::describe(idle).c_str());
  std::printf("flooded    %s\n", bench::describe(flooded).c_str());
  std::printf("flood      %.0f random-token resolves/s answered (401, or 503 when shed)\n",
              flood.seconds > 0 ? static_cast<double>(flood.ok + flood.failed) / flood.seconds
                                : 0.0);
  std::printf("daemon RSS %ld KiB before, %ld KiB after\n", rss_before, rss_after);
  if (!daemon.running())
    std::printf("the daemon died during the run\n");
  auto flooded_p99 = flooded.percentile_ms(0.99);
  std::printf("over all rounds: idle p99 / flooded p99 = %.3f\n",
              flooded_p99 > 0 ? idle.percentile_ms(0.99) / flooded_p99 : 0.0);
  std::printf("ratio: %.3f\n", bench::median(ratios));
  return idle.failed == 0 && flooded.failed == 0 ? 0 : 1;
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
