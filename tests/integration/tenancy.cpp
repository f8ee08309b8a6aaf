// Tenants apart, against a real PostgreSQL that makes slice roles log in with a password (the
// throwaway cluster's pg_hba.conf asks it of every member of wa_slice, as a deployment does):
// the provisioner gives each slice a role of its own that opens its own database and nothing
// else, keeps the template out of everyone's reach, moves an older layout over, and stalls
// nothing but itself when the template is held. The end-to-end case runs the daemon with the
// process runtime and reads what a slice was really handed.

#define BOOST_TEST_MODULE tenancy
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <caf/all.hpp>
#include <pqxx/pqxx>

#include "actors/actors.hpp"
#include "common/database_url.hpp"
#include "messages/error.hpp"
#include "persistence/persistence.hpp"
#include "persistence/provisioner.hpp"
#include "tests/support/ask.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/servers.hpp"
#include "tests/support/system.hpp"

using namespace slicegate;
using namespace std::chrono_literals;

namespace {

const std::string tpl = provisioner_config{}.template_database;

struct fixture {
  test::servers& servers = test::shared_servers();
  test::system_config cfg;
  caf::actor_system sys{cfg};
  provisioner_actor provisioner_handle;
  persistence_actor db;

  fixture() {
    servers.reset_database();
    drop_slice_databases();
    provisioner_config pc;
    pc.database_url = servers.database_url();
    pc.admin_database_url = servers.admin_database_url();
    pc.lock_timeout = 2s;
    provisioner_handle = sys.spawn<caf::detached>(provisioner, pc);
    persistence_config dc;
    dc.database_url = servers.database_url();
    db = sys.spawn<caf::detached>(persistence, dc);
    test::must<std::vector<int32_t>>(sys, db, 60s, db::migrate{});
  }

