#define BOOST_TEST_MODULE probe
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include "messages/error.hpp"
#include "probe/disk_usage.hpp"
#include "probe/health_client.hpp"
#include "tests/support/caf_printing.hpp"
#include "tests/support/temp_dir.hpp"

using namespace slicegate;
using namespace std::chrono_literals;

namespace {

/// A loopback listener that answers each connection with `response` (or, when empty, keeps
/// it open without a word until the listener goes away).
class listener {
 public:
  explicit listener(std::string response) : response_(std::move(response)) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    listen(fd_, 128);
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread{[this] {
      serve();
    }};
  }

  ~listener() {
    stopping_ = true;
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
    for (auto fd : open_)
      close(fd);
  }

  int port() const {
    return port_;
  }

 private:
  void serve() {
    while (!stopping_) {
      auto fd = accept(fd_, nullptr, nullptr);
      if (fd < 0)
        return;
      if (response_.empty()) {
        open_.push_back(fd);
        continue;
      }
      char buf[4096];
      recv(fd, buf, sizeof buf, 0);
      send(fd, response_.data(), response_.size(), MSG_NOSIGNAL);
      close(fd);
    }
  }

  std::string response_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::vector<int> open_;
  std::thread thread_;
};

std::string http(const std::string& status, const std::string& body) {
  return "HTTP/1.1 " + status + "\r\nContent-Type: application/json\r\nContent-Length: "
         + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

/// Probes `port` and waits for the result.
telemetry::health_result check(probe::health_client& client, int port,
                               caf::timespan timeout = 2s) {
  std::promise<telemetry::health_result> result;
  client.check(telemetry::health_check{"127.0.0.1", port, timeout},
               [&](telemetry::health_result x) { result.set_value(std::move(x)); });
  return result.get_future().get();
}

/// A loopback listener that holds each connection for `hold`, then answers it with a healthy
/// body, and counts how many connections it held open at once.
class holding_listener {
 public:
  explicit holding_listener(std::chrono::milliseconds hold) : hold_(hold) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    listen(fd_, 128);
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread{[this] {
      serve();
    }};
  }

  ~holding_listener() {
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
    for (auto& t : handlers_)
      t.join();
  }

  int port() const {
    return port_;
  }

  int max_open() const {
    return max_open_;
  }

  int accepted() const {
    return accepted_;
  }

 private:
  void serve() {
    for (;;) {
      auto fd = accept(fd_, nullptr, nullptr);
      if (fd < 0)
        return;
      ++accepted_;
      auto now_open = ++open_;
      auto seen = max_open_.load();
      while (now_open > seen && !max_open_.compare_exchange_weak(seen, now_open)) {
      }
      handlers_.emplace_back([this, fd] {
        std::this_thread::sleep_for(hold_);
        char buf[4096];
        recv(fd, buf, sizeof buf, 0);
        auto response = http("200 OK", R"({"wa_state":"CONNECTED"})");
        // The count drops before the answer leaves: the client can start its next transfer
        // only once this one is answered.
        --open_;
        send(fd, response.data(), response.size(), MSG_NOSIGNAL);
        close(fd);
      });
    }
  }

  std::chrono::milliseconds hold_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<int> open_{0};
  std::atomic<int> max_open_{0};
  std::atomic<int> accepted_{0};
  std::vector<std::thread> handlers_;
  std::thread thread_;
};

/// Starts `timeouts.size()` probes of `port` at once and waits for all results, in the order
/// they completed.
std::vector<telemetry::health_result>
check_all(probe::health_client& client, int port, std::vector<caf::timespan> timeouts) {
  std::mutex mtx;
  std::condition_variable cv;
  std::vector<telemetry::health_result> results;
  for (auto timeout : timeouts)
    client.check(telemetry::health_check{"127.0.0.1", port, timeout},
                 [&](telemetry::health_result x) {
                   std::lock_guard<std::mutex> guard{mtx};
                   results.push_back(std::move(x));
                   cv.notify_all();
                 });
  std::unique_lock<std::mutex> guard{mtx};
  BOOST_REQUIRE(cv.wait_for(guard, 20s, [&] { return results.size() == timeouts.size(); }));
  return results;
}

int unused_port() {
  listener l{"x"};
  return l.port();
}

} // namespace

