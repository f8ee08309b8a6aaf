#pragma once

// The rules an account's credentials follow, as pure functions: e-mail normalization, password
// shape, session tokens and the ids stored for them, and the shape of bcrypt hashes that come
// from outside. The session manager applies them; nothing here talks to an actor.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <caf/error.hpp>
#include <caf/expected.hpp>

namespace slicegate {

/// Longest accepted e-mail address, in characters (RFC 5321's path limit minus the brackets).
constexpr size_t max_email_chars = 254;

/// Fewest characters (code points, not bytes) a new password may have.
constexpr size_t min_password_chars = 8;

/// bcrypt reads only this many bytes of a password; longer ones are refused, never truncated.
constexpr size_t max_password_bytes = 72;

/// Raw bytes of a session token; the client sees them as twice as many hex characters.
constexpr size_t session_token_bytes = 32;

/// Trims and lowercases `input` and checks that it looks like an e-mail address: at most 254
/// characters, valid UTF-8, exactly one `@` with something on both sides, no spaces and no
/// control characters. Lowercasing covers non-ASCII letters the way PostgreSQL's `lower()`
/// does under a UTF-8 locale, so that the stored form passes the table's lowercase check.
/// Fails with `ec::invalid_request` and a message starting with "email: ".
caf::expected<std::string> normalize_email(std::string_view input);

/// Checks a password that is about to be hashed: at least 8 characters, at most 72 bytes, no
/// NUL byte (crypt() would stop there, which is truncation by another name). Fails with
/// `ec::password_too_long` or `ec::invalid_request`; returns a default error if it is fine.
caf::error check_new_password(std::string_view password);

/// Checks a password presented at login: not empty, at most 72 bytes, no NUL byte. Accounts
/// made before a rule changed can still log in, so the minimum length is not enforced here.
caf::error check_presented_password(std::string_view password);

/// Returns a fresh session token: 32 bytes from the OS CSPRNG as 64 lowercase hex
/// characters; none if the CSPRNG fails.
std::optional<std::string> make_session_token();

/// Returns the id stored for a session token: the hex SHA-256 of its lowercase form; none if
/// `token` is not 64 hex characters.
std::optional<std::string> session_id_of(std::string_view token);

/// Returns the lowercase hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

/// Returns the cost of a bcrypt hash (`$2a$`, `$2b$` or `$2y$`, two-digit cost, 53 characters
/// of salt and checksum); none if `hash` is not one.
std::optional<int> bcrypt_cost_of(std::string_view hash);

/// Returns the number of characters (UTF-8 code points) in `text`.
size_t utf8_length(std::string_view text);

} // namespace slicegate
