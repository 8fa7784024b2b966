/* PGP/MIME composition: the header protection structure of RFC 9788 and
 * RFC 3156's outer layout. Expected strings are written from the RFCs,
 * not from the code's output. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "compose.h"
#include "harness.h"

static struct header h;

static void
load(const char *raw)
{
	th_header_load(&h, raw);
}

static const char *msg =
	"From: Alice <alice@example.org>\n"
	"To: Bob <bob@example.net>\n"
	"Cc: carol@example.com\n"
	"Bcc: dave@example.org\n"
	"Subject: The Jones contract\n"
	"Keywords: secret\n"
	"Date: Wed, 11 Jan 2023 16:08:43 -0500\n"
	"Message-ID: <20230111T210843Z.1234@lhp.example>\n"
	"MIME-Version: 1.0\n"
	"Content-Type: multipart/mixed;\n"
	" boundary=\"xyz\"\n"
	"Content-Transfer-Encoding: 7bit\n"
	"X-Mailer: test\n";

/* The header section ends at the first empty line. */
static char *
header_part(const char *s, const char *eol)
{
	char sep[8];
	char *end;

	snprintf(sep, sizeof(sep), "%s%s", eol, eol);
	end = strstr(s, sep);
	assert_non_null(end);
	return strndup(s, (size_t)(end - s) + strlen(eol));
}

static void
inner_header(void **state)
{
	struct buf b;
	const char *s;

	(void)state;
	load(msg);
	buf_init(&b, 1 << 20);
	assert_int_equal(compose_inner_header(&h, 1, &b), 0);
	s = buf_str(&b);
	/* canonical CRLF only, and nothing ever CR CR LF */
	assert_null(strstr(s, "\r\r\n"));
	assert_int_equal(th_count(s, "\n"), th_count(s, "\r\n"));
	/* the body's Content-Type, with its parameters kept, plus both
	 * markers: RFC 9788 hp="cipher" and the legacy v1 */
	assert_true(strncmp(s, "Content-Type: multipart/mixed;\r\n boundary=\"xyz\"",
			    47) == 0);
	assert_non_null(strstr(s, "hp=\"cipher\""));
	assert_non_null(strstr(s, "protected-headers=\"v1\""));
	assert_non_null(strstr(s, "\r\nContent-Transfer-Encoding: 7bit\r\n"));
	/* the real header fields, protected inside */
	assert_non_null(strstr(s, "\r\nSubject: The Jones contract\r\n"));
	assert_non_null(strstr(s, "\r\nFrom: Alice <alice@example.org>\r\n"));
	assert_non_null(strstr(s, "\r\nTo: Bob <bob@example.net>\r\n"));
	assert_non_null(strstr(s, "\r\nKeywords: secret\r\n"));
	assert_non_null(strstr(s, "\r\nX-Mailer: test\r\n"));
	/* Bcc never leaves, not even encrypted to the visible recipients */
	assert_null(strstr(s, "Bcc"));
	assert_null(strstr(s, "dave@example.org"));
	/* MIME-Version is structural: the outer message has it */
	assert_null(strstr(s, "MIME-Version"));
	/* HP-Outer records what the outside shows (RFC 9788 section 2.2) */
	assert_non_null(strstr(s, "\r\nHP-Outer: Subject: [...]\r\n"));
	assert_non_null(strstr(s, "\r\nHP-Outer: From: Alice <alice@example.org>\r\n"));
	assert_non_null(strstr(s, "\r\nHP-Outer: To: Bob <bob@example.net>\r\n"));
	assert_non_null(strstr(s, "\r\nHP-Outer: Message-ID: <20230111T210843Z.1234@lhp.example>\r\n"));
	/* Keywords are removed outside (hcp_baseline), so no HP-Outer */
	assert_null(strstr(s, "HP-Outer: Keywords"));
	assert_null(strstr(s, "HP-Outer: Content"));
	/* ends with the empty line that separates it from the body */
	assert_int_equal(strcmp(s + b.len - 4, "\r\n\r\n"), 0);
	assert_int_equal(th_count(s, "\r\n\r\n"), 1);
	buf_free(&b);
}

