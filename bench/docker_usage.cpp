// What reading a slice's memory and CPU costs the docker runtime. BENCH_SLICES (50) slice
// containers of the demo slice run on a throwaway Docker Engine (scripts/servers.sh
// start-docker); then, alternating for BENCH_ROUNDS (3) rounds, every slice's usage is read
//   cgroup   through the driver as the daemon does: two or three small files of the
//            container's cgroup (v1 or v2, whichever this host runs), found once per container;
//   engine   through a driver that finds no cgroup and so asks the Engine's one-shot stats
//            API, one request per container: what `docker stats` costs.
// Prints the time per reading of each and `ratio: <engine time / cgroup time>`: how many
// times cheaper the cgroup path is. Needs root (dockerd); exits 2 where no engine can start.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "runtime/docker_driver.hpp"
#include "tests/support/docker_engine.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/temp_dir.hpp"

using namespace slicegate;
using namespace std::chrono_literals;

namespace {

int env_int(const char* name, int fallback) {
  auto value = std::getenv(name);
  return value ? std::atoi(value) : fallback;
}

/// Reads every slice's usage once; returns the seconds it took and checks the figures.
double read_all(docker_driver& driver, int slices) {
  auto start = std::chrono::steady_clock::now();
  for (int id = 1; id <= slices; ++id) {
    auto x = driver.usage(id);
    if (!x || !x->rss_bytes)
      throw std::runtime_error("no usage of slice " + std::to_string(id));
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

int run() {
  auto slices = std::max(1, env_int("BENCH_SLICES", 50));
  auto rounds = std::max(1, env_int("BENCH_ROUNDS", 3));
  auto& engine = test::shared_docker_engine();
  if (!engine.available()) {
    std::fprintf(stderr, "%s\n", engine.why_unavailable().c_str());
    return 2;
  }
  engine.import_demo_slice("slicegate/demo-slice:bench");
  test::temp_dir dir;
  runtime_config cfg;
  cfg.kind = "docker";
  cfg.docker_socket = engine.socket();
  cfg.docker_image = "slicegate/demo-slice:bench";
  cfg.docker_network = "host";
  cfg.stop_grace = 1s;
  docker_driver cgroups{cfg};
  auto blind_cfg = cfg;
  blind_cfg.cgroup_root = dir / "no-cgroups";
  docker_driver engine_stats{blind_cfg};
  auto started = std::chrono::steady_clock::now();
  for (int id = 1; id <= slices; ++id) {
    slice_spec spec{id, test::free_port(), dir / ("slices/" + std::to_string(id)),
                    "postgresql://x"};
    if (auto err = cgroups.start(spec))
      throw std::runtime_error("cannot start slice " + std::to_string(id));
  }
  std::printf("docker_usage: %d slice containers started in %.1f s, %s\n", slices,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
              to_string(cgroups.layout()).c_str());
  // Warm-up: each driver inspects every container once to learn its id.
  read_all(cgroups, slices);
  read_all(engine_stats, slices);
  double cgroup_total = 0;
  double engine_total = 0;
  for (int round = 0; round < rounds; ++round) {
    auto c = read_all(cgroups, slices);
    auto e = read_all(engine_stats, slices);
    cgroup_total += c;
    engine_total += e;
    std::printf("round %d: cgroup %8.3f ms per slice   engine %8.3f ms per slice\n", round + 1,
                c * 1000 / slices, e * 1000 / slices);
  }
  auto per = [&](double total) {
    return total * 1000 / (slices * rounds);
  };
  std::printf("cgroup  %8.3f ms per slice (%d slices x %d rounds)\n", per(cgroup_total), slices,
              rounds);
  std::printf("engine  %8.3f ms per slice\n", per(engine_total));
  for (int id = 1; id <= slices; ++id)
    engine.docker_status("rm -f " + docker_driver::container_name(id));
  std::printf("ratio: %.1f\n", engine_total / cgroup_total);
  return 0;
}

} // namespace

int main() {
  try {
    return run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "docker_usage: %s\n", e.what());
    return 1;
  }
}
