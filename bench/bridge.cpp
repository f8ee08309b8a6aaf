// What the bridge costs a NATS request: the same load, in the same run, against
//   bridge  the bridge's `<p>.ping` endpoint: copy out of nats.c, anon_send to the bridge
//   actor,
//           parse, dispatch, encode, reply;
//   echo    a bare nats.c responder on its own connection that sends the request body back.
// Both answer on SendAsap connections in this process; the requesters share one connection,
// as a client service would.
//
//   bench_bridge [--threads 32] [--seconds 5] [--rounds 1]
//
// Uses the nats-server of $NATS_URL (scripts/bench.sh starts one), or starts a throwaway one.
// Prints one line per target and round, and last `ratio: <bridge / echo throughput>`.

#include "bridge/bridge.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <nats/nats.h>
#include <spdlog/spdlog.h>

#include "bridge/subjects.hpp"
#include "messages/register.hpp"
#include "tests/support/servers.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

struct options {
  int threads = 32;
  int seconds = 5;
  int rounds = 1;
};

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&] {
      if (i + 1 >= argc)
        throw std::invalid_argument(arg + " needs a value");
      return std::stoi(argv[++i]);
    };
    if (arg == "--threads")
      o.threads = value();
    else if (arg == "--seconds")
      o.seconds = value();
    else if (arg == "--rounds")
      o.rounds = value();
    else
      throw std::invalid_argument("unknown argument " + arg);
  }
  if (o.threads < 1 || o.seconds < 1 || o.rounds < 1)
    throw std::invalid_argument("--threads, --seconds and --rounds must be positive");
  return o;
}

natsConnection* connect(const std::string& url, const char* name) {
  natsOptions* opts = nullptr;
  natsOptions_Create(&opts);
  natsOptions_SetURL(opts, url.c_str());
  natsOptions_SetName(opts, name);
  natsOptions_SetSendAsap(opts, true);
  natsConnection* nc = nullptr;
  auto s = natsConnection_Connect(&nc, opts);
  natsOptions_Destroy(opts);
  if (s != NATS_OK)
    throw std::runtime_error(std::string{"cannot connect to "} + url + ": "
                             + natsStatus_GetText(s));
  return nc;
}

/// The baseline: answers every request with its own body, straight from the callback.
void echo(natsConnection* nc, natsSubscription*, natsMsg* msg, void*) {
  if (auto reply = natsMsg_GetReply(msg))
    natsConnection_Publish(nc, reply, natsMsg_GetData(msg), natsMsg_GetDataLength(msg));
  natsMsg_Destroy(msg);
}

struct result {
  uint64_t requests = 0;
  uint64_t errors = 0;
  double seconds = 0;
  double p50_ms = 0;
  double p99_ms = 0;

  double throughput() const {
    return seconds > 0 ? static_cast<double>(requests) / seconds : 0;
  }
};

/// `threads` requesters on `nc`, each sending requests one after another for `seconds`.
result load(natsConnection* nc, const std::string& subject, const options& o) {
  static const std::string body = "{}";
  std::vector<std::vector<float>> latencies(static_cast<size_t>(o.threads));
  std::atomic<uint64_t> errors{0};
  auto start = clock_type::now();
  auto deadline = start + std::chrono::seconds{o.seconds};
  std::vector<std::thread> workers;
  for (int t = 0; t < o.threads; ++t)
    workers.emplace_back([&, t] {
      auto& mine = latencies[static_cast<size_t>(t)];
      mine.reserve(200000);
      while (clock_type::now() < deadline) {
        natsMsg* reply = nullptr;
        auto sent = clock_type::now();
        auto s = natsConnection_Request(&reply, nc, subject.c_str(), body.data(),
                                        static_cast<int>(body.size()), 2000);
        auto took = std::chrono::duration<float, std::milli>(clock_type::now() - sent).count();
        if (s == NATS_OK)
          mine.push_back(took);
        else
          errors.fetch_add(1);
        natsMsg_Destroy(reply);
      }
    });
  for (auto& w : workers)
    w.join();
  result r;
  r.seconds = std::chrono::duration<double>(clock_type::now() - start).count();
  r.errors = errors.load();
  std::vector<float> all;
  for (auto& xs : latencies)
    all.insert(all.end(), xs.begin(), xs.end());
  r.requests = all.size();
  if (!all.empty()) {
    auto at = [&](double q) {
      auto i = static_cast<size_t>(q * static_cast<double>(all.size() - 1));
      std::nth_element(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(i), all.end());
      return static_cast<double>(all[i]);
    };
    r.p50_ms = at(0.50);
    r.p99_ms = at(0.99);
  }
  return r;
}

