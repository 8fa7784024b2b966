/* Envelope recipients: argv, -t (plus argv, as Postfix), Bcc, Resent-,
 * and the partition into copies. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "envelope.h"
#include "header.h"
#include "harness.h"
#include "plan.h"

static struct header h;
static struct rcptlist rl;
static struct undecidedlist und;
static int use_und; /* build() collects undecided recipients in und */
static char why[256];

static void
load(const char *raw)
{
	th_header_load(&h, raw);
}

static enum ps_status
build(int extract, int nr, char **rcpts)
{
	struct cli c;

	memset(&c, 0, sizeof(c));
	c.extract = extract;
	c.rcpts = rcpts;
	c.nrcpts = nr;
	rcptlist_free(&rl);
	undecided_free(&und);
	why[0] = '\0';
	return envelope_build(&c, &h, &rl, use_und ? &und : NULL, why, sizeof(why));
}

static int
has(const char *addr, int visible)
{
	long i = rcptlist_find(&rl, addr);

	return i >= 0 && rl.v[i].visible == visible;
}

static int
teardown(void **state)
{
	(void)state;
	header_free(&h);
	rcptlist_free(&rl);
	undecided_free(&und);
	use_und = 0;
	return 0;
}

static const char *hdr =
	"From: Me <me@example.org>\n"
	"To: Alice <alice@example.org>, bob@example.net\n"
	"Cc: carol@example.com\n"
	"Bcc: dave@example.org, Erin <erin@example.net>\n"
	"Subject: hi\n";

static void
argv_only(void **state)
{
	char *r[] = {"alice@example.org", "frank@example.org"};

	(void)state;
	load(hdr);
	assert_int_equal(build(0, 2, r), PS_OK);
	assert_int_equal(rl.n, 2);
	assert_true(has("alice@example.org", 1));
	/* named only on the command line: blind */
	assert_true(has("frank@example.org", 0));
	/* without -t the header's Bcc is not a recipient */
	assert_int_equal(rcptlist_find(&rl, "dave@example.org"), -1);
}

static void
extract_from_header(void **state)
{
	(void)state;
	load(hdr);
	assert_int_equal(build(1, 0, NULL), PS_OK);
	assert_int_equal(rl.n, 5);
	assert_true(has("alice@example.org", 1));
	assert_true(has("bob@example.net", 1));
	assert_true(has("carol@example.com", 1));
	assert_true(has("dave@example.org", 0));
	assert_true(has("erin@example.net", 0));
}

/* Postfix: with -t, command-line recipients are added to the header's */
static void
extract_plus_argv(void **state)
{
	char *r[] = {"frank@example.org", "ALICE@example.org"};

	(void)state;
	load(hdr);
	assert_int_equal(build(1, 2, r), PS_OK);
	assert_int_equal(rl.n, 7);
	assert_true(has("frank@example.org", 0));
	/* a different local part case is another mailbox */
	assert_true(has("ALICE@example.org", 0));
	assert_true(has("alice@example.org", 1));
}

static void
dedupe_domain_case(void **state)
{
	char *r[] = {"bob@EXAMPLE.NET", "bob@example.net"};

	(void)state;
	load(hdr);
	assert_int_equal(build(1, 2, r), PS_OK);
	assert_int_equal(rl.n, 5);
	assert_true(has("bob@example.net", 1));
}

static void
resent_fields_win(void **state)
{
	(void)state;
	load("From: me@example.org\n"
	     "To: alice@example.org\n"
	     "Resent-From: fwd@example.org\n"
	     "Resent-To: grace@example.org\n"
	     "Resent-Bcc: heidi@example.org\n");
	assert_int_equal(build(1, 0, NULL), PS_OK);
	assert_int_equal(rl.n, 2);
	assert_true(has("grace@example.org", 1));
	assert_true(has("heidi@example.org", 0));
}

static void
argv_forms(void **state)
{
	char *r[] = {"<alice@example.org>", "Bob <bob@example.net>, carol@example.com",
		     "root"};

	(void)state;
	load("Subject: x\n");
	assert_int_equal(build(0, 3, r), PS_OK);
	assert_int_equal(rl.n, 4);
	assert_true(has("alice@example.org", 0));
	assert_true(has("bob@example.net", 0));
	assert_true(has("carol@example.com", 0));
	assert_true(has("root", 0));
}

