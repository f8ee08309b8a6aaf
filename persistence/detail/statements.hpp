#pragma once

// The SQL of sql/queries/, embedded at build time and looked up by file stem. Internal to
// persistence/: only files there include libpqxx.

#include <initializer_list>
#include <string>
#include <utility>

#include <pqxx/pqxx>

namespace slicegate::detail {

/// Returns the text of `sql/queries/<stem>.sql`; throws `std::logic_error` for an unknown stem
/// (a typo in the code, never a runtime condition).
const std::string& statement(const std::string& stem);

/// Returns the text of another embedded file by its path below sql/, e.g. "slice-schema.sql".
const std::string& sql_file(const std::string& path);

/// Defines every preparable query on `conn` under its stem. A file whose first line starts
/// with `-- direct:` (DDL, SET, identifiers as placeholders) is skipped: it is run as text.
/// libpqxx 6 sends a definition to the server on first use only, so a connection may define
/// statements for tables that a later migration creates.
void prepare_statements(pqxx::connection_base& conn);

/// Returns the statement of `text` (without its header comments) with every `{key}` replaced
/// by its value. Meant for identifiers, which cannot be bind parameters: the values must be
/// validated and quoted by the caller. Throws `std::logic_error` if a placeholder is left
/// without a value.
std::string with_identifiers(const std::string& text,
                             std::initializer_list<std::pair<const char*, std::string>> values);

} // namespace slicegate::detail
