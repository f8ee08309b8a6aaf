#include "bridge/subjects.hpp"

#include <initializer_list>

namespace slicegate::subjects {

namespace {

std::string join(std::initializer_list<std::string_view> tokens) {
  std::string result;
  for (auto token : tokens) {
    if (!result.empty())
      result += '.';
    result.append(token.data(), token.size());
  }
  return result;
}

} // namespace

std::string auth(std::string_view prefix, std::string_view verb) {
  return join({prefix, family::auth, verb});
}

std::string session(std::string_view prefix, std::string_view verb) {
  return join({prefix, family::session, verb});
}

std::string admin(std::string_view prefix, std::string_view resource, std::string_view verb) {
  return join({prefix, family::admin, resource, verb});
}

std::string admin(std::string_view prefix, std::string_view verb) {
  return join({prefix, family::admin, verb});
}

std::string event(std::string_view prefix, std::string_view kind) {
  return join({prefix, "events", kind});
}

std::string slice(std::string_view prefix, std::string_view kind, int32_t slice_id) {
  return join({prefix, "slice", kind, std::to_string(slice_id)});
}

std::string user_slice(std::string_view prefix, int32_t user_id) {
  return join({prefix, "user", "slice", std::to_string(user_id)});
}

std::string server_telemetry(std::string_view prefix) {
  return join({prefix, "server", "telemetry"});
}

std::string ping(std::string_view prefix) {
  return join({prefix, "ping"});
}

std::string family_wildcard(std::string_view prefix, std::string_view family) {
  return join({prefix, family, ">"});
}

std::string slice_wildcard(std::string_view prefix) {
  return join({prefix, "slice", ">"});
}

std::string user_slice_wildcard(std::string_view prefix) {
  return join({prefix, "user", "slice", ">"});
}

std::string forget_sessions(std::string_view prefix) {
  return join({prefix, "internal", "sessions", "forget"});
}

std::string server_wildcard(std::string_view prefix) {
  return join({prefix, "server", ">"});
}

std::string micro(std::string_view verb, std::string_view name, std::string_view id) {
  if (name.empty())
    return join({"$SRV", verb});
  if (id.empty())
    return join({"$SRV", verb, name});
  return join({"$SRV", verb, name, id});
}

bool valid_prefix(std::string_view prefix) {
  if (prefix.empty() || prefix.front() == '.' || prefix.back() == '.')
    return false;
  char last = 0;
  for (char c : prefix) {
    bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                || c == '_' || c == '-';
    if (!word && !(c == '.' && last != '.'))
      return false;
    last = c;
  }
  return true;
}

} // namespace slicegate::subjects
