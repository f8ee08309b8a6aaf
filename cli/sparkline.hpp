#pragma once

// A series drawn as one line of Unicode blocks, ▁ for the smallest value up to █ for the
// largest; a slot without a value is a space. Pure, so that it can be tested on its own.

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace slicegate::cli {

/// `values` as one block character each, scaled between their minimum and maximum (a flat
/// series is drawn at the bottom). Missing and NaN values are drawn as spaces. With `width`
/// non-zero and fewer columns than values, each column stands for an equal run of
/// consecutive values and shows the largest of them, so that a spike is not averaged away.
std::string sparkline(const std::vector<std::optional<double>>& values, size_t width = 0);

} // namespace slicegate::cli
