#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <time.h>

#include <curl/curl.h>

#include "dnsfetch.h"

#include "keyserver.h"
#include "wkd.h"
#include "wkdfetch.h"

struct xfer {
	struct lk_answer *ans;
	int oversize;
	int empty_ok; /* the WKD policy file: usually empty */
	int kind;     /* enum fetch_kind */
	size_t idx;   /* the address */
	int deferred; /* the policy file: asked only after a 404 for the key */
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
classify(CURL *h, CURLcode rc, struct xfer *x)
{
	struct lk_answer *a = x->ans;
	long status = 0;
	char *redirect = NULL;

	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (rc == CURLE_OK) {
		if (status == 200 && (a->data.len > 0 || x->empty_ok)) {
			a->res = LK_FOUND;
			snprintf(a->why, sizeof(a->why), "HTTP 200, %zu bytes", a->data.len);
		} else if (status == 404 || status == 410) {
			a->res = LK_NOT_FOUND;
			snprintf(a->why, sizeof(a->why), "HTTP %ld", status);
		} else if (status >= 300 && status < 400) {
			/* a redirect curl would not follow: to http, or too
			 * many */
			curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &redirect);
			a->res = LK_BAD;
			snprintf(a->why, sizeof(a->why), "HTTP %ld redirect%s%.200s refused",
				 status, redirect ? " to " : "", redirect ? redirect : "");
		} else {
			a->res = LK_TEMPFAIL;
			snprintf(a->why, sizeof(a->why), "HTTP %ld", status);
		}
		if (a->res != LK_FOUND)
			buf_reset(&a->data);
		return;
	}
	buf_reset(&a->data);
	switch (rc) {
	case CURLE_WRITE_ERROR:
		a->res = LK_BAD;
		snprintf(a->why, sizeof(a->why), "%s",
			 x->oversize ? "reply larger than the limit" : "write error");
		break;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_TOO_MANY_REDIRECTS:
		a->res = LK_BAD;
		snprintf(a->why, sizeof(a->why), "%s", curl_easy_strerror(rc));
		break;
	default:
		a->res = LK_TEMPFAIL;
		snprintf(a->why, sizeof(a->why), "%s", curl_easy_strerror(rc));
		break;
	}
}

static CURL *
start_transfer(CURLM *m, const char *url, struct xfer *x,
	       const struct wkd_opts *o, struct curl_slist *connect_to)
{
	CURL *h = curl_easy_init();

	if (h == NULL)
		return NULL;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, (long)PS_WKD_REDIRS);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (o->ca_file != NULL)
		curl_easy_setopt(h, CURLOPT_CAINFO, o->ca_file);
	/* the CA bundle only: with GnuTLS, libcurl would otherwise also read
	 * every file of /etc/ssl/certs for every transfer (about 290 opens
	 * each, the dominant cost of 20 parallel lookups) */
	curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
	if (connect_to != NULL)
		curl_easy_setopt(h, CURLOPT_CONNECT_TO, connect_to);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, o->timeout_ms);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "postseal/" PACKAGE_VERSION);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(h, CURLOPT_PRIVATE, x);
	curl_multi_add_handle(m, h);
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

