#include "common/nats_credentials.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <regex>
#include <vector>

namespace slicegate {

namespace {

/// Whether one of the comma-separated URLs carries `user:password@` or `token@`.
bool url_has_credentials(const std::string& urls) {
  static const std::regex userinfo{R"((^|,)\s*[A-Za-z][A-Za-z0-9+.-]*://[^/@,]*@)"};
  return std::regex_search(urls, userinfo);
}

/// Empty if `path` can be opened for reading, else why not, naming `option`.
std::string unreadable(const std::string& option, const std::string& path) {
  std::ifstream in{path};
  if (in)
    return {};
  return option + ": cannot read " + path + " (" + std::strerror(errno) + ")";
}

} // namespace

std::string check(const nats_credentials& c, const std::string& urls) {
  std::vector<std::string> ways;
  if (url_has_credentials(urls))
    ways.emplace_back("credentials in --nats-url");
  if (!c.user.empty() || !c.password.empty())
    ways.emplace_back("--nats-user/--nats-password");
  if (!c.token.empty())
    ways.emplace_back("--nats-token");
  if (!c.nkey_seed_file.empty())
    ways.emplace_back("--nats-nkey-seed");
  if (!c.creds_file.empty())
    ways.emplace_back("--nats-creds");
  if (ways.size() > 1) {
    std::string text;
    for (size_t i = 0; i < ways.size(); ++i)
      text += (i == 0 ? "" : i + 1 == ways.size() ? " and " : ", ") + ways[i];
    return text + " exclude each other: give one way to authenticate to NATS";
  }
  if (c.user.empty() != c.password.empty())
    return c.user.empty() ? "--nats-password needs --nats-user"
                          : "--nats-user needs --nats-password";
  if (c.tls_cert.empty() != c.tls_key.empty())
    return c.tls_cert.empty() ? "--nats-tls-key needs --nats-tls-cert"
                              : "--nats-tls-cert needs --nats-tls-key";
  for (auto& [option, path] : {std::pair{"--nats-nkey-seed", &c.nkey_seed_file},
                               std::pair{"--nats-creds", &c.creds_file},
                               std::pair{"--nats-tls-ca", &c.tls_ca},
                               std::pair{"--nats-tls-cert", &c.tls_cert},
                               std::pair{"--nats-tls-key", &c.tls_key}})
    if (!path->empty())
      if (auto why = unreadable(option, *path); !why.empty())
        return why;
  return {};
}

std::string describe(const nats_credentials& c) {
  std::string result;
  if (!c.user.empty())
    result = "user " + c.user + " with a password";
  else if (!c.token.empty())
    result = "a token";
  else if (!c.nkey_seed_file.empty())
    result = "the NKey seed in " + c.nkey_seed_file;
  else if (!c.creds_file.empty())
    result = "the credentials in " + c.creds_file;
  else
    result = "no credentials beyond the URL";
  if (c.wants_tls()) {
    result += ", TLS";
    result += c.tls_ca.empty() ? " with the system's CAs" : " with CA " + c.tls_ca;
    if (!c.tls_cert.empty())
      result += " and client certificate " + c.tls_cert;
  }
  return result;
}

} // namespace slicegate
