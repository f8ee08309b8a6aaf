#define BOOST_TEST_MODULE nats_credentials
#include <boost/test/unit_test.hpp>

// NATS credentials as the daemon and slicectl take them: which combinations start, which
// files must be readable, what a log may say about them, and the NKey public key derived from
// a seed file.

#include <cstdio>
#include <fstream>
#include <string>

#include "bridge/nats_options.hpp"
#include "common/nats_credentials.hpp"
#include "tests/support/temp_dir.hpp"

using namespace slicegate;

namespace {

// The key pair of nats.c's README and nkeys' documentation.
constexpr const char* seed = "SUACSSL3UAHUDXKFSNVUZRF5UHPMWZ6BFDTJ7M6USDXIEDNPPQYYYCU3VY";
constexpr const char* public_key = "UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4";

const std::string url = "nats://127.0.0.1:4222";

nats_credentials user_password() {
  nats_credentials c;
  c.user = "slicegate";
  c.password = "pw";
  return c;
}

} // namespace

BOOST_AUTO_TEST_CASE(one_way_to_authenticate) {
  BOOST_CHECK_EQUAL(check({}, url), "");
  BOOST_CHECK_EQUAL(check(user_password(), url), "");
  auto both = user_password();
  both.token = "t";
  BOOST_CHECK_EQUAL(check(both, url), "--nats-user/--nats-password and --nats-token exclude "
                                      "each other: give one way to authenticate to NATS");
  nats_credentials token;
  token.token = "t";
  BOOST_CHECK_NE(check(token, "nats://u:p@127.0.0.1:4222").find("credentials in --nats-url"),
                 std::string::npos);
  BOOST_CHECK_NE(check(token, "nats://127.0.0.1:1,nats://tok@127.0.0.1:2")
                   .find("credentials in --nats-url"),
                 std::string::npos);
  BOOST_CHECK_EQUAL(check({}, "nats://u:p@127.0.0.1:4222"), "");
  nats_credentials half;
  half.password = "pw";
  BOOST_CHECK_EQUAL(check(half, url), "--nats-password needs --nats-user");
}

BOOST_AUTO_TEST_CASE(files_must_be_readable_and_come_in_pairs) {
  test::temp_dir dir;
  std::ofstream{dir / "cert.pem"} << "x";
  nats_credentials c;
  c.tls_cert = dir / "cert.pem";
  BOOST_CHECK_EQUAL(check(c, url), "--nats-tls-cert needs --nats-tls-key");
  c.tls_key = dir / "key.pem";
  BOOST_CHECK_EQUAL(check(c, url), "--nats-tls-key: cannot read " + dir / "key.pem"
                                     + " (No such file or directory)");
  nats_credentials creds;
  creds.creds_file = dir / "user.creds";
  BOOST_CHECK_NE(check(creds, url).find("--nats-creds: cannot read"), std::string::npos);
}

BOOST_AUTO_TEST_CASE(descriptions_hold_no_secret) {
  auto c = user_password();
  c.password = "hunter2";
  c.tls_ca = "/etc/ca.pem";
  BOOST_CHECK_EQUAL(describe(c), "user slicegate with a password, TLS with CA /etc/ca.pem");
  nats_credentials token;
  token.token = "s3cr3t";
  token.tls = true;
  BOOST_CHECK_EQUAL(describe(token), "a token, TLS with the system's CAs");
}

BOOST_AUTO_TEST_CASE(the_public_key_of_a_seed) {
  BOOST_CHECK_EQUAL(bridge::nkey_public_key(seed), public_key);
  std::string broken = seed;
  broken[20] = broken[20] == 'A' ? 'B' : 'A'; // the checksum no longer matches
  BOOST_CHECK_EQUAL(bridge::nkey_public_key(broken), "");
  BOOST_CHECK_EQUAL(bridge::nkey_public_key(public_key), "");
  BOOST_CHECK_EQUAL(bridge::nkey_public_key(""), "");
}

BOOST_AUTO_TEST_CASE(a_seed_file_is_read_once_before_connecting) {
  test::temp_dir dir;
  std::ofstream{dir / "user.nk"} << "# the admin's seed\n" << seed << "\n";
  std::ofstream{dir / "empty.nk"} << "\n";
  nats_credentials c;
  c.nkey_seed_file = dir / "user.nk";
  bridge::prepared_credentials prepared;
  BOOST_CHECK_EQUAL(bridge::prepare(c, url, prepared), "");
  BOOST_CHECK_EQUAL(prepared.nkey_public, public_key);
  natsOptions* opts = nullptr;
  BOOST_REQUIRE_EQUAL(natsOptions_Create(&opts), NATS_OK);
  BOOST_CHECK_EQUAL(bridge::apply(opts, prepared), "");
  c.nkey_seed_file = dir / "empty.nk";
  BOOST_CHECK_NE(bridge::prepare(c, url, prepared).find("holds no valid NKey user seed"),
                 std::string::npos);
  // A CA file that is no certificate: nats.c refuses it, and the message names the option.
  std::ofstream{dir / "ca.pem"} << "not a certificate\n";
  nats_credentials tls;
  tls.tls_ca = dir / "ca.pem";
  BOOST_CHECK_EQUAL(bridge::prepare(tls, url, prepared), "");
  BOOST_CHECK_EQUAL(bridge::apply(opts, prepared).rfind("--nats-tls-ca: ", 0), 0u);
  natsOptions_Destroy(opts);
}