static void
outer_header(void **state)
{
	struct buf b;
	const char *s;
	char *hdr;

	(void)state;
	load(msg);
	buf_init(&b, 1 << 20);
	assert_int_equal(compose_outer_header(&h, 1, "BOUND", &b), 0);
	s = buf_str(&b);
	hdr = header_part(s, "\n");
	/* routing fields stay outside, unchanged */
	assert_non_null(strstr(hdr, "From: Alice <alice@example.org>\n"));
	assert_non_null(strstr(hdr, "To: Bob <bob@example.net>\n"));
	assert_non_null(strstr(hdr, "Cc: carol@example.com\n"));
	assert_non_null(strstr(hdr, "Date: Wed, 11 Jan 2023 16:08:43 -0500\n"));
	assert_non_null(strstr(hdr, "Message-ID: <20230111T210843Z.1234@lhp.example>\n"));
	/* the subject is obscured */
	assert_non_null(strstr(hdr, "Subject: [...]\n"));
	assert_null(strstr(s, "Jones"));
	assert_null(strstr(s, "secret"));
	assert_null(strstr(s, "Bcc"));
	assert_null(strstr(s, "dave@"));
	/* exactly one Content-Type outside: the RFC 3156 one */
	assert_int_equal(th_count(hdr, "Content-Type:"), 1);
	assert_int_equal(th_count(hdr, "MIME-Version: 1.0\n"), 1);
	assert_non_null(strstr(hdr, "Content-Type: multipart/encrypted;"));
	assert_non_null(strstr(hdr, "protocol=\"application/pgp-encrypted\""));
	assert_non_null(strstr(hdr, "boundary=\"BOUND\""));
	assert_null(strstr(hdr, "Content-Transfer-Encoding"));
	/* RFC 3156 section 4: first part application/pgp-encrypted with
	 * "Version: 1", second part application/octet-stream */
	{
		const char *p1 = strstr(s, "\n--BOUND\nContent-Type: application/pgp-encrypted\n");
		const char *v1, *p2;

		assert_non_null(p1);
		v1 = strstr(p1, "\n\nVersion: 1\n");
		assert_non_null(v1);
		p2 = strstr(v1, "\n--BOUND\nContent-Type: application/octet-stream");
		assert_non_null(p2);
	}
	/* LF only: this goes to the local sendmail */
	assert_null(strstr(s, "\r"));
	free(hdr);
	buf_free(&b);
}

static void
subject_kept_when_asked(void **state)
{
	struct buf b;

	(void)state;
	load(msg);
	buf_init(&b, 1 << 20);
	assert_int_equal(compose_outer_header(&h, 0, "B", &b), 0);
	assert_non_null(strstr(buf_str(&b), "Subject: The Jones contract\n"));
	buf_free(&b);
}

static void
no_content_type(void **state)
{
	struct buf b;

	(void)state;
	/* RFC 2045 default: text/plain; charset=us-ascii */
	load("From: a@example.org\r\nTo: b@example.org\r\nSubject: s\r\n");
	buf_init(&b, 1 << 20);
	assert_int_equal(compose_inner_header(&h, 1, &b), 0);
	assert_true(strncmp(buf_str(&b), "Content-Type: text/plain; charset=us-ascii;",
			    43) == 0);
	assert_null(strstr(buf_str(&b), "\r\r\n"));
	buf_free(&b);
}

/* Issue #14, found by t_differential against Postfix's sendmail: what
 * the MTA drops or rewrites as it takes a message is not written into
 * the protected header either, where no MTA sees it. */