static void
bad_addresses(void **state)
{
	char *r1[] = {"alice@exa mple.org"};
	char *r2[] = {"-oQ/tmp/evil@x"};
	char *r3[] = {"alice@example.org;reboot"};

	(void)state;
	load("Subject: x\n");
	assert_int_equal(build(0, 1, r1), PS_DATAERR);
	assert_non_null(strstr(why, "bad recipient address"));
	assert_int_equal(build(0, 1, r2), PS_DATAERR);
	assert_int_equal(build(0, 1, r3), PS_DATAERR);

	load("To: alice@example.org, <<broken\n");
	assert_int_equal(build(1, 0, NULL), PS_DATAERR);
	assert_non_null(strstr(why, "To:"));

	load("To: alice@example.org\nCc: undisclosed-recipients:;\n");
	assert_int_equal(build(1, 0, NULL), PS_OK);
	assert_int_equal(rl.n, 1);
}

static void
header_checks(void **state)
{
	(void)state;
	use_und = 1;
	load("From: root (Cron Daemon)\nTo: root\nSubject: Cron <root@h> ls\n");
	assert_int_equal(build(1, 0, NULL), PS_OK);
	assert_int_equal(und.n, 0);
	load("From: alice@example.org (Alice (the (nested) one))\n"
	     "To: bob@example.org (Bob), carol@example.org\n");
	assert_int_equal(build(1, 0, NULL), PS_OK);
	assert_int_equal(rl.n, 2);
	assert_int_equal(und.n, 0);
	/* a From that does not parse is passed on as it is (Postfix does) */
	load("From: alice@example.org (unterminated comment\nTo: a@example.org\n");
	assert_int_equal(build(1, 0, NULL), PS_OK);
	assert_int_equal(und.n, 0);
	load("From: \"broken <x@y\nTo: a@example.org\n");
	assert_int_equal(build(1, 0, NULL), PS_OK);
	assert_int_equal(und.n, 0);
	assert_true(has("a@example.org", 1));
}

/* Recipients no policy can be decided for are set apart, with what they
 * were and why, and the others go on: none of an undecided argument's
 * or field's addresses is a recipient, not even those that parsed. */
static void
undecided(void **state)
{
	char *args[] = {"alice@example.org", "bad user@example.org",
			"-oQ/tmp/evil@example.org", "carol@example.com, <<x",
			"ev\033[2Jil\nBcc: x@example.org"};

	(void)state;
	use_und = 1;
	load("Subject: x\n");
	assert_int_equal(build(0, 5, args), PS_OK);
	assert_int_equal(rl.n, 1);
	assert_true(has("alice@example.org", 0));
	assert_false(has("carol@example.com", 0));
	assert_int_equal(und.n, 4);
	assert_string_equal(und.v[0].what, "bad user@example.org");
	assert_non_null(strstr(und.v[0].why, "bad recipient address"));
	assert_string_equal(und.v[1].what, "-oQ/tmp/evil@example.org");
	assert_string_equal(und.v[2].what, "carol@example.com, <<x");
	/* no control character or line break survives into a notice */
	assert_string_equal(und.v[3].what, "ev?[2Jil?Bcc: x@example.org");
	for (const char *p = und.v[3].why; *p; p++)
		assert_true(*p >= 0x20 && *p < 0x7F);

	/* -t: a To field that does not parse gives no recipient, Cc does */
	load("To: alice@example.org, <<broken\nCc: carol@example.com\n"
	     "Bcc: dave@example.org\n");
	assert_int_equal(build(1, 0, NULL), PS_OK);
	assert_int_equal(rl.n, 2);
	assert_true(has("carol@example.com", 1));
	assert_true(has("dave@example.org", 0));
	assert_false(has("alice@example.org", 1));
	assert_false(has("alice@example.org", 0));
	assert_int_equal(und.n, 1);
	assert_string_equal(und.v[0].what, "To: alice@example.org, <<broken");

	/* Postfix would send this to "alice@example.org"@evil.example */
	load("To: alice@example.org@evil.example\n");
	assert_int_equal(build(1, 0, NULL), PS_OK);
	assert_int_equal(rl.n, 0);
	assert_int_equal(und.n, 1);
}

/* the address-list parser: addresses handed on as written, never another
 * one (RFC 5322 3.4, obsolete forms of 4.4) */
static char got[8][300];
static int ngot;

static int
collect(const char *addr, void *ctx)
{
	(void)ctx;
	if (ngot < 8)
		snprintf(got[ngot++], sizeof(got[0]), "%s", addr);
	return 0;
}

