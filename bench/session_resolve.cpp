// Session resolve, the hot path: 32 concurrent requesters for 10 s against
// gateway.session.resolve with valid sessions, and the same load against a bare nats.c echo
// responder in the same run, on the same machine, through the same client code. The ratio is
// the median over the rounds of slicegate's throughput over the echo's (target >= 0.6).
//
// The 10 s of each target are taken in alternating slices (5 rounds of 2 s by default), so
// that whatever else the machine does at the time weighs on both alike.
//
// Environment: BENCH_SECONDS (10), BENCH_ROUNDS (5), BENCH_REQUESTERS (32),
// BENCH_SESSIONS (64).

#include <algorithm>
#include <cstdio>
#include <iostream>

#include "bench/request_load.hpp"

using namespace slicegate;
using namespace std::chrono_literals;

namespace {

int run() {
  auto seconds = bench::env_int("BENCH_SECONDS", 10);
  auto rounds = std::max(1, bench::env_int("BENCH_ROUNDS", 5));
  auto requesters = bench::env_int("BENCH_REQUESTERS", 32);
  auto sessions = bench::env_int("BENCH_SESSIONS", 64);
  auto slice = std::chrono::milliseconds{seconds * 1000 / rounds};

  bench::bench_servers servers;
  test::daemon daemon{servers.daemon_args({"--log-level=warn"})};
  test::nats_client client{servers.nats_url()};
  auto bodies = bench::resolve_bodies(client, "resolve", sessions);

  bench::echo_responder echo{servers.nats_url(), "bench.echo"};
  bench::connection conn{servers.nats_url()};
  auto resolve_body = [&](int thread, size_t n) {
    return bodies[(static_cast<size_t>(thread) + n) % bodies.size()];
  };

  // A short warm-up of both: connections, caches, the daemon's first lookups.
  bench::drive(conn, "bench.echo", requesters, 1s, resolve_body);
  bench::drive(conn, "gateway.session.resolve", requesters, 1s, resolve_body);

  bench::load_result echo_result;
  bench::load_result resolve_result;
  std::vector<double> ratios;
  for (int round = 0; round < rounds; ++round) {
    auto echo_round = bench::drive(conn, "bench.echo", requesters, slice, resolve_body);
    auto resolve_round
      = bench::drive(conn, "gateway.session.resolve", requesters, slice, resolve_body);
    ratios.push_back(echo_round.rate() > 0 ? resolve_round.rate() / echo_round.rate() : 0.0);
    std::printf("round %d    echo %10.1f req/s  slicegate %10.1f req/s\n", round + 1,
                echo_round.rate(), resolve_round.rate());
    bench::merge(echo_result, std::move(echo_round));
    bench::merge(resolve_result, std::move(resolve_round));
  }

  std::printf("session_resolve: %d requesters on one connection, %d s each in %d rounds, "
              "%d sessions, %u cores\n",
              requesters, seconds, rounds, sessions, std::thread::hardware_concurrency());
  std::printf("echo       %s\n", bench::describe(echo_result).c_str());
  std::printf("slicegate  %s\n", bench::describe(resolve_result).c_str());
  if (!daemon.running())
    std::printf("the daemon died during the run\n");
  std::printf("over all rounds: slicegate / echo = %.3f\n",
              echo_result.rate() > 0 ? resolve_result.rate() / echo_result.rate() : 0.0);
  std::printf("ratio: %.3f\n", bench::median(ratios));
  return resolve_result.failed == 0 ? 0 : 1;
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
