#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libetpan/libetpan.h>

#include "addr.h"
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

static enum ps_status
mailbox_emit(struct mailimf_mailbox *mb, int flags, addr_cb cb, void *ctx,
	     char *why, size_t whylen)
{
	char reason[PS_WHY_MAX];
	const char *a = mb->mb_addr_spec;

	if (addr_check(a, strlen(a), flags, reason, sizeof(reason)) < 0)
		return ps_fail(PS_DATAERR, why, whylen, "bad address <%.*s>: %s",
			       PS_ADDR_MAX, a, reason);
	if (cb(a, ctx) < 0)
		return ps_fail(PS_DATAERR, why, whylen,
			       "too many recipients (limit %d)", PS_RCPT_MAX);
	return PS_OK;
}

/* Skip white space and (nested) comments; return the new position. */
static size_t
skip_cfws(const char *p, size_t len, size_t i)
{
	int depth = 0;

	while (i < len) {
		char c = p[i];

		if (depth > 0 && c == '\\' && i + 1 < len) {
			i += 2;
			continue;
		}
		if (c == '(') {
			if (++depth > 32)
				return i; /* hostile nesting: leave it as garbage */
		} else if (c == ')' && depth > 0)
			depth--;
		else if (depth == 0 && c != ' ' && c != '\t' && c != '\r' && c != '\n')
			return i;
		i++;
	}
	return depth > 0 ? len - 1 : i;
}

enum ps_status
address_list_parse(const char *val, size_t len, int flags, addr_cb cb,
		   void *ctx, char *why, size_t whylen)
{
	struct mailimf_address_list *al = NULL;
	size_t idx = 0, k;
	enum ps_status st = PS_OK;
	clistiter *it, *jt;
	char *copy;
	int r;

	/* An empty field ("To:") carries no address; libetpan rejects it. */
	for (k = 0; k < len; k++)
		if (val[k] != ' ' && val[k] != '\t' && val[k] != '\r' &&
		    val[k] != '\n')
			break;
	if (k == len)
		return PS_OK;
	/* libetpan wants the value to end in CRLF to find the end of a
	 * folded field; give it a private, terminated copy. */
	if ((copy = malloc(len + 3)) == NULL)
		return ps_fail(PS_TEMPFAIL, why, whylen, "out of memory");
	memcpy(copy, val, len);
	memcpy(copy + len, "\r\n", 3);
	r = mailimf_address_list_parse(copy, len + 2, &idx, &al);
	if (r != MAILIMF_NO_ERROR) {
		st = ps_fail(PS_DATAERR, why, whylen, "cannot parse address list");
		goto out;
	}
	/* trailing garbage: only white space and comments may follow
	 * ("root (Cron Daemon)") */
	k = skip_cfws(copy, len + 2, idx);
	if (k < len + 2) {
		st = ps_fail(PS_DATAERR, why, whylen,
			     "cannot parse address list (garbage at offset %zu)", k);
		goto out;
	}
	for (it = clist_begin(al->ad_list); it != NULL; it = clist_next(it)) {
		struct mailimf_address *ad = clist_content(it);

		if (ad->ad_type == MAILIMF_ADDRESS_MAILBOX) {
			st = mailbox_emit(ad->ad_data.ad_mailbox, flags, cb, ctx,
					  why, whylen);
		} else if (ad->ad_data.ad_group->grp_mb_list != NULL) {
			clist *l = ad->ad_data.ad_group->grp_mb_list->mb_list;

			for (jt = clist_begin(l); jt != NULL && st == PS_OK;
			     jt = clist_next(jt))
				st = mailbox_emit(clist_content(jt), flags, cb, ctx,
						  why, whylen);
		}
		if (st != PS_OK)
			break;
	}
out:
	if (al != NULL)
		mailimf_address_list_free(al);
	free(copy);
	return st;
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