static enum ps_status
parse(const char *v)
{
	ngot = 0;
	return address_list_parse(v, strlen(v), ADDR_LOCAL_OK, collect, NULL, why, sizeof(why));
}

static void
address_lists(void **state)
{
	(void)state;
	/* a quoted local part keeps its quotes and spaces */
	assert_int_equal(parse("\"carol smith\"@example.com"), PS_OK);
	assert_int_equal(ngot, 1);
	assert_string_equal(got[0], "\"carol smith\"@example.com");
	assert_int_equal(parse("Carol <\"carol smith\"@example.com>"), PS_OK);
	assert_string_equal(got[0], "\"carol smith\"@example.com");
	assert_int_equal(parse("\"a,b\"@example.com, \"e;f:g<h>\"@example.com"), PS_OK);
	assert_int_equal(ngot, 2);
	assert_string_equal(got[1], "\"e;f:g<h>\"@example.com");
	/* what is no address is an error, never some other address */
	assert_int_equal(parse("Carol <car ol@exa mple.com>"), PS_DATAERR);
	assert_int_equal(parse("<carol@example.com x>"), PS_DATAERR);
	assert_int_equal(parse("carol@exa mple.com"), PS_DATAERR);
	assert_int_equal(parse("a.@example.com"), PS_DATAERR);
	assert_int_equal(parse("(open comment a@example.com"), PS_DATAERR);
	/* comments, folding, groups, obs-route, a bare local part */
	assert_int_equal(parse("Alice (the (nested) one)\n <alice@example.org>, root (Cron Daemon)"),
			 PS_OK);
	assert_int_equal(ngot, 2);
	assert_string_equal(got[0], "alice@example.org");
	assert_string_equal(got[1], "root");
	assert_int_equal(parse("team: a@example.org, B <b@example.org>;, undisclosed-recipients:;"),
			 PS_OK);
	assert_int_equal(ngot, 2);
	assert_string_equal(got[1], "b@example.org");
	assert_int_equal(parse("<@relay.example,@r2.example:c@example.com>"), PS_OK);
	assert_string_equal(got[0], "c@example.com");
	assert_int_equal(parse("John Q. Public <jqp@example.org>,,"), PS_OK);
	assert_int_equal(ngot, 1);
	assert_string_equal(got[0], "jqp@example.org");
	/* an address written where a display name belongs: the angle-addr
	 * is the address (as Postfix reads it) */
	assert_int_equal(parse("=?UTF-8?Q?alice@example.org=2C?= <carol@example.com>"), PS_OK);
	assert_int_equal(ngot, 1);
	assert_string_equal(got[0], "carol@example.com");
	assert_int_equal(parse(""), PS_OK);
	assert_int_equal(ngot, 0);
}

/* Comments nest without a limit (RFC 5322 3.2.2), and Postfix reads 200
 * deep: the nesting is a count, not a recursion (t_differential, case
 * corpus/addr-comment-deep). An unclosed one is still an error. */
static void
deep_comments(void **state)
{
	char v[1024];
	size_t n = 0;

	(void)state;
	n += (size_t)snprintf(v, sizeof(v), "carol@example.com ");
	for (int i = 0; i < 200; i++)
		v[n++] = '(';
	v[n++] = 'x';
	for (int i = 0; i < 200; i++)
		v[n++] = ')';
	v[n] = '\0';
	assert_int_equal(parse(v), PS_OK);
	assert_int_equal(ngot, 1);
	assert_string_equal(got[0], "carol@example.com");
	v[n - 1] = '\0';
	assert_int_equal(parse(v), PS_DATAERR);
}

static void
sender(void **state)
{
	char out[300];

	(void)state;
	assert_int_equal(envelope_sender("<>", out, sizeof(out), why, sizeof(why)),
			 PS_OK);
	assert_string_equal(out, "");
	assert_int_equal(envelope_sender("<me@example.org>", out, sizeof(out),
					 why, sizeof(why)),
			 PS_OK);
	assert_string_equal(out, "me@example.org");
	assert_int_equal(envelope_sender("me@exa mple.org", out, sizeof(out),
					 why, sizeof(why)),
			 PS_DATAERR);
	/* Postfix's sendmail reads -f as an address header: its first
	 * address (corpus: cli-f-display) */
	assert_int_equal(envelope_sender("Me Myself <me@example.org>", out, sizeof(out), why,
					 sizeof(why)),
			 PS_OK);
	assert_string_equal(out, "me@example.org");
	assert_int_equal(envelope_sender("\"Me, really\" <me@example.org>, x@example.org", out,
					 sizeof(out), why, sizeof(why)),
			 PS_OK);
	assert_string_equal(out, "me@example.org");
	assert_int_equal(envelope_sender("Me <-oQ/tmp/x@example.org>", out, sizeof(out), why,
					 sizeof(why)),
			 PS_DATAERR);
	assert_int_equal(envelope_sender("Me <me@@example.org>", out, sizeof(out), why,
					 sizeof(why)),
			 PS_DATAERR);
}

