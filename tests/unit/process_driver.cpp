#define BOOST_TEST_MODULE process_driver
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

#include "messages/error.hpp"
#include "runtime/driver.hpp"
#include "runtime/process_driver.hpp"
#include "tests/support/servers.hpp"
#include "tests/support/temp_dir.hpp"

using namespace slicegate;
using namespace std::chrono_literals;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in{path};
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

/// Waits for `path` to hold a complete line and returns it without the newline.
std::string await_line(const std::string& path) {
  std::string line;
  BOOST_REQUIRE_MESSAGE(test::eventually([&] {
                          auto text = slurp(path);
                          if (text.empty() || text.back() != '\n')
                            return false;
                          line = text.substr(0, text.size() - 1);
                          return true;
                        }),
                        "nothing written to " << path);
  return line;
}

/// Waits until `pid` runs `program`. A shell's freshly forked child runs shell code until
/// its exec; a signal that lands in that window is lost with the shell's trap table.
void await_exec(pid_t pid, const std::string& program) {
  BOOST_REQUIRE(test::eventually(
    [&] { return slurp("/proc/" + std::to_string(pid) + "/comm") == program + "\n"; }));
}

/// A duration in whole milliseconds, printable in failures.
int64_t ms(std::chrono::steady_clock::duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

/// Whether a process exists and is not a zombie.
bool alive(pid_t pid) {
  auto stat = slurp("/proc/" + std::to_string(pid) + "/stat");
  auto close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] != 'Z';
}

struct fixture {
  test::temp_dir dir;
  runtime_config cfg;

  fixture() {
    cfg.kind = "process";
    cfg.log_dir = dir / "logs";
    cfg.stop_grace = 5s;
  }

  slice_spec spec(int32_t id) const {
    return slice_spec{id, 5000 + id, dir / ("slices/" + std::to_string(id)),
                      "postgresql://wa_slice@127.0.0.1:5432/wa_slice_" + std::to_string(id)};
  }

  /// Runs `command` for slice `id` and returns the pid it wrote to `$DATA_DIR/pid`.
  pid_t start(process_driver& driver, int32_t id) {
    auto s = spec(id);
    BOOST_REQUIRE(!driver.start(s));
    return std::stoi(await_line(s.data_dir + "/pid"));
  }
};

} // namespace

BOOST_AUTO_TEST_CASE(values_are_shell_quoted_only_when_needed) {
  BOOST_CHECK_EQUAL(shell_quote("5001"), "5001");
  BOOST_CHECK_EQUAL(shell_quote("/var/lib/slicegate/slices/7"), "/var/lib/slicegate/slices/7");
  BOOST_CHECK_EQUAL(shell_quote("postgresql://u@h:5432/wa_slice_7"),
                    "postgresql://u@h:5432/wa_slice_7");
  BOOST_CHECK_EQUAL(shell_quote(""), "''");
  BOOST_CHECK_EQUAL(shell_quote("a b"), "'a b'");
  BOOST_CHECK_EQUAL(shell_quote("x?a=1&b=2"), "'x?a=1&b=2'");
  BOOST_CHECK_EQUAL(shell_quote("it's; rm -rf /"), "'it'\\''s; rm -rf /'");
}

BOOST_AUTO_TEST_CASE(placeholders_are_replaced_once) {
  slice_spec s{7, 5013, "/data/slice 7", "postgresql://h/db?x={port}"};
  auto command = "run -p {port} --id={slice_id} {data_dir} {database_url} {unknown} ${HOME}";
  BOOST_CHECK_EQUAL(expand_command(command, s),
                    "run -p 5013 --id=7 '/data/slice 7' 'postgresql://h/db?x={port}' "
                    "{unknown} ${HOME}");
}

