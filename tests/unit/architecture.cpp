#define BOOST_TEST_MODULE architecture
#include <boost/test/unit_test.hpp>

// The layering rules of STYLE.md, checked on the source tree: each library stays behind the
// one component that owns it, and SQL lives in sql/, never in C++ strings. Tests and
// benchmarks may use anything.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

struct source_file {
  /// Relative to the source root, with '/' separators.
  std::string path;
  std::string text;
};

bool is_cxx(const fs::path& p) {
  auto ext = p.extension().string();
  return ext == ".cpp" || ext == ".hpp" || ext == ".h" || ext == ".cc" || ext == ".cxx"
         || ext == ".hxx";
}

/// Build trees, version control and hidden directories hold no source of ours.
bool skipped_directory(const fs::path& p) {
  auto name = p.filename().string();
  return name.empty() || name.front() == '.' || name.rfind("build", 0) == 0
         || name == "CMakeFiles";
}

std::vector<source_file> sources() {
  std::vector<source_file> result;
  fs::path root{SLICEGATE_SOURCE_DIR};
  for (auto i = fs::recursive_directory_iterator{root}; i != fs::recursive_directory_iterator{};
       ++i) {
    if (i->is_directory()) {
      if (skipped_directory(i->path()))
        i.disable_recursion_pending();
      continue;
    }
    if (!i->is_regular_file() || !is_cxx(i->path()))
      continue;
    std::ifstream in{i->path()};
    std::stringstream buf;
    buf << in.rdbuf();
    result.push_back({fs::relative(i->path(), root).generic_string(), buf.str()});
  }
  std::sort(result.begin(), result.end(),
            [](const source_file& x, const source_file& y) { return x.path < y.path; });
  return result;
}

const std::vector<source_file>& tree() {
  static const auto files = sources();
  return files;
}

bool under(const std::string& path, std::initializer_list<const char*> dirs) {
  for (auto dir : dirs)
    if (path.rfind(std::string{dir} + "/", 0) == 0)
      return true;
  return false;
}

/// The `#include` targets of `text` that start with `prefix` ("pqxx/", "bridge/").
std::vector<std::string> includes(const std::string& text, const std::string& prefix) {
  static const std::regex re{R"(^[ \t]*#[ \t]*include[ \t]*[<"]([^>"]+)[>"])",
                             std::regex::multiline};
  std::vector<std::string> result;
  for (auto i = std::sregex_iterator{text.begin(), text.end(), re}; i != std::sregex_iterator{};
       ++i) {
    auto target = (*i)[1].str();
    if (target.rfind(prefix, 0) == 0)
      result.push_back(target);
  }
  return result;
}

/// Lines holding a string literal that starts an SQL statement, e.g. `"SELECT ` or
/// `R"(INSERT `.
std::vector<std::string> sql_literals(const std::string& text) {
  static const std::regex re{R"re("(?:[A-Za-z_]*\()?\s*(SELECT|INSERT|UPDATE|DELETE)\s)re"};
  std::vector<std::string> result;
  std::istringstream in{text};
  std::string line;
  for (int number = 1; std::getline(in, line); ++number)
    if (std::regex_search(line, re))
      result.push_back(std::to_string(number) + ": " + line);
  return result;
}

/// Tests and benchmarks are exempt from every rule.
bool exempt(const source_file& f) {
  return under(f.path, {"tests", "bench"});
}

/// Fails for every include of `prefix` in a file the rule covers; checks that it covered some.
void forbid_includes(const std::string& prefix, bool (*allowed)(const std::string& path)) {
  size_t covered = 0;
  for (auto& f : tree()) {
    if (exempt(f) || allowed(f.path))
      continue;
    ++covered;
    for (auto& target : includes(f.text, prefix))
      BOOST_ERROR(f.path << " includes <" << target << ">");
  }
  BOOST_CHECK_GT(covered, 0u);
}

} // namespace

