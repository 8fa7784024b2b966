/* Intake from stdin into the spool, and line-ending conversion. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eolconv.h"
#include "harness.h"
#include "intake.h"
#include "pslimits.h"

static struct message m;
static char why[256];

static enum ps_status
take(const char *in, size_t len, int ignore_dots)
{
	int fd = th_fd_with(in, len);
	enum ps_status st;

	message_free(&m);
	message_init(&m);
	why[0] = '\0';
	st = intake_read(fd, ignore_dots, "/tmp", &m, why, sizeof(why));
	close(fd);
	return st;
}

#define TAKE(s, dots) take((s), sizeof(s) - 1, (dots))

static char *
body(void)
{
	return th_slurp(m.body_fd, NULL);
}

static void
lf_and_crlf_kept(void **state)
{
	char *b;

	(void)state;
	assert_int_equal(TAKE("Subject: a\nTo: x@example.org\n\nline1\nline2\n", 1),
			 PS_OK);
	assert_int_equal(m.hdr.n, 2);
	assert_string_equal(b = body(), "line1\nline2\n");
	free(b);

	assert_int_equal(TAKE("Subject: a\r\nTo: x@example.org\r\n\r\nl1\r\nl2\r\n", 1),
			 PS_OK);
	assert_int_equal(m.hdr.n, 2);
	assert_string_equal(b = body(), "l1\r\nl2\r\n");
	free(b);
}

static void
folded_fields(void **state)
{
	size_t vlen;
	const char *v;

	(void)state;
	assert_int_equal(TAKE("To: a@example.org,\n\tb@example.org\nSubject: s\n\nx\n", 1),
			 PS_OK);
	assert_int_equal(m.hdr.n, 2);
	v = header_value(&m.hdr, 0, &vlen);
	assert_int_equal(vlen, strlen(" a@example.org,\n\tb@example.org"));
	assert_memory_equal(v, " a@example.org,\n\tb@example.org", vlen);
}

static void
dot_ends_message(void **state)
{
	char *b;

	(void)state;
	/* without -i a lone "." ends the input; ".." and ".x" do not */
	assert_int_equal(TAKE("Subject: a\n\none\n..\n.x\n.\nafter\n", 0), PS_OK);
	assert_string_equal(b = body(), "one\n..\n.x\n");
	free(b);
	assert_int_equal(TAKE("Subject: a\r\n\r\none\r\n.\r\nafter\r\n", 0), PS_OK);
	assert_string_equal(b = body(), "one\r\n");
	free(b);
	/* with -i the dot is data */
	assert_int_equal(TAKE("Subject: a\n\none\n.\nafter\n", 1), PS_OK);
	assert_string_equal(b = body(), "one\n.\nafter\n");
	free(b);
	/* a dot line inside the header ends the message too */
	assert_int_equal(TAKE("Subject: a\n.\nTo: b@example.org\n", 0), PS_OK);
	assert_int_equal(m.hdr.n, 1);
	assert_int_equal(m.body_len, 0);
	/* a final "." without a line ending is data */
	assert_int_equal(TAKE("Subject: a\n\nx\n.", 0), PS_OK);
	assert_string_equal(b = body(), "x\n.");
	free(b);
}

/* A "." line split across read() chunks is still found. */
static void
dot_across_chunks(void **state)
{
	size_t n = PS_IO_CHUNK * 2 + 10;
	char *in = malloc(n + 64), *b;
	size_t hl = strlen("Subject: a\n\n"), pos;

	(void)state;
	memcpy(in, "Subject: a\n\n", hl);
	/* fill so that the "." sits exactly at the chunk boundary */
	pos = hl;
	while (pos < PS_IO_CHUNK - 1) {
		size_t k = PS_IO_CHUNK - 1 - pos > 60 ? 60 : PS_IO_CHUNK - 1 - pos;

		memset(in + pos, 'x', k);
		pos += k;
		if (pos < PS_IO_CHUNK - 1)
			in[pos++] = '\n';
	}
	in[pos - 1] = '\n';
	memcpy(in + pos, ".\r\nrest\n", 8);
	assert_int_equal(take(in, pos + 8, 0), PS_OK);
	assert_int_equal((size_t)m.body_len, pos - hl);
	b = body();
	assert_null(strstr(b, "rest"));
	free(b);
	free(in);
}

