/* Policy: precedence field by field, user tightening and loosening, and
 * every decision of policy_decide(). */
#include "config.h"

#include <string.h>

#include "conf.h"
#include "discover.h"
#include "harness.h"
#include "policy.h"

static struct ps_config site, user;
static char why[512];

static void
load(struct ps_config *cf, const char *name, const char *text, int user_file)
{
	config_free(cf);
	config_defaults(cf);
	cf->user_file = user_file;
	snprintf(cf->policy.path, sizeof(cf->policy.path), "%s", name);
	assert_int_equal(config_parse(cf, name, text, strlen(text), why, sizeof(why)),
			 PS_OK);
}

static const char site_text[] =
	"[default]\n"					/* 1 */
	"encrypt = opportunistic\n"			/* 2 */
	"no-key = tls-opportunistic\n"			/* 3 */
	"mixed = split\n"				/* 4 */
	"[domain example.org]\n"			/* 5 */
	"encrypt = require\n"				/* 6 */
	"[domain *.example.org]\n"			/* 7 */
	"no-key = refuse\n"				/* 8 */
	"[domain *.deep.example.org]\n"			/* 9 */
	"no-key = tls-required\n"			/* 10 */
	"[address Bob@example.org]\n"			/* 11 */
	"mixed = refuse\n"				/* 12 */
	"lookup-timeout = 9\n"				/* 13 */
	"[domain example.net]\n"			/* 14 */
	"sources = local wkd\n";				/* 15 */

/* [address] outranks [domain] when both set the same key, whichever
 * comes first in the file */
static void
address_beats_domain(void **state)
{
	struct pol_effective pe;

	(void)state;
	load(&site, "site.conf",
	     "[domain example.org]\nmixed = plaintext\nencrypt = require\n"
	     "[address bob@example.org]\nmixed = refuse\nencrypt = opportunistic\n",
	     0);
	pol_resolve(&site.policy, NULL, "bob@example.org", &pe);
	assert_int_equal(pe.v.mixed, MX_REFUSE);
	assert_int_equal(pe.v.encrypt, ENC_OPPORTUNISTIC);
	load(&site, "site.conf",
	     "[address bob@example.org]\nmixed = refuse\nencrypt = opportunistic\n"
	     "[domain example.org]\nmixed = plaintext\nencrypt = require\n",
	     0);
	pol_resolve(&site.policy, NULL, "bob@example.org", &pe);
	assert_int_equal(pe.v.mixed, MX_REFUSE);
	assert_int_equal(pe.v.encrypt, ENC_OPPORTUNISTIC);
	pol_resolve(&site.policy, NULL, "carol@example.org", &pe);
	assert_int_equal(pe.v.mixed, MX_PLAINTEXT);
	assert_int_equal(pe.v.encrypt, ENC_REQUIRE);
}

static void
precedence(void **state)
{
	struct pol_effective pe;

	(void)state;
	load(&site, "site.conf", site_text, 0);
	/* address section: only its own keys; the rest from the domain and
	 * default, field by field */
	pol_resolve(&site.policy, NULL, "Bob@EXAMPLE.org", &pe);
	assert_int_equal(pe.v.mixed, MX_REFUSE);
	assert_int_equal(pe.line[PK_MIXED], 12);
	assert_int_equal(pe.v.encrypt, ENC_REQUIRE);
	assert_int_equal(pe.line[PK_ENCRYPT], 6);
	assert_int_equal(pe.v.no_key, NK_TLS_OPPORTUNISTIC); /* the wildcard does
							       * not cover the
							       * domain itself */
	assert_int_equal(pe.line[PK_NO_KEY], 3);
	assert_int_equal(pe.v.lookup_timeout_ms, 9000);
	assert_string_equal(pe.section[PK_MIXED], "[address bob@example.org]");
	/* the local part in any case: bob is Bob (as gpg and WKD match it) */
	pol_resolve(&site.policy, NULL, "bob@example.org", &pe);
	assert_int_equal(pe.v.mixed, MX_REFUSE);
	pol_resolve(&site.policy, NULL, "bobby@example.org", &pe);
	assert_int_equal(pe.v.mixed, MX_SPLIT);
	/* a subdomain: the wildcard, not the exact domain */
	pol_resolve(&site.policy, NULL, "a@x.example.org", &pe);
	assert_int_equal(pe.v.encrypt, ENC_OPPORTUNISTIC);
	assert_int_equal(pe.v.no_key, NK_REFUSE);
	assert_int_equal(pe.line[PK_NO_KEY], 8);
	/* the longest wildcard wins */
	pol_resolve(&site.policy, NULL, "a@x.deep.example.org", &pe);
	assert_int_equal(pe.v.no_key, NK_TLS_REQUIRED);
	assert_int_equal(pe.line[PK_NO_KEY], 10);
	/* elsewhere: default and built-in */
	pol_resolve(&site.policy, NULL, "a@example.net", &pe);
	assert_int_equal(pe.v.encrypt, ENC_OPPORTUNISTIC);
	assert_int_equal(pe.line[PK_ENCRYPT], 2);
	assert_null(pe.file[PK_KEY_CHANGE]);
	assert_int_equal(pe.v.key_change, KC_REFUSE);
	config_free(&site);
}

