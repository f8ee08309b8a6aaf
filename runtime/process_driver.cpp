#include "runtime/process_driver.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <system_error>
#include <thread>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "messages/error.hpp"

extern char** environ;

namespace slicegate {

namespace {

using namespace std::chrono_literals;

/// How often a stop looks whether a process group is gone.
constexpr auto stop_poll_interval = 20ms;

/// How long a SIGKILLed group may take to disappear (a process in uninterruptible sleep
/// dies only when its I/O returns).
constexpr auto kill_timeout = 5s;

/// Variables a slice never inherits from the daemon: its own ones are set per slice, and
/// slices are tenant code that must not see the gateway's database or NATS credentials.
bool withheld(const std::string& entry) {
  auto key = entry.substr(0, entry.find('='));
  return key == "PORT" || key == "DATABASE_URL" || key == "DATA_DIR" || key == "SLICE_ID"
         || key == "NATS_URL" || key.rfind("SLICEGATE_", 0) == 0;
}

std::vector<std::string> child_environment(const slice_spec& spec) {
  std::vector<std::string> result;
  for (auto entry = environ; entry != nullptr && *entry != nullptr; ++entry)
    if (!withheld(*entry))
      result.emplace_back(*entry);
  result.emplace_back("PORT=" + std::to_string(spec.port));
  result.emplace_back("DATABASE_URL=" + spec.database_url);
  result.emplace_back("DATA_DIR=" + spec.data_dir);
  result.emplace_back("SLICE_ID=" + std::to_string(spec.slice_id));
  return result;
}

std::string describe(const siginfo_t& info) {
  switch (info.si_code) {
    case CLD_EXITED: return "exited with status " + std::to_string(info.si_status);
    case CLD_KILLED:
    case CLD_DUMPED:
      return "killed by signal " + std::to_string(info.si_status) + " ("
             + strsignal(info.si_status) + ")";
    default: return "ended";
  }
}

/// What /proc/<pid>/stat says about one process.
struct proc_stat {
  pid_t pid = 0;
  char state = '?';
  pid_t pgrp = 0;
  /// utime + stime + cutime + cstime, in clock ticks. The children's part keeps the total
  /// from dropping when a member of the group is waited for by another member.
  uint64_t cpu_ticks = 0;
  /// When the process started, in clock ticks after boot: with the pid, it names one process
  /// for good (a pid alone may be reused).
  uint64_t start_ticks = 0;
};

optional<proc_stat> read_stat(pid_t pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/stat"};
  std::string line;
  if (!std::getline(in, line))
    return caf::none;
  // The command name sits in parentheses and may itself contain spaces and parentheses.
  auto close = line.rfind(')');
  if (close == std::string::npos)
    return caf::none;
  std::istringstream fields{line.substr(close + 1)};
  proc_stat result;
  result.pid = pid;
  pid_t ppid = 0;
  pid_t session = 0;
  int64_t skip = 0;
  uint64_t utime = 0;
  uint64_t stime = 0;
  int64_t cutime = 0;
  int64_t cstime = 0;
  // state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime
  // cutime cstime
  fields >> result.state >> ppid >> result.pgrp >> session;
  for (int i = 0; i < 7; ++i)
    fields >> skip;
  fields >> utime >> stime >> cutime >> cstime;
  // priority nice num_threads itrealvalue starttime
  for (int i = 0; i < 4; ++i)
    fields >> skip;
  fields >> result.start_ticks;
  if (!fields)
    return caf::none;
  result.cpu_ticks = utime + stime + static_cast<uint64_t>(std::max<int64_t>(cutime, 0))
                     + static_cast<uint64_t>(std::max<int64_t>(cstime, 0));
  return result;
}

/// The live (not zombie) members of the given process groups, from one walk over /proc.
std::vector<proc_stat> members_of(const std::set<pid_t>& groups) {
  std::vector<proc_stat> result;
  auto dir = opendir("/proc");
  if (dir == nullptr)
    return result;
  while (auto entry = readdir(dir)) {
    char* end = nullptr;
    auto pid = std::strtol(entry->d_name, &end, 10);
    if (pid <= 0 || *end != '\0')
      continue;
    auto stat = read_stat(static_cast<pid_t>(pid));
    if (stat && groups.count(stat->pgrp) > 0 && stat->state != 'Z' && stat->state != 'X')
      result.push_back(*stat);
  }
  closedir(dir);
  return result;
}

std::set<pid_t> live_groups(const std::set<pid_t>& groups) {
  std::set<pid_t> result;
  for (auto& member : members_of(groups))
    result.insert(member.pgrp);
  return result;
}

/// VmRSS of one process in bytes; none for a process that has no memory (any more).
optional<int64_t> resident_bytes(pid_t pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/status"};
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) != 0)
      continue;
    std::istringstream fields{line.substr(6)};
    int64_t kib = 0;
    if (fields >> kib)
      return kib * 1024;
  }
  return caf::none;
}