BOOST_AUTO_TEST_CASE(the_health_body_gives_state_and_phone) {
  telemetry::health_result r;
  probe::read_health_body(R"({"wa_state":"CONNECTED","wa_phone":"+15551234567","x":1})", r);
  BOOST_TEST(r.wa_state == optional<std::string>{"CONNECTED"});
  BOOST_TEST(r.wa_phone == optional<std::string>{"+15551234567"});
  telemetry::health_result partial;
  probe::read_health_body(R"({"wa_state":"open","wa_phone":null})", partial);
  BOOST_TEST(partial.wa_state == optional<std::string>{"open"});
  BOOST_TEST(!partial.wa_phone);
  for (auto body : {"", "not json", "[1,2]", R"({"wa_state":42})", R"("CONNECTED")"}) {
    telemetry::health_result none;
    probe::read_health_body(body, none);
    BOOST_TEST(!none.wa_state, body);
    BOOST_TEST(!none.wa_phone, body);
  }
}

BOOST_AUTO_TEST_CASE(what_a_slice_answers_is_bounded_before_it_is_stored) {
  // A state is a short word; anything else is recorded as "invalid", never as sent.
  auto state_of = [](const std::string& value) {
    telemetry::health_result r;
    probe::read_health_body(nlohmann::json{{"wa_state", value}}.dump(), r);
    return r.wa_state;
  };
  BOOST_TEST(state_of("CONNECTED") == optional<std::string>{"CONNECTED"});
  BOOST_TEST(state_of("qr-pending_2") == optional<std::string>{"qr-pending_2"});
  for (auto bad : {std::string(16 * 1024, 'A'), std::string{"CONN\0ECTED", 11},
                   std::string{"CONN"} + '\0' + "ECTED", std::string{"two words"},
                   std::string{"<script>"}, std::string{""}, std::string(33, 'x'),
                   std::string{"\xc3\xa9tat"}})
    BOOST_TEST(state_of(bad) == optional<std::string>{"invalid"}, "state " << bad.size());
  // A phone is E.164 or nothing.
  auto phone_of = [](const std::string& value) {
    telemetry::health_result r;
    probe::read_health_body(nlohmann::json{{"wa_phone", value}}.dump(), r);
    return r.wa_phone;
  };
  BOOST_TEST(phone_of("+15551234567") == optional<std::string>{"+15551234567"});
  for (auto bad : {"15551234567", "+0555123", "+1", "+1555123456789012", "+1 555 123",
                   "+1555abc4567", ""})
    BOOST_TEST(!phone_of(bad), "phone " << bad);
  std::string nul_phone = "+1555";
  nul_phone += '\0';
  nul_phone += "1234567";
  BOOST_TEST(!phone_of(nul_phone));
}

BOOST_AUTO_TEST_CASE(a_healthy_slice_answers_with_its_state) {
  listener slice{http("200 OK", R"({"wa_state":"CONNECTED","wa_phone":"+15550001111"})")};
  probe::health_client client;
  auto r = check(client, slice.port());
  BOOST_TEST(r.ok());
  BOOST_TEST(r.status == 200);
  BOOST_TEST(r.error.empty());
  BOOST_TEST(r.wa_state == optional<std::string>{"CONNECTED"});
  BOOST_TEST(r.wa_phone == optional<std::string>{"+15550001111"});
}

BOOST_AUTO_TEST_CASE(an_error_status_is_a_failure_whatever_the_body) {
  listener slice{http("503 Service Unavailable", R"({"wa_state":"CONNECTED"})")};
  probe::health_client client;
  auto r = check(client, slice.port());
  BOOST_TEST(!r.ok());
  BOOST_TEST(r.status == 503);
  BOOST_TEST(r.error == "HTTP 503");
  BOOST_TEST(!r.wa_state);
}

BOOST_AUTO_TEST_CASE(a_refused_connection_is_a_failure) {
  probe::health_client client;
  auto r = check(client, unused_port());
  BOOST_TEST(!r.ok());
  BOOST_TEST(r.status == 0);
  BOOST_TEST(!r.error.empty());
}

