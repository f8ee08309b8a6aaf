#pragma once

// Lets Boost.Test print CAF values in failed checks, e.g. `BOOST_TEST(x.rss == optional{…})`.

#include <ostream>

#include <caf/deep_to_string.hpp>
#include <caf/optional.hpp>

namespace caf {

/// Found by argument-dependent lookup from Boost.Test's printer.
template <class T>
std::ostream& boost_test_print_type(std::ostream& out, const optional<T>& x) {
  return out << caf::deep_to_string(x);
}

} // namespace caf
