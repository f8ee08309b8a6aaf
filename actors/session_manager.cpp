#include "actors/session_manager.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <utility>

#include <caf/typed_response_promise.hpp>

#include <spdlog/spdlog.h>

#include "actors/credentials_rules.hpp"
#include "actors/hasher.hpp"
#include "messages/error.hpp"

namespace slicegate {

namespace {

using self_ptr = session_manager_actor::stateful_pointer<session_manager_state>;

template <class T>
using promise = caf::typed_response_promise<T>;

// -- errors ---------------------------------------------------------------------------------

caf::error bad_session() {
  return make_error(ec::unauthorized, "invalid or expired session");
}

/// The one answer for an unknown e-mail and for a wrong password, so that the two cannot be
/// told apart by what comes back.
caf::error bad_credentials() {
  return make_error(ec::invalid_credentials, "invalid email or password");
}

/// The wait travels as the error's own field (the reply's `retry_after`); the text only
/// repeats it for people.
caf::error throttled(timespan wait) {
  auto seconds
    = std::max(std::chrono::ceil<std::chrono::seconds>(wait), std::chrono::seconds{1});
  return make_error(
    ec::rate_limited,
    "too many failed logins; retry after " + std::to_string(seconds.count()) + " s", seconds);
}

// -- time -----------------------------------------------------------------------------------

/// Now, at PostgreSQL's resolution (microseconds), so that a session created and cached
/// here equals the row it was written to.
timestamp now_of(self_ptr self) {
  return std::chrono::floor<std::chrono::microseconds>(self->state.cfg.now());
}

timestamp end_of_life(const session_record& s, const session_config& cfg) {
  return s.created_at + cfg.session_max_age;
}

bool expired(const session_record& s, timestamp now, const session_config& cfg) {
  return s.expires_at <= now || end_of_life(s, cfg) <= now;
}

auth::signed_in signed_in_of(const session_account& acc, std::string token) {
  auth::signed_in result;
  result.user = acc.user;
  result.token = std::move(token);
  result.expires_at = acc.session.expires_at;
  result.slice = acc.slice;
  return result;
}

// -- cache and invalidation -----------------------------------------------------------------

/// Forgets the cached sessions of a user about to change, and keeps lookups already on their
/// way from caching what they read before the change.
void invalidate_user(self_ptr self, int32_t user_id) {
  self->state.cache.erase_user(user_id);
  self->state.revoked.revoke_user(user_id);
}

void invalidate_session(self_ptr self, const std::string& id) {
  self->state.cache.erase(id);
  self->state.revoked.revoke_session(id);
}

/// Tells the other instances to forget what they cached of these sessions and users; call it
/// after the change committed, so that what they read next is the new state.
void announce(self_ptr self, std::vector<std::string> session_ids,
              std::vector<int32_t> user_ids) {
  if (self->state.peers)
    self->send(self->state.peers, auth::forget_cached{std::move(session_ids),
                                                      std::move(user_ids)});
}

/// Caches a session read or written by the read that began at `mark`, unless its user or the
/// session was revoked since.
void cache_fresh(self_ptr self, const session_account& acc, uint64_t mark) {
  if (!self->state.revoked.tainted(mark, acc.user.id, acc.session.id))
    self->state.cache.put(acc, now_of(self));
}

/// Deletes a session found expired (retention would as well, later); nobody waits for it.
void forget_expired(self_ptr self, const std::string& id) {
  self->state.cache.erase(id);
  self->request(self->state.db, self->state.cfg.request_timeout, db::delete_session{id})
    .then([](bool) {},
          [](caf::error& err) {
            spdlog::debug("session-manager cannot delete an expired session: {}",
                          message_of(err));
          });
}

/// Rolls the expiry of `s` to now + ttl (never past its absolute end) when that moves it by
/// at least the touch interval, so a busy session is written about once a day. The write
/// goes out without anyone waiting for it.
void roll_expiry(self_ptr self, session_record& s, timestamp now) {
  auto& cfg = self->state.cfg;
  auto target = std::min(now + cfg.session_ttl, end_of_life(s, cfg));
  if (target - s.expires_at < cfg.session_touch_interval)
    return;
  s.expires_at = target;
  self->request(self->state.db, cfg.request_timeout, db::extend_session{s.id, target})
    .then(
      [self, id = s.id](bool existed) {
        // Gone from the database (retention, or a revocation elsewhere): so from here.
        if (!existed)
          self->state.cache.erase(id);
      },
      [self, id = s.id, user_id = s.user_id](caf::error& err) {
        spdlog::warn("session-manager cannot extend a session of user {}: {}", user_id,
                     message_of(err));
        // The row kept its old expiry; read it again rather than trust the copy.
        self->state.cache.erase(id);
      });
}

/// The cached account of session `id` if it is live, its expiry rolled; nullptr if it must
/// be read from the database (not cached, or the copy is due for a refresh); an error if the
/// cached session has expired (it is deleted then).
caf::expected<session_account*> live_cached(self_ptr self, const std::string& id,
                                            timestamp now) {
  auto& st = self->state;
  auto entry = st.cache.find(id);
  if (entry == nullptr)
    return nullptr;
  if (expired(entry->account.session, now, st.cfg)) {
    forget_expired(self, id);
    return bad_session();
  }
  if (entry->loaded_at + st.cfg.cache_refresh <= now)
    return nullptr;
  roll_expiry(self, entry->account.session, now);
  return &entry->account;
}

/// Hands `result` to everyone waiting for the lookup of `id`.
void finish_lookup(self_ptr self, const std::string& id,
                   const caf::expected<session_account>& result) {
  auto i = self->state.pending.find(id);
  if (i == self->state.pending.end())
    return;
  auto waiting = std::move(i->second);
  self->state.pending.erase(i);
  for (auto& k : waiting)
    k(result);
}

/// Reads session `id` from the database, joining a lookup of the same id already on its way.
void load(self_ptr self, const std::string& id, session_continuation k) {
  // The database said a moment ago that it does not know this one.
  if (self->state.unknown.contains(id, now_of(self))) {
    k(bad_session());
    return;
  }
  auto& waiting = self->state.pending[id];
  waiting.push_back(std::move(k));
  if (waiting.size() > 1)
    return;
  auto mark = self->state.revoked.begin();
  self->request(self->state.db, self->state.cfg.request_timeout, db::find_session{id})
    .then(
      [self, id, mark](session_account& acc) {
        auto now = now_of(self);
        if (expired(acc.session, now, self->state.cfg)) {
          self->state.revoked.end();
          forget_expired(self, id);
          finish_lookup(self, id, bad_session());
          return;
        }
        roll_expiry(self, acc.session, now);
        cache_fresh(self, acc, mark);
        self->state.revoked.end();
        finish_lookup(self, id, std::move(acc));
      },
      [self, id](caf::error& err) {
        self->state.revoked.end();
        if (code_of(err) == ec::not_found) {
          self->state.unknown.put(id, now_of(self));
          finish_lookup(self, id, bad_session());
          return;
        }
        finish_lookup(self, id, err);
      });
}

/// Calls `k` with the live session `token` names: from the cache when it can, at once.
void with_session(self_ptr self, const std::string& token, session_continuation k) {
  auto id = session_id_of(token);
  if (!id) {
    k(bad_session());
    return;
  }
  auto hit = live_cached(self, *id, now_of(self));
  if (!hit)
    k(std::move(hit.error()));
  else if (*hit != nullptr)
    k(**hit);
  else
    load(self, *id, std::move(k));
}

// -- opening sessions -----------------------------------------------------------------------

using signed_in_continuation = std::function<void(caf::expected<auth::signed_in>)>;

/// Draws a token, stores its session (stamping `last_login_at`) and calls `k` with what the
/// client gets back, slice included.
void open_session(self_ptr self, const user_record& user, signed_in_continuation k) {
  auto token = make_session_token();
  if (!token) {
    k(make_error(ec::internal, "cannot draw a session token"));
    return;
  }
  auto& cfg = self->state.cfg;
  auto now = now_of(self);
  session_record s;
  s.id = sha256_hex(*token);
  s.user_id = user.id;
  s.created_at = now;
  s.expires_at = std::min(now + cfg.session_ttl, now + cfg.session_max_age);
  self->state.unknown.erase(s.id);
  auto mark = self->state.revoked.begin();
  self->request(self->state.db, cfg.request_timeout, db::record_login{user.id, s})
    .then(
      [self, s, token = std::move(*token), mark, k](user_record& u) {
        // The user's other cached sessions carry the previous `last_login_at`.
        self->state.cache.erase_user(u.id);
        if (!u.slice_id) {
          session_account acc{s, std::move(u), caf::none};
          cache_fresh(self, acc, mark);
          self->state.revoked.end();
          k(signed_in_of(acc, token));
          return;
        }
        // The reply names the user's slice, which only the session read joins in.
        self->request(self->state.db, self->state.cfg.request_timeout,
                      db::find_session{s.id})
          .then(
            [self, token, mark, k](session_account& acc) {
              cache_fresh(self, acc, mark);
              self->state.revoked.end();
              k(signed_in_of(acc, token));
            },
            [self, k](caf::error& err) {
              self->state.revoked.end();
              k(std::move(err));
            });
      },
      [self, k](caf::error& err) {
        self->state.revoked.end();
        k(std::move(err));
      });
}

/// Asks the slice manager to place a new user. Never fails: without a slice manager, or when
/// it cannot answer, the user simply has no slice and no known place yet (the slice manager
/// assigns waiting users on its own sweeps).
void place(self_ptr self, int32_t user_id, std::function<void(pool::placement)> k) {
  if (!self->state.slices) {
    k(pool::placement{});
    return;
  }
  self->request(self->state.slices, self->state.cfg.request_timeout, pool::place_user{user_id})
    .then([k](pool::placement& p) { k(std::move(p)); },
          [k, user_id](caf::error& err) {
            spdlog::warn("session-manager cannot place user {}: {}", user_id, message_of(err));
            k(pool::placement{});
          });
}

db::create_user new_user(self_ptr self, std::string email, std::string password_hash) {
  db::create_user result;
  result.email = std::move(email);
  result.password_hash = std::move(password_hash);
  result.subscription_status = subscription::trial;
  result.subscription_ends_at = now_of(self)
                                + std::chrono::hours{24} * self->state.cfg.trial_days;
  return result;
}

/// The account a signup event asks for, or why it can never be made.
caf::expected<db::create_user> event_request(self_ptr self, auth::signup_event& ev) {
  if (ev.event_id.empty())
    return make_error(ec::invalid_request, "id: required");
  auto email = normalize_email(ev.email);
  if (!email)
    return std::move(email.error());
  auto cost = bcrypt_cost_of(ev.password_hash);
  if (!cost)
    return make_error(ec::invalid_request, "password_hash: not a bcrypt hash");
  auto& cfg = self->state.cfg;
  if (*cost < cfg.event_bcrypt_min_cost || *cost > cfg.event_bcrypt_max_cost)
    return make_error(ec::invalid_request,
                      "password_hash: bcrypt cost must be from "
                        + std::to_string(cfg.event_bcrypt_min_cost) + " to "
                        + std::to_string(cfg.event_bcrypt_max_cost) + ", not "
                        + std::to_string(*cost));
  auto request = new_user(self, std::move(*email), std::move(ev.password_hash));
  request.stripe_customer = std::move(ev.stripe_customer);
  request.signup_event_id = std::move(ev.event_id);
  return request;
}

/// A batch of signup events on its way: one transaction for the accounts, one assignment
/// pass for the new ones, then a lookup for each whose e-mail was taken.
struct signup_batch_state {
  std::vector<auth::signup_result> results;
  /// Per result, the e-mail of an event whose account insert met a taken address.
  std::vector<std::string> taken;
  promise<std::vector<auth::signup_result>> rp;
  size_t open = 0;

