/* WKD and DANE names, with the vectors of the specifications. */
#include "config.h"

#include <string.h>

#include "dane.h"
#include "harness.h"
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
	};

	return cmocka_run_group_tests_name("names", tests, NULL, NULL);
}
