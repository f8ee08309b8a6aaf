#include "common/database_url.hpp"

#include <cctype>
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

namespace {

std::string percent_decode(const std::string& text) {
  std::string result;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()
        && std::isxdigit(static_cast<unsigned char>(text[i + 1]))
        && std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      result += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      result += text[i];
    }
  }
  return result;
}

} // namespace

std::string role_of(const std::string& url) {
  // URL form: the user before '@' in the authority, or `?user=` among the parameters.
  static const std::regex url_form{
    R"(^postgres(?:ql)?://(?:([^:@/?]*)(?::[^@/?]*)?@)?[^?]*(\?.*)?$)"};
  std::smatch m;
  if (std::regex_match(url, m, url_form)) {
    static const std::regex param{R"([?&]user=([^&]*))"};
    std::smatch p;
    auto query = m[2].str();
    if (std::regex_search(query, p, param))
      return percent_decode(p[1].str());
    return percent_decode(m[1].str());
  }
  static const std::regex keyword{R"((?:^|\s)user\s*=\s*'?([^'\s]*))"};
  if (std::regex_search(url, m, keyword))
    return m[1].str();
  return {};
}

std::string redact_url(const std::string& url) {
  static const std::regex userinfo{R"(([A-Za-z][A-Za-z0-9+.-]*://[^:@/,?]*):[^@/,]*@)"};
  static const std::regex keyword{R"(password\s*=\s*('[^']*'|\S+))"};
  // NATS reads a lone `token@` as a token, which is as secret as a password.
  static const std::regex nats_token{R"((^|[^A-Za-z0-9+.-])((?:nats|tls|ws|wss)://)[^:@/,]+@)",
                                     std::regex::icase};
  auto result = std::regex_replace(url, userinfo, "$1:***@");
  result = std::regex_replace(result, nats_token, "$1$2***@");
  return std::regex_replace(result, keyword, "password=***");
}

} // namespace slicegate
