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

std::string percent_encode(const std::string& text) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string result;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      result += static_cast<char>(c);
    } else {
      result += '%';
      result += digits[c >> 4];
      result += digits[c & 0x0f];
    }
  }
  return result;
}

std::string keyword_quoted(const std::string& text) {
  std::string result = "'";
  for (char c : text) {
    if (c == '\\' || c == '\'')
      result += '\\';
    result += c;
  }
  return result + "'";
}

} // namespace

std::string with_login(const std::string& url, const std::string& user,
                       const std::string& password) {
  static const std::regex url_form{R"(^(postgres(?:ql)?://)(?:[^@/?]*@)?([^?]*)(\?(.*))?$)"};
  std::smatch m;
  if (std::regex_match(url, m, url_form)) {
    std::string query;
    if (m[3].matched) {
      static const std::regex login_param{R"(^(user|password)=)"};
      auto params = m[4].str();
      size_t start = 0;
      while (start <= params.size()) {
        auto end = params.find('&', start);
        if (end == std::string::npos)
          end = params.size();
        auto param = params.substr(start, end - start);
        if (!param.empty() && !std::regex_search(param, login_param))
          query += (query.empty() ? "?" : "&") + param;
        start = end + 1;
      }
    }
    return m[1].str() + percent_encode(user) + ":" + percent_encode(password) + "@" + m[2].str()
           + query;
  }
  static const std::regex login_keyword{R"((?:^|\s)(?:user|password)\s*=\s*('(?:[^'\\]|\\.)*'|\S+))"};
  auto rest = std::regex_replace(url, login_keyword, "");
  return (rest.empty() ? "" : rest + " ") + "user=" + keyword_quoted(user)
         + " password=" + keyword_quoted(password);
}

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
