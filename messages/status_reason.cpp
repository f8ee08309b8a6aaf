#include "messages/status_reason.hpp"

namespace slicegate {

namespace {

constexpr name_table<reason_cause, 3> reason_cause_names{{
  {reason_cause::admin, "admin"},
  {reason_cause::billing, "billing"},
  {reason_cause::provisioning, "provisioning"},
}};

} // namespace

std::string to_string(reason_cause x) {
  return name_in(reason_cause_names, x, "unknown");
}

template <>
caf::optional<reason_cause> from_string<reason_cause>(std::string_view text) {
  return value_in(reason_cause_names, text);
}

std::string make_reason(reason_cause cause, const std::string& detail) {
  auto prefix = to_string(cause);
  return detail.empty() ? prefix : prefix + ": " + detail;
}

caf::optional<reason_cause> cause_of(std::string_view reason) {
  return from_string<reason_cause>(reason.substr(0, reason.find(':')));
}

} // namespace slicegate
