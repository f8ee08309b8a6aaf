#include "tests/support/fake_fleet.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

namespace slicegate::test {

namespace {

using steady = std::chrono::steady_clock;

/// Marks an epoll entry as a listener (its index below) rather than a connection.
constexpr uint64_t listen_flag = uint64_t{1} << 63;

} // namespace

double cpu_seconds(const std::string& stat_path) {
  std::ifstream in{stat_path};
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto paren = text.rfind(')');
  if (paren == std::string::npos)
    return 0;
  std::istringstream fields{text.substr(paren + 2)};
  std::string field;
  // After the name: state is field 3; utime and stime are fields 14 and 15.
  double utime = 0;
  double stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14)
      utime = std::atof(field.c_str());
    if (i == 15)
      stime = std::atof(field.c_str());
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

long raise_fd_limit() {
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = lim.rlim_max;
  setrlimit(RLIMIT_NOFILE, &lim);
  getrlimit(RLIMIT_NOFILE, &lim);
  return static_cast<long>(lim.rlim_cur);
}

fake_fleet::fake_fleet(int want, int port_base, int spare_fds) : per_second_(max_seconds) {
  epoll_ = epoll_create1(0);
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  auto room = static_cast<long>(lim.rlim_cur) - spare_fds;
  for (int port = port_base; port <= 65535 && static_cast<int>(ports_.size()) < want
                             && static_cast<long>(ports_.size()) < room;
       ++port) {
    // The ephemeral range is left to the probes' own ends of the connections.
    if (port >= 32768 && port <= 60999)
      continue;
    auto fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0)
      break;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, 128) != 0) {
      ++skipped_;
      close(fd);
      continue;
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = listen_flag | ports_.size();
    epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev);
    listeners_.push_back(fd);
    ports_.push_back(port);
  }
  per_port_ = std::vector<std::atomic<uint32_t>>(ports_.size());
  start_ = steady::now();
  thread_ = std::thread{[this] { serve(); }};
}

fake_fleet::~fake_fleet() {
  stopping_ = true;
  thread_.join();
  for (auto fd : listeners_)
    close(fd);
  close(epoll_);
}

int fake_fleet::second_now() const {
  return static_cast<int>(
    std::chrono::duration_cast<std::chrono::seconds>(steady::now() - start_).count());
}

std::vector<uint32_t> fake_fleet::per_second(int from, int to) const {
  std::vector<uint32_t> result;
  for (int s = std::max(0, from); s < std::min(to, max_seconds); ++s)
    result.push_back(per_second_[static_cast<size_t>(s)].load());
  return result;
}

size_t fake_fleet::ports_probed() const {
  return static_cast<size_t>(std::count_if(per_port_.begin(), per_port_.end(),
                                           [](auto& n) { return n.load() > 0; }));
}

double fake_fleet::cpu() const {
  return cpu_seconds("/proc/self/task/" + std::to_string(tid_.load()) + "/stat");
}

void fake_fleet::serve() {
  tid_ = static_cast<int>(gettid());
  static const std::string body = R"({"wa_state":"CONNECTED"})";
  static const std::string response
    = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
      + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  std::vector<epoll_event> events(512);
  while (!stopping_) {
    auto n = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), 100);
    for (int i = 0; i < n; ++i) {
      auto data = events[static_cast<size_t>(i)].data.u64;
      if (data & listen_flag) {
        auto index = static_cast<size_t>(data & ~listen_flag);
        for (;;) {
          auto fd = accept4(listeners_[index], nullptr, nullptr, SOCK_NONBLOCK);
          if (fd < 0)
            break;
          ++per_port_[index];
          ++total_;
          auto second = second_now();
          if (second < max_seconds)
            ++per_second_[static_cast<size_t>(second)];
          epoll_event ev{};
          ev.events = EPOLLIN;
          ev.data.u64 = static_cast<uint64_t>(fd);
          epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev);
        }
        continue;
      }
      auto fd = static_cast<int>(data);
      char buf[2048];
      auto got = recv(fd, buf, sizeof buf, 0);
      if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        continue;
      if (got > 0)
        send(fd, response.data(), response.size(), MSG_NOSIGNAL);
      close(fd);
    }
  }
}

} // namespace slicegate::test
