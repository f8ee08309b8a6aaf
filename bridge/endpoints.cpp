#include "bridge/endpoints.hpp"

#include <cstdint>

#include "bridge/admin_endpoints.hpp"
#include "bridge/subjects.hpp"
#include "messages/error.hpp"

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

} // namespace

const std::vector<endpoint>& endpoint_table() {
  static const std::vector<endpoint> table = [] {
    std::vector<endpoint> all{
      // name, subject, handler
      {"ping", [](string_view p) { return subjects::ping(p); }, on_ping},
      {"auth_signup", [](string_view p) { return subjects::auth(p, auth_verb::signup); },
       on_signup},
      {"auth_login", [](string_view p) { return subjects::auth(p, auth_verb::login); },
       on_login},
      {"auth_logout", [](string_view p) { return subjects::auth(p, auth_verb::logout); },
       on_logout},
      {"auth_logout_all",
       [](string_view p) { return subjects::auth(p, auth_verb::logout_all); }, on_logout_all},
      {"auth_password", [](string_view p) { return subjects::auth(p, auth_verb::password); },
       on_password},
      {"session_resolve",
       [](string_view p) { return subjects::session(p, session_verb::resolve); }, on_resolve},
    };
    for (auto& x : admin_endpoints())
      all.push_back(x);
    return all;
  }();
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
