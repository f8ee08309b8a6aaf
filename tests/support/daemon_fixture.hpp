#pragma once

// The set-up of the end-to-end tests: the real daemon on the shared servers with a fresh
// gateway database, an admin made the way an operator makes one (`slicegate create-admin`),
// and a NATS client that has seen the daemon answer. Derive a Boost.Test fixture from it.

#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/nats_client.hpp"
#include "tests/support/servers.hpp"

namespace slicegate::test {

/// The admin every `running_daemon` starts with.
inline const std::string fixture_admin_email = "admin@example.com";
inline const std::string fixture_admin_password = "admin-password-1";

struct running_daemon {
  test::servers& servers = shared_servers();
  std::optional<test::daemon> daemon;
  std::optional<test::nats_client> client;

  /// Starts the daemon with `test::daemon_args` plus `extra_args`.
  explicit running_daemon(const std::vector<std::string>& extra_args = {}) {
    servers.reset_database();
    // Mixed case on purpose: e-mails are stored lowercase.
    auto rc = run("printf '" + fixture_admin_password + "\\n' | " + slicegate_binary()
                  + " create-admin --password-stdin --bcrypt-cost=4 --email Admin@Example.com"
                    " --database-url='"
                  + servers.database_url() + "' >/dev/null 2>&1");
    BOOST_REQUIRE_EQUAL(rc, 0);
    auto args = daemon_args(servers);
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    daemon.emplace(args);
    client.emplace(servers.nats_url());
    auto first
      = client->request("gateway.session.resolve", nlohmann::json{{"session_id", "warm-up"}},
                        std::chrono::seconds{30});
    BOOST_REQUIRE_MESSAGE(first.ok(), "the daemon does not answer: " << daemon->log());
  }

  ~running_daemon() {
    if (daemon && daemon->running())
      BOOST_CHECK_EQUAL(daemon->stop(), 0);
  }

  running_daemon(const running_daemon&) = delete;
  running_daemon& operator=(const running_daemon&) = delete;

  /// Logs in; returns the session token.
  std::string login(const std::string& email, const std::string& password) {
    auto r = client->request("gateway.auth.login",
                             nlohmann::json{{"email", email}, {"password", password}});
    BOOST_REQUIRE_MESSAGE(r.ok() && r.error_code().empty(), r.body);
    return r.json()["session"]["id"].get<std::string>();
  }

  /// A session of the admin made at set-up.
  std::string admin_token() {
    return login(fixture_admin_email, fixture_admin_password);
  }

  /// Waits until none of the slices `ids` is `destroying`: `slices.create` answers once the
  /// rows exist, and their wipes go on behind it. Fails the test after `timeout`.
  void wait_until_ready(const std::vector<int>& ids, const std::string& token,
                        std::chrono::milliseconds timeout = std::chrono::seconds{60}) {
    std::set<int> waiting{ids.begin(), ids.end()};
    auto ready = eventually(
      [&] {
        auto r
          = client->request("gateway.admin.slices.list", nlohmann::json{{"session_id", token}},
                            std::chrono::seconds{10});
        if (!r.ok() || !r.error_code().empty())
          return false;
        auto listed = r.json();
        for (auto& s : listed["slices"])
          if (s["status"] != "destroying")
            waiting.erase(s["id"].get<int>());
        return waiting.empty();
      },
      timeout);
    BOOST_REQUIRE_MESSAGE(ready, waiting.size() << " new slice(s) still destroying");
  }

  /// `slices.create` of `count` slices as the admin of `token`; returns their ids once every
  /// one is ready (available, or already assigned to a waiting user).
  std::vector<int> create_ready_slices(int count, const std::string& token) {
    auto r = client->request("gateway.admin.slices.create",
                             nlohmann::json{{"session_id", token}, {"count", count}},
                             std::chrono::seconds{30});
    BOOST_REQUIRE_MESSAGE(r.ok() && r.error_code().empty(), r.body);
    std::vector<int> ids;
    auto created = r.json();
    for (auto& s : created["slices"])
      ids.push_back(s["id"].get<int>());
    wait_until_ready(ids, token);
    return ids;
  }
};

} // namespace slicegate::test
