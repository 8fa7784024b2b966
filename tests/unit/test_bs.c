/* postseal -bs through its seam (smtp_session_io): what each transaction
 * hands to the pipeline, and the replies. Cases the corpus found:
 * recipients of a transaction aborted by EHLO (leaked before; not used),
 * a final "." without its line ending, a "." line after a bare LF (SMTP
 * smuggling), 8-bit bytes quoted in a reply. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bs.h"
#include "harness.h"

/* what the capturing pipeline saw */
static int ncalls;
static char got_rcpts[8][1024];
static char got_msg[8][4096];
static enum ps_status answer = PS_OK;
static const char *answer_why = "";

static enum ps_status
capture(const struct cli *c, int fd, char *why, size_t whylen)
{
	char *m;

	if (ncalls < 8) {
		size_t n = 0;

		got_rcpts[ncalls][0] = '\0';
		for (int i = 0; i < c->nrcpts && n < sizeof(got_rcpts[0]); i++)
			n += (size_t)snprintf(got_rcpts[ncalls] + n, sizeof(got_rcpts[0]) - n,
					      "%s ", c->rcpts[i]);
		m = th_slurp(fd, NULL);
		snprintf(got_msg[ncalls], sizeof(got_msg[0]), "%s", m);
		free(m);
	}
	ncalls++;
	snprintf(why, whylen, "%s", answer_why);
	return answer;
}

/* Run a session on in; the replies into *out (malloc'd). */
static int
session(const char *in, char **out)
{
	struct cli c;
	int ifd = th_fd_with(in, strlen(in));
	int ofd = memfd_create("out", MFD_CLOEXEC);
	int rc;

	assert_true(ofd >= 0);
	memset(&c, 0, sizeof(c));
	ncalls = 0;
	rc = smtp_session_io(&c, ifd, ofd, capture);
	*out = th_slurp(ofd, NULL);
	close(ifd);
	close(ofd);
	return rc;
}

#define HELLO "EHLO c\r\nMAIL FROM:<s@example.com>\r\n"

static void
ehlo_aborts_transaction(void **state)
{
	char *out;

	(void)state;
	/* RFC 5321 4.1.4: EHLO (and HELO) reset the transaction */
	assert_int_equal(session(HELLO "RCPT TO:<dave@example.net>\r\nEHLO c\r\nDATA\r\n"
				       "QUIT\r\n", &out), 0);
	assert_non_null(strstr(out, "\r\n503 "));
	assert_int_equal(ncalls, 0);
	free(out);
	assert_int_equal(session(HELLO "RCPT TO:<dave@example.net>\r\nHELO c\r\n"
				       "MAIL FROM:<s@example.com>\r\nRCPT TO:<carol@example.com>\r\n"
				       "DATA\r\nSubject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n", &out), 0);
	assert_int_equal(ncalls, 1);
	assert_string_equal(got_rcpts[0], "carol@example.com ");
	free(out);
}

static void
data_ends_only_at_crlf_dot_crlf(void **state)
{
	char *out;

	(void)state;
	/* the input ends with "." and no line ending: not the end of data */
	assert_int_equal(session(HELLO "RCPT TO:<carol@example.com>\r\nDATA\r\n"
				       "Subject: x\r\n\r\nbody\r\n.", &out), 75);
	assert_int_equal(ncalls, 0);
	free(out);
	/* a "." after a bare LF is data: no second transaction is smuggled */
	assert_int_equal(session(HELLO "RCPT TO:<carol@example.com>\r\nDATA\r\n"
				       "Subject: x\r\n\r\nbody\n.\nMAIL FROM:<s@example.com>\r\n"
				       "RCPT TO:<dave@example.net>\r\nDATA\r\nsmuggled\r\n.\r\n"
				       "QUIT\r\n", &out), 0);
	assert_int_equal(ncalls, 1);
	assert_string_equal(got_rcpts[0], "carol@example.com ");
	assert_non_null(strstr(got_msg[0], "\n.\nMAIL FROM:<s@example.com>\nRCPT TO:<dave"));
	free(out);
	/* a bare LF, then ".\r\n" (the <LF>.<CRLF> of SMTP smuggling, which
	 * some servers take as the end): data, one message */
	assert_int_equal(session(HELLO "RCPT TO:<carol@example.com>\r\nDATA\r\n"
				       "Subject: x\r\n\r\nbody\n.\r\nMAIL FROM:<s@example.com>\r\n"
				       "RCPT TO:<dave@example.net>\r\nDATA\r\nsmuggled\r\n.\r\n"
				       "QUIT\r\n", &out), 0);
	assert_int_equal(ncalls, 1);
	assert_string_equal(got_rcpts[0], "carol@example.com ");
	assert_non_null(strstr(got_msg[0], "\n.\nMAIL FROM:<s@example.com>\nRCPT TO:<dave"));
	free(out);
	/* "." then a bare LF: data too */
	assert_int_equal(session(HELLO "RCPT TO:<carol@example.com>\r\nDATA\r\n"
				       "a\r\n.\nb\r\n.\r\nQUIT\r\n", &out), 0);
	assert_int_equal(ncalls, 1);
	assert_string_equal(got_msg[0], "a\n.\nb\n");
	free(out);
	/* bare-LF commands and text, then <CRLF>.<CRLF>: one message */
	assert_int_equal(session("EHLO c\nMAIL FROM:<s@example.com>\nRCPT TO:<carol@example.com>\n"
				 "DATA\nSubject: x\n\nbody\r\n.\r\nQUIT\n", &out), 0);
	assert_int_equal(ncalls, 1);
	assert_string_equal(got_msg[0], "Subject: x\n\nbody\n");
	assert_non_null(strstr(out, "\r\n221 "));
	free(out);
	/* dot-stuffing still undone */
	assert_int_equal(session(HELLO "RCPT TO:<carol@example.com>\r\nDATA\r\n"
				       "..x\r\n..\r\n.\r\n", &out), 0);
	assert_string_equal(got_msg[0], ".x\n.\n");
	free(out);
}

static void
replies_are_ascii(void **state)
{
	char *out;

	(void)state;
	answer = PS_DATAERR;
	answer_why = "Cc: header: bad address <j\xc3\xb6rg\x01@@example.com>";
	assert_int_equal(session(HELLO "RCPT TO:<carol@example.com>\r\nDATA\r\nx\r\n.\r\n"
				       "QUIT\r\n", &out), 0);
	answer = PS_OK;
	answer_why = "";
	assert_non_null(strstr(out, "\r\n554 5.6.0 Cc: header: bad address <j??rg @@example.com>\r\n"));
	for (const char *p = out; *p != '\0'; p++)
		assert_true((*p >= 0x20 && *p < 0x7f) || *p == '\r' || *p == '\n');
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ehlo_aborts_transaction),
		cmocka_unit_test(data_ends_only_at_crlf_dot_crlf),
		cmocka_unit_test(replies_are_ascii),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
