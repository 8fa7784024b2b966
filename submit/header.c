#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libetpan/libetpan.h>

#include "addr.h"
#include "buf.h"
#include "header.h"
#include "pslimits.h"

void
header_init(struct header *h)
{
	buf_init(&h->raw, PS_HEADER_MAX + PS_HEADER_ADDED_BYTES);
	h->f = NULL;
	h->n = 0;
	h->alloc = 0;
}

void
header_free(struct header *h)
{
	buf_free(&h->raw);
	x_free(&h->f);
	h->n = 0;
	h->alloc = 0;
}

int
header_name_valid(const char *p, size_t len)
{
	if (len == 0)
		return 0;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)p[i] < 33 || (unsigned char)p[i] > 126 ||
		    p[i] == ':')
			return 0;
	return 1;
}

static size_t
line_end(const char *p, size_t len, size_t pos, size_t *next)
{
	const char *nl = memchr(p + pos, '\n', len - pos);
	size_t e;

	if (nl == NULL) {
		*next = len;
		return len;
	}
	e = (size_t)(nl - p);
	*next = e + 1;
	if (e > pos && p[e - 1] == '\r')
		e--;
	return e;
}

static enum ps_status
field_push(struct header *h, const struct hfield *hf, char *why, size_t whylen)
{
	/* every push, not only when the array grows (it grows to 1024); a
	 * submission is held to PS_HEADER_FIELDS_MAX by submit_deliver(),
	 * this leaves room for the fields postseal adds */
	if (h->n >= PS_HEADER_FIELDS_MAX + PS_HEADER_ADDED_FIELDS)
		return ps_fail(PS_DATAERR, why, whylen, "more than %d header fields",
			       PS_HEADER_FIELDS_MAX);
	if (h->n == h->alloc) {
		size_t na = h->alloc ? h->alloc * 2 : 32;
		struct hfield *nf;

		if ((nf = realloc(h->f, na * sizeof(*nf))) == NULL)
			return ps_fail(PS_TEMPFAIL, why, whylen, "out of memory");
		h->f = nf;
		h->alloc = na;
	}
	h->f[h->n++] = *hf;
	return PS_OK;
}

enum ps_status
header_split(struct header *h, char *why, size_t whylen)
{
	const char *p = buf_str(&h->raw);
	size_t len = h->raw.len, pos = 0, lineno = 0;
	struct hfield cur;
	int have = 0;
	enum ps_status st;

	h->n = 0;
	if (memchr(p, '\0', len) != NULL)
		return ps_fail(PS_DATAERR, why, whylen, "NUL byte in the header");
	while (pos < len) {
		size_t next, e = line_end(p, len, pos, &next);

		lineno++;
		if (p[pos] == ' ' || p[pos] == '\t') {
			if (!have)
				return ps_fail(PS_DATAERR, why, whylen,
					       "header line %zu: continuation line "
					       "without a field before it",
					       lineno);
			cur.len = next - cur.off;
			cur.val_len = e - cur.val_off;
		} else {
			const char *colon = memchr(p + pos, ':', e - pos);
			size_t nlen;

			if (colon == NULL)
				return ps_fail(PS_DATAERR, why, whylen,
					       "header line %zu: not a "
					       "\"Name: value\" field (is an empty line "
					       "missing between header and body?)",
					       lineno);
			nlen = (size_t)(colon - (p + pos));
			/* obs-optional allows white space before the colon */
			while (nlen > 0 &&
			       (p[pos + nlen - 1] == ' ' || p[pos + nlen - 1] == '\t'))
				nlen--;
			if (!header_name_valid(p + pos, nlen))
				return ps_fail(PS_DATAERR, why, whylen,
					       "header line %zu: invalid field name",
					       lineno);
			if (have && (st = field_push(h, &cur, why, whylen)) != PS_OK)
				return st;
			cur.off = pos;
			cur.name_len = nlen;
			cur.val_off = (size_t)(colon - p) + 1;
			cur.val_len = e - cur.val_off;
			cur.len = next - pos;
			have = 1;
		}
		pos = next;
	}
	if (have)
		return field_push(h, &cur, why, whylen);
	return PS_OK;
}

