#include "bridge/codec.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <limits>

namespace slicegate::codec {

namespace {

constexpr int64_t ns_per_second = 1'000'000'000;

caf::error invalid(std::string message) {
  return make_error(ec::invalid_request, std::move(message));
}

/// Reads exactly `n` decimal digits at `pos`; advances `pos`.
bool read_digits(std::string_view text, size_t& pos, size_t n, int& out) {
  if (pos + n > text.size())
    return false;
  out = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = text[pos + i];
    if (c < '0' || c > '9')
      return false;
    out = out * 10 + (c - '0');
  }
  pos += n;
  return true;
}

bool expect_char(std::string_view text, size_t& pos, char c) {
  if (pos >= text.size() || text[pos] != c)
    return false;
  ++pos;
  return true;
}

} // namespace

json optional_time(const optional<timestamp>& x) {
  return x ? json(format_time(*x)) : json(nullptr);
}

// -- writing text -----------------------------------------------------------------------------

void text_writer::separate() {
  if (!first_)
    out_ += ',';
  first_ = false;
}

text_writer& text_writer::begin_object() {
  separate();
  out_ += '{';
  first_ = true;
  return *this;
}

text_writer& text_writer::end_object() {
  out_ += '}';
  first_ = false;
  return *this;
}

text_writer& text_writer::begin_array() {
  separate();
  out_ += '[';
  first_ = true;
  return *this;
}

text_writer& text_writer::end_array() {
  out_ += ']';
  first_ = false;
  return *this;
}

text_writer& text_writer::key(const char* name) {
  separate();
  out_ += '"';
  out_ += name;
  out_ += "\":";
  // The value that follows needs no separator.
  first_ = true;
  return *this;
}

text_writer& text_writer::value(int64_t x) {
  separate();
  char buf[24];
  auto end = std::to_chars(buf, buf + sizeof(buf), x).ptr;
  out_.append(buf, end);
  return *this;
}

text_writer& text_writer::value(double x) {
  if (!std::isfinite(x))
    return null();
  separate();
  char buf[32];
  auto end = std::to_chars(buf, buf + sizeof(buf), x).ptr;
  out_.append(buf, end);
  return *this;
}

text_writer& text_writer::value(const std::string& x) {
  separate();
  out_ += dump(json(x));
  return *this;
}

text_writer& text_writer::value(caf::timestamp t) {
  separate();
  // RFC 3339 text holds nothing to escape.
  out_ += '"';
  out_ += format_time(t);
  out_ += '"';
  return *this;
}

text_writer& text_writer::null() {
  separate();
  out_ += "null";
  return *this;
}

// -- time -------------------------------------------------------------------------------------

std::string format_time(caf::timestamp t) {
  auto ns = t.time_since_epoch().count();
  // Floor division, so that times before 1970 keep a positive fraction.
  auto secs = ns / ns_per_second;
  auto frac = ns % ns_per_second;
  if (frac < 0) {
    frac += ns_per_second;
    --secs;
  }
  auto tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  // Written digit by digit: a telemetry series formats thousands of these per reply.
  std::string out(27, '0');
  auto put = [&out](size_t pos, size_t width, int64_t value) {
    for (auto i = pos + width; i > pos; --i) {
      out[i - 1] = static_cast<char>('0' + value % 10);
      value /= 10;
    }
  };
  auto year = tm.tm_year + 1900;
  if (year < 0 || year > 9999)
    year = std::clamp(year, 0, 9999);
  put(0, 4, year);
  out[4] = '-';
  put(5, 2, tm.tm_mon + 1);
  out[7] = '-';
  put(8, 2, tm.tm_mday);
  out[10] = 'T';
  put(11, 2, tm.tm_hour);
  out[13] = ':';
  put(14, 2, tm.tm_min);
  out[16] = ':';
  put(17, 2, tm.tm_sec);
  out[19] = '.';
  put(20, 6, frac / 1000);
  out[26] = 'Z';
  return out;
}

