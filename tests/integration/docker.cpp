#define BOOST_TEST_MODULE docker
#include <boost/test/unit_test.hpp>

// The docker runtime against a real Docker Engine (scripts/servers.sh start-docker) and
// containers of the demo slice: every lifecycle step, the containers' confinement, what the
// driver measures on this host's cgroup layout, and a daemon killed and restarted with its
// slices running. Skipped, with the reason, only where no engine can start.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/docker_driver.hpp"
#include "tests/support/docker_engine.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/servers.hpp"
#include "tests/support/sql.hpp"
#include "tests/support/temp_dir.hpp"

using namespace slicegate;
using namespace std::chrono_literals;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr const char* image = "slicegate/demo-slice:test";
/// The same binary, keeping 64 MiB in use and one core busy.
constexpr const char* hungry_image = "slicegate/demo-slice:hungry";
constexpr int64_t mib = 1024 * 1024;

/// Whether something answers `GET /health` on `port`.
bool healthy(int port) {
  return test::run("curl -sf -m 2 http://127.0.0.1:" + std::to_string(port)
                   + "/health >/dev/null")
         == 0;
}

struct images {
  images() {
    auto& engine = test::shared_docker_engine();
    if (!engine.available())
      return;
    engine.import_demo_slice(image);
    engine.import_demo_slice(hungry_image, {"--allocate-mb", "64", "--busy"});
  }
};

/// A driver on the shared engine; every container it made is removed afterwards.
struct fixture {
  test::docker_engine& engine = test::shared_docker_engine();
  test::temp_dir dir;
  runtime_config cfg;
  std::set<int32_t> used;

  fixture() {
    static images once;
    cfg.kind = "docker";
    cfg.docker_socket = engine.socket();
    cfg.docker_image = image;
    cfg.docker_network = "host";
    cfg.memory_limit = 256 * mib;
    cfg.cpu_limit = 1.5;
    cfg.pids_limit = 64;
    cfg.stop_grace = 2s;
  }

  ~fixture() {
    for (auto id : used)
      engine.docker_status("rm -f " + docker_driver::container_name(id));
  }

  slice_spec spec(int32_t id) {
    used.insert(id);
    return slice_spec{id, test::free_port(), dir / ("slices/" + std::to_string(id)),
                      "postgresql://wa_slice_" + std::to_string(id)
                        + ":s3cret-pw@127.0.0.1:5432/wa_slice_" + std::to_string(id)};
  }

  json inspect(int32_t id) {
    return json::parse(engine.docker("inspect " + docker_driver::container_name(id)))[0];
  }

  /// Starts slice `id` from the hungry image and checks what `driver` reads of it: at least
  /// the 64 MiB it keeps, and CPU over a second (the first reading has none to compare with).
  void check_hungry_slice(docker_driver& driver, int32_t id) {
    auto s = spec(id);
    BOOST_REQUIRE(!driver.start(s));
    BOOST_REQUIRE(test::eventually([&] { return healthy(s.port); }, 20s));
    auto first = driver.usage(id);
    BOOST_REQUIRE(first);
    BOOST_REQUIRE_MESSAGE(first->rss_bytes, "no memory figure");
    BOOST_CHECK_GE(*first->rss_bytes, 64 * mib);
    std::this_thread::sleep_for(1s);
    auto second = driver.usage(id);
    BOOST_REQUIRE(second);
    BOOST_REQUIRE_MESSAGE(second->cpu_percent, "no CPU figure");
    // One busy thread; on a loaded machine it gets less than the whole core.
    BOOST_CHECK_GT(*second->cpu_percent, 20.0);
  }

  /// Containers of that name, running or not.
  int count(int32_t id) {
    auto names = engine.docker("ps -a --format '{{.Names}}' --filter name=^/"
                               + docker_driver::container_name(id) + "$");
    return names.empty() ? 0
                         : static_cast<int>(std::count(names.begin(), names.end(), '\n')) + 1;
  }
};

} // namespace

BOOST_AUTO_TEST_SUITE(docker, *boost::unit_test::precondition(test::docker_available{}))

