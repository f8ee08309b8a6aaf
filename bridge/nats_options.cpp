#include "bridge/nats_options.hpp"

#include <array>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <regex>
#include <vector>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

namespace slicegate::bridge {

namespace {

// NKeys (github.com/nats-io/nkeys): a seed is base32 of two prefix bytes (seed, key type),
// the 32-byte Ed25519 seed and a CRC-16 (XMODEM, little endian); a public key is base32 of
// the type byte, the 32-byte Ed25519 public key and the CRC-16.
constexpr uint8_t prefix_seed = 18 << 3;
constexpr uint8_t prefix_user = 20 << 3;
constexpr std::string_view base32_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

uint16_t crc16(const uint8_t* data, size_t size) {
  uint16_t crc = 0;
  for (size_t i = 0; i < size; ++i) {
    crc ^= static_cast<uint16_t>(data[i]) << 8;
    for (int bit = 0; bit < 8; ++bit)
      crc = (crc & 0x8000) ? static_cast<uint16_t>((crc << 1) ^ 0x1021)
                           : static_cast<uint16_t>(crc << 1);
  }
  return crc;
}

bool base32_decode(std::string_view text, std::vector<uint8_t>& out) {
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    auto pos = base32_alphabet.find(c);
    if (pos == std::string_view::npos)
      return false;
    buffer = (buffer << 5) | static_cast<uint32_t>(pos);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<uint8_t>(buffer >> bits));
    }
  }
  return true;
}

std::string base32_encode(const uint8_t* data, size_t size) {
  std::string result;
  uint32_t buffer = 0;
  int bits = 0;
  for (size_t i = 0; i < size; ++i) {
    buffer = (buffer << 8) | data[i];
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      result += base32_alphabet[(buffer >> bits) & 31];
    }
  }
  if (bits > 0)
    result += base32_alphabet[(buffer << (5 - bits)) & 31];
  return result;
}

/// Overwrites a secret before its memory is given back.
template <class Container>
void wipe(Container& x) {
  if (!x.empty())
    OPENSSL_cleanse(x.data(), x.size() * sizeof(x[0]));
}

std::string refused(const char* option, natsStatus s) {
  std::string result = std::string{option} + ": " + natsStatus_GetText(s);
  if (auto detail = nats_GetLastError(nullptr); detail != nullptr && *detail != '\0')
    result += std::string{" ("} + detail + ")";
  return result;
}

/// The CA file OpenSSL trusts by default (`SSL_CERT_FILE`, else the distribution's bundle).
std::string system_ca_file() {
  if (auto env = std::getenv(X509_get_default_cert_file_env()); env != nullptr && *env)
    return env;
  return X509_get_default_cert_file();
}

} // namespace

std::string nkey_public_key(std::string_view seed) {
  std::vector<uint8_t> raw;
  raw.reserve(40);
  std::string result;
  if (seed.size() == 58 && base32_decode(seed, raw) && raw.size() == 36
      && (raw[0] & 0xf8) == prefix_seed
      && static_cast<uint8_t>(((raw[0] & 7) << 5) | ((raw[1] & 0xf8) >> 3)) == prefix_user
      && crc16(raw.data(), 34) == (raw[34] | (raw[35] << 8))) {
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key{
      EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, raw.data() + 2, 32),
      EVP_PKEY_free};
    std::array<uint8_t, 35> pub{};
    size_t length = 32;
    if (key && EVP_PKEY_get_raw_public_key(key.get(), pub.data() + 1, &length) == 1
        && length == 32) {
      pub[0] = prefix_user;
      auto crc = crc16(pub.data(), 33);
      pub[33] = static_cast<uint8_t>(crc & 0xff);
      pub[34] = static_cast<uint8_t>(crc >> 8);
      result = base32_encode(pub.data(), pub.size());
    }
  }
  wipe(raw);
  return result;
}

std::string prepare(const nats_credentials& c, const std::string& urls,
                    prepared_credentials& out) {
  if (auto problem = check(c, urls); !problem.empty())
    return problem;
  out.config = c;
  out.nkey_public.clear();
  if (c.nkey_seed_file.empty())
    return {};
  std::ifstream in{c.nkey_seed_file};
  std::string text{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
  static const std::regex user_seed{"SU[A-Z2-7]{56}"};
  std::smatch m;
  if (std::regex_search(text, m, user_seed))
    out.nkey_public = nkey_public_key(m.str());
  wipe(text);
  if (out.nkey_public.empty())
    return "--nats-nkey-seed: " + c.nkey_seed_file + " holds no valid NKey user seed (SU…)";
  return {};
}

std::string apply(natsOptions* opts, const prepared_credentials& p) {
  auto& c = p.config;
  natsStatus s = NATS_OK;
  if (!c.user.empty() && (s = natsOptions_SetUserInfo(opts, c.user.c_str(), c.password.c_str()))
                           != NATS_OK)
    return refused("--nats-user", s);
  if (!c.token.empty() && (s = natsOptions_SetToken(opts, c.token.c_str())) != NATS_OK)
    return refused("--nats-token", s);
  if (!c.nkey_seed_file.empty()
      && (s = natsOptions_SetNKeyFromSeed(opts, p.nkey_public.c_str(), c.nkey_seed_file.c_str()))
           != NATS_OK)
    return refused("--nats-nkey-seed", s);
  if (!c.creds_file.empty()
      && (s = natsOptions_SetUserCredentialsFromFiles(opts, c.creds_file.c_str(), nullptr))
           != NATS_OK)
    return refused("--nats-creds", s);
  if (!c.wants_tls())
    return {};
  if ((s = natsOptions_SetSecure(opts, true)) != NATS_OK)
    return refused("--nats-tls", s);
  if (!c.tls_ca.empty()) {
    if ((s = natsOptions_LoadCATrustedCertificates(opts, c.tls_ca.c_str())) != NATS_OK)
      return refused("--nats-tls-ca", s);
  } else if ((s = natsOptions_LoadCATrustedCertificates(opts, system_ca_file().c_str()))
             != NATS_OK) {
    return refused("--nats-tls (the system's CAs)", s);
  }
  if (!c.tls_cert.empty()
      && (s = natsOptions_LoadCertificatesChain(opts, c.tls_cert.c_str(), c.tls_key.c_str()))
           != NATS_OK)
    return refused("--nats-tls-cert/--nats-tls-key", s);
  return {};
}

} // namespace slicegate::bridge
