#include "actors/credentials_rules.hpp"

#include <array>
#include <cstdint>

#include <locale.h>
#include <wctype.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "messages/error.hpp"

namespace slicegate {

namespace {

constexpr char hex_digits[] = "0123456789abcdef";

std::string to_hex(const unsigned char* data, size_t size) {
  std::string result(size * 2, '\0');
  for (size_t i = 0; i < size; ++i) {
    result[2 * i] = hex_digits[data[i] >> 4];
    result[2 * i + 1] = hex_digits[data[i] & 0x0f];
  }
  return result;
}

bool is_ascii_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/// Decodes one UTF-8 sequence at `text[pos]`, advancing `pos`; none if it is malformed
/// (truncated, overlong, a surrogate or beyond U+10FFFF).
std::optional<char32_t> decode_utf8(std::string_view text, size_t& pos) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  auto lead = byte(pos);
  if (lead < 0x80) {
    ++pos;
    return lead;
  }
  size_t extra;
  char32_t cp;
  char32_t min;
  if ((lead & 0xe0) == 0xc0) {
    extra = 1, cp = lead & 0x1f, min = 0x80;
  } else if ((lead & 0xf0) == 0xe0) {
    extra = 2, cp = lead & 0x0f, min = 0x800;
  } else if ((lead & 0xf8) == 0xf0) {
    extra = 3, cp = lead & 0x07, min = 0x10000;
  } else {
    return std::nullopt;
  }
  if (pos + extra >= text.size())
    return std::nullopt;
  for (size_t i = 1; i <= extra; ++i) {
    auto next = byte(pos + i);
    if ((next & 0xc0) != 0x80)
      return std::nullopt;
    cp = (cp << 6) | (next & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
    return std::nullopt;
  pos += extra + 1;
  return cp;
}

void encode_utf8(char32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

/// The C.UTF-8 character classes, which carry glibc's full Unicode case mapping. Created once;
/// a null locale (no C.UTF-8 on the system) falls back to ASCII rules.
locale_t utf8_ctype() {
  static const locale_t instance = newlocale(LC_CTYPE_MASK, "C.UTF-8", locale_t{});
  return instance;
}

bool is_space(char32_t cp, locale_t loc) {
  // glibc does not class the no-break spaces or the BOM as spaces; an address has none of
  // them either.
  if (cp == 0xa0 || cp == 0x2007 || cp == 0x202f || cp == 0xfeff)
    return true;
  if (cp < 0x80)
    return cp == ' ' || (cp >= '\t' && cp <= '\r');
  return loc != locale_t{} && iswspace_l(static_cast<wint_t>(cp), loc);
}

bool is_control(char32_t cp) {
  return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

char32_t to_lower(char32_t cp, locale_t loc) {
  if (cp < 0x80)
    return (cp >= 'A' && cp <= 'Z') ? cp + ('a' - 'A') : cp;
  if (loc == locale_t{})
    return cp;
  return static_cast<char32_t>(towlower_l(static_cast<wint_t>(cp), loc));
}

caf::error email_error(const char* what) {
  return make_error(ec::invalid_request, std::string{"email: "} + what);
}

bool contains_nul(std::string_view text) {
  return text.find('\0') != std::string_view::npos;
}

bool is_bcrypt_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.'
         || c == '/';
}

} // namespace

caf::expected<std::string> normalize_email(std::string_view input) {
  while (!input.empty() && is_ascii_space(input.front()))
    input.remove_prefix(1);
  while (!input.empty() && is_ascii_space(input.back()))
    input.remove_suffix(1);
  if (input.empty())
    return email_error("required");
  auto loc = utf8_ctype();
  std::string result;
  result.reserve(input.size());
  size_t chars = 0;
  size_t ats = 0;
  size_t pos = 0;
  while (pos < input.size()) {
    auto cp = decode_utf8(input, pos);
    if (!cp)
      return email_error("not valid UTF-8");
    if (is_control(*cp))
      return email_error("must not contain control characters");
    if (is_space(*cp, loc))
      return email_error("must not contain spaces");
    if (*cp == '@')
      ++ats;
    if (++chars > max_email_chars)
      return email_error("at most 254 characters");
    encode_utf8(to_lower(*cp, loc), result);
  }
  if (ats != 1)
    return email_error("must contain exactly one @");
  auto at = result.find('@');
  if (at == 0 || at + 1 == result.size())
    return email_error("needs a name before and a domain after the @");
  return result;
}

caf::error check_new_password(std::string_view password) {
  if (contains_nul(password))
    return make_error(ec::invalid_request, "password: must not contain a NUL character");
  if (password.size() > max_password_bytes)
    return make_error(ec::password_too_long, "password: at most 72 bytes");
  if (utf8_length(password) < min_password_chars)
    return make_error(ec::invalid_request, "password: at least 8 characters");
  return {};
}

caf::error check_presented_password(std::string_view password) {
  if (password.empty())
    return make_error(ec::invalid_request, "password: required");
  if (contains_nul(password))
    return make_error(ec::invalid_request, "password: must not contain a NUL character");
  if (password.size() > max_password_bytes)
    return make_error(ec::password_too_long, "password: at most 72 bytes");
  return {};
}

std::optional<std::string> make_session_token() {
  std::array<unsigned char, session_token_bytes> buf;
  if (RAND_bytes(buf.data(), static_cast<int>(buf.size())) != 1)
    return std::nullopt;
  return to_hex(buf.data(), buf.size());
}

std::optional<std::string> session_id_of(std::string_view token) {
  if (token.size() != 2 * session_token_bytes)
    return std::nullopt;
  std::string lower{token};
  for (auto& c : lower) {
    if (c >= 'A' && c <= 'F')
      c = static_cast<char>(c - 'A' + 'a');
    else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return std::nullopt;
  }
  return sha256_hex(lower);
}

std::string sha256_hex(std::string_view data) {
  // Fetched once: OpenSSL 3 otherwise looks the algorithm up on every call, and this runs on
  // every session resolve.
  static EVP_MD* const fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  static const EVP_MD* const algorithm = fetched != nullptr ? fetched : EVP_sha256();
  std::array<unsigned char, EVP_MAX_MD_SIZE> md;
  unsigned int size = 0;
  // EVP_Digest only fails when out of memory; an empty id then fails every lookup (and the
  // table's format check), which is the safe direction.
  if (EVP_Digest(data.data(), data.size(), md.data(), &size, algorithm, nullptr) != 1)
    return {};
  return to_hex(md.data(), size);
}

std::optional<int> bcrypt_cost_of(std::string_view hash) {
  // $2b$12$ + 22 characters of salt + 31 of checksum.
  if (hash.size() != 60 || hash[0] != '$' || hash[1] != '2' || hash[3] != '$' || hash[6] != '$')
    return std::nullopt;
  if (hash[2] != 'a' && hash[2] != 'b' && hash[2] != 'y')
    return std::nullopt;
  if (hash[4] < '0' || hash[4] > '9' || hash[5] < '0' || hash[5] > '9')
    return std::nullopt;
  for (auto c : hash.substr(7))
    if (!is_bcrypt_char(c))
      return std::nullopt;
  auto cost = (hash[4] - '0') * 10 + (hash[5] - '0');
  if (cost < 4 || cost > 31)
    return std::nullopt;
  return cost;
}

size_t utf8_length(std::string_view text) {
  size_t result = 0;
  for (auto c : text)
    if ((static_cast<unsigned char>(c) & 0xc0) != 0x80)
      ++result;
  return result;
}

} // namespace slicegate
