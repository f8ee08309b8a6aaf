// The inbound event stream's retention: a setting that start-up applies, without resetting the
// other limits an operator set on the stream. Real nats-server with JetStream, real daemon.

#define BOOST_TEST_MODULE event_stream
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/nats_client.hpp"
#include "tests/support/servers.hpp"

using namespace slicegate;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

constexpr int64_t ns_per_day = 24LL * 3600 * 1000 * 1000 * 1000;

json stream_config(test::nats_client& client) {
  auto r = client.request("$JS.API.STREAM.INFO.GATEWAY_EVENTS", json::object(), 10s);
  BOOST_REQUIRE_MESSAGE(r.ok(), r.body);
  auto info = r.json();
  BOOST_REQUIRE_MESSAGE(info.contains("config"), r.body);
  return info["config"];
}

/// Runs the daemon until it answers, then stops it.
void run_daemon(test::servers& servers, std::vector<std::string> extra = {}) {
  auto args = test::daemon_args(servers);
  args.insert(args.end(), extra.begin(), extra.end());
  test::daemon d{args};
  test::nats_client client{servers.nats_url()};
  auto first = client.request("gateway.session.resolve", json{{"session_id", "warm-up"}}, 30s);
  BOOST_REQUIRE_MESSAGE(first.ok(), d.log());
  BOOST_CHECK_EQUAL(d.stop(), 0);
}

} // namespace

BOOST_AUTO_TEST_CASE(start_up_sets_the_age_limit_and_keeps_what_an_operator_set) {
  auto& servers = test::shared_servers();
  servers.reset_database();
  test::nats_client client{servers.nats_url()};
  // Whatever an earlier test of this executable left: gone.
  client.request("$JS.API.STREAM.DELETE.GATEWAY_EVENTS", json::object(), 10s);
  run_daemon(servers);
  auto made = stream_config(client);
  // Thirty days by default: e-mails, hashes and payloads do not stay for ever.
  BOOST_CHECK_EQUAL(made["max_age"].get<int64_t>(), 30 * ns_per_day);
  // An operator bounds the stream's size.
  made["max_bytes"] = 256 * 1024 * 1024;
  made["max_msgs"] = 1000000;
  auto updated = client.request("$JS.API.STREAM.UPDATE.GATEWAY_EVENTS", made, 10s);
  BOOST_REQUIRE_MESSAGE(updated.ok() && !updated.json().contains("error"), updated.body);
  // The next start keeps those limits; a changed setting changes the age only.
  run_daemon(servers, {"--events-retention=7d"});
  auto kept = stream_config(client);
  BOOST_CHECK_EQUAL(kept["max_bytes"].get<int64_t>(), 256 * 1024 * 1024);
  BOOST_CHECK_EQUAL(kept["max_msgs"].get<int64_t>(), 1000000);
  BOOST_CHECK_EQUAL(kept["max_age"].get<int64_t>(), 7 * ns_per_day);
  auto subjects = kept["subjects"].get<std::vector<std::string>>();
  BOOST_CHECK(subjects == made["subjects"].get<std::vector<std::string>>());
}
