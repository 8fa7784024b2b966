#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "header.h"
#include "intake.h"
#include "pslimits.h"

void
message_init(struct message *m)
{
	header_init(&m->hdr);
	m->body_fd = -1;
	m->body_len = 0;
}

void
message_free(struct message *m)
{
	header_free(&m->hdr);
	if (m->body_fd >= 0)
		close(m->body_fd);
	m->body_fd = -1;
}

struct intake {
	struct message *m;
	int ignore_dots;
	int in_header;	/* still reading the header section */
	int first_line; /* no line of the message seen yet */
	int at_bol;	/* the next byte starts a line */
	int done;	/* "." line seen */
	struct buf line; /* header line being assembled */
	char carry[2];	/* body bytes held back: maybe a "." line */
	size_t ncarry;
	size_t crs;	/* a run of CRs held back: maybe a line ending */
	char *why;
	size_t whylen;
};

static enum ps_status
body_write(struct intake *in, const char *p, size_t n)
{
	if (n == 0)
		return PS_OK;
	if (memchr(p, '\0', n) != NULL)
		return ps_fail(PS_DATAERR, in->why, in->whylen,
			       "NUL byte in the message body");
	if (write_all(in->m->body_fd, p, n) < 0)
		return ps_fail(PS_TEMPFAIL, in->why, in->whylen,
			       "cannot write the spool file: %s", strerror(errno));
	in->m->body_len += (off_t)n;
	return PS_OK;
}

static int
is_dot_line(const char *p, size_t n)
{
	return (n == 2 && p[0] == '.' && p[1] == '\n') ||
	       (n == 3 && p[0] == '.' && p[1] == '\r' && p[2] == '\n');
}

static int
is_field_start(const char *p, size_t n)
{
	const char *colon = memchr(p, ':', n);
	size_t nlen;

	if (colon == NULL)
		return 0;
	nlen = (size_t)(colon - p);
	while (nlen > 0 && (p[nlen - 1] == ' ' || p[nlen - 1] == '\t'))
		nlen--;
	return header_name_valid(p, nlen);
}

/* A complete header line (with its line ending, or the last bytes of
 * the input). Decide whether the header goes on. */
static enum ps_status
header_line(struct intake *in, const char *p, size_t n, int complete)
{
	int first = in->first_line;

	in->first_line = 0;
	if (!in->ignore_dots && complete && is_dot_line(p, n)) {
		in->done = 1;
		return PS_OK;
	}
	if ((n == 1 && p[0] == '\n') || (n == 2 && p[0] == '\r' && p[1] == '\n')) {
		in->in_header = 0; /* the empty line ends the header */
		return PS_OK;
	}
	if (first && n >= 5 && memcmp(p, "From ", 5) == 0)
		return PS_OK; /* UUCP envelope line, as sendmail drops it */
	if (first && !is_field_start(p, n)) {
		/* No header at all: the whole input is body. */
		in->in_header = 0;
		return body_write(in, p, n);
	}
	if (p[0] != ' ' && p[0] != '\t' && !is_field_start(p, n)) {
		/* As Postfix's cleanup does: the header ends at the first
		 * line that is not a field ("Subject: x\nhello\n" from a
		 * shell script: hello is the body) */
		in->in_header = 0;
		return body_write(in, p, n);
	}
	if (memchr(p, '\0', n) != NULL)
		return ps_fail(PS_DATAERR, in->why, in->whylen,
			       "NUL byte in the header");
	if (buf_append(&in->m->hdr.raw, p, n) < 0)
		return ps_fail(PS_DATAERR, in->why, in->whylen,
			       "header section larger than %d bytes",
			       PS_HEADER_MAX);
	return PS_OK;
}

/* Body bytes, watching for a "." line when dots are significant. A "."
 * or ".\r" at the start of a line is held back until the next byte says
 * whether the line ends there. */
static enum ps_status
body_bytes(struct intake *in, const char *p, size_t n)
{
	enum ps_status st;
	size_t pos = 0;

	if (in->ignore_dots)
		return body_write(in, p, n);
	while (pos < n) {
		const char *nl;
		size_t e;

		if (in->ncarry > 0) {
			if (p[pos] == '\n') {
				in->done = 1;
				return PS_OK;
			}
			if (p[pos] == '\r' && in->ncarry == 1) {
				in->carry[in->ncarry++] = '\r';
				pos++;
				continue;
			}
			st = body_write(in, in->carry, in->ncarry);
			in->ncarry = 0;
			in->at_bol = 0;
			if (st != PS_OK)
				return st;
			continue;
		}
		if (in->at_bol && p[pos] == '.') {
			in->carry[in->ncarry++] = '.';
			pos++;
			continue;
		}
		nl = memchr(p + pos, '\n', n - pos);
		e = nl ? (size_t)(nl - p) + 1 : n;
		if ((st = body_write(in, p + pos, e - pos)) != PS_OK)
			return st;
		in->at_bol = nl != NULL;
		pos = e;
	}
	return PS_OK;
}

