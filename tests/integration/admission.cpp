// Admission control at the NATS edge: beyond `max-in-flight` requests at once, a request is
// answered 503 `unavailable` on the spot instead of queueing behind the others. Real daemon,
// real nats-server and PostgreSQL.

#define BOOST_TEST_MODULE admission
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
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
