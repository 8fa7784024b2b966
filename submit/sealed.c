#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libetpan/libetpan.h>

#include "armor.h"
#include "fileio.h"
#include "header.h"
#include "sealed.h"

/* The lines of [off, end) of a file, read PS_IO_CHUNK at a time. */
struct lines {
	int fd;
	off_t off, end;
	char *buf;
	size_t start, have;
	const char *line; /* the current line, its ending removed */
	size_t len;	  /* and white space at its end */
};

/* 1 with a line, 0 at the end, -1 on a read error or an overlong line. */
static int
lines_next(struct lines *l)
{
	char *nl;
	size_t n;

	for (;;) {
		nl = memchr(l->buf + l->start, '\n', l->have - l->start);
		if (nl != NULL || l->off >= l->end)
			break;
		if (l->start > 0) {
			memmove(l->buf, l->buf + l->start, l->have - l->start);
			l->have -= l->start;
			l->start = 0;
		}
		if (l->have == PS_IO_CHUNK)
			return -1;
		{
			size_t want = PS_IO_CHUNK - l->have;
			ssize_t r;

			if ((off_t)want > l->end - l->off)
				want = (size_t)(l->end - l->off);
			r = pread_some(l->fd, l->buf + l->have, want, l->off);
			if (r <= 0)
				return -1;
			l->off += r;
			l->have += (size_t)r;
		}
	}
	if (l->start == l->have)
		return 0;
	n = nl != NULL ? (size_t)(nl - (l->buf + l->start)) : l->have - l->start;
	l->line = l->buf + l->start;
	l->start += n + (nl != NULL);
	if (n > PS_SEALED_LINE_MAX)
		return -1;
	while (n > 0 && (l->line[n - 1] == '\r' || l->line[n - 1] == ' ' || l->line[n - 1] == '\t'))
		n--;
	l->len = n;
	return 1;
}

/* The state of one examination. */
struct exam {
	struct lines l;
	struct armor a;
	struct pgpmsg w;
	struct sealed_info *si;
	/* PGP/MIME */
	const char *boundary;
	size_t blen;
	char field[PS_SEALED_FIELD_MAX + 1]; /* a part header field, unfolded */
	size_t flen;
	unsigned seen; /* the part's fields so far, a bit each */
};

static int
no(struct exam *e, const char *why)
{
	snprintf(e->si->why, sizeof(e->si->why), "%s", why);
	return 0;
}

static int
to_walker(void *ctx, const unsigned char *p, size_t n)
{
	return pgpmsg_feed(ctx, p, n);
}

/* The armor's reason, or the packets' when they were the trouble. */
static int
armor_no(struct exam *e)
{
	return no(e, e->a.sink_failed ? e->w.why : e->a.why);
}

static int
armor_finish(struct exam *e)
{
	if (armor_end(&e->a) < 0)
		return armor_no(e);
	if (pgpmsg_end(&e->w) < 0)
		return no(e, e->w.why);
	e->si->npkesk = e->w.npkesk;
	e->si->nskesk = e->w.nskesk;
	return 1;
}

static int
examine_inline(struct exam *e)
{
	int r;

	while ((r = lines_next(&e->l)) == 1)
		if (armor_line(&e->a, e->l.line, e->l.len) < 0) {
			e->si->claimed |= armor_begun(&e->a);
			return armor_no(e);
		}
	e->si->claimed |= armor_begun(&e->a);
	if (r < 0)
		return no(e, "a line too long, or a read error");
	return armor_finish(e);
}

/* Words that can describe an encrypted message and say nothing else. */
static int
vocabulary_word(const char *p, size_t n)
{
	static const char *const words[] = {
		"a",	   "an",	     "and",	    "asc",     "data",	  "digitally",
		"encrypted", "encryption", "format",  "gpg",     "identification",
		"in",	   "information", "is",	    "message", "mime",	  "msg",
		"multi",   "multipart",	     "of",	    "openpgp", "part",	  "pgp",
		"rfc",	   "the",	     "this",	    "version", "versions", "1847",
		"2015",	   "2440",	     "3156",	    "4880",    "9580",	  NULL};

	for (size_t k = 0; words[k] != NULL; k++)
		if (strlen(words[k]) == n && strncasecmp(p, words[k], n) == 0)
			return 1;
	return 0;
}

