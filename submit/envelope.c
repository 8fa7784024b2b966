#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "envelope.h"

void
rcptlist_free(struct rcptlist *l)
{
	x_free(&l->v);
	l->n = l->alloc = 0;
}

long
rcptlist_find(const struct rcptlist *l, const char *addr)
{
	for (size_t i = 0; i < l->n; i++)
		if (addr_equal(l->v[i].addr, addr))
			return (long)i;
	return -1;
}

int
rcptlist_add(struct rcptlist *l, const char *addr, int visible)
{
	long i = rcptlist_find(l, addr);

	if (i >= 0) {
		l->v[i].visible |= visible;
		return 0;
	}
	if (l->n >= PS_RCPT_MAX || strlen(addr) > PS_ADDR_MAX)
		return -1;
	if (l->n == l->alloc) {
		size_t na = l->alloc ? l->alloc * 2 : 8;
		struct rcpt *nv = realloc(l->v, na * sizeof(*nv));

		if (nv == NULL)
			return -1;
		l->v = nv;
		l->alloc = na;
	}
	memset(&l->v[l->n], 0, sizeof(l->v[l->n]));
	snprintf(l->v[l->n].addr, sizeof(l->v[l->n].addr), "%s", addr);
	l->v[l->n].visible = visible;
	l->n++;
	return 0;
}

struct add_ctx {
	struct rcptlist *l;
	int visible;
};

static int
add_cb(const char *addr, void *vctx)
{
	struct add_ctx *ctx = vctx;

	return rcptlist_add(ctx->l, addr, ctx->visible);
}

enum ps_status
envelope_add_arg(struct rcptlist *l, const char *arg, char *why, size_t whylen)
{
	char a[PS_ADDR_MAX + 1], reason[PS_WHY_MAX], reason2[PS_WHY_MAX];
	struct add_ctx ctx = {l, 0};

	if (addr_strip(arg, a, sizeof(a)) < 0)
		return ps_fail(PS_DATAERR, why, whylen,
			       "bad recipient address \"%.64s...\": longer than %d "
			       "bytes",
			       arg, PS_ADDR_MAX);
	if (addr_check(a, strlen(a), ADDR_LOCAL_OK, reason, sizeof(reason)) == 0) {
		if (rcptlist_add(l, a, 0) < 0)
			return ps_fail(PS_DATAERR, why, whylen,
				       "too many recipients (limit %d)", PS_RCPT_MAX);
		return PS_OK;
	}
	/* "Name <addr>" or a comma-separated list, as sendmail allows */
	if (strpbrk(arg, "<,") != NULL &&
	    address_list_parse(arg, strlen(arg), ADDR_LOCAL_OK, add_cb, &ctx,
			       reason2, sizeof(reason2)) == PS_OK)
		return PS_OK;
	return ps_fail(PS_DATAERR, why, whylen, "bad recipient address \"%.80s\": %s",
		       arg, reason);
}

void
undecided_free(struct undecidedlist *u)
{
	free(u->v);
	u->v = NULL;
	u->n = 0;
}

/* src into dst as printable ASCII: a DSN and a terminal get no control
 * character, line break or stray byte of the input */
static void
printable(char *dst, size_t dstlen, const char *src, size_t len)
{
	size_t k = 0;

	for (size_t i = 0; i < len && k + 1 < dstlen; i++)
		dst[k++] = (unsigned char)src[i] >= 0x20 && (unsigned char)src[i] < 0x7F ? src[i]
											  : '?';
	dst[k] = '\0';
}

static enum ps_status
undecided_add(struct undecidedlist *u, const char *what, size_t whatlen, const char *reason,
	      char *why, size_t whylen)
{
	struct undecided *nv;

	if (u->n >= PS_RCPT_MAX)
		return ps_fail(PS_DATAERR, why, whylen, "too many recipients (limit %d)",
			       PS_RCPT_MAX);
	if ((nv = realloc(u->v, (u->n + 1) * sizeof(*nv))) == NULL)
		return ps_fail(PS_TEMPFAIL, why, whylen, "out of memory");
	u->v = nv;
	printable(nv[u->n].what, sizeof(nv[u->n].what), what, whatlen);
	printable(nv[u->n].why, sizeof(nv[u->n].why), reason, strlen(reason));
	u->n++;
	return PS_OK;
}

/* The addresses of every field called name, added to out; a field that
 * does not parse adds none (what it added is taken back) and goes to
 * und, or fails with und NULL. */
static enum ps_status
field_rcpts(const struct header *h, const char *name, struct add_ctx *ctx,
	    struct undecidedlist *und, char *why, size_t whylen)
{
	size_t n0 = ctx->l->n;
	char reason[PS_WHY_MAX];
	enum ps_status st;