/// Waits until none of `groups` has a live member or `deadline` passes; returns the groups
/// still alive.
std::set<pid_t> await_groups(std::set<pid_t> groups,
                             std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    groups = live_groups(groups);
    if (groups.empty() || std::chrono::steady_clock::now() >= deadline)
      return groups;
    std::this_thread::sleep_for(stop_poll_interval);
  }
}

/// A slice process recorded in its pid file: its group leader and when that started.
struct recorded_process {
  pid_t pid = 0;
  uint64_t start_ticks = 0;
};

optional<recorded_process> read_pid_file(const std::string& path) {
  std::ifstream in{path};
  recorded_process result;
  if (!(in >> result.pid >> result.start_ticks) || result.pid <= 1)
    return caf::none;
  return result;
}

std::string errno_text(int code) {
  // Unlike strerror, thread-safe.
  return std::generic_category().message(code);
}

/// The owner of posix_spawn's attribute objects, so that every exit path destroys them.
struct spawn_setup {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  spawn_setup() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attributes);
  }
  ~spawn_setup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
  }
  spawn_setup(const spawn_setup&) = delete;
  spawn_setup& operator=(const spawn_setup&) = delete;
};

} // namespace

std::string shell_quote(const std::string& value) {
  auto plain = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0
           || std::strchr("_-./:@%+=,", c) != nullptr;
  };
  if (!value.empty() && std::all_of(value.begin(), value.end(), plain))
    return value;
  std::string result = "'";
  for (auto c : value) {
    if (c == '\'')
      result += "'\\''";
    else
      result += c;
  }
  result += '\'';
  return result;
}

std::string expand_command(const std::string& command, const slice_spec& spec) {
  const std::pair<std::string, std::string> placeholders[] = {
    {"{port}", std::to_string(spec.port)},
    {"{slice_id}", std::to_string(spec.slice_id)},
    {"{data_dir}", spec.data_dir},
    {"{database_url}", spec.database_url},
  };
  // One pass from left to right, so that a substituted value is never expanded again.
  std::string result;
  size_t pos = 0;
  while (pos < command.size()) {
    auto hit = false;
    if (command[pos] == '{') {
      for (auto& [key, value] : placeholders) {
        if (command.compare(pos, key.size(), key) == 0) {
          result += shell_quote(value);
          pos += key.size();
          hit = true;
          break;
        }
      }
    }
    if (!hit)
      result += command[pos++];
  }
  return result;
}

process_driver::process_driver(runtime_config cfg, monotonic_clock clock)
  : cfg_(std::move(cfg)), clock_(std::move(clock)) {
  stop_orphans();
}

process_driver::~process_driver() {
  std::vector<int32_t> ids;
  for (auto& [id, _] : children_)
    ids.push_back(id);
  terminate(ids);
  reap_lingering();
}

std::string process_driver::pid_file(int32_t slice_id) const {
  return cfg_.log_dir + "/slice-" + std::to_string(slice_id) + ".pid";
}

void process_driver::record(int32_t slice_id, pid_t pid) {
  auto stat = read_stat(pid);
  if (!stat)
    return; // Gone already: collect reports it.
  auto path = pid_file(slice_id);
  {
    std::ofstream out{path + ".tmp", std::ios::trunc};
    out << pid << ' ' << stat->start_ticks << '\n';
    if (!out.flush()) {
      spdlog::warn("process runtime cannot write {}: a killed daemon would leave slice {} "
                   "running",
                   path, slice_id);
      return;
    }
  }
  std::rename((path + ".tmp").c_str(), path.c_str());
}

void process_driver::forget(int32_t slice_id) {
  std::remove(pid_file(slice_id).c_str());
}