/* Every CR before a line's LF is part of the line ending, as Postfix's
 * sendmail reads it: "Subject: x\r\r\n" is "Subject: x", "\r\r\n" the
 * empty line that ends the header, ".\r\r\n" the end of the input. A run
 * of CRs anywhere else is data. (t_differential, case corpus/hdr-bare-cr-eol) */
static void
cr_runs_before_lf(void **state)
{
	size_t vlen;
	const char *v;
	char *b;

	(void)state;
	assert_int_equal(TAKE("From: s@example.com\nSubject: x\r\r\n\r\r\nbody\r\r\r\n", 1),
			 PS_OK);
	assert_int_equal(m.hdr.n, 2);
	v = header_value(&m.hdr, 1, &vlen);
	assert_int_equal(vlen, 2);
	assert_memory_equal(v, " x", 2);
	assert_string_equal(b = body(), "body\r\n");
	free(b);
	/* not before a LF: kept */
	assert_int_equal(TAKE("Subject: a\n\nx\r\ry\r \r\n", 1), PS_OK);
	assert_string_equal(b = body(), "x\r\ry\r \r\n");
	free(b);
	/* a dot line, without -i */
	assert_int_equal(TAKE("Subject: a\n\none\n.\r\r\nafter\n", 0), PS_OK);
	assert_string_equal(b = body(), "one\n");
	free(b);
	/* a run at the end of the input, without a LF: data */
	assert_int_equal(TAKE("Subject: a\n\nz\r\r", 1), PS_OK);
	assert_string_equal(b = body(), "z\r\r");
	free(b);
}

/* A run of CRs split across read() chunks is still one line ending. */
static void
cr_run_across_chunks(void **state)
{
	size_t n = PS_IO_CHUNK + 64, pos, hl = strlen("Subject: a\n\n");
	char *in = malloc(n), *b;

	(void)state;
	memcpy(in, "Subject: a\n\n", hl);
	memset(in + hl, 'x', PS_IO_CHUNK - 2 - hl);
	pos = PS_IO_CHUNK - 2;
	memcpy(in + pos, "\r\r\r\r\nend\n", 9);
	assert_int_equal(take(in, pos + 9, 1), PS_OK);
	assert_int_equal((size_t)m.body_len, pos - hl + 2 + 4);
	b = body();
	assert_memory_equal(b + pos - hl, "\r\nend\n", 6);
	free(b);
	free(in);
}

static void
nul_bytes(void **state)
{
	(void)state;
	assert_int_equal(TAKE("Subject: a\0b\n\nbody\n", 1), PS_DATAERR);
	assert_non_null(strstr(why, "NUL"));
	assert_non_null(strstr(why, "header"));
	assert_int_equal(TAKE("Subject: a\n\nbo\0dy\n", 1), PS_DATAERR);
	assert_non_null(strstr(why, "NUL"));
}

static void
no_header(void **state)
{
	char *b;

	(void)state;
	/* "echo hello | sendmail bob": everything is body */
	assert_int_equal(TAKE("hello world\nsecond\n", 1), PS_OK);
	assert_int_equal(m.hdr.n, 0);
	assert_string_equal(b = body(), "hello world\nsecond\n");
	free(b);
	assert_int_equal(TAKE("", 1), PS_OK);
	assert_int_equal(m.hdr.n, 0);
	assert_int_equal(m.body_len, 0);
}

static void
uucp_from_line(void **state)
{
	(void)state;
	assert_int_equal(TAKE("From alice Mon Nov 23 10:00:00 2026\nSubject: a\n\nb\n", 1),
			 PS_OK);
	assert_int_equal(m.hdr.n, 1);
	assert_true(header_name_is(&m.hdr, 0, "Subject"));
}

/* Postfix's cleanup: the header ends at the first line that is neither
 * a field nor a continuation, empty line or not; that line begins the
 * body (issue #14: shell scripts write "Subject: x\nhello\n") */
