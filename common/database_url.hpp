#pragma once

// libpq connection strings, in URL or keyword form. Shared by every layer; depends on nothing
// of slicegate's.

#include <string>

namespace slicegate {

/// Replaces the database name of a libpq URL or keyword string.
std::string with_database(const std::string& url, const std::string& dbname);

} // namespace slicegate