std::optional<caf::timestamp> parse_time(std::string_view text) {
  size_t pos = 0;
  int year, month, day, hour, minute, second;
  if (!read_digits(text, pos, 4, year) || !expect_char(text, pos, '-')
      || !read_digits(text, pos, 2, month) || !expect_char(text, pos, '-')
      || !read_digits(text, pos, 2, day))
    return std::nullopt;
  if (pos >= text.size() || (text[pos] != 'T' && text[pos] != 't'))
    return std::nullopt;
  ++pos;
  if (!read_digits(text, pos, 2, hour) || !expect_char(text, pos, ':')
      || !read_digits(text, pos, 2, minute) || !expect_char(text, pos, ':')
      || !read_digits(text, pos, 2, second))
    return std::nullopt;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
    return std::nullopt;
  int64_t frac_ns = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int64_t scale = ns_per_second;
    size_t digits = 0;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
      if (++digits > 9)
        return std::nullopt;
      scale /= 10;
      frac_ns += (text[pos] - '0') * scale;
      ++pos;
    }
    if (digits == 0)
      return std::nullopt;
  }
  int64_t offset_seconds = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int sign = text[pos] == '-' ? -1 : 1;
    ++pos;
    int oh, om;
    if (!read_digits(text, pos, 2, oh) || !expect_char(text, pos, ':')
        || !read_digits(text, pos, 2, om) || oh > 23 || om > 59)
      return std::nullopt;
    offset_seconds = sign * (oh * 3600 + om * 60);
  } else {
    return std::nullopt;
  }
  if (pos != text.size())
    return std::nullopt;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  int64_t secs = timegm(&tm) - offset_seconds;
  return caf::timestamp{caf::timespan{secs * ns_per_second + frac_ns}};
}

// -- parsing ----------------------------------------------------------------------------------

std::string dump(const json& x) {
  return x.dump(-1, ' ', false, json::error_handler_t::replace);
}

caf::expected<json> parse_object(std::string_view payload, bool empty_is_object) {
  if (payload.empty()) {
    if (empty_is_object)
      return json::object();
    return invalid("empty body; expected a JSON object");
  }
  json result;
  try {
    result = json::parse(payload.begin(), payload.end());
  } catch (const json::parse_error& e) {
    // The parser's own text quotes the offending input; a message travels in a NATS header,
    // so it names only the position.
    return invalid("not JSON: syntax error at byte " + std::to_string(e.byte));
  } catch (const std::exception&) {
    return invalid("not JSON");
  }
  if (!result.is_object())
    return invalid(std::string{"expected a JSON object, got "} + result.type_name());
  return result;
}

fields::fields(const json& object, std::string path) : object_(object), path_(std::move(path)) {
  // Callers hand in objects only; a non-object reads as "every field missing".
}

std::string fields::path_of(const char* name) const {
  return path_.empty() ? std::string{name} : path_ + "." + name;
}

void fields::fail(std::string message) {
  if (!error_)
    error_ = invalid(std::move(message));
}

const json* fields::find(const char* name, bool required) {
  if (error_)
    return nullptr;
  if (object_.is_object()) {
    auto i = object_.find(name);
    if (i != object_.end() && !i->is_null())
      return &*i;
  }
  if (required)
    fail("missing field '" + path_of(name) + "'");
  return nullptr;
}

fields& fields::text(const char* name, std::string& out, size_t max_size, charset chars) {
  optional<std::string> value;
  if (!find(name, true))
    return *this;
  text(name, value, max_size, chars);
  if (value)
    out = std::move(*value);
  return *this;
}

fields& fields::text(const char* name, optional<std::string>& out, size_t max_size,
                     charset chars) {
  auto value = find(name, false);
  if (!value)
    return *this;
  if (!value->is_string()) {
    fail("field '" + path_of(name) + "': expected a string, got " + value->type_name());
    return *this;
  }
  auto& str = value->get_ref<const std::string&>();
  if (str.size() > max_size) {
    fail("field '" + path_of(name) + "' is longer than " + std::to_string(max_size) + " bytes");
    return *this;
  }
  for (unsigned char c : str) {
    if (c == 0 || (chars == charset::printable && (c < 0x20 || c == 0x7f))) {
      fail("field '" + path_of(name) + "' contains a control character");
      return *this;
    }
  }
  out = str;
  return *this;
}

fields& fields::integer(const char* name, int64_t& out, int64_t min, int64_t max) {
  auto value = find(name, true);
  if (!value)
    return *this;
  if (!value->is_number_integer()) {
    fail("field '" + path_of(name) + "': expected an integer, got " + value->type_name());
    return *this;
  }
  bool in_range;
  int64_t x = 0;
  if (value->is_number_unsigned()) {
    auto u = value->get<uint64_t>();
    in_range = u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    x = in_range ? static_cast<int64_t>(u) : 0;
  } else {
    x = value->get<int64_t>();
    in_range = true;
  }
  if (!in_range || x < min || x > max) {
    fail("field '" + path_of(name) + "' is out of range [" + std::to_string(min) + ", "
         + std::to_string(max) + "]");
    return *this;
  }
  out = x;
  return *this;
}

