#include "persistence/detail/link.hpp"

#include <spdlog/spdlog.h>

#include "persistence/detail/statements.hpp"

namespace slicegate::detail {

std::string with_connect_timeout(const std::string& url, int seconds) {
  if (url.find("connect_timeout") != std::string::npos)
    return url;
  auto value = std::to_string(seconds);
  auto is_url = url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0;
  if (!is_url)
    return url.empty() ? "connect_timeout=" + value : url + " connect_timeout=" + value;
  return url + (url.find('?') == std::string::npos ? "?" : "&") + "connect_timeout=" + value;
}

bool connection_lost(const std::exception& e) {
  if (dynamic_cast<const pqxx::broken_connection*>(&e)
      || dynamic_cast<const pqxx::in_doubt_error*>(&e))
    return true;
  if (auto err = dynamic_cast<const pqxx::sql_error*>(&e)) {
    auto& state = err->sqlstate();
    return state.rfind("08", 0) == 0 || state == "57P01" || state == "57P02"
           || state == "57P03";
  }
  return false;
}

link::link(std::string name, const std::string& url, int connect_timeout_seconds)
  : name_(std::move(name)), conninfo_(with_connect_timeout(url, connect_timeout_seconds)) {
  // Nothing to do: the first run() connects.
}

link::~link() = default;

void link::close() {
  conn_.reset();
}

pqxx::connection& link::open() {
  if (conn_)
    return *conn_;
  auto now = std::chrono::steady_clock::now();
  if (now < retry_at_)
    throw pqxx::broken_connection{"the " + name_ + " database is unreachable"};
  try {
    auto conn = std::make_unique<pqxx::connection>(conninfo_);
    prepare_statements(*conn);
    conn_ = std::move(conn);
    ++connects_;
  } catch (const pqxx::broken_connection& e) {
    retry_at_ = now + reconnect_backoff;
    ++connect_failures_;
    if (!down_)
      spdlog::warn("persistence cannot reach the {} database: {}", name_, e.what());
    down_ = true;
    throw;
  }
  if (down_)
    spdlog::info("persistence reaches the {} database again", name_);
  down_ = false;
  return *conn_;
}

void link::lost(const std::exception& e) {
  conn_.reset();
  ++losses_;
  if (!down_)
    spdlog::warn("persistence lost its connection to the {} database: {}", name_, e.what());
  down_ = true;
}

} // namespace slicegate::detail
