#define BOOST_TEST_MODULE prometheus
#include <boost/test/unit_test.hpp>

// The Prometheus text format writer behind GET /metrics.

#include <cmath>
#include <limits>
#include <string>

#include "web/prometheus.hpp"

using namespace slicegate::web;

BOOST_AUTO_TEST_CASE(values_are_written_as_prometheus_reads_them) {
  BOOST_CHECK_EQUAL(format_value(0), "0");
  BOOST_CHECK_EQUAL(format_value(42), "42");
  BOOST_CHECK_EQUAL(format_value(0.0005), "0.0005");
  BOOST_CHECK_EQUAL(format_value(2.5), "2.5");
  BOOST_CHECK_EQUAL(std::stod(format_value(1e30)), 1e30);
  BOOST_CHECK_EQUAL(format_value(std::numeric_limits<double>::infinity()), "+Inf");
  BOOST_CHECK_EQUAL(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
  BOOST_CHECK_EQUAL(format_value(std::nan("")), "NaN");
}

BOOST_AUTO_TEST_CASE(label_values_are_escaped) {
  BOOST_CHECK_EQUAL(escape_label_value(R"(a"b\c)"), R"(a\"b\\c)");
  BOOST_CHECK_EQUAL(escape_label_value("line\nbreak"), "line\\nbreak");
  exposition out;
  out.family("x_total", "counter", "Help with a \\ and\na newline.");
  out.sample("x_total", {{"endpoint", "say \"hi\""}, {"b", "2"}}, 3);
  BOOST_CHECK_EQUAL(out.text(), "# HELP x_total Help with a \\\\ and\\na newline.\n"
                                "# TYPE x_total counter\n"
                                "x_total{endpoint=\"say \\\"hi\\\"\",b=\"2\"} 3\n");
}

BOOST_AUTO_TEST_CASE(histograms_are_cumulative_with_inf_sum_and_count) {
  exposition out;
  out.family("d_seconds", "histogram", "Durations.");
  // One below 0.1, none in (0.1, 1], two above.
  out.histogram("d_seconds", {{"e", "x"}}, {0.1, 1}, {1, 0, 2}, 7.5);
  BOOST_CHECK_EQUAL(out.text(), "# HELP d_seconds Durations.\n"
                                "# TYPE d_seconds histogram\n"
                                "d_seconds_bucket{e=\"x\",le=\"0.1\"} 1\n"
                                "d_seconds_bucket{e=\"x\",le=\"1\"} 1\n"
                                "d_seconds_bucket{e=\"x\",le=\"+Inf\"} 3\n"
                                "d_seconds_sum{e=\"x\"} 7.5\n"
                                "d_seconds_count{e=\"x\"} 3\n");
}