BOOST_FIXTURE_TEST_CASE(the_command_sees_its_values_and_environment, fixture) {
  // A data directory and a database URL that a naive substitution would break.
  auto s = spec(3);
  s.data_dir = dir / "slices/it's 3";
  s.database_url = "postgresql://wa_slice:p'w@127.0.0.1:5432/wa_slice_3?sslmode=disable&x=1";
  cfg.slice_command = R"(
printf '%s|%s|%s|%s\n' "$PORT" "$SLICE_ID" "$DATA_DIR" "$DATABASE_URL" > env.txt
printf '%s|%s|%s|%s\n' {port} {slice_id} {data_dir} {database_url} > args.txt;
pwd > cwd.txt; env > all-env.txt; echo $$ > pid; exec sleep 1000)";
  ::setenv("SLICEGATE_DATABASE_URL", "postgresql://gateway:secret@db/wank_saas", 1);
  process_driver driver{cfg};
  BOOST_REQUIRE(!driver.start(s));
  await_line(s.data_dir + "/pid");
  auto expected = "5003|3|" + s.data_dir + "|" + s.database_url;
  BOOST_CHECK_EQUAL(await_line(s.data_dir + "/env.txt"), expected);
  BOOST_CHECK_EQUAL(await_line(s.data_dir + "/args.txt"), expected);
  BOOST_CHECK_EQUAL(await_line(s.data_dir + "/cwd.txt"), s.data_dir);
  auto env = slurp(s.data_dir + "/all-env.txt");
  BOOST_CHECK(env.find("SLICEGATE_") == std::string::npos);
  BOOST_CHECK(env.find("secret") == std::string::npos);
  ::unsetenv("SLICEGATE_DATABASE_URL");
}

BOOST_FIXTURE_TEST_CASE(a_started_slice_runs_once_and_has_usage, fixture) {
  // A busy loop, so that the second reading has CPU to show.
  cfg.slice_command = "echo $$ > pid; echo started >> starts; while :; do :; done";
  process_driver driver{cfg};
  auto pid = start(driver, 1);
  BOOST_CHECK(alive(pid));
  BOOST_CHECK(*driver.running(1));
  BOOST_CHECK(!*driver.running(2));
  // Starting again leaves the running one alone.
  BOOST_REQUIRE(!driver.start(spec(1)));
  std::this_thread::sleep_for(200ms);
  BOOST_CHECK_EQUAL(slurp(spec(1).data_dir + "/starts"), "started\n");
  auto first = driver.usage(1);
  BOOST_REQUIRE(first);
  BOOST_REQUIRE(first->rss_bytes);
  BOOST_CHECK_GT(*first->rss_bytes, 0);
  BOOST_CHECK(!first->cpu_percent);
  std::this_thread::sleep_for(500ms);
  auto second = driver.usage(1);
  BOOST_REQUIRE(second);
  BOOST_REQUIRE(second->cpu_percent);
  BOOST_CHECK_GT(*second->cpu_percent, 10.0);
  BOOST_CHECK_LT(*second->cpu_percent, 250.0);
  // A slice that does not run uses nothing, and that is not an error.
  auto none = driver.usage(2);
  BOOST_REQUIRE(none);
  BOOST_CHECK(!none->rss_bytes && !none->cpu_percent);
  BOOST_CHECK(driver.reap().empty());
}

BOOST_FIXTURE_TEST_CASE(a_slice_killed_from_outside_is_reaped_with_its_group, fixture) {
  cfg.slice_command = R"(sleep 1000 & echo $! > child; echo $$ > pid; wait)";
  process_driver driver{cfg};
  auto pid = start(driver, 4);
  auto child = std::stoi(await_line(spec(4).data_dir + "/child"));
  BOOST_REQUIRE(alive(child));
  BOOST_REQUIRE_EQUAL(::kill(pid, SIGKILL), 0);
  std::vector<rt::exited> exits;
  BOOST_REQUIRE(test::eventually([&] {
    exits = driver.reap();
    return !exits.empty();
  }));
  BOOST_REQUIRE_EQUAL(exits.size(), 1u);
  BOOST_CHECK_EQUAL(exits[0].slice_id, 4);
  BOOST_CHECK_MESSAGE(exits[0].reason.find("killed by signal 9") == 0, exits[0].reason);
  // Reported once; the leftover of its group does not hold on to the slice's port.
  BOOST_CHECK(driver.reap().empty());
  BOOST_CHECK(!*driver.running(4));
  BOOST_CHECK(test::eventually([&] { return !alive(child); }));
  // It can be started again.
  ::unlink((spec(4).data_dir + "/pid").c_str());
  auto again = start(driver, 4);
  BOOST_CHECK_NE(again, pid);
  BOOST_CHECK(*driver.running(4));
}

