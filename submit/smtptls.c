/*
 * The SMTP client for copies that need TLS on every hop: verified TLS
 * (GnuTLS) to the relay and, when the relay offers it, REQUIRETLS (RFC
 * 8689) on MAIL FROM, which libcurl cannot send (its MAIL FROM is always
 * rebuilt as "<local@domain>"). Everything else goes through libcurl
 * (smtp.c). See smtp.h for the contract.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#include "buf.h"
#include "eolconv.h"
#include "fileio.h"
#include "log.h"
#include "smtp.h"

#define IO_TIMEOUT_MS (120 * 1000)

struct conn {
	int fd;
	gnutls_session_t tls;
	gnutls_certificate_credentials_t cred;
	char in[4096];
	size_t ipos, ilen;
	int starttls, requiretls;  /* EHLO keywords */
	char last[256];		   /* the last reply line */
};

static int
wait_fd(int fd, short ev)
{
	struct pollfd p = {fd, ev, 0};
	int r;

	do
		r = poll(&p, 1, IO_TIMEOUT_MS);
	while (r < 0 && errno == EINTR);
	return r > 0 ? 0 : -1;
}

static int
c_write(struct conn *c, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w;

		if (c->tls != NULL) {
			w = gnutls_record_send(c->tls, p, n);
			if (w == GNUTLS_E_AGAIN || w == GNUTLS_E_INTERRUPTED)
				continue;
		} else {
			if (wait_fd(c->fd, POLLOUT) < 0)
				return -1;
			w = send(c->fd, p, n, MSG_NOSIGNAL);
			if (w < 0 && errno == EINTR)
				continue;
		}
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* More input after what is buffered (c->in[0..ilen)). */
static int
c_fill(struct conn *c)
{
	ssize_t r;
	size_t room = sizeof(c->in) - c->ilen;

	if (c->tls != NULL) {
		do
			r = gnutls_record_recv(c->tls, c->in + c->ilen, room);
		while (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED);
	} else {
		if (wait_fd(c->fd, POLLIN) < 0)
			return -1;
		do
			r = recv(c->fd, c->in + c->ilen, room, 0);
		while (r < 0 && errno == EINTR);
	}
	if (r <= 0)
		return -1;
	c->ilen += (size_t)r;
	return 0;
}

/* RFC 5321 4.2 Reply-code: %x32-35 %x30-35 %x30-39 */
static int
reply_code(const char *p, size_t len)
{
	if (len < 3 || p[0] < '2' || p[0] > '5' || p[1] < '0' || p[1] > '5' || p[2] < '0' ||
	    p[2] > '9')
		return -1;
	return (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
}

/* An EHLO line "NNN-KEYWORD" or "NNN KEYWORD params": exactly kw. */
static int
ehlo_keyword(const char *p, size_t len, const char *kw)
{
	size_t kl = strlen(kw);

	return len >= 4 + kl && strncasecmp(p + 4, kw, kl) == 0 &&
	       (len == 4 + kl || p[4 + kl] == ' ');
}

void
smtp_reply_init(struct smtp_reply *r)
{
	memset(r, 0, sizeof(*r));
}

int
smtp_reply_parse(const char *buf, size_t len, size_t *pos, struct smtp_reply *r)
{
	while (*pos < len) {
		const char *p = buf + *pos, *nl = memchr(p, '\n', len - *pos);
		size_t n, k;
		int code;

		if (nl == NULL)
			return 0; /* the rest of the line has not come yet */
		n = (size_t)(nl - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if ((code = reply_code(p, n)) < 0 || (n > 3 && p[3] != ' ' && p[3] != '-') ||
		    (r->lines > 0 && code != r->code) || ++r->lines > SMTP_REPLY_LINES_MAX)
			return -1;
		r->code = code;
		r->starttls |= ehlo_keyword(p, n, "STARTTLS");
		r->requiretls |= ehlo_keyword(p, n, "REQUIRETLS");
		/* for messages: printable, cut */
		for (k = 0; k < n && k < sizeof(r->last) - 1; k++)
			r->last[k] = (unsigned char)p[k] >= 0x20 && (unsigned char)p[k] < 0x7f ? p[k] : '?';
		r->last[k] = '\0';
		*pos = (size_t)(nl - buf) + 1;
		if (n == 3 || p[3] == ' ')
			return 1;
	}
	return 0;
}

/* One reply (all its lines): the code, or -1 on a broken connection or a
 * reply that breaks RFC 5321 4.2. EHLO keywords are noted. Input after
 * the reply stays buffered (pipelining). */
static int
c_reply(struct conn *c)
{
	struct smtp_reply r;
	int k;

	smtp_reply_init(&r);
	for (;;) {
		k = smtp_reply_parse(c->in, c->ilen, &c->ipos, &r);
		if (k != 0)
			break;
		/* keep the partial line; a line that fills the buffer is too
		 * long (RFC 5321 4.5.3.1.5: 512 octets) */
		memmove(c->in, c->in + c->ipos, c->ilen - c->ipos);
		c->ilen -= c->ipos;
		c->ipos = 0;
		if (c->ilen == sizeof(c->in) || c_fill(c) < 0)
			return -1;
	}
	c->starttls = r.starttls;
	c->requiretls = r.requiretls;
	if (k < 0)
		return -1;
	snprintf(c->last, sizeof(c->last), "%s", r.last);
	return r.code;
}

static int
c_cmd(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
c_cmd(struct conn *c, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) - 2)
		return -1;
	memcpy(line + n, "\r\n", 2);
	if (c_write(c, line, (size_t)n + 2) < 0)
		return -1;
	return c_reply(c);
}

static int
c_connect(const char *host, int port, char *why, size_t whylen)
{
	struct addrinfo hints, *res = NULL, *ai;
	char ps[16];
	int fd = -1, e, one = 1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	snprintf(ps, sizeof(ps), "%d", port);
	if ((e = getaddrinfo(host, ps, &hints, &res)) != 0)
		return ps_why(why, whylen, "%s: %s", host, gai_strerror(e));
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		struct timeval tv = {IO_TIMEOUT_MS / 1000, 0};

		if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0)) < 0)
			continue;
		/* every connect, read and write (TLS ones too) times out */
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return ps_why(why, whylen, "cannot connect to %s port %d: %s", host, port,
			      strerror(errno));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static int
