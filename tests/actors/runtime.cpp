#define BOOST_TEST_MODULE runtime
#include "actors/runtime.hpp"

#include <chrono>
#include <fstream>
#include <memory>
#include <signal.h>
#include <sstream>

#include <boost/test/unit_test.hpp>
#include <caf/all.hpp>

#include "actors/actors.hpp"
#include "messages/error.hpp"
#include "runtime/external_driver.hpp"
#include "runtime/process_driver.hpp"
#include "tests/support/ask.hpp"
#include "tests/support/servers.hpp"
#include "tests/support/system.hpp"
#include "tests/support/temp_dir.hpp"

using namespace slicegate;
using namespace std::chrono_literals;

namespace {

constexpr auto timeout = std::chrono::seconds{10};

/// A runtime actor, spawned detached as in the daemon, and a scoped actor to talk to it.
struct fixture {
  test::temp_dir dir;
  test::system_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  runtime_actor rt;

  ~fixture() {
    if (rt)
      self->send_exit(rt, caf::exit_reason::user_shutdown);
  }

  void spawn(std::shared_ptr<runtime_driver> driver) {
    rt = sys.spawn<caf::detached>(runtime, std::move(driver), caf::timespan{50ms});
  }

  runtime_config process_config(std::string command) const {
    runtime_config result;
    result.kind = "process";
    result.slice_command = std::move(command);
    result.log_dir = dir / "logs";
    result.stop_grace = 2s;
    return result;
  }

  slice_spec spec(int32_t id) const {
    return slice_spec{id, 5000 + id, dir / ("slices/" + std::to_string(id)), "postgresql:///x"};
  }

  /// Asks the runtime and returns the reply or the error.
  template <class Result, class Request>
  caf::expected<Result> ask(Request request) {
    return test::ask<Result>(sys, rt, timeout, std::move(request));
  }

  /// Reads the pid a slice command wrote to `$DATA_DIR/pid`.
  pid_t pid_of(int32_t id) {
    pid_t pid = 0;
    BOOST_REQUIRE(test::eventually([&] {
      std::ifstream in{spec(id).data_dir + "/pid"};
      std::string line;
      if (!std::getline(in, line) || line.empty())
        return false;
      pid = std::stoi(line);
      return true;
    }));
    return pid;
  }
};

} // namespace

BOOST_FIXTURE_TEST_CASE(the_external_runtime_starts_nothing_and_knows_nothing, fixture) {
  spawn(std::make_shared<external_driver>());
  BOOST_CHECK_EQUAL(*ask<bool>(rt::start{spec(1)}), true);
  BOOST_CHECK_EQUAL(*ask<bool>(rt::running{1}), true);
  auto usage = ask<slice_usage>(rt::usage{1});
  BOOST_REQUIRE(usage);
  BOOST_CHECK(*usage == slice_usage{});
  BOOST_CHECK_EQUAL(*ask<bool>(rt::stop{1}), true);
  BOOST_CHECK_EQUAL(*ask<bool>(rt::remove{1}), true);
  BOOST_CHECK(!std::filesystem::exists(spec(1).data_dir));
}

BOOST_FIXTURE_TEST_CASE(start_stop_and_usage_through_the_actor, fixture) {
  spawn(std::make_shared<process_driver>(process_config("echo $$ > pid; exec sleep 1000")));
  BOOST_CHECK_EQUAL(*ask<bool>(rt::start{spec(2)}), true);
  auto pid = pid_of(2);
  BOOST_CHECK_EQUAL(*ask<bool>(rt::running{2}), true);
  auto usage = ask<slice_usage>(rt::usage{2});
  BOOST_REQUIRE(usage);
  BOOST_CHECK(usage->rss_bytes && *usage->rss_bytes > 0);
  BOOST_CHECK_EQUAL(*ask<bool>(rt::restart{spec(2)}), true);
  BOOST_CHECK_EQUAL(*ask<bool>(rt::stop{2}), true);
  BOOST_CHECK_EQUAL(*ask<bool>(rt::running{2}), false);
  BOOST_CHECK(::kill(pid, 0) != 0);
}

BOOST_FIXTURE_TEST_CASE(driver_errors_become_domain_errors, fixture) {
  spawn(std::make_shared<process_driver>(process_config("exec sleep 1000")));
  auto bad = spec(3);
  bad.port = 0;
  auto reply = ask<bool>(rt::start{bad});
  BOOST_REQUIRE(!reply);
  BOOST_CHECK(code_of(reply.error()) == ec::invalid_request);
  BOOST_CHECK(message_of(reply.error()).find("port") != std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(the_subscriber_hears_of_a_slice_that_died, fixture) {
  spawn(std::make_shared<process_driver>(process_config("echo $$ > pid; exec sleep 1000")));
  // The fixture's own actor subscribes: the notices arrive in its mailbox.
  auto subscribed = false;
  self->request(rt, timeout, rt::subscribe{})
    .receive([&](bool x) { subscribed = x; },
             [&](caf::error& err) { BOOST_FAIL("subscribe failed: " << message_of(err)); });
  BOOST_CHECK(subscribed);
  BOOST_CHECK_EQUAL(*ask<bool>(rt::start{spec(4)}), true);
  BOOST_CHECK_EQUAL(*ask<bool>(rt::start{spec(5)}), true);
  auto pid = pid_of(4);
  pid_of(5);
  BOOST_REQUIRE_EQUAL(::kill(pid, SIGKILL), 0);
  auto heard = false;
  self->receive(
    [&](rt::exited& x) {
      heard = true;
      BOOST_CHECK_EQUAL(x.slice_id, 4);
      BOOST_CHECK_MESSAGE(x.reason.find("killed by signal 9") == 0, x.reason);
    },
    caf::after(timeout) >> [] {});
  BOOST_CHECK(heard);
  // A slice stopped on request is no news.
  BOOST_CHECK_EQUAL(*ask<bool>(rt::stop{5}), true);
  auto more = false;
  self->receive([&](rt::exited&) { more = true; }, caf::after(timespan{300ms}) >> [] {});
  BOOST_CHECK(!more);
}