static void
malformed_header(void **state)
{
	char *b;

	(void)state;
	assert_int_equal(TAKE("Subject: x\nhello\n", 1), PS_OK);
	assert_int_equal(m.hdr.n, 1);
	assert_string_equal(b = body(), "hello\n");
	free(b);
	assert_int_equal(TAKE("Subject: a\nthis is not a field\n\nbody\n", 1), PS_OK);
	assert_int_equal(m.hdr.n, 1);
	assert_string_equal(b = body(), "this is not a field\n\nbody\n");
	free(b);
	/* a continuation line first: no header at all */
	assert_int_equal(TAKE(" folded: first\nSubject: a\n\nb\n", 1), PS_OK);
	assert_int_equal(m.hdr.n, 0);
	assert_string_equal(b = body(), " folded: first\nSubject: a\n\nb\n");
	free(b);
	/* a field name with a space in it is no field */
	assert_int_equal(TAKE("Subject: a\nBad Name: x\n\nb\n", 1), PS_OK);
	assert_int_equal(m.hdr.n, 1);
	assert_string_equal(b = body(), "Bad Name: x\n\nb\n");
	free(b);
	/* with -t: To before the missing empty line is a field */
	assert_int_equal(TAKE("To: a@example.org\nSubject: s\nhello\n", 1), PS_OK);
	assert_int_equal(m.hdr.n, 2);
}

static void
huge_header(void **state)
{
	size_t n = PS_HEADER_MAX + 100;
	char *in = malloc(n + 32);

	(void)state;
	memcpy(in, "X-Big: ", 7);
	memset(in + 7, 'a', n - 7);
	memcpy(in + n, "\n\nbody\n", 7);
	assert_int_equal(take(in, n + 7, 1), PS_DATAERR);
	assert_non_null(strstr(why, "larger than") != NULL ? why : strstr(why, "longer than"));
	free(in);
}

/* the documented limit: 1000 fields pass; the check runs at every field
 * (it used to run only when the field array grew, at 1024). A submission
 * with more than 1000 is refused by submit_deliver() (corpus:
 * hdr-fields-over-cap-by-one); intake and header_add() leave room for
 * what postseal adds, so that a message of 1000 fields still gets its
 * Date and Message-ID (a strict cap here refused it), and its queued
 * copy can be read again; past that room, intake refuses. */
static void
field_count_limit(void **state)
{
	const int over = PS_HEADER_FIELDS_MAX + PS_HEADER_ADDED_FIELDS + 1;
	size_t cap = (size_t)(over + 2) * 16 + 16, len;
	char *in = malloc(cap);

	(void)state;
	len = 0;
	for (int i = 0; i < PS_HEADER_FIELDS_MAX; i++)
		len += (size_t)snprintf(in + len, cap - len, "X-F%05d: v\n", i);
	len += (size_t)snprintf(in + len, cap - len, "\nbody\n");
	assert_int_equal(take(in, len, 1), PS_OK);
	assert_int_equal(m.hdr.n, PS_HEADER_FIELDS_MAX);
	assert_int_equal(header_add(&m.hdr, "Date", "Mon, 1 Jan 2024 00:00:00 +0000", why,
				    sizeof(why)),
			 PS_OK);
	assert_int_equal(header_add(&m.hdr, "Message-ID", "<a@b>", why, sizeof(why)), PS_OK);
	assert_int_equal(m.hdr.n, PS_HEADER_FIELDS_MAX + 2);
	len = 0;
	for (int i = 0; i < over; i++)
		len += (size_t)snprintf(in + len, cap - len, "X-F%05d: v\n", i);
	len += (size_t)snprintf(in + len, cap - len, "\nbody\n");
	assert_int_equal(take(in, len, 1), PS_DATAERR);
	assert_non_null(strstr(why, "more than 1000 header fields"));
	free(in);
}

static void
header_add_after_unterminated(void **state)
{
	(void)state;
	/* a header with no final newline and no body */
	assert_int_equal(TAKE("Subject: only", 1), PS_OK);
	assert_int_equal(m.hdr.n, 1);
	assert_int_equal(header_add(&m.hdr, "Date", "Mon, 1 Jan 2024 00:00:00 +0000",
				    why, sizeof(why)),
			 PS_OK);
	assert_int_equal(m.hdr.n, 2);
	assert_true(header_name_is(&m.hdr, 1, "Date"));
}