static int
is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* A text of the vocabulary (sealed.h). */
static int
vocabulary_text(const char *p, size_t n)
{
	size_t i = 0;

	if (n > 200)
		return 0;
	while (i < n) {
		size_t w = i;

		if ((unsigned char)p[i] != '\t' &&
		    ((unsigned char)p[i] < 0x20 || (unsigned char)p[i] > 0x7E))
			return 0;
		if (!is_alnum((unsigned char)p[i])) {
			i++;
			continue;
		}
		while (i < n && is_alnum((unsigned char)p[i]))
			i++;
		if (!vocabulary_word(p + w, i - w))
			return 0;
	}
	return 1;
}

/* A MIME field value: token ["/" token] *(";" attribute "=" value),
 * white space around the parts, no comments, no RFC 2231 forms. */
#define MIME_PARAMS_MAX 2

struct mime_value {
	const char *type, *subtype;
	size_t type_len, subtype_len;
	struct {
		const char *name, *value;
		size_t name_len, value_len;
	} param[MIME_PARAMS_MAX];
	size_t nparam;
};

static void
skip_ws(const char *p, size_t len, size_t *pos)
{
	while (*pos < len && (p[*pos] == ' ' || p[*pos] == '\t'))
		(*pos)++;
}

/* RFC 2045 token */
static int
parse_token(const char *p, size_t len, size_t *pos, const char **tok, size_t *tok_len)
{
	size_t s = *pos;

	while (*pos < len && (unsigned char)p[*pos] > 0x20 && (unsigned char)p[*pos] < 0x7F &&
	       strchr("()<>@,;:\\\"/[]?=", p[*pos]) == NULL)
		(*pos)++;
	*tok = p + s;
	*tok_len = *pos - s;
	return *tok_len > 0 ? 0 : -1;
}

/* A quoted string without escapes, or a token. */
static int
parse_param_value(const char *p, size_t len, size_t *pos, const char **v, size_t *vl)
{
	size_t s;

	if (*pos >= len || p[*pos] != '"')
		return parse_token(p, len, pos, v, vl);
	s = ++(*pos);
	while (*pos < len && p[*pos] != '"') {
		if (p[*pos] == '\\' || (unsigned char)p[*pos] < 0x20 || (unsigned char)p[*pos] > 0x7E)
			return -1;
		(*pos)++;
	}
	if (*pos >= len)
		return -1;
	*v = p + s;
	*vl = *pos - s;
	(*pos)++;
	return 0;
}

static int
parse_mime_value(const char *p, size_t len, size_t *pos, struct mime_value *out)
{
	memset(out, 0, sizeof(*out));
	skip_ws(p, len, pos);
	if (parse_token(p, len, pos, &out->type, &out->type_len) < 0)
		return -1;
	if (*pos < len && p[*pos] == '/') {
		(*pos)++;
		if (parse_token(p, len, pos, &out->subtype, &out->subtype_len) < 0)
			return -1;
	}
	skip_ws(p, len, pos);
	while (*pos < len && p[*pos] == ';') {
		if (out->nparam == MIME_PARAMS_MAX)
			return -1;
		(*pos)++;
		skip_ws(p, len, pos);
		if (parse_token(p, len, pos, &out->param[out->nparam].name,
				&out->param[out->nparam].name_len) < 0)
			return -1;
		skip_ws(p, len, pos);
		if (*pos >= len || p[*pos] != '=')
			return -1;
		(*pos)++;
		skip_ws(p, len, pos);
		if (parse_param_value(p, len, pos, &out->param[out->nparam].value,
				      &out->param[out->nparam].value_len) < 0)
			return -1;
		out->nparam++;
		skip_ws(p, len, pos);
	}
	return *pos == len ? 0 : -1; /* trailing garbage */
}

static int
is_word(const char *p, size_t n, const char *w)
{
	return strlen(w) == n && strncasecmp(p, w, n) == 0;
}

/* The value has the type (and subtype, NULL: none) given, and each of
 * its parameters is called param and is of the vocabulary. */
