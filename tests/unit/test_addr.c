/* addr-spec validation (RFC 5322 3.4.1) and comparison. */
#include "config.h"

#include <string.h>

#include "addr.h"
#include "harness.h"
#include "pslimits.h"

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
	/* 8-bit bytes that are not UTF-8 (RFC 3629): Latin-1, a lone
	 * continuation byte, an overlong '/', a surrogate, past U+10FFFF, a
	 * sequence cut short (found by the corpus: they reached the MTA) */
	assert_false(ok("carol@b\xfc" "cher.example", 0));
	assert_false(ok("\xff\xfe@example.com", 0));
	assert_false(ok("a\x80@example.com", 0));
	assert_false(ok("a\xc0\xaf@example.com", 0));
	assert_false(ok("a\xed\xa0\x80@example.com", 0));
	assert_false(ok("a\xf4\x90\x80\x80@example.com", 0));
	assert_false(ok("a@b\xc3", 0));
	assert_false(ok("\"q\xe2\x98\"@example.com", 0));
	assert_true(ok("a\xf0\x9f\x98\x80@\xe2\x98\x83.example", 0)); /* U+1F600, U+2603 */
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

/* canon(in): addr_canonical() must succeed (0) and give want */
static void
canon_is(const char *in, const char *want)
{
	char out[PS_ADDR_CANON_MAX + 1];

	if (addr_canonical(in, out, sizeof(out)) != 0 || strcmp(out, want) != 0)
		fail_msg("addr_canonical(\"%s\") = \"%s\", want \"%s\"", in, out, want);
}

/* The one form addresses are matched on: local part without ASCII case
 * and unneeded quotes, domain as lower-case A-labels. */
static void
canonical(void **state)
{
	char out[PS_ADDR_CANON_MAX + 1];

	(void)state;
	canon_is("Lower@Example.ORG", "lower@example.org");
	canon_is("lower@example.org", "lower@example.org");
	canon_is("\"ceo\"@example.com", "ceo@example.com");
	canon_is("\"CEO\"@Example.com", "ceo@example.com");
	canon_is("\"first.last\"@example.com", "first.last@example.com");
	/* a quoted-pair stands for its character */
	canon_is("\"c\\eo\"@example.com", "ceo@example.com");
	/* quotes that are needed stay, with only the pairs that are needed */
	canon_is("\"a b\"@x.org", "\"a b\"@x.org");
	canon_is("\"A B\"@X.org", "\"a b\"@x.org");
	canon_is("\"a\\ b\"@x.org", "\"a b\"@x.org");
	canon_is("\"a@b\"@x.org", "\"a@b\"@x.org");
	canon_is("\"a\\\"b\"@x.org", "\"a\\\"b\"@x.org");
	canon_is("\".ceo\"@x.org", "\".ceo\"@x.org");
	canon_is("\"a..b\"@x.org", "\"a..b\"@x.org");
	canon_is("\"\"@x.org", "\"\"@x.org");
	/* U-labels become A-labels (IDNA), in any case */
	canon_is("x@b\xc3\xbc" "cher.example", "x@xn--bcher-kva.example");
	canon_is("x@B\xc3\x9c" "CHER.example", "x@xn--bcher-kva.example");
	canon_is("x@XN--BCHER-KVA.example", "x@xn--bcher-kva.example");
	canon_is("x@stra\xc3\x9f" "e.de", "x@xn--strae-oqa.de"); /* non-transitional */
	/* only ASCII letters change case in the local part (as gpg, WKD) */
	canon_is("J\xc3\x96rg@example.org", "j\xc3\x96rg@example.org");
	/* an ASCII domain is only lowercased, even where IDNA would refuse it */
	canon_is("a@ab--cd.example", "a@ab--cd.example");
	canon_is("a@[IPv6:2001:DB8::1]", "a@[ipv6:2001:db8::1]");
	canon_is("Root", "root");
	/* an IDNA2003 symbol: transitional processing still converts it */
	canon_is("a@\xe2\x98\x83.example", "a@xn--n3h.example");
	/* not an IDN at all (U+FFFD is disallowed by IDNA): kept as written,
	 * ASCII lowercased, and said so */
	assert_int_equal(addr_canonical("a@\xef\xbf\xbd.EXAMPLE", out, sizeof(out)), 1);
	assert_string_equal(out, "a@\xef\xbf\xbd.example");
	/* not UTF-8: not an address */
	assert_int_equal(addr_canonical("a@\xff\xfe.EXAMPLE", out, sizeof(out)), -1);
	/* not an address, or no room */
	assert_int_equal(addr_canonical("a b@x.org", out, sizeof(out)), -1);
	assert_string_equal(out, "");
	assert_int_equal(addr_canonical("", out, sizeof(out)), -1);
	assert_int_equal(addr_canonical("lower@example.org", out, 10), -1);
	assert_int_equal(addr_canonical("x@b\xc3\xbc" "cher.example", out, 20), -1);
	/* domains alone */
	assert_int_equal(addr_canonical_domain("B\xc3\x9c" "cher.Example", out, sizeof(out)), 0);
	assert_string_equal(out, "xn--bcher-kva.example");
	assert_int_equal(addr_canonical_domain("Example.ORG", out, sizeof(out)), 0);
	assert_string_equal(out, "example.org");
	assert_int_equal(addr_canonical_domain("a..b", out, sizeof(out)), -1);
	assert_int_equal(addr_canonical_domain("a@b", out, sizeof(out)), -1);
	assert_int_equal(addr_canonical_domain("[192.0.2.1]", out, sizeof(out)), -1);
	assert_int_equal(addr_canonical_domain("", out, sizeof(out)), -1);
}