	st = header_addresses(h, name, ADDR_LOCAL_OK, add_cb, ctx, reason, sizeof(reason));
	if (st == PS_OK)
		return PS_OK;
	if (und == NULL || st != PS_DATAERR || ctx->l->n >= PS_RCPT_MAX)
		return ps_fail(st, why, whylen, "%s", reason); /* the list is full */
	ctx->l->n = n0;
	/* a blind field is not quoted: the notice and the log would name
	 * those it hides */
	if (strcasecmp(name, "Bcc") == 0 || strcasecmp(name, "Resent-Bcc") == 0) {
		char what[64], blind[128];

		snprintf(what, sizeof(what), "a %s field", name);
		snprintf(blind, sizeof(blind), "%s: a field that cannot be read as addresses", name);
		return undecided_add(und, what, strlen(what), blind, why, whylen);
	}
	for (long i = header_find(h, name, 0); i >= 0; i = header_find(h, name, (size_t)i + 1)) {
		char what[PS_ADDR_MAX + 32];
		size_t vlen;
		const char *v = header_value(h, (size_t)i, &vlen);

		while (vlen > 0 && (*v == ' ' || *v == '\t')) {
			v++;
			vlen--;
		}
		snprintf(what, sizeof(what), "%s: %.*s", name, (int)(vlen > 200 ? 200 : vlen), v);
		if ((st = undecided_add(und, what, strlen(what), reason, why, whylen)) != PS_OK)
			return st;
	}
	return PS_OK;
}

enum ps_status
envelope_build(const struct cli *c, const struct header *h, struct rcptlist *out,
	       struct undecidedlist *und, char *why, size_t whylen)
{
	struct rcptlist visible = {0};
	struct add_ctx ctx;
	char reason[PS_WHY_MAX];
	enum ps_status st = PS_OK;
	int resent;
	const char *to, *cc, *bcc;

	resent = header_find(h, "Resent-To", 0) >= 0 ||
		 header_find(h, "Resent-Cc", 0) >= 0 ||
		 header_find(h, "Resent-Bcc", 0) >= 0;
	to = resent ? "Resent-To" : "To";
	cc = resent ? "Resent-Cc" : "Cc";
	bcc = resent ? "Resent-Bcc" : "Bcc";

	/* who is visible (To, Cc): from what parses; an address that does
	 * not counts as blind, which costs a copy, never a disclosure */
	ctx.l = &visible;
	ctx.visible = 1;
	(void)header_addresses(h, to, ADDR_LOCAL_OK, add_cb, &ctx, reason, sizeof(reason));
	(void)header_addresses(h, cc, ADDR_LOCAL_OK, add_cb, &ctx, reason, sizeof(reason));
	for (int i = 0; i < c->nrcpts; i++) {
		if (out->n >= PS_RCPT_MAX) {
			st = ps_fail(PS_DATAERR, why, whylen, "too many recipients (limit %d)",
				     PS_RCPT_MAX);
			goto out;
		}
		size_t n0 = out->n;

		st = envelope_add_arg(out, c->rcpts[i], reason, sizeof(reason));
		if (st == PS_DATAERR && und != NULL && out->n < PS_RCPT_MAX) {
			/* none of it: an address list may have parsed in part */
			out->n = n0;
			st = undecided_add(und, c->rcpts[i], strlen(c->rcpts[i]), reason, why,
					   whylen);
		} else if (st != PS_OK)
			ps_fail(st, why, whylen, "%s", reason);
		if (st != PS_OK)
			goto out;
	}
	if (c->extract) {
		ctx.l = out;
		ctx.visible = 0;
		if ((st = field_rcpts(h, to, &ctx, und, why, whylen)) != PS_OK ||
		    (st = field_rcpts(h, cc, &ctx, und, why, whylen)) != PS_OK ||
		    (st = field_rcpts(h, bcc, &ctx, und, why, whylen)) != PS_OK)
			goto out;
	}
	for (size_t i = 0; i < out->n; i++)
		out->v[i].visible = rcptlist_find(&visible, out->v[i].addr) >= 0;
out:
	rcptlist_free(&visible);
	return st;
}

struct first_ctx {
	char *out;
	size_t outlen;
	int n;
};

static int
first_cb(const char *addr, void *vctx)
{
	struct first_ctx *ctx = vctx;

	if (ctx->n++ == 0)
		snprintf(ctx->out, ctx->outlen, "%s", addr);
	return 0;
}

enum ps_status
envelope_sender(const char *arg, char *out, size_t outlen, char *why,
		size_t whylen)
{
	char reason[PS_WHY_MAX], reason2[PS_WHY_MAX];
	struct first_ctx ctx = {out, outlen, 0};

	if (addr_strip(arg, out, outlen) < 0)
		return ps_fail(PS_DATAERR, why, whylen, "sender address too long");
	if (out[0] == '\0')
		return PS_OK; /* the null sender */
	if (addr_check(out, strlen(out), ADDR_LOCAL_OK, reason, sizeof(reason)) == 0)
		return PS_OK;
	/* "Name <addr>": Postfix's sendmail parses -f as an address header
	 * and takes its first address */
	if (strchr(arg, '<') != NULL &&
	    address_list_parse(arg, strlen(arg), ADDR_LOCAL_OK, first_cb, &ctx, reason2,
			       sizeof(reason2)) == PS_OK &&
	    ctx.n > 0)
		return PS_OK;
	out[0] = '\0';
	return ps_fail(PS_DATAERR, why, whylen, "bad sender address \"%.80s\": %s", arg,
		       reason);
}
