#define BOOST_TEST_MODULE schema
#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <thread>

#include <boost/test/unit_test.hpp>
#include <caf/all.hpp>
#include <pqxx/pqxx>

#include "actors/actors.hpp"
#include "common/database_url.hpp"
#include "messages/error.hpp"
#include "persistence/migrator.hpp"
#include "persistence/persistence.hpp"
#include "persistence/sql_files.hpp"
#include "tests/support/ask.hpp"
#include "tests/support/servers.hpp"
#include "tests/support/system.hpp"

using namespace slicegate;
using namespace std::chrono_literals;

namespace {

using columns = std::vector<std::pair<std::string, std::string>>;

/// Tables of schema `gateway` with their columns and types (information_schema spelling): the
/// seed's tables and columns, then what DESIGN.md sections 2 and 3 add. Later migrations may
/// add more; none may take any of these away or change a type.
const std::map<std::string, columns>& expected_tables() {
  static const std::map<std::string, columns> tables{
    {"users",
     {{"id", "integer"},
      {"email", "text"},
      {"password_hash", "text"},
      {"slice_id", "integer"},
      {"stripe_customer", "text"},
      {"subscription_status", "text"},
      {"subscription_id", "text"},
      {"subscription_ends_at", "timestamp with time zone"},
      {"is_admin", "boolean"},
      {"created_at", "timestamp with time zone"},
      {"last_login_at", "timestamp with time zone"},
      {"stripe_status", "text"},
      {"billing_updated_at", "timestamp with time zone"},
      {"past_due_since", "timestamp with time zone"}}},
    {"slices",
     {{"id", "integer"},
      {"port", "integer"},
      {"status", "text"},
      {"user_id", "integer"},
      {"wa_connected", "boolean"},
      {"wa_phone", "text"},
      {"last_health_at", "timestamp with time zone"},
      {"created_at", "timestamp with time zone"},
      {"storage_bytes", "bigint"},
      {"healthy", "boolean"},
      {"data_dir", "text"},
      {"status_changed_at", "timestamp with time zone"},
      {"status_reason", "text"}}},
    {"sessions",
     {{"id", "text"},
      {"user_id", "integer"},
      {"expires_at", "timestamp with time zone"},
      {"created_at", "timestamp with time zone"}}},
    {"telemetry",
     {{"id", "bigint"},
      {"slice_id", "integer"},
      {"timestamp", "timestamp with time zone"},
      {"rss_bytes", "bigint"},
      {"wa_state", "text"},
      {"cpu_percent", "numeric"},
      {"disk_bytes", "bigint"}}},
    {"server_telemetry",
     {{"id", "bigint"},
      {"timestamp", "timestamp with time zone"},
      {"ram_used_bytes", "bigint"},
      {"ram_total_bytes", "bigint"},
      {"swap_used_bytes", "bigint"},
      {"swap_total_bytes", "bigint"},
      {"cpu_percent", "real"},
      {"disk_used_bytes", "bigint"},
      {"disk_total_bytes", "bigint"},
      {"active_slices", "integer"},
      {"total_slices", "integer"}}},
    {"billing_events",
     {{"event_id", "text"},
      {"stripe_customer", "text"},
      {"subscription_id", "text"},
      {"type", "text"},
      {"stripe_status", "text"},
      {"mapped_status", "text"},
      {"subscription_ends_at", "timestamp with time zone"},
      {"stripe_created", "timestamp with time zone"},
      {"received_at", "timestamp with time zone"},
      {"applied_at", "timestamp with time zone"},
      {"user_id", "integer"},
      {"payload", "jsonb"}}},
    {"signup_events",
     {{"event_id", "text"},
      {"user_id", "integer"},
      {"received_at", "timestamp with time zone"}}},
    {"schema_migrations",
     {{"version", "integer"}, {"name", "text"}, {"applied_at", "timestamp with time zone"}}},
    {"create_requests",
     {{"idempotency_key", "text"},
      {"slice_ids", "ARRAY"},
      {"created_at", "timestamp with time zone"}}},
  };
  return tables;
}

/// The migration numbers embedded from sql/migrations/.
std::vector<int32_t> embedded_versions() {
  static const std::regex pattern{R"(^migrations/([0-9]+)_.*\.sql$)"};
  std::vector<int32_t> result;
  for (auto& f : sql::files()) {
    std::cmatch m;
    if (std::regex_match(f.path, m, pattern))
      result.push_back(std::stoi(m[1]));
  }
  return result;
}

/// A persistence actor on a freshly reset gateway database, and a pqxx connection to read the
/// catalog with.
struct fixture {
  test::servers& servers = test::shared_servers();
  test::system_config cfg;
  caf::actor_system sys{cfg};
  persistence_actor actor;

