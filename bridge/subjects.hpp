#pragma once

// Every NATS subject slicegate uses, as constants and one formatting function per family
// (DESIGN.md §4). The prefix (`gateway` by default) is configurable, so nothing below spells
// it out.

#include <cstdint>
#include <string>
#include <string_view>

namespace slicegate::subjects {

/// Verbs of `<p>.auth.<verb>`.
namespace auth_verb {
constexpr std::string_view signup = "signup";
constexpr std::string_view login = "login";
constexpr std::string_view logout = "logout";
constexpr std::string_view logout_all = "logout_all";
constexpr std::string_view password = "password";
} // namespace auth_verb

/// Verbs of `<p>.session.<verb>`.
namespace session_verb {
constexpr std::string_view resolve = "resolve";
} // namespace session_verb

/// Kinds of `<p>.events.<kind>`: signup and payment come in over JetStream, rejected goes out.
namespace event_kind {
constexpr std::string_view signup = "signup";
constexpr std::string_view payment = "payment";
constexpr std::string_view rejected = "rejected";
} // namespace event_kind

/// Kinds of `<p>.slice.<kind>.<slice id>`.
namespace slice_kind {
constexpr std::string_view health = "health";
constexpr std::string_view status = "status";
constexpr std::string_view alert = "alert";
} // namespace slice_kind

/// Request-reply families; a request to an unknown verb of one of these gets 404.
namespace family {
constexpr std::string_view auth = "auth";
constexpr std::string_view session = "session";
constexpr std::string_view admin = "admin";
} // namespace family

/// Verbs of the NATS micro protocol (ADR-32).
namespace micro_verb {
constexpr std::string_view ping = "PING";
constexpr std::string_view info = "INFO";
constexpr std::string_view stats = "STATS";
} // namespace micro_verb

/// `<p>.auth.<verb>`.
std::string auth(std::string_view prefix, std::string_view verb);

/// `<p>.session.<verb>`.
std::string session(std::string_view prefix, std::string_view verb);

/// `<p>.admin.<resource>.<verb>`.
std::string admin(std::string_view prefix, std::string_view resource, std::string_view verb);

/// `<p>.admin.<verb>`, for a verb about no one resource (`overview`).
std::string admin(std::string_view prefix, std::string_view verb);

/// `<p>.events.<kind>`.
std::string event(std::string_view prefix, std::string_view kind);

/// `<p>.slice.<kind>.<slice id>`.
std::string slice(std::string_view prefix, std::string_view kind, int32_t slice_id);

/// `<p>.user.slice.<user id>`.
std::string user_slice(std::string_view prefix, int32_t user_id);

/// `<p>.server.telemetry`.
std::string server_telemetry(std::string_view prefix);

/// `<p>.ping`: answered by the bridge itself (liveness and benchmarks).
std::string ping(std::string_view prefix);

/// `<p>.<family>.>`: every subject of a request-reply family.
std::string family_wildcard(std::string_view prefix, std::string_view family);

/// `<p>.slice.>`, `<p>.user.slice.>`, `<p>.server.>`: what stream GATEWAY_SLICES keeps.
std::string slice_wildcard(std::string_view prefix);
std::string user_slice_wildcard(std::string_view prefix);
std::string server_wildcard(std::string_view prefix);

/// `<p>.internal.sessions.forget`: between slicegate instances only, every one subscribed
/// (no queue group). Body `{instance, sessions: [session id], users: [user id]}`: what the
/// sender revoked or changed, which the others must not answer from their caches.
std::string forget_sessions(std::string_view prefix);

/// `$SRV.<verb>`, `$SRV.<verb>.<name>` or `$SRV.<verb>.<name>.<id>` (empty parts omitted).
std::string micro(std::string_view verb, std::string_view name = {}, std::string_view id = {});

/// Whether `prefix` is one or more dot-separated tokens of letters, digits, `_` and `-`: no
/// wildcards, no whitespace, no empty token.
bool valid_prefix(std::string_view prefix);

} // namespace slicegate::subjects
