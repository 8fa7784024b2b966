#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <unbound.h>

#include "dane.h"
#include "dnsfetch.h"
#include "log.h"

struct query {
	struct dane_batch *b;
	struct lk_answer *ans;
	int async_id;
	int done;
	int sent; /* asked (again, after a switch to recursion) */
};

/* one of a host's two queries (A, AAAA) */
struct hostq {
	struct host *host;
	int rrtype;
	int async_id;
	int done;
	int answered; /* rcode NOERROR or NXDOMAIN */
	int nxdomain;
	int secure;
	int bogus;
};

struct host {
	struct dane_batch *b;
	char name[256];
	struct hostq q[2];
	int naddr;
	struct dns_host out;
};

struct dane_batch {
	struct ub_ctx *ctx;
	int ctx_err; /* the resolver could not be set up */
	const char *ta;	     /* the trust anchor file */
	int probing;	     /* the probe of the system resolver is out */
	int probe_id;
	int to_recurse;	     /* the probe found no signatures: recurse */
	int recursing;	     /* from the root hints, not through resolv.conf */
	struct dns_host wait; /* every host, while the probe is out */
	struct query *q;
	size_t n;
	struct host **hosts;
	size_t nhosts;
	int pending;	  /* every query: the descriptor is polled */
	int pending_dane; /* OPENPGPKEY queries: dane_pending() */
};

static void host_ask(struct dane_batch *b, struct host *h);

/* The host's state from what its queries said so far: usable as soon
 * as one brings an address (an AAAA query that a broken server drops
 * must not hold up an A that answered). */
static void
host_settle(struct host *h)
{
	struct hostq *a = &h->q[0], *aaaa = &h->q[1];
	int both = a->done && aaaa->done;

	if (a->bogus || aaaa->bogus) {
		h->out.state = HOST_BOGUS;
		h->out.dnssec = DNSSEC_BOGUS;
		snprintf(h->out.why, sizeof(h->out.why), "%s: DNSSEC bogus", h->name);
		return;
	}
	if ((a->done && a->secure && (!aaaa->done || aaaa->secure)) ||
	    (aaaa->done && aaaa->secure && !a->done))
		h->out.dnssec = DNSSEC_SECURE;
	else if ((a->done && a->answered) || (aaaa->done && aaaa->answered))
		h->out.dnssec = DNSSEC_INSECURE;
	if (h->naddr > 0) {
		h->out.state = HOST_ADDRS;
		snprintf(h->out.why, sizeof(h->out.why), "%s: %d address%s", h->name, h->naddr,
			 h->naddr == 1 ? "" : "es");
	} else if ((a->done && a->nxdomain) || (aaaa->done && aaaa->nxdomain)) {
		h->out.state = HOST_NXDOMAIN;
		snprintf(h->out.why, sizeof(h->out.why), "%s does not exist (NXDOMAIN)", h->name);
	} else if (!both)
		h->out.state = HOST_PENDING;
	else if (a->answered && aaaa->answered) {
		h->out.state = HOST_NODATA;
		snprintf(h->out.why, sizeof(h->out.why), "%s has no address", h->name);
	} else {
		h->out.state = HOST_FAILED;
		snprintf(h->out.why, sizeof(h->out.why), "%s: no DNS answer (SERVFAIL)", h->name);
	}
}