  fixture() {
    servers.reset_database();
    persistence_config pc;
    pc.database_url = servers.database_url();
    actor = sys.spawn<caf::detached>(persistence, pc);
  }

  ~fixture() {
    caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
  }

  template <class T, class Request>
  caf::expected<T> ask(Request x) {
    return test::ask<T>(sys, actor, 60s, std::move(x));
  }

  template <class T, class Request>
  T must(Request x) {
    return test::must<T>(sys, actor, 60s, std::move(x));
  }

  std::vector<int32_t> migrate() {
    return must<std::vector<int32_t>>(db::migrate{});
  }

  /// Runs `text` on database `dbname` (default: the gateway database) as the superuser, in
  /// autocommit mode (DROP DATABASE refuses a transaction block).
  pqxx::result sql(const std::string& text, const std::string& dbname = "wank_saas") {
    pqxx::connection conn{with_database(servers.superuser_url(), dbname)};
    pqxx::nontransaction tx{conn};
    return tx.exec(text);
  }

  /// The rows of `text` as "a|b|c" lines.
  std::vector<std::string> lines(const std::string& text,
                                 const std::string& dbname = "wank_saas") {
    std::vector<std::string> result;
    for (const auto& row : sql(text, dbname)) {
      std::string line;
      for (const auto& field : row) {
        if (!line.empty())
          line += "|";
        line += field.is_null() ? "NULL" : field.c_str();
      }
      result.push_back(line);
    }
    return result;
  }

  /// Constraints of type `kind` (p, u, f, c) of schema gateway, as
  /// "table|definition" lines. Partitions (gateway.telemetry_p20261124, …) carry copies of
  /// their table's constraints and are left out: the tables are what the schema defines.
  std::set<std::string> constraints(char kind) {
    auto rows = lines("SELECT c.conrelid::regclass::text, pg_get_constraintdef(c.oid) "
                      "FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
                      "JOIN pg_class t ON t.oid = c.conrelid "
                      "WHERE n.nspname = 'gateway' AND NOT t.relispartition AND c.contype = '"
                      + std::string(1, kind) + "'");
    return {rows.begin(), rows.end()};
  }

