#define BOOST_TEST_MODULE cgroup
#include "runtime/cgroup.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include <boost/test/unit_test.hpp>

#include "tests/support/temp_dir.hpp"

using namespace slicegate;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const std::string id(64, 'a');

void write(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream out{file, std::ios::trunc};
  out << text;
}

/// A cgroup v1 host as Docker's cgroupfs driver (`docker/<id>`) or the systemd driver
/// (`system.slice/docker-<id>.scope`) lays it out; `cpuacct` names the CPU controller's
/// directory (`cpuacct` or `cpu,cpuacct`).
void v1_host(const fs::path& root, const std::string& rel, const std::string& cpuacct) {
  write(root / "memory" / "memory.usage_in_bytes", "999999999\n");
  write(root / cpuacct / "cpuacct.usage", "1\n");
  write(root / "memory" / rel / "memory.usage_in_bytes", "80000000\n");
  // The cgroup's own counters, then the hierarchy's totals: only total_ counts.
  write(root / "memory" / rel / "memory.stat",
        "cache 9\nrss 70000000\ninactive_file 1\ntotal_cache 15000000\ntotal_rss 70000000\n"
        "total_inactive_file 12000000\ntotal_active_file 3000000\n");
  write(root / cpuacct / rel / "cpuacct.usage", "2500000000\n"); // 2.5 s in nanoseconds
}

void v2_host(const fs::path& root, const std::string& rel) {
  write(root / "cgroup.controllers", "cpuset cpu io memory pids\n");
  write(root / rel / "memory.current", "100000000\n");
  write(root / rel / "memory.stat", "anon 90000000\nfile 10000000\ninactive_file 4000000\n");
  write(root / rel / "cpu.stat", "usage_usec 7000000\nuser_usec 6000000\nsystem_usec 1\n");
}

/// Checks what `reader` finds of the container: the layout it detected, memory and CPU time.
void check_counters(const cgroup_reader& reader, cgroup_layout layout, int64_t memory,
                    int64_t cpu_usec) {
  BOOST_CHECK(reader.layout() == layout);
  auto x = reader.read(id);
  BOOST_REQUIRE(x);
  BOOST_CHECK(x->memory_bytes == optional<int64_t>{memory});
  BOOST_REQUIRE(x->cpu);
  BOOST_CHECK_EQUAL(x->cpu->count(), cpu_usec);
}

} // namespace

BOOST_AUTO_TEST_CASE(v1_with_the_cgroupfs_driver_reads_usage_minus_inactive_file_and_cpuacct) {
  test::temp_dir root;
  v1_host(root.path(), "docker/" + id, "cpuacct");
  check_counters(cgroup_reader{root.path()}, cgroup_layout::v1, 68'000'000, 2'500'000);
}

BOOST_AUTO_TEST_CASE(v1_with_the_systemd_driver_and_a_joint_cpu_cpuacct_mount) {
  test::temp_dir root;
  v1_host(root.path(), "system.slice/docker-" + id + ".scope", "cpu,cpuacct");
  check_counters(cgroup_reader{root.path()}, cgroup_layout::v1, 68'000'000, 2'500'000);
}

BOOST_AUTO_TEST_CASE(v2_reads_memory_current_minus_inactive_file_and_usage_usec) {
  test::temp_dir root;
  v2_host(root.path(), "system.slice/docker-" + id + ".scope");
  check_counters(cgroup_reader{root.path()}, cgroup_layout::v2, 96'000'000, 7'000'000);
}

BOOST_AUTO_TEST_CASE(an_unknown_container_or_a_path_for_an_id_finds_nothing) {
  test::temp_dir root;
  v1_host(root.path(), "docker/" + id, "cpuacct");
  cgroup_reader reader{root.path()};
  BOOST_CHECK(!reader.read(std::string(64, 'b')));
  BOOST_CHECK(!reader.read("../../../etc"));
  BOOST_CHECK(!reader.read(""));
}

BOOST_AUTO_TEST_CASE(no_hierarchy_at_all_is_none) {
  test::temp_dir dir;
  cgroup_reader reader{dir / "nothing"};
  BOOST_CHECK(reader.layout() == cgroup_layout::none);
  BOOST_CHECK(!reader.read(id));
}

BOOST_AUTO_TEST_CASE(this_hosts_own_layout_is_detected) {
  // The machine running the tests has one of the two; which one is printed for the log.
  cgroup_reader reader{"/sys/fs/cgroup"};
  BOOST_TEST_MESSAGE("this host: " << to_string(reader.layout()));
  BOOST_CHECK(reader.layout() != cgroup_layout::none);
}