static void
too_many(void **state)
{
	struct rcptlist l = {0};
	char a[64];

	(void)state;
	for (int i = 0; i < PS_RCPT_MAX; i++) {
		snprintf(a, sizeof(a), "u%d@example.org", i);
		assert_int_equal(rcptlist_add(&l, a, 0), 0);
	}
	assert_int_equal(rcptlist_add(&l, "one-more@example.org", 0), -1);
	rcptlist_free(&l);
}

/* The partition: visible keyed recipients share a copy, each blind keyed
 * recipient gets its own, keyless ones share the plaintext copy. */
static void
plan_partition(void **state)
{
	struct plan p = {0};

	(void)state;
	load(hdr);
	assert_int_equal(build(1, 0, NULL), PS_OK);
	/* keys for alice, carol (visible) and dave, erin (blind) */
	snprintf(rl.v[rcptlist_find(&rl, "alice@example.org")].fpr, 41, "%s", "AAAA");
	snprintf(rl.v[rcptlist_find(&rl, "carol@example.com")].fpr, 41, "%s", "AAAA");
	snprintf(rl.v[rcptlist_find(&rl, "dave@example.org")].fpr, 41, "%s", "AAAA");
	snprintf(rl.v[rcptlist_find(&rl, "erin@example.net")].fpr, 41, "%s", "AAAA");
	assert_int_equal(plan_build(&rl, 0, &p), PS_OK);
	assert_int_equal(p.n, 4);
	assert_int_equal(p.v[0].kind, COPY_ENCRYPTED);
	assert_int_equal(p.v[0].n, 2);
	assert_string_equal(rl.v[p.v[0].rcpt[0]].addr, "alice@example.org");
	assert_string_equal(rl.v[p.v[0].rcpt[1]].addr, "carol@example.com");
	assert_int_equal(p.v[1].kind, COPY_ENCRYPTED);
	assert_int_equal(p.v[1].n, 1);
	assert_string_equal(rl.v[p.v[1].rcpt[0]].addr, "dave@example.org");
	assert_int_equal(p.v[2].n, 1);
	assert_string_equal(rl.v[p.v[2].rcpt[0]].addr, "erin@example.net");
	assert_int_equal(p.v[3].kind, COPY_PLAIN);
	assert_int_equal(p.v[3].n, 1);
	assert_string_equal(rl.v[p.v[3].rcpt[0]].addr, "bob@example.net");
	plan_free(&p);

	/* already encrypted input: one copy for everybody */
	assert_int_equal(plan_build(&rl, 1, &p), PS_OK);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.v[0].kind, COPY_PASSTHROUGH);
	assert_int_equal(p.v[0].n, 5);
	plan_free(&p);
	for (size_t i = 0; i < rl.n; i++)
		rl.v[i].fpr[0] = '\0';
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(argv_only, teardown),
		cmocka_unit_test_teardown(extract_from_header, teardown),
		cmocka_unit_test_teardown(extract_plus_argv, teardown),
		cmocka_unit_test_teardown(dedupe_domain_case, teardown),
		cmocka_unit_test_teardown(resent_fields_win, teardown),
		cmocka_unit_test_teardown(argv_forms, teardown),
		cmocka_unit_test_teardown(bad_addresses, teardown),
		cmocka_unit_test_teardown(header_checks, teardown),
		cmocka_unit_test_teardown(undecided, teardown),
		cmocka_unit_test_teardown(sender, teardown),
		cmocka_unit_test(address_lists),
		cmocka_unit_test(deep_comments),
		cmocka_unit_test(too_many),
		cmocka_unit_test_teardown(plan_partition, teardown),
	};

	header_init(&h);
	return cmocka_run_group_tests_name("envelope", tests, NULL, NULL);
}
