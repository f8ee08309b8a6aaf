#pragma once

// The one spelling of each domain enum. Every enum that leaves the process as text (a status
// column, a JSON field, an error word) has a table of (value, name) pairs next to its
// definition; its `to_string` and its `from_string` specialization both read that table, so
// the two directions cannot drift apart, and code inside the process compares values, never
// strings, so a misspelt state does not compile.

#include <array>
#include <cstddef>
#include <string_view>
#include <utility>

#include <caf/none.hpp>
#include <caf/optional.hpp>

namespace slicegate {

/// Returns the `E` spelled `text`, or none for a spelling `E` does not know. Specialized next
/// to each enum; used where text comes in (SQL rows, JSON requests).
template <class E>
caf::optional<E> from_string(std::string_view text);

/// A table of the names of `N` values of `E`.
template <class E, size_t N>
using name_table = std::array<std::pair<E, const char*>, N>;

/// The name of `x` in `table`; `fallback` if the table misses it (a test checks it does not).
template <class E, size_t N>
const char* name_in(const name_table<E, N>& table, E x, const char* fallback) {
  for (auto& [value, name] : table)
    if (value == x)
      return name;
  return fallback;
}

/// The value named `text` in `table`, or none.
template <class E, size_t N>
caf::optional<E> value_in(const name_table<E, N>& table, std::string_view text) {
  for (auto& [value, name] : table)
    if (text == name)
      return value;
  return caf::none;
}

} // namespace slicegate