static void
user_file(void **state)
{
	struct pol_effective pe;

	(void)state;
	load(&site, "site.conf", site_text, 0);
	load(&user, "user.conf",
	     "[default]\n"
	     "encrypt = require\n"	 /* tighter: taken */
	     "key-change = accept\n"	 /* looser: ignored */
	     "[domain example.org]\n"
	     "encrypt = never\n"	 /* looser than require: ignored */
	     "sources = local\n"	 /* a subset: taken */
	     "[domain example.net]\n"
	     "sources = local dane\n",	 /* adds a source: ignored */
	     1);
	snprintf(user.policy.path, sizeof(user.policy.path), "user.conf");
	pol_resolve(&site.policy, &user.policy, "a@example.net", &pe);
	assert_int_equal(pe.v.encrypt, ENC_REQUIRE);
	assert_string_equal(pe.file[PK_ENCRYPT], "user.conf");
	assert_int_equal(pe.v.key_change, KC_REFUSE);
	assert_int_equal(pe.v.nsources, 2);
	assert_int_equal(pe.v.sources[1], SRC_WKD);
	assert_non_null(strstr(pe.warn, "user.conf:"));
	assert_non_null(strstr(pe.warn, "would loosen the site policy"));
	pol_resolve(&site.policy, &user.policy, "a@example.org", &pe);
	assert_int_equal(pe.v.encrypt, ENC_REQUIRE);
	assert_string_equal(pe.file[PK_ENCRYPT], "site.conf");
	assert_int_equal(pe.v.nsources, 1);
	assert_int_equal(pe.v.sources[0], SRC_LOCAL);
	/* a user file cannot hold transport settings or user-may-loosen */
	config_free(&user);
	config_defaults(&user);
	user.user_file = 1;
	assert_int_equal(config_parse(&user, "u", "[transport]\nmode = sendmail\n", 28, why,
				      sizeof(why)),
			 PS_CONFIG);
	assert_string_equal(why, "u:1: [transport] belongs in the site file, not a user's");
	assert_int_equal(config_parse(&user, "u", "[default]\nuser-may-loosen = yes\n", 32,
				      why, sizeof(why)),
			 PS_CONFIG);
	/* a gateway key sends a recipient's mail to another key than the
	 * recipient's: only the site may name one, never a user's file */
	load(&user, "user.conf",
	     "[default]\ngateway-key = 0123456789ABCDEF0123456789ABCDEF01234567\n", 1);
	pol_resolve(&site.policy, &user.policy, "a@example.net", &pe);
	assert_string_equal(pe.v.gateway_key, "");
	assert_non_null(strstr(pe.warn, "user.conf:2: gateway-key would loosen"));
	/* the site allows loosening */
	load(&site, "site.conf", "[default]\nencrypt = require\nuser-may-loosen = yes\n", 0);
	load(&user, "user.conf", "[default]\nencrypt = never\n", 1);
	pol_resolve(&site.policy, &user.policy, "a@example.net", &pe);
	assert_int_equal(pe.v.encrypt, ENC_NEVER);
	assert_string_equal(pe.warn, "");
	config_free(&site);
	config_free(&user);
}

