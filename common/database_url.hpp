#pragma once

// libpq connection strings, in URL or keyword form. Shared by every layer; depends on nothing
// of slicegate's.

#include <string>

namespace slicegate {

/// Replaces the database name of a libpq URL or keyword string.
std::string with_database(const std::string& url, const std::string& dbname);

/// `url` logging in as `user` with `password` instead of whatever it named: in URL form the
/// user information is replaced (percent-encoded) and `user`/`password` parameters dropped; in
/// keyword form the keywords are replaced (quoted).
std::string with_login(const std::string& url, const std::string& user,
                       const std::string& password);

/// The role a libpq URL or keyword string logs in as (`user`); empty when it names none
/// (libpq then takes the operating system's user). Percent-escapes are decoded.
std::string role_of(const std::string& url);

/// `url` with the password of its `scheme://user:password@` part (and a libpq
/// `password=` keyword) replaced by `***`, for logs and messages; in a NATS URL
/// (`nats`, `tls`, `ws`, `wss`) a lone `token@` too. Several comma-separated URLs (NATS) are
/// each redacted.
std::string redact_url(const std::string& url);

} // namespace slicegate
