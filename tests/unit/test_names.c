/* WKD and DANE names, with the vectors of the specifications. */
#include "config.h"

#include <string.h>

#include "dane.h"
#include "harness.h"
#include "keyserver.h"
#include "wkd.h"

/* draft-koch-openpgp-webkey-service, section 3.1: "Joe.Doe" */
static void
wkd_vector(void **state)
{
	char h[33];

	(void)state;
	assert_int_equal(wkd_hash("Joe.Doe", 7, h), 0);
	assert_string_equal(h, "iy9q119eutrkn8s1mk4r39qejnbu3n5q");
	/* the hash is over the lowercased local part */
	assert_int_equal(wkd_hash("joe.doe", 7, h), 0);
	assert_string_equal(h, "iy9q119eutrkn8s1mk4r39qejnbu3n5q");
}

static void
wkd_urls(void **state)
{
	char u[512];

	(void)state;
	assert_int_equal(wkd_url_advanced("Joe.Doe@Example.ORG", u, sizeof(u)), 0);
	assert_string_equal(u, "https://openpgpkey.example.org/.well-known/openpgpkey/"
			       "example.org/hu/iy9q119eutrkn8s1mk4r39qejnbu3n5q?l=Joe.Doe");
	assert_int_equal(wkd_url_direct("Joe.Doe@Example.ORG", u, sizeof(u)), 0);
	assert_string_equal(u, "https://example.org/.well-known/openpgpkey/hu/"
			       "iy9q119eutrkn8s1mk4r39qejnbu3n5q?l=Joe.Doe");
	/* the l= parameter is percent-escaped */
	assert_int_equal(wkd_url_direct("a+b/c@example.org", u, sizeof(u)), 0);
	assert_non_null(strstr(u, "?l=a%2Bb%2Fc"));
	assert_int_equal(wkd_url_direct("root", u, sizeof(u)), -1);
	assert_int_equal(wkd_url_direct("x@[192.0.2.1]", u, sizeof(u)), -1);
	assert_int_equal(wkd_url_direct("x@example.org", u, 20), -1);
}

static void
zbase32(void **state)
{
	char out[16];

	(void)state;
	/* z-base-32 of a single 0x00 byte: 8 bits -> 2 symbols "yy";
	 * 0xff -> "9h" (11111 111(00)) */
	assert_int_equal(zbase32_encode((const unsigned char *)"\x00", 1, out,
					sizeof(out)),
			 0);
	assert_string_equal(out, "yy");
	assert_int_equal(zbase32_encode((const unsigned char *)"\xff", 1, out,
					sizeof(out)),
			 0);
	assert_string_equal(out, "9h");
}

/* draft-koch-openpgp-webkey-service, section 4.5: the policy file of
 * each method */
static void
wkd_policy(void **state)
{
	char u[512];

	(void)state;
	assert_int_equal(wkd_url_policy("Joe.Doe@Example.ORG", 1, u, sizeof(u)), 0);
	assert_string_equal(u, "https://openpgpkey.example.org/.well-known/openpgpkey/"
			       "example.org/policy");
	assert_int_equal(wkd_url_policy("Joe.Doe@Example.ORG", 0, u, sizeof(u)), 0);
	assert_string_equal(u, "https://example.org/.well-known/openpgpkey/policy");
}

/* keys.openpgp.org's VKS API ("GET /vks/v1/by-email/<URI-encoded email
 * address>") and HKP (draft-gallagher-openpgp-hkp, op=get, machine
 * readable) */
static void
keyserver_urls(void **state)
{
	char u[512];

	(void)state;
	assert_int_equal(keyserver_url("https://keys.openpgp.org", KS_VKS,
				       "Joe.Doe+x@example.org", u, sizeof(u)),
			 0);
	assert_string_equal(u, "https://keys.openpgp.org/vks/v1/by-email/"
			       "Joe.Doe%2Bx%40example.org");
	assert_int_equal(keyserver_url("https://keyserver.ubuntu.com/", KS_HKP,
				       "joe@example.org", u, sizeof(u)),
			 0);
	assert_string_equal(u, "https://keyserver.ubuntu.com/pks/lookup?op=get&"
			       "options=mr&search=joe%40example.org");
	/* a path prefix is kept; http, userinfo, queries are refused */
	assert_int_equal(keyserver_url("https://ks.example:8443/keys", KS_HKP,
				       "a@b.example", u, sizeof(u)),
			 0);
	assert_string_equal(u, "https://ks.example:8443/keys/pks/lookup?op=get&"
			       "options=mr&search=a%40b.example");
	assert_int_equal(keyserver_url("http://keys.openpgp.org", KS_VKS, "a@b.example",
				       u, sizeof(u)),
			 -1);
	assert_int_equal(keyserver_base_ok("hkp://keys.example"), 0);
	assert_int_equal(keyserver_base_ok("https://user@keys.example"), 0);
	assert_int_equal(keyserver_base_ok("https://keys.example/?x=1"), 0);
	assert_int_equal(keyserver_base_ok("https://"), 0);
	assert_int_equal(keyserver_url("https://k.example", KS_VKS, "no-at", u, sizeof(u)),
			 -1);
	assert_int_equal(keyserver_url("https://k.example", KS_VKS, "a@b.example", u, 20),
			 -1);
}

/* RFC 7929, section 3 */
static void
dane_vector(void **state)
{
	char n[300];

	(void)state;
	assert_int_equal(dane_owner_name("hugh@example.com", n, sizeof(n)), 0);
	assert_string_equal(n, "c93f1e400f26708f98cb19d936620da35eec8f72e57f9eec01c1afd6"
			       "._openpgpkey.example.com");
	/* no case folding of the local part */
	assert_int_equal(dane_owner_name("Hugh@example.com", n, sizeof(n)), 0);
	assert_int_equal(strncmp(n, "c93f1e40", 8) != 0, 1);
	assert_int_equal(dane_owner_name("hugh", n, sizeof(n)), -1);
	assert_int_equal(dane_owner_name("hugh@example.com", n, 40), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(wkd_vector),
		cmocka_unit_test(wkd_urls),
		cmocka_unit_test(zbase32),
		cmocka_unit_test(dane_vector),
		cmocka_unit_test(wkd_policy),
		cmocka_unit_test(keyserver_urls),
	};

	return cmocka_run_group_tests_name("names", tests, NULL, NULL);
}
