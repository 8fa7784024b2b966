#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static int
ignore_cb(const char *addr, void *ctx)
{
	(void)addr;
	(void)ctx;
	return 0;
}

enum ps_status
envelope_check_header(const struct header *h, int extract, char *why, size_t whylen)
{
	static const char *const plain[] = {"To", "Cc", "Bcc", NULL};
	static const char *const resent[] = {"Resent-To", "Resent-Cc", "Resent-Bcc", NULL};
	const char *const *fields;
	enum ps_status st;

	/* as Postfix's sendmail: a field postseal does not take addresses
	 * from is passed on as it is, parsable or not; only the fields -t
	 * reads the recipients from must parse, since a recipient that
	 * cannot be known cannot be matched to a policy */
	if (!extract)
		return PS_OK;
	fields = header_find(h, "Resent-To", 0) >= 0 || header_find(h, "Resent-Cc", 0) >= 0 ||
				 header_find(h, "Resent-Bcc", 0) >= 0
			 ? resent
			 : plain;
	for (size_t k = 0; fields[k] != NULL; k++) {
		st = header_addresses(h, fields[k], ADDR_LOCAL_OK, ignore_cb, NULL, why, whylen);
		if (st != PS_OK)
			return st;
	}
	return PS_OK;
}

enum ps_status
envelope_build(const struct cli *c, const struct header *h,
	       struct rcptlist *out, char *why, size_t whylen)
{
	struct rcptlist visible = {0};
	struct add_ctx ctx;
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
	if (((st = header_addresses(h, to, ADDR_LOCAL_OK, add_cb, &ctx, why, whylen)) !=
		     PS_OK ||
	     (st = header_addresses(h, cc, ADDR_LOCAL_OK, add_cb, &ctx, why, whylen)) !=
		     PS_OK) &&
	    c->extract)
		goto out;
	st = PS_OK;
	for (int i = 0; i < c->nrcpts; i++)
		if ((st = envelope_add_arg(out, c->rcpts[i], why, whylen)) != PS_OK)
			goto out;
	if (c->extract) {
		ctx.l = out;
		ctx.visible = 0;
		if ((st = header_addresses(h, to, ADDR_LOCAL_OK, add_cb, &ctx,
					   why, whylen)) != PS_OK ||
		    (st = header_addresses(h, cc, ADDR_LOCAL_OK, add_cb, &ctx,
					   why, whylen)) != PS_OK ||
		    (st = header_addresses(h, bcc, ADDR_LOCAL_OK, add_cb, &ctx,
					   why, whylen)) != PS_OK)
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
