#define BOOST_TEST_MODULE sparkline
#include "cli/sparkline.hpp"

#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

using namespace slicegate::cli;

namespace {

using series = std::vector<std::optional<double>>;

/// How many columns a sparkline takes: one per UTF-8 code point.
size_t columns(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s)
    n += (c & 0xC0) != 0x80;
  return n;
}

} // namespace

BOOST_AUTO_TEST_CASE(eight_levels_from_the_smallest_to_the_largest_value) {
  BOOST_CHECK_EQUAL(sparkline({0, 1, 2, 3, 4, 5, 6, 7}), "▁▂▃▄▅▆▇█");
  // Scaled between minimum and maximum, whatever the magnitude.
  BOOST_CHECK_EQUAL(sparkline({1e9, 2e9}), "▁█");
  BOOST_CHECK_EQUAL(sparkline({-5, 5, 0}), "▁█▅");
}

BOOST_AUTO_TEST_CASE(missing_values_are_spaces) {
  BOOST_CHECK_EQUAL(sparkline({1, std::nullopt, 3}), "▁ █");
  BOOST_CHECK_EQUAL(sparkline({std::numeric_limits<double>::quiet_NaN(), 2.0, 4.0}), " ▁█");
  BOOST_CHECK_EQUAL(sparkline(series{std::nullopt, std::nullopt}), "  ");
  BOOST_CHECK_EQUAL(sparkline({}), "");
}

BOOST_AUTO_TEST_CASE(a_flat_series_is_drawn_at_the_bottom) {
  BOOST_CHECK_EQUAL(sparkline({3, 3, 3}), "▁▁▁");
  BOOST_CHECK_EQUAL(sparkline({42}), "▁");
}

BOOST_AUTO_TEST_CASE(a_narrower_line_keeps_the_largest_value_of_each_run) {
  series values(100, 1.0);
  values[57] = 9.0;
  auto line = sparkline(values, 10);
  BOOST_CHECK_EQUAL(columns(line), 10u);
  // The spike lands in the sixth column (values 50 to 59), drawn at full height.
  BOOST_CHECK_EQUAL(line, "▁▁▁▁▁█▁▁▁▁");
  // A run with no value at all stays a gap.
  series sparse(20);
  sparse[0] = 1;
  sparse[19] = 2;
  BOOST_CHECK_EQUAL(sparkline(sparse, 4), "▁  █");
}

BOOST_AUTO_TEST_CASE(a_width_wider_than_the_series_changes_nothing) {
  BOOST_CHECK_EQUAL(sparkline({0, 7}, 80), "▁█");
  BOOST_CHECK_EQUAL(sparkline({0, 7}, 0), "▁█");
}