static void
errors(void **state)
{
	struct ps_config cf;
	struct buf all;

	(void)state;
	config_defaults(&cf);
	buf_init(&all, 4096);
	cf.errors = &all;
	assert_int_equal(config_parse(&cf, "p.conf",
				      "[default]\n"
				      "encrypt = maybe\n"
				      "[domain example.org]\n"
				      "[domain EXAMPLE.org]\n"
				      "require-sources = dane hkp\n"
				      "[address nobody]\n"
				      "mixed = split\n"
				      "mixed = split\n"
				      "gateway-key = 1234\n"
				      "[domain *.*.example]\n"
				      "[domain a.example]\n"
				      "user-may-loosen = yes\n"
				      "bogus = 1\n",
				      strlen("[default]\nencrypt = maybe\n[domain example.org]\n"
					     "[domain EXAMPLE.org]\nrequire-sources = dane hkp\n"
					     "[address nobody]\nmixed = split\nmixed = split\n"
					     "gateway-key = 1234\n[domain *.*.example]\n"
					     "[domain a.example]\nuser-may-loosen = yes\n"
					     "bogus = 1\n"),
				      why, sizeof(why)),
			 PS_CONFIG);
	assert_string_equal(buf_str(&all),
			    "p.conf:2: bad value \"maybe\" for encrypt (never, "
			    "opportunistic, require)\n"
			    "p.conf:4: duplicate section [domain EXAMPLE.org] (first at "
			    "line 3)\n"
			    "p.conf:5: require-sources: hkp cannot satisfy encrypt = "
			    "require (an HKP keyserver publishes any key anyone uploads)\n"
			    "p.conf:6: bad address \"nobody\" in section header: no "
			    "'@domain' in address\n"
			    "p.conf:8: duplicate key \"mixed\" (first at line 7)\n"
			    "p.conf:9: gateway-key must be a 40-digit fingerprint or an "
			    "absolute key file, not \"1234\"\n"
			    "p.conf:10: bad domain \"*.*.example\" in section header\n"
			    "p.conf:12: user-may-loosen belongs in [default]\n"
			    "p.conf:13: unknown key \"bogus\" in a policy section\n");
	buf_free(&all);
	config_free(&cf);
}

/* encrypt for addr under the site file text */
static enum pol_encrypt
encrypt_for(const char *text, const char *addr)
{
	struct pol_effective pe;

	load(&site, "s.conf", text, 0);
	pol_resolve(&site.policy, NULL, addr, &pe);
	snprintf(why, sizeof(why), "%s", pe.section[PK_ENCRYPT]);
	config_free(&site);
	return pe.v.encrypt;
}

/* Sections match on the canonical form of an address: another case,
 * unneeded quotes, U-labels or A-labels, and (with recipient-delimiter)
 * an extension do not escape an [address] or [domain] section. */
