#pragma once

// A small Docker Engine API on a unix socket, for testing the docker runtime on machines
// without a Docker engine. It speaks enough HTTP/1.1 for libcurl (keep-alive,
// Content-Length bodies) and keeps containers as records: create, start, stop, inspect,
// list and delete answer with the Engine's status codes and JSON shapes. Nothing runs.

#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace slicegate::test {

class fake_docker {
public:
  /// One request as the fake received it.
  struct request {
    std::string method;
    /// Path and query without the `/v1.xx` prefix, e.g. `/containers/slice-7/stop?t=10`.
    std::string target;
    std::string body;
  };

  /// Listens on `socket_path` (replacing a stale socket file) until destroyed.
  explicit fake_docker(std::string socket_path);
  ~fake_docker();

  fake_docker(const fake_docker&) = delete;
  fake_docker& operator=(const fake_docker&) = delete;

  const std::string& socket_path() const {
    return socket_path_;
  }

  /// Every request so far, oldest first.
  std::vector<request> requests() const;

  /// The latest request with `method` whose target starts with `prefix`.
  std::optional<request> last(const std::string& method, const std::string& prefix) const;

  /// The full id of container `name`; empty if there is none.
  std::string container_id(const std::string& name) const;

  /// The state of container `name` (`created`, `running`, `exited`); empty if there is none.
  std::string state(const std::string& name) const;

  /// The create body of container `name`, as the Engine would keep it.
  nlohmann::json config(const std::string& name) const;

  /// Makes container `name` exit as if its process had ended with `exit_code`.
  void exit(const std::string& name, int exit_code = 137);

  /// Deletes container `name` behind the driver's back.
  void erase(const std::string& name);

  /// Answers the next request with `status` and `{"message": message}`, whatever it asks.
  void fail_next(int status, std::string message);

private:
  struct container {
    std::string id;
    std::string name;
    std::string state = "created";
    int exit_code = 0;
    nlohmann::json config;
  };

  struct reply {
    int status = 200;
    std::string body;
  };

  void accept_loop();
  void serve(int fd);
  reply handle(const request& req);
  container* find(const std::string& name_or_id);

  std::string socket_path_;
  int listen_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;

  mutable std::mutex mtx_;
  std::vector<std::thread> connections_;
  std::vector<int> connection_fds_;
  std::vector<request> requests_;
  std::map<std::string, container> containers_;
  std::optional<reply> fail_next_;
};

} // namespace slicegate::test
