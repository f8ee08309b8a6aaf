#define BOOST_TEST_MODULE docker_driver
#include "runtime/docker_driver.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include "messages/error.hpp"
#include "tests/support/fake_docker.hpp"
#include "tests/support/temp_dir.hpp"

using namespace slicegate;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

void write(const std::filesystem::path& file, const std::string& text) {
  std::filesystem::create_directories(file.parent_path());
  std::ofstream out{file, std::ios::trunc};
  out << text;
}

/// A docker driver talking to a fake Engine, with a fake cgroup tree and a hand-moved clock.
struct fixture {
  test::temp_dir dir;
  test::fake_docker engine{dir / "docker.sock"};
  std::shared_ptr<std::chrono::steady_clock::time_point> now
    = std::make_shared<std::chrono::steady_clock::time_point>();
  runtime_config cfg;

  fixture() {
    cfg.kind = "docker";
    cfg.docker_socket = engine.socket_path();
    cfg.docker_image = "wa-crm-slice:test";
    cfg.docker_network = "slices";
    cfg.slice_host = "127.0.0.1";
    cfg.memory_limit = 256LL * 1024 * 1024;
    cfg.cpu_limit = 0.5;
    cfg.cgroup_root = dir / "cgroup";
    // A cgroup v2 host: the driver detects the layout when it is made.
    write(cfg.cgroup_root + "/cgroup.controllers", "cpu memory pids\n");
    cfg.stop_grace = 3s;
  }

  docker_driver make() {
    return docker_driver{cfg, [clock = now] {
                           return *clock;
                         }};
  }

  slice_spec spec(int32_t id) const {
    return slice_spec{id, 5000 + id, dir / ("slices/" + std::to_string(id)),
                      "postgresql://wa_slice:pw@127.0.0.1:5432/wa_slice_" + std::to_string(id)};
  }

  /// Writes the cgroup v2 files of a container, in the systemd driver's layout or (with
  /// `layout` "docker") the cgroupfs driver's.
  void cgroup(const std::string& id, int64_t current, int64_t inactive_file, int64_t usage_usec,
              const std::string& layout = "system.slice") {
    std::filesystem::path root = cfg.cgroup_root;
    auto base = layout == "system.slice" ? root / "system.slice" / ("docker-" + id + ".scope")
                                         : root / "docker" / id;
    write(base / "memory.current", std::to_string(current) + "\n");
    write(base / "memory.stat", "anon 1000\nfile 2000\nactive_file 300\ninactive_file "
                                  + std::to_string(inactive_file) + "\nshmem 0\n");
    write(base / "cpu.stat",
          "usage_usec " + std::to_string(usage_usec) + "\nuser_usec 1\nsystem_usec 2\n");
  }
};

} // namespace

// The lifecycle (create, start, stop, remove, reap, adoption) runs against a real Docker
// Engine in tests/integration/docker.cpp. The fake Engine here serves what a real one will
// not do on demand: error replies, a missing socket, and exact counters under a hand-moved
// clock.

BOOST_FIXTURE_TEST_CASE(the_create_body_carries_environment_limits_and_confinement, fixture) {
  auto body = json::parse(make().create_body(spec(7)));
  BOOST_CHECK_EQUAL(body["Image"], "wa-crm-slice:test");
  auto env = body["Env"].get<std::vector<std::string>>();
  auto has = [&](const std::string& x) {
    return std::count(env.begin(), env.end(), x) == 1;
  };
  BOOST_CHECK(has("PORT=5007"));
  BOOST_CHECK(has("DATABASE_URL=postgresql://wa_slice:pw@127.0.0.1:5432/wa_slice_7"));
  BOOST_CHECK(has("DATA_DIR=/data"));
  BOOST_CHECK(has("SLICE_ID=7"));
  BOOST_CHECK(body["ExposedPorts"].contains("5007/tcp"));
  BOOST_CHECK_EQUAL(body["Labels"]["slicegate.slice"], "7");
  auto& host = body["HostConfig"];
  BOOST_CHECK_EQUAL(host["Memory"].get<int64_t>(), 268435456);
  BOOST_CHECK_EQUAL(host["NanoCpus"].get<int64_t>(), 500000000);
  BOOST_CHECK_EQUAL(host["PortBindings"]["5007/tcp"][0]["HostIp"], "127.0.0.1");
  BOOST_CHECK_EQUAL(host["PortBindings"]["5007/tcp"][0]["HostPort"], "5007");
  BOOST_CHECK_EQUAL(host["Binds"][0], spec(7).data_dir + ":/data");
  BOOST_CHECK_EQUAL(host["RestartPolicy"]["Name"], "no");
  BOOST_CHECK_EQUAL(host["NetworkMode"], "slices");
  BOOST_CHECK_EQUAL(host["PidsLimit"].get<int64_t>(), 512);
  BOOST_CHECK(host["CapDrop"] == json::array({"ALL"}));
  BOOST_CHECK(host["SecurityOpt"] == json::array({"no-new-privileges"}));
}

BOOST_FIXTURE_TEST_CASE(no_limits_and_no_network_leave_the_engine_defaults, fixture) {
  cfg.memory_limit = 0;
  cfg.cpu_limit = 0;
  cfg.docker_network.clear();
  auto host = json::parse(make().create_body(spec(1)))["HostConfig"];
  BOOST_CHECK(!host.contains("Memory"));
  BOOST_CHECK(!host.contains("NanoCpus"));
  BOOST_CHECK(!host.contains("NetworkMode"));
}