void process_driver::stop_orphans() {
  auto dir = opendir(cfg_.log_dir.c_str());
  if (dir == nullptr)
    return; // No slice ever ran here.
  std::map<pid_t, std::string> orphans;
  std::vector<std::string> stale;
  while (auto entry = readdir(dir)) {
    std::string name = entry->d_name;
    if (name.rfind("slice-", 0) != 0 || name.size() <= 10
        || name.compare(name.size() - 4, 4, ".pid") != 0)
      continue;
    auto path = cfg_.log_dir + "/" + name;
    stale.push_back(path);
    auto recorded = read_pid_file(path);
    if (!recorded)
      continue;
    // Only the very process that was started, still leading its own group: a pid that was
    // reused since belongs to a stranger.
    auto now = read_stat(recorded->pid);
    if (now && now->start_ticks == recorded->start_ticks && now->pgrp == recorded->pid)
      orphans.emplace(recorded->pid, name.substr(6, name.size() - 10));
  }
  closedir(dir);
  std::set<pid_t> groups;
  for (auto& [pid, slice] : orphans) {
    spdlog::warn("process runtime stops slice {} (pid {}), left running by an earlier daemon",
                 slice, pid);
    ::kill(-pid, SIGTERM);
    groups.insert(pid);
  }
  auto stubborn = await_groups(groups, std::chrono::steady_clock::now() + cfg_.stop_grace);
  for (auto pid : stubborn)
    ::kill(-pid, SIGKILL);
  if (!await_groups(stubborn, std::chrono::steady_clock::now() + kill_timeout).empty())
    spdlog::error("process runtime cannot stop the slices an earlier daemon left running");
  for (auto& path : stale)
    std::remove(path.c_str());
}

std::string process_driver::name() const {
  return "process";
}

caf::error process_driver::start(const slice_spec& spec) {
  if (auto err = validate(spec))
    return err;
  if (children_.count(spec.slice_id) > 0 && !collect(spec.slice_id))
    return {}; // Already running.
  // The caller starts it again, so an exit not yet reported is moot.
  forget_exits(spec.slice_id);
  return spawn(spec);
}

caf::error process_driver::restart(const slice_spec& spec) {
  if (auto err = validate(spec))
    return err;
  auto i = launched_.find(spec.slice_id);
  auto again = i != launched_.end() ? i->second : spec;
  if (auto err = stop(spec.slice_id))
    return err;
  return start(again);
}

caf::error process_driver::spawn(const slice_spec& spec) {
  if (auto err = ensure_directory(spec.data_dir))
    return err;
  if (auto err = ensure_directory(cfg_.log_dir))
    return err;
  auto log_path = cfg_.log_dir + "/slice-" + std::to_string(spec.slice_id) + ".log";
  auto log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (log_fd < 0)
    return make_error(ec::internal, "cannot open " + log_path + ": " + errno_text(errno));
  // Everything the child needs is built here, before the spawn: posix_spawn runs no code of
  // ours between fork and exec, which in a multithreaded process could deadlock on a lock
  // another thread held at the fork.
  auto command = expand_command(cfg_.slice_command, spec);
  auto environment = child_environment(spec);
  std::vector<char*> envp;
  for (auto& entry : environment)
    envp.push_back(entry.data());
  envp.push_back(nullptr);
  std::string sh = "/bin/sh";
  std::string dash_c = "-c";
  char* argv[] = {sh.data(), dash_c.data(), command.data(), nullptr};
  spawn_setup setup;
  posix_spawn_file_actions_addopen(&setup.actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&setup.actions, log_fd, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&setup.actions, log_fd, STDERR_FILENO);
  posix_spawn_file_actions_addchdir_np(&setup.actions, spec.data_dir.c_str());
  // Descriptors some library opened without O_CLOEXEC (database or NATS sockets) must not
  // leak into tenant code.
  posix_spawn_file_actions_addclosefrom_np(&setup.actions, STDERR_FILENO + 1);
  // The daemon blocks SIGTERM in all threads and libraries may ignore SIGPIPE; both would be
  // inherited and make the slice deaf to `stop`.
  sigset_t no_signals;
  sigemptyset(&no_signals);
  sigset_t all_signals;
  sigfillset(&all_signals);
  posix_spawnattr_setsigmask(&setup.attributes, &no_signals);
  posix_spawnattr_setsigdefault(&setup.attributes, &all_signals);
  posix_spawnattr_setflags(&setup.attributes,
                           POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = -1;
  auto rc = posix_spawn(&pid, argv[0], &setup.actions, &setup.attributes, argv, envp.data());
  ::close(log_fd);
  if (rc != 0)
    return make_error(ec::internal, "cannot start slice " + std::to_string(spec.slice_id)
                                      + ": " + errno_text(rc));
  children_[spec.slice_id] = child{pid, caf::none};
  launched_[spec.slice_id] = spec;
  record(spec.slice_id, pid);
  spdlog::info("process runtime starts slice {} as pid {} (log {})", spec.slice_id, pid,
               log_path);
  return {};
}

caf::error process_driver::stop(int32_t slice_id) {
  if (children_.count(slice_id) > 0 && !collect(slice_id))
    terminate({slice_id});
  // The caller wants it stopped: an exit it had on its own just before is no news.
  forget_exits(slice_id);
  return {};
}

caf::error process_driver::remove(int32_t slice_id) {
  // Nothing but the process belongs to a slice here: the log stays for post-mortems.
  launched_.erase(slice_id);
  return stop(slice_id);
}

caf::expected<slice_usage> process_driver::usage(int32_t slice_id) {
  auto i = children_.find(slice_id);
  if (i == children_.end() || collect(slice_id))
    return slice_usage{};
  auto& c = i->second;
  auto members = members_of({c.pid});
  if (members.empty())
    return slice_usage{};
  slice_usage result;
  int64_t rss = 0;
  uint64_t ticks = 0;
  for (auto& member : members) {
    // Shared pages count once per process: an upper bound, good enough for alerts.
    if (auto bytes = resident_bytes(member.pid))
      rss += *bytes;
    ticks += member.cpu_ticks;
  }
  result.rss_bytes = rss;
  static const auto ticks_per_second = std::max(sysconf(_SC_CLK_TCK), 1L);
  cpu_reading now{std::chrono::microseconds{static_cast<int64_t>(ticks) * 1'000'000
                                            / ticks_per_second},
                  clock_()};
  if (c.last_cpu) {
    auto wall = std::chrono::duration_cast<std::chrono::microseconds>(now.at - c.last_cpu->at);
    // A member that left without being waited for takes its time along; the total then
    // drops and this reading says nothing.
    result.cpu_percent = cpu_percent(now.cpu - c.last_cpu->cpu, wall);
  }
  c.last_cpu = now;
  return result;
}

caf::expected<bool> process_driver::running(int32_t slice_id) {
  return children_.count(slice_id) > 0 && !collect(slice_id);
}

std::vector<rt::exited> process_driver::reap() {
  std::vector<int32_t> ids;
  for (auto& [id, _] : children_)
    ids.push_back(id);
  for (auto id : ids)
    collect(id);
  reap_lingering();
  std::vector<rt::exited> result;
  result.swap(exited_);
  return result;
}

bool process_driver::collect(int32_t slice_id) {
  auto i = children_.find(slice_id);
  if (i == children_.end())
    return true;
  auto pid = i->second.pid;
  siginfo_t info;
  std::memset(&info, 0, sizeof(info));
  // WNOWAIT leaves the leader a zombie for now: while it is one its pid cannot be reused, so
  // the kill below cannot hit a stranger's process group.
  auto rc = waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT);
  if (rc == 0 && info.si_pid == 0)
    return false;
  std::string reason;
  if (rc == 0) {
    reason = describe(info);
    // What the leader left behind (a server its shell script started) would hold the
    // slice's port and block a restart.
    ::kill(-pid, SIGKILL);
    ::waitpid(pid, nullptr, WNOHANG);
  } else {
    // Someone else reaped it (ECHILD): its pid may belong to a stranger by now, so nothing
    // is signalled.
    reason = "ended (" + errno_text(errno) + ")";
  }
  children_.erase(i);
  forget(slice_id);
  spdlog::warn("process runtime noticed slice {} (pid {}) {}", slice_id, pid, reason);
  exited_.push_back(rt::exited{slice_id, std::move(reason)});
  return true;
}

