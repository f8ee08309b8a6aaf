// demo-slice: a stand-in for the WhatsApp-CRM backend, for development and tests. It listens
// on $PORT (or --port), answers GET /health with the slice's WhatsApp state, and writes a small
// file into $DATA_DIR so that disk usage is non-zero. For tests of what the runtime measures,
// `--allocate-mb N` keeps N MiB of memory in use and `--busy` keeps one core busy.

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace {

volatile std::sig_atomic_t stopping = 0;

void on_signal(int) {
  stopping = 1;
}

std::string env_or(const char* name, const char* fallback) {
  auto value = std::getenv(name);
  return value ? value : fallback;
}

void answer(int fd, const std::string& state, const std::string& phone) {
  char buf[4096];
  auto n = recv(fd, buf, sizeof buf - 1, 0);
  if (n <= 0)
    return;
  buf[n] = '\0';
  std::string request{buf};
  std::string status = "200 OK";
  std::string body;
  if (request.rfind("GET /health", 0) == 0)
    body = R"({"wa_state":")" + state + R"(","wa_phone":")" + phone + R"("})";
  else {
    status = "404 Not Found";
    body = R"({"error":"not found"})";
  }
  auto response = "HTTP/1.1 " + status
                  + "\r\nContent-Type: application/json\r\nConnection: close\r\n"
                    "Content-Length: "
                  + std::to_string(body.size()) + "\r\n\r\n" + body;
  send(fd, response.data(), response.size(), MSG_NOSIGNAL);
}

} // namespace

int main(int argc, char** argv) {
  auto port = std::atoi(env_or("PORT", "5001").c_str());
  long allocate_mb = 0;
  bool busy = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--port") == 0 && i + 1 < argc)
      port = std::atoi(argv[++i]);
    else if (std::strcmp(argv[i], "--allocate-mb") == 0 && i + 1 < argc)
      allocate_mb = std::atol(argv[++i]);
    else if (std::strcmp(argv[i], "--busy") == 0)
      busy = true;
  }
  // Every page written, so that it is resident and counted, not the shared zero page.
  std::unique_ptr<char[]> ballast;
  if (allocate_mb > 0) {
    auto size = static_cast<size_t>(allocate_mb) * 1024 * 1024;
    ballast.reset(new char[size]);
    std::memset(ballast.get(), 0x5a, size);
  }
  if (busy)
    std::thread{[] {
      volatile unsigned long spins = 0;
      while (!stopping)
        spins = spins + 1;
    }}.detach();
  auto state = env_or("DEMO_WA_STATE", "CONNECTED");
  auto phone = env_or("DEMO_WA_PHONE", "+15551234567");
  auto data_dir = env_or("DATA_DIR", "");
  if (!data_dir.empty())
    std::ofstream{data_dir + "/demo-slice.txt"} << "demo slice on port " << port << '\n';
  // Without SA_RESTART (which std::signal sets), a stop signal interrupts the blocking accept.
  struct sigaction stop_action {};
  stop_action.sa_handler = on_signal;
  sigemptyset(&stop_action.sa_mask);
  sigaction(SIGTERM, &stop_action, nullptr);
  sigaction(SIGINT, &stop_action, nullptr);
  auto server = socket(AF_INET, SOCK_STREAM, 0);
  int yes = 1;
  setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0
      || listen(server, 64) != 0) {
    std::fprintf(stderr, "demo-slice: cannot listen on 127.0.0.1:%d: %s\n", port,
                 std::strerror(errno));
    return 1;
  }
  while (!stopping) {
    auto fd = accept(server, nullptr, nullptr);
    if (fd < 0)
      continue; // EINTR on a stop signal ends the loop
    answer(fd, state, phone);
    close(fd);
  }
  close(server);
  return 0;
}