BOOST_FIXTURE_TEST_CASE(usage_comes_from_the_cgroup_files, fixture) {
  auto driver = make();
  BOOST_REQUIRE(!driver.start(spec(7)));
  auto id = engine.container_id("slice-7");
  cgroup(id, 100'000'000, 4'000'000, 10'000'000);
  auto first = driver.usage(7);
  BOOST_REQUIRE(first);
  BOOST_REQUIRE(first->rss_bytes);
  BOOST_CHECK_EQUAL(*first->rss_bytes, 96'000'000);
  BOOST_CHECK(!first->cpu_percent);
  // Half a core over two seconds.
  *now += 2s;
  cgroup(id, 120'000'000, 4'000'000, 11'000'000);
  auto second = driver.usage(7);
  BOOST_REQUIRE(second);
  BOOST_CHECK_EQUAL(*second->rss_bytes, 116'000'000);
  BOOST_REQUIRE(second->cpu_percent);
  BOOST_CHECK_CLOSE(*second->cpu_percent, 50.0, 1e-9);
  // Two full cores over one second.
  *now += 1s;
  cgroup(id, 120'000'000, 4'000'000, 13'000'000);
  BOOST_CHECK_CLOSE(*driver.usage(7)->cpu_percent, 200.0, 1e-9);
  // The files were read, not `docker stats`.
  for (auto& r : engine.requests())
    BOOST_CHECK(r.target.find("/stats") == std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(usage_finds_the_cgroupfs_layout_too, fixture) {
  auto driver = make();
  BOOST_REQUIRE(!driver.start(spec(8)));
  auto id = engine.container_id("slice-8");
  // More inactive cache than usage cannot be subtracted.
  cgroup(id, 50'000'000, 60'000'000, 1, "docker");
  auto usage = driver.usage(8);
  BOOST_REQUIRE(usage);
  BOOST_CHECK_EQUAL(*usage->rss_bytes, 50'000'000);
  BOOST_CHECK(driver.layout() == cgroup_layout::v2);
}

BOOST_FIXTURE_TEST_CASE(a_stopped_or_unknown_container_has_no_usage, fixture) {
  auto driver = make();
  auto unknown = driver.usage(5);
  BOOST_REQUIRE(unknown);
  BOOST_CHECK(!unknown->rss_bytes && !unknown->cpu_percent);
  BOOST_REQUIRE(!driver.start(spec(5)));
  BOOST_REQUIRE(!driver.stop(5));
  auto stopped = driver.usage(5);
  BOOST_REQUIRE(stopped);
  BOOST_CHECK(!stopped->rss_bytes && !stopped->cpu_percent);
  // Running, but the cgroup is not where cgroup-root says: unknown, not an error.
  BOOST_REQUIRE(!driver.start(spec(5)));
  auto missing = driver.usage(5);
  BOOST_REQUIRE(missing);
  BOOST_CHECK(!missing->rss_bytes);
}

BOOST_FIXTURE_TEST_CASE(engine_errors_carry_the_engines_message, fixture) {
  auto driver = make();
  engine.fail_next(404, "No such image: wa-crm-slice:test");
  auto err = driver.start(spec(7));
  BOOST_CHECK(code_of(err) == ec::internal);
  BOOST_CHECK_MESSAGE(message_of(err).find("No such image: wa-crm-slice:test")
                        != std::string::npos,
                      message_of(err));
  BOOST_REQUIRE(!driver.start(spec(7)));
  engine.fail_next(500, "driver failed programming external connectivity");
  err = driver.stop(7);
  BOOST_CHECK(code_of(err) == ec::internal);
  BOOST_CHECK(message_of(err).find("external connectivity") != std::string::npos);
  BOOST_CHECK(message_of(err).find("HTTP 500") != std::string::npos);
  // Replies of an unexpected shape are errors or no news, never a crash.
  engine.fail_next(200, "not an inspection");
  BOOST_CHECK(code_of(driver.running(7).error()) == ec::internal);
  engine.fail_next(200, "not a list");
  BOOST_CHECK(driver.reap().empty());
  BOOST_CHECK(*driver.running(7));
}

BOOST_FIXTURE_TEST_CASE(a_missing_socket_is_unavailable, fixture) {
  cfg.docker_socket = dir / "no-such.sock";
  auto driver = make();
  auto err = driver.start(spec(7));
  BOOST_CHECK(code_of(err) == ec::unavailable);
  BOOST_CHECK_MESSAGE(message_of(err).find(cfg.docker_socket) != std::string::npos,
                      message_of(err));
  BOOST_CHECK(code_of(driver.stop(7)) == ec::unavailable);
  BOOST_CHECK(code_of(driver.remove(7)) == ec::unavailable);
  BOOST_CHECK(code_of(driver.running(7).error()) == ec::unavailable);
  BOOST_CHECK(code_of(driver.usage(7).error()) == ec::unavailable);
  BOOST_CHECK(driver.reap().empty());
  BOOST_CHECK(code_of(driver.start(slice_spec{})) == ec::invalid_request);
}

BOOST_FIXTURE_TEST_CASE(the_factory_wants_an_image, fixture) {
  cfg.docker_image.clear();
  auto made = make_runtime_driver(cfg);
  BOOST_REQUIRE(!made);
  BOOST_CHECK(code_of(made.error()) == ec::invalid_request);
  cfg.docker_image = "x";
  made = make_runtime_driver(cfg);
  BOOST_REQUIRE(made);
  BOOST_CHECK_EQUAL((*made)->name(), "docker");
}