BOOST_AUTO_TEST_CASE(silent_slices_time_out_together_not_one_after_another) {
  listener silent{""};
  probe::health_client client;
  constexpr int n = 40;
  std::mutex mtx;
  std::condition_variable cv;
  std::vector<telemetry::health_result> results;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i)
    client.check(telemetry::health_check{"127.0.0.1", silent.port(), 300ms},
                 [&](telemetry::health_result x) {
                   std::lock_guard<std::mutex> guard{mtx};
                   results.push_back(std::move(x));
                   cv.notify_all();
                 });
  std::unique_lock<std::mutex> guard{mtx};
  BOOST_REQUIRE(cv.wait_for(guard, 10s, [&] { return results.size() == n; }));
  auto elapsed = std::chrono::steady_clock::now() - start;
  // Forty sequential probes would take twelve seconds.
  BOOST_TEST((elapsed < 3s));
  for (auto& r : results) {
    BOOST_TEST(r.status == 0);
    BOOST_TEST(r.error.find("Timeout") != std::string::npos, r.error);
  }
}

BOOST_AUTO_TEST_CASE(no_more_than_the_bound_run_at_once_and_the_rest_wait_their_turn) {
  holding_listener slow{150ms};
  constexpr size_t bound = 4;
  probe::health_client client{bound};
  // Fourteen probes, four at a time, 150 ms each: four waves, well within each timeout.
  auto results = check_all(client, slow.port(), std::vector<caf::timespan>(14, 3s));
  for (auto& r : results)
    BOOST_TEST(r.ok(), r.error);
  BOOST_TEST(slow.accepted() == 14);
  BOOST_TEST(slow.max_open() == static_cast<int>(bound));
  auto stats = client.stats();
  BOOST_TEST(stats.max_running_seen == bound);
  BOOST_TEST(stats.expired == 0u);
}

BOOST_AUTO_TEST_CASE(a_probe_waiting_past_its_timeout_fails_without_starting) {
  listener silent{""};
  probe::health_client client{1};
  auto start = std::chrono::steady_clock::now();
  // The first holds the only transfer for 600 ms; the two behind it may wait 100 ms each.
  auto results = check_all(client, silent.port(), {600ms, 100ms, 100ms});
  auto elapsed = std::chrono::steady_clock::now() - start;
  BOOST_TEST((elapsed < 2s));
  BOOST_REQUIRE_EQUAL(results.size(), 3u);
  // The waiting ones are answered first, long before the running one times out.
  BOOST_TEST(results[0].error.find("not started within 100 ms") != std::string::npos,
             results[0].error);
  BOOST_TEST(results[1].error.find("not started within 100 ms") != std::string::npos,
             results[1].error);
  BOOST_TEST(results[2].error.find("Timeout") != std::string::npos, results[2].error);
  BOOST_TEST(client.stats().expired == 2u);
}

BOOST_AUTO_TEST_CASE(probes_still_running_complete_when_the_client_stops) {
  listener silent{""};
  std::promise<telemetry::health_result> result;
  {
    probe::health_client client;
    client.check(telemetry::health_check{"127.0.0.1", silent.port(), 30s},
                 [&](telemetry::health_result x) { result.set_value(std::move(x)); });
  }
  auto r = result.get_future().get();
  BOOST_TEST(r.error == "prober stopped");
}

BOOST_AUTO_TEST_CASE(disk_usage_counts_allocated_blocks_once_per_file) {
  test::temp_dir dir;
  std::filesystem::create_directories(dir / "a/b");
  std::ofstream{dir / "a/b/data"} << std::string(100000, 'x');
  auto before = probe::disk_usage(dir.path());
  BOOST_REQUIRE(before);
  BOOST_TEST(*before >= 100000);
  // A second name for the same file, and a link to a big file elsewhere, add nothing.
  test::temp_dir elsewhere;
  std::ofstream{elsewhere / "big"} << std::string(1000000, 'y');
  std::filesystem::create_hard_link(dir / "a/b/data", dir / "a/same");
  std::filesystem::create_symlink(elsewhere / "big", dir / "a/big");
  std::filesystem::create_directory_symlink(elsewhere.path(), dir / "a/dir");
  auto after = probe::disk_usage(dir.path());
  BOOST_REQUIRE(after);
  BOOST_TEST(*after < *before + 100000);
  auto missing = probe::disk_usage(dir / "nothing");
  BOOST_REQUIRE(!missing);
  BOOST_TEST(to_string(code_of(missing.error())) == "not_found");
}