fields& fields::integer(const char* name, optional<int64_t>& out, int64_t min, int64_t max) {
  if (!find(name, false))
    return *this;
  int64_t value = 0;
  integer(name, value, min, max);
  if (!error_)
    out = value;
  return *this;
}

fields& fields::boolean(const char* name, optional<bool>& out) {
  if (!find(name, false))
    return *this;
  bool value = false;
  boolean(name, value);
  if (!error_)
    out = value;
  return *this;
}

fields& fields::time(const char* name, optional<timestamp>& out) {
  if (!find(name, false))
    return *this;
  timestamp value;
  time(name, value);
  if (!error_)
    out = value;
  return *this;
}

fields& fields::boolean(const char* name, bool& out) {
  auto value = find(name, true);
  if (!value)
    return *this;
  if (!value->is_boolean()) {
    fail("field '" + path_of(name) + "': expected a boolean, got " + value->type_name());
    return *this;
  }
  out = value->get<bool>();
  return *this;
}

fields& fields::time(const char* name, timestamp& out) {
  std::string text_value;
  text(name, text_value, 64, charset::printable);
  if (error_)
    return *this;
  auto t = parse_time(text_value);
  if (!t) {
    fail("field '" + path_of(name) + "': expected an RFC 3339 time");
    return *this;
  }
  out = *t;
  return *this;
}

fields& fields::object(const char* name, const json*& out) {
  auto value = find(name, true);
  if (!value)
    return *this;
  if (!value->is_object()) {
    fail("field '" + path_of(name) + "': expected an object, got " + value->type_name());
    return *this;
  }
  out = value;
  return *this;
}

// -- decoding ---------------------------------------------------------------------------------

namespace {

template <class T>
caf::expected<T> finish(const fields& f, T&& x) {
  if (f.error())
    return f.error();
  return std::forward<T>(x);
}

/// A request that carries nothing but the caller's session.
template <class T>
caf::expected<T> session_only(const json& j) {
  T x;
  fields f{j};
  f.text("session_id", x.token, limits::token, charset::printable);
  return finish(f, std::move(x));
}

} // namespace

template <>
caf::expected<auth::signup> from_json<auth::signup>(const json& j) {
  auth::signup x;
  fields f{j};
  f.text("email", x.email, limits::email, charset::printable)
    .text("password", x.password, limits::password, charset::no_nul);
  return finish(f, std::move(x));
}

template <>
caf::expected<auth::login> from_json<auth::login>(const json& j) {
  auth::login x;
  fields f{j};
  f.text("email", x.email, limits::email, charset::printable)
    .text("password", x.password, limits::password, charset::no_nul);
  return finish(f, std::move(x));
}

template <>
caf::expected<auth::logout> from_json<auth::logout>(const json& j) {
  return session_only<auth::logout>(j);
}

template <>
caf::expected<auth::logout_all> from_json<auth::logout_all>(const json& j) {
  return session_only<auth::logout_all>(j);
}

template <>
caf::expected<auth::change_password> from_json<auth::change_password>(const json& j) {
  auth::change_password x;
  fields f{j};
  f.text("session_id", x.token, limits::token, charset::printable)
    .text("old_password", x.old_password, limits::password, charset::no_nul)
    .text("new_password", x.new_password, limits::password, charset::no_nul);
  return finish(f, std::move(x));
}

template <>
caf::expected<auth::resolve> from_json<auth::resolve>(const json& j) {
  return session_only<auth::resolve>(j);
}

template <>
caf::expected<auth::signup_event> from_json<auth::signup_event>(const json& j) {
  auth::signup_event x;
  fields f{j};
  f.text("id", x.event_id, limits::event_id, charset::printable)
    .text("email", x.email, limits::email, charset::printable)
    .text("password_hash", x.password_hash, limits::password_hash, charset::printable)
    .text("stripe_customer", x.stripe_customer, limits::stripe_id, charset::printable);
  return finish(f, std::move(x));
}

// -- encoding ---------------------------------------------------------------------------------

