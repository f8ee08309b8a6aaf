#pragma once

// One PostgreSQL connection that comes back by itself after the server went away.

#include <chrono>
#include <exception>
#include <memory>
#include <string>
#include <type_traits>

#include <pqxx/pqxx>

namespace slicegate::detail {

/// After a failed connect, requests fail at once for this long instead of each trying again:
/// while the server is down, a backlog of requests drains in microseconds.
constexpr std::chrono::milliseconds reconnect_backoff{200};

/// Returns the libpq connection string `url` (URL or keyword form) with `connect_timeout`
/// set to `seconds`, unless it sets one itself.
std::string with_connect_timeout(const std::string& url, int seconds);

/// How long a session's statements may take before the server gives up on them, and TCP
/// keepalives that notice a half-open connection. Zero: no limit (keepalive: libpq's default).
struct session_limits {
  std::chrono::milliseconds statement_timeout{0};
  std::chrono::milliseconds lock_timeout{0};
  std::chrono::milliseconds idle_in_transaction_timeout{0};
  std::chrono::seconds keepalive_idle{0};
};

/// Returns `url` with `limits` as libpq parameters (`options` with the server settings, and
/// `keepalives`…), unless it sets `options` itself.
std::string with_session_limits(const std::string& url, const session_limits& limits);

/// Whether `e` means that the connection is gone (as opposed to a failed statement on a
/// healthy connection): `broken_connection`, an in-doubt commit, SQLSTATE class 08
/// (connection exception) or 57P01-57P03 (server shutting down, crashed or starting up).
bool connection_lost(const std::exception& e);

/// A lazily opened connection with every statement of sql/queries/ defined on it.
///
/// libpqxx 6 can reactivate a broken connection by itself, but only on a later call: after a
/// server restart the first two transactions on the old connection object still fail (seen
/// with 6.4.5). So a lost connection is thrown away, and `run` retries once on a fresh one
/// when the lost connection was an old one, which hides a restart that happened while idle.
class link {
public:
  /// `name` says which database this is in logs ("gateway", "admin"); `url` is never logged.
  link(std::string name, const std::string& url, int connect_timeout_seconds);
  ~link();

  link(const link&) = delete;
  link& operator=(const link&) = delete;

  /// Calls `f(connection)` and returns its result. `f` should do one transaction: when an old
  /// connection turns out to be lost, `f` runs again on a new one. That is safe because the
  /// server rolls back what a lost connection left uncommitted; a link lost during COMMIT
  /// itself (`pqxx::in_doubt_error`) is never retried. Throws what `f` throws, and
  /// `pqxx::broken_connection` when the server cannot be reached.
  template <class F>
  std::invoke_result_t<F&, pqxx::connection&> run(F&& f) {
    auto reused = conn_ != nullptr;
    try {
      return f(open());
    } catch (const std::exception& e) {
      if (!connection_lost(e))
        throw;
      lost(e);
      if (!reused || dynamic_cast<const pqxx::in_doubt_error*>(&e))
        throw;
    }
    try {
      return f(open());
    } catch (const std::exception& e) {
      if (connection_lost(e))
        lost(e);
      throw;
    }
  }

  /// Closes the connection; the next `run` opens a new one.
  void close();

  /// Connections opened (the first included), found lost, and attempts that failed.
  uint64_t connects() const {
    return connects_;
  }
  uint64_t losses() const {
    return losses_;
  }
  uint64_t connect_failures() const {
    return connect_failures_;
  }
  /// Whether the database was reachable at the last attempt.
  bool up() const {
    return !down_;
  }

private:
  /// Returns the open connection, or connects. Throws `pqxx::broken_connection` during the
  /// back-off after a failed attempt and when the attempt fails.
  pqxx::connection& open();

  /// Forgets a connection that `e` showed to be gone.
  void lost(const std::exception& e);

  std::string name_;
  std::string conninfo_;
  std::unique_ptr<pqxx::connection> conn_;
  /// No connect attempt before this time.
  std::chrono::steady_clock::time_point retry_at_{};
  /// Whether the server is known to be unreachable (to log transitions only once).
  bool down_ = false;
  uint64_t connects_ = 0;
  uint64_t losses_ = 0;
  uint64_t connect_failures_ = 0;
};

} // namespace slicegate::detail