  void finish_one() {
    if (--open == 0)
      rp.deliver(std::move(results));
  }
};

/// Idempotent by e-mail too, as for one event: an address that has an account already
/// answers with that account, and the event's hash is not applied.
void resolve_taken(self_ptr self, std::shared_ptr<signup_batch_state> st) {
  st->open = 1; // held until every lookup is sent
  for (size_t i = 0; i < st->taken.size(); ++i) {
    if (st->taken[i].empty())
      continue;
    ++st->open;
    self->request(self->state.db, self->state.cfg.request_timeout,
                  db::find_credentials{st->taken[i]})
      .then(
        [st, i](credentials& c) {
          st->results[i].error = caf::error{};
          st->results[i].user = std::move(c.user);
          st->finish_one();
        },
        [st, i](caf::error& e) {
          st->results[i].error = std::move(e);
          st->finish_one();
        });
  }
  st->finish_one();
}

caf::result<std::vector<auth::signup_result>>
signup_batch(self_ptr self, std::vector<auth::signup_event> events) {
  auto st = std::make_shared<signup_batch_state>();
  st->results.resize(events.size());
  st->taken.resize(events.size());
  db::create_users request;
  /// Position in `events` of each user of `request`.
  std::vector<size_t> at;
  for (size_t i = 0; i < events.size(); ++i) {
    auto one = event_request(self, events[i]);
    if (!one) {
      st->results[i].error = std::move(one.error());
      continue;
    }
    request.users.push_back(std::move(*one));
    at.push_back(i);
  }
  if (request.users.empty())
    return std::move(st->results);
  st->rp = self->make_response_promise<std::vector<auth::signup_result>>();
  std::vector<std::string> emails;
  for (auto& u : request.users)
    emails.push_back(u.email);
  self->request(self->state.db, self->state.cfg.request_timeout, std::move(request))
    .then(
      [self, st, at, emails](std::vector<db::user_creation>& created) {
        std::vector<int32_t> fresh;
        std::vector<size_t> fresh_at;
        for (size_t k = 0; k < at.size() && k < created.size(); ++k) {
          auto& r = st->results[at[k]];
          if (created[k].created) {
            if (created[k].created->created) {
              fresh.push_back(created[k].created->user.id);
              fresh_at.push_back(at[k]);
            }
            r.user = std::move(created[k].created->user);
          } else if (code_of(created[k].error) == ec::conflict) {
            st->taken[at[k]] = emails[k];
          } else {
            r.error = std::move(created[k].error);
          }
        }
        if (fresh.empty() || !self->state.slices) {
          resolve_taken(self, st);
          return;
        }
        spdlog::debug("session-manager signs up {} users from events", fresh.size());
        self
          ->request(self->state.slices, self->state.cfg.request_timeout,
                    pool::place_users{fresh})
          .then(
            [self, st, fresh_at](std::vector<pool::placement>& ps) {
              for (size_t k = 0; k < fresh_at.size() && k < ps.size(); ++k)
                if (ps[k].slice)
                  st->results[fresh_at[k]].user->slice_id = ps[k].slice->id;
              resolve_taken(self, st);
            },
            [self, st, n = fresh.size()](caf::error& err) {
              spdlog::warn("session-manager cannot place {} users: {}", n, message_of(err));
              resolve_taken(self, st);
            });
      },
      [st, at](caf::error& err) {
        // The transaction failed as a whole: every event it carried gets its error.
        for (auto k : at)
          st->results[k].error = err;
        st->rp.deliver(std::move(st->results));
      });
  return st->rp;
}

/// Stores a new account with its first session, then places it.
void create_account(self_ptr self, std::string email, std::string password_hash,
                    promise<auth::signed_in> rp) {
  self
    ->request(self->state.db, self->state.cfg.request_timeout,
              new_user(self, std::move(email), std::move(password_hash)))
    .then(
      [self, rp](db::user_created& created) mutable {
        spdlog::debug("session-manager signs up user {}", created.user.id);
        open_session(self, created.user, [self, rp](caf::expected<auth::signed_in> in) mutable {
          if (!in) {
            rp.deliver(std::move(in.error()));
            return;
          }
          auto user_id = in->user.id;
          place(self, user_id, [self, rp, in = std::move(*in)](pool::placement p) mutable {
            if (p.slice) {
              in.user.slice_id = p.slice->id;
              // The cached copy predates the slice.
              self->state.cache.erase_user(in.user.id);
            }
            in.slice = std::move(p.slice);
            in.waiting_position = p.waiting_position;
            rp.deliver(std::move(in));
          });
        });
      },
      [rp](caf::error& err) mutable {
        if (code_of(err) == ec::conflict)
          err = make_error(ec::conflict, "email already registered");
        rp.deliver(std::move(err));
      });
}

// -- login ----------------------------------------------------------------------------------

/// A login between its steps.
struct login_attempt {
  std::string email;
  std::string password;
  promise<auth::signed_in> rp;
};

/// Verifies the password against `hash` (the dummy when there is no `user`) and opens a
/// session if it matches.
void check_login(self_ptr self, login_attempt attempt, std::string hash,
                 std::optional<user_record> user) {
  auth::verify_password request{attempt.password, std::move(hash)};
  self->request(self->state.hasher, self->state.cfg.request_timeout, std::move(request))
    .then(
      [self, attempt, user](bool match) mutable {
        auto& throttle = self->state.throttle;
        if (!match || !user) {
          throttle.end_failed(attempt.email, now_of(self));
          attempt.rp.deliver(bad_credentials());
          return;
        }
        throttle.end_succeeded(attempt.email);
        spdlog::debug("session-manager signs in user {}", user->id);
        open_session(self, *user, [rp = attempt.rp](caf::expected<auth::signed_in> in) mutable {
          if (in)
            rp.deliver(std::move(*in));
          else
            rp.deliver(std::move(in.error()));
        });
      },
      [self, attempt](caf::error& err) mutable {
        self->state.throttle.end_undecided(attempt.email);
        attempt.rp.deliver(std::move(err));
      });
}

/// Reads the account of a login attempt, then checks its password.
void read_credentials(self_ptr self, login_attempt attempt) {
  auto& st = self->state;
  self->request(st.db, st.cfg.request_timeout, db::find_credentials{attempt.email})
    .then(
      [self, attempt](credentials& c) mutable {
        check_login(self, std::move(attempt), std::move(c.password_hash), std::move(c.user));
      },
      [self, attempt](caf::error& err) mutable {
        if (code_of(err) == ec::not_found) {
          // Same bcrypt work, same answer as a wrong password.
          check_login(self, std::move(attempt), self->state.dummy_hash, std::nullopt);
          return;
        }
        self->state.throttle.end_undecided(attempt.email);
        attempt.rp.deliver(std::move(err));
      });
}

// -- revocation -----------------------------------------------------------------------------

/// Deletes every session of `user_id` and answers how many there were.
void revoke_all(self_ptr self, int32_t user_id, promise<int32_t> rp) {
  invalidate_user(self, user_id);
  self
    ->request(self->state.db, self->state.cfg.request_timeout,
              db::delete_user_sessions{user_id, caf::none})
    .then(
      [self, rp, user_id](std::vector<std::string>& ids) mutable {
        invalidate_user(self, user_id);
        announce(self, {}, {user_id});
        spdlog::debug("session-manager revokes {} sessions of user {}", ids.size(), user_id);
        rp.deliver(static_cast<int32_t>(ids.size()));
      },
      [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
}

/// A password change between its steps.
struct password_change {
  session_record session;
  std::string email;
  std::string old_password;
  std::string new_password;
  promise<int32_t> rp;
};

/// Hashes the new password and stores it; the database drops the other sessions with it.
void store_password(self_ptr self, password_change change) {
  auto& cfg = self->state.cfg;
  auth::hash_password request{change.new_password, cfg.bcrypt_cost};
  self->request(self->state.hasher, cfg.request_timeout, std::move(request))
    .then(
      [self, change](std::string& hash) mutable {
        auto user_id = change.session.user_id;
        invalidate_user(self, user_id);
        db::set_password update{user_id, std::move(hash), change.session.id};
        self->request(self->state.db, self->state.cfg.request_timeout, std::move(update))
          .then(
            [self, rp = change.rp, user_id](std::vector<std::string>& revoked) mutable {
              invalidate_user(self, user_id);
              announce(self, {}, {user_id});
              spdlog::debug("session-manager changes the password of user {} and revokes "
                            "{} other sessions",
                            user_id, revoked.size());
              rp.deliver(static_cast<int32_t>(revoked.size()));
            },
            [rp = change.rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
      },
      [rp = change.rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
}

/// Checks the old password (throttled like a login, since a stolen session must not become
/// a way to guess the password) and stores the new one if it matches.
void change_password(self_ptr self, password_change change) {
  auto& st = self->state;
  if (auto wait = st.throttle.try_begin(change.email, now_of(self))) {
    change.rp.deliver(throttled(*wait));
    return;
  }
  auto on_error = [self, email = change.email, rp = change.rp](caf::error& err) mutable {
    self->state.throttle.end_undecided(email);
    rp.deliver(code_of(err) == ec::not_found ? bad_session() : std::move(err));
  };
  self
    ->request(st.db, st.cfg.request_timeout,
              db::find_credentials_by_id{change.session.user_id})
    .then(
      [self, change, on_error](credentials& c) mutable {
        auth::verify_password request{change.old_password, std::move(c.password_hash)};
        self->request(self->state.hasher, self->state.cfg.request_timeout, std::move(request))
          .then(
            [self, change](bool match) mutable {
              auto& throttle = self->state.throttle;
              if (!match) {
                throttle.end_failed(change.email, now_of(self));
                change.rp.deliver(
                  make_error(ec::invalid_credentials, "current password is incorrect"));
                return;
              }
              throttle.end_succeeded(change.email);
              store_password(self, std::move(change));
            },
            on_error);
      },
      on_error);
}

} // namespace

session_manager_actor::behavior_type
session_manager(session_manager_actor::stateful_pointer<session_manager_state> self,
                session_config cfg, persistence_actor db, hasher_full_actor hasher,
                slice_manager_actor slices, session_peers_actor peers) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.db = std::move(db);
  st.hasher = std::move(hasher);
  st.slices = std::move(slices);
  st.peers = std::move(peers);
  st.dummy_hash = bcrypt_dummy_hash(st.cfg.bcrypt_cost);
  st.cache = session_cache{st.cfg.cache_size};
  st.unknown = negative_cache{st.cfg.unknown_capacity, st.cfg.unknown_ttl};
  st.throttle = login_throttle{st.cfg.login_max_failures, st.cfg.login_failure_window,
                               st.cfg.throttle_capacity};
  return {
    [self](auth::signup& req) -> caf::result<auth::signed_in> {
      auto email = normalize_email(req.email);
      if (!email)
        return std::move(email.error());
      if (auto err = check_new_password(req.password))
        return err;
      auto& cfg = self->state.cfg;
      auto rp = self->make_response_promise<auth::signed_in>();
      self
        ->request(self->state.hasher, cfg.request_timeout,
                  auth::hash_password{std::move(req.password), cfg.bcrypt_cost})
        .then(
          [self, rp, email = std::move(*email)](std::string& hash) mutable {
            create_account(self, std::move(email), std::move(hash), rp);
          },
          [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
      return rp;
    },
    [self](auth::login& req) -> caf::result<auth::signed_in> {
      auto email = normalize_email(req.email);
      if (!email)
        return std::move(email.error());
      if (auto err = check_presented_password(req.password))
        return err;
      auto& st = self->state;
      // Refused before any bcrypt time is spent: a throttled e-mail costs nothing.
      if (auto wait = st.throttle.try_begin(*email, now_of(self)))
        return throttled(*wait);
      auto rp = self->make_response_promise<auth::signed_in>();
      login_attempt attempt{std::move(*email), std::move(req.password), rp};
      // A saturated hasher refuses the login before the database reads anything for it: a
      // flood of logins costs no database work beyond what bcrypt can follow.
      self->request(st.hasher, st.cfg.request_timeout, stats_atom_v)
        .then(
          [self, attempt](metrics::hasher_stats& h) mutable {
            if (h.queue_capacity > 0 && h.queued >= h.queue_capacity) {
              self->state.throttle.end_undecided(attempt.email);
              attempt.rp.deliver(
                make_error(ec::rate_limited, "password hashing is saturated; retry later"));
              return;
            }
            read_credentials(self, std::move(attempt));
          },
          [self, attempt](caf::error&) mutable { read_credentials(self, std::move(attempt)); });
      return rp;
    },
    [self](auth::logout& req) -> caf::result<bool> {
      auto id = session_id_of(req.token);
      if (!id)
        return bad_session();
      invalidate_session(self, *id);
      auto rp = self->make_response_promise<bool>();
      self->request(self->state.db, self->state.cfg.request_timeout, db::delete_session{*id})
        .then(
          [self, rp, id = *id](bool deleted) mutable {
            if (deleted)
              announce(self, {id}, {});
            rp.deliver(deleted);
          },
          [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
      return rp;
    },
    [self](auth::logout_all& req) -> caf::result<int32_t> {
      auto rp = self->make_response_promise<int32_t>();
      with_session(self, req.token, [self, rp](caf::expected<session_account> acc) mutable {
        if (acc)
          revoke_all(self, acc->user.id, rp);
        else
          rp.deliver(std::move(acc.error()));
      });
      return rp;
    },
    [self](auth::change_password& req) -> caf::result<int32_t> {
      if (auto err = check_presented_password(req.old_password))
        return err;
      if (auto err = check_new_password(req.new_password))
        return err;
      auto rp = self->make_response_promise<int32_t>();
      with_session(self, req.token,
                   [self, rp, old_password = std::move(req.old_password),
                    new_password = std::move(req.new_password)](
                     caf::expected<session_account> acc) mutable {
                     if (!acc) {
                       rp.deliver(std::move(acc.error()));
                       return;
                     }
                     change_password(self, password_change{std::move(acc->session),
                                                           std::move(acc->user.email),
                                                           std::move(old_password),
                                                           std::move(new_password), rp});
                   });
      return rp;
    },
    [self](auth::resolve& req) -> caf::result<auth::signed_in> {
      // The hot path: a cached, live session is answered right here.
      auto id = session_id_of(req.token);
      if (!id)
        return bad_session();
      auto hit = live_cached(self, *id, now_of(self));
      if (!hit)
        return std::move(hit.error());
      if (*hit != nullptr)
        return signed_in_of(**hit, std::move(req.token));
      auto rp = self->make_response_promise<auth::signed_in>();
      load(self, *id,
           [rp, token = std::move(req.token)](caf::expected<session_account> acc) mutable {
             if (acc)
               rp.deliver(signed_in_of(*acc, std::move(token)));
             else
               rp.deliver(std::move(acc.error()));
           });
      return rp;
    },
    [self](auth::authorize_admin& req) -> caf::result<user_record> {
      auto rp = self->make_response_promise<user_record>();
      with_session(self, req.token, [rp](caf::expected<session_account> acc) mutable {
        if (!acc)
          rp.deliver(std::move(acc.error()));
        else if (!acc->user.is_admin)
          rp.deliver(make_error(ec::forbidden, "admin rights required"));
        else
          rp.deliver(std::move(acc->user));
      });
      return rp;
    },
    [self](auth::signup_event& ev) -> caf::result<user_record> {
      auto request = event_request(self, ev);
      if (!request)
        return std::move(request.error());
      auto rp = self->make_response_promise<user_record>();
      auto email = request->email;
      self->request(self->state.db, self->state.cfg.request_timeout, std::move(*request))
        .then(
          [self, rp](db::user_created& created) mutable {
            if (!created.created) {
              // Seen before (a redelivery): same answer, no second placement.
              rp.deliver(std::move(created.user));
              return;
            }
            spdlog::debug("session-manager signs up user {} from an event", created.user.id);
            place(self, created.user.id,
                  [rp, user = std::move(created.user)](pool::placement p) mutable {
                    if (p.slice)
                      user.slice_id = p.slice->id;
                    rp.deliver(std::move(user));
                  });
          },
          [self, rp, email = std::move(email)](caf::error& err) mutable {
            if (code_of(err) != ec::conflict) {
              rp.deliver(std::move(err));
              return;
            }
            // Idempotent by e-mail too: the address already has an account (signed up on
            // the web, or by an event with another id). That account stays as it is, the
            // event's hash is not applied, and the event counts as done.
            self->request(self->state.db, self->state.cfg.request_timeout,
                          db::find_credentials{email})
              .then([rp](credentials& c) mutable { rp.deliver(std::move(c.user)); },
                    [rp](caf::error& e) mutable { rp.deliver(std::move(e)); });
          });
      return rp;
    },
    [self](auth::signup_events& batch) -> caf::result<std::vector<auth::signup_result>> {
      return signup_batch(self, std::move(batch.events));
    },
    [self](admin::list_users& req) -> caf::result<admin::user_page> {
      return self->delegate(self->state.db, std::move(req));
    },
    [self](admin::find_user& req) -> caf::result<admin::user_detail> {
      auto now = now_of(self);
      return self->delegate(self->state.db, admin::get_user{req.user_id, now,
                                                            now - self->state.cfg.session_max_age});
    },
    [self](admin::update_user& req) -> caf::result<user_record> {
      auto rp = self->make_response_promise<user_record>();
      // Forgotten before and after the write: a lookup that started before it must not put
      // the old rights back into the cache.
      invalidate_user(self, req.user_id);
      self
        ->request(self->state.db, self->state.cfg.request_timeout,
                  db::set_admin{req.user_id, "", req.is_admin})
        .then(
          [self, rp, req](user_record& user) mutable {
            invalidate_user(self, user.id);
            announce(self, {}, {user.id});
            spdlog::info("session-manager: admin {} {} admin rights of user {}", req.by,
                         req.is_admin ? "grants" : "withdraws", user.id);
            rp.deliver(std::move(user));
          },
          [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
      return rp;
    },
    [self](admin::revoke_sessions& req) -> caf::result<int32_t> {
      auto rp = self->make_response_promise<int32_t>();
      // An unknown user is a 404, not "0 sessions revoked".
      self->request(self->state.db, self->state.cfg.request_timeout, db::get_user{req.user_id})
        .then(
          [self, rp, req](user_record&) mutable {
            spdlog::info("session-manager: admin {} revokes every session of user {}", req.by,
                         req.user_id);
            revoke_all(self, req.user_id, rp);
          },
          [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
      return rp;
    },
    [self](auth::user_changed& x) {
      invalidate_user(self, x.user_id);
      announce(self, {}, {x.user_id});
    },
    [self](auth::forget_cached& x) {
      for (auto& id : x.session_ids)
        invalidate_session(self, id);
      for (auto id : x.user_ids)
        invalidate_user(self, id);
    },
  };
}

} // namespace slicegate
