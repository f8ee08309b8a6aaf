#include "common/database_url.hpp"

#include <regex>

namespace slicegate {

std::string with_database(const std::string& url, const std::string& dbname) {
  // URL form: postgresql://user@host:port/db?params
  static const std::regex url_form{R"(^(postgres(?:ql)?://[^/?]*)(/[^?]*)?(\?.*)?$)"};
  std::smatch m;
  if (std::regex_match(url, m, url_form))
    return m[1].str() + "/" + dbname + m[3].str();
  // Keyword form: host=… dbname=…
  static const std::regex keyword{R"(dbname\s*=\s*\S+)"};
  if (std::regex_search(url, keyword))
    return std::regex_replace(url, keyword, "dbname=" + dbname);
  return url + " dbname=" + dbname;
}

} // namespace slicegate