BOOST_FIXTURE_TEST_CASE(an_exit_code_is_reported, fixture) {
  cfg.slice_command = "exit 3";
  process_driver driver{cfg};
  BOOST_REQUIRE(!driver.start(spec(5)));
  std::vector<rt::exited> exits;
  BOOST_REQUIRE(test::eventually([&] {
    exits = driver.reap();
    return !exits.empty();
  }));
  BOOST_CHECK_EQUAL(exits[0].reason, "exited with status 3");
}

BOOST_FIXTURE_TEST_CASE(stop_sends_sigterm_to_the_group, fixture) {
  // The daemon blocks SIGTERM in every thread; a slice must not inherit that.
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  sigset_t previous;
  pthread_sigmask(SIG_BLOCK, &term, &previous);
  cfg.slice_command = R"(trap 'echo term > got-term; exit 0' TERM
sleep 1000 & echo $! > child; echo $$ > pid
while :; do sleep 0.05; done)";
  process_driver driver{cfg};
  auto pid = start(driver, 6);
  auto child = std::stoi(await_line(spec(6).data_dir + "/child"));
  await_exec(child, "sleep");
  auto began = std::chrono::steady_clock::now();
  BOOST_REQUIRE(!driver.stop(6));
  auto took = std::chrono::steady_clock::now() - began;
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  BOOST_CHECK_LT(ms(took), ms(cfg.stop_grace));
  BOOST_CHECK_EQUAL(slurp(spec(6).data_dir + "/got-term"), "term\n");
  BOOST_CHECK(!alive(pid));
  BOOST_CHECK(!alive(child));
  BOOST_CHECK(!*driver.running(6));
  // A stop is not a death to report, and stopping again is fine.
  BOOST_CHECK(driver.reap().empty());
  BOOST_CHECK(!driver.stop(6));
  BOOST_CHECK(!driver.remove(6));
}

BOOST_FIXTURE_TEST_CASE(a_slice_ignoring_sigterm_is_killed_after_the_grace, fixture) {
  cfg.stop_grace = 500ms;
  cfg.slice_command = R"(trap '' TERM; echo $$ > pid; while :; do sleep 0.05; done)";
  process_driver driver{cfg};
  auto pid = start(driver, 8);
  auto began = std::chrono::steady_clock::now();
  BOOST_REQUIRE(!driver.stop(8));
  auto took = std::chrono::steady_clock::now() - began;
  BOOST_CHECK_GE(ms(took), ms(cfg.stop_grace));
  BOOST_CHECK_LT(ms(took), ms(cfg.stop_grace + 3s));
  BOOST_CHECK(!alive(pid));
  BOOST_CHECK(driver.reap().empty());
}

BOOST_FIXTURE_TEST_CASE(restart_replaces_the_process, fixture) {
  cfg.slice_command = "echo $$ > pid; exec sleep 1000";
  process_driver driver{cfg};
  auto first = start(driver, 9);
  ::unlink((spec(9).data_dir + "/pid").c_str());
  BOOST_REQUIRE(!driver.restart(spec(9)));
  auto second = std::stoi(await_line(spec(9).data_dir + "/pid"));
  BOOST_CHECK_NE(first, second);
  BOOST_CHECK(!alive(first));
  BOOST_CHECK(alive(second));
  BOOST_CHECK(driver.reap().empty());
}

BOOST_FIXTURE_TEST_CASE(output_goes_to_the_slice_log, fixture) {
  cfg.slice_command = "echo hello from {slice_id}; echo oops >&2; echo $$ > pid; sleep 1000";
  process_driver driver{cfg};
  start(driver, 10);
  BOOST_CHECK(test::eventually(
    [&] { return slurp(cfg.log_dir + "/slice-10.log") == "hello from 10\noops\n"; }));
}

