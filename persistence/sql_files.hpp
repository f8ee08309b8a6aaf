#pragma once

#include <string>
#include <vector>

namespace slicegate::sql {

/// One file of sql/, embedded at build time.
struct file {
  /// Path relative to sql/, e.g. "queries/find_session.sql".
  const char* path;
  const char* text;
};

/// Every embedded file, sorted by path (migrations thus in the order of their number).
const std::vector<file>& files();

} // namespace slicegate::sql
