/* libFuzzer target: a whole postseal -bs session (submit/bs.c) with the
 * input as the client's side, through the seam smtp_session_io(): the
 * pipeline is a stub that hands nothing off (no MTA, no GPG). It checks
 * what the protocol promises: every transaction handed on has 1 to
 * PS_RCPT_MAX recipients, each an address addr_check() accepts that does
 * not begin with '-'; every reply line is "NNN-text" or "NNN text" in
 * printable US-ASCII ending in CRLF (RFC 5321 4.2); the session ends with
 * 0 or 75. The stub's answer and reason come from the message itself, so
 * reasons with any bytes go through the replies. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "addr.h"
#include "bs.h"
#include "fileio.h"
#include "pslimits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static enum ps_status
stub_deliver(const struct cli *c, int fd, char *why, size_t whylen)
{
	static const enum ps_status answers[] = {PS_OK,		 PS_TEMPFAIL, PS_DATAERR,
						 PS_UNAVAILABLE, PS_NOUSER,   PS_USAGE};
	char msg[256], reason[PS_WHY_MAX];
	ssize_t n;

	if (c->nrcpts < 1 || c->nrcpts > PS_RCPT_MAX || c->sender == NULL)
		abort();
	if (c->sender[0] != '\0' &&
	    addr_check(c->sender, strlen(c->sender), ADDR_LOCAL_OK, reason, sizeof(reason)) < 0)
		abort();
	for (int i = 0; i < c->nrcpts; i++)
		if (c->rcpts[i][0] == '-' ||
		    addr_check(c->rcpts[i], strlen(c->rcpts[i]), ADDR_LOCAL_OK, reason,
			       sizeof(reason)) < 0)
			abort();
	n = pread_some(fd, msg, sizeof(msg) - 1, 0);
	if (n <= 0)
		return PS_OK;
	msg[n] = '\0';
	/* the reason: the message's first line, whatever its bytes */
	snprintf(why, whylen, "%.*s", (int)strcspn(msg, "\n"), msg);
	return answers[(unsigned char)msg[0] % (sizeof(answers) / sizeof(answers[0]))];
}

static void
check_replies(int fd)
{
	static char out[1 << 20];
	ssize_t n = pread_some(fd, out, sizeof(out), 0);
	size_t i = 0;

	if (n < 0)
		abort();
	while (i < (size_t)n) {
		size_t s = i;

		if ((size_t)n - i < 6 || out[i] < '2' || out[i] > '5' || out[i + 1] < '0' ||
		    out[i + 1] > '9' || out[i + 2] < '0' || out[i + 2] > '9' ||
		    (out[i + 3] != ' ' && out[i + 3] != '-'))
			abort();
		for (i += 4; i < (size_t)n && out[i] != '\r'; i++)
			if ((unsigned char)out[i] < 0x20 || (unsigned char)out[i] >= 0x7f)
				abort();
		if (i == s + 4 || i + 1 >= (size_t)n || out[i + 1] != '\n')
			abort();
		i += 2;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cli c;
	int in = memfd_create("fuzz-in", MFD_CLOEXEC), out = memfd_create("fuzz-out", MFD_CLOEXEC);
	int rc;

	if (in < 0 || out < 0 || write_all(in, data, size) < 0 || lseek(in, 0, SEEK_SET) != 0)
		abort();
	memset(&c, 0, sizeof(c));
	rc = smtp_session_io(&c, in, out, stub_deliver);
	if (rc != 0 && rc != 75)
		abort();
	check_replies(out);
	close(in);
	close(out);
	return 0;
}
