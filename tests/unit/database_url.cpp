#define BOOST_TEST_MODULE database_url
#include <boost/test/unit_test.hpp>

// libpq connection strings: the role one logs in as, and redaction for logs.

#include "common/database_url.hpp"

using namespace slicegate;

BOOST_AUTO_TEST_CASE(the_role_of_a_url_or_keyword_string) {
  BOOST_CHECK_EQUAL(role_of("postgresql://wa_slice:secret@db:5432/postgres"), "wa_slice");
  BOOST_CHECK_EQUAL(role_of("postgres://wank_gateway@127.0.0.1/wank_saas"), "wank_gateway");
  BOOST_CHECK_EQUAL(role_of("postgresql://db/wank_saas?user=wa%5Fslice&sslmode=require"),
                    "wa_slice");
  BOOST_CHECK_EQUAL(role_of("postgresql:///wank_saas"), "");
  BOOST_CHECK_EQUAL(role_of("host=db user=wa_slice dbname=postgres"), "wa_slice");
  BOOST_CHECK_EQUAL(role_of("host=db dbname=postgres"), "");
}

BOOST_AUTO_TEST_CASE(passwords_never_reach_a_log) {
  BOOST_CHECK_EQUAL(redact_url("postgresql://wa_slice:s3cr%40t@db:5432/postgres"),
                    "postgresql://wa_slice:***@db:5432/postgres");
  BOOST_CHECK_EQUAL(redact_url("nats://svc:pw@n1:4222,nats://svc:pw2@n2:4222"),
                    "nats://svc:***@n1:4222,nats://svc:***@n2:4222");
  // NATS takes a lone userinfo for a token; libpq for a role, which is no secret.
  BOOST_CHECK_EQUAL(redact_url("nats://s3cr3t-token@n1:4222"), "nats://***@n1:4222");
  BOOST_CHECK_EQUAL(redact_url("tls://a@n1:4222,nats://u:p@n2"), "tls://***@n1:4222,nats://u:***@n2");
  BOOST_CHECK_EQUAL(redact_url("postgresql://wa_slice@db/postgres"),
                    "postgresql://wa_slice@db/postgres");
  BOOST_CHECK_EQUAL(redact_url("host=db user=x password='a b' dbname=y"),
                    "host=db user=x password=*** dbname=y");
  BOOST_CHECK_EQUAL(redact_url("nats://127.0.0.1:4222"), "nats://127.0.0.1:4222");
}