c_tls(struct conn *c, const struct ps_config *cf, char *why, size_t whylen)
{
	int r;

	if (gnutls_certificate_allocate_credentials(&c->cred) < 0 ||
	    gnutls_certificate_set_x509_trust_file(
		    c->cred, cf->smtp_ca_file[0] != '\0' ? cf->smtp_ca_file : PS_CA_BUNDLE,
		    GNUTLS_X509_FMT_PEM) <= 0)
		return ps_why(why, whylen, "TLS with %s failed: no CA certificates", cf->smtp_host);
	if (gnutls_init(&c->tls, GNUTLS_CLIENT) < 0 || gnutls_set_default_priority(c->tls) < 0 ||
	    gnutls_credentials_set(c->tls, GNUTLS_CRD_CERTIFICATE, c->cred) < 0 ||
	    gnutls_server_name_set(c->tls, GNUTLS_NAME_DNS, cf->smtp_host,
				   strlen(cf->smtp_host)) < 0)
		return ps_why(why, whylen, "TLS with %s failed: set-up", cf->smtp_host);
	/* the certificate must be valid for the configured name */
	gnutls_session_set_verify_cert(c->tls, cf->smtp_host, 0);
	gnutls_transport_set_int(c->tls, c->fd);
	gnutls_handshake_set_timeout(c->tls, IO_TIMEOUT_MS);
	do
		r = gnutls_handshake(c->tls);
	while (r < 0 && gnutls_error_is_fatal(r) == 0);
	if (r < 0) {
		gnutls_deinit(c->tls);
		c->tls = NULL;
		return ps_why(why, whylen, "TLS with %s failed: %s", cf->smtp_host,
			      gnutls_strerror(r));
	}
	c->ipos = c->ilen = 0;
	return 0;
}

