#include "persistence/lease.hpp"

#include <optional>

#include <caf/typed_event_based_actor.hpp>
#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

#include "persistence/detail/link.hpp"
#include "persistence/detail/statements.hpp"

namespace slicegate {

/// One connection that holds the advisory lock; never reopened behind the keeper's back,
/// since a new session does not hold the old one's lock.
class lease_link {
public:
  explicit lease_link(const lease_config& cfg) {
    detail::session_limits limits;
    // A silent connection is found dead within about ten seconds on the server side, which
    // then releases the lock for a standby.
    limits.keepalive_idle = std::chrono::seconds{5};
    limits.statement_timeout = std::chrono::seconds{5};
    limits.lock_timeout = std::chrono::seconds{2};
    url_ = detail::with_session_limits(
      detail::with_connect_timeout(cfg.database_url, cfg.connect_timeout_seconds), limits);
  }

  /// The open connection, opened if need be; throws when the server cannot be reached.
  pqxx::connection& open() {
    if (!conn_) {
      conn_ = std::make_unique<pqxx::connection>(url_);
      for (auto stem : {"lease_try", "lease_take", "lease_renew", "lease_holder",
                        "lease_release"})
        conn_->prepare(stem, detail::statement(stem));
    }
    return *conn_;
  }

  void close() {
    conn_.reset();
  }

  bool open_now() const {
    return conn_ != nullptr;
  }

private:
  std::string url_;
  std::unique_ptr<pqxx::connection> conn_;
};

namespace {

using keeper_pointer = lease_keeper_actor::stateful_pointer<lease_state>;

void tell(keeper_pointer self) {
  for (auto& l : self->state.listeners)
    self->send(l, self->state.now);
}

/// Takes the lease if nobody holds it; returns whether the state changed (taken, or another
/// holder recorded).
bool try_take(keeper_pointer self) {
  auto& st = self->state;
  auto& cfg = st.config;
  try {
    auto& c = st.link->open();
    {
      pqxx::nontransaction probe{c};
      if (!probe.exec_prepared1("lease_try", cfg.name)["held"].as<bool>()) {
        auto holder = probe.exec_prepared("lease_holder", cfg.name);
        auto before = st.now.holder;
        if (!holder.empty())
          st.now.holder = holder[0][0].as<std::string>();
        return st.now.holder != before;
      }
    }
    pqxx::work tx{c};
    auto term = tx.exec_prepared1("lease_take", cfg.name, cfg.holder)["term"].as<int64_t>();
    tx.commit();
    st.now = lease::state{true, term, cfg.holder};
    spdlog::info("lease-keeper takes lease {} in term {}", cfg.name, term);
    return true;
  } catch (const std::exception& e) {
    spdlog::debug("lease-keeper cannot try lease {}: {}", cfg.name, e.what());
    st.link->close();
    return false;
  }
}

/// Checks that the lease is still held; returns whether the state changed (it was lost).
bool check(keeper_pointer self) {
  auto& st = self->state;
  auto& cfg = st.config;
  try {
    pqxx::work tx{st.link->open()};
    auto rows = tx.exec_prepared("lease_renew", cfg.name, cfg.holder, st.now.term);
    tx.commit();
    if (!rows.empty())
      return false;
    spdlog::error("lease-keeper finds lease {} taken over while it held it; giving it up",
                  cfg.name);
  } catch (const std::exception& e) {
    spdlog::warn("lease-keeper loses lease {}: its connection failed: {}", cfg.name, e.what());
  }
  // Whatever happened to the session, it is not trusted with the lock any more.
  st.link->close();
  st.now = lease::state{};
  return true;
}

void step(keeper_pointer self) {
  auto changed = self->state.now.held ? check(self) : try_take(self);
  if (changed)
    tell(self);
}

} // namespace

lease_state::lease_state() = default;

lease_state::~lease_state() {
  if (!link || !link->open_now() || !now.held)
    return;
  try {
    pqxx::nontransaction tx{link->open()};
    tx.exec_prepared("lease_release", config.name);
    spdlog::info("lease-keeper gives lease {} back", config.name);
  } catch (const std::exception& e) {
    spdlog::warn("lease-keeper cannot give lease {} back ({}); closing its connection does",
                 config.name, e.what());
  }
  link->close();
}

lease_keeper_actor::behavior_type
lease_keeper(lease_keeper_actor::stateful_pointer<lease_state> self, lease_config config) {
  auto& st = self->state;
  st.config = std::move(config);
  st.link = std::make_unique<lease_link>(st.config);
  self->send(self, tick_atom_v);
  return {
    [self](tick_atom) {
      step(self);
      self->delayed_send(self, self->state.config.interval, tick_atom_v);
    },
    [self](lease_atom) -> lease::state {
      if (!self->state.now.held && try_take(self))
        tell(self);
      return self->state.now;
    },
    [self](lease_listener_actor& listener) {
      self->state.listeners.push_back(listener);
      self->send(listener, self->state.now);
    },
  };
}

} // namespace slicegate