void print(const char* name, const result& r) {
  std::printf("%-6s  requests %8llu  errors %4llu  throughput %9.0f req/s  p50 %7.3f ms  p99 "
              "%7.3f ms\n",
              name, static_cast<unsigned long long>(r.requests),
              static_cast<unsigned long long>(r.errors), r.throughput(), r.p50_ms, r.p99_ms);
  std::fflush(stdout);
}

/// Sends a few requests so that connections, subscriptions and caches are warm.
void warm_up(natsConnection* nc, const std::string& subject) {
  for (int i = 0; i < 200; ++i) {
    natsMsg* reply = nullptr;
    for (int attempt = 0; attempt < 100; ++attempt) {
      auto s = natsConnection_Request(&reply, nc, subject.c_str(), "{}", 2, 2000);
      if (s == NATS_OK)
        break;
      // The responder may still be subscribing.
      std::this_thread::sleep_for(std::chrono::milliseconds{20});
    }
    natsMsg_Destroy(reply);
  }
}

struct config : caf::actor_system_config {
  config() {
    slicegate::register_types(*this);
  }
};

int run(const options& o) {
  std::unique_ptr<slicegate::test::servers> own_servers;
  std::string url;
  if (auto env = std::getenv("NATS_URL")) {
    url = env;
  } else {
    own_servers = std::make_unique<slicegate::test::servers>();
    url = own_servers->nats_url();
  }
  spdlog::set_level(spdlog::level::warn);
  std::printf("bench bridge: %d requester threads on one connection, %d s per target, %d "
              "round(s), nats %s, %u cores\n",
              o.threads, o.seconds, o.rounds, url.c_str(), std::thread::hardware_concurrency());

  config cfg;
  caf::actor_system sys{cfg};
  slicegate::bridge_config bcfg;
  bcfg.nats_url = url;
  bcfg.subject_prefix = "bench";
  bcfg.events_stream = "BENCH_EVENTS";
  bcfg.slices_stream = "BENCH_SLICES";
  auto bridge = slicegate::start_bridge(sys, bcfg, {});
  if (!bridge)
    throw std::runtime_error("cannot start the bridge: " + caf::to_string(bridge.error()));

  auto echo_nc = connect(url, "bench echo");
  natsSubscription* echo_sub = nullptr;
  std::string echo_subject = "bench.echo";
  natsConnection_Subscribe(&echo_sub, echo_nc, echo_subject.c_str(), echo, nullptr);
  natsSubscription_SetPendingLimits(echo_sub, -1, -1);
  natsConnection_Flush(echo_nc);

  auto client = connect(url, "bench client");
  auto bridge_subject = slicegate::subjects::ping(bcfg.subject_prefix);
  warm_up(client, echo_subject);
  warm_up(client, bridge_subject);

  result echo_total;
  result bridge_total;
  auto add = [](result& total, const result& r) {
    total.requests += r.requests;
    total.errors += r.errors;
    total.seconds += r.seconds;
  };
  std::vector<double> ratios;
  for (int round = 0; round < o.rounds; ++round) {
    auto e = load(client, echo_subject, o);
    print("echo", e);
    add(echo_total, e);
    auto b = load(client, bridge_subject, o);
    print("bridge", b);
    add(bridge_total, b);
    ratios.push_back(e.throughput() > 0 ? b.throughput() / e.throughput() : 0.0);
  }
  // The median of the rounds' ratios: one round slowed by something else moves it little.
  std::sort(ratios.begin(), ratios.end());
  auto n = ratios.size();
  auto ratio = n == 0 ? 0.0 : n % 2 == 1 ? ratios[n / 2] : (ratios[n / 2 - 1] + ratios[n / 2]) / 2;
  std::printf("over all rounds: bridge / echo = %.3f\n",
              echo_total.throughput() > 0 ? bridge_total.throughput() / echo_total.throughput()
                                          : 0.0);

  natsSubscription_Destroy(echo_sub);
  natsConnection_Destroy(echo_nc);
  natsConnection_Destroy(client);
  (*bridge)->drain(std::chrono::seconds{2});
  bridge->reset();
  std::printf("ratio: %.3f\n", ratio);
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  try {
    auto rc = run(parse(argc, argv));
    slicegate::close_nats_library();
    return rc;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_bridge: %s\n", e.what());
    return 1;
  }
}
