#include "config.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "conf.h"
#include "discover.h"
#include "fileio.h"
#include "keyring.h"
#include "log.h"
#include "netmod.h"
#include "policy.h"
#include "store.h"

/* how stale a pin's last_seen may get before it is updated */
#define PIN_SEEN_EVERY (60 * 60)

/* the network sources, and the fetch kind of each (-1: DNS) */
static const enum lk_source net_sources[] = {SRC_DANE, SRC_WKD, SRC_VKS, SRC_HKP};

void
discovery_init(struct discovery *d)
{
	memset(d, 0, sizeof(*d));
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

void
discovery_close(struct discovery *d)
{
	if (d->user != NULL)
		gpgme_release(d->user);
	if (d->store != NULL)
		gpgme_release(d->store);
	cache_close(d->cache);
	if (d->tmpdir[0] != '\0')
		nftw(d->tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	discovery_init(d);
}

/* A keyring and cache for this run only, in a new private directory
 * under $TMPDIR or /tmp: what an account without a usable home gets.
 * Lookups work as usual; nothing is remembered between runs, pins
 * included. */
static enum ps_status
open_private_store(struct discovery *d, char *path, size_t pathlen, char *why,
		   size_t whylen)
{
	const char *tmp = getenv("TMPDIR");
	char dir[2048];

	if (tmp == NULL || tmp[0] != '/' || strlen(tmp) > 1024)
		tmp = "/tmp";
	snprintf(dir, sizeof(dir), "%s/postseal.XXXXXX", tmp);
	if (mkdtemp(dir) == NULL)
		return ps_fail(PS_TEMPFAIL, why, whylen,
			       "no place for postseal's keyring: %s: %s", dir, strerror(errno));
	snprintf(d->tmpdir, sizeof(d->tmpdir), "%s", dir);
	ps_why(d->storedir, sizeof(d->storedir), "%s/gnupg", dir);
	ps_why(path, pathlen, "%s/cache.sqlite", dir);
	return PS_OK;
}

enum ps_status
discovery_open_cache(struct discovery *d, char *why, size_t whylen)
{
	char path[4096];
	enum ps_status st;

	if (d->cache != NULL)
		return PS_OK;
	if (d->storedir[0] != '\0') {
		/* a system keyring (gateway mode): the cache sits next to it */
		char *slash;

		snprintf(path, sizeof(path), "%s", d->storedir);
		if ((slash = strrchr(path, '/')) == NULL || slash == path)
			return ps_fail(PS_CONFIG, why, whylen, "bad keyring path %s",
				       d->storedir);
		snprintf(slash, sizeof(path) - (size_t)(slash - path), "/cache.sqlite");
		/* the admin's choice: a failure here is not papered over */
		if ((st = store_prepare(d->storedir, why, whylen)) != PS_OK)
			return st;
	} else if (store_path(d->storedir, sizeof(d->storedir)) < 0 ||
		   cache_path(path, sizeof(path)) < 0 ||
		   store_prepare(d->storedir, why, whylen) != PS_OK) {
		/* no HOME, or one that cannot hold it: a private keyring for
		 * this run (why says what was wrong, for -v) */
		if (why[0] != '\0')
			log_debug("%s; using a keyring for this run only", why);
		else
			log_debug("no cache directory (HOME and XDG_CACHE_HOME unset); using a "
				  "keyring for this run only");
		why[0] = '\0';
		if ((st = open_private_store(d, path, sizeof(path), why, whylen)) != PS_OK)
			return st;
		if ((st = store_prepare(d->storedir, why, whylen)) != PS_OK)
			return st;
		return cache_open(path, &d->cache, why, whylen);
	}
	/* the cache lives in the keyring's parent directory */
	return cache_open(path, &d->cache, why, whylen);
}

enum ps_status
discovery_open_store(struct discovery *d, char *why, size_t whylen)
{
	enum ps_status st;

	if ((st = discovery_open_cache(d, why, whylen)) != PS_OK)
		return st;
	if (d->store == NULL)
		return keyring_open(d->storedir, &d->store, why, whylen);
	return PS_OK;
}

enum ps_status
discovery_user_ctx(struct discovery *d, char *why, size_t whylen)
{
	if (d->user != NULL)
		return PS_OK;
	return keyring_open(NULL, &d->user, why, whylen);
}

/* The cache for remembering lookups; NULL (and said once, in debug) when
 * it cannot be had: the lookups are then simply not remembered. */
static struct cache *
memo_cache(struct discovery *d)
{
	char why[PS_WHY_MAX];

	if (d->cache == NULL && !d->cache_failed &&
	    discovery_open_cache(d, why, sizeof(why)) != PS_OK) {
		d->cache_failed = 1;
		log_debug("key lookups are not remembered: %s", why);
	}
	return d->cache;
}

/* Whether what was just listed from the keyring in dir may be remembered
 * under stamp (taken at now, before the listing): the keyring still has
 * that stamp, and none of its files changed within the clock's
 * granularity of now (keyring_stamp()). */
static int
memo_stable(const char *dir, const char *stamp, time_t now)
{
	char again[1024];

	return keyring_stamp(dir, now, again, sizeof(again)) == 0 && strcmp(stamp, again) == 0;
}

enum ps_status
discover_local(struct discovery *d, char *const *addrs, size_t n, char (*fpr)[41],
	       char *why, size_t whylen)
{
	char stamp[1024];
	char **miss = NULL;
	size_t *at = NULL, nmiss = 0;
	gpgme_key_t *keys = NULL;
	time_t *until = NULL, now = time(NULL);
	struct cache *c = memo_cache(d);
	enum ps_status st = PS_OK;
	int sr = -1;

	for (size_t i = 0; i < n; i++)
		fpr[i][0] = '\0';
	if (n == 0)
		return PS_OK;
	if (d->userdir[0] == '\0' && keyring_user_home(d->userdir, sizeof(d->userdir)) < 0)
		d->userdir[0] = '\0';
	/* ~/.gnupg that does not exist holds no keys (a home without one);
	 * a GNUPGHOME the caller named that is not there (a volume not
	 * mounted, a typo) may hold keys that cannot be checked now: no
	 * recipient may get plaintext for want of it */
	if (d->userdir[0] != '\0' && access(d->userdir, F_OK) != 0 && errno == ENOENT) {
		if (env_user_gnupghome() != NULL)
			return ps_fail(PS_TEMPFAIL, why, whylen,
				       "GNUPGHOME=%s does not exist: the keys there cannot be "
				       "checked",
				       d->userdir);
		log_debug("%s does not exist: no keys in the local keyring", d->userdir);
		return PS_OK;
	}
	if (c != NULL && d->userdir[0] != '\0')
		sr = keyring_stamp(d->userdir, now, stamp, sizeof(stamp));
	miss = calloc(n, sizeof(*miss));
	at = calloc(n, sizeof(*at));
	keys = calloc(n, sizeof(*keys));
	until = calloc(n, sizeof(*until));
	if (miss == NULL || at == NULL || keys == NULL || until == NULL) {
		st = ps_fail(PS_TEMPFAIL, why, whylen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (sr >= 0 &&
		    cache_memo_get(c, d->userdir, stamp, addrs[i], now, fpr[i], sizeof(fpr[i])) == 1) {
			log_debug("%s: local keyring (remembered): %s", addrs[i],
				  fpr[i][0] ? fpr[i] : "no usable key");
			continue;
		}
		fpr[i][0] = '\0';
		miss[nmiss] = addrs[i];
		at[nmiss++] = i;
	}
	if (nmiss == 0)
		goto out;
	if ((st = discovery_user_ctx(d, why, whylen)) != PS_OK ||
	    (st = keyring_lookup(d->user, miss, nmiss, keys, until, why, whylen)) != PS_OK)
		goto out;
	for (size_t k = 0; k < nmiss; k++)
		if (keys[k] != NULL)
			snprintf(fpr[at[k]], sizeof(fpr[at[k]]), "%s", keys[k]->subkeys->fpr);
	if (sr >= 0 && memo_stable(d->userdir, stamp, now)) {
		int tx = cache_begin(c) == 0;

		for (size_t k = 0; k < nmiss; k++)
			cache_memo_put(c, d->userdir, stamp, miss[k], fpr[at[k]], until[k]);
		if (tx)
			cache_commit(c);
	}
out:
	for (size_t k = 0; keys != NULL && k < n; k++)
		if (keys[k] != NULL)
			gpgme_key_unref(keys[k]);
	free(miss);
	free(at);
	free(keys);
	free(until);
	return st;
}

const char *
disc_state_name(enum disc_state s)
{
	switch (s) {
	case DS_KEY:
		return "key";
	case DS_NO_KEY:
		return "no-key";
	case DS_UNKNOWN:
		return "unknown";
	case DS_KEY_CHANGE:
		return "key-change";
	}
	return "?";
}

void
disc_free(struct disc_result *r, size_t n)
{
	for (size_t i = 0; r != NULL && i < n; i++) {
		for (int s = 0; s < SRC_COUNT; s++)
			buf_free(&r[i].ans[s].data);
	}
}

static int
enabled(const struct disc_sources *ds, enum lk_source s)
{
	for (size_t i = 0; i < ds->norder; i++)
		if (ds->order[i] == s)
			return 1;
	return 0;
}

static int
source_usable(const struct disc_opts *o, const struct disc_sources *ds,
	      enum lk_source s)
{
	if (s == SRC_VKS && o->wkd.vks_server == NULL)
		return 0;
	if (s == SRC_HKP && o->wkd.hkp_server == NULL)
		return 0;
	return enabled(ds, s);
}

static const char *
domain_of(const char *addr)
{
	const char *at = addr_at(addr);

	return at != NULL ? at + 1 : "";
}

/* One address's key found in one source's fresh cache entry. */
static void
from_cache(struct discovery *d, const char *addr, enum lk_source s, time_t now,
	   const struct disc_opts *o, struct disc_result *r, char (*cand)[41])
{
	struct cache_entry e;
	struct lk_answer *a = &r->ans[s];
	const char *what = s == SRC_DANE ? "no-dnssec" : s == SRC_WKD ? "no-wkd" : NULL;

	if (o->refresh)
		return;
	if (what != NULL && cache_domain_get(d->cache, domain_of(addr), what, now) == 1) {
		a->res = LK_NOT_FOUND;
		snprintf(a->why, sizeof(a->why), "cached: %s",
			 s == SRC_DANE ? "the domain's zone is not signed"
				       : "the domain publishes no WKD");
		r->asked[s] = ASK_CACHE;
		return;
	}
	if (cache_get(d->cache, addr, s, &e) != 1 || e.expires <= now)
		return;
	snprintf(a->url, sizeof(a->url), "%s", e.url);
	if (e.res == LK_NOT_FOUND) {
		a->res = LK_NOT_FOUND;
		snprintf(a->why, sizeof(a->why), "cached: %.400s", e.why);
		r->asked[s] = ASK_CACHE;
		return;
	}
	/* FOUND: a candidate, used only while the key is still in
	 * postseal's keyring and usable (all candidates are checked in one
	 * key listing); otherwise the source is asked again */
	snprintf(cand[s], sizeof(cand[s]), "%s", e.fpr);
	r->fetched_at[s] = e.fetched;
}

static void
cache_answer(struct discovery *d, const char *addr, enum lk_source s,
	     const struct lk_answer *a, const char *fpr, time_t now)
{
	struct cache_entry e;

	if (a->res != LK_FOUND && a->res != LK_NOT_FOUND)
		return; /* inconclusive: never cached */
	memset(&e, 0, sizeof(e));
	e.res = a->res;
	snprintf(e.fpr, sizeof(e.fpr), "%s", fpr ? fpr : "");
	snprintf(e.url, sizeof(e.url), "%s", a->url);
	snprintf(e.why, sizeof(e.why), "%s", a->why);
	e.fetched = now;
	if (a->ttl > 0)
		e.expires = now + (a->ttl < CACHE_TTL_FOUND ? a->ttl : CACHE_TTL_FOUND);
	else
		e.expires = now + (a->res == LK_FOUND ? CACHE_TTL_FOUND
						      : CACHE_TTL_NOT_FOUND);
	if (cache_put(d->cache, addr, s, &e) < 0)
		log_warnx("%s: could not cache the %s answer", addr, lk_source_name(s));
}

static void
decide(struct discovery *d, const char *addr, const struct disc_sources *o,
       struct disc_result *r, char (*keys)[41], time_t now)
{
	int inconclusive = 0, any_net = 0, have_pin;
	enum lk_source best = SRC_COUNT;

	for (size_t k = 0; k < o->norder; k++) {
		enum lk_source s = o->order[k];

		if (s == SRC_LOCAL || s == SRC_PINNED || r->asked[s] == ASK_OFF ||
		    r->asked[s] == ASK_SKIPPED)
			continue;
		any_net = 1;
		if (r->ans[s].res == LK_FOUND && keys[s][0] != '\0') {
			if (best == SRC_COUNT)
				best = s;
		} else if (r->ans[s].res != LK_NOT_FOUND)
			inconclusive = 1;
	}
	have_pin = cache_pin_get(d->cache, addr, &r->pin);
	if (have_pin < 0) {
		r->state = DS_UNKNOWN;
		snprintf(r->why, sizeof(r->why), "the pin database cannot be read");
		return;
	}
	if (have_pin == 0)
		r->pin.fpr[0] = '\0';
	if (best != SRC_COUNT) {
		const char *fpr = keys[best];

		snprintf(r->fpr, sizeof(r->fpr), "%s", fpr);
		r->src = best;
		r->fetched = r->asked[best] == ASK_CACHE ? r->fetched_at[best] : now;
		if (have_pin && strcmp(r->pin.fpr, fpr) != 0) {
			if (o->key_change == KC_REFUSE) {
				r->state = DS_KEY_CHANGE;
				snprintf(r->why, sizeof(r->why),
					 "key change: %s offers %s, but %s is pinned "
					 "(from %s); refused by key-change = refuse "
					 "(postseal-keyfetch --flush %s accepts the new key)",
					 lk_source_name(best), fpr, r->pin.fpr,
					 lk_source_name(r->pin.src), addr);
				return;
			}
			r->key_changed = 1;
		}
		if (r->key_changed)
			snprintf(r->why, sizeof(r->why),
				 "key change accepted (key-change = %s): %s replaces "
				 "pinned %s",
				 o->key_change == KC_WARN ? "warn" : "accept", fpr,
				 r->pin.fpr);
		else
			snprintf(r->why, sizeof(r->why), "key from %s%s", lk_source_name(best),
				 r->asked[best] == ASK_CACHE ? " (cached)" : "");
		if (!have_pin || r->key_changed) {
			struct cache_pin p;

			snprintf(p.fpr, sizeof(p.fpr), "%s", fpr);
			p.src = best;
			snprintf(p.url, sizeof(p.url), "%s", r->ans[best].url);
			p.first_seen = p.last_seen = now;
			if (cache_pin_put(d->cache, addr, &p) < 0) {
				r->state = DS_UNKNOWN;
				snprintf(r->why, sizeof(r->why), "the pin cannot be stored");
				return;
			}
			r->pin = p; /* as it is now */
		} else if (now - r->pin.last_seen >= PIN_SEEN_EVERY)
			/* at most hourly: a write on every submission would
			 * cost more than the rest of the cache's work */
			cache_pin_seen(d->cache, addr, fpr, now);
		r->state = DS_KEY;
		return;
	}
	/* no source offers a key: the pin stands in only when the sources
	 * could not answer (or none is asked), never against their proof */
	if (enabled(o, SRC_PINNED) && have_pin && (inconclusive || !any_net)) {
		gpgme_key_t k = NULL;
		struct lk_answer *a = &r->ans[SRC_PINNED];

		r->asked[SRC_PINNED] = ASK_CACHE;
		if (discovery_open_store(d, a->why, sizeof(a->why)) != PS_OK)
			a->res = LK_TEMPFAIL;
		else
			a->res = store_key(d->store, r->pin.fpr, addr, &k, a->why,
					   sizeof(a->why));
		snprintf(a->url, sizeof(a->url), "%s", r->pin.url);
		if (k != NULL)
			gpgme_key_unref(k);
		if (a->res == LK_FOUND) {
			r->state = DS_KEY;
			r->src = SRC_PINNED;
			r->fetched = r->pin.last_seen;
			snprintf(r->fpr, sizeof(r->fpr), "%s", r->pin.fpr);
			snprintf(r->why, sizeof(r->why), "pinned key%s",
				 inconclusive ? " (the sources could not answer)" : "");
			return;
		}
	}
	if (inconclusive) {
		r->state = DS_UNKNOWN;
		snprintf(r->why, sizeof(r->why),
			 "no key, and not every source could answer");
	} else {
		r->state = DS_NO_KEY;
		snprintf(r->why, sizeof(r->why), "%s",
			 any_net ? "every source says there is no key"
				 : "no key in the local keyring");
	}
}

/* The DNSSEC status of an address's domain, from every DNS answer of
 * this run about it (and a cached "no-dnssec"): bogus anywhere wins,
 * then secure, then insecure; unknown when DNS said nothing. */
static enum lk_dnssec
domain_dnssec(struct discovery *d, const char *addr, const struct disc_result *r,
	      const unsigned char *asked, time_t now)
{
	enum lk_dnssec v[2] = {asked[SRC_WKD] ? r->ans[SRC_WKD].dnssec : DNSSEC_UNKNOWN,
			       asked[SRC_DANE] ? r->ans[SRC_DANE].dnssec : DNSSEC_UNKNOWN};

	if (v[0] == DNSSEC_BOGUS || v[1] == DNSSEC_BOGUS)
		return DNSSEC_BOGUS;
	if (v[0] == DNSSEC_SECURE || v[1] == DNSSEC_SECURE)
		return DNSSEC_SECURE;
	if (v[0] == DNSSEC_INSECURE || v[1] == DNSSEC_INSECURE ||
	    cache_domain_get(d->cache, domain_of(addr), "no-dnssec", now) == 1)
		return DNSSEC_INSECURE;
	return DNSSEC_UNKNOWN;
}

/* Which failures of this run mean "this domain has no WKD" (or no DANE)
 * and which stay inconclusive: the table in postseal(8), "Failures that
 * mean no key". A failure that is a lasting property of an unsigned
 * domain (no web server, a certificate for another name, a catch-all
 * page, a key for someone else) is how a large share of ordinary domains
 * look; reading it strictly protects nothing there, since whoever can
 * cause it can forge the domain's DNS as well, and only refuses mail.
 * Strictness stays where it protects something: encrypt = require, a
 * domain known to publish WKD (memory), an address with a pin, DNSSEC
 * (bogus always, a passing failure of a signed domain), and a domain
 * whose DNS did not answer (nothing is known of it). */
static void
judge_failures(struct discovery *d, const char *addr, const struct disc_sources *ds,
	       struct disc_result *r, const unsigned char *asked, int content, time_t now)
{
	struct lk_answer *w = &r->ans[SRC_WKD], *dane = &r->ans[SRC_DANE];
	enum lk_dnssec sec = domain_dnssec(d, addr, r, asked, now);
	const char *keep = NULL;
	struct cache_pin pin;
	char was[PS_WHY_MAX];

	if (ds->strict)
		keep = "encrypt = require";
	else if (cache_domain_get(d->cache, domain_of(addr), "wkd-seen", now) == 1)
		keep = "the domain has published keys in WKD before";
	else if (cache_pin_get(d->cache, addr, &pin) == 1)
		keep = "the address has a pinned key";
	else if (sec == DNSSEC_BOGUS)
		keep = "DNSSEC validation failed";
	else if (sec == DNSSEC_UNKNOWN)
		keep = "the domain's DNS did not answer";
	if (asked[SRC_WKD] && (w->res == LK_TEMPFAIL || w->res == LK_BAD)) {
		const char *why = keep != NULL ? keep
				  : sec == DNSSEC_SECURE && !w->lasting
					  ? "a passing failure of a DNSSEC-signed domain"
					  : NULL;

		snprintf(was, sizeof(was), "%s", w->why);
		if (why != NULL)
			snprintf(w->why, sizeof(w->why), "%.400s; inconclusive: %s", was, why);
		else {
			w->res = LK_NOT_FOUND;
			snprintf(w->why, sizeof(w->why), "no WKD here: %.440s", was);
			/* a server-wide fact, not one address's key */
			if (!content)
				cache_domain_put(d->cache, domain_of(addr), "no-wkd", now,
						 now + CACHE_TTL_DOMAIN);
		}
	}
	/* an OPENPGPKEY query that failed in a zone that other answers show
	 * unsigned: DANE could not be used there anyway (some name servers
	 * drop queries for types they do not know) */
	if (asked[SRC_DANE] && dane->res == LK_TEMPFAIL && sec == DNSSEC_INSECURE &&
	    keep == NULL) {
		snprintf(was, sizeof(was), "%s", dane->why);
		dane->res = LK_NOT_FOUND;
		snprintf(dane->why, sizeof(dane->why),
			 "no DANE here: the zone is not signed (%.400s)", was);
	}
}

/* Run the network lookups for the addresses and sources marked in
 * need[] (i*SRC_COUNT+s), then import and cache what came back. */
static enum ps_status
run_network(struct discovery *d, char *const *addrs, size_t n,
	    const struct disc_opts *o, struct disc_result *out, char (*keys)[41],
	    const unsigned char *need, time_t now, char *why, size_t whylen)
{
	struct lk_answer *dns = NULL, *fa[F_KINDS] = {NULL};
	unsigned char *skip[F_KINDS] = {NULL}, *skip_dane = NULL, *content = NULL;
	char (*net)[PS_ADDR_MAX + 1] = NULL;
	char **netp = NULL;
	struct dane_batch *batch = NULL;
	struct fetch_set fs;
	int any_dns = 0, any_http = 0;
	enum ps_status st;

	if ((st = netmod_load(why, whylen)) != PS_OK)
		return st;
	dns = calloc(n, sizeof(*dns));
	skip_dane = calloc(n, 1);
	content = calloc(n, 1);
	for (int k = 0; k < F_KINDS; k++) {
		fa[k] = calloc(n, sizeof(*fa[k]));
		skip[k] = calloc(n, 1);
		if (fa[k] == NULL || skip[k] == NULL)
			dns = NULL;
	}
	if (dns == NULL || skip_dane == NULL || content == NULL) {
		st = ps_fail(PS_TEMPFAIL, why, whylen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const unsigned char *ni = need + i * SRC_COUNT;

		skip_dane[i] = !ni[SRC_DANE];
		skip[F_WKD][i] = !ni[SRC_WKD];
		skip[F_VKS][i] = !ni[SRC_VKS];
		skip[F_HKP][i] = !ni[SRC_HKP];
		/* one policy file per domain */
		skip[F_WKD_POLICY][i] = !ni[SRC_WKD];
		for (size_t j = 0; j < i && !skip[F_WKD_POLICY][i]; j++)
			if (need[j * SRC_COUNT + SRC_WKD] &&
			    addr_equal_domain(addrs[i], addrs[j]))
				skip[F_WKD_POLICY][i] = 1;
		any_dns |= ni[SRC_DANE] || ni[SRC_WKD];
		any_http |= ni[SRC_WKD] || ni[SRC_VKS] || ni[SRC_HKP];
		for (int k = 0; k < F_KINDS; k++)
			lk_answer_init(&fa[k][i], k == F_VKS ? SRC_VKS : k == F_HKP ? SRC_HKP : SRC_WKD,
				       "not looked up");
		lk_answer_init(&dns[i], SRC_DANE, "not looked up");
	}
	/* one resolver for DANE and for every host name of the HTTPS
	 * lookups: nothing goes to getaddrinfo(), which no deadline stops */
	/* the names asked on the network carry the domain's A-labels
	 * (x@bücher.example: openpgpkey.xn--bcher-kva.example); the local
	 * part stays as written (WKD hashes it lowercased, DANE as is) */
	net = calloc(n, sizeof(*net));
	netp = calloc(n + 1, sizeof(*netp));
	if (net == NULL || netp == NULL) {
		st = ps_fail(PS_TEMPFAIL, why, whylen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const char *at = addr_at(addrs[i]);
		char dom[PS_ADDR_MAX + 1];

		if (at != NULL && addr_canonical_domain(at + 1, dom, sizeof(dom)) == 0 &&
		    (size_t)(at - addrs[i]) + 1 + strlen(dom) <= PS_ADDR_MAX)
			ps_why(net[i], sizeof(net[i]), "%.*s@%s", (int)(at - addrs[i]), addrs[i], dom);
		else
			snprintf(net[i], sizeof(net[i]), "%s", addrs[i]);
		netp[i] = net[i];
	}
	if (any_dns || any_http)
		batch = dane_start(netp, n, &o->dane, dns, skip_dane);
	for (int k = 0; k < F_KINDS; k++) {
		fs.ans[k] = fa[k];
		fs.skip[k] = skip[k];
	}
	if ((any_http || batch != NULL) && wkd_fetch_all(netp, n, &o->wkd, &fs, batch) < 0) {
		dane_finish(batch);
		st = ps_fail(PS_TEMPFAIL, why, whylen, "the lookups could not be started");
		goto out;
	}
	dane_finish(batch);
	/* import all replies, judge them in one key listing, cache */
	{
		struct store_item *items = calloc(n * 4 + 1, sizeof(*items));
		size_t ni = 0;

		if (items == NULL) {
			st = ps_fail(PS_TEMPFAIL, why, whylen, "out of memory");
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			const unsigned char *ni_ = need + i * SRC_COUNT;
			struct disc_result *r = &out[i];

			for (size_t s = 0; s < sizeof(net_sources) / sizeof(net_sources[0]); s++) {
				enum lk_source src = net_sources[s];
				struct lk_answer *a = &r->ans[src], *got;

				if (!ni_[src])
					continue;
				got = src == SRC_DANE ? &dns[i]
				      : src == SRC_WKD ? &fa[F_WKD][i]
				      : src == SRC_VKS ? &fa[F_VKS][i]
						       : &fa[F_HKP][i];
				buf_free(&a->data);
				*a = *got;
				buf_init(&got->data, 0);
				r->asked[src] = ASK_NET;
				r->fetched_at[src] = now;
				if (a->res == LK_FOUND) {
					items[ni].addr = addrs[i];
					items[ni].data = &a->data;
					ni++;
				}
			}
		}
		if (ni > 0 && (st = discovery_open_store(d, why, whylen)) != PS_OK) {
			free(items);
			goto out;
		}
		store_import_many(d->store, items, ni);
		/* the answers, the domain facts and (in decide) the pins: one
		 * transaction, committed by discover_keys() */
		d->in_tx = cache_begin(d->cache) == 0;
		ni = 0;
		for (size_t i = 0; i < n; i++) {
			const unsigned char *ni_ = need + i * SRC_COUNT;
			struct disc_result *r = &out[i];
			char (*ki)[41] = keys + i * SRC_COUNT;
			const char *dom = domain_of(addrs[i]);
			int policy_file = -1; /* the domain's WKD policy file */

			for (size_t s = 0; s < sizeof(net_sources) / sizeof(net_sources[0]); s++) {
				enum lk_source src = net_sources[s];
				struct lk_answer *a = &r->ans[src];

				if (!ni_[src] || a->res != LK_FOUND)
					continue;
				a->res = items[ni].res;
				if (items[ni].key != NULL) {
					snprintf(ki[src], sizeof(ki[src]), "%s",
						 items[ni].key->subkeys->fpr);
					gpgme_key_unref(items[ni].key);
					items[ni].key = NULL;
				}
				snprintf(a->why, sizeof(a->why), "%s", items[ni].why);
				/* not a key, or none for this address: what the
				 * server holds, not a passing failure */
				a->lasting = a->res == LK_BAD;
				content[i] |= src == SRC_WKD && a->res == LK_BAD;
				ni++;
				if (a->res == LK_FOUND)
					log_debug("%s: %s offers key %s (%s)", addrs[i],
						  lk_source_name(src), ki[src], a->url);
			}
			if (ni_[SRC_WKD])
				/* fetched for the first address of the domain */
				for (size_t j = 0; j <= i && policy_file < 0; j++)
					if (!skip[F_WKD_POLICY][j] &&
					    addr_equal_domain(addrs[i], addrs[j]))
						policy_file = (int)fa[F_WKD_POLICY][j].res;
			/* domain memory: this domain publishes keys in WKD */
			if ((ni_[SRC_WKD] && r->ans[SRC_WKD].res == LK_FOUND &&
			     ki[SRC_WKD][0] != '\0') ||
			    policy_file == LK_FOUND)
				cache_domain_put(d->cache, dom, "wkd-seen", now,
						 now + CACHE_TTL_MEMORY);
			judge_failures(d, addrs[i], &o->per[i], r, ni_, content[i], now);
			for (size_t s = 0; s < sizeof(net_sources) / sizeof(net_sources[0]); s++) {
				enum lk_source src = net_sources[s];
				struct lk_answer *a = &r->ans[src];

				if (!ni_[src])
					continue;
				buf_free(&a->data);
				cache_answer(d, addrs[i], src, a, ki[src][0] ? ki[src] : NULL, now);
				if (src == SRC_DANE && a->insecure)
					cache_domain_put(d->cache, dom, "no-dnssec", now,
							 now + CACHE_TTL_DOMAIN);
			}
			if (ni_[SRC_WKD] && r->ans[SRC_WKD].res == LK_NOT_FOUND &&
			    policy_file == LK_NOT_FOUND)
				cache_domain_put(d->cache, dom, "no-wkd", now, now + CACHE_TTL_DOMAIN);
		}
		free(items);
	}
out:
	for (size_t i = 0; dns != NULL && i < n; i++)
		buf_free(&dns[i].data);
	for (int k = 0; k < F_KINDS; k++) {
		for (size_t i = 0; fa[k] != NULL && i < n; i++)
			buf_free(&fa[k][i].data);
		free(fa[k]);
		free(skip[k]);
	}
	free(dns);
	free(skip_dane);
	free(content);
	free(net);
	free(netp);
	return st;
}

/* Which of the cached candidates fprs[i] (may be NULL) are still in
 * postseal's keyring and usable for addrs[i]: out[i] set to the
 * fingerprint, or "". Remembered like discover_local(), positive answers
 * only (a candidate that fails is asked on the network again, and that
 * changes the keyring). */
static enum ps_status
cached_keys(struct discovery *d, const char *const *fprs, const char *const *addrs,
	    size_t n, char (*out)[41], char *why, size_t whylen)
{
	char stamp[1024], got[41];
	const char **lf = NULL;
	gpgme_key_t *keys = NULL;
	time_t *until = NULL, now = time(NULL);
	size_t nlist = 0;
	enum ps_status st = PS_OK;
	int sr;

	sr = keyring_stamp(d->storedir, now, stamp, sizeof(stamp));
	lf = calloc(n ? n : 1, sizeof(*lf));
	keys = calloc(n ? n : 1, sizeof(*keys));
	until = calloc(n ? n : 1, sizeof(*until));
	if (lf == NULL || keys == NULL || until == NULL) {
		st = ps_fail(PS_TEMPFAIL, why, whylen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		out[i][0] = '\0';
		if (fprs[i] == NULL || fprs[i][0] == '\0')
			continue;
		if (sr >= 0 &&
		    cache_memo_get(d->cache, d->storedir, stamp, addrs[i], now, got,
				   sizeof(got)) == 1 &&
		    strcmp(got, fprs[i]) == 0) {
			snprintf(out[i], sizeof(out[i]), "%s", got);
			continue;
		}
		lf[i] = fprs[i];
		nlist++;
	}
	if (nlist == 0)
		goto out;
	if ((st = discovery_open_store(d, why, whylen)) != PS_OK)
		goto out;
	store_keys(d->store, lf, addrs, n, keys, until);
	for (size_t i = 0; i < n; i++)
		if (keys[i] != NULL)
			snprintf(out[i], sizeof(out[i]), "%s", keys[i]->subkeys->fpr);
	if (sr >= 0 && memo_stable(d->storedir, stamp, now)) {
		int tx = cache_begin(d->cache) == 0;

		for (size_t i = 0; i < n; i++)
			if (keys[i] != NULL)
				cache_memo_put(d->cache, d->storedir, stamp, addrs[i], out[i],
					       until[i]);
		if (tx)
			cache_commit(d->cache);
	}
out:
	for (size_t i = 0; keys != NULL && i < n; i++)
		if (keys[i] != NULL)
			gpgme_key_unref(keys[i]);
	free(lf);
	free(keys);
	free(until);
	return st;
}

enum ps_status
discover_keys(struct discovery *d, char *const *addrs, size_t n,
	      const struct disc_opts *o, struct disc_result *out, char *why,
	      size_t whylen)
{
	char (*local)[41] = NULL, (*keys)[41] = NULL;
	char **laddr = NULL;
	size_t *lat = NULL, nl = 0;
	unsigned char *need = NULL;
	char (*cand)[41] = NULL;
	const char **cfp = NULL, **cad = NULL;
	time_t now = time(NULL);
	enum ps_status st = PS_OK;
	int any_need = 0, store_needed = 0;

	memset(out, 0, n * sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		out[i].state = DS_UNKNOWN; /* decided below */
		for (int s = 0; s < SRC_COUNT; s++)
			lk_answer_init(&out[i].ans[s], (enum lk_source)s, "not enabled");
	}
	local = calloc(n ? n : 1, sizeof(*local));
	laddr = calloc(n ? n : 1, sizeof(*laddr));
	lat = calloc(n ? n : 1, sizeof(*lat));
	keys = calloc((n ? n : 1) * SRC_COUNT, sizeof(*keys));
	need = calloc((n ? n : 1) * SRC_COUNT, 1);
	if (local == NULL || laddr == NULL || lat == NULL || keys == NULL || need == NULL) {
		st = ps_fail(PS_TEMPFAIL, why, whylen, "out of memory");
		goto out;
	}
	/* 1. the local keyring, for all addresses at once */
	for (size_t i = 0; i < n; i++)
		if (enabled(&o->per[i], SRC_LOCAL)) {
			laddr[nl] = addrs[i];
			lat[nl++] = i;
		}
	if (nl > 0 && (st = discover_local(d, laddr, nl, local, why, whylen)) != PS_OK)
		goto out;
	for (size_t k = 0; k < nl; k++) {
		struct disc_result *r = &out[lat[k]];

		r->asked[SRC_LOCAL] = ASK_CACHE;
		if (local[k][0] != '\0') {
			r->ans[SRC_LOCAL].res = LK_FOUND;
			snprintf(r->ans[SRC_LOCAL].why, sizeof(r->ans[SRC_LOCAL].why),
				 "key %s", local[k]);
			r->state = DS_KEY;
			r->src = SRC_LOCAL;
			snprintf(r->fpr, sizeof(r->fpr), "%s", local[k]);
			snprintf(r->why, sizeof(r->why), "key from the local keyring");
		} else {
			r->ans[SRC_LOCAL].res = LK_NOT_FOUND;
			snprintf(r->ans[SRC_LOCAL].why, sizeof(r->ans[SRC_LOCAL].why),
				 "no usable key with this address");
		}
	}
	for (size_t i = 0; i < n; i++)
		store_needed |= out[i].state != DS_KEY;
	if (!store_needed)
		goto out;
	if ((st = discovery_open_cache(d, why, whylen)) != PS_OK)
		goto out;
	/* 2. the cache: answers and per-domain facts, then every cached key
	 * checked (remembered, or in one listing of postseal's keyring) */
	if ((cand = calloc(n * SRC_COUNT, sizeof(*cand))) == NULL ||
	    (cfp = calloc(n * SRC_COUNT, sizeof(*cfp))) == NULL ||
	    (cad = calloc(n * SRC_COUNT, sizeof(*cad))) == NULL) {
		st = ps_fail(PS_TEMPFAIL, why, whylen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (out[i].state == DS_KEY)
			continue;
		for (size_t s = 0; s < sizeof(net_sources) / sizeof(net_sources[0]); s++) {
			enum lk_source src = net_sources[s];

			if (!source_usable(o, &o->per[i], src))
				continue;
			from_cache(d, addrs[i], src, now, o, &out[i], cand + i * SRC_COUNT);
			if (cand[i * SRC_COUNT + src][0] != '\0') {
				cfp[i * SRC_COUNT + src] = cand[i * SRC_COUNT + src];
				cad[i * SRC_COUNT + src] = addrs[i];
			}
		}
	}
	if ((st = cached_keys(d, cfp, cad, n * SRC_COUNT, keys, why, whylen)) != PS_OK)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct disc_result *r = &out[i];
		int cached_key = 0;

		if (r->state == DS_KEY)
			continue;
		for (size_t s = 0; s < sizeof(net_sources) / sizeof(net_sources[0]); s++) {
			enum lk_source src = net_sources[s];
			struct lk_answer *a = &r->ans[src];

			if (keys[i * SRC_COUNT + src][0] == '\0')
				continue;
			a->res = LK_FOUND;
			snprintf(a->why, sizeof(a->why), "cached: key %s", cand[i * SRC_COUNT + src]);
			r->asked[src] = ASK_CACHE;
			cached_key = 1;
		}
		for (size_t s = 0; s < sizeof(net_sources) / sizeof(net_sources[0]); s++) {
			enum lk_source src = net_sources[s];

			if (!source_usable(o, &o->per[i], src) || r->asked[src] == ASK_CACHE)
				continue;
			if (cached_key) {
				/* a cached key never waits on the network */
				r->asked[src] = ASK_SKIPPED;
				snprintf(r->ans[src].why, sizeof(r->ans[src].why),
					 "not asked: a cached answer has a key");
				continue;
			}
			need[i * SRC_COUNT + src] = 1;
			any_need = 1;
		}
	}
	/* 3. the network, everything at once */
	if (any_need &&
	    (st = run_network(d, addrs, n, o, out, keys, need, now, why, whylen)) != PS_OK)
		goto out;
	/* 4. decide */
	for (size_t i = 0; i < n; i++)
		if (out[i].state != DS_KEY)
			decide(d, addrs[i], &o->per[i], &out[i], keys + i * SRC_COUNT, now);
	if (d->in_tx) {
		if (cache_commit(d->cache) < 0)
			log_warnx("the key cache could not be written");
		d->in_tx = 0;
	}
out:
	if (d->in_tx) { /* run_network() failed after beginning */
		cache_commit(d->cache);
		d->in_tx = 0;
	}
	free(local);
	free(laddr);
	free(lat);
	free(keys);
	free(need);
	free(cand);
	free(cfp);
	free(cad);
	return st;
}

void
disc_sources_from_policy(struct disc_sources *ds, const struct pol_effective *pe)
{
	memcpy(ds->order, pe->v.sources, sizeof(ds->order));
	ds->norder = pe->v.nsources;
	ds->key_change = pe->v.key_change;
	ds->strict = pe->v.encrypt == ENC_REQUIRE;
}

void
discovery_use_config(struct discovery *d, const struct ps_config *cf)
{
	if (cf->keyring[0] != '\0')
		snprintf(d->storedir, sizeof(d->storedir), "%s", cf->keyring);
}

void
disc_opts_from_config(struct disc_opts *o, const struct ps_config *cf)
{
	memset(o, 0, sizeof(*o));
	o->wkd.ca_file = cf->ca_file[0] ? cf->ca_file : NULL;
	o->wkd.connect_to = cf->connect_to[0] ? cf->connect_to : NULL;
	o->wkd.timeout_ms = 5000;
	o->wkd.vks_server = cf->vks_server[0] ? cf->vks_server : NULL;
	o->wkd.hkp_server = cf->hkp_server[0] ? cf->hkp_server : NULL;
	o->dane.forwarder = cf->dns_forwarder[0] ? cf->dns_forwarder : NULL;
	o->dane.trust_anchor = cf->trust_anchor[0] ? cf->trust_anchor : NULL;
}

void
disc_explain(const struct disc_result *r, char *out, size_t outlen)
{
	size_t len = 0;

	out[0] = '\0';
	for (int s = 0; s < SRC_COUNT && len < outlen; s++) {
		int w;

		if (r->asked[s] != ASK_CACHE && r->asked[s] != ASK_NET)
			continue;
		if (s == SRC_LOCAL && r->ans[s].res == LK_NOT_FOUND)
			continue;
		w = snprintf(out + len, outlen - len, "%s%s: %s (%s)", len ? "; " : "",
			     lk_source_name((enum lk_source)s),
			     lk_result_name(r->ans[s].res), r->ans[s].why);
		if (w < 0)
			break;
		len += (size_t)w;
	}
	if (len >= outlen && outlen > 4)
		memcpy(out + outlen - 4, "...", 4);
}
