#include "bridge/admin_endpoints.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <string>

#include <spdlog/spdlog.h>

#include "bridge/consumers.hpp"
#include "bridge/subjects.hpp"
#include "messages/admin.hpp"
#include "messages/error.hpp"
#include "messages/pool.hpp"

namespace slicegate::bridge {

namespace {

using codec::json;
using codec::optional_time;
using codec::optional_value;
using std::string_view;

// -- the admin rule ---------------------------------------------------------------------------

caf::error no_session() {
  return make_error(ec::unauthorized, "a valid session_id is required");
}

/// The admin rule of DESIGN.md §4, before anything else: a body that is not an object, or
/// has no well-formed `session_id`, is 401 like a bad session; a non-admin is 403. Only then
/// does `next(self, req, body, admin)` read the verb's own fields, so that a caller without
/// admin rights learns nothing about them.
template <class Next>
void as_admin(bridge_pointer self, pending_request req, string_view payload, Next next) {
  auto body = codec::parse_object(payload, true);
  if (!body) {
    fail(self, req, no_session());
    return;
  }
  auth::authorize_admin who;
  codec::fields f{*body};
  f.text("session_id", who.token, codec::limits::token, codec::charset::printable);
  if (f.error()) {
    fail(self, req, no_session());
    return;
  }
  auto sessions = available(self->state).sessions;
  if (!sessions) {
    fail(self, req, make_error(ec::unavailable, "the service is starting or stopping"));
    return;
  }
  self->request(sessions, self->state.config.request_timeout, std::move(who))
    .then([self, req, body = std::move(*body),
           next](user_record& admin) mutable { next(self, std::move(req), body, admin); },
          [self, req](caf::error& err) { fail(self, req, err); });
}

/// Reads the verb's fields with `read(fields, body, msg)`; on success asks the target that
/// `pick` names and answers with `encode(reply)`, else answers 400.
template <class Reply, class Request, class Pick, class Read, class Encode>
void admin_verb(bridge_pointer self, pending_request req, string_view payload, Pick pick,
                Read read, Encode encode) {
  as_admin(self, std::move(req), payload,
           [pick, read, encode](bridge_pointer self, pending_request req, const json& body,
                                const user_record& admin) {
             Request msg;
             codec::fields f{body};
             if (auto err = read(f, body, msg, admin)) {
               fail(self, req, err);
               return;
             }
             if (auto err = f.error()) {
               fail(self, req, err);
               return;
             }
             forward<Reply>(self, std::move(req), pick(available(self->state)), std::move(msg),
                            encode);
           });
}

auto to_sessions = [](const bridge_targets& t) {
  return t.sessions;
};
auto to_slices = [](const bridge_targets& t) {
  return t.slices;
};
auto to_persistence = [](const bridge_targets& t) {
  return t.persistence;
};

// -- encoding ---------------------------------------------------------------------------------

/// A slice as admins see it: every column, not only the `{id, port, status}` users get.
json admin_slice(const slice_record& x) {
  return json{{"id", x.id},
              {"port", x.port},
              {"status", to_string(x.status)},
              {"user_id", optional_value(x.user_id)},
              {"wa_connected", x.wa_connected},
              {"wa_phone", optional_value(x.wa_phone)},
              {"healthy", optional_value(x.healthy)},
              {"last_health_at", optional_time(x.last_health_at)},
              {"storage_bytes", x.storage_bytes},
              {"created_at", codec::format_time(x.created_at)},
              {"status_changed_at", codec::format_time(x.status_changed_at)}};
}

json admin_slices(const std::vector<slice_record>& xs) {
  auto list = json::array();
  for (auto& x : xs)
    list.push_back(admin_slice(x));
  return json{{"slices", std::move(list)}};
}

json admin_slice_reply(const slice_record& x) {
  return json{{"slice", admin_slice(x)}};
}

json latest_telemetry(const optional<telemetry_sample>& x) {
  if (!x)
    return nullptr;
  return json{{"at", codec::format_time(x->at)},
              {"wa_state", x->wa_state},
              {"rss_bytes", optional_value(x->rss_bytes)},
              {"cpu_percent", optional_value(x->cpu_percent)},
              {"disk_bytes", optional_value(x->disk_bytes)}};
}

json slice_views(const std::vector<admin::slice_view>& xs) {
  auto list = json::array();
  for (auto& x : xs) {
    auto j = admin_slice(x.slice);
    j["user_email"] = optional_value(x.user_email);
    j["latest_telemetry"] = latest_telemetry(x.latest);
    list.push_back(std::move(j));
  }
  return json{{"slices", std::move(list)}};
}

/// The user of DESIGN.md §4, plus what admins need to find them in Stripe.
json admin_user(const user_record& x) {
  auto j = codec::to_json(x);
  j["stripe_customer"] = optional_value(x.stripe_customer);
  return j;
}

/// A page cursor: opaque to clients, "<created_at in µs since the epoch>.<id>" inside.
std::string format_cursor(const admin::page_key& k) {
  auto us
    = std::chrono::duration_cast<std::chrono::microseconds>(k.created_at.time_since_epoch());
  return std::to_string(us.count()) + "." + std::to_string(k.id);
}

optional<admin::page_key> parse_cursor(string_view text) {
  auto dot = text.find('.');
  if (dot == string_view::npos)
    return caf::none;
  int64_t us = 0;
  int32_t id = 0;
  auto a = std::from_chars(text.data(), text.data() + dot, us);
  auto b = std::from_chars(text.data() + dot + 1, text.data() + text.size(), id);
  if (a.ec != std::errc{} || a.ptr != text.data() + dot || b.ec != std::errc{}
      || b.ptr != text.data() + text.size() || id < 1)
    return caf::none;
  return admin::page_key{timestamp{std::chrono::microseconds{us}}, id};
}

json user_page(const admin::user_page& x) {
  auto list = json::array();
  for (auto& u : x.users)
    list.push_back(admin_user(u));
  return json{{"users", std::move(list)},
              {"next_cursor", x.next ? json(format_cursor(*x.next)) : json(nullptr)}};
}

json user_detail(const admin::user_detail& x) {
  auto billing = json::array();
  for (auto& e : x.billing_events)
    billing.push_back(json{{"event_id", e.event_id},
                           {"type", e.type},
                           {"stripe_status", optional_value(e.stripe_status)},
                           {"mapped_status", optional_value(e.mapped_status)},
                           {"stripe_created", codec::format_time(e.stripe_created)},
                           {"received_at", codec::format_time(e.received_at)},
                           {"applied_at", optional_time(e.applied_at)}});
  return json{{"user", admin_user(x.user)},
              {"slice", x.slice ? admin_slice(*x.slice) : json(nullptr)},
              {"waiting_position", optional_value(x.waiting_position)},
              {"live_sessions", x.live_sessions},
              {"billing_events", std::move(billing)}};
}

/// Opens a series reply: its range, then `points` (left open for the caller's points).
void begin_series(codec::text_writer& w, const admin::series_range& r) {
  w.begin_object().key("from").value(r.from).key("to").value(r.to).key("bucket").value(
    r.bucket_seconds);
}

// A series holds up to 10,000 points: its reply is written as text, not built as a document.

std::string slice_series(const admin::slice_series& request,
                         const std::vector<admin::slice_point>& points) {
  codec::text_writer w;
  begin_series(w, request.range);
  w.key("slice_id").value(request.slice_id).key("points").begin_array();
  for (auto& p : points)
    w.begin_object()
      .key("at")
      .value(p.at)
      .key("samples")
      .value(p.samples)
      .key("rss_bytes_avg")
      .value(p.rss_bytes_avg)
      .key("rss_bytes_max")
      .value(p.rss_bytes_max)
      .key("cpu_percent_avg")
      .value(p.cpu_percent_avg)
      .key("cpu_percent_max")
      .value(p.cpu_percent_max)
      .key("disk_bytes_last")
      .value(p.disk_bytes_last)
      .key("wa_connected_share")
      .value(p.wa_connected_share)
      .end_object();
  w.end_array().end_object();
  return w.text();
}

std::string server_series(const admin::server_series& request,
                          const std::vector<admin::server_point>& points) {
  codec::text_writer w;
  begin_series(w, request.range);
  w.key("points").begin_array();
  for (auto& p : points)
    w.begin_object()
      .key("at")
      .value(p.at)
      .key("samples")
      .value(p.samples)
      .key("ram_used_bytes_avg")
      .value(p.ram_used_bytes_avg)
      .key("ram_used_bytes_max")
      .value(p.ram_used_bytes_max)
      .key("ram_total_bytes")
      .value(p.ram_total_bytes)
      .key("swap_used_bytes_avg")
      .value(p.swap_used_bytes_avg)
      .key("swap_total_bytes")
      .value(p.swap_total_bytes)
      .key("cpu_percent_avg")
      .value(p.cpu_percent_avg)
      .key("cpu_percent_max")
      .value(p.cpu_percent_max)
      .key("disk_used_bytes_last")
      .value(p.disk_used_bytes_last)
      .key("disk_total_bytes")
      .value(p.disk_total_bytes)
      .key("active_slices_last")
      .value(p.active_slices_last)
      .key("total_slices_last")
      .value(p.total_slices_last)
      .end_object();
  w.end_array().end_object();
  return w.text();
}

json overview(const admin::overview& x) {
  json server = nullptr;
  if (x.server) {
    auto& s = *x.server;
    server
      = json{{"at", codec::format_time(s.at)},         {"ram_used_bytes", s.ram_used_bytes},
             {"ram_total_bytes", s.ram_total_bytes},   {"swap_used_bytes", s.swap_used_bytes},
             {"swap_total_bytes", s.swap_total_bytes}, {"cpu_percent", s.cpu_percent},
             {"disk_used_bytes", s.disk_used_bytes},   {"disk_total_bytes", s.disk_total_bytes},
             {"active_slices", s.active_slices},       {"total_slices", s.total_slices}};
  }
  auto alerts = json::array();
  for (auto& a : x.alerts)
    alerts.push_back(codec::to_json(a));
  json oldest_wait = nullptr;
  if (x.oldest_waiting_since)
    oldest_wait = std::max<int64_t>(
      0,
      std::chrono::duration_cast<std::chrono::seconds>(x.at - *x.oldest_waiting_since).count());
  return json{{"at", codec::format_time(x.at)},
              {"slices",
               {{"total", x.slices_total},
                {"available", x.available},
                {"assigned", x.assigned},
                {"suspended", x.suspended},
                {"destroying", x.destroying},
                {"healthy", x.healthy},
                {"unhealthy", x.unhealthy},
                {"unchecked", x.unchecked}}},
              {"waiting",
               {{"length", x.waiting},
                {"oldest_since", optional_time(x.oldest_waiting_since)},
                {"oldest_wait_seconds", oldest_wait}}},
              {"users",
               {{"total", x.users_total},
                {"trial", x.trial},
                {"active", x.active},
                {"past_due", x.past_due},
                {"cancelled", x.cancelled},
                {"admins", x.admins}}},
              {"server", std::move(server)},
              {"alerts", std::move(alerts)},
              {"alerts_last_hour", x.alerts_total}};
}

// -- reading ----------------------------------------------------------------------------------

/// Reads a required positive id into `out`.
template <class Id>
void read_id(codec::fields& f, const char* name, Id& out) {
  int64_t id = 0;
  f.integer(name, id, 1, INT32_MAX);
  out = static_cast<Id>(id);
}

/// The default span of a telemetry series, and its default bucket.
constexpr auto default_span = std::chrono::hours{24};
constexpr int64_t default_bucket_seconds = 300;
/// The largest bucket accepted: a year.
constexpr int64_t max_bucket_seconds = 366 * 24 * 3600;

/// Reads `from`, `to` and `bucket` (all optional: the last 24 hours in 5-minute buckets) and
/// checks them, with a message that says how to ask when the range holds too many points.
caf::error read_range(codec::fields& f, admin::series_range& out) {
  optional<timestamp> from;
  optional<timestamp> to;
  optional<int64_t> bucket;
  f.time("from", from).time("to", to).integer("bucket", bucket, 1, max_bucket_seconds);
  if (f.error())
    return f.error();
  out.to = to ? *to : caf::make_timestamp();
  out.from = from ? *from : out.to - default_span;
  out.bucket_seconds = bucket ? *bucket : default_bucket_seconds;
  if (out.from >= out.to)
    return make_error(ec::invalid_request, "field 'from' must be before 'to'");
  auto points = admin::bucket_count(out);
  if (points > admin::max_series_points) {
    auto span = std::chrono::ceil<std::chrono::seconds>(out.to - out.from).count();
    // One bucket more than the span strictly needs covers the alignment of both ends.
    auto smallest = (span + admin::max_series_points - 2) / (admin::max_series_points - 1);
    return make_error(ec::invalid_request,
                      "the range holds " + std::to_string(points) + " buckets of "
                        + std::to_string(out.bucket_seconds) + " s, more than "
                        + std::to_string(admin::max_series_points)
                        + " points per reply: ask for a bucket of at least "
                        + std::to_string(std::max<int64_t>(smallest, out.bucket_seconds + 1))
                        + " s or a shorter range");
  }
  return {};
}

// -- handlers ---------------------------------------------------------------------------------

void on_slices_create(bridge_pointer self, pending_request req, string_view payload) {
  admin_verb<std::vector<slice_record>, pool::create_slices>(
    self, std::move(req), payload, to_slices,
    [](codec::fields& f, const json&, pool::create_slices& msg, const user_record& admin) {
      int64_t count = 0;
      f.integer("count", count, 1, 1000);
      msg.count = static_cast<int32_t>(count);
      f.text("idempotency_key", msg.idempotency_key, codec::limits::idempotency_key,
             codec::charset::printable);
      if (f.error())
        return caf::error{};
      if (msg.idempotency_key && msg.idempotency_key->empty())
        return make_error(ec::invalid_request, "field 'idempotency_key' must not be empty");
      if (msg.idempotency_key)
        spdlog::info("bridge: admin {} provisions {} slices (idempotency key {})", admin.id,
                     msg.count, *msg.idempotency_key);
      else
        spdlog::info("bridge: admin {} provisions {} slices", admin.id, msg.count);
      return caf::error{};
    },
    admin_slices);
}

void on_slices_list(bridge_pointer self, pending_request req, string_view payload) {
  as_admin(self, std::move(req), payload,
           [](bridge_pointer self, pending_request req, const json& body, const user_record&) {
             codec::fields f{body};
             optional<slice_status> status;
             optional<bool> telemetry;
             f.state("status", status).boolean("telemetry", telemetry);
             if (auto err = f.error()) {
               fail(self, req, err);
               return;
             }
             auto targets = available(self->state);
             // With telemetry, a read for the live views that the slice manager need not see.
             if (telemetry && *telemetry)
               forward<std::vector<admin::slice_view>>(
                 self, std::move(req), targets.persistence, admin::list_slice_views{status},
                 slice_views);
             else
               forward<std::vector<slice_record>>(self, std::move(req), targets.slices,
                                                  pool::list_slices{status}, admin_slices);
           });
}

void on_slices_get(bridge_pointer self, pending_request req, string_view payload) {
  admin_verb<pool::slice_detail, pool::get_slice>(
    self, std::move(req), payload, to_slices,
    [](codec::fields& f, const json&, pool::get_slice& msg, const user_record&) {
      read_id(f, "slice_id", msg.slice_id);
      return caf::error{};
    },
    [](const pool::slice_detail& x) {
      return json{{"slice", admin_slice(x.slice)},
                  {"latest_telemetry", latest_telemetry(x.latest)}};
    });
}

template <pool::verb Verb>
void on_slices_change(bridge_pointer self, pending_request req, string_view payload) {
  admin_verb<slice_record, pool::change_slice>(
    self, std::move(req), payload, to_slices,
    [](codec::fields& f, const json&, pool::change_slice& msg, const user_record& admin) {
      read_id(f, "slice_id", msg.slice_id);
      msg.action = Verb;
      // The admin's own words; the slice manager records them as "admin: <reason>" (or
      // "admin" without any), so the prefix is added there and only there.
      optional<std::string> reason;
      f.text("reason", reason, 500, codec::charset::printable);
      msg.reason = reason ? std::move(*reason) : std::string{};
      if (!f.error())
        spdlog::info("bridge: admin {} asks to {} slice {}", admin.id, to_string(Verb),
                     msg.slice_id);
      return caf::error{};
    },
    admin_slice_reply);
}

void on_slices_assign(bridge_pointer self, pending_request req, string_view payload) {
  admin_verb<slice_record, pool::assign_slice>(
    self, std::move(req), payload, to_slices,
    [](codec::fields& f, const json& body, pool::assign_slice& msg, const user_record& admin) {
      read_id(f, "user_id", msg.user_id);
      if (body.contains("slice_id") && !body["slice_id"].is_null()) {
        int32_t slice = 0;
        read_id(f, "slice_id", slice);
        msg.slice_id = slice;
      }
      if (!f.error())
        spdlog::info("bridge: admin {} assigns a slice to user {}", admin.id, msg.user_id);
      return caf::error{};
    },
    admin_slice_reply);
}

/// Most users one page may hold.
constexpr int64_t max_page = 1000;

void on_users_list(bridge_pointer self, pending_request req, string_view payload) {
  admin_verb<admin::user_page, admin::list_users>(
    self, std::move(req), payload, to_sessions,
    [](codec::fields& f, const json&, admin::list_users& msg, const user_record&) {
      optional<bool> waiting;
      optional<bool> admins;
      optional<std::string> prefix;
      optional<int64_t> limit;
      optional<std::string> cursor;
      optional<std::string> order;
      f.state("status", msg.status)
        .boolean("waiting", waiting)
        .boolean("admin", admins)
        .text("email_prefix", prefix, codec::limits::email, codec::charset::printable)
        .integer("limit", limit, 1, max_page)
        .text("cursor", cursor, 64, codec::charset::printable)
        .text("order", order, 16, codec::charset::printable);
      if (f.error())
        return caf::error{};
      msg.waiting = waiting;
      msg.is_admin = admins;
      if (prefix && !prefix->empty()) {
        // E-mails are stored lowercase.
        std::transform(prefix->begin(), prefix->end(), prefix->begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        msg.email_prefix = std::move(*prefix);
      }
      if (limit)
        msg.limit = static_cast<int32_t>(*limit);
      if (order && *order != "newest" && *order != "oldest")
        return make_error(ec::invalid_request,
                          "field 'order': expected \"newest\" or \"oldest\"");
      msg.oldest_first = order && *order == "oldest";
      if (cursor) {
        msg.after = parse_cursor(*cursor);
        if (!msg.after)
          return make_error(ec::invalid_request,
                            "field 'cursor': not a next_cursor from users.list");
      }
      return caf::error{};
    },
    user_page);
}

void on_users_get(bridge_pointer self, pending_request req, string_view payload) {
  admin_verb<admin::user_detail, admin::find_user>(
    self, std::move(req), payload, to_sessions,
    [](codec::fields& f, const json&, admin::find_user& msg, const user_record&) {
      read_id(f, "user_id", msg.user_id);
      return caf::error{};
    },
    user_detail);
}

void on_users_update(bridge_pointer self, pending_request req, string_view payload) {
  admin_verb<user_record, admin::update_user>(
    self, std::move(req), payload, to_sessions,
    [](codec::fields& f, const json&, admin::update_user& msg, const user_record& admin) {
      msg.by = admin.id;
      read_id(f, "user_id", msg.user_id);
      f.boolean("is_admin", msg.is_admin);
      return caf::error{};
    },
    [](const user_record& x) {
      return json{{"user", admin_user(x)}};
    });
}

void on_users_revoke_sessions(bridge_pointer self, pending_request req, string_view payload) {
  admin_verb<int32_t, admin::revoke_sessions>(
    self, std::move(req), payload, to_sessions,
    [](codec::fields& f, const json&, admin::revoke_sessions& msg, const user_record& admin) {
      msg.by = admin.id;
      read_id(f, "user_id", msg.user_id);
      return caf::error{};
    },
    [](int32_t n) {
      return json{{"revoked", n}};
    });
}

void on_telemetry_slice(bridge_pointer self, pending_request req, string_view payload) {
  as_admin(self, std::move(req), payload,
           [](bridge_pointer self, pending_request req, const json& body, const user_record&) {
             admin::slice_series msg;
             codec::fields f{body};
             read_id(f, "slice_id", msg.slice_id);
             auto err = f.error() ? f.error() : read_range(f, msg.range);
             if (err) {
               fail(self, req, err);
               return;
             }
             forward<std::vector<admin::slice_point>>(
               self, std::move(req), available(self->state).persistence, msg,
               [msg](const std::vector<admin::slice_point>& points) {
                 return slice_series(msg, points);
               });
           });
}

void on_telemetry_server(bridge_pointer self, pending_request req, string_view payload) {
  as_admin(self, std::move(req), payload,
           [](bridge_pointer self, pending_request req, const json& body, const user_record&) {
             admin::server_series msg;
             codec::fields f{body};
             if (auto err = read_range(f, msg.range)) {
               fail(self, req, err);
               return;
             }
             forward<std::vector<admin::server_point>>(
               self, std::move(req), available(self->state).persistence, msg,
               [msg](const std::vector<admin::server_point>& points) {
                 return server_series(msg, points);
               });
           });
}

/// The alerts `overview` lists: the last hour's, at most this many (all are counted).
constexpr auto alert_window = std::chrono::hours{1};
constexpr int32_t max_overview_alerts = 50;

void on_overview(bridge_pointer self, pending_request req, string_view payload) {
  admin_verb<admin::overview, admin::get_overview>(
    self, std::move(req), payload, to_persistence,
    [](codec::fields&, const json&, admin::get_overview& msg, const user_record&) {
      msg.alerts_since = caf::make_timestamp() - alert_window;
      msg.max_alerts = max_overview_alerts;
      return caf::error{};
    },
    overview);
}

// -- dead letters -----------------------------------------------------------------------------

/// Whether `bytes` is well-formed UTF-8 (no overlong form, no surrogate, nothing past U+10FFFF).
bool valid_utf8(const std::vector<uint8_t>& bytes) {
  static constexpr uint32_t smallest[] = {0, 0x80, 0x800, 0x10000};
  size_t i = 0;
  while (i < bytes.size()) {
    auto c = bytes[i];
    size_t n = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (bytes.size() - i <= n)
      return false;
    for (size_t k = 1; k <= n; ++k) {
      if ((bytes[i + k] & 0xC0) != 0x80)
        return false;
      cp = (cp << 6) | (bytes[i + k] & 0x3F);
    }
    if (cp < smallest[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += n + 1;
  }
  return true;
}

std::string base64(const std::vector<uint8_t>& bytes) {
  static constexpr char alphabet[]
    = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t chunk = uint32_t{bytes[i]} << 16;
    if (i + 1 < bytes.size())
      chunk |= uint32_t{bytes[i + 1]} << 8;
    if (i + 2 < bytes.size())
      chunk |= bytes[i + 2];
    out += alphabet[(chunk >> 18) & 0x3F];
    out += alphabet[(chunk >> 12) & 0x3F];
    out += i + 1 < bytes.size() ? alphabet[(chunk >> 6) & 0x3F] : '=';
    out += i + 2 < bytes.size() ? alphabet[chunk & 0x3F] : '=';
  }
  return out;
}

/// A dead letter with its body as text, or as `payload_base64` when the body is not UTF-8.
json dead_letter(const admin::dead_letter& x) {
  json j{{"id", x.id},
         {"subject", x.subject},
         {"event_id", optional_value(x.event_id)},
         {"reason", x.reason},
         {"stream_sequence", optional_value(x.stream_sequence)},
         {"deliveries", x.deliveries},
         {"rejected_at", codec::format_time(x.rejected_at)},
         {"replayed_at", optional_time(x.replayed_at)},
         {"replays", x.replays}};
  if (valid_utf8(x.payload))
    j["payload"] = std::string{x.payload.begin(), x.payload.end()};
  else
    j["payload_base64"] = base64(x.payload);
  return j;
}

void on_dead_letters_list(bridge_pointer self, pending_request req, string_view payload) {
  admin_verb<std::vector<admin::dead_letter>, admin::list_dead_letters>(
    self, std::move(req), payload, to_persistence,
    [](codec::fields& f, const json&, admin::list_dead_letters& msg, const user_record&) {
      optional<int64_t> after;
      optional<int64_t> limit;
      optional<bool> all;
      f.integer("after", after, 0, INT64_MAX)
        .integer("limit", limit, 1, admin::max_dead_letter_page)
        .boolean("include_replayed", all);
      msg.after = after ? *after : 0;
      msg.limit = limit ? static_cast<int32_t>(*limit) : msg.limit;
      msg.include_replayed = all && *all;
      return caf::error{};
    },
    [](const std::vector<admin::dead_letter>& xs) {
      auto list = json::array();
      for (auto& x : xs)
        list.push_back(dead_letter(x));
      return json{{"dead_letters", std::move(list)},
                  {"next_after", xs.empty() ? json(nullptr) : json(xs.back().id)}};
    });
}

void on_dead_letters_get(bridge_pointer self, pending_request req, string_view payload) {
  admin_verb<admin::dead_letter, admin::get_dead_letter>(
    self, std::move(req), payload, to_persistence,
    [](codec::fields& f, const json&, admin::get_dead_letter& msg, const user_record&) {
      f.integer("id", msg.id, 1, INT64_MAX);
      return caf::error{};
    },
    [](const admin::dead_letter& x) { return json{{"dead_letter", dead_letter(x)}}; });
}

/// The running consumer that takes events on `subject`, or null.
event_consumer_actor consumer_of(const bridge_state& st, const std::string& subject) {
  auto& table = consumer_table();
  for (auto& slot : st.consumers)
    if (subjects::event(st.config.subject_prefix, table[slot.entry].kind) == subject)
      return slot.actor;
  return {};
}

/// Publishes a dead letter's body again on its subject, through the consumer of that subject,
/// and stamps it replayed. The consumers are idempotent per event id, so a replay that races
/// another applies the event once.
void replay_dead_letter(bridge_pointer self, pending_request req, admin::dead_letter letter) {
  auto consumer = consumer_of(self->state, letter.subject);
  if (!consumer) {
    fail(self, req,
         make_error(ec::unavailable, "no consumer takes " + letter.subject + " now"));
    return;
  }
  auto timeout = self->state.config.request_timeout;
  auto id = letter.id;
  self->request(consumer, timeout, replay_atom_v, letter.subject, letter.payload)
    .then(
      [self, req, id, timeout](uint64_t sequence) {
        auto store = available(self->state).persistence;
        if (!store) {
          fail(self, req, make_error(ec::unavailable, "the service is starting or stopping"));
          return;
        }
        self->request(store, timeout, admin::mark_replayed{id})
          .then(
            [self, req, sequence](admin::dead_letter& x) {
              reply(self, req,
                    json{{"dead_letter", dead_letter(x)}, {"stream_sequence", sequence}});
            },
            [self, req](caf::error& err) { fail(self, req, err); });
      },
      [self, req](caf::error& err) { fail(self, req, err); });
}

void on_dead_letters_replay(bridge_pointer self, pending_request req, string_view payload) {
  as_admin(self, std::move(req), payload,
           [](bridge_pointer self, pending_request req, const json& body, const user_record&) {
             codec::fields f{body};
             int64_t id = 0;
             optional<bool> force;
             f.integer("id", id, 1, INT64_MAX).boolean("force", force);
             if (auto err = f.error()) {
               fail(self, req, err);
               return;
             }
             auto store = available(self->state).persistence;
             if (!store) {
               fail(self, req,
                    make_error(ec::unavailable, "the service is starting or stopping"));
               return;
             }
             auto again = force && *force;
             self->request(store, self->state.config.request_timeout, admin::get_dead_letter{id})
               .then(
                 [self, req, again](admin::dead_letter& x) {
                   if (x.replayed_at && !again) {
                     fail(self, req,
                          make_error(ec::conflict,
                                     "dead letter " + std::to_string(x.id) + " was replayed at "
                                       + codec::format_time(*x.replayed_at)
                                       + "; set force to replay it again"));
                     return;
                   }
                   replay_dead_letter(self, req, std::move(x));
                 },
                 [self, req](caf::error& err) { fail(self, req, err); });
           });
}

/// `<p>.admin.<Resource>.<Verb>`, or `<p>.admin.<Resource>` without a verb.
template <const char* Resource, const char* Verb = nullptr>
std::string admin_subject(string_view prefix) {
  if constexpr (Verb == nullptr)
    return subjects::admin(prefix, Resource);
  else
    return subjects::admin(prefix, Resource, Verb);
}

namespace names {
constexpr char slices[] = "slices";
constexpr char users[] = "users";
constexpr char telemetry[] = "telemetry";
constexpr char create[] = "create";
constexpr char list[] = "list";
constexpr char get[] = "get";
constexpr char suspend[] = "suspend";
constexpr char resume[] = "resume";
constexpr char destroy[] = "destroy";
constexpr char assign[] = "assign";
constexpr char update[] = "update";
constexpr char revoke_sessions[] = "revoke_sessions";
constexpr char slice[] = "slice";
constexpr char server[] = "server";
constexpr char overview_verb[] = "overview";
constexpr char dead_letters[] = "dead_letters";
constexpr char replay[] = "replay";
} // namespace names

} // namespace

std::vector<endpoint> admin_endpoints() {
  using namespace names;
  return {
    // name, subject, handler
    {"admin_slices_create", admin_subject<slices, create>, on_slices_create},
    {"admin_slices_list", admin_subject<slices, list>, on_slices_list},
    {"admin_slices_get", admin_subject<slices, get>, on_slices_get},
    {"admin_slices_suspend", admin_subject<slices, suspend>,
     on_slices_change<pool::verb::suspend>},
    {"admin_slices_resume", admin_subject<slices, resume>,
     on_slices_change<pool::verb::resume>},
    {"admin_slices_destroy", admin_subject<slices, destroy>,
     on_slices_change<pool::verb::destroy>},
    {"admin_slices_assign", admin_subject<slices, assign>, on_slices_assign},
    {"admin_users_list", admin_subject<users, list>, on_users_list},
    {"admin_users_get", admin_subject<users, get>, on_users_get},
    {"admin_users_update", admin_subject<users, update>, on_users_update},
    {"admin_users_revoke_sessions", admin_subject<users, revoke_sessions>,
     on_users_revoke_sessions},
    {"admin_telemetry_slice", admin_subject<telemetry, slice>, on_telemetry_slice},
    {"admin_telemetry_server", admin_subject<telemetry, server>, on_telemetry_server},
    {"admin_overview", admin_subject<overview_verb>, on_overview},
    {"admin_dead_letters_list", admin_subject<dead_letters, list>, on_dead_letters_list},
    {"admin_dead_letters_get", admin_subject<dead_letters, get>, on_dead_letters_get},
    {"admin_dead_letters_replay", admin_subject<dead_letters, replay>, on_dead_letters_replay},
  };
}

} // namespace slicegate::bridge