static void
same_mailbox(void **state)
{
	(void)state;
	assert_true(addr_same_mailbox("CEO@example.com", "ceo@EXAMPLE.com"));
	assert_true(addr_same_mailbox("\"ceo\"@example.com", "ceo@example.com"));
	assert_true(addr_same_mailbox("x@b\xc3\xbc" "cher.example", "X@xn--bcher-kva.example"));
	assert_false(addr_same_mailbox("ceo+tag@example.com", "ceo@example.com"));
	assert_false(addr_same_mailbox("\"a b\"@x.org", "ab@x.org"));
	assert_false(addr_same_mailbox("ceo@example.com", "ceo@example.net"));
	/* not addresses: compared as addr_equal() does */
	assert_true(addr_same_mailbox("a b@x.org", "a b@X.org"));
	assert_false(addr_same_mailbox("a b@x.org", "A b@x.org"));
}

static void
extension(void **state)
{
	char out[PS_ADDR_CANON_MAX + 1];

	(void)state;
	assert_int_equal(addr_strip_extension("ceo+tag@example.com", "+", out, sizeof(out)), 1);
	assert_string_equal(out, "ceo@example.com");
	/* the first delimiter of the set */
	assert_int_equal(addr_strip_extension("a-b+c@example.com", "+-", out, sizeof(out)), 1);
	assert_string_equal(out, "a@example.com");
	assert_int_equal(addr_strip_extension("ceo@example.com", "+", out, sizeof(out)), 0);
	assert_string_equal(out, "ceo@example.com");
	assert_int_equal(addr_strip_extension("ceo+tag@example.com", "", out, sizeof(out)), 0);
	assert_string_equal(out, "ceo+tag@example.com");
	/* neither an empty extension nor an empty local part */
	assert_int_equal(addr_strip_extension("ceo+@example.com", "+", out, sizeof(out)), 0);
	assert_string_equal(out, "ceo+@example.com");
	assert_int_equal(addr_strip_extension("+tag@example.com", "+", out, sizeof(out)), 0);
	assert_string_equal(out, "+tag@example.com");
	/* a quoted local part: cut inside, quoted again only if needed */
	assert_int_equal(addr_strip_extension("\"a b+c d\"@x.org", "+", out, sizeof(out)), 1);
	assert_string_equal(out, "\"a b\"@x.org");
	assert_int_equal(addr_strip_extension("\"ab+c d\"@x.org", "+", out, sizeof(out)), 1);
	assert_string_equal(out, "ab@x.org");
	assert_int_equal(addr_strip_extension("ceo+tag@example.com", "+", out, 5), -1);
}

static void
unicode_domain(void **state)
{
	char out[PS_ADDR_CANON_MAX + 1];

	(void)state;
	assert_int_equal(addr_unicode_domain("x@xn--bcher-kva.example", out, sizeof(out)), 1);
	assert_string_equal(out, "x@b\xc3\xbc" "cher.example");
	assert_int_equal(addr_unicode_domain("x@example.org", out, sizeof(out)), 0);
	assert_string_equal(out, "x@example.org");
	assert_int_equal(addr_unicode_domain("x@xn--bcher-kva.example", out, 8), -1);
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
		cmocka_unit_test(canonical),
		cmocka_unit_test(same_mailbox),
		cmocka_unit_test(extension),
		cmocka_unit_test(unicode_domain),
	};

	return cmocka_run_group_tests_name("addr", tests, NULL, NULL);
}
