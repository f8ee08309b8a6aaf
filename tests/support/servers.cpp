#include "tests/support/servers.hpp"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <signal.h>
#include <sstream>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

namespace slicegate::test {

namespace {

std::string script_path() {
  return std::string{SLICEGATE_SOURCE_DIR} + "/scripts/servers.sh";
}

std::map<std::string, std::string> read_env(const std::string& path) {
  std::map<std::string, std::string> result;
  std::ifstream in{path};
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("export ", 0) == 0)
      line.erase(0, 7);
    auto eq = line.find('=');
    if (eq == std::string::npos)
      continue;
    auto value = line.substr(eq + 1);
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\''))
      value = value.substr(1, value.size() - 2);
    result[line.substr(0, eq)] = value;
  }
  return result;
}

} // namespace

int run(const std::string& command) {
  auto rc = std::system(command.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

std::string capture(const std::string& command) {
  std::string result;
  auto pipe = popen(command.c_str(), "r");
  if (!pipe)
    throw std::runtime_error("popen failed: " + command);
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0)
    result.append(buf.data(), n);
  pclose(pipe);
  return result;
}

servers::servers() {
  char tmpl[] = "/tmp/slicegate-test-XXXXXX";
  if (!mkdtemp(tmpl))
    throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  script("start");
  env_ = read_env(dir_ + "/env");
  if (env_["DATABASE_URL"].empty() || env_["NATS_URL"].empty())
    throw std::runtime_error("scripts/servers.sh wrote no usable " + dir_ + "/env");
}

servers::~servers() {
  std::string cmd = "bash " + script_path() + " stop " + dir_ + " >/dev/null 2>&1";
  std::system(cmd.c_str());
}

void servers::script(const std::string& verb) {
  // Ports exported by an outer scripts/servers.sh (scripts/bench.sh) must not pin ours.
  auto cmd = "env -u PG_PORT -u NATS_PORT -u NATS_MONITOR_PORT -u NATS_WS_PORT bash "
             + script_path() + " " + verb + " " + dir_ + " >" + dir_ + "/script-" + verb
             + ".log 2>&1";
  if (run(cmd) != 0)
    throw std::runtime_error("scripts/servers.sh " + verb + " failed; see " + dir_ + "/script-"
                             + verb + ".log");
}

const std::string& servers::database_url() const {
  return env_.at("DATABASE_URL");
}

const std::string& servers::admin_database_url() const {
  return env_.at("ADMIN_DATABASE_URL");
}

const std::string& servers::slice_database_url() const {
  return env_.at("SLICE_DATABASE_URL");
}

const std::string& servers::superuser_url() const {
  return env_.at("SUPERUSER_DATABASE_URL");
}

const std::string& servers::nats_url() const {
  return env_.at("NATS_URL");
}

int servers::nats_monitor_port() const {
  return std::stoi(env_.at("NATS_MONITOR_PORT"));
}

const std::string& servers::dir() const {
  return dir_;
}

void servers::stop_pg() {
  script("stop-pg");
}

void servers::start_pg() {
  script("start-pg");
}

void servers::restart_pg() {
  script("restart-pg");
}

void servers::kill_nats() {
  script("kill-nats");
}

void servers::start_nats() {
  script("start-nats");
}

void servers::reset_database() {
  auto psql = "psql -q -v ON_ERROR_STOP=1 '" + superuser_url() + "' -c ";
  // sql/setup.sql makes it again, with the functions slice roles are made through.
  if (run(psql + "'DROP DATABASE IF EXISTS wank_saas WITH (FORCE)' >/dev/null") != 0
      || run("bash " + std::string{SLICEGATE_SOURCE_DIR} + "/sql/setup.sh '" + superuser_url()
             + "' >/dev/null")
           != 0)
    throw std::runtime_error("cannot reset the gateway database");
}

servers& shared_servers() {
  static servers instance;
  return instance;
}

std::string slicegate_binary() {
  if (auto path = std::getenv("SLICEGATE_BINARY"))
    return path;
  return std::string{SLICEGATE_BINARY_DIR} + "/slicegate";
}

long rss_kib(int pid) {
  std::ifstream status{"/proc/" + std::to_string(pid) + "/status"};
  std::string key;
  while (status >> key) {
    if (key == "VmRSS:") {
      long kib = 0;
      status >> kib;
      return kib;
    }
    status.ignore(4096, '\n');
  }
  return 0;
}

std::string slicectl_binary() {
  if (auto path = std::getenv("SLICECTL_BINARY"))
    return path;
  return std::string{SLICEGATE_BINARY_DIR} + "/slicectl";
}

std::vector<std::string> daemon_args(const servers& s) {
  return {"serve",
          "--database-url=" + s.database_url(),
          "--admin-database-url=" + s.admin_database_url(),
          "--slice-database-url=" + s.slice_database_url(),
          "--nats-url=" + s.nats_url(),
          "--bcrypt-cost=4",
          "--runtime=external",
          "--data-root=" + s.dir() + "/slices",
          "--log-level=debug"};
}

daemon::daemon(std::vector<std::string> args, std::map<std::string, std::string> env) {
  static int counter = 0;
  log_path_ = "/tmp/slicegate-daemon-" + std::to_string(getpid()) + "-"
              + std::to_string(++counter) + ".log";
  auto binary = slicegate_binary();
  pid_ = fork();
  if (pid_ < 0)
    throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    auto fd = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    for (auto& [key, value] : env)
      setenv(key.c_str(), value.c_str(), 1);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(binary.c_str()));
    for (auto& arg : args)
      argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
}

daemon::~daemon() {
  if (pid_ > 0 && running())
    stop(SIGTERM, std::chrono::seconds{10});
}

int daemon::stop(int signal, std::chrono::seconds timeout) {
  if (pid_ <= 0)
    return exit_code_;
  ::kill(pid_, signal);
  int status = 0;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto rc = waitpid(pid_, &status, WNOHANG);
    if (rc == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  kill();
  return -1000;
}

void daemon::kill() {
  if (pid_ <= 0)
    return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

bool daemon::running() {
  if (pid_ <= 0)
    return false;
  int status = 0;
  auto rc = waitpid(pid_, &status, WNOHANG);
  if (rc == pid_) {
    pid_ = -1;
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    return false;
  }
  return true;
}

std::string daemon::log() const {
  std::ifstream in{log_path_};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

} // namespace slicegate::test
