#pragma once

// A real, throwaway Docker Engine for the tests of the docker runtime: started by
// `scripts/servers.sh start-docker` in a directory of its own, with the demo slice imported as
// images (`scripts/demo-image.sh`), and stopped with every container when the tests end.

#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

namespace slicegate::test {

class docker_engine {
 public:
  /// Starts the engine. Where dockerd is missing or cannot start, the engine is unavailable
  /// and `why_unavailable` says why; anything else that fails throws.
  docker_engine();
  ~docker_engine();

  docker_engine(const docker_engine&) = delete;
  docker_engine& operator=(const docker_engine&) = delete;

  bool available() const {
    return why_unavailable_.empty();
  }

  const std::string& why_unavailable() const {
    return why_unavailable_;
  }

  /// The Engine API's unix socket.
  const std::string& socket() const {
    return socket_;
  }

  /// Imports the demo slice as image `tag`, its entrypoint given `args` after the binary.
  void import_demo_slice(const std::string& tag, const std::vector<std::string>& args = {});

  /// Runs the docker CLI against this engine with `args` (shell words) and returns its
  /// standard output without the trailing newline; throws if it fails.
  std::string docker(const std::string& args) const;

  /// Like `docker`, but returns the exit code and ignores the output.
  int docker_status(const std::string& args) const;

 private:
  std::string dir_;
  std::string socket_;
  std::string why_unavailable_;
};

/// One engine per test executable, started on first use.
docker_engine& shared_docker_engine();

/// Whether the shared engine runs; a Boost.Test precondition that skips a test with the
/// reason where it does not.
struct docker_available {
  boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const;
};

} // namespace slicegate::test
