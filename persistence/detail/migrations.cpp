#include "persistence/detail/migrations.hpp"

#include <algorithm>
#include <regex>
#include <stdexcept>
#include <string>

#include <spdlog/spdlog.h>

#include "persistence/detail/link.hpp"
#include "persistence/detail/statements.hpp"
#include "persistence/sql_files.hpp"

namespace slicegate::detail {

namespace {

struct migration {
  int32_t version;
  std::string name;
  std::string text;
};

/// The embedded migrations in the order of their number.
std::vector<migration> migrations() {
  static const std::regex pattern{R"(^migrations/([0-9]+)_([a-z0-9_]+)\.sql$)"};
  std::vector<migration> result;
  for (auto& f : sql::files()) {
    std::string path = f.path;
    if (path.rfind("migrations/", 0) != 0)
      continue;
    std::smatch m;
    if (!std::regex_match(path, m, pattern))
      throw std::logic_error("sql/" + path + " is not named NNN_name.sql");
    result.push_back({std::stoi(m[1]), m[2], f.text});
  }
  std::sort(result.begin(), result.end(),
            [](const migration& x, const migration& y) { return x.version < y.version; });
  auto twice = std::adjacent_find(
    result.begin(), result.end(),
    [](const migration& x, const migration& y) { return x.version == y.version; });
  if (twice != result.end())
    throw std::logic_error("two migrations have number " + std::to_string(twice->version));
  return result;
}

} // namespace

std::vector<int32_t> apply_migrations(link& gateway) {
  // 001 creates the table that records the migrations, but it must exist before the applied
  // versions can be read: create it first, under the same lock.
  gateway.run([](pqxx::connection& c) {
    pqxx::work tx{c};
    tx.exec_prepared("lock_migrations");
    tx.exec(statement("bootstrap_migrations"));
    tx.commit();
  });
  std::vector<int32_t> applied;
  for (auto& m : migrations()) {
    auto applied_now = gateway.run([&m](pqxx::connection& c) {
      pqxx::work tx{c};
      tx.exec_prepared("lift_statement_timeout");
      tx.exec_prepared("lock_migrations");
      if (tx.exec_prepared1("migration_applied", m.version)["applied"].as<bool>())
        return false;
      try {
        tx.exec(m.text);
      } catch (const pqxx::sql_error& e) {
        spdlog::error("persistence cannot apply migration {:03}_{}: SQLSTATE {}", m.version,
                      m.name, e.sqlstate());
        throw;
      }
      tx.exec_prepared("record_migration", m.version, m.name);
      tx.commit();
      return true;
    });
    if (applied_now) {
      spdlog::debug("persistence applied migration {:03}_{}", m.version, m.name);
      applied.push_back(m.version);
    }
  }
  return applied;
}

} // namespace slicegate::detail