void process_driver::terminate(const std::vector<int32_t>& slice_ids) {
  std::map<pid_t, int32_t> slice_of;
  for (auto id : slice_ids) {
    auto i = children_.find(id);
    if (i == children_.end())
      continue;
    slice_of.emplace(i->second.pid, id);
    spdlog::info("process runtime stops slice {} (pid {})", id, i->second.pid);
    ::kill(-i->second.pid, SIGTERM);
  }
  std::set<pid_t> groups;
  for (auto& [pid, _] : slice_of)
    groups.insert(pid);
  auto stubborn = await_groups(groups, std::chrono::steady_clock::now() + cfg_.stop_grace);
  if (!stubborn.empty()) {
    for (auto pid : stubborn) {
      spdlog::warn("process runtime kills slice {} (pid {}): still running after {} ms",
                   slice_of[pid], pid,
                   std::chrono::duration_cast<std::chrono::milliseconds>(cfg_.stop_grace)
                     .count());
      ::kill(-pid, SIGKILL);
    }
    await_groups(stubborn, std::chrono::steady_clock::now() + kill_timeout);
  }
  for (auto& [pid, id] : slice_of) {
    if (::waitpid(pid, nullptr, WNOHANG) == 0)
      lingering_.push_back(pid);
    children_.erase(id);
    forget(id);
  }
}

void process_driver::forget_exits(int32_t slice_id) {
  exited_.erase(std::remove_if(exited_.begin(), exited_.end(),
                               [&](auto& x) { return x.slice_id == slice_id; }),
                exited_.end());
}

void process_driver::reap_lingering() {
  auto reaped = [](pid_t pid) { return ::waitpid(pid, nullptr, WNOHANG) != 0; };
  lingering_.erase(std::remove_if(lingering_.begin(), lingering_.end(), reaped),
                   lingering_.end());
}

} // namespace slicegate