static void
canonical_sections(void **state)
{
	static const char ceo[] = "[default]\n"
				  "recipient-delimiter = +\n"
				  "[address ceo@example.com]\n"
				  "encrypt = require\n";
	static const char ceo_nodelim[] = "[address ceo@example.com]\n"
					  "encrypt = require\n";
	static const char *const same[] = {
		"ceo@example.com",	    "CEO@example.com",	       "Ceo@EXAMPLE.COM",
		"\"ceo\"@example.com",    "\"CEO\"@Example.com", "\"c\\eo\"@example.com",
		"ceo+tag@example.com",	    "CEO+Tag@example.com",    "\"ceo+tag\"@example.com",
	};
	static const char ulabel[] = "[domain b\xc3\xbc" "cher.example]\nencrypt = require\n";
	static const char alabel[] = "[domain xn--bcher-kva.example]\nencrypt = require\n";
	static const char wild[] = "[domain *.b\xc3\xbc" "cher.example]\nencrypt = never\n";

	(void)state;
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		if (encrypt_for(ceo, same[i]) != ENC_REQUIRE)
			fail_msg("[address ceo@example.com] does not apply to %s", same[i]);
		assert_string_equal(why, "[address ceo@example.com]");
	}
	/* other mailboxes */
	assert_int_equal(encrypt_for(ceo, "ceo2@example.com"), ENC_OPPORTUNISTIC);
	assert_int_equal(encrypt_for(ceo, "ceo@example.net"), ENC_OPPORTUNISTIC);
	assert_int_equal(encrypt_for(ceo, "ceo-tag@example.com"), ENC_OPPORTUNISTIC);
	assert_int_equal(encrypt_for(ceo, "\"ceo tag\"@example.com"), ENC_OPPORTUNISTIC);
	/* without recipient-delimiter an extension is another mailbox */
	assert_int_equal(encrypt_for(ceo_nodelim, "CEO@example.com"), ENC_REQUIRE);
	assert_int_equal(encrypt_for(ceo_nodelim, "ceo+tag@example.com"), ENC_OPPORTUNISTIC);
	/* the full address is more specific than the one without extension */
	assert_int_equal(encrypt_for("[default]\nrecipient-delimiter = +\n"
				     "[address ceo@example.com]\nencrypt = require\n"
				     "[address ceo+news@example.com]\nencrypt = never\n",
				     "CEO+News@example.com"),
			 ENC_NEVER);
	/* a delimiter set per domain (the recipient's domain decides what an
	 * extension is): the most specific section that sets it */
	assert_int_equal(encrypt_for("[default]\nrecipient-delimiter = +\n"
				     "[domain example.com]\nrecipient-delimiter = -\n"
				     "[address ceo@example.com]\nencrypt = require\n",
				     "ceo-tag@example.com"),
			 ENC_REQUIRE);
	assert_int_equal(encrypt_for("[default]\nrecipient-delimiter = +\n"
				     "[domain example.com]\nrecipient-delimiter = -\n"
				     "[address ceo@example.com]\nencrypt = require\n",
				     "ceo+tag@example.com"),
			 ENC_OPPORTUNISTIC);
	assert_int_equal(encrypt_for("[default]\nrecipient-delimiter = +\n"
				     "[domain example.com]\nrecipient-delimiter = none\n"
				     "[address ceo@example.com]\nencrypt = require\n",
				     "ceo+tag@example.com"),
			 ENC_OPPORTUNISTIC);
	/* U-label and A-label sections both apply to either spelling */
	assert_int_equal(encrypt_for(ulabel, "x@b\xc3\xbc" "cher.example"), ENC_REQUIRE);
	assert_string_equal(why, "[domain xn--bcher-kva.example]");
	assert_int_equal(encrypt_for(ulabel, "x@B\xc3\x9c" "CHER.example"), ENC_REQUIRE);
	assert_int_equal(encrypt_for(ulabel, "x@xn--bcher-kva.example"), ENC_REQUIRE);
	assert_int_equal(encrypt_for(alabel, "x@b\xc3\xbc" "cher.example"), ENC_REQUIRE);
	assert_int_equal(encrypt_for(alabel, "x@XN--BCHER-KVA.EXAMPLE"), ENC_REQUIRE);
	assert_int_equal(encrypt_for(alabel, "x@bucher.example"), ENC_OPPORTUNISTIC);
	assert_int_equal(encrypt_for(wild, "x@mail.b\xc3\xbc" "cher.example"), ENC_NEVER);
	assert_int_equal(encrypt_for(wild, "x@mail.xn--bcher-kva.example"), ENC_NEVER);
	assert_int_equal(encrypt_for("[address J\xc3\xb6rg@b\xc3\xbc" "cher.example]\n"
				     "encrypt = require\n",
				     "j\xc3\xb6rg@XN--BCHER-KVA.example"),
			 ENC_REQUIRE);
}

