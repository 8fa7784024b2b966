#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unbound.h>

#include "dane.h"
#include "dnsfetch.h"

struct query {
	struct dane_batch *b;
	struct lk_answer *ans;
	int async_id;
	int done;
};

struct hostq {
	struct dane_batch *b;
	enum host_state state;
	int async_id;
};

struct dane_batch {
	struct ub_ctx *ctx;
	struct query *q;
	struct hostq *h;
	size_t n;
	int pending;
};

static void
host_answer(void *arg, int err, struct ub_result *res)
{
	struct hostq *h = arg;

	h->b->pending--;
	if (err != 0 || res == NULL || res->bogus ||
	    (res->rcode != 0 && res->rcode != 3))
		h->state = HOST_FAILED;
	else if (res->nxdomain)
		h->state = HOST_NXDOMAIN;
	else
		h->state = HOST_EXISTS; /* with or without an address */
	if (res != NULL)
		ub_resolve_free(res);
}

enum host_state
dane_wkd_host(const struct dane_batch *b, size_t i)
{
	if (b == NULL || i >= b->n)
		return HOST_FAILED;
	return b->h[i].state;
}

#define DNS_RR_OPENPGPKEY 61

static void
answer(void *arg, int err, struct ub_result *res)
{
	struct query *q = arg;
	struct lk_answer *a = q->ans;

	q->done = 1;
	q->b->pending--;
	if (err != 0 || res == NULL) {
		a->res = LK_TEMPFAIL;
		snprintf(a->why, sizeof(a->why), "resolver: %s", ub_strerror(err));
		goto out;
	}
	if (res->bogus) {
		a->res = LK_BAD;
		snprintf(a->why, sizeof(a->why), "DNSSEC bogus: %.200s",
			 res->why_bogus ? res->why_bogus : "validation failed");
	} else if (!res->secure) {
		if (res->rcode != 0 && res->rcode != 3) {
			a->res = LK_TEMPFAIL;
			snprintf(a->why, sizeof(a->why), "DNS rcode %d", res->rcode);
		} else {
			a->res = LK_NOT_FOUND;
			a->insecure = 1;
			snprintf(a->why, sizeof(a->why), "insecure zone: no DANE here");
		}
	} else if (res->nxdomain || (res->rcode == 0 && !res->havedata)) {
		a->res = LK_NOT_FOUND;
		snprintf(a->why, sizeof(a->why), "secure %s",
			 res->nxdomain ? "NXDOMAIN" : "NODATA");
	} else if (res->rcode != 0) {
		a->res = LK_TEMPFAIL;
		snprintf(a->why, sizeof(a->why), "DNS rcode %d", res->rcode);
	} else {
		buf_reset(&a->data);
		for (int k = 0; res->data[k] != NULL; k++)
			if (buf_append(&a->data, res->data[k], (size_t)res->len[k]) < 0) {
				a->res = LK_BAD;
				snprintf(a->why, sizeof(a->why), "records larger than the limit");
				goto out;
			}
		a->res = a->data.len > 0 ? LK_FOUND : LK_BAD;
		a->ttl = res->ttl;
		snprintf(a->why, sizeof(a->why), "secure answer, %zu bytes", a->data.len);
	}
out:
	if (res != NULL)
		ub_resolve_free(res);
}

