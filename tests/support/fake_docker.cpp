#include "tests/support/fake_docker.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <random>
#include <stdexcept>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace slicegate::test {

namespace {

using nlohmann::json;

std::string reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 409: return "Conflict";
    case 500: return "Internal Server Error";
    default: return "Status";
  }
}

std::string random_id() {
  static std::mt19937_64 gen{std::random_device{}()};
  static const char digits[] = "0123456789abcdef";
  std::string result;
  for (int i = 0; i < 64; ++i)
    result += digits[gen() % 16];
  return result;
}

std::string message(const std::string& text) {
  return json{{"message", text}}.dump();
}

/// Splits `/containers/slice-7/stop?t=10` into path segments and the query.
struct target {
  std::vector<std::string> segments;
  std::map<std::string, std::string> query;
};

std::string unescape(const std::string& text) {
  std::string result;
  for (size_t i = 0; i < text.size(); ++i) {
    auto hex = i + 2 < text.size() ? text.substr(i + 1, 2) : std::string{};
    if (text[i] == '%' && hex.size() == 2 && std::isxdigit(static_cast<unsigned char>(hex[0]))
        && std::isxdigit(static_cast<unsigned char>(hex[1]))) {
      result += static_cast<char>(std::strtol(hex.c_str(), nullptr, 16));
      i += 2;
    } else {
      result += text[i] == '+' ? ' ' : text[i];
    }
  }
  return result;
}

target parse_target(const std::string& text) {
  target result;
  auto question = text.find('?');
  auto path = text.substr(0, question);
  size_t pos = 0;
  while (pos < path.size()) {
    auto slash = path.find('/', pos);
    auto segment
      = path.substr(pos, slash == std::string::npos ? std::string::npos : slash - pos);
    if (!segment.empty())
      result.segments.push_back(segment);
    if (slash == std::string::npos)
      break;
    pos = slash + 1;
  }
  if (question == std::string::npos)
    return result;
  auto query = text.substr(question + 1);
  pos = 0;
  while (pos <= query.size()) {
    auto amp = query.find('&', pos);
    auto pair = query.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
    auto eq = pair.find('=');
    if (!pair.empty())
      result.query[unescape(pair.substr(0, eq))]
        = eq == std::string::npos ? "" : unescape(pair.substr(eq + 1));
    if (amp == std::string::npos)
      break;
    pos = amp + 1;
  }
  return result;
}

bool send_all(int fd, const std::string& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    auto n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0)
      return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

/// One request read off a connection.
struct incoming {
  fake_docker::request req;
  /// The client asked to close the connection after the reply.
  bool close = false;
};

/// Reads one request from `fd`; none when the peer closed or sent garbage. `buffer` keeps
/// what was read beyond the request (a pipelining client's next one).
std::optional<incoming> read_request(int fd, std::string& buffer) {
  char chunk[4096];
  auto fill = [&] {
    auto n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n <= 0)
      return false;
    buffer.append(chunk, static_cast<size_t>(n));
    return true;
  };
  size_t header_end;
  while ((header_end = buffer.find("\r\n\r\n")) == std::string::npos)
    if (!fill())
      return std::nullopt;
  auto head = buffer.substr(0, header_end);
  buffer.erase(0, header_end + 4);
  incoming result;
  auto line_end = std::min(head.find("\r\n"), head.size());
  auto request_line = head.substr(0, line_end);
  auto sp1 = request_line.find(' ');
  auto sp2 = request_line.find(' ', sp1 + 1);
  if (sp1 == std::string::npos || sp2 == std::string::npos)
    return std::nullopt;
  result.req.method = request_line.substr(0, sp1);
  result.req.target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
  size_t content_length = 0;
  for (size_t pos = line_end + 2; pos < head.size();) {
    auto next = std::min(head.find("\r\n", pos), head.size());
    auto header = head.substr(pos, next - pos);
    pos = next + 2;
    auto colon = header.find(':');
    if (colon == std::string::npos)
      continue;
    auto name = header.substr(0, colon);
    for (auto& c : name)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto value = header.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    if (name == "content-length")
      content_length = std::strtoul(value.c_str(), nullptr, 10);
    else if (name == "connection" && value == "close")
      result.close = true;
  }
  while (buffer.size() < content_length)
    if (!fill())
      return std::nullopt;
  result.req.body = buffer.substr(0, content_length);
  buffer.erase(0, content_length);
  // The Engine serves every path with and without an API version prefix.
  if (result.req.target.rfind("/v1.", 0) == 0)
    result.req.target.erase(0, result.req.target.find('/', 1));
  return result;
}

} // namespace