static void
inner_as_the_mta_passes_it(void **state)
{
	struct buf b;
	const char *s;

	(void)state;
	load("Return-Path: <bounce@example.com>\n"
	     "Content-Length: 2\n"
	     "Subject :spaced\n"
	     "X-Stray: a\rb\n"
	     "To: b@example.org\n");
	buf_init(&b, 1 << 20);
	assert_int_equal(compose_inner_header(&h, 1, &b), 0);
	s = buf_str(&b);
	/* RFC 5321 4.4: only final delivery writes Return-Path; Postfix's
	 * cleanup drops it, and Content-Length */
	assert_null(strstr(s, "Return-Path"));
	assert_null(strstr(s, "bounce@"));
	assert_null(strstr(s, "Content-Length"));
	/* RFC 5322 4.5: "Name :" is obsolete, accepted, never generated */
	assert_non_null(strstr(s, "\r\nSubject:spaced\r\n"));
	assert_non_null(strstr(s, "\r\nHP-Outer: Subject: [...]\r\n"));
	/* RFC 2045 2.10: a CR only before LF; Postfix makes a lone one a
	 * space in what it passes on */
	assert_non_null(strstr(s, "\r\nX-Stray: a b\r\n"));
	assert_non_null(strstr(s, "\r\nHP-Outer: X-Stray: a b\r\n"));
	assert_int_equal(th_count(s, "\r"), th_count(s, "\r\n"));
	buf_free(&b);
	/* outside too: the MTA would drop them (the lone CR is its to fix) */
	buf_init(&b, 1 << 20);
	assert_int_equal(compose_outer_header(&h, 1, "B", &b), 0);
	s = buf_str(&b);
	assert_null(strstr(s, "Return-Path"));
	assert_null(strstr(s, "Content-Length"));
	assert_non_null(strstr(s, "\nX-Stray: a\rb\n"));
	buf_free(&b);
}

/* RFC 5322 3.6.6 resent blocks; the fields Postfix's cleanup counts
 * (header_opts.c, HDR_OPT_RR) decide which Date and Message-ID a
 * submission adds when missing. */
static void
resent_detection(void **state)
{
	(void)state;
	load("From: a@example.org\nTo: b@example.org\nSubject: s\n");
	assert_false(header_is_resent(&h));
	load("From: a@example.org\nresent-from: c@example.org\n");
	assert_true(header_is_resent(&h));
	load("Subject: s\nResent-Message-ID: <x@example.org>\n");
	assert_true(header_is_resent(&h));
	load("Subject: s\nResent-Reply-To: c@example.org\n");
	assert_true(header_is_resent(&h));
	/* not a resent field */
	load("Subject: s\nResent-Subject: x\nX-Resent-To: c@example.org\n");
	assert_false(header_is_resent(&h));
}

static void
pgp_mime_detection(void **state)
{
	(void)state;
	load("Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\";\n"
	     " boundary=\"x\"\n");
	assert_true(compose_is_pgp_mime(&h));
	load("Content-Type: Multipart/Encrypted; boundary=x;\n"
	     " protocol=application/PGP-encrypted\n");
	assert_true(compose_is_pgp_mime(&h));
	/* S/MIME or another protocol is not ours to pass through */
	load("Content-Type: multipart/encrypted; protocol=\"application/x-other\"; boundary=x\n");
	assert_false(compose_is_pgp_mime(&h));
	load("Content-Type: multipart/mixed; boundary=x\n");
	assert_false(compose_is_pgp_mime(&h));
	load("Subject: none\n");
	assert_false(compose_is_pgp_mime(&h));
}

static void
bad_content_type(void **state)
{
	struct buf b;

	(void)state;
	/* accepted as Postfix's sendmail accepts it (issue #14): never
	 * taken for PGP/MIME, and kept as written inside, with the markers */
	load("Content-Type: multipart/encrypted; ;;protocol=\"application/pgp-encrypted\"\n");
	assert_false(compose_is_pgp_mime(&h));
	load("Content-Type: text/plain; charset=\"utf-8\n");
	assert_false(compose_is_pgp_mime(&h));
	buf_init(&b, 1 << 20);
	assert_int_equal(compose_inner_header(&h, 1, &b), 0);
	assert_true(strncmp(buf_str(&b), "Content-Type: text/plain; charset=\"utf-8;\r\n protected-headers=\"v1\"",
			    62) == 0);
	buf_free(&b);
}

static int
teardown(void **state)
{
	(void)state;
	header_free(&h);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(inner_header, teardown),
		cmocka_unit_test_teardown(outer_header, teardown),
		cmocka_unit_test_teardown(subject_kept_when_asked, teardown),
		cmocka_unit_test_teardown(no_content_type, teardown),
		cmocka_unit_test_teardown(inner_as_the_mta_passes_it, teardown),
		cmocka_unit_test_teardown(resent_detection, teardown),
		cmocka_unit_test_teardown(pgp_mime_detection, teardown),
		cmocka_unit_test_teardown(bad_content_type, teardown),
	};

	header_init(&h);
	return cmocka_run_group_tests_name("compose", tests, NULL, NULL);
}
