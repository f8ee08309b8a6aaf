#pragma once

// Lets Boost.Test print the domain enums by name in failed checks, e.g.
// `BOOST_CHECK_EQUAL(slice.status, slice_status::assigned)`. Plain overloads, found by
// argument-dependent lookup, so that they win over Boost.Test's own catch-all template.

#include <ostream>

#include "messages/error.hpp"
#include "messages/events.hpp"
#include "messages/records.hpp"

namespace slicegate {

inline std::ostream& boost_test_print_type(std::ostream& out, ec x) {
  return out << to_string(x);
}

inline std::ostream& boost_test_print_type(std::ostream& out, subscription x) {
  return out << to_string(x);
}

inline std::ostream& boost_test_print_type(std::ostream& out, slice_status x) {
  return out << to_string(x);
}

namespace events {

inline std::ostream& boost_test_print_type(std::ostream& out, alert_kind x) {
  return out << to_string(x);
}

} // namespace events

} // namespace slicegate