fake_docker::fake_docker(std::string socket_path) : socket_path_(std::move(socket_path)) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path_.size() >= sizeof(addr.sun_path))
    throw std::invalid_argument("socket path too long: " + socket_path_);
  std::strcpy(addr.sun_path, socket_path_.c_str());
  ::unlink(socket_path_.c_str());
  listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0
      || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0
      || ::listen(listen_fd_, 16) != 0)
    throw std::runtime_error("fake docker cannot listen on " + socket_path_ + ": "
                             + std::strerror(errno));
  acceptor_ = std::thread{[this] { accept_loop(); }};
}

fake_docker::~fake_docker() {
  stopping_ = true;
  // shutdown() wakes a thread blocked in accept() or recv() on Linux.
  ::shutdown(listen_fd_, SHUT_RDWR);
  acceptor_.join();
  ::close(listen_fd_);
  std::vector<std::thread> connections;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    for (auto fd : connection_fds_)
      ::shutdown(fd, SHUT_RDWR);
    connections.swap(connections_);
  }
  for (auto& t : connections)
    t.join();
  ::unlink(socket_path_.c_str());
}

void fake_docker::accept_loop() {
  while (!stopping_) {
    auto fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR)
        continue;
      return;
    }
    std::lock_guard<std::mutex> guard{mtx_};
    connection_fds_.push_back(fd);
    connections_.emplace_back([this, fd] { serve(fd); });
  }
}

void fake_docker::serve(int fd) {
  std::string buffer;
  while (auto in = read_request(fd, buffer)) {
    reply rep;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      requests_.push_back(in->req);
      if (fail_next_) {
        rep = *fail_next_;
        fail_next_.reset();
      } else {
        rep = handle(in->req);
      }
    }
    std::string out = "HTTP/1.1 " + std::to_string(rep.status) + " "
                      + reason_phrase(rep.status) + "\r\nApi-Version: 1.41\r\n";
    // 204 and 304 carry no body and no Content-Length, as with the real Engine.
    if (rep.status != 204 && rep.status != 304)
      out += "Content-Type: application/json\r\nContent-Length: "
             + std::to_string(rep.body.size()) + "\r\n\r\n" + rep.body;
    else
      out += "\r\n";
    if (!send_all(fd, out) || in->close)
      break;
  }
  std::lock_guard<std::mutex> guard{mtx_};
  connection_fds_.erase(std::remove(connection_fds_.begin(), connection_fds_.end(), fd),
                        connection_fds_.end());
  ::close(fd);
}

fake_docker::container* fake_docker::find(const std::string& name_or_id) {
  auto i = containers_.find(name_or_id);
  if (i != containers_.end())
    return &i->second;
  for (auto& [_, c] : containers_)
    if (name_or_id.size() >= 3 && c.id.rfind(name_or_id, 0) == 0)
      return &c;
  return nullptr;
}