/* The copy, CRLF and dot-stuffed, then the final dot. */
static int
c_data(struct conn *c, int fd, off_t offset, off_t end)
{
	struct eolconv ec;
	char in[PS_IO_CHUNK], out[2 * PS_IO_CHUNK + 8];
	int bol = 1;
	ssize_t r;

	eolconv_init(&ec, fd, end, 1);
	ec.off = offset;
	while ((r = eolconv_read(&ec, in, sizeof(in))) > 0) {
		size_t o = 0;

		for (ssize_t k = 0; k < r; k++) {
			if (bol && in[k] == '.')
				out[o++] = '.';
			out[o++] = in[k];
			bol = in[k] == '\n';
		}
		if (c_write(c, out, o) < 0)
			return -1;
	}
	if (r < 0)
		return -1;
	return c_write(c, bol ? ".\r\n" : "\r\n.\r\n", bol ? 3 : 5);
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void
base64(const unsigned char *in, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0) |
			     (i + 2 < n ? in[i + 2] : 0);

		out[o++] = b64[v >> 18 & 63];
		out[o++] = b64[v >> 12 & 63];
		out[o++] = i + 1 < n ? b64[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? b64[v & 63] : '=';
	}
	out[o] = '\0';
}

enum ps_status
smtp_send_strict(const struct ps_config *cf, const char *sender,
		 const char *const *rcpts, size_t n, int fd, off_t offset,
		 const char *password, struct smtp_outcome *out, char *why,
		 size_t whylen)
{
	struct conn c;
	struct stat sb;
	char host[256];
	int port = cf->smtp_port ? cf->smtp_port : cf->smtp_tls == SMTP_IMPLICIT ? 465 : 587;
	int code, ok = 0, temp = 0, requiretls;
	enum ps_status st = PS_TEMPFAIL;

	memset(&c, 0, sizeof(c));
	for (size_t i = 0; i < n; i++)
		out->rcpt_code[i] = 0;
	if (fstat(fd, &sb) < 0)
		return ps_fail(PS_TEMPFAIL, why, whylen, "fstat: %s", strerror(errno));
	if (gethostname(host, sizeof(host)) < 0 || host[0] == '\0')
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	if ((c.fd = c_connect(cf->smtp_host, port, why, whylen)) < 0)
		return PS_TEMPFAIL;
	if (cf->smtp_tls == SMTP_IMPLICIT && c_tls(&c, cf, why, whylen) < 0)
		goto out;
	if ((code = c_reply(&c)) != 220) {
		ps_why(why, whylen, "%s: greeting %s", cf->smtp_host, c.last);
		goto out;
	}
	if ((code = c_cmd(&c, "EHLO %s", host)) != 250) {
		ps_why(why, whylen, "%s: EHLO: %s", cf->smtp_host, c.last);
		goto out;
	}
	if (c.tls == NULL) {
		if (!c.starttls) {
			ps_why(why, whylen,
			       "%s does not offer STARTTLS, and this copy may only go over "
			       "verified TLS; nothing sent",
			       cf->smtp_host);
			goto out;
		}
		if ((code = c_cmd(&c, "STARTTLS")) != 220) {
			ps_why(why, whylen, "%s: STARTTLS: %s; nothing sent", cf->smtp_host, c.last);
			goto out;
		}
		if (c_tls(&c, cf, why, whylen) < 0)
			goto out;
		if ((code = c_cmd(&c, "EHLO %s", host)) != 250) {
			ps_why(why, whylen, "%s: EHLO: %s", cf->smtp_host, c.last);
			goto out;
		}
	}
	/* the EHLO (after TLS) is what counts; later replies reset the flags */
	out->tls = out->verified = 1;
	out->requiretls_offered = c.requiretls;
	requiretls = c.requiretls;
	if (password != NULL) {
		unsigned char raw[600];
		char enc[820];
		size_t ul = strlen(cf->smtp_user), pl = strlen(password);

		if (cf->smtp_auth == SMTP_AUTH_PLAIN && ul + pl + 2 <= sizeof(raw)) {
			raw[0] = '\0';
			memcpy(raw + 1, cf->smtp_user, ul);
			raw[1 + ul] = '\0';
			memcpy(raw + 2 + ul, password, pl);
			base64(raw, ul + pl + 2, enc);
			code = c_cmd(&c, "AUTH PLAIN %s", enc);
		} else if (cf->smtp_auth == SMTP_AUTH_LOGIN && ul < 400 && pl < 400 &&
			   c_cmd(&c, "AUTH LOGIN") == 334) {
			base64((const unsigned char *)cf->smtp_user, ul, enc);
			code = c_cmd(&c, "%s", enc) == 334
				       ? (base64((const unsigned char *)password, pl, enc),
					  c_cmd(&c, "%s", enc))
				       : -1;
		} else
			code = -1;
		explicit_bzero(raw, sizeof(raw));
		explicit_bzero(enc, sizeof(enc));
		if (code != 235) {
			ps_why(why, whylen, "%s refused the login of %s: %s", cf->smtp_host,
			       cf->smtp_user, c.last);
			goto out;
		}
	}
	code = c_cmd(&c, "MAIL FROM:<%s>%s", sender, requiretls ? " REQUIRETLS" : "");
	if (code != 250) {
		st = code >= 500 ? PS_UNAVAILABLE : PS_TEMPFAIL;
		ps_why(why, whylen, "%s: MAIL FROM: %s", cf->smtp_host, c.last);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		code = c_cmd(&c, "RCPT TO:<%s>", rcpts[i]);
		if (code < 0) {
			ps_why(why, whylen, "%s: connection lost at RCPT", cf->smtp_host);
			goto out;
		}
		out->rcpt_code[i] = code;
		if (code >= 200 && code < 300)
			ok = 1;
		else if (code < 500)
			temp = 1;
	}
	if (!ok) {
		st = temp ? PS_TEMPFAIL : PS_UNAVAILABLE;
		ps_why(why, whylen, "%s refused every recipient: %s", cf->smtp_host, c.last);
		c_cmd(&c, "QUIT");
		goto out;
	}
	if ((code = c_cmd(&c, "DATA")) != 354) {
		st = code >= 500 ? PS_UNAVAILABLE : PS_TEMPFAIL;
		ps_why(why, whylen, "%s: DATA: %s", cf->smtp_host, c.last);
		goto out;
	}
	if (c_data(&c, fd, offset, sb.st_size) < 0 || (code = c_reply(&c)) < 0) {
		ps_why(why, whylen, "%s: connection lost during DATA", cf->smtp_host);
		goto out;
	}
	if (code != 250) {
		st = code >= 500 ? PS_UNAVAILABLE : PS_TEMPFAIL;
		ps_why(why, whylen, "%s refused the message: %s", cf->smtp_host, c.last);
		goto out;
	}
	c_cmd(&c, "QUIT");
	st = PS_OK;
out:
	if (st != PS_OK)
		for (size_t i = 0; i < n; i++)
			if (out->rcpt_code[i] >= 200 && out->rcpt_code[i] < 300)
				out->rcpt_code[i] = 0; /* not taken after all */
	if (c.tls != NULL) {
		gnutls_bye(c.tls, GNUTLS_SHUT_WR);
		gnutls_deinit(c.tls);
	}
	if (c.cred != NULL)
		gnutls_certificate_free_credentials(c.cred);
	close(c.fd);
	return st;
}
