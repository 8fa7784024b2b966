#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <time.h>

#include <curl/curl.h>

#include "dnsfetch.h"

#include "keyserver.h"
#include "wkd.h"
#include "wkdfetch.h"

enum xstate { X_OFF, X_DEFERRED, X_START, X_WAIT_HOST, X_RUNNING, X_DONE };

struct xfer {
	struct lk_answer *ans;
	int oversize;
	int empty_ok; /* the WKD policy file: usually empty */
	int kind;     /* enum fetch_kind */
	size_t idx;   /* the address */
	enum xstate st;
	int direct;    /* WKD: the direct method */
	int redirects; /* followed so far */
	int host;      /* the host handle (dnsfetch.h) of the current URL */
	char hostname[256];
	long port;
	char url[1024]; /* the URL fetched now: ans->url after redirects */
	CURL *h;
	struct curl_slist *resolve;
};
static size_t
write_cb(char *p, size_t size, size_t nmemb, void *vx)
{
	struct xfer *x = vx;
	size_t n = size * nmemb;

	/* the cap is enforced here, while the reply arrives */
	if (x->ans->data.len + n > PS_WKD_REPLY_MAX ||
	    buf_append(&x->ans->data, p, n) < 0) {
		x->oversize = 1;
		return 0;
	}
	return n;
}

