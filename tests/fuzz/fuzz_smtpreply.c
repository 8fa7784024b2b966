/* libFuzzer target: the strict SMTP client's reply parser
 * (smtp_reply_parse(), smtp.h) on a stream of replies, read whole and
 * again in pieces as a network would deliver them: both readings must
 * give the same replies (code, lines, keywords, end position), and
 * every reply's code and kept text must be as the contract says. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct event {
	int rc, code, lines, starttls, requiretls;
	size_t pos;
};

#define EVENTS_MAX 64

/* Read replies from buf as c_reply() does; chunk 0: all at once, else
 * the input grows by chunk bytes at a time. */
static size_t
read_all(const char *buf, size_t size, size_t chunk, struct event *ev)
{
	struct smtp_reply r;
	size_t pos = 0, avail = chunk ? (chunk < size ? chunk : size) : size, n = 0;

	smtp_reply_init(&r);
	while (n < EVENTS_MAX) {
		int rc = smtp_reply_parse(buf, avail, &pos, &r);

		if (pos > avail)
			abort();
		if (rc == 0 && avail < size) {
			avail = avail + chunk < size ? avail + chunk : size;
			continue;
		}
		if (rc == 1) {
			if (r.code < 200 || r.code > 559 || r.lines < 1 ||
			    r.lines > SMTP_REPLY_LINES_MAX || strlen(r.last) >= sizeof(r.last))
				abort();
			for (const char *p = r.last; *p != '\0'; p++)
				if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
					abort();
		}
		ev[n].rc = rc;
		ev[n].code = rc == 1 ? r.code : 0;
		ev[n].lines = r.lines;
		ev[n].starttls = r.starttls;
		ev[n].requiretls = r.requiretls;
		ev[n].pos = pos;
		n++;
		if (rc != 1)
			break;
		smtp_reply_init(&r);
	}
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct event a[EVENTS_MAX], b[EVENTS_MAX];
	size_t na, nb, chunk;

	if (size < 1)
		return 0;
	/* padding too: the events are compared with memcmp */
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	chunk = 1 + data[0] % 17;
	na = read_all((const char *)data + 1, size - 1, 0, a);
	nb = read_all((const char *)data + 1, size - 1, chunk, b);
	if (na != nb || memcmp(a, b, na * sizeof(a[0])) != 0)
		abort();
	return 0;
}