BOOST_FIXTURE_TEST_CASE(the_driver_stops_its_slices_when_destroyed, fixture) {
  cfg.slice_command = "echo $$ > pid; exec sleep 1000";
  pid_t a;
  pid_t b;
  {
    process_driver driver{cfg};
    a = start(driver, 11);
    b = start(driver, 12);
  }
  BOOST_CHECK(!alive(a));
  BOOST_CHECK(!alive(b));
}

BOOST_FIXTURE_TEST_CASE(the_pid_file_names_the_running_slice_until_it_stops, fixture) {
  cfg.slice_command = "echo $$ > pid; exec sleep 1000";
  process_driver driver{cfg};
  auto pid = start(driver, 14);
  auto recorded = slurp(cfg.log_dir + "/slice-14.pid");
  BOOST_CHECK_EQUAL(recorded.substr(0, recorded.find(' ')), std::to_string(pid));
  BOOST_REQUIRE(!driver.stop(14));
  BOOST_CHECK(slurp(cfg.log_dir + "/slice-14.pid").empty());
}

BOOST_FIXTURE_TEST_CASE(slices_left_by_a_killed_daemon_are_stopped_by_the_next_driver,
                        fixture) {
  cfg.slice_command = "echo $$ > pid; exec sleep 1000";
  // A driver whose destructor never runs, as in a daemon killed with SIGKILL. It is leaked
  // on purpose: its destructor would signal a pid that is reaped below.
  auto lost = new process_driver{cfg};
  auto orphan = start(*lost, 15);
  await_exec(orphan, "sleep");
  BOOST_REQUIRE(alive(orphan));

  process_driver next{cfg};
  BOOST_CHECK(!alive(orphan));
  ::waitpid(orphan, nullptr, 0);
  // The slice starts again as a new process.
  std::remove((spec(15).data_dir + "/pid").c_str());
  auto fresh = start(next, 15);
  BOOST_CHECK_NE(fresh, orphan);
  BOOST_CHECK(alive(fresh));
}

BOOST_FIXTURE_TEST_CASE(a_pid_file_naming_another_process_is_only_removed, fixture) {
  cfg.slice_command = "echo $$ > pid; exec sleep 1000";
  process_driver driver{cfg};
  auto stranger = start(driver, 16);
  await_exec(stranger, "sleep");
  // A pid file in another log directory names that pid with another start time: the pid
  // was reused since the file was written, and the process is none of ours.
  auto other = cfg;
  other.log_dir = dir / "other-logs";
  std::filesystem::create_directories(other.log_dir);
  std::ofstream{other.log_dir + "/slice-16.pid"} << stranger << " 1\n";
  process_driver next{other};
  BOOST_CHECK(alive(stranger));
  BOOST_CHECK(!std::filesystem::exists(other.log_dir + "/slice-16.pid"));
}

BOOST_FIXTURE_TEST_CASE(bad_specs_and_settings_are_refused, fixture) {
  cfg.slice_command = "exec sleep 1000";
  process_driver driver{cfg};
  auto s = spec(13);
  s.slice_id = 0;
  BOOST_CHECK(code_of(driver.start(s)) == ec::invalid_request);
  s = spec(13);
  s.port = 70000;
  BOOST_CHECK(code_of(driver.start(s)) == ec::invalid_request);
  s = spec(13);
  s.data_dir.clear();
  BOOST_CHECK(code_of(driver.restart(s)) == ec::invalid_request);
  BOOST_CHECK(!*driver.running(13));

  runtime_config no_command;
  no_command.kind = "process";
  auto made = make_runtime_driver(no_command);
  BOOST_REQUIRE(!made);
  BOOST_CHECK(code_of(made.error()) == ec::invalid_request);
  runtime_config unknown;
  unknown.kind = "kubernetes";
  made = make_runtime_driver(unknown);
  BOOST_REQUIRE(!made);
  BOOST_CHECK(code_of(made.error()) == ec::invalid_request);
  made = make_runtime_driver(cfg);
  BOOST_REQUIRE(made);
  BOOST_CHECK_EQUAL((*made)->name(), "process");
}