static int
mime_value_is(const char *p, size_t len, const char *type, const char *subtype,
	      const char *param)
{
	struct mime_value v;
	size_t pos = 0;

	if (parse_mime_value(p, len, &pos, &v) < 0 || !is_word(v.type, v.type_len, type))
		return 0;
	if (subtype == NULL ? v.subtype != NULL
			    : v.subtype == NULL || !is_word(v.subtype, v.subtype_len, subtype))
		return 0;
	for (size_t k = 0; k < v.nparam; k++)
		if (param == NULL || !is_word(v.param[k].name, v.param[k].name_len, param) ||
		    !vocabulary_text(v.param[k].value, v.param[k].value_len))
			return 0;
	return v.nparam <= 1;
}

enum { F_TYPE = 1, F_DESCRIPTION = 2, F_DISPOSITION = 4, F_ENCODING = 8 };

/* One part header field of part 1 or 2 (e->field, unfolded). */
static int
part_field(struct exam *e, int part)
{
	const char *f = e->field, *colon = memchr(e->field, ':', e->flen);
	size_t nl, vl;
	const char *v;
	unsigned bit;
	int ok;

	if (colon == NULL)
		return no(e, "a part header line that is not a field");
	nl = (size_t)(colon - f);
	v = colon + 1;
	vl = e->flen - nl - 1;
	if (is_word(f, nl, "Content-Type")) {
		bit = F_TYPE;
		ok = part == 1 ? mime_value_is(v, vl, "application", "pgp-encrypted", NULL)
			       : mime_value_is(v, vl, "application", "octet-stream", "name");
	} else if (is_word(f, nl, "Content-Description")) {
		bit = F_DESCRIPTION;
		ok = vocabulary_text(v, vl);
	} else if (is_word(f, nl, "Content-Disposition")) {
		bit = F_DISPOSITION;
		ok = mime_value_is(v, vl, "inline", NULL, "filename") ||
		     mime_value_is(v, vl, "attachment", NULL, "filename");
	} else if (is_word(f, nl, "Content-Transfer-Encoding")) {
		bit = F_ENCODING;
		ok = mime_value_is(v, vl, "7bit", NULL, NULL);
	} else
		return no(e, "a part header field that RFC 3156 does not use");
	if (e->seen & bit)
		return no(e, "a part header field twice");
	e->seen |= bit;
	if (!ok)
		return no(e, "a part header field with a value other than RFC 3156's");
	return 1;
}

enum { M_PREAMBLE, M_HEAD1, M_BODY1, M_HEAD2, M_BODY2, M_EPILOGUE };

/* A line of the part headers of part (1 or 2); 1 to go on, 0 refused. */
static int
part_header_line(struct exam *e, int part, int *state)
{
	const char *p = e->l.line;
	size_t n = e->l.len;

	if (n > 0 && (p[0] == ' ' || p[0] == '\t')) {
		/* a continuation: unfolded, its white space kept */
		if (e->flen == 0)
			return no(e, "a part header starting with a continuation line");
		if (n > sizeof(e->field) - 1 - e->flen)
			return no(e, "a part header field too long");
		memcpy(e->field + e->flen, p, n);
		e->flen += n;
		return 1;
	}
	if (e->flen > 0 && !part_field(e, part))
		return 0;
	e->flen = 0;
	if (n == 0) {
		if (!(e->seen & F_TYPE))
			return no(e, "a part without Content-Type");
		*state = part == 1 ? M_BODY1 : M_BODY2;
		return 1;
	}
	if (n > sizeof(e->field) - 1)
		return no(e, "a part header field too long");
	memcpy(e->field, p, n);
	e->flen = n;
	return 1;
}

