#include "tests/support/docker_engine.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include "tests/support/servers.hpp"

namespace slicegate::test {

namespace {

std::string script(const std::string& name) {
  return std::string{SLICEGATE_SOURCE_DIR} + "/scripts/" + name;
}

std::string read_file(const std::string& path) {
  std::ifstream in{path};
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

/// The value of `KEY=value` (optionally `export`ed and quoted) in a shell env file.
std::string env_value(const std::string& path, const std::string& key) {
  std::ifstream in{path};
  std::string line;
  std::string result;
  while (std::getline(in, line)) {
    if (line.rfind("export ", 0) == 0)
      line.erase(0, 7);
    if (line.rfind(key + "=", 0) != 0)
      continue;
    result = line.substr(key.size() + 1);
    if (result.size() >= 2 && (result.front() == '"' || result.front() == '\''))
      result = result.substr(1, result.size() - 2);
  }
  return result;
}

} // namespace

docker_engine::docker_engine() {
  char tmpl[] = "/tmp/slicegate-docker-XXXXXX";
  if (!mkdtemp(tmpl))
    throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  auto log = dir_ + "/start-docker.log";
  auto rc
    = run("bash " + script("servers.sh") + " start-docker " + dir_ + " >" + log + " 2>&1");
  if (rc == 3) {
    why_unavailable_ = "no Docker Engine can start here: " + read_file(log);
    return;
  }
  if (rc != 0)
    throw std::runtime_error("scripts/servers.sh start-docker failed; see " + log);
  for (auto file : {"/docker.env", "/env"}) {
    socket_ = env_value(dir_ + file, "DOCKER_SOCKET");
    if (!socket_.empty())
      break;
  }
  if (socket_.empty())
    throw std::runtime_error("scripts/servers.sh start-docker wrote no DOCKER_SOCKET in "
                             + dir_);
}

docker_engine::~docker_engine() {
  run("bash " + script("servers.sh") + " stop-docker " + dir_ + " >/dev/null 2>&1");
  run("rm -rf " + dir_);
}

void docker_engine::import_demo_slice(const std::string& tag,
                                      const std::vector<std::string>& args) {
  std::string words;
  for (auto& arg : args)
    words += " '" + arg + "'";
  auto log = dir_ + "/demo-image.log";
  auto cmd = "DOCKER_HOST=unix://" + socket_ + " bash " + script("demo-image.sh") + " "
             + std::string{SLICEGATE_BINARY_DIR} + " '" + tag + "'" + words + " >" + log
             + " 2>&1";
  if (run(cmd) != 0)
    throw std::runtime_error("scripts/demo-image.sh failed: " + read_file(log));
}

std::string docker_engine::docker(const std::string& args) const {
  auto err = dir_ + "/docker-cli.err";
  auto out
    = capture("docker -H unix://" + socket_ + " " + args + " 2>" + err + "; echo \"rc=$?\"");
  auto mark = out.rfind("rc=");
  auto rc = mark == std::string::npos ? -1 : std::atoi(out.c_str() + mark + 3);
  out.erase(mark == std::string::npos ? out.size() : mark);
  if (rc != 0)
    throw std::runtime_error("docker " + args + " failed: " + read_file(err));
  while (!out.empty() && out.back() == '\n')
    out.pop_back();
  return out;
}

int docker_engine::docker_status(const std::string& args) const {
  return run("docker -H unix://" + socket_ + " " + args + " >/dev/null 2>&1");
}

docker_engine& shared_docker_engine() {
  static docker_engine instance;
  return instance;
}

boost::test_tools::assertion_result
docker_available::operator()(boost::unit_test::test_unit_id) const {
  auto& engine = shared_docker_engine();
  boost::test_tools::assertion_result result{engine.available()};
  if (!engine.available())
    result.message() << engine.why_unavailable();
  return result;
}

} // namespace slicegate::test
