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
	assert_string_equal(pe.section[PK_MIXED], "[address Bob@example.org]");
	/* the local part is exact: bob is not Bob */
	pol_resolve(&site.policy, NULL, "bob@example.org", &pe);
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
		cmocka_unit_test(precedence), cmocka_unit_test(user_file),
		cmocka_unit_test(errors),     cmocka_unit_test(decisions),
		cmocka_unit_test(transport), cmocka_unit_test(list),
	};

	return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
