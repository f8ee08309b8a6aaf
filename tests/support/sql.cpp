#include "tests/support/sql.hpp"

namespace slicegate::test {

pqxx::result sql(const std::string& url, const std::string& text) {
  pqxx::connection conn{url};
  pqxx::work tx{conn};
  auto result = tx.exec(text);
  tx.commit();
  return result;
}

int64_t scalar(const std::string& url, const std::string& text) {
  auto rows = sql(url, text);
  if (rows.empty() || rows[0][0].is_null())
    return 0;
  return rows[0][0].as<int64_t>();
}

} // namespace slicegate::test
