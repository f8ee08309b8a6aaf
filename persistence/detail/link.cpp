#include "persistence/detail/link.hpp"

#include <utility>
#include <vector>

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

std::string with_session_limits(const std::string& url, const session_limits& limits) {
  auto is_url = url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0;
  std::vector<std::pair<std::string, std::string>> params;
  std::string options;
  auto add_option = [&options](const char* name, std::chrono::milliseconds value) {
    if (value.count() > 0)
      options += std::string{options.empty() ? "" : " "} + "-c " + name + "="
                 + std::to_string(value.count());
  };
  if (url.find("options=") == std::string::npos) {
    add_option("statement_timeout", limits.statement_timeout);
    add_option("lock_timeout", limits.lock_timeout);
    add_option("idle_in_transaction_session_timeout", limits.idle_in_transaction_timeout);
  }
  if (!options.empty())
    params.emplace_back("options", options);
  if (limits.keepalive_idle.count() > 0 && url.find("keepalives") == std::string::npos) {
    params.emplace_back("keepalives", "1");
    params.emplace_back("keepalives_idle", std::to_string(limits.keepalive_idle.count()));
    params.emplace_back("keepalives_interval", "10");
    params.emplace_back("keepalives_count", "3");
  }
  auto result = url;
  for (auto& [key, value] : params) {
    if (is_url) {
      std::string encoded;
      for (char c : value)
        encoded += c == ' ' ? std::string{"%20"} : c == '=' ? std::string{"%3D"} : std::string{c};
      result += (result.find('?') == std::string::npos ? "?" : "&") + key + "=" + encoded;
    } else {
      result += (result.empty() ? "" : " ") + key + "='" + value + "'";
    }
  }
  return result;
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
