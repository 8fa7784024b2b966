/* addr-spec validation (RFC 5322 3.4.1) and comparison. */
#include "config.h"

#include <string.h>

#include "addr.h"
#include "harness.h"

static int
ok(const char *a, int flags)
{
	char why[256];

	return addr_check(a, strlen(a), flags, why, sizeof(why)) == 0;
}

static void
valid_addresses(void **state)
{
	(void)state;
	assert_true(ok("alice@example.org", 0));
	assert_true(ok("Joe.Doe@Example.ORG", 0));
	assert_true(ok("first.last+tag@sub.example.co.uk", 0));
	assert_true(ok("!#$%&'*+-/=?^_`{|}~@example.org", 0));
	assert_true(ok("\"john doe\"@example.org", 0));
	assert_true(ok("\"a@b\"@example.org", 0));
	assert_true(ok("\"quoted\\\"pair\"@example.org", 0));
	assert_true(ok("user@[192.0.2.1]", 0));
	assert_true(ok("user@[IPv6:2001:db8::1]", 0));
	assert_true(ok("j\xc3\xb6rg@b\xc3\xbc" "cher.example", 0)); /* SMTPUTF8 */
	assert_true(ok("x@a-b.example", 0));
}

static void
invalid_addresses(void **state)
{
	(void)state;
	assert_false(ok("", 0));
	assert_false(ok("alice", 0)); /* no domain */
	assert_false(ok("alice@", 0));
	assert_false(ok("@example.org", 0));
	assert_false(ok("alice@@example.org", 0));
	assert_false(ok(".alice@example.org", 0));
	assert_false(ok("alice.@example.org", 0));
	assert_false(ok("al..ice@example.org", 0));
	assert_false(ok("alice@example..org", 0));
	assert_false(ok("alice@.example.org", 0));
	assert_false(ok("alice@example.org.", 0));
	assert_false(ok("alice@-example.org", 0));
	assert_false(ok("alice@example-.org", 0));
	assert_false(ok("al ice@example.org", 0));
	assert_false(ok("alice@exa mple.org", 0));
	assert_false(ok("alice@example.org>", 0));
	assert_false(ok("<alice@example.org>", 0));
	assert_false(ok("alice@example.org,bob@example.org", 0));
	assert_false(ok("alice;rm -rf /@example.org", 0));
	assert_false(ok("alice@exa_mple.org", 0));
	assert_false(ok("\"unterminated@example.org", 0));
	assert_false(ok("a\r\nb@example.org", 0));
	assert_false(ok("a\tb@example.org", 0));
	assert_false(ok("user@[1.2.3.4", 0));
	/* NUL inside the given length */
	{
		char why[128];

		assert_int_equal(addr_check("a\0b@example.org", 15, 0, why,
					    sizeof(why)),
				 -1);
		assert_non_null(strstr(why, "NUL"));
	}
	/* longer than the RFC 5321 path limit */
	{
		char big[400];

		memset(big, 'a', sizeof(big));
		memcpy(big + sizeof(big) - 13, "@example.org", 13);
		assert_false(ok(big, 0));
	}
	/* a domain label of 64 octets */
	assert_false(ok("a@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.org",
			0));
}

static void
local_only(void **state)
{
	(void)state;
	assert_false(ok("root", 0));
	assert_true(ok("root", ADDR_LOCAL_OK));
	assert_true(ok("mailer-daemon", ADDR_LOCAL_OK));
	assert_false(ok("-oQ/tmp/x", 0));
	assert_false(ok("-oQ/tmp/x@example.org", 0));
	assert_false(ok("-", ADDR_LOCAL_OK));
	assert_false(ok("ro ot", ADDR_LOCAL_OK));
	assert_false(ok("root;id", ADDR_LOCAL_OK));
}

static void
equality(void **state)
{
	(void)state;
	/* domain without case, local part exactly */
	assert_true(addr_equal("alice@example.org", "alice@EXAMPLE.Org"));
	assert_false(addr_equal("Alice@example.org", "alice@example.org"));
	assert_false(addr_equal("alice@example.org", "alice@example.net"));
	assert_false(addr_equal("alice", "alice@example.org"));
	assert_true(addr_equal("root", "root"));
	assert_true(addr_equal("\"a@b\"@example.org", "\"a@b\"@Example.org"));
}

static void
stripping(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(addr_strip("  <bob@example.org> ", out, sizeof(out)), 0);
	assert_string_equal(out, "bob@example.org");
	assert_int_equal(addr_strip("<>", out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(addr_strip("bob@example.org", out, sizeof(out)), 0);
	assert_string_equal(out, "bob@example.org");
	assert_int_equal(addr_strip("averyveryverylongaddress@example.org", out, 8),
			 -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(valid_addresses),
		cmocka_unit_test(invalid_addresses),
		cmocka_unit_test(local_only),
		cmocka_unit_test(equality),
		cmocka_unit_test(stripping),
	};

	return cmocka_run_group_tests_name("addr", tests, NULL, NULL);
}
