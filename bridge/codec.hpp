#pragma once

// JSON at the NATS edge: strict decoding of requests and events into typed messages, and the
// encoding of replies and events. Only bridge/ (and the CLI, tests and benchmarks) include this
// header; actors never see JSON.
//
// Decoding never throws and never crashes: every failure is `ec::invalid_request` with a
// message naming the field ("field 'email': expected a string, got number").

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include "messages/auth.hpp"
#include "messages/error.hpp"
#include "messages/events.hpp"
#include "messages/records.hpp"

namespace slicegate::codec {

using json = nlohmann::json;

/// Longest accepted strings, in bytes. They bound the work a request can cause; the rules of
/// the domain (bcrypt's 72 bytes, the token format) are the actors' to enforce.
namespace limits {
/// RFC 5321 caps a forward path at 256 octets including the angle brackets.
constexpr size_t email = 254;
constexpr size_t password = 1024;
/// Session tokens are 64 hex characters.
constexpr size_t token = 128;
constexpr size_t event_id = 255;
/// A bcrypt hash is 60 characters; other crypt formats are longer.
constexpr size_t password_hash = 255;
/// Stripe ids (`cus_…`, `sub_…`, `evt_…`).
constexpr size_t stripe_id = 255;
/// The idempotency key of `slices.create`: enough for a UUID with a caller's prefix.
constexpr size_t idempotency_key = 200;
} // namespace limits

/// Which characters a string field accepts.
enum class charset {
  /// Anything but U+0000 (which would cut a C string short, e.g. a password given to bcrypt).
  no_nul,
  /// No control characters at all: identifiers, e-mail addresses, tokens.
  printable,
};

/// Formats `t` as RFC 3339 UTC with microseconds, e.g. `2026-11-24T16:00:00.123456Z`.
std::string format_time(caf::timestamp t);

/// Parses an RFC 3339 time (`Z` or a `±hh:mm` offset, optional fraction of up to 9 digits).
std::optional<caf::timestamp> parse_time(std::string_view text);

/// `t` formatted, or null.
json optional_time(const optional<timestamp>& t);

/// `x` as a JSON value, or null.
template <class T>
json optional_value(const optional<T>& x) {
  return x ? json(*x) : json(nullptr);
}

/// Serializes `x` compactly. Invalid UTF-8 in a string (say, a phone number a slice reported)
/// becomes U+FFFD instead of an exception.
std::string dump(const json& x);

/// Writes JSON text directly, for replies too large to build as a document first (a telemetry
/// series of 10,000 points): a document costs an allocation per value, the text only its
/// characters. Keys are the caller's literals and are not escaped; string values are.
///
///     text_writer w;
///     w.begin_object().key("points").begin_array();
///     w.begin_object().key("at").value(format_time(t)).end_object();
///     w.end_array().end_object();
///     send(w.text());
class text_writer {
 public:
  text_writer& begin_object();
  text_writer& end_object();
  text_writer& begin_array();
  text_writer& end_array();
  /// The key of the next value inside an object.
  text_writer& key(const char* name);
  text_writer& value(int64_t x);
  text_writer& value(int32_t x) {
    return value(static_cast<int64_t>(x));
  }
  /// Shortest round-trip form; NaN and infinities are written as null.
  text_writer& value(double x);
  text_writer& value(const std::string& x);
  /// RFC 3339, as `format_time` writes it.
  text_writer& value(caf::timestamp t);
  text_writer& null();
  template <class T>
  text_writer& value(const optional<T>& x) {
    return x ? value(*x) : null();
  }

  const std::string& text() const {
    return out_;
  }

 private:
  /// A separator before a value, unless it is the first in its container or follows a key.
  void separate();

  std::string out_;
  bool first_ = true;
};

/// Parses `payload` as a JSON object. An empty payload is an empty object when
/// `empty_is_object` is set (requests without parameters).
caf::expected<json> parse_object(std::string_view payload, bool empty_is_object = false);

/// Reads the fields of one JSON object, remembering the first failure. Typical use:
///
///     fields f{j};
///     f.text("email", x.email, limits::email, charset::printable);
///     if (auto err = f.error()) return err;
class fields {
 public:
  /// `path` prefixes field names in messages ("data.object").
  explicit fields(const json& object, std::string path = {});

  /// A required string of at most `max_size` bytes.
  fields& text(const char* name, std::string& out, size_t max_size, charset chars);

  /// An optional string: absent or null leaves `out` empty.
  fields& text(const char* name, optional<std::string>& out, size_t max_size, charset chars);