static int
examine_pgp_mime(struct exam *e)
{
	int state = M_PREAMBLE, version = 0, r;
	size_t preamble = 0;

	e->si->claimed = 1;
	while ((r = lines_next(&e->l)) == 1) {
		const char *p = e->l.line;
		size_t n = e->l.len;

		if (state != M_EPILOGUE && n >= e->blen + 2 && p[0] == '-' && p[1] == '-' &&
		    memcmp(p + 2, e->boundary, e->blen) == 0) {
			int close = n == e->blen + 4 && p[n - 2] == '-' && p[n - 1] == '-';

			if (n != e->blen + 2 && !close)
				return no(e, "a line that begins like the boundary delimiter");
			if (state == M_PREAMBLE && !close)
				state = M_HEAD1;
			else if (state == M_BODY1 && !close) {
				if (!version)
					return no(e, "the first part is not \"Version: 1\"");
				state = M_HEAD2;
				e->seen = 0;
			} else if (state == M_BODY2 && close)
				state = M_EPILOGUE;
			else
				return no(e, state == M_BODY2 ? "a third part"
							      : "not exactly two parts");
			continue;
		}
		switch (state) {
		case M_PREAMBLE:
			if (n == 0)
				break;
			if (++preamble > PS_SEALED_PREAMBLE_LINES || !vocabulary_text(p, n))
				return no(e, "text in the preamble other than the standard one");
			break;
		case M_HEAD1:
		case M_HEAD2:
			if (!part_header_line(e, state == M_HEAD1 ? 1 : 2, &state))
				return 0;
			break;
		case M_BODY1:
			if (n == 0)
				break;
			if (version || n != 10 || memcmp(p, "Version: 1", 10) != 0)
				return no(e, "the first part is not \"Version: 1\"");
			version = 1;
			break;
		case M_BODY2:
			if (armor_line(&e->a, p, n) < 0)
				return armor_no(e);
			break;
		case M_EPILOGUE:
			if (n != 0)
				return no(e, "text after the closing delimiter");
			break;
		}
	}
	if (r < 0)
		return no(e, "a line too long, or a read error");
	if (state != M_EPILOGUE)
		return no(e, "no closing delimiter after two parts");
	return armor_finish(e);
}

/* RFC 2046 boundary: 1 to 70 bchars, not ending in a space. */
static int
boundary_ok(const char *b)
{
	size_t n = b != NULL ? strlen(b) : 0;

	if (n == 0 || n > 70 || b[n - 1] == ' ')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!is_alnum((unsigned char)b[i]) && strchr("'()+_,-./:=? ", b[i]) == NULL)
			return 0;
	return 1;
}

/* At most one Content-Transfer-Encoding, and one that decodes to itself. */
static int
top_encoding_ok(const struct header *h)
{
	long i = header_find(h, "Content-Transfer-Encoding", 0);
	const char *v;
	size_t vl, s = 0;

	if (i < 0)
		return 1;
	if (header_find(h, "Content-Transfer-Encoding", (size_t)i + 1) >= 0)
		return 0;
	v = header_value(h, (size_t)i, &vl);
	while (s < vl && (v[s] == ' ' || v[s] == '\t' || v[s] == '\r' || v[s] == '\n'))
		s++;
	while (vl > s && (v[vl - 1] == ' ' || v[vl - 1] == '\t' || v[vl - 1] == '\r' ||
			  v[vl - 1] == '\n'))
		vl--;
	return is_word(v + s, vl - s, "7bit") || is_word(v + s, vl - s, "8bit");
}

