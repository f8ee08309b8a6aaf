#pragma once

// Statements a test runs on a database directly, outside the actors, to arrange a state or
// read back what the product wrote.

#include <cstdint>
#include <string>

#include <pqxx/pqxx>

namespace slicegate::test {

/// Runs `text` in one committed transaction on the database at `url`.
pqxx::result sql(const std::string& url, const std::string& text);

/// The first column of the first row `text` returns as a number; 0 for no row or NULL.
int64_t scalar(const std::string& url, const std::string& text);

} // namespace slicegate::test
