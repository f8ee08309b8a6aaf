#include "persistence/detail/scram.hpp"

#include <array>
#include <vector>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

namespace slicegate::detail {

namespace {

constexpr size_t password_bytes = 24;
constexpr size_t salt_bytes = 16;
constexpr size_t key_bytes = SHA256_DIGEST_LENGTH;

using key = std::array<unsigned char, key_bytes>;

std::string base64(const unsigned char* data, size_t size) {
  std::string out(4 * ((size + 2) / 3), '\0');
  auto written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data,
                                 static_cast<int>(size));
  out.resize(static_cast<size_t>(written));
  return out;
}

key hmac(const key& secret, std::string_view message) {
  key out{};
  unsigned int size = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), out.data(),
       &size);
  return out;
}

} // namespace

std::optional<std::string> make_slice_password() {
  std::array<unsigned char, password_bytes> buf;
  if (RAND_bytes(buf.data(), static_cast<int>(buf.size())) != 1)
    return std::nullopt;
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * buf.size());
  for (auto b : buf) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 0x0f]);
  }
  return out;
}

std::string scram_verifier(std::string_view password, std::string_view salt, int iterations) {
  // Passwords made here are ASCII, which SASLprep leaves as they are.
  key salted{};
  PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                    reinterpret_cast<const unsigned char*>(salt.data()),
                    static_cast<int>(salt.size()), iterations, EVP_sha256(),
                    static_cast<int>(salted.size()), salted.data());
  auto client_key = hmac(salted, "Client Key");
  key stored{};
  SHA256(client_key.data(), client_key.size(), stored.data());
  auto server_key = hmac(salted, "Server Key");
  return "SCRAM-SHA-256$" + std::to_string(iterations) + ":"
         + base64(reinterpret_cast<const unsigned char*>(salt.data()), salt.size()) + "$"
         + base64(stored.data(), stored.size()) + ":"
         + base64(server_key.data(), server_key.size());
}

std::optional<std::string> scram_verifier(std::string_view password, int iterations) {
  std::array<unsigned char, salt_bytes> salt;
  if (RAND_bytes(salt.data(), static_cast<int>(salt.size())) != 1)
    return std::nullopt;
  return scram_verifier(password,
                        std::string_view{reinterpret_cast<const char*>(salt.data()), salt.size()},
                        iterations);
}

} // namespace slicegate::detail