  /// A required integer within [min, max].
  fields& integer(const char* name, int64_t& out, int64_t min, int64_t max);

  /// An optional integer within [min, max]: absent or null leaves `out` empty.
  fields& integer(const char* name, optional<int64_t>& out, int64_t min, int64_t max);

  /// A required boolean.
  fields& boolean(const char* name, bool& out);

  /// An optional boolean: absent or null leaves `out` empty.
  fields& boolean(const char* name, optional<bool>& out);

  /// A required RFC 3339 time.
  fields& time(const char* name, timestamp& out);

  /// An optional RFC 3339 time: absent or null leaves `out` empty.
  fields& time(const char* name, optional<timestamp>& out);

  /// A required nested object; `out` points into the parsed document.
  fields& object(const char* name, const json*& out);

  /// An optional domain state (a slice status, …) spelled as its enum's `to_string`: absent
  /// or null leaves `out` empty, a spelling the enum does not know fails.
  template <class E>
  fields& state(const char* name, optional<E>& out) {
    optional<std::string> spelled;
    text(name, spelled, max_state, charset::printable);
    if (error_ || !spelled)
      return *this;
    if (auto x = from_string<E>(*spelled))
      out = *x;
    else
      fail("field '" + path_of(name) + "': unknown value '" + *spelled + "'");
    return *this;
  }

  /// The first failure, or none.
  const caf::error& error() const {
    return error_;
  }

  /// The path of field `name`, as messages name it.
  std::string path_of(const char* name) const;

 private:
  /// The field's value if present and not null; records "missing field" when `required`.
  const json* find(const char* name, bool required);
  void fail(std::string message);

  /// Longer than any state's name.
  static constexpr size_t max_state = 32;

  const json& object_;
  std::string path_;
  caf::error error_;
};

/// Decodes a request or event body into its typed message. Specialized for `auth::signup`,
/// `auth::login`, `auth::logout`, `auth::logout_all`, `auth::change_password`, `auth::resolve`
/// and `auth::signup_event`.
template <class T>
caf::expected<T> from_json(const json& object);

template <>
caf::expected<auth::signup> from_json<auth::signup>(const json& object);
template <>
caf::expected<auth::login> from_json<auth::login>(const json& object);
template <>
caf::expected<auth::logout> from_json<auth::logout>(const json& object);
template <>
caf::expected<auth::logout_all> from_json<auth::logout_all>(const json& object);
template <>
caf::expected<auth::change_password> from_json<auth::change_password>(const json& object);
template <>
caf::expected<auth::resolve> from_json<auth::resolve>(const json& object);
template <>
caf::expected<auth::signup_event> from_json<auth::signup_event>(const json& object);

/// Parses and decodes in one step.
template <class T>
caf::expected<T> decode(std::string_view payload) {
  auto object = parse_object(payload);
  if (!object)
    return std::move(object.error());
  return from_json<T>(*object);
}

// -- encoding ---------------------------------------------------------------------------------

/// `{id, email, is_admin, subscription_status, subscription_ends_at, slice_id, created_at,
/// last_login_at}`: never the password hash, nor billing ids.
json to_json(const user_record& x);

/// `{id, port, status}`.
json to_json(const slice_record& x);

/// `{id, port, status}` or null.
json to_json(const optional<slice_record>& x);

/// The reply to login and resolve: `{user, session: {id, expires_at}, slice}`; signup adds
/// `waiting_position` (a number or null).
json session_reply(const auth::signed_in& x, bool with_waiting_position);

/// The request bodies (what a client sends); used by the CLI and for round-trip tests.
json to_json(const auth::signup& x);
json to_json(const auth::login& x);
json to_json(const auth::logout& x);
json to_json(const auth::logout_all& x);
json to_json(const auth::change_password& x);
json to_json(const auth::resolve& x);
json to_json(const auth::signup_event& x);

/// Event bodies of DESIGN.md §4 "Events out".
json to_json(const events::slice_status_changed& x);
json to_json(const events::user_slice_changed& x);
json to_json(const events::slice_health& x);
json to_json(const events::slice_alert& x);
json to_json(const events::event_rejected& x);
/// The `gateway.server_telemetry` row, its columns as keys.
json to_json(const events::server_telemetry& x);

/// `{"error": {"code": "<word>", "message": "<text>"}}`, the word and number from the one
/// wire table (`to_string(ec)`, `status_code(ec)` in messages/error.hpp), plus
/// `"retry_after": <seconds>` when the error carries a wait (`retry_after_of`).
json error_body(ec code, const std::string& message,
                optional<std::chrono::seconds> retry_after = caf::none);

} // namespace slicegate::codec