fake_docker::reply fake_docker::handle(const request& req) {
  auto t = parse_target(req.target);
  auto& s = t.segments;
  if (s.empty() || s[0] != "containers")
    return {404, message("page not found")};
  // POST /containers/create?name=…
  if (req.method == "POST" && s.size() == 2 && s[1] == "create") {
    auto name = t.query["name"];
    if (auto existing = find(name); existing != nullptr && !name.empty())
      return {409, message("Conflict. The container name \"/" + name
                           + "\" is already in use by container \"" + existing->id
                           + "\". You have to remove (or rename) that container to be able to "
                             "reuse that name.")};
    auto body = json::parse(req.body, nullptr, false);
    if (!body.is_object() || !body.contains("Image"))
      return {400, message("config cannot be empty in order to create a container")};
    container c;
    c.id = random_id();
    c.name = name.empty() ? c.id.substr(0, 12) : name;
    c.config = body;
    auto id = c.id;
    containers_[c.name] = std::move(c);
    return {201, json{{"Id", id}, {"Warnings", json::array()}}.dump()};
  }
  // GET /containers/json?all=…&filters=…
  if (req.method == "GET" && s.size() == 2 && s[1] == "json") {
    auto all = t.query["all"] == "true" || t.query["all"] == "1";
    std::vector<std::string> names;
    auto filters = json::parse(t.query["filters"], nullptr, false);
    if (filters.is_object() && filters.contains("name") && filters["name"].is_array())
      for (auto& n : filters["name"])
        if (n.is_string())
          names.push_back(n.get<std::string>());
    auto result = json::array();
    for (auto& [name, c] : containers_) {
      if (!all && c.state != "running")
        continue;
      auto matches = names.empty();
      for (auto& n : names)
        matches = matches || name.find(n) != std::string::npos;
      if (!matches)
        continue;
      auto status = c.state == "running" ? std::string{"Up 5 seconds"}
                    : c.state == "exited"
                      ? "Exited (" + std::to_string(c.exit_code) + ") 1 second ago"
                      : std::string{"Created"};
      result.push_back({{"Id", c.id},
                        {"Names", json::array({"/" + name})},
                        {"Image", c.config.value("Image", "")},
                        {"State", c.state},
                        {"Status", status},
                        {"Labels", c.config.value("Labels", json::object())}});
    }
    return {200, result.dump()};
  }
  if (s.size() < 2)
    return {404, message("page not found")};
  auto c = find(s[1]);
  if (c == nullptr)
    return {404, message("No such container: " + s[1])};
  // POST /containers/<name>/start
  if (req.method == "POST" && s.size() == 3 && s[2] == "start") {
    if (c->state == "running")
      return {304, ""};
    c->state = "running";
    c->exit_code = 0;
    return {204, ""};
  }
  // POST /containers/<name>/stop?t=…
  if (req.method == "POST" && s.size() == 3 && s[2] == "stop") {
    if (c->state != "running")
      return {304, ""};
    c->state = "exited";
    c->exit_code = 0;
    return {204, ""};
  }
  // GET /containers/<name>/json
  if (req.method == "GET" && s.size() == 3 && s[2] == "json") {
    json state = {{"Status", c->state},
                  {"Running", c->state == "running"},
                  {"Paused", false},
                  {"Restarting", false},
                  {"ExitCode", c->exit_code}};
    return {200, json{{"Id", c->id},
                      {"Name", "/" + c->name},
                      {"State", state},
                      {"Config", c->config},
                      {"HostConfig", c->config.value("HostConfig", json::object())}}
                   .dump()};
  }
  // DELETE /containers/<name>?force=…
  if (req.method == "DELETE" && s.size() == 2) {
    auto force = t.query["force"] == "true" || t.query["force"] == "1";
    if (c->state == "running" && !force)
      return {409, message("You cannot remove a running container " + c->id
                           + ". Stop the container before attempting removal or force remove")};
    containers_.erase(c->name);
    return {204, ""};
  }
  return {404, message("page not found")};
}

std::vector<fake_docker::request> fake_docker::requests() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return requests_;
}

std::optional<fake_docker::request> fake_docker::last(const std::string& method,
                                                      const std::string& prefix) const {
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto i = requests_.rbegin(); i != requests_.rend(); ++i)
    if (i->method == method && i->target.rfind(prefix, 0) == 0)
      return *i;
  return std::nullopt;
}

std::string fake_docker::container_id(const std::string& name) const {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = containers_.find(name);
  return i == containers_.end() ? std::string{} : i->second.id;
}

std::string fake_docker::state(const std::string& name) const {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = containers_.find(name);
  return i == containers_.end() ? std::string{} : i->second.state;
}

nlohmann::json fake_docker::config(const std::string& name) const {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = containers_.find(name);
  return i == containers_.end() ? nlohmann::json{} : i->second.config;
}

void fake_docker::exit(const std::string& name, int exit_code) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (auto i = containers_.find(name); i != containers_.end()) {
    i->second.state = "exited";
    i->second.exit_code = exit_code;
  }
}

void fake_docker::erase(const std::string& name) {
  std::lock_guard<std::mutex> guard{mtx_};
  containers_.erase(name);
}

void fake_docker::fail_next(int status, std::string text) {
  std::lock_guard<std::mutex> guard{mtx_};
  fail_next_ = reply{status, message(text)};
}

} // namespace slicegate::test
