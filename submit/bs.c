#include "config.h"

#include <stdarg.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "buf.h"
#include "bs.h"
#include "fileio.h"
#include "log.h"
#include "pslimits.h"
#include "submit.h"

#define BS_LINE_MAX 1000 /* RFC 5321 4.5.3.1.4: text line, with CRLF */

struct in {
	int fd;
	char buf[PS_IO_CHUNK];
	size_t pos, len;
	int eof;
};

/* How a line ended: RFC 5321 ends the data with <CRLF>.<CRLF> only. */
enum eol { EOL_NONE, EOL_LF, EOL_CRLF };

/* One line without its line ending into out (cap-1 bytes kept; *long_line
 * set when it was longer; *eol how it ended). 1 a line, 0 end of input. */
static int
get_line(struct in *in, char *out, size_t cap, size_t *outlen, int *long_line,
	 enum eol *eol)
{
	size_t n = 0;
	int cr = 0; /* the last byte read was a CR (kept or not) */

	*long_line = 0;
	for (;;) {
		if (in->pos == in->len) {
			ssize_t r;

			if (in->eof)
				break;
			r = read_some(in->fd, in->buf, sizeof(in->buf));
			if (r <= 0) {
				in->eof = 1;
				break;
			}
			in->pos = 0;
			in->len = (size_t)r;
		}
		char ch = in->buf[in->pos++];

		if (ch == '\n') {
			if (cr && n > 0 && out[n - 1] == '\r')
				n--;
			out[n] = '\0';
			*outlen = n;
			*eol = cr ? EOL_CRLF : EOL_LF;
			return 1;
		}
		cr = ch == '\r';
		if (n + 1 < cap)
			out[n++] = ch;
		else
			*long_line = 1;
	}
	out[n] = '\0';
	*outlen = n;
	*eol = EOL_NONE;
	return n > 0 ? 1 : 0;
}

static void
reply(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One reply line. RFC 5321 4.2: its text is printable US-ASCII, so a
 * reason that quotes the message (an address from its header) has its
 * control and 8-bit bytes replaced. */
static void
reply(int fd, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 3)
		n = (int)sizeof(line) - 3;
	/* one line: never let a reason break the protocol */
	for (int i = 0; i < n; i++)
		if ((unsigned char)line[i] < 0x20)
			line[i] = ' ';
		else if ((unsigned char)line[i] >= 0x7f)
			line[i] = '?';
	line[n++] = '\r';
	line[n++] = '\n';
	write_all(fd, line, (size_t)n);
}

/* "MAIL FROM:<addr> params" -> addr; -1 on a syntax error. */
static int
path_arg(const char *s, const char *verb, char *out, size_t outlen)
{
	size_t vl = strlen(verb);
	const char *p, *e;

	if (strncasecmp(s, verb, vl) != 0)
		return -1;
	p = s + vl;
	while (*p == ' ')
		p++;
	if (*p != '<' || (e = strchr(p, '>')) == NULL)
		return -1;
	p++;
	if ((size_t)(e - p) >= outlen)
		return -1;
	memcpy(out, p, (size_t)(e - p));
	out[e - p] = '\0';
	/* a source route (@a,@b:user@host) is accepted and ignored */
	if (out[0] == '@' && (p = strchr(out, ':')) != NULL)
		memmove(out, p + 1, strlen(p + 1) + 1);
	return 0;
}

static const char *
code_for(enum ps_status st)
{
	switch (st) {
	case PS_OK:
		return "250 2.0.0";
	case PS_NOUSER:
		return "550 5.1.1";
	case PS_DATAERR:
		return "554 5.6.0";
	case PS_UNAVAILABLE:
	case PS_NOPERM:
		return "554 5.7.1";
	case PS_USAGE:
		return "501 5.5.4";
	default:
		return "451 4.3.0";
	}
}

/* The transaction ends (RFC 5321 4.1.4: after DATA, or aborted by RSET,
 * EHLO or HELO): its recipients are forgotten. */
