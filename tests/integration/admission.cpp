// Admission control at the NATS edge: beyond `max-in-flight` requests at once, a request is
// answered 503 `unavailable` on the spot instead of queueing behind the others; and a flood of
// unauthenticated traffic leaves a real user's resolves answering. Real daemon, real
// nats-server and PostgreSQL.

#define BOOST_TEST_MODULE admission
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/nats_client.hpp"
#include "tests/support/servers.hpp"

using namespace slicegate;
using namespace std::chrono_literals;
using json = nlohmann::json;

BOOST_AUTO_TEST_CASE(requests_beyond_the_limit_are_shed_at_once_and_the_rest_are_served) {
  // Logins at bcrypt cost 12 take a while each: two at a time are served, the rest shed.
  auto& servers = test::shared_servers();
  servers.reset_database();
  std::vector<std::string> args;
  for (auto& arg : test::daemon_args(servers))
    if (arg.rfind("--bcrypt-cost=", 0) != 0)
      args.push_back(arg);
  args.insert(args.end(), {"--max-in-flight=2", "--bcrypt-cost=12", "--bcrypt-workers=1"});
  test::daemon daemon{args};
  test::nats_client client{servers.nats_url()};
  auto first = client.request("gateway.session.resolve", json{{"session_id", "warm-up"}}, 30s);
  BOOST_REQUIRE_MESSAGE(first.ok(), daemon.log());
  auto signup = client.request("gateway.auth.signup",
                               json{{"email", "flood@example.com"}, {"password", "a-password-1"}},
                               30s);
  BOOST_REQUIRE_MESSAGE(signup.ok() && signup.error_code().empty(), signup.body);
  std::atomic<int> served{0};
  std::atomic<int> shed{0};
  std::atomic<int> other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 16; ++i)
    threads.emplace_back([&] {
      auto r = client.request("gateway.auth.login",
                              json{{"email", "flood@example.com"}, {"password", "a-password-1"}},
                              30s);
      if (r.ok() && r.error_code().empty())
        ++served;
      else if (r.ok() && r.error_code() == "unavailable" && r.service_error_code() == 503)
        ++shed;
      else
        ++other;
    });
  for (auto& t : threads)
    t.join();
  BOOST_TEST_MESSAGE("served " << served << ", shed " << shed << ", other " << other);
  BOOST_CHECK_GE(served.load(), 1);
  BOOST_CHECK_GE(shed.load(), 1);
  // Nothing but the two answers: no timeout, no other error.
  BOOST_CHECK_EQUAL(other.load(), 0);
  // The shed requests left nothing behind: the next one is served.
  auto after = client.request("gateway.auth.login",
                              json{{"email", "flood@example.com"}, {"password", "a-password-1"}},
                              30s);
  BOOST_CHECK_MESSAGE(after.ok() && after.error_code().empty(), after.body);
  auto stats = client.request("$SRV.STATS.slicegate", json::object(), 10s);
  BOOST_CHECK_MESSAGE(stats.body.find("requests_shed") != std::string::npos, stats.body);
  BOOST_CHECK_EQUAL(daemon.stop(), 0);
}

BOOST_AUTO_TEST_CASE(a_flood_of_bogus_tokens_and_wrong_passwords_leaves_real_resolves_answering) {
  auto& servers = test::shared_servers();
  servers.reset_database();
  test::daemon daemon{test::daemon_args(servers)};
  test::nats_client client{servers.nats_url()};
  auto first = client.request("gateway.session.resolve", json{{"session_id", "warm-up"}}, 30s);
  BOOST_REQUIRE_MESSAGE(first.ok(), daemon.log());
  auto signup = client.request("gateway.auth.signup",
                               json{{"email", "real@example.com"}, {"password", "a-password-1"}},
                               30s);
  BOOST_REQUIRE_MESSAGE(signup.ok() && signup.error_code().empty(), signup.body);
  auto token = signup.json()["session"]["id"].get<std::string>();
  auto rss_before = test::rss_kib(daemon.pid());

  // 16 flooders on a connection of their own for 10 s: half send random well-formed tokens,
  // half wrong passwords (for the real e-mail, which the throttle soon refuses, and for
  // e-mails nobody has).
  test::nats_client flood_client{servers.nats_url()};
  std::atomic<bool> stop{false};
  std::atomic<long> flood_answers{0};
  std::vector<std::thread> flooders;
  for (int t = 0; t < 16; ++t)
    flooders.emplace_back([&, t] {
      std::mt19937_64 rng{static_cast<uint64_t>(t)};
      while (!stop) {
        if (t % 2 == 0) {
          char token_text[65];
          for (int i = 0; i < 64; ++i)
            token_text[i] = "0123456789abcdef"[rng() % 16];
          token_text[64] = '\0';
          flood_client.request("gateway.session.resolve", json{{"session_id", token_text}});
        } else {
          auto email = rng() % 4 == 0 ? std::string{"real@example.com"}
                                      : "nobody" + std::to_string(rng() % 100000) + "@example.com";
          flood_client.request("gateway.auth.login",
                               json{{"email", email}, {"password", "wrong-password"}});
        }
        ++flood_answers;
      }
    });
  int real_ok = 0;
  int real_failed = 0;
  std::string last_failure;
  auto until = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < until) {
    auto r = client.request("gateway.session.resolve", json{{"session_id", token}});
    if (r.ok() && r.error_code().empty()) {
      ++real_ok;
    } else {
      ++real_failed;
      last_failure = r.status + " " + r.body;
    }
    std::this_thread::sleep_for(20ms);
  }
  stop = true;
  for (auto& t : flooders)
    t.join();
  auto rss_after = test::rss_kib(daemon.pid());
  BOOST_TEST_MESSAGE("real resolves " << real_ok << " ok, " << real_failed << " failed; "
                                      << flood_answers << " flood requests answered; RSS "
                                      << rss_before << " KiB before, " << rss_after
                                      << " KiB after");
  BOOST_CHECK_MESSAGE(real_failed == 0, last_failure);
  BOOST_CHECK_GT(real_ok, 100);
  BOOST_CHECK_GT(flood_answers.load(), 1000);
  // Bounded: the negative cache and the throttle hold at most their capacity.
  BOOST_CHECK_LT(rss_after, 256 * 1024);
  BOOST_CHECK(daemon.running());
  BOOST_CHECK_EQUAL(daemon.stop(), 0);
}
