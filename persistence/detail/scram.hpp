#pragma once

// Slice database passwords: made at random here, and handed to PostgreSQL only as a
// SCRAM-SHA-256 verifier (RFC 5802, RFC 7677), the form pg_authid stores. The clear password
// never travels to the server, so no statement log can show it.

#include <optional>
#include <string>
#include <string_view>

namespace slicegate::detail {

/// A new password: 24 random bytes in hex (48 characters, safe in a URL as it is); none when
/// the system's random source fails.
std::optional<std::string> make_slice_password();

/// The verifier of `password`, `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`
/// (base64), with a fresh random 16-byte salt; none when the random source fails.
std::optional<std::string> scram_verifier(std::string_view password, int iterations = 4096);

/// The same with the salt given: the deterministic part, for tests against known vectors.
std::string scram_verifier(std::string_view password, std::string_view salt, int iterations);

} // namespace slicegate::detail