static char *
convert_as(const char *in, int crlf, int canonical)
{
	int fd = th_fd_with(in, strlen(in));
	struct eolconv *c = malloc(sizeof(*c));
	char out[8], *res = calloc(1, strlen(in) * 2 + 3);
	size_t n = 0;
	ssize_t r;

	eolconv_init(c, fd, (off_t)strlen(in), crlf);
	c->canonical = canonical;
	/* a tiny output buffer exercises every boundary */
	while ((r = eolconv_read(c, out, sizeof(out))) > 0) {
		memcpy(res + n, out, (size_t)r);
		n += (size_t)r;
	}
	assert_true(r == 0);
	free(c);
	close(fd);
	return res;
}

static char *
convert(const char *in, int crlf)
{
	return convert_as(in, crlf, 0);
}

/* The body of an encrypted copy is a canonical entity (RFC 2045 2.10):
 * a CR only before LF, every line ended. Postfix's sendmail and cleanup
 * make the plaintext copy so (a lone CR becomes a space, a last line
 * gets its newline); the decrypted copy must read the same (issue #14,
 * found by t_differential). */
static void
eol_canonical(void **state)
{
	char *s;

	(void)state;
	assert_string_equal(s = convert_as("a\rb\nlast", 1, 1), "a b\r\nlast\r\n");
	free(s);
	assert_string_equal(s = convert_as("x\r\n\r\ny\r\n", 1, 1), "x\r\n\r\ny\r\n");
	free(s);
	assert_string_equal(s = convert_as("end with cr\r", 1, 1), "end with cr \r\n");
	free(s);
	assert_string_equal(s = convert_as("\r\r\n\r", 1, 1), " \r\n \r\n");
	free(s);
	/* 7 bytes and an unended line: the ending falls after a full buffer */
	assert_string_equal(s = convert_as("abcdefg", 1, 1), "abcdefg\r\n");
	free(s);
	assert_string_equal(s = convert_as("", 1, 1), "");
	free(s);
	assert_string_equal(s = convert_as("\n", 1, 1), "\r\n");
	free(s);
}

static void
eol_conversion(void **state)
{
	char *s;

	(void)state;
	assert_string_equal(s = convert("a\nb\r\nc\rd\n", 1), "a\r\nb\r\nc\rd\r\n");
	free(s);
	assert_string_equal(s = convert("a\nb\r\nc\rd\n", 0), "a\nb\nc\rd\n");
	free(s);
	/* already CRLF stays CRLF: never CR CR LF */
	assert_string_equal(s = convert("x\r\n\r\ny\r\n", 1), "x\r\n\r\ny\r\n");
	free(s);
	assert_string_equal(s = convert("end with cr\r", 1), "end with cr\r");
	free(s);
	assert_string_equal(s = convert("\r\r\n", 0), "\r\n");
	free(s);
}

static int
teardown(void **state)
{
	(void)state;
	message_free(&m);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(lf_and_crlf_kept, teardown),
		cmocka_unit_test_teardown(folded_fields, teardown),
		cmocka_unit_test_teardown(dot_ends_message, teardown),
		cmocka_unit_test_teardown(dot_across_chunks, teardown),
		cmocka_unit_test_teardown(cr_runs_before_lf, teardown),
		cmocka_unit_test_teardown(cr_run_across_chunks, teardown),
		cmocka_unit_test_teardown(nul_bytes, teardown),
		cmocka_unit_test_teardown(no_header, teardown),
		cmocka_unit_test_teardown(uucp_from_line, teardown),
		cmocka_unit_test_teardown(malformed_header, teardown),
		cmocka_unit_test_teardown(huge_header, teardown),
		cmocka_unit_test_teardown(field_count_limit, teardown),
		cmocka_unit_test_teardown(header_add_after_unterminated, teardown),
		cmocka_unit_test(eol_conversion),
		cmocka_unit_test(eol_canonical),
	};

	message_init(&m);
	return cmocka_run_group_tests_name("intake", tests, NULL, NULL);
}
