#define BOOST_TEST_MODULE credentials_rules
#include <boost/test/unit_test.hpp>

#include <ostream>
#include <set>
#include <string>

#include "actors/credentials_rules.hpp"
#include "messages/error.hpp"

using namespace slicegate;
using namespace std::string_literals;

namespace slicegate {

std::ostream& operator<<(std::ostream& os, ec x) {
  return os << to_string(x);
}

} // namespace slicegate

namespace {

/// The error code `normalize_email` gives for `input`, or ec::none if it accepts it.
ec email_code(std::string_view input) {
  auto result = normalize_email(input);
  return result ? ec::none : code_of(result.error());
}

std::string email(std::string_view input) {
  auto result = normalize_email(input);
  if (!result)
    BOOST_FAIL("rejected: " << std::string{input} << ": " << message_of(result.error()));
  return *result;
}

} // namespace

BOOST_AUTO_TEST_SUITE(emails)

BOOST_AUTO_TEST_CASE(trimmed_and_lowercased) {
  BOOST_TEST(email("  Alice@Example.COM\t\n") == "alice@example.com");
  BOOST_TEST(email("bob@example.com") == "bob@example.com");
  BOOST_TEST(email("First.Last+Tag@Sub.Example.org") == "first.last+tag@sub.example.org");
}

BOOST_AUTO_TEST_CASE(non_ascii_letters_are_lowercased_like_postgres_lower) {
  // U+00C9 É -> U+00E9 é; U+03A3 Σ -> U+03C3 σ.
  BOOST_TEST(email("\xc3\x89LODIE@Example.com") == "\xc3\xa9lodie@example.com");
  BOOST_TEST(email("\xce\xa3@example.gr") == "\xcf\x83@example.gr");
}

BOOST_AUTO_TEST_CASE(exactly_one_at_with_both_sides) {
  BOOST_TEST(email_code("alice.example.com") == ec::invalid_request);
  BOOST_TEST(email_code("alice@@example.com") == ec::invalid_request);
  BOOST_TEST(email_code("a@b@example.com") == ec::invalid_request);
  BOOST_TEST(email_code("@example.com") == ec::invalid_request);
  BOOST_TEST(email_code("alice@") == ec::invalid_request);
  BOOST_TEST(email_code("a@b") == ec::none);
}

BOOST_AUTO_TEST_CASE(no_spaces_or_control_characters) {
  BOOST_TEST(email_code("al ice@example.com") == ec::invalid_request);
  BOOST_TEST(email_code("alice@exa\tmple.com") == ec::invalid_request);
  BOOST_TEST(email_code("alice\r\n@example.com") == ec::invalid_request);
  BOOST_TEST(email_code("alice\x7f@example.com") == ec::invalid_request);
  BOOST_TEST(email_code("alice"s + '\0' + "@example.com") == ec::invalid_request);
  // U+00A0 no-break space, U+2003 em space, U+0085 next line (a C1 control).
  BOOST_TEST(email_code("alice\xc2\xa0@example.com") == ec::invalid_request);
  BOOST_TEST(email_code("alice\xe2\x80\x83@example.com") == ec::invalid_request);
  BOOST_TEST(email_code("alice\xc2\x85@example.com") == ec::invalid_request);
}

BOOST_AUTO_TEST_CASE(empty_or_blank_is_refused) {
  BOOST_TEST(email_code("") == ec::invalid_request);
  BOOST_TEST(email_code("   ") == ec::invalid_request);
}

BOOST_AUTO_TEST_CASE(at_most_254_characters) {
  auto domain = "@example.com"s;
  auto at_limit = std::string(254 - domain.size(), 'a') + domain;
  BOOST_TEST(at_limit.size() == 254u);
  BOOST_TEST(email_code(at_limit) == ec::none);
  BOOST_TEST(email_code("a" + at_limit) == ec::invalid_request);
  // Characters, not bytes: 254 two-byte letters still fit.
  std::string wide;
  for (size_t i = 0; i < 254 - domain.size(); ++i)
    wide += "\xc3\xa9";
  BOOST_TEST(email_code(wide + domain) == ec::none);
  // Surrounding blanks do not count.
  BOOST_TEST(email_code("  " + at_limit + "  ") == ec::none);
}

BOOST_AUTO_TEST_CASE(malformed_utf8_is_refused) {
  BOOST_TEST(email_code("alice\xff@example.com") == ec::invalid_request);
  BOOST_TEST(email_code("alice\xc3@example.com") == ec::invalid_request);
  BOOST_TEST(email_code("alice@example.com\xe2\x82") == ec::invalid_request);
  // Overlong '@' and a UTF-16 surrogate.
  BOOST_TEST(email_code("alice\xc0\x80@example.com") == ec::invalid_request);
  BOOST_TEST(email_code("alice\xed\xa0\x80@example.com") == ec::invalid_request);
}