int
wkd_fetch_all(char *const *addrs, size_t n, const struct wkd_opts *o,
	      struct fetch_set *fs, struct dane_batch *dane)
{
	long deadline = now_ms() + o->timeout_ms;
	static int curl_ready;
	struct curl_slist *connect_to = NULL;
	struct xfer *x = NULL;
	CURL **h = NULL;
	CURLM *m = NULL;
	CURLMsg *msg;
	size_t nx = n * F_KINDS;
	int running = 0, started = 0, left, r = -1, err;
	unsigned char *direct = NULL;

	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return -1;
		curl_ready = 1;
	}
	if (n == 0)
		return 0;
	/* transfer k*n+i; a direct-method transfer replaces its advanced one
	 * in the same slot */
	x = calloc(nx, sizeof(*x));
	h = calloc(nx, sizeof(*h));
	direct = calloc(n, 1);
	if (x == NULL || h == NULL || direct == NULL || (m = curl_multi_init()) == NULL)
		goto out;
	connect_to = connect_list(o->connect_to, &err);
	if (err)
		goto out;
	for (int k = 0; k < F_KINDS; k++) {
		for (size_t i = 0; fs->ans[k] != NULL && i < n; i++) {
			struct lk_answer *a = &fs->ans[k][i];
			size_t t = (size_t)k * n + i;

			if (fs->skip[k] != NULL && fs->skip[k][i])
				continue;
			lk_answer_init(a, kind_source[k], "not looked up");
			x[t].ans = a;
			x[t].kind = k;
			x[t].idx = i;
			x[t].empty_ok = k == F_WKD_POLICY;
			/* the policy file only matters when the key is not there
			 * (it proves the domain has no WKD): asked after a 404,
			 * which saves a TLS connection per address found */
			if (k == F_WKD_POLICY) {
				x[t].deferred = 1;
				continue;
			}
			if (url_for((enum fetch_kind)k, addrs[i], 0, o, a->url,
				    sizeof(a->url)) < 0) {
				a->res = LK_NOT_FOUND;
				snprintf(a->why, sizeof(a->why), "no URL for this address");
				x[t].ans = NULL;
				continue;
			}
			if ((h[t] = start_transfer(m, a->url, &x[t], o, connect_to)) == NULL)
				goto out;
		}
	}
	do {
		struct curl_waitfd extra;
		int nextra = 0;
		long left_ms;

		if (curl_multi_perform(m, &running) != CURLM_OK)
			goto out;
		if (dane_fd(dane) >= 0) {
			extra.fd = dane_fd(dane);
			extra.events = CURL_WAIT_POLLIN;
			extra.revents = 0;
			nextra = 1;
		}
		left_ms = deadline - now_ms();
		if (left_ms <= 0)
			break;
		if ((running || nextra) &&
		    curl_multi_poll(m, nextra ? &extra : NULL, (unsigned)nextra,
				    left_ms > 1000 ? 1000 : (int)left_ms, NULL) != CURLM_OK)
			goto out;
		if (nextra && (extra.revents & CURL_WAIT_POLLIN))
			dane_process(dane);
		/* openpgpkey.DOMAIN does not exist: the direct method, once */
		started = 0;
		for (size_t i = 0; dane != NULL && i < n; i++) {
			if (direct[i] || dane_wkd_host(dane, i) != HOST_NXDOMAIN)
				continue;
			direct[i] = 1;
			for (int k = F_WKD; k <= F_WKD_POLICY; k++) {
				size_t t = (size_t)k * n + i;
				struct lk_answer *a;

				if (x[t].ans == NULL || (x[t].deferred && h[t] == NULL))
					continue; /* not asked yet: asked later, directly */
				a = x[t].ans;
				if (h[t] != NULL) {
					curl_multi_remove_handle(m, h[t]);
					curl_easy_cleanup(h[t]);
					h[t] = NULL;
				}
				buf_reset(&a->data);
				x[t].oversize = 0;
				a->res = LK_TEMPFAIL;
				snprintf(a->why, sizeof(a->why),
					 "direct method: no answer before the deadline");
				if (url_for((enum fetch_kind)k, addrs[i], 1, o, a->url,
					    sizeof(a->url)) < 0 ||
				    (h[t] = start_transfer(m, a->url, &x[t], o, connect_to)) ==
					    NULL)
					goto out;
				started = 1;
			}
		}
		while ((msg = curl_multi_info_read(m, &left)) != NULL) {
			struct xfer *xi;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&xi);
			classify(msg->easy_handle, msg->data.result, xi);
			if (xi->kind == F_WKD && xi->ans->res == LK_NOT_FOUND) {
				size_t t = (size_t)F_WKD_POLICY * n + xi->idx;
				struct lk_answer *a = x[t].ans;

				if (a == NULL || !x[t].deferred || h[t] != NULL)
					continue;
				if (url_for(F_WKD_POLICY, addrs[xi->idx], direct[xi->idx], o, a->url,
					    sizeof(a->url)) < 0 ||
				    (h[t] = start_transfer(m, a->url, &x[t], o, connect_to)) == NULL)
					goto out;
				started = 1;
			}
		}
	} while (running || started || dane_pending(dane) > 0);
	r = 0;
out:
	for (size_t t = 0; h != NULL && t < nx; t++)
		if (h[t] != NULL) {
			curl_multi_remove_handle(m, h[t]);
			curl_easy_cleanup(h[t]);
		}
	if (m != NULL)
		curl_multi_cleanup(m);
	curl_slist_free_all(connect_to);
	free(h);
	free(x);
	free(direct);
	return r;
}