json to_json(const user_record& x) {
  return {
    {"id", x.id},
    {"email", x.email},
    {"is_admin", x.is_admin},
    {"subscription_status", to_string(x.subscription_status)},
    {"subscription_ends_at", optional_time(x.subscription_ends_at)},
    {"slice_id", optional_value(x.slice_id)},
    {"created_at", format_time(x.created_at)},
    {"last_login_at", optional_time(x.last_login_at)},
  };
}

json to_json(const slice_record& x) {
  return {{"id", x.id}, {"port", x.port}, {"status", to_string(x.status)}};
}

json to_json(const optional<slice_record>& x) {
  return x ? to_json(*x) : json(nullptr);
}

json session_reply(const auth::signed_in& x, bool with_waiting_position) {
  json result{
    {"user", to_json(x.user)},
    {"session", {{"id", x.token}, {"expires_at", format_time(x.expires_at)}}},
    {"slice", to_json(x.slice)},
  };
  if (with_waiting_position)
    result["waiting_position"] = optional_value(x.waiting_position);
  return result;
}

json to_json(const auth::signup& x) {
  return {{"email", x.email}, {"password", x.password}};
}

json to_json(const auth::login& x) {
  return {{"email", x.email}, {"password", x.password}};
}

json to_json(const auth::logout& x) {
  return {{"session_id", x.token}};
}

json to_json(const auth::logout_all& x) {
  return {{"session_id", x.token}};
}

json to_json(const auth::change_password& x) {
  return {{"session_id", x.token},
          {"old_password", x.old_password},
          {"new_password", x.new_password}};
}

json to_json(const auth::resolve& x) {
  return {{"session_id", x.token}};
}

json to_json(const auth::signup_event& x) {
  json result{{"id", x.event_id}, {"email", x.email}, {"password_hash", x.password_hash}};
  if (x.stripe_customer)
    result["stripe_customer"] = *x.stripe_customer;
  return result;
}

json to_json(const events::slice_status_changed& x) {
  return {
    {"slice_id", x.slice_id},
    {"at", format_time(x.at)},
    {"from", to_string(x.from)},
    {"to", to_string(x.to)},
    {"user_id", optional_value(x.user_id)},
    {"reason", x.reason},
  };
}

json to_json(const events::user_slice_changed& x) {
  return {{"user_id", x.user_id}, {"at", format_time(x.at)}, {"slice", to_json(x.slice)}};
}

json to_json(const events::slice_health& x) {
  return {
    {"slice_id", x.sample.slice_id},
    {"at", format_time(x.sample.at)},
    {"healthy", x.healthy},
    {"wa_state", x.sample.wa_state},
    {"wa_connected", x.wa_connected},
    {"wa_phone", optional_value(x.wa_phone)},
    {"rss_bytes", optional_value(x.sample.rss_bytes)},
    {"cpu_percent", optional_value(x.sample.cpu_percent)},
    {"disk_bytes", optional_value(x.sample.disk_bytes)},
  };
}

json to_json(const events::slice_alert& x) {
  return {
    {"slice_id", x.slice_id},
    {"at", format_time(x.at)},
    {"kind", to_string(x.kind)},
    {"detail", x.detail},
  };
}

json to_json(const events::event_rejected& x) {
  json result{{"subject", x.subject}};
  if (x.event_id)
    result["event_id"] = *x.event_id;
  result["reason"] = x.reason;
  if (x.dead_letter_id)
    result["dead_letter_id"] = *x.dead_letter_id;
  return result;
}

json to_json(const events::server_telemetry& event) {
  auto& x = event.sample;
  return {
    {"timestamp", format_time(x.at)},         {"ram_used_bytes", x.ram_used_bytes},
    {"ram_total_bytes", x.ram_total_bytes},   {"swap_used_bytes", x.swap_used_bytes},
    {"swap_total_bytes", x.swap_total_bytes}, {"cpu_percent", x.cpu_percent},
    {"disk_used_bytes", x.disk_used_bytes},   {"disk_total_bytes", x.disk_total_bytes},
    {"active_slices", x.active_slices},       {"total_slices", x.total_slices},
  };
}

json error_body(ec code, const std::string& message,
                optional<std::chrono::seconds> retry_after) {
  json error{{"code", to_string(code)}, {"message", message}};
  if (retry_after)
    error["retry_after"] = retry_after->count();
  return {{"error", std::move(error)}};
}

} // namespace slicegate::codec