/* The section names and recipient-delimiter that are refused. */
static void
canonical_errors(void **state)
{
	struct ps_config cf;
	struct buf all;
	static const char text[] =
		"[domain b\xc3\xbc" "cher.example]\n"		  /* 1 */
		"[domain xn--bcher-kva.EXAMPLE]\n"		  /* 2 */
		"[address ceo@example.com]\n"			  /* 3 */
		"recipient-delimiter = +\n"			  /* 4 */
		"[address \"CEO\"@Example.com]\n"		  /* 5 */
		"[domain a.example]\n"				  /* 6 */
		"recipient-delimiter = +@\n"			  /* 7 */
		"[domain b.example]\n"				  /* 8 */
		"recipient-delimiter = a\n"			  /* 9 */
		"[domain \xff.example]\n"			  /* 10 */
		"[domain a..example]\n";			  /* 11 */
	static const char user_text[] = "[default]\nrecipient-delimiter = +\n";

	(void)state;
	config_defaults(&cf);
	buf_init(&all, 4096);
	cf.errors = &all;
	assert_int_equal(config_parse(&cf, "p.conf", text, strlen(text), why, sizeof(why)),
			 PS_CONFIG);
	assert_string_equal(buf_str(&all),
			    "p.conf:2: duplicate section [domain xn--bcher-kva.EXAMPLE] "
			    "(first at line 1)\n"
			    "p.conf:4: recipient-delimiter belongs in [default] or a "
			    "[domain] section\n"
			    "p.conf:5: duplicate section [address \"CEO\"@Example.com] "
			    "(first at line 3)\n"
			    "p.conf:7: recipient-delimiter must be \"none\" or up to 8 of "
			    "the characters +-_=.!#$%&'*/?^`{|}~, not \"+@\"\n"
			    "p.conf:9: recipient-delimiter must be \"none\" or up to 8 of "
			    "the characters +-_=.!#$%&'*/?^`{|}~, not \"a\"\n"
			    "p.conf:10: bad domain \"\xff.example\" in section header: "
			    "not a valid internationalised domain name\n"
			    "p.conf:11: bad domain \"a..example\" in section header\n");
	buf_free(&all);
	config_free(&cf);
	/* a user's file may not set it: it decides which site sections apply */
	config_defaults(&cf);
	cf.user_file = 1;
	assert_int_equal(config_parse(&cf, "u", user_text, strlen(user_text), why, sizeof(why)),
			 PS_CONFIG);
	assert_string_equal(why, "u:2: recipient-delimiter belongs in the site file");
	config_free(&cf);
}

static void
result(struct disc_result *r, enum disc_state st, enum lk_source src)
{
	memset(r, 0, sizeof(*r));
	r->state = st;
	r->src = src;
	snprintf(r->fpr, sizeof(r->fpr), "%s", "F00DF00DF00DF00DF00DF00DF00DF00DF00DF00D");
	snprintf(r->why, sizeof(r->why), "test");
}

static enum pol_outcome
decide(const char *text, const struct disc_result *r)
{
	struct pol_effective pe;
	struct pol_decision d;

	load(&site, "s.conf", text, 0);
	pol_resolve(&site.policy, NULL, "a@example.org", &pe);
	policy_decide(&pe, r, &d);
	snprintf(why, sizeof(why), "%s", d.why);
	config_free(&site);
	return d.out;
}

static void
decisions(void **state)
{
	struct disc_result r;

	(void)state;
	result(&r, DS_KEY, SRC_WKD);
	assert_int_equal(decide("", &r), OUT_ENCRYPT);
	/* require: a key from an accepted source, never HKP, a pin as good
	 * as its origin */
	assert_int_equal(decide("[default]\nencrypt = require\n", &r), OUT_ENCRYPT);
	assert_int_equal(decide("[default]\nencrypt = require\nrequire-sources = dane\n", &r),
			 OUT_REFUSE);
	assert_non_null(strstr(why, "s.conf:3"));
	result(&r, DS_KEY, SRC_HKP);
	assert_int_equal(decide("[default]\nencrypt = require\n", &r), OUT_REFUSE);
	assert_int_equal(decide("[default]\nencrypt = opportunistic\n", &r), OUT_ENCRYPT);
	result(&r, DS_KEY, SRC_PINNED);
	r.pin.src = SRC_HKP;
	assert_int_equal(decide("[default]\nencrypt = require\n", &r), OUT_REFUSE);
	r.pin.src = SRC_DANE;
	assert_int_equal(decide("[default]\nencrypt = require\n", &r), OUT_ENCRYPT);
	/* no key */
	result(&r, DS_NO_KEY, SRC_LOCAL);
	assert_int_equal(decide("", &r), OUT_PLAIN);
	assert_int_equal(decide("[default]\nno-key = tls-required\n", &r), OUT_PLAIN_TLS);
	assert_int_equal(decide("[default]\nno-key = refuse\n", &r), OUT_REFUSE);
	assert_int_equal(decide("[default]\nencrypt = require\n", &r), OUT_REFUSE);
	assert_non_null(strstr(why, "encrypt = require (s.conf:2 [default])"));
	assert_int_equal(decide("[default]\nencrypt = require\ngateway-key = "
				"0123456789abcdef0123456789abcdef01234567\n",
				&r),
			 OUT_GATEWAY);
	/* unknown: tempfail by default, or no-key's rule */
	result(&r, DS_UNKNOWN, SRC_LOCAL);
	assert_int_equal(decide("", &r), OUT_TEMPFAIL);
	assert_int_equal(decide("[default]\nunknown = as-no-key\n", &r), OUT_PLAIN);
	assert_int_equal(decide("[default]\nunknown = as-no-key\nno-key = refuse\n", &r),
			 OUT_REFUSE);
	/* key change refused by discovery */
	result(&r, DS_KEY_CHANGE, SRC_WKD);
	assert_int_equal(decide("", &r), OUT_REFUSE);
	/* never: nothing looked up */
	assert_int_equal(decide("[default]\nencrypt = never\n", NULL), OUT_PLAIN);
}