BOOST_AUTO_TEST_CASE(the_scanner_sees_the_tree_and_its_includes) {
  // A scanner that finds nothing would pass every rule.
  size_t bridge_files = 0;
  size_t nats_users = 0;
  for (auto& f : tree()) {
    bridge_files += under(f.path, {"bridge"});
    nats_users += !includes(f.text, "nats/").empty();
  }
  BOOST_TEST_MESSAGE("scanned " << tree().size() << " files");
  BOOST_CHECK_GT(tree().size(), 20u);
  BOOST_CHECK_GT(bridge_files, 5u);
  BOOST_CHECK_GT(nats_users, 0u);
}

BOOST_AUTO_TEST_CASE(the_rules_match_what_they_should) {
  BOOST_CHECK_EQUAL(includes("#include <pqxx/pqxx>\n", "pqxx/").size(), 1u);
  BOOST_CHECK_EQUAL(includes("  #  include \"nats/nats.h\"\n", "nats/").size(), 1u);
  BOOST_CHECK_EQUAL(includes("// mentions <pqxx/pqxx> in prose\n", "pqxx/").size(), 0u);
  BOOST_CHECK_EQUAL(sql_literals(R"(auto q = "SELECT id FROM users";)").size(), 1u);
  BOOST_CHECK_EQUAL(sql_literals("auto q = R\"sql(\n  DELETE FROM x)sql\";\n").size(), 0u);
  BOOST_CHECK_EQUAL(sql_literals("auto q = R\"sql(DELETE FROM x)sql\";").size(), 1u);
  BOOST_CHECK_EQUAL(sql_literals(R"x(w.exec("  INSERT INTO t VALUES (1)");)x").size(), 1u);
  BOOST_CHECK_EQUAL(sql_literals(R"(log("selected users");)").size(), 0u);
  BOOST_CHECK_EQUAL(sql_literals(R"(prepare("select_user");)").size(), 0u);
}

BOOST_AUTO_TEST_CASE(only_persistence_includes_pqxx) {
  forbid_includes("pqxx/",
                  [](const std::string& path) { return under(path, {"persistence"}); });
}

BOOST_AUTO_TEST_CASE(only_the_bridge_and_the_cli_include_nats) {
  forbid_includes("nats/", [](const std::string& path) {
    return under(path, {"bridge", "cli"});
  });
}

BOOST_AUTO_TEST_CASE(actors_messages_persistence_and_app_see_no_json) {
  forbid_includes("nlohmann/", [](const std::string& path) {
    return !under(path, {"actors", "messages", "persistence", "app"});
  });
}

BOOST_AUTO_TEST_CASE(the_bridge_is_used_through_its_public_headers) {
  // bridge.hpp and subjects.hpp include neither nats.h nor JSON; the other bridge headers do,
  // so they stay inside bridge/ (and the CLI, which speaks NATS and JSON itself).
  for (auto public_header : {"bridge/bridge.hpp", "bridge/subjects.hpp"})
    for (auto& f : tree())
      if (f.path == public_header) {
        BOOST_CHECK_MESSAGE(includes(f.text, "nats/").empty(), f.path << " includes nats");
        BOOST_CHECK_MESSAGE(includes(f.text, "nlohmann/").empty(), f.path << " includes JSON");
      }
  for (auto& f : tree()) {
    if (exempt(f) || under(f.path, {"bridge", "cli"}))
      continue;
    for (auto& target : includes(f.text, "bridge/"))
      BOOST_CHECK_MESSAGE(target == "bridge/bridge.hpp" || target == "bridge/subjects.hpp",
                          f.path << " includes the bridge's internal " << target);
  }
}

BOOST_AUTO_TEST_CASE(no_sql_in_cxx_strings) {
  size_t covered = 0;
  for (auto& f : tree()) {
    if (exempt(f))
      continue;
    ++covered;
    for (auto& line : sql_literals(f.text))
      BOOST_ERROR(f.path << ":" << line);
  }
  BOOST_CHECK_GT(covered, 0u);
}

BOOST_AUTO_TEST_CASE(only_the_composition_root_includes_app) {
  // Settings flow downward: the node turns them into each component's own config struct, so
  // nothing below app/, daemon/ and cli/ may see them.
  forbid_includes("app/", [](const std::string& path) {
    return under(path, {"app", "daemon", "cli"});
  });
}
