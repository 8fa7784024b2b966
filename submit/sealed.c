#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libetpan/libetpan.h>

#include "fileio.h"
#include "header.h"
#include "sealed.h"

/* Lines of [off, end) of a file, each at most sizeof(buf) - 1 bytes. */
struct lines {
	int fd;
	off_t off, end;
	char buf[4096];
	size_t have;
	size_t linelen; /* length of the current line, ending removed */
	size_t consumed;
	off_t line_off; /* file offset of the current line */
};

static void
lines_init(struct lines *l, int fd, off_t start, off_t end)
{
	l->fd = fd;
	l->off = start;
	l->end = end;
	l->have = 0;
	l->consumed = 0;
	l->line_off = start;
}

/* 1 with a line, 0 at the end, -1 on error or an overlong line. */
static int
lines_next(struct lines *l)
{
	char *nl;

	memmove(l->buf, l->buf + l->consumed, l->have - l->consumed);
	l->have -= l->consumed;
	l->line_off += (off_t)l->consumed;
	l->consumed = 0;
	if (l->have < sizeof(l->buf) && l->off < l->end) {
		size_t want = sizeof(l->buf) - l->have;
		ssize_t r;

		if ((off_t)want > l->end - l->off)
			want = (size_t)(l->end - l->off);
		r = pread_some(l->fd, l->buf + l->have, want, l->off);
		if (r < 0)
			return -1;
		l->off += r;
		l->have += (size_t)r;
	}
	if (l->have == 0)
		return 0;
	nl = memchr(l->buf, '\n', l->have);
	if (nl == NULL && l->off < l->end)
		return -1;
	l->consumed = nl ? (size_t)(nl - l->buf) + 1 : l->have;
	l->linelen = nl ? (size_t)(nl - l->buf) : l->have;
	/* the line's own white space at the end does not count */
	while (l->linelen > 0 && (l->buf[l->linelen - 1] == '\r' ||
				  l->buf[l->linelen - 1] == ' ' ||
				  l->buf[l->linelen - 1] == '\t'))
		l->linelen--;
	return 1;
}

static int
line_is(const struct lines *l, const char *s)
{
	size_t n = strlen(s);

	return l->linelen == n && memcmp(l->buf, s, n) == 0;
}

static int
armor_header_ok(const struct lines *l)
{
	static const char *const keys[] = {"Version: ", "Comment: ", "MessageID: ",
					   "Hash: ", "Charset: ", NULL};

	for (size_t k = 0; keys[k] != NULL; k++)
		if (l->linelen >= strlen(keys[k]) &&
		    memcmp(l->buf, keys[k], strlen(keys[k])) == 0)
			return 1;
	return 0;
}

/* The smallest real encrypted message (a session key packet and an
 * encrypted data packet) is far above this many radix-64 characters. */
#define ARMOR_MIN_DATA 64

/* Exactly one armored encrypted message in [start, end), blank lines
 * around it allowed. */
static int
armor_only(int fd, off_t start, off_t end)
{
	struct lines *l = malloc(sizeof(*l));
	enum { BEFORE, HEADERS, DATA, AFTER } st = BEFORE;
	size_t data = 0;
	int r, ok = 0;

	if (l == NULL)
		return 0;
	lines_init(l, fd, start, end);
	while ((r = lines_next(l)) == 1) {
		if (l->linelen == 0) {
			if (st == HEADERS)
				st = DATA;
			continue;
		}
		switch (st) {
		case BEFORE:
			if (!line_is(l, "-----BEGIN PGP MESSAGE-----"))
				goto out;
			st = HEADERS;
			break;
		case HEADERS:
			if (!armor_header_ok(l))
				goto out;
			break;
		case DATA:
			if (line_is(l, "-----END PGP MESSAGE-----")) {
				st = AFTER;
				break;
			}
			if (l->buf[0] == '=') /* the CRC-24 line */
				break;
			for (size_t k = 0; k < l->linelen; k++)
				if (b64_digit((unsigned char)l->buf[k]) < 0 &&
				    l->buf[k] != '=')
					goto out;
			if (data == 0) {
				/* the first packet: tag 1 (PKESK) or 3 (SKESK),
				 * old or new format */
				int v0, v1, tag;
				unsigned char b;

				if (l->linelen < 2 ||
				    (v0 = b64_digit((unsigned char)l->buf[0])) < 0 ||
				    (v1 = b64_digit((unsigned char)l->buf[1])) < 0)
					goto out;
				b = (unsigned char)((v0 << 2) | (v1 >> 4));
				if (!(b & 0x80))
					goto out;
				tag = (b & 0x40) ? (b & 0x3f) : ((b >> 2) & 0x0f);
				if (tag != 1 && tag != 3)
					goto out;
			}
			data += l->linelen;
			break;
		case AFTER:
			goto out;
		}
	}
	ok = r == 0 && st == AFTER && data >= ARMOR_MIN_DATA;
out:
	free(l);
	return ok;
}