static void
done(struct xfer *x, enum lk_result res, int lasting, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
done(struct xfer *x, enum lk_result res, int lasting, const char *fmt, ...)
{
	va_list ap;

	x->st = X_DONE;
	x->ans->res = res;
	x->ans->lasting = lasting;
	va_start(ap, fmt);
	vsnprintf(x->ans->why, sizeof(x->ans->why), fmt, ap);
	va_end(ap);
	if (res != LK_FOUND)
		buf_reset(&x->ans->data);
}

/* A finished transfer: its answer, with whether a failure is a lasting
 * property of the server (lookup.h) or a passing one. */
static void
classify(CURL *h, CURLcode rc, struct xfer *x)
{
	struct lk_answer *a = x->ans;
	long status = 0;

	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (rc == CURLE_OK) {
		if (status == 200 && (a->data.len > 0 || x->empty_ok))
			done(x, LK_FOUND, 0, "HTTP 200, %zu bytes", a->data.len);
		else if (status == 404 || status == 410)
			done(x, LK_NOT_FOUND, 0, "HTTP %ld", status);
		else if (status == 200)
			done(x, LK_BAD, 1, "HTTP 200 with an empty body");
		else if (status >= 300 && status < 400)
			done(x, LK_BAD, 1, "HTTP %ld redirect without a usable Location", status);
		else if (status >= 400 && status < 500)
			/* 403, 400, 421...: how this server answers, not a
			 * passing state */
			done(x, LK_TEMPFAIL, 1, "HTTP %ld", status);
		else
			done(x, LK_TEMPFAIL, 0, "HTTP %ld", status);
		return;
	}
	switch (rc) {
	case CURLE_WRITE_ERROR:
		done(x, LK_BAD, 1, "%s", x->oversize ? "reply larger than the limit" : "write error");
		break;
	case CURLE_OPERATION_TIMEDOUT:
		/* the transfer's own limit is what is left of the deadline */
		done(x, LK_TEMPFAIL, 0, "no answer from %s before the deadline", x->hostname);
		break;
	case CURLE_COULDNT_CONNECT:
		done(x, LK_TEMPFAIL, 1, "%s:%ld: connection refused or unreachable",
		     x->hostname, x->port);
		break;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_TOO_MANY_REDIRECTS:
		done(x, LK_BAD, 1, "%s: %s", x->hostname, curl_easy_strerror(rc));
		break;
	default:
		done(x, LK_TEMPFAIL, 0, "%s: %s", x->hostname, curl_easy_strerror(rc));
		break;
	}
}

static long now_ms(void);

static CURL *
start_transfer(CURLM *m, struct xfer *x, const struct wkd_opts *o,
	       struct curl_slist *connect_to, long deadline)
{
	CURL *h = curl_easy_init();
	long left = deadline - now_ms();

	if (h == NULL)
		return NULL;
	curl_easy_setopt(h, CURLOPT_URL, x->url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
	/* redirects are followed here, not by curl: their host names are
	 * resolved like the others (no getaddrinfo()) */
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	/* the configured bundle, else the system's (configure found it):
	 * Debian's libcurl-gnutls has none built in. The CA directory is
	 * off: with GnuTLS libcurl would read every file of /etc/ssl/certs
	 * for every transfer (about 290 opens each). The OpenSSL build,
	 * which configure prefers for this module, parses the bundle once
	 * per multi handle; the GnuTLS build once per connection */
	curl_easy_setopt(h, CURLOPT_CAINFO, o->ca_file != NULL ? o->ca_file : PS_CA_BUNDLE);
	curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
	if (connect_to != NULL)
		curl_easy_setopt(h, CURLOPT_CONNECT_TO, connect_to);
	else if (x->resolve != NULL)
		curl_easy_setopt(h, CURLOPT_RESOLVE, x->resolve);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, left > 1 ? left : 1L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "postseal/" PACKAGE_VERSION);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(h, CURLOPT_PRIVATE, x);
	if (curl_multi_add_handle(m, h) != CURLM_OK) {
		curl_easy_cleanup(h);
		return NULL;
	}
	x->h = h;
	x->st = X_RUNNING;
	return h;
}

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int
url_for(enum fetch_kind k, const char *addr, int direct, const struct wkd_opts *o,
	char *out, size_t outlen)
{
	switch (k) {
	case F_WKD:
		return direct ? wkd_url_direct(addr, out, outlen)
			      : wkd_url_advanced(addr, out, outlen);
	case F_WKD_POLICY:
		return wkd_url_policy(addr, !direct, out, outlen);
	case F_VKS:
		return keyserver_url(o->vks_server, KS_VKS, addr, out, outlen);
	case F_HKP:
		return keyserver_url(o->hkp_server, KS_HKP, addr, out, outlen);
	default:
		return -1;
	}
}

static const enum lk_source kind_source[F_KINDS] = {SRC_WKD, SRC_WKD, SRC_VKS,
						     SRC_HKP};

static struct curl_slist *
connect_list(const char *spec, int *err)
{
	/* space-separated entries, tried in order by curl */
	struct curl_slist *l = NULL;
	char entry[512];
	const char *p = spec;

	*err = 0;
	while (p != NULL && *p != '\0') {
		size_t len = strcspn(p, " ");

		if (len > 0 && len < sizeof(entry)) {
			struct curl_slist *nl;

			memcpy(entry, p, len);
			entry[len] = '\0';
			if ((nl = curl_slist_append(l, entry)) == NULL) {
				*err = 1;
				return l;
			}
			l = nl;
		}
		p += len;
		p += strspn(p, " ");
	}
	return l;
}

/* The host and port of url into x (curl's URL parser: the same reading
 * as the transfer's). */
static int
url_host(struct xfer *x)
{
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL;
	int r = -1;

	if (u != NULL && curl_url_set(u, CURLUPART_URL, x->url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK &&
	    strlen(host) < sizeof(x->hostname)) {
		char *end;
		size_t len = strlen(host);

		/* [v6] literal: the brackets off */
		if (len > 2 && host[0] == '[' && host[len - 1] == ']')
			snprintf(x->hostname, sizeof(x->hostname), "%.*s", (int)len - 2, host + 1);
		else
			snprintf(x->hostname, sizeof(x->hostname), "%s", host);
		x->port = strtol(port, &end, 10);
		r = *end == '\0' && x->port > 0 && x->port < 65536 ? 0 : -1;
	}
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return r;
}

/* The WKD advanced method's host, before any redirect: the one whose
 * NXDOMAIN sends the lookup to the direct method. */
static int
advanced_host(const struct xfer *x)
{
	return (x->kind == F_WKD || x->kind == F_WKD_POLICY) && !x->direct && x->redirects == 0;
}

static void begin(struct xfer *x, struct dane_batch *dane, int have_connect_to);

/* openpgpkey.DOMAIN does not exist: the direct method, for the key and
 * the policy file alike */
static void
to_direct(struct xfer *x, char *const *addrs, const struct wkd_opts *o,
	  struct dane_batch *dane, int have_connect_to)
{
	x->direct = 1;
	buf_reset(&x->ans->data);
	x->oversize = 0;
	if (url_for((enum fetch_kind)x->kind, addrs[x->idx], 1, o, x->url, sizeof(x->url)) < 0) {
		done(x, LK_NOT_FOUND, 0, "no URL for this address");
		return;
	}
	snprintf(x->ans->url, sizeof(x->ans->url), "%s", x->url);
	begin(x, dane, have_connect_to);
}

/* Begin fetching x->url: resolve its host first (dnsfetch). With the
 * configuration's connect-to (test set-ups) the transfer starts at once,
 * connect-to giving the address; an advanced-method transfer then still
 * has its host asked, and is restarted with the direct method if the
 * name turns out not to exist (watch_direct()). */
static void
begin(struct xfer *x, struct dane_batch *dane, int have_connect_to)
{
	curl_slist_free_all(x->resolve);
	x->resolve = NULL;
	if (url_host(x) < 0) {
		done(x, LK_BAD, 1, "not a usable URL: %.200s", x->url);
		return;
	}
	if (have_connect_to) {
		x->host = advanced_host(x) ? dane_host(dane, x->hostname) : -1;
		x->st = X_START;
		return;
	}
	if ((x->host = dane_host(dane, x->hostname)) < 0) {
		done(x, LK_TEMPFAIL, 0, "%s: %s", x->hostname,
		     dane == NULL ? "the resolver could not be set up"
				  : "cannot be resolved");
		return;
	}
	x->st = X_WAIT_HOST;
}

/* x waits for its host: start it, switch to the direct method, or
 * finish it with what DNS said. 1 when something was started. */
static int
host_ready(CURLM *m, struct xfer *x, char *const *addrs, const struct wkd_opts *o,
	   struct dane_batch *dane, struct curl_slist *connect_to, long deadline)
{
	const struct dns_host *dh = dane_host_get(dane, x->host);
	char entry[sizeof(x->hostname) + 16 + sizeof(dh->addrs)];

	if (x->st == X_START) {
		if (start_transfer(m, x, o, connect_to, deadline) == NULL) {
			done(x, LK_TEMPFAIL, 0, "the transfer could not be started");
			return 0;
		}
		return 1;
	}
	if (dh == NULL) {
		done(x, LK_TEMPFAIL, 0, "%s: cannot be resolved", x->hostname);
		return 0;
	}
	if (x->redirects == 0 && dh->state != HOST_PENDING)
		x->ans->dnssec = dh->dnssec; /* the domain's own names only */
	switch (dh->state) {
	case HOST_PENDING:
		return 0;
	case HOST_ADDRS:
		snprintf(entry, sizeof(entry), "%s:%ld:%s", x->hostname, x->port, dh->addrs);
		if ((x->resolve = curl_slist_append(NULL, entry)) == NULL ||
		    start_transfer(m, x, o, connect_to, deadline) == NULL) {
			done(x, LK_TEMPFAIL, 0, "the transfer could not be started");
			return 0;
		}
		return 1;
	case HOST_NXDOMAIN:
		if (advanced_host(x)) {
			to_direct(x, addrs, o, dane, connect_to != NULL);
			return x->st == X_WAIT_HOST || x->st == X_START
				       ? host_ready(m, x, addrs, o, dane, connect_to, deadline)
				       : 0;
		}
		done(x, LK_TEMPFAIL, 1, "%s", dh->why);
		return 0;
	case HOST_NODATA:
		done(x, LK_TEMPFAIL, 1, "%s", dh->why);
		return 0;
	case HOST_BOGUS:
		done(x, LK_BAD, 0, "%s", dh->why);
		return 0;
	case HOST_FAILED:
	default:
		done(x, LK_TEMPFAIL, 0, "%s", dh->why);
		return 0;
	}
}

static void
drop_handle(CURLM *m, struct xfer *x)
{
	if (x->h != NULL) {
		curl_multi_remove_handle(m, x->h);
		curl_easy_cleanup(x->h);
		x->h = NULL;
	}
}

/* With connect-to: an advanced-method transfer already under way whose
 * host turned out not to exist goes on with the direct method. */
static void
watch_direct(CURLM *m, struct xfer *x, char *const *addrs, const struct wkd_opts *o,
	     struct dane_batch *dane, struct curl_slist *connect_to, long deadline)
{
	const struct dns_host *dh;

	if (x->ans == NULL || x->st == X_DEFERRED || !advanced_host(x) ||
	    (dh = dane_host_get(dane, x->host)) == NULL || dh->state == HOST_PENDING)
		return;
	if (x->ans->dnssec == DNSSEC_UNKNOWN)
		x->ans->dnssec = dh->dnssec;
	if (dh->state == HOST_BOGUS && x->st != X_DONE) {
		/* as without connect-to: a forged answer ends the lookup */
		drop_handle(m, x);
		done(x, LK_BAD, 0, "%s", dh->why);
		return;
	}
	if (dh->state != HOST_NXDOMAIN)
		return;
	drop_handle(m, x);
	to_direct(x, addrs, o, dane, 1);
	if (x->st == X_START)
		host_ready(m, x, addrs, o, dane, connect_to, deadline);
}

/* A finished transfer that answered a redirect: follow it (https only,
 * at most PS_WKD_REDIRS), through begin(). 1 when followed. */
static int
follow(CURL *h, struct xfer *x, struct dane_batch *dane, int have_connect_to)
{
	long status = 0;
	char *loc = NULL;

	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (status != 301 && status != 302 && status != 303 && status != 307 && status != 308)
		return 0;
	curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &loc);
	if (loc == NULL)
		return 0;
	if (strncasecmp(loc, "https://", 8) != 0) {
		done(x, LK_BAD, 1, "HTTP %ld redirect to %.200s refused (https only)", status, loc);
		return 1;
	}
	if (x->redirects >= PS_WKD_REDIRS) {
		done(x, LK_BAD, 1, "more than %d redirects", PS_WKD_REDIRS);
		return 1;
	}
	if (strlen(loc) >= sizeof(x->url)) {
		done(x, LK_BAD, 1, "redirect to an overlong URL");
		return 1;
	}
	snprintf(x->url, sizeof(x->url), "%s", loc);
	x->redirects++;
	buf_reset(&x->ans->data);
	x->oversize = 0;
	begin(x, dane, have_connect_to);
	return 1;
}


int
wkd_fetch_all(char *const *addrs, size_t n, const struct wkd_opts *o,
	      struct fetch_set *fs, struct dane_batch *dane)
{
	long deadline = now_ms() + o->timeout_ms;
	static int curl_ready;
	struct curl_slist *connect_to = NULL;
	struct xfer *x = NULL;
	CURLM *m = NULL;
	CURLMsg *msg;
	size_t nx = n * F_KINDS;
	int running = 0, left, r = -1, err, busy, ready;

	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return -1;
		curl_ready = 1;
	}
	if (n == 0)
		return 0;
	/* transfer k*n+i: kind k of address i */
	x = calloc(nx, sizeof(*x));
	if (x == NULL || (m = curl_multi_init()) == NULL)
		goto out;
	connect_to = connect_list(o->connect_to, &err);
	if (err)
		goto out;
	for (int k = 0; k < F_KINDS; k++) {
		for (size_t i = 0; fs->ans[k] != NULL && i < n; i++) {
			struct lk_answer *a = &fs->ans[k][i];
			struct xfer *xi = &x[(size_t)k * n + i];

			xi->host = -1;
			if (fs->skip[k] != NULL && fs->skip[k][i])
				continue;
			lk_answer_init(a, kind_source[k], "not looked up");
			xi->ans = a;
			xi->kind = k;
			xi->idx = i;
			xi->empty_ok = k == F_WKD_POLICY;
			/* the policy file only matters when the key is not there
			 * (it proves the domain has no WKD): asked after a 404,
			 * which saves a TLS connection per address found */
			if (k == F_WKD_POLICY) {
				xi->st = X_DEFERRED;
				continue;
			}
			if (url_for((enum fetch_kind)k, addrs[i], 0, o, a->url, sizeof(a->url)) < 0) {
				done(xi, LK_NOT_FOUND, 0, "no URL for this address");
				continue;
			}
			snprintf(xi->url, sizeof(xi->url), "%s", a->url);
			begin(xi, dane, connect_to != NULL);
		}
	}
	for (;;) {
		struct curl_waitfd extra;
		int nextra = 0;
		long left_ms;

		/* transfers whose host is known now */
		for (size_t t = 0; t < nx; t++) {
			if (x[t].st == X_WAIT_HOST || x[t].st == X_START)
				host_ready(m, &x[t], addrs, o, dane, connect_to, deadline);
			else if (connect_to != NULL)
				watch_direct(m, &x[t], addrs, o, dane, connect_to, deadline);
		}
		if (curl_multi_perform(m, &running) != CURLM_OK)
			goto out;
		while ((msg = curl_multi_info_read(m, &left)) != NULL) {
			struct xfer *xi;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&xi);
			if (msg->data.result != CURLE_OK ||
			    !follow(msg->easy_handle, xi, dane, connect_to != NULL))
				classify(msg->easy_handle, msg->data.result, xi);
			drop_handle(m, xi);
			if (xi->kind == F_WKD && xi->st == X_DONE && xi->ans->res == LK_NOT_FOUND) {
				struct xfer *p = &x[(size_t)F_WKD_POLICY * n + xi->idx];

				/* the key is not there: the domain's policy file
				 * says whether it has WKD at all (same method) */
				if (p->ans == NULL || p->st != X_DEFERRED)
					continue;
				p->direct = xi->direct;
				if (url_for(F_WKD_POLICY, addrs[xi->idx], p->direct, o, p->ans->url,
					    sizeof(p->ans->url)) < 0) {
					done(p, LK_NOT_FOUND, 0, "no URL for this address");
					continue;
				}
				snprintf(p->url, sizeof(p->url), "%s", p->ans->url);
				begin(p, dane, connect_to != NULL);
			}
		}
		busy = 0;
		for (size_t t = 0; t < nx && !busy; t++)
			busy = x[t].st == X_WAIT_HOST || x[t].st == X_RUNNING || x[t].st == X_START ||
			       (connect_to != NULL && x[t].ans != NULL && x[t].st != X_DEFERRED &&
				advanced_host(&x[t]) && dane_host_get(dane, x[t].host) != NULL &&
				dane_host_get(dane, x[t].host)->state == HOST_PENDING);
		if (!busy && dane_pending(dane) == 0)
			break;
		left_ms = deadline - now_ms();
		if (left_ms <= 0)
			break;
		if (dane_fd(dane) >= 0) {
			extra.fd = dane_fd(dane);
			extra.events = CURL_WAIT_POLLIN;
			extra.revents = 0;
			nextra = 1;
		}
		/* a transfer that can start now (a policy file after a 404, a
		 * redirect, a host already resolved) must not wait for the
		 * poll's timeout: no socket of its exists yet to wake it */
		ready = 0;
		for (size_t t = 0; t < nx && !ready; t++)
			ready = x[t].st == X_START ||
				(x[t].st == X_WAIT_HOST && (dane_host_get(dane, x[t].host) == NULL ||
							    dane_host_get(dane, x[t].host)->state !=
								    HOST_PENDING));
		if (curl_multi_poll(m, nextra ? &extra : NULL, (unsigned)nextra,
				    ready ? 0 : left_ms > 1000 ? 1000 : (int)left_ms, NULL) != CURLM_OK)
			goto out;
		if (nextra && (extra.revents & CURL_WAIT_POLLIN))
			dane_process(dane);
	}
	/* what the deadline cut short: said as such, never "not looked up" */
	for (size_t t = 0; t < nx; t++) {
		if (x[t].st == X_WAIT_HOST)
			done(&x[t], LK_TEMPFAIL, 0, "no DNS answer for %s before the deadline (%ld ms)",
			     x[t].hostname, o->timeout_ms);
		else if (x[t].st == X_RUNNING)
			done(&x[t], LK_TEMPFAIL, 0, "no answer from %s before the deadline (%ld ms)",
			     x[t].hostname, o->timeout_ms);
	}
	r = 0;
out:
	for (size_t t = 0; x != NULL && t < nx; t++) {
		drop_handle(m, &x[t]);
		curl_slist_free_all(x[t].resolve);
	}
	if (m != NULL)
		curl_multi_cleanup(m);
	curl_slist_free_all(connect_to);
	free(x);
	return r;
}