enum ps_status
header_add(struct header *h, const char *name, const char *value, char *why,
	   size_t whylen)
{
	/* The raw section may lack a final line ending (a header with no
	 * body); add one before the new field. */
	if (h->raw.len > 0 && h->raw.data[h->raw.len - 1] != '\n' &&
	    buf_putc(&h->raw, '\n') < 0)
		goto toolong;
	if (buf_printf(&h->raw, "%s: %s\n", name, value) < 0)
		goto toolong;
	return header_split(h, why, whylen);
toolong:
	return ps_fail(PS_DATAERR, why, whylen, "header section too large");
}

int
header_name_is(const struct header *h, size_t i, const char *name)
{
	size_t nl = strlen(name);

	return h->f[i].name_len == nl &&
	       strncasecmp(h->raw.data + h->f[i].off, name, nl) == 0;
}

long
header_find(const struct header *h, const char *name, size_t start)
{
	for (size_t i = start; i < h->n; i++)
		if (header_name_is(h, i, name))
			return (long)i;
	return -1;
}

int
header_is_resent(const struct header *h)
{
	static const char *const resent[] = {"Resent-Date",	"Resent-From", "Resent-Sender",
					     "Resent-To",	"Resent-Cc",   "Resent-Bcc",
					     "Resent-Message-ID", "Resent-Reply-To", NULL};

	for (size_t k = 0; resent[k] != NULL; k++)
		if (header_find(h, resent[k], 0) >= 0)
			return 1;
	return 0;
}

const char *
header_value(const struct header *h, size_t i, size_t *len)
{
	*len = h->f[i].val_len;
	return h->raw.data + h->f[i].val_off;
}

/* --- the address-list parser (RFC 5322 3.4, with the obsolete forms of
 * 4.4 a real header carries) ------------------------------------------
 *
 * A cursor over the field value. Addresses are handed on exactly as they
 * were written, less comments and folding: a quoted local part keeps its
 * quotes and spaces ("carol smith"@example.com is not carolsmith), and
 * anything that is not an address (white space inside an angle-addr, a
 * word after it) is an error, never another address. */
struct ap {
	const char *p;
	size_t len, pos;
};

static int
ap_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c >= 0x80 || strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* white space, folding and (nested) comments; -1 on an unclosed comment.
 * Nesting has no limit of its own (RFC 5322 3.2.2; Postfix reads 200
 * deep): it is a count, bounded by the header's size, not a recursion. */
static int
ap_cfws(struct ap *a)
{
	size_t depth = 0;

	while (a->pos < a->len) {
		char c = a->p[a->pos];

		if (depth > 0 && c == '\\' && a->pos + 1 < a->len) {
			a->pos += 2;
			continue;
		}
		if (c == '(')
			depth++;
		else if (c == ')' && depth > 0)
			depth--;
		else if (depth == 0 && c != ' ' && c != '\t' && c != '\r' && c != '\n')
			return 0;
		a->pos++;
	}
	return depth > 0 ? -1 : 0;
}

static int
ap_peek(struct ap *a)
{
	return a->pos < a->len ? (unsigned char)a->p[a->pos] : -1;
}

/* one word (an atom, or a quoted-string as written, unfolded) appended
 * to out; 1 when a word was read, 0 when none is here, -1 on an error */
static int
ap_word(struct ap *a, struct buf *out)
{
	size_t s = a->pos;

	if (a->pos < a->len && a->p[a->pos] == '"') {
		a->pos++;
		buf_putc(out, '"');
		while (a->pos < a->len && a->p[a->pos] != '"') {
			char c = a->p[a->pos];

			if (c == '\\' && a->pos + 1 < a->len) {
				buf_append(out, a->p + a->pos, 2);
				a->pos += 2;
				continue;
			}
			if (c != '\r' && c != '\n') /* folding inside the quotes */
				buf_putc(out, c);
			a->pos++;
		}
		if (a->pos >= a->len)
			return -1; /* unclosed quote */
		a->pos++;
		buf_putc(out, '"');
		return 1;
	}
	while (a->pos < a->len && ap_atext((unsigned char)a->p[a->pos]))
		a->pos++;
	if (a->pos == s)
		return 0;
	buf_append(out, a->p + s, a->pos - s);
	return 1;
}

/* words separated by "." (CFWS around the dots allowed, as obs-local-part
 * and obs-domain do): a local part or a domain; *spaced set when two
 * words stood side by side without a dot (a phrase, never an address) */