static void
host_answer(void *arg, int err, struct ub_result *res)
{
	struct hostq *q = arg;
	struct host *h = q->host;

	q->done = 1;
	h->b->pending--;
	if (err == 0 && res != NULL) {
		q->bogus = res->bogus;
		q->secure = res->secure;
		q->answered = !res->bogus && (res->rcode == 0 || res->rcode == 3);
		q->nxdomain = q->answered && res->nxdomain;
		for (int k = 0; q->answered && res->havedata && res->data[k] != NULL; k++) {
			char txt[48], ip[46];
			size_t len = strlen(h->out.addrs);

			if (h->naddr >= PS_HOST_ADDRS)
				break;
			if (!((q->rrtype == 1 && res->len[k] == 4) ||
			      (q->rrtype == 28 && res->len[k] == 16)) ||
			    inet_ntop(q->rrtype == 1 ? AF_INET : AF_INET6, res->data[k], ip,
				      sizeof(ip)) == NULL)
				continue;
			snprintf(txt, sizeof(txt), q->rrtype == 1 ? "%s%s" : "%s[%s]",
				 len ? "," : "", ip);
			if (len + strlen(txt) >= sizeof(h->out.addrs))
				break;
			memcpy(h->out.addrs + len, txt, strlen(txt) + 1);
			h->naddr++;
		}
	}
	if (res != NULL)
		ub_resolve_free(res);
	host_settle(h);
}

/* LDH labels only: what goes into a query and into CURLOPT_RESOLVE */
static int
host_name_ok(const char *name)
{
	size_t len = strlen(name);

	return len > 0 && len < 254 &&
	       strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") ==
		       len &&
	       name[0] != '.' && name[0] != '-' && strstr(name, "..") == NULL;
}

int
dane_host(struct dane_batch *b, const char *name)
{
	struct host *h, **nv;
	unsigned char ip[16];

	if (b == NULL)
		return -1;
	for (size_t i = 0; i < b->nhosts; i++)
		if (strcasecmp(b->hosts[i]->name, name) == 0)
			return (int)i;
	if (b->nhosts >= PS_HOSTS_MAX || strlen(name) >= sizeof(h->name) ||
	    (nv = realloc(b->hosts, (b->nhosts + 1) * sizeof(*nv))) == NULL)
		return -1;
	b->hosts = nv;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return -1;
	h->b = b;
	snprintf(h->name, sizeof(h->name), "%s", name);
	h->out.state = HOST_PENDING;
	h->out.dnssec = DNSSEC_UNKNOWN;
	b->hosts[b->nhosts++] = h;
	if (inet_pton(AF_INET, name, ip) == 1 || inet_pton(AF_INET6, name, ip) == 1) {
		/* an address literal (a keyserver's URL): no DNS to ask */
		h->out.state = HOST_ADDRS;
		snprintf(h->out.addrs, sizeof(h->out.addrs),
			 strchr(name, ':') ? "[%s]" : "%s", name);
		snprintf(h->out.why, sizeof(h->out.why), "an address literal");
		return (int)(b->nhosts - 1);
	}
	if (!host_name_ok(name) || b->ctx_err) {
		h->out.state = HOST_FAILED;
		snprintf(h->out.why, sizeof(h->out.why), "%.100s: %s", name,
			 b->ctx_err ? "the resolver could not be set up"
				    : "not a host name (letters, digits, hyphens)");
		return (int)(b->nhosts - 1);
	}
	host_ask(b, h);
	return (int)(b->nhosts - 1);
}

/* Ask for the addresses (A, AAAA) of host h. */
static void
host_ask(struct dane_batch *b, struct host *h)
{
	for (int k = 0; k < 2; k++) {
		struct hostq *q = &h->q[k];

		q->host = h;
		q->rrtype = k == 0 ? 1 : 28;
		b->pending++;
		if (ub_resolve_async(b->ctx, h->name, q->rrtype, 1, q, host_answer,
				     &q->async_id) != 0) {
			b->pending--;
			q->done = 1;
		}
	}
	host_settle(h);
}

const struct dns_host *
dane_host_get(const struct dane_batch *b, int h)
{
	if (b == NULL || h < 0 || (size_t)h >= b->nhosts)
		return NULL;
	if (b->probing && b->hosts[h]->q[0].rrtype != 0)
		return &b->wait;
	return &b->hosts[h]->out;
}

#define DNS_RR_OPENPGPKEY 61

