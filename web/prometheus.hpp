#pragma once

// The Prometheus text exposition format (version 0.0.4), written by hand because it is a few
// lines of rules: `# HELP` and `# TYPE` once per family, then one line per sample,
// `name{label="value",...} number`, label values escaped.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace slicegate::web {

/// A sample's labels, in the order written.
using labels = std::vector<std::pair<std::string, std::string>>;

class exposition {
 public:
  /// Starts a family: its `# HELP` and `# TYPE` (counter, gauge, histogram) lines.
  void family(std::string_view name, std::string_view type, std::string_view help);

  /// One sample of the current family (or of one of its `_bucket`, `_sum`, `_count` series).
  void sample(std::string_view name, const labels& l, double value);

  /// The series of one histogram: `counts` holds one count per bound of `bounds` plus one
  /// for the values above the last (not cumulative); written as cumulative `_bucket` lines
  /// with `le`, then `_sum` and `_count`.
  void histogram(std::string_view name, const labels& l, const std::vector<double>& bounds,
                 const std::vector<uint64_t>& counts, double sum);

  const std::string& text() const {
    return out_;
  }

 private:
  std::string out_;
};

/// `text` with backslash, double quote and newline escaped, as label values need them.
std::string escape_label_value(std::string_view text);

/// A sample value: integers without a fraction, others in shortest round-trip form, and
/// `NaN`, `+Inf`, `-Inf` as Prometheus spells them.
std::string format_value(double x);

} // namespace slicegate::web
