#include "cli/sparkline.hpp"

#include <algorithm>
#include <cmath>

namespace slicegate::cli {

namespace {

constexpr const char* blocks[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
constexpr size_t levels = std::size(blocks);

bool present(const std::optional<double>& x) {
  return x && !std::isnan(*x);
}

/// The largest present value of each of `width` equal runs of `values`.
std::vector<std::optional<double>> narrowed(const std::vector<std::optional<double>>& values,
                                            size_t width) {
  std::vector<std::optional<double>> result(width);
  for (size_t i = 0; i < values.size(); ++i) {
    if (!present(values[i]))
      continue;
    auto& column = result[i * width / values.size()];
    column = column ? std::max(*column, *values[i]) : *values[i];
  }
  return result;
}

} // namespace

std::string sparkline(const std::vector<std::optional<double>>& values, size_t width) {
  if (width > 0 && values.size() > width)
    return sparkline(narrowed(values, width));
  std::optional<double> lo;
  std::optional<double> hi;
  for (auto& x : values)
    if (present(x)) {
      lo = lo ? std::min(*lo, *x) : *x;
      hi = hi ? std::max(*hi, *x) : *x;
    }
  std::string result;
  for (auto& x : values) {
    if (!present(x)) {
      result += ' ';
      continue;
    }
    size_t level = 0;
    if (*hi > *lo)
      level = std::min(levels - 1, static_cast<size_t>((*x - *lo) / (*hi - *lo) * levels));
    result += blocks[level];
  }
  return result;
}

} // namespace slicegate::cli