int
sealed_inline(const struct message *m)
{
	if (m->body_fd < 0 || m->body_len == 0)
		return 0;
	return armor_only(m->body_fd, 0, m->body_len);
}

/* "--boundary" or "--boundary--" */
static int
delimiter(const struct lines *l, const char *b, int *close)
{
	size_t n = strlen(b);

	if (l->linelen < n + 2 || l->buf[0] != '-' || l->buf[1] != '-' ||
	    memcmp(l->buf + 2, b, n) != 0)
		return 0;
	if (l->linelen == n + 2) {
		*close = 0;
		return 1;
	}
	if (l->linelen == n + 4 && l->buf[n + 2] == '-' && l->buf[n + 3] == '-') {
		*close = 1;
		return 1;
	}
	return 0;
}

int
sealed_pgp_mime(const struct message *m, const char *boundary)
{
	struct lines *l;
	int part = 0, close = 0, in_body = 0, version = 0, r, ok = 0;
	off_t p2_start = -1, p2_end = -1;

	if (m->body_fd < 0 || boundary == NULL || boundary[0] == '\0' ||
	    (l = malloc(sizeof(*l))) == NULL)
		return 0;
	lines_init(l, m->body_fd, 0, m->body_len);
	while ((r = lines_next(l)) == 1) {
		if (close) {
			if (l->linelen != 0)
				goto out; /* text after the end: not ours */
			continue;
		}
		if (delimiter(l, boundary, &close)) {
			if (part == 2)
				p2_end = l->line_off;
			part++;
			in_body = 0;
			if (part > 2 && !close)
				goto out; /* a third part */
			continue;
		}
		if (part == 0)
			continue; /* the preamble */
		if (!in_body) {
			if (l->linelen == 0) {
				in_body = 1;
				if (part == 2)
					p2_start = l->line_off + (off_t)l->consumed;
			}
			continue;
		}
		if (part == 1 && l->linelen > 0) {
			if (!line_is(l, "Version: 1"))
				goto out;
			version = 1;
		}
	}
	ok = r == 0 && close && part == 3 && version && p2_start >= 0 &&
	     p2_end >= p2_start && armor_only(m->body_fd, p2_start, p2_end);
out:
	free(l);
	return ok;
}

int
message_is_sealed(const struct message *m)
{
	struct mailmime_content *ct = NULL;
	int sealed = 0;

	if (header_content_type(&m->hdr, &ct) != PS_OK)
		return 0;
	if (ct == NULL)
		return sealed_inline(m);
	if (ct->ct_type != NULL && ct->ct_type->tp_type == MAILMIME_TYPE_COMPOSITE_TYPE &&
	    ct->ct_type->tp_data.tp_composite_type->ct_type ==
		    MAILMIME_COMPOSITE_TYPE_MULTIPART &&
	    ct->ct_subtype != NULL && strcasecmp(ct->ct_subtype, "encrypted") == 0) {
		char *proto = mailmime_content_param_get(ct, "protocol");

		if (proto != NULL && strcasecmp(proto, "application/pgp-encrypted") == 0)
			sealed = sealed_pgp_mime(m, mailmime_content_param_get(ct, "boundary"));
	} else if (ct->ct_type != NULL &&
		   ct->ct_type->tp_type == MAILMIME_TYPE_DISCRETE_TYPE &&
		   ct->ct_type->tp_data.tp_discrete_type->dt_type ==
			   MAILMIME_DISCRETE_TYPE_TEXT &&
		   ct->ct_subtype != NULL && strcasecmp(ct->ct_subtype, "plain") == 0)
		sealed = sealed_inline(m);
	mailmime_content_free(ct);
	return sealed;
}
