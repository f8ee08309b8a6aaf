#include "persistence/detail/statements.hpp"

#include <map>
#include <stdexcept>
#include <string_view>

#include "persistence/sql_files.hpp"

namespace slicegate::detail {

namespace {

constexpr std::string_view queries_dir = "queries/";
constexpr std::string_view sql_suffix = ".sql";
constexpr std::string_view direct_marker = "-- direct:";

/// Every embedded file by path, built once.
const std::map<std::string, std::string>& files_by_path() {
  static const auto all = [] {
    std::map<std::string, std::string> result;
    for (auto& f : sql::files())
      result.emplace(f.path, f.text);
    return result;
  }();
  return all;
}

/// The queries by stem.
const std::map<std::string, std::string>& queries() {
  static const auto all = [] {
    std::map<std::string, std::string> result;
    for (auto& [path, text] : files_by_path()) {
      std::string_view p = path;
      if (p.substr(0, queries_dir.size()) != queries_dir || p.size() <= sql_suffix.size()
          || p.substr(p.size() - sql_suffix.size()) != sql_suffix)
        continue;
      p.remove_prefix(queries_dir.size());
      p.remove_suffix(sql_suffix.size());
      result.emplace(std::string{p}, text);
    }
    return result;
  }();
  return all;
}

bool is_direct(const std::string& text) {
  return text.compare(0, direct_marker.size(), direct_marker) == 0;
}

} // namespace

const std::string& statement(const std::string& stem) {
  auto& all = queries();
  if (auto i = all.find(stem); i != all.end())
    return i->second;
  throw std::logic_error("no sql/queries/" + stem + ".sql embedded");
}

const std::string& sql_file(const std::string& path) {
  auto& all = files_by_path();
  if (auto i = all.find(path); i != all.end())
    return i->second;
  throw std::logic_error("no sql/" + path + " embedded");
}

void prepare_statements(pqxx::connection_base& conn) {
  for (auto& [stem, text] : queries())
    if (!is_direct(text))
      conn.prepare(stem, text);
}

std::string
with_identifiers(const std::string& text,
                 std::initializer_list<std::pair<const char*, std::string>> values) {
  // The header comments name the placeholders; only the statement below them is sent.
  std::string_view rest = text;
  while (rest.substr(0, 2) == "--") {
    auto eol = rest.find('\n');
    rest.remove_prefix(eol == std::string_view::npos ? rest.size() : eol + 1);
  }
  std::string body{rest};
  for (auto& [key, value] : values) {
    auto placeholder = std::string{"{"} + key + "}";
    for (auto pos = body.find(placeholder); pos != std::string::npos;
         pos = body.find(placeholder, pos + value.size()))
      body.replace(pos, placeholder.size(), value);
  }
  if (body.find('{') != std::string::npos)
    throw std::logic_error("statement has an unbound placeholder: " + body);
  return body;
}

} // namespace slicegate::detail
