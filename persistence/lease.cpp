#include "persistence/lease.hpp"

#include <algorithm>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include <caf/typed_event_based_actor.hpp>
#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

#include "common/duration.hpp"
#include "common/shards.hpp"
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
                        "lease_release", "member_beat", "member_live", "member_leave",
                        "shard_take", "shard_release"})
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

/// Stops presenting the lease and the shards as held once `member_timeout` has passed
/// without reaching the database (by then the other instances count this one as dead).
/// Returns whether that changed anything.
bool expire(keeper_pointer self) {
  auto& st = self->state;
  if (st.link->open_now()
      || std::chrono::steady_clock::now() - st.last_contact < st.config.member_timeout)
    return false;
  auto before = st.now;
  st.now.held = false;
  st.now.term = 0;
  st.now.shards.clear();
  st.now.members.clear();
  if (before == st.now)
    return false;
  spdlog::warn("lease-keeper gives up lease {} and its watch shards: no database for {}",
               st.config.name, render_duration(st.config.member_timeout));
  return true;
}

/// The connection failed or can no longer be trusted: the locks of its session (the lease,
/// the watch shards) are gone with it, though they are presented as held for the grace of
/// `expire`. Returns whether what is presented changed.
bool drop_link(keeper_pointer self) {
  auto& st = self->state;
  st.link->close();
  st.lease_locked = false;
  st.locked_shards.clear();
  return expire(self);
}

/// The database answered: the grace of `expire` starts over.
void contact(keeper_pointer self) {
  self->state.last_contact = std::chrono::steady_clock::now();
}

/// A PostgreSQL array literal of shard numbers (integers only, so nothing needs quoting).
std::string array_of(const std::vector<int32_t>& xs) {
  std::string out = "{";
  for (auto x : xs) {
    if (out.size() > 1)
      out += ',';
    out += std::to_string(x);
  }
  return out + "}";
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
        contact(self);
        auto before = st.now;
        // Presented as held through an outage, it went to another instance meanwhile.
        st.now.held = false;
        st.now.term = 0;
        auto holder = probe.exec_prepared("lease_holder", cfg.name);
        if (!holder.empty())
          st.now.holder = holder[0][0].as<std::string>();
        return !(before == st.now);
      }
    }
    pqxx::work tx{c};
    auto term = tx.exec_prepared1("lease_take", cfg.name, cfg.holder)["term"].as<int64_t>();
    tx.commit();
    // The shards stay as they are: they are locks of their own on the same session.
    contact(self);
    st.lease_locked = true;
    st.now.held = true;
    st.now.term = term;
    st.now.holder = cfg.holder;
    spdlog::info("lease-keeper takes lease {} in term {}", cfg.name, term);
    return true;
  } catch (const std::exception& e) {
    spdlog::debug("lease-keeper cannot try lease {}: {}", cfg.name, e.what());
    return drop_link(self);
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
    contact(self);
    if (!rows.empty())
      return false;
    spdlog::error("lease-keeper finds lease {} taken over while it held it; giving it up",
                  cfg.name);
    st.now.held = false;
    st.now.term = 0;
    drop_link(self);
    return true;
  } catch (const std::exception& e) {
    spdlog::warn("lease-keeper loses the session of lease {}: {}; it counts as held for {} "
                 "while it tries again",
                 cfg.name, e.what(), render_duration(cfg.member_timeout));
  }
  // Whatever happened to the session, it is not trusted with the lock any more.
  return drop_link(self);
}

/// Beats this instance's row, reads the live instances and brings the shards held in line
/// with those it wins among them; returns whether they changed.
bool keep_shards(keeper_pointer self) {
  auto& st = self->state;
  auto& cfg = st.config;
  if (cfg.shard_count <= 0)
    return false;
  auto before = st.now;
  try {
    pqxx::nontransaction tx{st.link->open()};
    std::vector<std::string> members;
    auto timeout = std::chrono::duration<double>(cfg.member_timeout).count();
    for (auto row : tx.exec_prepared("member_live", timeout))
      members.push_back(row[0].as<std::string>());
    if (std::find(members.begin(), members.end(), cfg.holder) == members.end()) {
      members.push_back(cfg.holder);
      std::sort(members.begin(), members.end());
    }
    st.now.members = members;
    auto target = shards::owned(members, cfg.holder, cfg.shard_count);
    std::vector<int32_t> keep;
    std::vector<int32_t> give;
    for (auto shard : st.locked_shards)
      (std::binary_search(target.begin(), target.end(), shard) ? keep : give).push_back(shard);
    // Shards presented through an outage that this instance no longer wins go as well.
    std::vector<int32_t> presented;
    for (auto shard : st.now.shards)
      if (std::binary_search(target.begin(), target.end(), shard))
        presented.push_back(shard);
    if (presented != st.now.shards) {
      // The watchers of these shards stop before anyone else can take them: the listeners
      // hear first, and the new owner's first probe waits for the slice's phase.
      st.now.shards = presented;
      tell(self);
    }
    if (!give.empty()) {
      st.locked_shards = keep;
      tx.exec_prepared("shard_release", array_of(give));
    }
    std::vector<int32_t> want;
    std::set_difference(target.begin(), target.end(), keep.begin(), keep.end(),
                        std::back_inserter(want));
    if (!want.empty()) {
      // Shards still held by their previous owner are tried again next time.
      for (auto row : tx.exec_prepared("shard_take", array_of(want)))
        keep.push_back(row[0].as<int32_t>());
      std::sort(keep.begin(), keep.end());
      st.locked_shards = keep;
    }
    // What is presented is what is locked: a shard presented through an outage that another
    // instance took meanwhile is not this one's any more.
    st.now.shards = st.locked_shards;
    tx.exec_prepared("member_beat", cfg.holder, array_of(st.now.shards));
    contact(self);
  } catch (const std::exception& e) {
    spdlog::debug("lease-keeper cannot keep its watch shards: {}", e.what());
    drop_link(self);
  }
  if (st.now.shards != before.shards || st.now.members != before.members) {
    spdlog::info("lease-keeper holds {} of {} watch shard(s) among {} instance(s)",
                 st.now.shards.size(), cfg.shard_count, st.now.members.size());
    return true;
  }
  return false;
}

void step(keeper_pointer self) {
  auto changed = self->state.lease_locked ? check(self) : try_take(self);
  if (keep_shards(self))
    changed = true;
  if (expire(self))
    changed = true;
  if (changed)
    tell(self);
}

} // namespace

lease_state::lease_state() = default;

lease_state::~lease_state() {
  if (!link || !link->open_now())
    return;
  try {
    pqxx::nontransaction tx{link->open()};
    // Gone from the members first, so that the others take the shards on their next beat;
    // closing the connection frees the shard locks.
    if (config.shard_count > 0)
      tx.exec_prepared("member_leave", config.holder);
    if (lease_locked) {
      tx.exec_prepared("lease_release", config.name);
      spdlog::info("lease-keeper gives lease {} back", config.name);
    }
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
  st.now.shard_count = st.config.shard_count;
  self->send(self, tick_atom_v);
  return {
    [self](tick_atom) {
      step(self);
      self->delayed_send(self, self->state.config.interval, tick_atom_v);
    },
    [self](lease_atom) -> lease::state {
      auto changed = !self->state.lease_locked && try_take(self);
      if (keep_shards(self))
        changed = true;
      if (changed)
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