static void
txn_reset(char **rcpts, size_t *nrcpt, int *have_mail)
{
	for (size_t k = 0; k < *nrcpt; k++)
		x_free(&rcpts[k]);
	*nrcpt = 0;
	*have_mail = 0;
}

int
smtp_session_io(const struct cli *base, int in_fd, int out_fd, bs_deliver_fn deliver)
{
	struct in *in = NULL;
	char line[BS_LINE_MAX + 1], host[256], sender[PS_ADDR_MAX + 1], why[PS_WHY_MAX];
	char **rcpts = NULL;
	size_t len, nrcpt = 0;
	int have_helo = 0, have_mail = 0, long_line, rc = 0;
	enum eol eol;

	if ((rcpts = calloc(PS_RCPT_MAX, sizeof(*rcpts))) == NULL ||
	    (in = calloc(1, sizeof(*in))) == NULL) {
		free(rcpts);
		return ps_exit_code(PS_TEMPFAIL);
	}
	in->fd = in_fd;
	if (gethostname(host, sizeof(host)) < 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	reply(out_fd, "220 %s postseal ESMTP (sendmail -bs)", host);
	while (get_line(in, line, sizeof(line), &len, &long_line, &eol)) {
		if (long_line) {
			reply(out_fd, "500 5.5.2 line too long");
			continue;
		}
		if (strncasecmp(line, "EHLO", 4) == 0 && (line[4] == ' ' || !line[4])) {
			reply(out_fd, "250-%s", host);
			reply(out_fd, "250-8BITMIME");
			reply(out_fd, "250-ENHANCEDSTATUSCODES");
			reply(out_fd, "250 SIZE %d", 100 * 1024 * 1024);
			have_helo = 1;
			/* a new greeting resets the transaction (RFC 5321
			 * 4.1.4): its recipients are forgotten, and freed */
			txn_reset(rcpts, &nrcpt, &have_mail);
		} else if (strncasecmp(line, "HELO", 4) == 0 && (line[4] == ' ' || !line[4])) {
			reply(out_fd, "250 %s", host);
			have_helo = 1;
			txn_reset(rcpts, &nrcpt, &have_mail);
		} else if (strncasecmp(line, "MAIL FROM:", 10) == 0) {
			if (have_mail) {
				reply(out_fd, "503 5.5.1 nested MAIL command");
				continue;
			}
			if (path_arg(line, "MAIL FROM:", sender, sizeof(sender)) < 0 ||
			    (sender[0] != '\0' &&
			     addr_check(sender, strlen(sender), ADDR_LOCAL_OK, why, sizeof(why)) < 0)) {
				reply(out_fd, "501 5.1.7 bad sender address");
				continue;
			}
			(void)have_helo; /* HELO is not required, as with sendmail */
			have_mail = 1;
			reply(out_fd, "250 2.1.0 Ok");
		} else if (strncasecmp(line, "RCPT TO:", 8) == 0) {
			char a[PS_ADDR_MAX + 1];

			if (!have_mail) {
				reply(out_fd, "503 5.5.1 need MAIL before RCPT");
				continue;
			}
			if (path_arg(line, "RCPT TO:", a, sizeof(a)) < 0 || a[0] == '\0' ||
			    a[0] == '-' || addr_check(a, strlen(a), ADDR_LOCAL_OK, why, sizeof(why)) < 0) {
				reply(out_fd, "501 5.1.3 bad recipient address");
				continue;
			}
			if (nrcpt >= PS_RCPT_MAX) {
				reply(out_fd, "452 4.5.3 too many recipients");
				continue;
			}
			if ((rcpts[nrcpt] = strdup(a)) == NULL) {
				reply(out_fd, "451 4.3.0 out of memory");
				continue;
			}
			nrcpt++;
			reply(out_fd, "250 2.1.5 Ok");
		} else if (strcasecmp(line, "DATA") == 0) {
			struct cli c = *base;
			enum ps_status st;
			int fd, ended = 0, toolong = 0;
			/* the line before the dot ended in CRLF: a bare LF never
			 * makes <CRLF>.<CRLF>. The DATA line counts as one
			 * (Postfix's "normalize" reads a command's bare LF as
			 * CRLF; message text cannot forge a command line). */
			int crlf_before = 1;
			char dl[BS_LINE_MAX * 64];

			if (!have_mail || nrcpt == 0) {
				reply(out_fd, "503 5.5.1 need MAIL and RCPT before DATA");
				continue;
			}
			if ((fd = spool_open(spool_dir_default(), why, sizeof(why))) < 0) {
				reply(out_fd, "451 4.3.0 %s", why);
				continue;
			}
			reply(out_fd, "354 End data with <CR><LF>.<CR><LF>");
			/* dot-unstuffed into the spool, LF line endings */
			while (get_line(in, dl, sizeof(dl), &len, &long_line, &eol)) {
				const char *p = dl;

				if (len == 1 && dl[0] == '.' && crlf_before && eol == EOL_CRLF) {
					ended = 1;
					break;
				}
				crlf_before = eol == EOL_CRLF;
				if (dl[0] == '.' && len > 1)
					p++, len--;
				if (write_all(fd, p, len) < 0 || write_all(fd, "\n", 1) < 0)
					break;
				toolong |= long_line; /* never cut a line silently */
			}
			if (!ended) {
				close(fd);
				rc = ps_exit_code(PS_TEMPFAIL);
				log_warnx("-bs: input ended inside DATA; nothing was sent");
				goto out;
			}
			if (toolong) {
				close(fd);
				reply(out_fd, "554 5.6.0 a line longer than %zu bytes; message not sent",
				      sizeof(dl) - 1);
				txn_reset(rcpts, &nrcpt, &have_mail);
				continue;
			}
			c.mode = MODE_DELIVER;
			c.extract = 0;
			c.ignore_dots = 1;
			c.sender = sender;
			c.rcpts = rcpts;
			c.nrcpts = (int)nrcpt;
			lseek(fd, 0, SEEK_SET);
			why[0] = '\0';
			st = deliver(&c, fd, why, sizeof(why));
			close(fd);
			if (st == PS_OK)
				reply(out_fd, "250 2.0.0 Ok: accepted");
			else
				reply(out_fd, "%s %s", code_for(st), why[0] ? why : ps_status_name(st));
			txn_reset(rcpts, &nrcpt, &have_mail);
		} else if (strcasecmp(line, "RSET") == 0) {
			txn_reset(rcpts, &nrcpt, &have_mail);
			reply(out_fd, "250 2.0.0 Ok");
		} else if (strncasecmp(line, "NOOP", 4) == 0) {
			reply(out_fd, "250 2.0.0 Ok");
		} else if (strncasecmp(line, "VRFY", 4) == 0) {
			reply(out_fd, "252 2.5.2 cannot VRFY, but will accept the message");
		} else if (strncasecmp(line, "HELP", 4) == 0) {
			reply(out_fd, "214 2.0.0 EHLO HELO MAIL RCPT DATA RSET NOOP VRFY QUIT");
		} else if (strcasecmp(line, "QUIT") == 0) {
			reply(out_fd, "221 2.0.0 Bye");
			goto out;
		} else if (strncasecmp(line, "STARTTLS", 8) == 0 || strncasecmp(line, "AUTH", 4) == 0) {
			reply(out_fd, "502 5.5.1 not implemented (this is a local pipe)");
		} else {
			reply(out_fd, "500 5.5.2 command not recognised");
		}
	}
out:
	txn_reset(rcpts, &nrcpt, &have_mail);
	free(rcpts);
	free(in);
	return rc;
}

int
smtp_session(const struct cli *c)
{
	return smtp_session_io(c, 0, 1, submit_deliver);
}
