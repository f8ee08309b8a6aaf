#define BOOST_TEST_MODULE http
#include <boost/test/unit_test.hpp>

// The HTTP listener end to end: the real daemon with `--http-listen` serves the dashboard's
// files, the page's /config.json and /metrics in the Prometheus format (checked with
// promtool, the Prometheus project's own parser), with the numbers the daemon really saw.

#include <fstream>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/support/daemon_fixture.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/temp_dir.hpp"

using namespace slicegate;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// The dashboard's files: one page.
struct page_root {
  test::temp_dir root;
  int port = test::free_port();

  page_root() {
    std::ofstream{root / "index.html"} << "<!doctype html><title>slicegate</title>\n";
  }

  std::vector<std::string> args() const {
    return {"--http-listen=127.0.0.1:" + std::to_string(port), "--http-root=" + root.path(),
            "--dashboard-nats-url=ws://127.0.0.1:4443"};
  }
};

struct fixture : page_root, test::running_daemon {
  fixture() : running_daemon(page_root::args()) {}

  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port) + path;
  }

  /// The body of GET `path` (headers too with `-i`).
  std::string get(const std::string& path, const std::string& flags = "") const {
    return test::capture("curl -s --max-time 10 " + flags + " '" + url(path) + "'");
  }

  std::string status_of(const std::string& path) const {
    return test::capture("curl -s -o /dev/null -w '%{http_code}' --path-as-is --max-time 10 '"
                         + url(path) + "'");
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(http, fixture)

BOOST_AUTO_TEST_CASE(the_dashboard_and_its_config_are_served_with_safe_headers) {
  auto page = get("/", "-i");
  BOOST_CHECK_MESSAGE(contains(page, "HTTP/1.1 200") && contains(page, "<title>slicegate"),
                      page);
  BOOST_CHECK(contains(page, "X-Content-Type-Options: nosniff"));
  BOOST_CHECK(contains(page, "Content-Security-Policy: default-src 'self'"));
  BOOST_CHECK(contains(page, "X-Frame-Options: DENY"));
  auto config = json::parse(get("/config.json"));
  BOOST_CHECK_EQUAL(config["nats_ws_url"], "ws://127.0.0.1:4443");
  BOOST_CHECK_EQUAL(config["subject_prefix"], "gateway");
  // Nothing outside the root.
  BOOST_CHECK_NE(status_of("/../../../etc/passwd"), "200");
  BOOST_CHECK_EQUAL(status_of("/nope.html"), "404");
  BOOST_CHECK_EQUAL(get("/healthz"), "ok\n");
}

BOOST_AUTO_TEST_CASE(metrics_parse_as_prometheus_and_count_what_happened) {
  BOOST_REQUIRE_MESSAGE(test::run("command -v promtool >/dev/null 2>&1") == 0,
                        "promtool is not installed (scripts/install-deps.sh installs Debian's "
                        "prometheus package, which has it)");
  // Two signups and one unknown session (the fixture's warm-up was another).
  for (auto email : {"one@example.com", "two@example.com"}) {
    auto r = client->request("gateway.auth.signup",
                             json{{"email", email}, {"password", "password-1"}}, 30s);
    BOOST_REQUIRE_MESSAGE(r.error_code().empty(), r.body);
  }
  client->request("gateway.session.resolve", json{{"session_id", std::string(64, 'a')}});

  auto headers = get("/metrics", "-i");
  BOOST_CHECK_MESSAGE(contains(headers, "Content-Type: text/plain; version=0.0.4"), headers);
  test::temp_dir dir;
  auto file = dir / "metrics.txt";
  BOOST_REQUIRE_EQUAL(
    test::run("curl -s --max-time 10 -o " + file + " '" + url("/metrics") + "'"), 0);
  // promtool parses the exposition and lints the names (units, _total, …): no output, exit 0.
  auto lint = test::capture("promtool check metrics < " + file + " 2>&1; echo rc=$?");
  BOOST_CHECK_MESSAGE(lint == "rc=0\n", lint);

  auto text = get("/metrics");
  BOOST_CHECK(contains(text, "slicegate_build_info{version=\""));
  BOOST_CHECK(contains(text, "slicegate_requests_total{endpoint=\"auth_signup\"} 2\n"));
  BOOST_CHECK(
    contains(text, "slicegate_request_errors_total{endpoint=\"session_resolve\"} 2\n"));
  BOOST_CHECK(
    contains(text, "slicegate_request_duration_seconds_count{endpoint=\"auth_signup\"} 2\n"));
  BOOST_CHECK(contains(
    text,
    "slicegate_request_duration_seconds_bucket{endpoint=\"auth_signup\",le=\"+Inf\"} 2\n"));
  // Both users wait, and the admin made at set-up: there is no slice.
  BOOST_CHECK(contains(text, "slicegate_waiting_users 3\n"));
  BOOST_CHECK(contains(text, "slicegate_users{subscription=\"trial\"} 2\n"));
  BOOST_CHECK(contains(text, "slicegate_slices{status=\"available\"} 0\n"));
  BOOST_CHECK(contains(text, "slicegate_component_up{component=\"database\"} 1\n"));
  BOOST_CHECK(contains(text, "slicegate_persistence_up 1\n"));
  BOOST_CHECK(contains(text, "slicegate_bcrypt_queue_capacity "));
  BOOST_CHECK(contains(
    text, "slicegate_events_total{consumer=\"slicegate_signup\",outcome=\"done\"} 0\n"));
  // No per-slice or per-user label anywhere.
  BOOST_CHECK(!contains(text, "slice_id=") && !contains(text, "user_id=")
              && !contains(text, "@"));
}

BOOST_AUTO_TEST_CASE(metrics_say_when_the_database_is_gone) {
  servers.stop_pg();
  auto text = get("/metrics");
  servers.start_pg();
  BOOST_CHECK_MESSAGE(contains(text, "slicegate_component_up{component=\"database\"} 0\n"),
                      text);
  BOOST_CHECK(contains(text, "slicegate_persistence_up 0\n"));
  BOOST_CHECK(contains(text, "slicegate_component_up{component=\"bridge\"} 1\n"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(a_listen_address_that_cannot_work_stops_the_daemon_with_a_reason) {
  auto& servers = test::shared_servers();
  auto args = test::daemon_args(servers);
  args.push_back("--http-listen=not-an-address");
  test::daemon d{args};
  BOOST_CHECK(test::eventually([&] { return !d.running(); }, 30s));
  BOOST_CHECK_EQUAL(d.stop(), 2);
  BOOST_CHECK_MESSAGE(contains(d.log(), "http-listen"), d.log());
}