static void
answer(void *arg, int err, struct ub_result *res)
{
	struct query *q = arg;
	struct lk_answer *a = q->ans;

	q->done = 1;
	q->b->pending--;
	q->b->pending_dane--;
	if (err != 0 || res == NULL) {
		a->res = LK_TEMPFAIL;
		snprintf(a->why, sizeof(a->why), "resolver: %s", ub_strerror(err));
		goto out;
	}
	a->dnssec = res->bogus	  ? DNSSEC_BOGUS
		    : res->secure ? DNSSEC_SECURE
		    : (res->rcode == 0 || res->rcode == 3) ? DNSSEC_INSECURE
							   : DNSSEC_UNKNOWN;
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

/* A resolving context: through FWD ("ADDR@PORT"), through resolv.conf
 * (FWD NULL, RECURSE 0), or from the root servers (RECURSE 1: the root
 * hints of Debian's dns-root-data where installed, else libunbound's
 * own); DNSSEC validated from the trust anchor TA in every case. */
static struct ub_ctx *
ctx_new(const char *fwd, int recurse, const char *ta, int *err)
{
	struct ub_ctx *c = ub_ctx_create();

	if (c == NULL) {
		*err = UB_NOMEM;
		return NULL;
	}
	/* .test (RFC 6761) is a built-in local zone of unbound; let it through
	 * to the configured servers */
	ub_ctx_set_option(c, "local-zone:", "test. transparent");
	ub_ctx_set_option(c, "do-not-query-localhost:", "no");
	/* as a library unbound keeps 16 queries in flight; every recipient
	 * needs up to four (OPENPGPKEY, then A and AAAA of a WKD host), all
	 * at once */
	ub_ctx_set_option(c, "outgoing-range:", "512");
	ub_ctx_set_option(c, "num-queries-per-thread:", "1024");
	if (recurse)
		*err = access(PS_ROOT_HINTS, R_OK) == 0
			       ? ub_ctx_set_option(c, "root-hints:", PS_ROOT_HINTS)
			       : 0;
	else if (fwd != NULL)
		*err = ub_ctx_set_fwd(c, fwd);
	else
		*err = ub_ctx_resolvconf(c, NULL);
	if (*err == 0)
		*err = ub_ctx_add_ta_file(c, ta);
	if (*err == 0)
		*err = ub_ctx_async(c, 0);
	return c;
}

#define DNS_RR_DNSKEY 48

/* The answer to the probe of the system resolver: the root's DNSKEY
 * came back, but not validated. A resolver (or a box between here and
 * it) that drops DNSSEC records makes every answer bogus, signed zone or
 * not: recurse from the root instead. */
static void
probe_answer(void *arg, int err, struct ub_result *res)
{
	struct dane_batch *b = arg;

	b->probing = 0;
	b->pending--;
	if (err == 0 && res != NULL && res->bogus && res->rcode == 0 && res->havedata)
		b->to_recurse = 1;
	if (res != NULL)
		ub_resolve_free(res);
}

static void
dane_ask(struct dane_batch *b, struct query *q)
{
	q->done = 0;
	q->sent = 1;
	b->pending++;
	b->pending_dane++;
	if (ub_resolve_async(b->ctx, q->ans->url, DNS_RR_OPENPGPKEY, 1, q, answer,
			     &q->async_id) != 0) {
		q->done = 1;
		b->pending--;
		b->pending_dane--;
		snprintf(q->ans->why, sizeof(q->ans->why), "query not sent");
	}
}

/* Everything asked so far is asked again from the root servers; what
 * the system resolver answered is forgotten. */
static void
recurse_from_root(struct dane_batch *b)
{
	int err = 0;
	struct ub_ctx *c = ctx_new(NULL, 1, b->ta, &err);

	b->to_recurse = 0;
	if (c == NULL || err != 0) {
		if (c != NULL)
			ub_ctx_delete(c);
		log_warnx("the system resolver (/etc/resolv.conf) answers without DNSSEC "
			  "signatures, and asking the root servers could not be set up: %s",
			  ub_strerror(err));
		return;
	}
	log_warnx("the system resolver (/etc/resolv.conf) answers without DNSSEC signatures: "
		  "looking up from the root servers instead");
	ub_ctx_delete(b->ctx);
	b->ctx = c;
	b->recursing = 1;
	b->pending = b->pending_dane = 0;
	for (size_t i = 0; i < b->n; i++) {
		struct lk_answer *a = b->q[i].ans;

		if (a == NULL || !b->q[i].sent)
			continue;
		a->res = LK_TEMPFAIL;
		a->dnssec = DNSSEC_UNKNOWN;
		a->insecure = 0;
		a->ttl = 0;
		buf_reset(&a->data);
		snprintf(a->why, sizeof(a->why), "asked again from the root servers");
		dane_ask(b, &b->q[i]);
	}
	for (size_t i = 0; i < b->nhosts; i++) {
		struct host *h = b->hosts[i];

		if (h->q[0].rrtype == 0)
			continue; /* an address literal or a bad name: not asked */
		memset(h->q, 0, sizeof(h->q));
		h->naddr = 0;
		memset(&h->out, 0, sizeof(h->out));
		h->out.state = HOST_PENDING;
		h->out.dnssec = DNSSEC_UNKNOWN;
		host_ask(b, h);
	}
}

struct dane_batch *
dane_start(char *const *addrs, size_t n, const struct dane_opts *o,
	   struct lk_answer *out, const unsigned char *skip_dane)
{
	struct dane_batch *b = calloc(1, sizeof(*b));
	const char *ta = o->trust_anchor ? o->trust_anchor : PS_ROOT_ANCHOR;
	int err;

	for (size_t i = 0; i < n; i++)
		if (skip_dane == NULL || !skip_dane[i])
			lk_answer_init(&out[i], SRC_DANE, "resolver not started");
	if (b == NULL || (b->q = calloc(n ? n : 1, sizeof(*b->q))) == NULL ||
	    (b->ctx = ctx_new(o->forwarder, 0, ta, &err)) == NULL) {
		if (b != NULL)
			free(b->q);
		free(b);
		return NULL;
	}
	b->n = n;
	b->ta = ta;
	if (err == 0 && o->forwarder == NULL) {
		/* the system resolver: is it one that passes DNSSEC on? Until
		 * it says, no answer is final (validating anything needs the
		 * root's key first, so this costs no round trip) */
		b->wait.state = HOST_PENDING;
		b->wait.dnssec = DNSSEC_UNKNOWN;
		snprintf(b->wait.why, sizeof(b->wait.why), "waiting for the resolver's DNSSEC");
		if (ub_resolve_async(b->ctx, ".", DNS_RR_DNSKEY, 1, b, probe_answer,
				     &b->probe_id) == 0) {
			b->probing = 1;
			b->pending++;
		}
	}
	b->ctx_err = err != 0;
	for (size_t i = 0; i < n; i++) {
		b->q[i].b = b;
		b->q[i].ans = &out[i];
		b->q[i].done = 1;
		if (skip_dane != NULL && skip_dane[i]) {
			b->q[i].ans = NULL;
			continue;
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
		dane_ask(b, &b->q[i]);
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
	return b != NULL ? b->pending_dane + b->probing : 0;
}

void
dane_process(struct dane_batch *b)
{
	if (b != NULL && b->pending > 0)
		ub_process(b->ctx);
	if (b != NULL && b->to_recurse)
		recurse_from_root(b);
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
				 "no DNS answer before the deadline");
		}
	}
	for (size_t i = 0; i < b->nhosts; i++) {
		for (int k = 0; k < 2; k++)
			if (!b->hosts[i]->q[k].done && !b->ctx_err)
				ub_cancel(b->ctx, b->hosts[i]->q[k].async_id);
		free(b->hosts[i]);
	}
	ub_ctx_delete(b->ctx);
	free(b->hosts);
	free(b->q);
	free(b);
}