struct dane_batch *
dane_start(char *const *addrs, size_t n, const struct dane_opts *o,
	   struct lk_answer *out, const unsigned char *skip_dane,
	   const unsigned char *skip_host)
{
	struct dane_batch *b = calloc(1, sizeof(*b));
	const char *ta = o->trust_anchor ? o->trust_anchor : PS_ROOT_ANCHOR;
	int err;

	for (size_t i = 0; i < n; i++)
		if (skip_dane == NULL || !skip_dane[i])
			lk_answer_init(&out[i], SRC_DANE, "resolver not started");
	if (b == NULL || (b->q = calloc(n ? n : 1, sizeof(*b->q))) == NULL ||
	    (b->h = calloc(n ? n : 1, sizeof(*b->h))) == NULL ||
	    (b->ctx = ub_ctx_create()) == NULL) {
		if (b != NULL) {
			free(b->q);
			free(b->h);
		}
		free(b);
		return NULL;
	}
	b->n = n;
	/* .test (RFC 6761) is a built-in local zone of unbound; let it through
	 * to the configured servers */
	ub_ctx_set_option(b->ctx, "local-zone:", "test. transparent");
	ub_ctx_set_option(b->ctx, "do-not-query-localhost:", "no");
	/* as a library unbound keeps 16 queries in flight; every recipient
	 * needs two, all at once */
	ub_ctx_set_option(b->ctx, "outgoing-range:", "512");
	ub_ctx_set_option(b->ctx, "num-queries-per-thread:", "1024");
	if (o->forwarder != NULL)
		err = ub_ctx_set_fwd(b->ctx, o->forwarder);
	else
		err = ub_ctx_resolvconf(b->ctx, NULL);
	if (err == 0)
		err = ub_ctx_add_ta_file(b->ctx, ta);
	if (err == 0)
		err = ub_ctx_async(b->ctx, 0);
	for (size_t i = 0; i < n; i++) {
		b->q[i].b = b;
		b->q[i].ans = &out[i];
		b->q[i].done = 1;
		b->h[i].b = b;
		b->h[i].state = HOST_FAILED;
		if (skip_dane != NULL && skip_dane[i]) {
			b->q[i].ans = NULL;
			goto host;
		}
		if (err != 0) {
			snprintf(out[i].why, sizeof(out[i].why), "resolver set-up: %s",
				 ub_strerror(err));
			continue;
		}
		if (dane_owner_name(addrs[i], out[i].url, sizeof(out[i].url)) < 0) {
			out[i].res = LK_NOT_FOUND;
			snprintf(out[i].why, sizeof(out[i].why), "no domain to look up");
			continue;
		}
		b->q[i].done = 0;
		b->pending++;
		if (ub_resolve_async(b->ctx, out[i].url, DNS_RR_OPENPGPKEY, 1, &b->q[i],
				     answer, &b->q[i].async_id) != 0) {
			b->q[i].done = 1;
			b->pending--;
			snprintf(out[i].why, sizeof(out[i].why), "query not sent");
		}
	host:
		if (err == 0 && (skip_host == NULL || !skip_host[i])) {
			char host[300];
			const char *at = strrchr(addrs[i], '@');

			if (at != NULL &&
			    snprintf(host, sizeof(host), "openpgpkey.%s", at + 1) <
				    (int)sizeof(host)) {
				b->h[i].state = HOST_PENDING;
				b->pending++;
				if (ub_resolve_async(b->ctx, host, 1 /* A */, 1, &b->h[i],
						     host_answer, &b->h[i].async_id) != 0) {
					b->h[i].state = HOST_FAILED;
					b->pending--;
				}
			}
		}
	}
	return b;
}

int
dane_fd(const struct dane_batch *b)
{
	return b != NULL && b->pending > 0 ? ub_fd(b->ctx) : -1;
}

int
dane_pending(const struct dane_batch *b)
{
	return b != NULL ? b->pending : 0;
}

void
dane_process(struct dane_batch *b)
{
	if (b != NULL && b->pending > 0)
		ub_process(b->ctx);
}

void
dane_finish(struct dane_batch *b)
{
	if (b == NULL)
		return;
	for (size_t i = 0; i < b->n; i++) {
		if (!b->q[i].done && b->q[i].ans != NULL) {
			ub_cancel(b->ctx, b->q[i].async_id);
			b->q[i].ans->res = LK_TEMPFAIL;
			snprintf(b->q[i].ans->why, sizeof(b->q[i].ans->why),
				 "no answer before the deadline");
		}
		if (b->h[i].state == HOST_PENDING)
			ub_cancel(b->ctx, b->h[i].async_id);
	}
	ub_ctx_delete(b->ctx);
	free(b->h);
	free(b->q);
	free(b);
}
