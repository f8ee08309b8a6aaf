#include "persistence/detail/errors.hpp"

#include <cstdlib>
#include <string>
#include <typeinfo>

#include <cxxabi.h>

#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

#include "messages/error.hpp"
#include "persistence/detail/link.hpp"

namespace slicegate::detail {

namespace {

/// The demangled name of the dynamic type of `e`, e.g. "pqxx::insufficient_privilege".
std::string type_name(const std::exception& e) {
  int status = 0;
  auto name = abi::__cxa_demangle(typeid(e).name(), nullptr, nullptr, &status);
  std::string result = status == 0 && name != nullptr ? name : typeid(e).name();
  std::free(name);
  return result;
}

/// The text of `e` on one line: libpq ends messages with a newline and puts the statement
/// context ("LINE 1: …") on lines of their own.
std::string one_line(const std::exception& e) {
  std::string result = e.what();
  while (!result.empty() && (result.back() == '\n' || result.back() == ' '))
    result.pop_back();
  for (auto& c : result)
    if (c == '\n' || c == '\t')
      c = ' ';
  return result;
}

} // namespace

bool database_fails(const std::string& state) {
  auto in_class = [&](const char* prefix) { return state.rfind(prefix, 0) == 0; };
  return in_class("53")          // insufficient resources: disk full, out of memory, too many
                                 // connections
         || in_class("58")       // system error: I/O error
         || in_class("40")       // transaction rollback: serialization failure, deadlock
         || state == "25006"     // read-only transaction: a standby, a primary being failed
                                 // over, default_transaction_read_only
         || state == "55P03"     // lock not available: lock_timeout
         || state == "57014"     // query canceled: statement_timeout, an operator's cancel
         || state == "57000"     // operator intervention
         || state == "25P03";    // idle-in-transaction timeout
}

caf::error to_error(const char* op, const std::exception& e) {
  if (connection_lost(e)) {
    spdlog::debug("persistence fails {}: database unavailable", op);
    return make_error(ec::unavailable, "database unavailable");
  }
  if (dynamic_cast<const pqxx::unique_violation*>(&e))
    return make_error(ec::conflict, std::string{op} + ": already exists");
  if (dynamic_cast<const pqxx::foreign_key_violation*>(&e))
    return make_error(ec::conflict, std::string{op} + ": refers to a missing row");
  if (dynamic_cast<const pqxx::check_violation*>(&e)
      || dynamic_cast<const pqxx::not_null_violation*>(&e)
      || dynamic_cast<const pqxx::data_exception*>(&e))
    return make_error(ec::invalid_request, std::string{op} + ": invalid value");
  if (dynamic_cast<const pqxx::unexpected_rows*>(&e))
    return make_error(ec::not_found, std::string{op} + ": not found");
  if (auto err = dynamic_cast<const pqxx::sql_error*>(&e)) {
    auto& state = err->sqlstate();
    // The database itself fails, not the request: worth trying again, for as long as it lasts.
    if (database_fails(state)) {
      spdlog::warn("persistence fails {}: SQLSTATE {} (the database, not the request)", op,
                   state);
      return make_error(ec::unavailable, std::string{op} + ": database unavailable (" + state
                                           + ")");
    }
    // Object in use (a template with sessions).
    if (state == "55006")
      return make_error(ec::conflict, std::string{op} + ": in use");
    if (state.empty()) {
      // No SQLSTATE: an error libpq made up on the client side, or one of the server's whose
      // code libpqxx 6.4 drops (it throws insufficient_privilege for 42501 without it, e.g.
      // "must be a superuser to terminate superuser process"). Neither quotes row values, and
      // without the type and text nobody can tell what happened.
      auto type = type_name(e);
      spdlog::error("persistence fails {}: {} without SQLSTATE: {}", op, type, one_line(e));
      return make_error(ec::internal, std::string{op} + ": database error (" + type + ")");
    }
    spdlog::error("persistence fails {}: SQLSTATE {}", op, state);
    return make_error(ec::internal, std::string{op} + ": database error " + state);
  }
  // A failed conversion quotes the value it could not convert: name the type only.
  if (dynamic_cast<const pqxx::conversion_error*>(&e))
    spdlog::error("persistence fails {}: a column does not convert to its record type", op);
  else
    spdlog::error("persistence fails {}: {}: {}", op, type_name(e), one_line(e));
  return make_error(ec::internal, std::string{op} + ": internal error");
}

} // namespace slicegate::detail
