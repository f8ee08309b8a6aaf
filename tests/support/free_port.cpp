#include "tests/support/free_port.hpp"

#include <netinet/in.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

namespace slicegate::test {

int free_port() {
  auto fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    throw std::runtime_error("no socket for a free port");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  auto ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0
            && getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  close(fd);
  if (!ok)
    throw std::runtime_error("no free loopback port");
  return ntohs(addr.sin_port);
}

} // namespace slicegate::test
