/* The strict SMTP client's reply parser (smtp.h, smtp_reply_parse()):
 * RFC 5321 4.2 replies, fed whole, in pieces, pipelined, and broken. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "smtp.h"

static struct smtp_reply r;
static size_t pos;

static int
parse(const char *s)
{
	smtp_reply_init(&r);
	pos = 0;
	return smtp_reply_parse(s, strlen(s), &pos, &r);
}

static void
whole_replies(void **state)
{
	(void)state;
	assert_int_equal(parse("250 ok\r\n"), 1);
	assert_int_equal(r.code, 250);
	assert_int_equal(pos, 8);
	assert_string_equal(r.last, "250 ok");
	assert_int_equal(parse("221\r\n"), 1); /* the text is optional */
	assert_int_equal(r.code, 221);
	assert_int_equal(parse("354 go on\n"), 1); /* a bare LF is taken */
	assert_int_equal(parse("250-mx.example\r\n250-PIPELINING\r\n250-STARTTLS\r\n"
			       "250-REQUIRETLS\r\n250 8BITMIME\r\n"),
			 1);
	assert_true(r.starttls);
	assert_true(r.requiretls);
	assert_int_equal(r.lines, 5);
	assert_string_equal(r.last, "250 8BITMIME");
	/* keywords are whole words: not a prefix, not in a text */
	assert_int_equal(parse("250-STARTTLSX\r\n250-X STARTTLS\r\n250 REQUIRETLSY\r\n"), 1);
	assert_false(r.starttls);
	assert_false(r.requiretls);
	assert_int_equal(parse("250 starttls\r\n"), 1); /* keywords ignore case */
	assert_true(r.starttls);
}

static void
pieces_and_pipelining(void **state)
{
	const char *two = "250 a\r\n354 b\r\n";

	(void)state;
	/* an unfinished line: 0, pos at its start, and r goes on from there */
	assert_int_equal(parse("250-one\r\n250 tw"), 0);
	assert_int_equal(pos, 9);
	assert_int_equal(r.lines, 1);
	{
		const char *more = "250-one\r\n250 two\r\n";

		assert_int_equal(smtp_reply_parse(more, strlen(more), &pos, &r), 1);
		assert_int_equal(r.lines, 2);
		assert_string_equal(r.last, "250 two");
	}
	assert_int_equal(parse(""), 0);
	assert_int_equal(parse("250 no line end yet"), 0);
	assert_int_equal(pos, 0);
	/* two replies in one read: the second stays for the next call */
	assert_int_equal(parse(two), 1);
	assert_int_equal(r.code, 250);
	assert_int_equal(pos, 7);
	smtp_reply_init(&r);
	assert_int_equal(smtp_reply_parse(two, strlen(two), &pos, &r), 1);
	assert_int_equal(r.code, 354);
	assert_int_equal(pos, strlen(two));
}

static void
broken_replies(void **state)
{
	char many[SMTP_REPLY_LINES_MAX * 8 + 16];
	size_t n = 0;

	(void)state;
	assert_int_equal(parse("2xx ok\r\n"), -1);
	assert_int_equal(parse("25\r\n"), -1);
	assert_int_equal(parse("\r\n"), -1);
	assert_int_equal(parse("600 no\r\n"), -1);
	assert_int_equal(parse("160 no\r\n"), -1);
	assert_int_equal(parse("260 no\r\n"), -1); /* second digit 0-5 */
	assert_int_equal(parse("250X ok\r\n"), -1);
	assert_int_equal(parse(" 250 ok\r\n"), -1);
	/* every line of a reply has the same code (RFC 5321 4.2.1) */
	assert_int_equal(parse("250-a\r\n354 b\r\n"), -1);
	for (int i = 0; i <= SMTP_REPLY_LINES_MAX; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, "250-x\r\n");
	assert_int_equal(parse(many), -1);
	/* bytes that are not text do not reach the message */
	assert_int_equal(parse("550 a\x01\xff\x7f" "b\r\n"), 1);
	assert_string_equal(r.last, "550 a???b");
	{
		const char nul[] = "550 a\0b\r\n";

		smtp_reply_init(&r);
		pos = 0;
		assert_int_equal(smtp_reply_parse(nul, sizeof(nul) - 1, &pos, &r), 1);
		assert_string_equal(r.last, "550 a?b");
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(whole_replies),
		cmocka_unit_test(pieces_and_pipelining),
		cmocka_unit_test(broken_replies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