BOOST_FIXTURE_TEST_CASE(provisioning_runs_a_confined_container_with_its_environment, fixture) {
  docker_driver driver{cfg};
  auto s = spec(31);
  BOOST_REQUIRE_MESSAGE(!driver.start(s), "start failed");
  BOOST_REQUIRE(test::eventually([&] { return healthy(s.port); }, 20s));
  BOOST_CHECK(*driver.running(31));
  auto c = inspect(31);
  BOOST_CHECK(c["State"]["Running"].get<bool>());
  auto env = c["Config"]["Env"].get<std::vector<std::string>>();
  auto has = [&](const std::string& x) {
    return std::count(env.begin(), env.end(), x) == 1;
  };
  BOOST_CHECK(has("PORT=" + std::to_string(s.port)));
  BOOST_CHECK(has("DATABASE_URL=" + s.database_url));
  BOOST_CHECK(has("DATA_DIR=/data"));
  BOOST_CHECK(has("SLICE_ID=31"));
  BOOST_CHECK_EQUAL(c["Config"]["Labels"]["slicegate.slice"], "31");
  auto& host = c["HostConfig"];
  BOOST_CHECK_EQUAL(host["Memory"].get<int64_t>(), 256 * mib);
  BOOST_CHECK_EQUAL(host["NanoCpus"].get<int64_t>(), 1'500'000'000);
  BOOST_CHECK_EQUAL(host["PidsLimit"].get<int64_t>(), 64);
  BOOST_CHECK(host["CapDrop"] == json::array({"ALL"}));
  BOOST_CHECK(host["SecurityOpt"] == json::array({"no-new-privileges"}));
  BOOST_CHECK_EQUAL(host["RestartPolicy"]["Name"], "no");
  // The data directory is the container's /data: the slice wrote its file through it.
  BOOST_CHECK(test::eventually([&] { return fs::exists(s.data_dir + "/demo-slice.txt"); }));
  // The database password is in the environment only, never on a command line.
  BOOST_CHECK(c["Path"].get<std::string>().find("s3cret") == std::string::npos);
  BOOST_CHECK(c["Args"].dump().find("s3cret") == std::string::npos);
  auto pid = c["State"]["Pid"].get<int>();
  std::ifstream cmdline{"/proc/" + std::to_string(pid) + "/cmdline"};
  std::string args{std::istreambuf_iterator<char>{cmdline}, {}};
  BOOST_CHECK(!args.empty());
  BOOST_CHECK(args.find("s3cret") == std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(suspend_resume_and_destroy, fixture) {
  docker_driver driver{cfg};
  auto s = spec(32);
  BOOST_REQUIRE(!driver.start(s));
  auto id = inspect(32)["Id"].get<std::string>();
  // Suspend: stopped, kept.
  BOOST_REQUIRE(!driver.stop(32));
  BOOST_CHECK(!*driver.running(32));
  BOOST_CHECK(!inspect(32)["State"]["Running"].get<bool>());
  BOOST_CHECK(!healthy(s.port));
  // Resume: the same container again.
  BOOST_REQUIRE(!driver.start(s));
  BOOST_CHECK(*driver.running(32));
  BOOST_CHECK_EQUAL(inspect(32)["Id"].get<std::string>(), id);
  BOOST_CHECK(test::eventually([&] { return healthy(s.port); }, 20s));
  // Destroy: the container is gone; a new start makes a new one.
  BOOST_REQUIRE(!driver.remove(32));
  BOOST_CHECK_EQUAL(count(32), 0);
  BOOST_CHECK(!*driver.running(32));
  BOOST_REQUIRE(!driver.start(s));
  BOOST_CHECK_NE(inspect(32)["Id"].get<std::string>(), id);
  BOOST_CHECK_EQUAL(count(32), 1);
}

BOOST_FIXTURE_TEST_CASE(a_container_killed_from_outside_is_noticed_once_and_started_again,
                        fixture) {
  docker_driver driver{cfg};
  auto s = spec(33);
  BOOST_REQUIRE(!driver.start(s));
  BOOST_CHECK(driver.reap().empty());
  engine.docker("kill " + docker_driver::container_name(33));
  std::vector<rt::exited> exits;
  BOOST_REQUIRE(test::eventually([&] {
    exits = driver.reap();
    return !exits.empty();
  }));
  BOOST_REQUIRE_EQUAL(exits.size(), 1u);
  BOOST_CHECK_EQUAL(exits[0].slice_id, 33);
  BOOST_CHECK_MESSAGE(exits[0].reason.find("exited") != std::string::npos, exits[0].reason);
  BOOST_CHECK(driver.reap().empty());
  BOOST_REQUIRE(!driver.start(s));
  BOOST_CHECK(test::eventually([&] { return healthy(s.port); }, 20s));
}

BOOST_FIXTURE_TEST_CASE(a_restarted_driver_adopts_its_containers_and_replaces_strangers,
                        fixture) {
  auto s = spec(34);
  auto stranger = spec(35);
  std::string id;
  {
    docker_driver first{cfg};
    BOOST_REQUIRE(!first.start(s));
    id = inspect(34)["Id"].get<std::string>();
  }
  // Something else named like slice 35: another image's, without the label.
  engine.docker("create --name " + docker_driver::container_name(35) + " --network host "
                + hungry_image);
  auto stranger_id = inspect(35)["Id"].get<std::string>();
  docker_driver second{cfg};
  BOOST_REQUIRE(!second.start(s));
  BOOST_CHECK_EQUAL(inspect(34)["Id"].get<std::string>(), id);
  BOOST_CHECK_EQUAL(count(34), 1);
  BOOST_REQUIRE(!second.start(stranger));
  auto replaced = inspect(35);
  BOOST_CHECK_NE(replaced["Id"].get<std::string>(), stranger_id);
  BOOST_CHECK_EQUAL(replaced["Config"]["Image"].get<std::string>(), image);
  BOOST_CHECK_EQUAL(replaced["Config"]["Labels"]["slicegate.slice"], "35");
  BOOST_CHECK_EQUAL(count(35), 1);
  BOOST_CHECK(test::eventually([&] { return healthy(stranger.port); }, 20s));
}

BOOST_FIXTURE_TEST_CASE(new_credentials_replace_a_container_and_adopt_keeps_a_running_one,
                        fixture) {
  auto s = spec(38);
  std::string id;
  {
    docker_driver first{cfg};
    BOOST_REQUIRE(!first.start(s));
    id = inspect(38)["Id"].get<std::string>();
  }
  docker_driver second{cfg};
  // A daemon that restarts keeps a container that runs with the slice's own role...
  BOOST_CHECK(*second.adopt(38, "wa_slice_38"));
  BOOST_CHECK_EQUAL(inspect(38)["Id"].get<std::string>(), id);
  // ...but not one that runs as another role (an older version's shared login)...
  BOOST_CHECK(!*second.adopt(38, "wa_slice"));
  // ...nor one that does not run.
  BOOST_REQUIRE(!second.stop(38));
  BOOST_CHECK(!*second.adopt(38, "wa_slice_38"));
  BOOST_CHECK_EQUAL(inspect(38)["Id"].get<std::string>(), id);
  // Started afresh with a new password, the stopped container is replaced: it would have
  // started with the old one.
  auto fresh = s;
  fresh.database_url = "postgresql://wa_slice_38:n3w-pw@127.0.0.1:5432/wa_slice_38";
  BOOST_REQUIRE(!second.start(fresh));
  auto c = inspect(38);
  BOOST_CHECK_NE(c["Id"].get<std::string>(), id);
  auto env = c["Config"]["Env"].get<std::vector<std::string>>();
  BOOST_CHECK(std::count(env.begin(), env.end(), "DATABASE_URL=" + fresh.database_url) == 1);
  BOOST_CHECK_EQUAL(count(38), 1);
  // A restart keeps the container and its environment, whatever spec it is given.
  id = c["Id"].get<std::string>();
  BOOST_REQUIRE(!second.restart(s));
  BOOST_CHECK_EQUAL(inspect(38)["Id"].get<std::string>(), id);
  BOOST_CHECK(test::eventually([&] { return healthy(s.port); }, 20s));
}

BOOST_FIXTURE_TEST_CASE(usage_shows_the_memory_and_cpu_a_slice_uses_on_this_hosts_cgroups,
                        fixture) {
  cfg.docker_image = hungry_image;
  docker_driver driver{cfg};
  BOOST_TEST_MESSAGE("cgroup layout: " << to_string(driver.layout()));
  BOOST_CHECK(driver.layout() != cgroup_layout::none);
  check_hungry_slice(driver, 36);
}

BOOST_FIXTURE_TEST_CASE(without_a_readable_cgroup_usage_comes_from_the_engines_stats, fixture) {
  cfg.docker_image = hungry_image;
  cfg.cgroup_root = dir / "no-cgroups-here";
  docker_driver driver{cfg};
  BOOST_CHECK(driver.layout() == cgroup_layout::none);
  check_hungry_slice(driver, 37);
}

// -- the daemon on the docker runtime ---------------------------------------------------------

namespace {

/// Two pooled slices as containers of the hungry image, probed every second.
struct daemon_fixture {
  test::servers& servers = test::shared_servers();
  test::docker_engine& engine = test::shared_docker_engine();
  int port_base = test::free_port();

  daemon_fixture() {
    static images once;
    servers.reset_database();
  }

  ~daemon_fixture() {
    for (int id = 1; id <= 4; ++id)
      engine.docker_status("rm -f " + docker_driver::container_name(id));
  }

  std::vector<std::string> args() const {
    auto result = test::daemon_args(servers);
    for (auto& arg : result)
      if (arg == "--runtime=external")
        arg = "--runtime=docker";
    result.insert(result.end(),
                  {"--docker-socket=" + engine.socket(),
                   std::string{"--docker-image="} + hungry_image, "--docker-network=host",
                   "--min-available=2", "--max-slices=2",
                   "--slice-port-base=" + std::to_string(port_base), "--slice-port-step=1",
                   "--health-interval=1s", "--stop-grace=2s"});
    return result;
  }

  int64_t scalar(const std::string& query) {
    return test::scalar(servers.database_url(), query);
  }

  /// Container name → id, of the slice containers that run.
  std::map<std::string, std::string> running() {
    std::map<std::string, std::string> result;
    std::istringstream lines{
      engine.docker("ps --no-trunc --format '{{.Names}} {{.ID}}' --filter name=slice-")};
    std::string name;
    std::string id;
    while (lines >> name >> id)
      result[name] = id;
    return result;
  }
};

} // namespace

BOOST_FIXTURE_TEST_CASE(
  the_daemon_records_memory_and_cpu_and_adopts_its_containers_after_a_kill, daemon_fixture) {
  std::map<std::string, std::string> before;
  {
    test::daemon d{args()};
    BOOST_REQUIRE_MESSAGE(test::eventually(
                            [&] {
                              before = running();
                              return before.size() == 2;
                            },
                            60s),
                          d.log());
    // Rows with both figures, for both slices: on cgroup v1 they were NULL.
    BOOST_REQUIRE_MESSAGE(
      test::eventually(
        [&] {
          try {
            return scalar("SELECT count(DISTINCT slice_id) FROM gateway.telemetry"
                          " WHERE rss_bytes >= 64 * 1024 * 1024 AND cpu_percent > 0")
                   == 2;
          } catch (const std::exception&) {
            return false;
          }
        },
        60s),
      d.log());
    d.kill();
  }
  // The slices kept running without their daemon; the next one adopts them as they are.
  BOOST_CHECK(running() == before);
  test::daemon again{args()};
  auto rows = scalar("SELECT count(*) FROM gateway.telemetry");
  BOOST_REQUIRE_MESSAGE(
    test::eventually(
      [&] { return scalar("SELECT count(*) FROM gateway.telemetry") > rows + 2; }, 60s),
    again.log());
  BOOST_CHECK(running() == before);
  BOOST_CHECK_EQUAL(scalar("SELECT count(*) FROM gateway.slices"), 2);
  BOOST_CHECK_EQUAL(again.stop(), 0);
  // A clean stop leaves them running too.
  BOOST_CHECK(running() == before);
}

BOOST_AUTO_TEST_SUITE_END()