BOOST_AUTO_TEST_CASE(messages_name_the_field) {
  auto result = normalize_email("nope");
  BOOST_REQUIRE(!result);
  BOOST_TEST(message_of(result.error()).rfind("email: ", 0) == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(passwords)

BOOST_AUTO_TEST_CASE(new_password_length_bounds) {
  BOOST_TEST(code_of(check_new_password("1234567")) == ec::invalid_request);
  BOOST_TEST(code_of(check_new_password("12345678")) == ec::none);
  BOOST_TEST(code_of(check_new_password(std::string(72, 'x'))) == ec::none);
  BOOST_TEST(code_of(check_new_password(std::string(73, 'x'))) == ec::password_too_long);
  BOOST_TEST(code_of(check_new_password(std::string(1000, 'x'))) == ec::password_too_long);
}

BOOST_AUTO_TEST_CASE(minimum_counts_characters_maximum_counts_bytes) {
  // Eight 2-byte characters: 16 bytes, 8 characters.
  std::string eight;
  for (int i = 0; i < 8; ++i)
    eight += "\xc3\xa9";
  BOOST_TEST(code_of(check_new_password(eight)) == ec::none);
  BOOST_TEST(code_of(check_new_password(eight.substr(0, 14))) == ec::invalid_request);
  // 24 three-byte characters are 72 bytes; one more byte is too long.
  std::string wide;
  for (int i = 0; i < 24; ++i)
    wide += "\xe2\x82\xac";
  BOOST_TEST(wide.size() == 72u);
  BOOST_TEST(code_of(check_new_password(wide)) == ec::none);
  BOOST_TEST(code_of(check_new_password(wide + "x")) == ec::password_too_long);
}

BOOST_AUTO_TEST_CASE(nul_bytes_are_refused_rather_than_truncated) {
  BOOST_TEST(code_of(check_new_password("abcdefgh"s + '\0' + "ijk")) == ec::invalid_request);
  BOOST_TEST(code_of(check_presented_password("abcdefgh"s + '\0')) == ec::invalid_request);
}

BOOST_AUTO_TEST_CASE(presented_password_is_not_held_to_the_minimum) {
  BOOST_TEST(code_of(check_presented_password("")) == ec::invalid_request);
  BOOST_TEST(code_of(check_presented_password("short")) == ec::none);
  BOOST_TEST(code_of(check_presented_password(std::string(72, 'x'))) == ec::none);
  BOOST_TEST(code_of(check_presented_password(std::string(73, 'x')))
             == ec::password_too_long);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(tokens)

BOOST_AUTO_TEST_CASE(sha256_known_vectors) {
  // FIPS 180-2 test vectors.
  BOOST_TEST(sha256_hex("")
             == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  BOOST_TEST(sha256_hex("abc")
             == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  BOOST_TEST(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
             == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

BOOST_AUTO_TEST_CASE(tokens_are_64_lowercase_hex_and_distinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    auto token = make_session_token();
    BOOST_REQUIRE(token);
    BOOST_REQUIRE_EQUAL(token->size(), 64u);
    BOOST_REQUIRE(token->find_first_not_of("0123456789abcdef") == std::string::npos);
    seen.insert(*token);
  }
  BOOST_TEST(seen.size() == 1000u);
}

BOOST_AUTO_TEST_CASE(session_id_is_the_sha256_of_the_token_not_the_token) {
  auto token = *make_session_token();
  auto id = session_id_of(token);
  BOOST_REQUIRE(id);
  BOOST_TEST(*id != token);
  BOOST_TEST(*id == sha256_hex(token));
  BOOST_TEST(id->size() == 64u);
  std::string upper = token;
  for (auto& c : upper)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  BOOST_TEST(*session_id_of(upper) == *id);
}

BOOST_AUTO_TEST_CASE(malformed_tokens_have_no_id) {
  BOOST_TEST(!session_id_of(""));
  BOOST_TEST(!session_id_of(std::string(63, 'a')));
  BOOST_TEST(!session_id_of(std::string(65, 'a')));
  BOOST_TEST(!session_id_of(std::string(63, 'a') + "g"));
  BOOST_TEST(!session_id_of(std::string(63, 'a') + "\xff"));
  BOOST_TEST(session_id_of(std::string(64, 'a')).has_value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(bcrypt_hashes)

BOOST_AUTO_TEST_CASE(cost_is_read_from_well_formed_hashes) {
  auto tail = "$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234"s;
  BOOST_REQUIRE_EQUAL(tail.size(), 54u);
  BOOST_TEST(bcrypt_cost_of("$2b$12" + tail).value_or(-1) == 12);
  BOOST_TEST(bcrypt_cost_of("$2a$13" + tail).value_or(-1) == 13);
  BOOST_TEST(bcrypt_cost_of("$2y$04" + tail).value_or(-1) == 4);
  BOOST_TEST(bcrypt_cost_of("$2b$31" + tail).value_or(-1) == 31);
}

BOOST_AUTO_TEST_CASE(anything_else_is_not_a_bcrypt_hash) {
  auto tail = "$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234"s;
  BOOST_TEST(!bcrypt_cost_of(""));
  BOOST_TEST(!bcrypt_cost_of("plaintext password"));
  BOOST_TEST(!bcrypt_cost_of("$2x$12" + tail));
  BOOST_TEST(!bcrypt_cost_of("$2b$1a" + tail));
  BOOST_TEST(!bcrypt_cost_of("$2b$03" + tail));
  BOOST_TEST(!bcrypt_cost_of("$2b$32" + tail));
  BOOST_TEST(!bcrypt_cost_of("$2b$12" + tail + "x"));
  BOOST_TEST(!bcrypt_cost_of("$2b$12" + tail.substr(0, 53)));
  BOOST_TEST(!bcrypt_cost_of("$2b$12" + tail.substr(0, 53) + "!"));
  BOOST_TEST(!bcrypt_cost_of("$y$j9T$abcdefghijklmnopqrstuv$ABCDEFGHIJKLMNOPQRSTUVWXYZ012345678"));
}

BOOST_AUTO_TEST_SUITE_END()