/* three recipients: 0 with a key, 1 and 2 without */
static void
list(void **state)
{
	struct pol_effective pe[3];
	struct pol_decision d[3];
	static const char *const addrs[] = {"a@example.org", "b@example.net",
					    "c@example.com"};

	(void)state;
	load(&site, "s.conf",
	     "[domain example.net]\nmixed = refuse-keyless\n"
	     "[domain example.com]\nmixed = split\n",
	     0);
	for (int i = 0; i < 3; i++) {
		pol_resolve(&site.policy, NULL, addrs[i], &pe[i]);
		memset(&d[i], 0, sizeof(d[i]));
		d[i].out = i == 0 ? OUT_ENCRYPT : OUT_PLAIN;
	}
	policy_decide_list(pe, d, 3);
	assert_int_equal(d[0].out, OUT_ENCRYPT);
	assert_int_equal(d[1].out, OUT_REFUSE_ONE);
	assert_non_null(strstr(d[1].why, "mixed = refuse-keyless (s.conf:2 [domain example.net])"));
	assert_int_equal(d[2].out, OUT_PLAIN);
	/* nobody with a key: mixed does not apply */
	d[0].out = OUT_PLAIN;
	d[1].out = OUT_PLAIN;
	policy_decide_list(pe, d, 3);
	assert_int_equal(d[1].out, OUT_PLAIN);
	config_free(&site);

	/* plaintext: everybody, except a recipient under require */
	load(&site, "s.conf",
	     "[default]\nmixed = plaintext\n[domain example.com]\nencrypt = require\n", 0);
	for (int i = 0; i < 3; i++) {
		pol_resolve(&site.policy, NULL, addrs[i], &pe[i]);
		d[i].out = i == 1 ? OUT_PLAIN : OUT_ENCRYPT;
	}
	policy_decide_list(pe, d, 3);
	assert_int_equal(d[0].out, OUT_PLAIN);
	assert_int_equal(d[1].out, OUT_PLAIN);
	assert_int_equal(d[2].out, OUT_ENCRYPT);
	/* refuse: the whole submission */
	config_free(&site);
	load(&site, "s.conf", "[default]\nmixed = refuse\n", 0);
	for (int i = 0; i < 3; i++) {
		pol_resolve(&site.policy, NULL, addrs[i], &pe[i]);
		d[i].out = i == 1 ? OUT_PLAIN : OUT_ENCRYPT;
	}
	policy_decide_list(pe, d, 3);
	assert_int_equal(d[1].out, OUT_REFUSE);
	config_free(&site);
}

static void
transport(void **state)
{
	struct pol_decision d = {.out = OUT_PLAIN_TLS};

	(void)state;
	snprintf(d.why, sizeof(d.why), "no key");
	policy_apply_transport(&d, 1);
	assert_int_equal(d.out, OUT_PLAIN_TLS);
	policy_apply_transport(&d, 0);
	assert_int_equal(d.out, OUT_REFUSE);
	assert_non_null(strstr(d.why, "cannot enforce verified TLS (that needs [transport] mode = smtp"));
	d.out = OUT_PLAIN;
	policy_apply_transport(&d, 0);
	assert_int_equal(d.out, OUT_PLAIN);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(address_beats_domain),
		cmocka_unit_test(precedence), cmocka_unit_test(user_file),
		cmocka_unit_test(errors),     cmocka_unit_test(decisions),
		cmocka_unit_test(transport), cmocka_unit_test(list),
		cmocka_unit_test(canonical_sections), cmocka_unit_test(canonical_errors),
	};

	return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