static enum ps_status
feed(struct intake *in, const char *p, size_t n)
{
	enum ps_status st;
	size_t pos = 0;

	while (pos < n && in->in_header && !in->done) {
		const char *nl = memchr(p + pos, '\n', n - pos);

		if (nl == NULL) {
			if (buf_append(&in->line, p + pos, n - pos) < 0)
				return ps_fail(PS_DATAERR, in->why, in->whylen,
					       "header line longer than %d bytes",
					       PS_HEADER_MAX);
			return PS_OK;
		}
		if (buf_append(&in->line, p + pos, (size_t)(nl - (p + pos)) + 1) < 0)
			return ps_fail(PS_DATAERR, in->why, in->whylen,
				       "header line longer than %d bytes",
				       PS_HEADER_MAX);
		pos = (size_t)(nl - p) + 1;
		st = header_line(in, in->line.data, in->line.len, 1);
		buf_reset(&in->line);
		if (st != PS_OK)
			return st;
	}
	if (pos < n && !in->done)
		return body_bytes(in, p + pos, n - pos);
	return PS_OK;
}

/* The held-back run of CRs, now that the next byte is known: before a
 * LF it is one CR of a CRLF, anywhere else it is data. */
static enum ps_status
cr_run_flush(struct intake *in, int before_lf)
{
	static const char crs[64] = "\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r"
				    "\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r"
				    "\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r"
				    "\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r\r";
	enum ps_status st = PS_OK;

	if (before_lf && in->crs > 1)
		in->crs = 1;
	while (in->crs > 0 && st == PS_OK && !in->done) {
		size_t k = in->crs < sizeof(crs) ? in->crs : sizeof(crs);

		st = feed(in, crs, k);
		in->crs -= k;
	}
	in->crs = 0;
	return st;
}

/* Every CR before a line's LF belongs to the line ending, as Postfix's
 * sendmail reads its input: "Subject: x\r\r\n" arrives as "Subject: x",
 * "\r\r\n" is the empty line that ends the header and ".\r\r\n" a dot
 * line. Such a run is read as one CR, so that postseal's reading (the
 * header/body boundary, the protected header) is the MTA's. A run may
 * span read() chunks: it is counted until the next byte says. */
static enum ps_status
feed_text(struct intake *in, const char *p, size_t n)
{
	enum ps_status st;
	size_t pos = 0, start = 0;

	while (pos < n && !in->done) {
		if (p[pos] != '\r') {
			if (in->crs > 0) {
				if ((st = cr_run_flush(in, p[pos] == '\n')) != PS_OK)
					return st;
			}
			pos++;
			continue;
		}
		if (in->crs == 0 && pos > start) {
			if ((st = feed(in, p + start, pos - start)) != PS_OK)
				return st;
		}
		while (pos < n && p[pos] == '\r') {
			in->crs++;
			pos++;
		}
		start = pos;
	}
	if (pos > start && in->crs == 0 && !in->done)
		return feed(in, p + start, pos - start);
	return PS_OK;
}

enum ps_status
intake_read(int in_fd, int ignore_dots, const char *spool_dir,
	    struct message *m, char *why, size_t whylen)
{
	struct intake in = {0};
	enum ps_status st = PS_OK;
	char *chunk = NULL;
	char reason[PS_WHY_MAX];

	in.m = m;
	in.ignore_dots = ignore_dots;
	in.in_header = 1;
	in.first_line = 1;
	in.at_bol = 1;
	in.why = why;
	in.whylen = whylen;
	buf_init(&in.line, PS_HEADER_MAX);

	if ((m->body_fd = spool_open(spool_dir, reason, sizeof(reason))) < 0) {
		st = ps_fail(PS_CANTCREAT, why, whylen, "%s", reason);
		goto out;
	}
	if ((chunk = malloc(PS_IO_CHUNK)) == NULL) {
		st = ps_fail(PS_TEMPFAIL, why, whylen, "out of memory");
		goto out;
	}
	while (!in.done) {
		ssize_t r = read_some(in_fd, chunk, PS_IO_CHUNK);

		if (r < 0) {
			st = ps_fail(PS_TEMPFAIL, why, whylen,
				     "cannot read the message: %s", strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		if ((st = feed_text(&in, chunk, (size_t)r)) != PS_OK)
			goto out;
	}
	/* CRs at the very end, without a LF: data */
	if ((st = cr_run_flush(&in, 0)) != PS_OK)
		goto out;
	/* The input may end without a final line ending. */
	if (!in.done && in.in_header && in.line.len > 0)
		st = header_line(&in, in.line.data, in.line.len, 0);
	else if (!in.done && in.ncarry > 0)
		st = body_write(&in, in.carry, in.ncarry);
	if (st != PS_OK)
		goto out;
	st = header_split(&m->hdr, why, whylen);
out:
	buf_free(&in.line);
	free(chunk);
	return st;
}