  /// What a migration could change, in one comparable dump: columns with types, defaults and
  /// nullability, every constraint and index definition, comments and the migration records.
  std::vector<std::string> catalog_dump() {
    std::vector<std::string> dump;
    auto add = [&](const std::string& text) {
      auto part = lines(text);
      dump.insert(dump.end(), part.begin(), part.end());
    };
    add("SELECT table_name, column_name, data_type, column_default, is_nullable "
        "FROM information_schema.columns WHERE table_schema = 'gateway' "
        "ORDER BY table_name, ordinal_position");
    add("SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) "
        "FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
        "WHERE n.nspname = 'gateway' ORDER BY 1, 2");
    add("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'gateway' "
        "ORDER BY indexname");
    add("SELECT d.objoid::regclass::text, d.objsubid, d.description FROM pg_description d "
        "JOIN pg_class c ON c.oid = d.objoid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE d.classoid = 'pg_class'::regclass AND n.nspname = 'gateway' ORDER BY 1, 2");
    add("SELECT version, name, applied_at FROM gateway.schema_migrations ORDER BY version");
    return dump;
  }
};

/// Runs `text` and returns the SQLSTATE it failed with, or "" if it succeeded.
std::string sqlstate_of(const std::string& url, const std::string& text) {
  pqxx::connection conn{url};
  pqxx::work tx{conn};
  try {
    tx.exec(text);
    tx.commit();
    return "";
  } catch (const pqxx::sql_error& e) {
    return e.sqlstate();
  }
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(schema_tests, fixture)

BOOST_AUTO_TEST_CASE(migrate_applies_every_migration_once_and_records_it) {
  auto versions = embedded_versions();
  BOOST_REQUIRE(!versions.empty());
  BOOST_CHECK(migrate() == versions);
  auto recorded = lines("SELECT version, name FROM gateway.schema_migrations ORDER BY version");
  BOOST_REQUIRE_EQUAL(recorded.size(), versions.size());
  BOOST_CHECK_EQUAL(recorded.front(), "1|gateway_schema");
  BOOST_CHECK(migrate().empty());
}

BOOST_AUTO_TEST_CASE(every_table_has_its_columns_with_their_types) {
  migrate();
  for (auto& [table, cols] : expected_tables()) {
    BOOST_TEST_CONTEXT("table gateway." << table) {
      auto rows = lines("SELECT column_name, data_type FROM information_schema.columns "
                        "WHERE table_schema = 'gateway' AND table_name = '"
                        + table + "'");
      BOOST_CHECK_MESSAGE(!rows.empty(), "missing table");
      std::set<std::string> actual{rows.begin(), rows.end()};
      for (auto& [column, type] : cols)
        BOOST_CHECK_MESSAGE(actual.count(column + "|" + type) == 1,
                            "missing column " << column << " " << type);
    }
  }
  // SERIAL and BIGSERIAL keys draw from sequences.
  for (auto table : {"users", "slices", "telemetry", "server_telemetry"}) {
    auto def = lines(std::string{"SELECT column_default FROM information_schema.columns "
                                 "WHERE table_schema = 'gateway' AND column_name = 'id' "
                                 "AND table_name = '"}
                     + table + "'");
    BOOST_REQUIRE_EQUAL(def.size(), 1u);
    BOOST_CHECK_MESSAGE(def[0].rfind("nextval(", 0) == 0, table << ".id default: " << def[0]);
  }
}

BOOST_AUTO_TEST_CASE(primary_keys_unique_constraints_and_foreign_keys) {
  migrate();
  std::set<std::string> pks{"gateway.users|PRIMARY KEY (id)",
                            "gateway.slices|PRIMARY KEY (id)",
                            "gateway.sessions|PRIMARY KEY (id)",
                            // A partitioned table's key must hold its partition key.
                            "gateway.telemetry|PRIMARY KEY (id, \"timestamp\")",
                            "gateway.server_telemetry|PRIMARY KEY (id, \"timestamp\")",
                            "gateway.billing_events|PRIMARY KEY (event_id)",
                            "gateway.signup_events|PRIMARY KEY (event_id)",
                            "gateway.slice_alerts|PRIMARY KEY (id)",
                            "gateway.dead_letters|PRIMARY KEY (id)",
                            "gateway.create_requests|PRIMARY KEY (idempotency_key)",
                            "gateway.leases|PRIMARY KEY (name)",
                            "gateway.instances|PRIMARY KEY (service_id)",
                            "gateway.schema_migrations|PRIMARY KEY (version)"};
  BOOST_CHECK(constraints('p') == pks);
  // The seed's UNIQUE columns, and one user per slice and one slice per user.
  std::set<std::string> uniques{"gateway.users|UNIQUE (email)", "gateway.slices|UNIQUE (port)",
                                "gateway.users|UNIQUE (slice_id)",
                                "gateway.slices|UNIQUE (user_id)"};
  BOOST_CHECK(constraints('u') == uniques);
  auto fks = constraints('f');
  for (auto fk : {"gateway.users|FOREIGN KEY (slice_id) REFERENCES gateway.slices(id)",
                  "gateway.slices|FOREIGN KEY (user_id) REFERENCES gateway.users(id)",
                  "gateway.sessions|FOREIGN KEY (user_id) REFERENCES gateway.users(id)",
                  "gateway.telemetry|FOREIGN KEY (slice_id) REFERENCES gateway.slices(id)",
                  "gateway.slice_alerts|FOREIGN KEY (slice_id) REFERENCES gateway.slices(id)"}) {
    auto found = std::any_of(fks.begin(), fks.end(), [&](const std::string& def) {
      return def.rfind(fk, 0) == 0; // an ON DELETE clause may follow
    });
    BOOST_CHECK_MESSAGE(found, "missing " << fk);
  }
}

BOOST_AUTO_TEST_CASE(the_seed_indexes_exist_with_their_order) {
  migrate();
  // A partitioned table's index reads "ON ONLY <table>": the index of the table itself,
  // which every partition's index is attached to (checked below).
  auto defs = lines("SELECT indexname, replace(indexdef, ' ON ONLY ', ' ON ') "
                    "FROM pg_indexes WHERE schemaname = 'gateway'");
  std::set<std::string> all{defs.begin(), defs.end()};
  for (auto def :
       {"idx_telemetry_slice_time|CREATE INDEX idx_telemetry_slice_time ON gateway.telemetry "
        "USING btree (slice_id, \"timestamp\" DESC)",
        "idx_server_telemetry_time|CREATE INDEX idx_server_telemetry_time ON "
        "gateway.server_telemetry USING btree (\"timestamp\" DESC)"})
    BOOST_CHECK_MESSAGE(all.count(def) == 1, "missing " << def);
}

BOOST_AUTO_TEST_CASE(every_telemetry_partition_has_the_seed_indexes) {
  migrate();
  for (auto [table, index] : {std::pair{"telemetry", "idx_telemetry_slice_time"},
                              std::pair{"server_telemetry", "idx_server_telemetry_time"}}) {
    BOOST_TEST_CONTEXT("gateway." << table) {
      auto partitions = lines(std::string{"SELECT count(*) FROM pg_inherits "
                                          "WHERE inhparent = 'gateway."}
                              + table + "'::regclass")[0];
      BOOST_CHECK_NE(partitions, "0");
      auto attached = lines(std::string{"SELECT count(*) FROM pg_inherits "
                                        "WHERE inhparent = 'gateway."}
                            + index + "'::regclass")[0];
      BOOST_CHECK_EQUAL(attached, partitions);
    }
  }
}

BOOST_AUTO_TEST_CASE(status_columns_accept_only_their_values) {
  migrate();
  auto url = with_database(servers.superuser_url(), "wank_saas");
  auto insert_user = [&](const std::string& email, const std::string& status) {
    return sqlstate_of(url, "INSERT INTO gateway.users (email, password_hash, "
                            "subscription_status) VALUES ('"
                              + email + "', 'h', '" + status + "')");
  };
  int n = 0;
  for (auto status : {"trial", "active", "past_due", "cancelled"})
    BOOST_CHECK_EQUAL(insert_user("u" + std::to_string(++n) + "@example.com", status), "");
  BOOST_CHECK_EQUAL(insert_user("bad@example.com", "bogus"), "23514");
  BOOST_CHECK_EQUAL(insert_user("bad@example.com", "Trial"), "23514");
  // E-mail is stored lowercase.
  BOOST_CHECK_EQUAL(insert_user("Upper@example.com", "trial"), "23514");
  auto insert_slice = [&](int port, const std::string& status) {
    return sqlstate_of(url, "INSERT INTO gateway.slices (port, status) VALUES ("
                              + std::to_string(port) + ", '" + status + "')");
  };
  int port = 5001;
  for (auto status : {"available", "assigned", "suspended", "destroying"}) {
    BOOST_CHECK_EQUAL(insert_slice(port, status), "");
    port += 2;
  }
  BOOST_CHECK_EQUAL(insert_slice(port, "bogus"), "23514");
  BOOST_CHECK_EQUAL(insert_slice(5001, "available"), "23505"); // port is unique
}

BOOST_AUTO_TEST_CASE(a_slice_has_one_user_and_a_user_one_slice) {
  migrate();
  sql("INSERT INTO gateway.slices (port) VALUES (5001), (5003)");
  sql("INSERT INTO gateway.users (email, password_hash) VALUES ('a@x.io', 'h'), ('b@x.io', "
      "'h')");
  auto url = with_database(servers.superuser_url(), "wank_saas");
  BOOST_CHECK_EQUAL(sqlstate_of(url, "UPDATE gateway.users SET slice_id = (SELECT min(id) "
                                     "FROM gateway.slices)"),
                    "23505");
  BOOST_CHECK_EQUAL(sqlstate_of(url, "UPDATE gateway.slices SET user_id = (SELECT min(id) "
                                     "FROM gateway.users)"),
                    "23505");
  // NULLs do not collide: many users wait, many slices are free.
  BOOST_CHECK_EQUAL(lines("SELECT count(*) FROM gateway.users WHERE slice_id IS NULL")[0], "2");
  BOOST_CHECK_EQUAL(sqlstate_of(url, "UPDATE gateway.slices SET user_id = 4711 "
                                     "WHERE id = (SELECT min(id) FROM gateway.slices)"),
                    "23503");
}

BOOST_AUTO_TEST_CASE(a_second_migrate_changes_nothing) {
  migrate();
  auto before = catalog_dump();
  BOOST_CHECK(migrate().empty());
  BOOST_CHECK(run_migrations(servers.database_url()).empty());
  auto after = catalog_dump();
  BOOST_CHECK_EQUAL_COLLECTIONS(before.begin(), before.end(), after.begin(), after.end());
}

BOOST_AUTO_TEST_CASE(concurrent_migrators_apply_each_migration_once) {
  std::vector<int32_t> first;
  std::vector<int32_t> second;
  std::thread t1{[&] {
    first = run_migrations(servers.database_url());
  }};
  std::thread t2{[&] {
    second = run_migrations(servers.database_url());
  }};
  t1.join();
  t2.join();
  std::vector<int32_t> all = first;
  all.insert(all.end(), second.begin(), second.end());
  std::sort(all.begin(), all.end());
  BOOST_CHECK(all == embedded_versions());
  BOOST_CHECK(migrate().empty());
}

BOOST_AUTO_TEST_CASE(slicegate_migrate_applies_the_schema) {
  auto binary = test::slicegate_binary();
  if (!std::filesystem::exists(binary)) {
    BOOST_TEST_MESSAGE("skipped: " << binary << " is not built");
    return;
  }
  auto command = binary + " migrate --database-url='" + servers.database_url() + "'";
  BOOST_REQUIRE_EQUAL(test::run(command), 0);
  BOOST_CHECK_EQUAL(lines("SELECT count(*) FROM gateway.schema_migrations")[0],
                    std::to_string(embedded_versions().size()));
  auto before = catalog_dump();
  BOOST_CHECK_EQUAL(test::run(command), 0);
  BOOST_CHECK(migrate().empty());
  auto after = catalog_dump();
  BOOST_CHECK_EQUAL_COLLECTIONS(before.begin(), before.end(), after.begin(), after.end());
  // An unreachable database is a failure, not a hang.
  auto bad = binary + " migrate --database-url='postgresql://wank_gateway@127.0.0.1:1/x'";
  BOOST_CHECK_NE(test::run(bad + " >/dev/null 2>&1"), 0);
}

BOOST_AUTO_TEST_SUITE_END()
