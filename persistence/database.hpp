#pragma once

// The persistence actor's work, one member function per request message. Internal to
// persistence/: it includes libpqxx.
//
// Every member returns a domain outcome (`not_found`, `invalid_request`, …) as a
// `caf::expected` error and lets libpqxx exceptions through; the actor maps those at its
// handler boundary, so nothing here decides what a lost connection means to a requester.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "messages/db.hpp"
#include "persistence/detail/link.hpp"
#include "persistence/persistence.hpp"

namespace slicegate {

class database {
public:
  explicit database(persistence_config cfg);
  ~database();

  database(const database&) = delete;
  database& operator=(const database&) = delete;

  caf::expected<int32_t> ping(const db::ping&);
  caf::expected<std::vector<int32_t>> migrate(const db::migrate&);
  caf::expected<db::user_created> create_user(const db::create_user& x);
  /// `refused` names, by position, users the caller refused already (one entry per user, or
  /// none): they keep that error and are skipped.
  caf::expected<std::vector<db::user_creation>>
  create_users(const db::create_users& x, const std::vector<caf::error>& refused);
  caf::expected<credentials> find_credentials(const db::find_credentials& x);
  caf::expected<credentials> find_credentials_by_id(const db::find_credentials_by_id& x);
  caf::expected<user_record> get_user(const db::get_user& x);
  caf::expected<user_record> record_login(const db::record_login& x);
  caf::expected<std::vector<std::string>> set_password(const db::set_password& x);
  caf::expected<session_account> find_session(const db::find_session& x);
  caf::expected<bool> extend_session(const db::extend_session& x);
  caf::expected<bool> delete_session(const db::delete_session& x);
  caf::expected<std::vector<std::string>>
  delete_user_sessions(const db::delete_user_sessions& x);
  caf::expected<int64_t> delete_expired_sessions(const db::delete_expired_sessions& x);
  caf::expected<user_record> set_admin(const db::set_admin& x);

  /// The gateway database's link, for the stores beside this class that the actor delegates
  /// to (persistence/telemetry.hpp).
  detail::link& gateway() {
    return gateway_;
  }

private:
  persistence_config config_;
  /// The gateway database: every table of schema `gateway`.
  detail::link gateway_;
};

} // namespace slicegate