  ~fixture() {
    caf::anon_send_exit(provisioner_handle, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(db, caf::exit_reason::user_shutdown);
  }

  template <class T, class Request>
  caf::expected<T> ask(Request x) {
    return test::ask<T>(sys, provisioner_handle, 60s, std::move(x));
  }

  template <class T, class Request>
  T must(Request x) {
    return test::must<T>(sys, provisioner_handle, 60s, std::move(x));
  }

  /// Runs `text` on `dbname` as the superuser, in autocommit mode.
  pqxx::result sql(const std::string& text, const std::string& dbname = "postgres") {
    pqxx::connection conn{with_database(servers.superuser_url(), dbname)};
    pqxx::nontransaction tx{conn};
    return tx.exec(text);
  }

  std::string one(const std::string& text, const std::string& dbname = "postgres") {
    auto rows = sql(text, dbname);
    return rows.empty() || rows[0][0].is_null() ? std::string{} : rows[0][0].as<std::string>();
  }

  std::string owner_of(const std::string& dbname) {
    return one("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '" + dbname
               + "'");
  }

  /// A slice's URL, as the daemon hands it out, to database `dbname`.
  std::string url_of(const db::slice_credentials& login, const std::string& dbname) {
    return with_login(with_database(servers.slice_database_url(), dbname), login.role,
                      login.password);
  }

  /// Whether `url` opens a session; the server's refusal otherwise.
  std::optional<std::string> refusal(const std::string& url) {
    try {
      pqxx::connection conn{url};
      pqxx::work tx{conn};
      tx.exec("SELECT 1");
      return std::nullopt;
    } catch (const std::exception& e) {
      return std::string{e.what()};
    }
  }

  void drop_slice_databases() {
    for (const auto& row : sql("SELECT datname FROM pg_database WHERE datname ~ '^wa_slice_'")) {
      auto name = row[0].as<std::string>();
      pqxx::connection conn{servers.superuser_url()};
      pqxx::nontransaction tx{conn};
      tx.exec("ALTER DATABASE " + tx.quote_name(name) + " IS_TEMPLATE false");
      tx.exec("DROP DATABASE " + tx.quote_name(name) + " WITH (FORCE)");
    }
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(tenancy, fixture)

BOOST_AUTO_TEST_CASE(the_template_is_slicegates_own_and_takes_no_connections) {
  BOOST_CHECK(must<bool>(db::ensure_template{}));
  BOOST_CHECK(!must<bool>(db::ensure_template{}));
  BOOST_CHECK_EQUAL(owner_of(tpl), "wank_gateway");
  BOOST_CHECK_EQUAL(one("SELECT datistemplate::text || ' ' || datallowconn::text "
                        "FROM pg_database WHERE datname = '" + tpl + "'"),
                    "true false");
  // Not even the superuser gets in while it is a template.
  BOOST_CHECK(refusal(with_database(servers.superuser_url(), tpl)));
  // Nobody holds CONNECT on it but its owner.
  BOOST_CHECK_EQUAL(one("SELECT has_database_privilege('wa_slice', '" + tpl + "', 'CONNECT')::text"),
                    "false");
}

BOOST_AUTO_TEST_CASE(a_slice_database_and_everything_in_it_belong_to_the_slices_role) {
  must<bool>(db::ensure_template{});
  BOOST_CHECK(must<bool>(db::create_slice_database{"wa_slice_1"}));
  BOOST_CHECK(!must<bool>(db::create_slice_database{"wa_slice_1"}));
  BOOST_CHECK_EQUAL(owner_of("wa_slice_1"), "wa_slice_1");
  auto owners = sql("SELECT DISTINCT pg_get_userbyid(c.relowner) FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' "
                    "UNION SELECT DISTINCT pg_get_userbyid(p.proowner) FROM pg_proc p "
                    "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'",
                    "wa_slice_1");
  BOOST_REQUIRE_EQUAL(owners.size(), 1u);
  BOOST_CHECK_EQUAL(owners[0][0].as<std::string>(), "wa_slice_1");
  for (auto table : {"contacts", "chats", "messages", "media"})
    BOOST_CHECK_MESSAGE(!one(std::string{"SELECT to_regclass('public."} + table + "')",
                             "wa_slice_1")
                           .empty(),
                        "missing table " << table);
  // The role: a login in group wa_slice, with no power beyond that, and a connection limit.
  BOOST_CHECK_EQUAL(one("SELECT rolcanlogin::text || rolsuper::text || rolcreatedb::text || "
                        "rolcreaterole::text || rolconnlimit FROM pg_roles "
                        "WHERE rolname = 'wa_slice_1'"),
                    "truefalsefalsefalse20");
  BOOST_CHECK_EQUAL(one("SELECT pg_has_role('wa_slice_1', 'wa_slice', 'MEMBER')::text"), "true");
  // Its password is stored as a SCRAM verifier only.
  BOOST_CHECK(one("SELECT rolpassword FROM pg_authid WHERE rolname = 'wa_slice_1'")
                .rfind("SCRAM-SHA-256$", 0)
              == 0);
  // A session of the slice itself does not stop a wipe.
  auto login = must<db::slice_credentials>(db::slice_login{1});
  pqxx::connection slice_session{url_of(login, "wa_slice_1")};
  BOOST_CHECK(must<bool>(db::drop_slice_database{"wa_slice_1"}));
  BOOST_CHECK(!must<bool>(db::drop_slice_database{"wa_slice_1"}));
  BOOST_CHECK(owner_of("wa_slice_1").empty());
}

BOOST_AUTO_TEST_CASE(a_slices_login_opens_its_own_database_and_nothing_else) {
  must<bool>(db::ensure_template{});
  must<bool>(db::create_slice_database{"wa_slice_1"});
  must<bool>(db::create_slice_database{"wa_slice_2"});
  auto a = must<db::slice_credentials>(db::slice_login{1});
  auto b = must<db::slice_credentials>(db::slice_login{2});
  BOOST_CHECK_EQUAL(a.role, "wa_slice_1");
  BOOST_CHECK_NE(a.password, b.password);
  BOOST_CHECK_GE(a.password.size(), 32u);
  // Its own: read and write.
  {
    pqxx::connection conn{url_of(a, "wa_slice_1")};
    pqxx::work tx{conn};
    tx.exec("INSERT INTO contacts (wa_id) VALUES ('1555@s.whatsapp.net')");
    BOOST_CHECK_EQUAL(tx.exec("SELECT count(*) FROM contacts")[0][0].as<int>(), 1);
    tx.commit();
  }
  // Everything else: refused by the server.
  for (auto other : {"wa_slice_2", "wank_saas", "postgres", "template1", tpl.c_str()}) {
    BOOST_TEST_CONTEXT("database " << other) {
      auto refused = refusal(url_of(a, other));
      BOOST_CHECK(refused);
    }
  }
  // Another slice's password or role does not work for it either.
  BOOST_CHECK(refusal(url_of(db::slice_credentials{"wa_slice_1", b.password}, "wa_slice_1")));
  BOOST_CHECK(refusal(url_of(db::slice_credentials{"wa_slice", a.password}, "wa_slice_1")));
  // A new login ends the old password.
  auto again = must<db::slice_credentials>(db::slice_login{1});
  BOOST_CHECK_NE(again.password, a.password);
  BOOST_CHECK(refusal(url_of(a, "wa_slice_1")));
  BOOST_CHECK(!refusal(url_of(again, "wa_slice_1")));
  // It cannot end another tenant's sessions.
  pqxx::connection tenant_b{url_of(b, "wa_slice_2")};
  auto pid = tenant_b.backendpid();
  pqxx::connection tenant_a{url_of(again, "wa_slice_1")};
  pqxx::work tx{tenant_a};
  BOOST_CHECK_THROW(tx.exec("SELECT pg_terminate_backend(" + std::to_string(pid) + ")"),
                    pqxx::sql_error);
}

BOOST_AUTO_TEST_CASE(a_held_template_stalls_provisioning_and_no_login) {
  must<bool>(db::ensure_template{});
  test::must<db::user_created>(sys, db, 10s, [] {
    db::create_user x;
    x.email = "tenant@example.com";
    x.password_hash = "$2b$04$abcdefghijklmnopqrstuuJrxQ0tUU3w0X0u6b7XjJ9mN1vGv1r2W";
    x.subscription_status = subscription::trial;
    return x;
  }());
  // An operator's open transaction holds a lock on the template that CREATE DATABASE needs.
  pqxx::connection holder{servers.superuser_url()};
  pqxx::work hold{holder};
  hold.exec("COMMENT ON DATABASE " + tpl + " IS 'held'");
  auto creating = std::async(std::launch::async, [this] {
    return ask<bool>(db::create_slice_database{"wa_slice_5"});
  });
  // Wait until the CREATE DATABASE is on the server, waiting for its lock.
  BOOST_REQUIRE(test::eventually([&] {
    return !one("SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND query LIKE 'CREATE DATABASE%wa_slice_5%'")
              .empty();
  }));
  // Meanwhile logins read their accounts as if nothing were stuck.
  for (int i = 0; i < 5; ++i) {
    auto found = test::ask<credentials>(sys, db, 10s, db::find_credentials{"tenant@example.com"});
    BOOST_REQUIRE(found);
    BOOST_CHECK_EQUAL(found->user.email, "tenant@example.com");
  }
  BOOST_CHECK(creating.wait_for(0s) == std::future_status::timeout);
  // The lock timeout ends the wait: provisioning fails as the database's failure (the sweep
  // tries again), no hang.
  auto created = creating.get();
  test::check_fails(created, ec::unavailable);
  hold.abort();
  BOOST_CHECK(must<bool>(db::create_slice_database{"wa_slice_5"}));
}

BOOST_AUTO_TEST_CASE(an_older_layout_moves_to_the_slices_own_roles) {
  // What an older version left: the template and a slice database owned by wa_slice, open to
  // PUBLIC, with the slice's data in tables wa_slice owns.
  sql("CREATE DATABASE " + tpl + " OWNER wa_slice");
  sql("CREATE DATABASE wa_slice_7 OWNER wa_slice");
  sql("SET ROLE wa_slice; CREATE TABLE contacts (id bigserial PRIMARY KEY, wa_id text); "
      "INSERT INTO contacts (wa_id) VALUES ('kept@s.whatsapp.net')",
      "wa_slice_7");
  sql("SET ROLE wa_slice; CREATE TABLE planted (x int)", tpl);
  BOOST_CHECK(must<bool>(db::ensure_template{}));
  // The template was made anew: slicegate's, without what was planted in it.
  BOOST_CHECK_EQUAL(owner_of(tpl), "wank_gateway");
  sql("ALTER DATABASE " + tpl + " ALLOW_CONNECTIONS true");
  BOOST_CHECK(one("SELECT to_regclass('public.planted')", tpl).empty());
  sql("ALTER DATABASE " + tpl + " ALLOW_CONNECTIONS false");
  // The slice database is its role's now, and closed to everyone else; the data stayed.
  BOOST_CHECK_EQUAL(owner_of("wa_slice_7"), "wa_slice_7");
  BOOST_CHECK_EQUAL(one("SELECT tableowner FROM pg_tables WHERE tablename = 'contacts'",
                        "wa_slice_7"),
                    "wa_slice_7");
  BOOST_CHECK_EQUAL(one("SELECT has_database_privilege('wa_slice', 'wa_slice_7', 'CONNECT')::text"),
                    "false");
  BOOST_CHECK(one("SELECT count(*) FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba "
                  "WHERE r.rolname = 'wa_slice'")
              == "0");
  auto login = must<db::slice_credentials>(db::slice_login{7});
  pqxx::connection conn{url_of(login, "wa_slice_7")};
  pqxx::work tx{conn};
  BOOST_CHECK_EQUAL(tx.exec("SELECT wa_id FROM contacts")[0][0].as<std::string>(),
                    "kept@s.whatsapp.net");
}

BOOST_AUTO_TEST_CASE(slice_database_names_are_validated) {
  for (auto name :
       {"wa_slice_x", "wa_slice_", "wa_slice_1; DROP DATABASE postgres", "wa_slice_1\"",
        "postgres", "wank_saas", "WA_SLICE_1", "wa_slice_1234567890", "wa_slice_template"}) {
    BOOST_TEST_CONTEXT("name " << name) {
      test::check_fails(ask<bool>(db::create_slice_database{name}), ec::invalid_request);
      test::check_fails(ask<bool>(db::drop_slice_database{name}), ec::invalid_request);
    }
  }
  test::check_fails(ask<db::slice_credentials>(db::slice_login{0}), ec::invalid_request);
  test::check_fails(ask<db::slice_credentials>(db::slice_login{-3}), ec::invalid_request);
}


namespace {

std::string read_file(const std::string& path) {
  std::ifstream in{path};
  return std::string{std::istreambuf_iterator<char>{in}, {}};
}

/// The daemon with the process runtime and one pooled slice whose command reports what it was
/// handed: the database URL it got, and whom that URL logs in as.
std::vector<std::string> process_daemon_args(test::servers& servers, const std::string& root) {
  std::vector<std::string> args;
  for (auto& arg : test::daemon_args(servers))
    if (arg.rfind("--runtime=", 0) != 0 && arg.rfind("--data-root=", 0) != 0)
      args.push_back(arg);
  args.insert(args.end(),
              {"--runtime=process", "--data-root=" + root, "--min-available=1",
               "--max-slices=1", "--slice-port-base=" + std::to_string(test::free_port()),
               "--slice-command=printf %s \"$DATABASE_URL\" > url.txt; psql \"$DATABASE_URL\" "
               "-XAtc 'select current_user' > whoami.txt 2>&1; exec sleep 300"});
  return args;
}

} // namespace

BOOST_AUTO_TEST_CASE(a_slice_run_by_the_daemon_logs_in_as_its_own_role) {
  auto root = servers.dir() + "/tenancy-slices";
  std::filesystem::remove_all(root);
  auto slice_dir = root + "/slice-1";
  std::string first_url;
  {
    test::daemon d{process_daemon_args(servers, root)};
    BOOST_REQUIRE_MESSAGE(test::eventually(
                            [&] {
                              return read_file(slice_dir + "/whoami.txt").find("wa_slice_1")
                                     != std::string::npos;
                            },
                            60s),
                          d.log() << read_file(slice_dir + "/whoami.txt"));
    first_url = read_file(slice_dir + "/url.txt");
    BOOST_CHECK_EQUAL(role_of(first_url), "wa_slice_1");
    // Its login opens its own database and not the gateway's.
    BOOST_CHECK(!refusal(first_url));
    BOOST_CHECK(refusal(with_database(first_url, "wank_saas")));
    BOOST_CHECK_EQUAL(d.stop(), 0);
    // The password is in the slice's environment only, never in the daemon's log.
    std::smatch m;
    BOOST_REQUIRE(std::regex_search(first_url, m, std::regex{R"(:([0-9a-f]{32,})@)"}));
    auto log = d.log();
    BOOST_CHECK_MESSAGE(log.find(m[1].str()) == std::string::npos, "the log holds the password");
  }
  // The next daemon starts the slice afresh (the process runtime's slices end with their
  // daemon): with a new password, and the old one no longer works.
  std::filesystem::remove(slice_dir + "/url.txt");
  test::daemon d{process_daemon_args(servers, root)};
  BOOST_REQUIRE_MESSAGE(
    test::eventually([&] { return !read_file(slice_dir + "/url.txt").empty(); }, 60s),
    d.log());
  auto second_url = read_file(slice_dir + "/url.txt");
  BOOST_CHECK_NE(second_url, first_url);
  BOOST_CHECK(test::eventually([&] { return !refusal(second_url); }, 10s));
  BOOST_CHECK(refusal(first_url));
  BOOST_CHECK_EQUAL(d.stop(), 0);
}

BOOST_AUTO_TEST_SUITE_END()