static int
examine(const struct message *m, struct exam *e)
{
	struct mailmime_content *ct = NULL;
	long first;
	int r = 0;

	if (m->body_fd < 0 || m->body_len == 0)
		return no(e, "no body");
	first = header_find(&m->hdr, "Content-Type", 0);
	if (first >= 0 && header_find(&m->hdr, "Content-Type", (size_t)first + 1) >= 0)
		return no(e, "more than one Content-Type field");
	if (!top_encoding_ok(&m->hdr))
		return no(e, "a Content-Transfer-Encoding other than 7bit or 8bit");
	if (header_content_type(&m->hdr, &ct) != PS_OK)
		return no(e, "a Content-Type that does not parse");
	if (ct == NULL) {
		e->si->kind = SEALED_INLINE;
		return examine_inline(e);
	}
	if (ct->ct_type != NULL && ct->ct_type->tp_type == MAILMIME_TYPE_COMPOSITE_TYPE &&
	    ct->ct_type->tp_data.tp_composite_type->ct_type == MAILMIME_COMPOSITE_TYPE_MULTIPART &&
	    ct->ct_subtype != NULL && strcasecmp(ct->ct_subtype, "encrypted") == 0) {
		char *proto = mailmime_content_param_get(ct, "protocol");

		e->boundary = mailmime_content_param_get(ct, "boundary");
		e->si->kind = SEALED_PGP_MIME;
		if (proto == NULL || strcasecmp(proto, "application/pgp-encrypted") != 0)
			r = no(e, "multipart/encrypted, but not with OpenPGP");
		else if (!boundary_ok(e->boundary))
			r = no(e, "multipart/encrypted without a valid boundary");
		else {
			e->blen = strlen(e->boundary);
			r = examine_pgp_mime(e);
		}
	} else if (ct->ct_type != NULL && ct->ct_type->tp_type == MAILMIME_TYPE_DISCRETE_TYPE &&
		   ct->ct_type->tp_data.tp_discrete_type->dt_type == MAILMIME_DISCRETE_TYPE_TEXT &&
		   ct->ct_subtype != NULL && strcasecmp(ct->ct_subtype, "plain") == 0) {
		e->si->kind = SEALED_INLINE;
		r = examine_inline(e);
	} else
		r = no(e, "a Content-Type other than text/plain or multipart/encrypted");
	mailmime_content_free(ct);
	return r;
}

int
sealed_examine(const struct message *m, struct sealed_info *si)
{
	struct exam *e = calloc(1, sizeof(*e));
	int r = 0;

	si->kind = SEALED_NO;
	si->claimed = 0;
	si->npkesk = si->nskesk = 0;
	si->why[0] = '\0';
	if (e == NULL || (e->l.buf = malloc(PS_IO_CHUNK)) == NULL) {
		snprintf(si->why, sizeof(si->why), "out of memory");
		goto out;
	}
	e->si = si;
	e->l.fd = m->body_fd;
	e->l.end = m->body_len;
	armor_init(&e->a, "PGP MESSAGE", to_walker, &e->w);
	pgpmsg_init(&e->w, si->pkesk, PS_SEALED_ESK_MAX);
	r = examine(m, e);
out:
	if (!r) {
		si->kind = SEALED_NO;
		si->npkesk = si->nskesk = 0;
	}
	if (e != NULL)
		free(e->l.buf);
	free(e);
	return r;
}

int
message_is_sealed(const struct message *m)
{
	struct sealed_info *si = malloc(sizeof(*si));
	int r;

	if (si == NULL)
		return 0;
	r = sealed_examine(m, si);
	free(si);
	return r;
}

/* hex (any case) equals the octets p[0..n) */
static int
hex_is(const char *hex, const unsigned char *p, size_t n)
{
	static const char digits[] = "0123456789ABCDEF";

	if (hex == NULL || strlen(hex) != 2 * n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char hi = hex[2 * i], lo = hex[2 * i + 1];

		if (hi >= 'a' && hi <= 'f')
			hi = (char)(hi - 'a' + 'A');
		if (lo >= 'a' && lo <= 'f')
			lo = (char)(lo - 'a' + 'A');
		if (hi != digits[p[i] >> 4] || lo != digits[p[i] & 0x0F])
			return 0;
	}
	return 1;
}

int
sealed_names_key(const struct sealed_info *si, const char *keyid, const char *fpr)
{
	for (size_t i = 0; i < si->npkesk; i++) {
		const struct pgpmsg_pkesk *k = &si->pkesk[i];

		if (k->anonymous)
			continue;
		if (k->fprlen > 0 && fpr != NULL) {
			if (hex_is(fpr, k->fpr, k->fprlen))
				return 1;
		} else if (hex_is(keyid, k->keyid, 8))
			return 1;
	}
	return 0;
}

int
sealed_names_gpgme_key(const struct sealed_info *si, gpgme_key_t key)
{
	if (key == NULL)
		return 0;
	for (gpgme_subkey_t sk = key->subkeys; sk != NULL; sk = sk->next)
		if (sk->can_encrypt && !sk->revoked && !sk->expired && !sk->disabled &&
		    !sk->invalid && sealed_names_key(si, sk->keyid, sk->fpr))
			return 1;
	return 0;
}