static int
ap_dotted(struct ap *a, struct buf *out, int *spaced, size_t *nwords)
{
	int r;

	*spaced = 0;
	*nwords = 0;
	for (;;) {
		if (ap_cfws(a) < 0)
			return -1;
		if ((r = ap_word(a, out)) < 0)
			return -1;
		if (r == 0)
			return *nwords > 0 && out->len > 0 && out->data[out->len - 1] == '.' ? -1 : 0;
		(*nwords)++;
		if (ap_cfws(a) < 0)
			return -1;
		if (ap_peek(a) == '.') {
			a->pos++;
			buf_putc(out, '.');
			continue;
		}
		if (ap_peek(a) == '"' || (ap_peek(a) >= 0 && ap_atext((unsigned char)ap_peek(a)))) {
			*spaced = 1; /* "John Smith": a phrase */
			buf_putc(out, ' ');
		}
	}
}

/* domain after "@": a dot-atom, or a domain-literal as written */
static int
ap_domain(struct ap *a, struct buf *out)
{
	int spaced;
	size_t n;

	if (ap_cfws(a) < 0)
		return -1;
	if (ap_peek(a) == '[') {
		size_t s = a->pos;

		while (a->pos < a->len && a->p[a->pos] != ']') {
			if (a->p[a->pos] == '[' && a->pos > s)
				return -1;
			a->pos++;
		}
		if (a->pos >= a->len)
			return -1;
		a->pos++;
		buf_append(out, a->p + s, a->pos - s);
		return ap_cfws(a);
	}
	if (ap_dotted(a, out, &spaced, &n) < 0 || n == 0 || spaced)
		return -1;
	return 0;
}

static enum ps_status
mailbox_emit(const char *addr, int flags, addr_cb cb, void *ctx, char *why, size_t whylen)
{
	char reason[PS_WHY_MAX];

	if (addr_check(addr, strlen(addr), flags, reason, sizeof(reason)) < 0)
		return ps_fail(PS_DATAERR, why, whylen, "bad address <%.*s>: %s", PS_ADDR_MAX,
			       addr, reason);
	if (cb(addr, ctx) < 0)
		return ps_fail(PS_DATAERR, why, whylen, "too many recipients (limit %d)",
			       PS_RCPT_MAX);
	return PS_OK;
}

/* "<" [obs-route] addr-spec ">" at a->pos (the "<" consumed) */
static int
ap_angle(struct ap *a, struct buf *out)
{
	int spaced;
	size_t n;

	if (ap_cfws(a) < 0)
		return -1;
	/* obs-route: @a.example,@b.example: (dropped, RFC 5321 says so) */
	if (ap_peek(a) == '@') {
		struct buf route;

		buf_init(&route, PS_ADDR_MAX * 4);
		while (ap_peek(a) == '@' || ap_peek(a) == ',') {
			a->pos++;
			if (a->p[a->pos - 1] == '@' && ap_domain(a, &route) < 0) {
				buf_free(&route);
				return -1;
			}
			if (ap_cfws(a) < 0) {
				buf_free(&route);
				return -1;
			}
		}
		buf_free(&route);
		if (ap_peek(a) != ':')
			return -1;
		a->pos++;
	}
	if (ap_dotted(a, out, &spaced, &n) < 0 || n == 0 || spaced)
		return -1;
	if (ap_peek(a) == '@') {
		a->pos++;
		buf_putc(out, '@');
		if (ap_domain(a, out) < 0)
			return -1;
	}
	if (ap_cfws(a) < 0 || ap_peek(a) != '>')
		return -1;
	a->pos++;
	return ap_cfws(a);
}

