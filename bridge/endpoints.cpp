#include "bridge/endpoints.hpp"

#include <cstdint>

#include "bridge/subjects.hpp"
#include "messages/error.hpp"
#include "messages/pool.hpp"

namespace slicegate::bridge {

namespace {

using codec::json;
using std::string_view;
namespace auth_verb = subjects::auth_verb;
namespace session_verb = subjects::session_verb;

/// Decodes the body as `Request`, asks the session manager and answers with `encode(reply)`.
template <class Request, class Reply, class Encode>
void ask_sessions(bridge_pointer self, pending_request req, string_view payload,
                  Encode encode) {
  auto msg = codec::decode<Request>(payload);
  if (!msg) {
    fail(self, req, msg.error());
    return;
  }
  forward<Reply>(self, std::move(req), available(self->state).sessions, std::move(*msg),
                 encode);
}

json signed_up(const auth::signed_in& x) {
  return codec::session_reply(x, true);
}

json signed_in(const auth::signed_in& x) {
  return codec::session_reply(x, false);
}

// -- handlers ---------------------------------------------------------------------------------

/// Answered here, after the same parse-dispatch-encode path as every other endpoint: a probe
/// for liveness and the benchmark's measure of the bridge's own cost.
void on_ping(bridge_pointer self, pending_request req, string_view payload) {
  auto body = codec::parse_object(payload, true);
  if (!body) {
    fail(self, req, body.error());
    return;
  }
  reply(self, req, {{"pong", true}, {"at", codec::format_time(caf::make_timestamp())}});
}

void on_signup(bridge_pointer self, pending_request req, string_view payload) {
  ask_sessions<auth::signup, auth::signed_in>(self, std::move(req), payload, signed_up);
}

void on_login(bridge_pointer self, pending_request req, string_view payload) {
  ask_sessions<auth::login, auth::signed_in>(self, std::move(req), payload, signed_in);
}

void on_logout(bridge_pointer self, pending_request req, string_view payload) {
  ask_sessions<auth::logout, bool>(self, std::move(req), payload, [](bool revoked) {
    return json{{"revoked", revoked}};
  });
}

void on_logout_all(bridge_pointer self, pending_request req, string_view payload) {
  ask_sessions<auth::logout_all, int32_t>(self, std::move(req), payload, [](int32_t n) {
    return json{{"revoked", n}};
  });
}

void on_password(bridge_pointer self, pending_request req, string_view payload) {
  ask_sessions<auth::change_password, int32_t>(self, std::move(req), payload, [](int32_t n) {
    return json{{"revoked_sessions", n}};
  });
}

void on_resolve(bridge_pointer self, pending_request req, string_view payload) {
  ask_sessions<auth::resolve, auth::signed_in>(self, std::move(req), payload, signed_in);
}

// -- admin ------------------------------------------------------------------------------------

/// Every admin request carries the caller's session; the rest of the body is read by `read`.
/// The session manager checks that the session belongs to an admin (401 without a valid
/// session, 403 for a non-admin) before anything is asked of the slice manager, so a refused
/// request changes nothing.
template <class Request, class Reply, class Read, class Encode>
void ask_pool_as_admin(bridge_pointer self, pending_request req, string_view payload, Read read,
                       Encode encode) {
  auto body = codec::parse_object(payload);
  if (!body) {
    fail(self, req, body.error());
    return;
  }
  auth::authorize_admin who;
  Request msg;
  codec::fields f{*body};
  f.text("session_id", who.token, codec::limits::token, codec::charset::printable);
  read(f, *body, msg);
  if (auto err = f.error()) {
    fail(self, req, err);
    return;
  }
  auto targets = available(self->state);
  if (!targets.sessions) {
    fail(self, req, make_error(ec::unavailable, "the service is starting or stopping"));
    return;
  }
  auto slices = targets.slices;
  self->request(targets.sessions, self->state.config.request_timeout, std::move(who))
    .then(
      [self, req, slices, msg, encode](user_record&) mutable {
        forward<Reply>(self, std::move(req), slices, std::move(msg), encode);
      },
      [self, req](caf::error& err) { fail(self, req, err); });
}

/// A slice as admins see it: every column, not only the `{id, port, status}` users get.
json admin_slice(const slice_record& x) {
  auto opt_time = [](const optional<timestamp>& t) {
    return t ? json(codec::format_time(*t)) : json(nullptr);
  };
  return json{{"id", x.id},
              {"port", x.port},
              {"status", to_string(x.status)},
              {"user_id", x.user_id ? json(*x.user_id) : json(nullptr)},
              {"wa_connected", x.wa_connected},
              {"wa_phone", x.wa_phone ? json(*x.wa_phone) : json(nullptr)},
              {"healthy", x.healthy ? json(*x.healthy) : json(nullptr)},
              {"last_health_at", opt_time(x.last_health_at)},
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

/// Reads the `slice_id` every single-slice verb names.
void read_slice_id(codec::fields& f, int32_t& out) {
  int64_t id = 0;
  f.integer("slice_id", id, 1, INT32_MAX);
  out = static_cast<int32_t>(id);
}

void on_slices_create(bridge_pointer self, pending_request req, string_view payload) {
  ask_pool_as_admin<pool::create_slices, std::vector<slice_record>>(
    self, std::move(req), payload,
    [](codec::fields& f, const json&, pool::create_slices& msg) {
      int64_t count = 0;
      f.integer("count", count, 1, 1000);
      msg.count = static_cast<int32_t>(count);
    },
    admin_slices);
}

void on_slices_list(bridge_pointer self, pending_request req, string_view payload) {
  ask_pool_as_admin<pool::list_slices, std::vector<slice_record>>(
    self, std::move(req), payload,
    [](codec::fields& f, const json&, pool::list_slices& msg) {
      f.state("status", msg.status);
    },
    admin_slices);
}

void on_slices_get(bridge_pointer self, pending_request req, string_view payload) {
  ask_pool_as_admin<pool::get_slice, pool::slice_detail>(
    self, std::move(req), payload,
    [](codec::fields& f, const json&, pool::get_slice& msg) {
      read_slice_id(f, msg.slice_id);
    },
    [](const pool::slice_detail& x) {
      json latest = nullptr;
      if (x.latest) {
        auto& t = *x.latest;
        latest = json{{"at", codec::format_time(t.at)},
                      {"wa_state", t.wa_state},
                      {"rss_bytes", t.rss_bytes ? json(*t.rss_bytes) : json(nullptr)},
                      {"cpu_percent", t.cpu_percent ? json(*t.cpu_percent) : json(nullptr)},
                      {"disk_bytes", t.disk_bytes ? json(*t.disk_bytes) : json(nullptr)}};
      }
      return json{{"slice", admin_slice(x.slice)}, {"latest_telemetry", std::move(latest)}};
    });
}

template <pool::verb Verb>
void on_slices_change(bridge_pointer self, pending_request req, string_view payload) {
  ask_pool_as_admin<pool::change_slice, slice_record>(
    self, std::move(req), payload,
    [](codec::fields& f, const json&, pool::change_slice& msg) {
      read_slice_id(f, msg.slice_id);
      msg.action = Verb;
      // The admin's own words; the slice manager records them as "admin: <reason>" (or
      // "admin" without any), so the prefix is added there and only there.
      optional<std::string> reason;
      f.text("reason", reason, 500, codec::charset::printable);
      msg.reason = reason ? std::move(*reason) : std::string{};
    },
    admin_slice_reply);
}

void on_slices_assign(bridge_pointer self, pending_request req, string_view payload) {
  ask_pool_as_admin<pool::assign_slice, slice_record>(
    self, std::move(req), payload,
    [](codec::fields& f, const json& body, pool::assign_slice& msg) {
      int64_t user = 0;
      f.integer("user_id", user, 1, INT32_MAX);
      msg.user_id = static_cast<int32_t>(user);
      if (body.contains("slice_id") && !body["slice_id"].is_null()) {
        int32_t slice = 0;
        read_slice_id(f, slice);
        msg.slice_id = slice;
      }
    },
    admin_slice_reply);
}

} // namespace

const std::vector<endpoint>& endpoint_table() {
  static const std::vector<endpoint> table{
    // name, subject, handler
    {"ping", [](string_view p) { return subjects::ping(p); }, on_ping},
    {"auth_signup", [](string_view p) { return subjects::auth(p, auth_verb::signup); },
     on_signup},
    {"auth_login", [](string_view p) { return subjects::auth(p, auth_verb::login); }, on_login},
    {"auth_logout", [](string_view p) { return subjects::auth(p, auth_verb::logout); },
     on_logout},
    {"auth_logout_all", [](string_view p) { return subjects::auth(p, auth_verb::logout_all); },
     on_logout_all},
    {"auth_password", [](string_view p) { return subjects::auth(p, auth_verb::password); },
     on_password},
    {"session_resolve",
     [](string_view p) { return subjects::session(p, session_verb::resolve); }, on_resolve},
    {"admin_slices_create", [](string_view p) { return subjects::admin(p, "slices", "create"); },
     on_slices_create},
    {"admin_slices_list", [](string_view p) { return subjects::admin(p, "slices", "list"); },
     on_slices_list},
    {"admin_slices_get", [](string_view p) { return subjects::admin(p, "slices", "get"); },
     on_slices_get},
    {"admin_slices_suspend",
     [](string_view p) { return subjects::admin(p, "slices", "suspend"); },
     on_slices_change<pool::verb::suspend>},
    {"admin_slices_resume", [](string_view p) { return subjects::admin(p, "slices", "resume"); },
     on_slices_change<pool::verb::resume>},
    {"admin_slices_destroy",
     [](string_view p) { return subjects::admin(p, "slices", "destroy"); },
     on_slices_change<pool::verb::destroy>},
    {"admin_slices_assign", [](string_view p) { return subjects::admin(p, "slices", "assign"); },
     on_slices_assign},
  };
  return table;
}

std::vector<std::string> catch_all_subjects(std::string_view prefix) {
  return {
    subjects::family_wildcard(prefix, subjects::family::auth),
    subjects::family_wildcard(prefix, subjects::family::session),
    subjects::family_wildcard(prefix, subjects::family::admin),
  };
}

} // namespace slicegate::bridge