/* one mailbox (or, when groups is set, a group of them); emits them */
static int
ap_address(struct ap *a, int groups, int flags, addr_cb cb, void *ctx, enum ps_status *st,
	   char *why, size_t whylen)
{
	struct buf w;
	int spaced, r = -1;
	size_t n;

	buf_init(&w, PS_HEADER_MAX);
	if (ap_cfws(a) < 0)
		goto out;
	if (ap_peek(a) == '<') {
		a->pos++;
		if (ap_angle(a, &w) < 0)
			goto out;
		*st = mailbox_emit(buf_str(&w), flags, cb, ctx, why, whylen);
		r = 0;
		goto out;
	}
	if (ap_dotted(a, &w, &spaced, &n) < 0 || n == 0 || w.failed)
		goto out;
	switch (ap_peek(a)) {
	case '@': /* the words were a local part */
		if (spaced)
			goto out;
		a->pos++;
		buf_putc(&w, '@');
		if (ap_domain(a, &w) < 0 || w.failed)
			goto out;
		if (ap_peek(a) == '<') {
			/* "x@y <z@w>": what looked like an address was a display
			 * name (an encoded-word with '@' in it, say); the address
			 * is the one in angle brackets, as Postfix reads it */
			a->pos++;
			buf_reset(&w);
			if (ap_angle(a, &w) < 0)
				goto out;
		}
		*st = mailbox_emit(buf_str(&w), flags, cb, ctx, why, whylen);
		r = 0;
		break;
	case '<': /* the words were a display name */
		a->pos++;
		buf_reset(&w);
		if (ap_angle(a, &w) < 0)
			goto out;
		*st = mailbox_emit(buf_str(&w), flags, cb, ctx, why, whylen);
		r = 0;
		break;
	case ':': /* a group: "name: a@x, b@y;" */
		if (!groups)
			goto out;
		a->pos++;
		for (;;) {
			if (ap_cfws(a) < 0)
				goto out;
			if (ap_peek(a) == ';') {
				a->pos++;
				r = ap_cfws(a);
				break;
			}
			if (ap_peek(a) == ',') { /* obs: empty members */
				a->pos++;
				continue;
			}
			if (ap_address(a, 0, flags, cb, ctx, st, why, whylen) < 0 || *st != PS_OK)
				goto out;
			if (ap_cfws(a) < 0)
				goto out;
			if (ap_peek(a) == ',')
				a->pos++;
			else if (ap_peek(a) != ';')
				goto out;
		}
		break;
	default: /* a bare local part ("root"), when allowed */
		if (spaced)
			goto out;
		*st = mailbox_emit(buf_str(&w), flags, cb, ctx, why, whylen);
		r = 0;
		break;
	}
out:
	buf_free(&w);
	return r;
}

enum ps_status
address_list_parse(const char *val, size_t len, int flags, addr_cb cb, void *ctx, char *why,
		   size_t whylen)
{
	struct ap a = {val, len, 0};
	enum ps_status st = PS_OK;

	for (;;) {
		if (ap_cfws(&a) < 0)
			return ps_fail(PS_DATAERR, why, whylen,
				       "cannot parse address list (unclosed comment)");
		if (a.pos >= a.len)
			return PS_OK;
		if (ap_peek(&a) == ',') { /* obs-addr-list: empty elements */
			a.pos++;
			continue;
		}
		if (ap_address(&a, 1, flags, cb, ctx, &st, why, whylen) < 0)
			return st != PS_OK ? st
					   : ps_fail(PS_DATAERR, why, whylen,
						     "cannot parse address list (at offset %zu)", a.pos);
		if (st != PS_OK)
			return st;
		if (ap_cfws(&a) < 0)
			return ps_fail(PS_DATAERR, why, whylen,
				       "cannot parse address list (unclosed comment)");
		if (a.pos < a.len && ap_peek(&a) != ',')
			return ps_fail(PS_DATAERR, why, whylen,
				       "cannot parse address list (garbage at offset %zu)", a.pos);
	}
}

enum ps_status
header_addresses(const struct header *h, const char *name, int flags,
		 addr_cb cb, void *ctx, char *why, size_t whylen)
{
	char reason[PS_WHY_MAX];
	enum ps_status st;
	long i = -1;

	while ((i = header_find(h, name, (size_t)(i + 1))) >= 0) {
		size_t vlen;
		const char *v = header_value(h, (size_t)i, &vlen);

		st = address_list_parse(v, vlen, flags, cb, ctx, reason,
					sizeof(reason));
		if (st != PS_OK)
			return ps_fail(st, why, whylen, "%s: header: %s", name,
				       reason);
	}
	return PS_OK;
}

enum ps_status
header_content_type(const struct header *h, struct mailmime_content **ct)
{
	long i = header_find(h, "Content-Type", 0);
	size_t vlen, idx = 0;
	const char *v;
	char *copy;
	int r;

	*ct = NULL;
	if (i < 0)
		return PS_OK;
	v = header_value(h, (size_t)i, &vlen);
	/* libetpan finds the end of a folded value by its CRLF */
	if ((copy = malloc(vlen + 3)) == NULL)
		return PS_TEMPFAIL;
	memcpy(copy, v, vlen);
	memcpy(copy + vlen, "\r\n", 3);
	r = mailmime_content_parse(copy, vlen + 2, &idx, ct);
	free(copy);
	if (r != MAILIMF_NO_ERROR) {
		*ct = NULL;
		return PS_DATAERR;
	}
	return PS_OK;
}
