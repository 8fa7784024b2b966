/*++
 * NAME
 *	discover 3h
 * SUMMARY
 *	find and judge every recipient's key: local keyring, cache, pins,
 *	DANE, WKD, VKS, HKP, all at once under one deadline
 * DESCRIPTION
 *	discover_keys() decides, for each address, one of
 *	  DS_KEY         a usable key (from the local keyring, a source, the
 *	                 cache of a source, or the pin);
 *	  DS_NO_KEY      every enabled source proved there is none;
 *	  DS_UNKNOWN     no key, and some source could not answer (TEMPFAIL
 *	                 or BAD): never the same as "no key";
 *	  DS_KEY_CHANGE  a source offers a key other than the pinned one and
 *	                 key-change is "refuse".
 *
 *	Order of work:
 *	 1. the local keyring, when "local" is an enabled source; a key
 *	    there ends the search (no network, no pin);
 *	 2. the cache: a fresh FOUND answer of any enabled source whose key
 *	    is still usable in postseal's keyring ends the search without the
 *	    network; fresh NOT_FOUND answers and per-domain negatives
 *	    ("no-dnssec", "no-wkd") stand for their source;
 *	 3. every source still without an answer, for every address at
 *	    once: one libunbound batch and one curl multi loop, one poll, one
 *	    deadline (lookup-timeout). Keys found are imported into
 *	    postseal's keyring (store.h) and judged; conclusive answers are
 *	    cached, inconclusive ones never;
 *	 4. the first FOUND in the configured source order is the candidate.
 *	    The first key accepted for an address is pinned; a different one
 *	    later is a key change, handled by key-change (refuse, warn,
 *	    accept). With no candidate and some source inconclusive, the
 *	    pinned key (source "pinned", when enabled and still usable) is
 *	    used; otherwise the address is DS_UNKNOWN.
 *	With refresh set, step 2 is skipped for sources (everything is asked
 *	again), for postseal-keyfetch --refresh.
 *--*/
#ifndef PS_DISCOVER_H
#define PS_DISCOVER_H

#include <stddef.h>
#include <time.h>

#include <gpgme.h>

#include "cache.h"
#include "dnsfetch.h"
#include "lookup.h"
#include "status.h"
#include "wkdfetch.h"

/* One address's sources (its policy). */
struct disc_sources {
	enum lk_source order[SRC_COUNT]; /* enabled sources, preferred first */
	size_t norder;
	enum key_change key_change;
	int strict; /* encrypt = require: a WKD failure is never "no key" */
};

struct disc_opts {
	const struct disc_sources *per; /* one per address */
	struct wkd_opts wkd; /* also VKS/HKP servers and the deadline */
	struct dane_opts dane;
	int refresh;
};

enum disc_state { DS_KEY, DS_NO_KEY, DS_UNKNOWN, DS_KEY_CHANGE };

/* How a source was consulted for one address. */
enum disc_asked { ASK_OFF, ASK_CACHE, ASK_NET, ASK_SKIPPED };

struct disc_result {
	enum disc_state state;
	enum lk_source src;   /* DS_KEY: where the key came from */
	char fpr[41];	      /* DS_KEY, DS_KEY_CHANGE: the key (primary
				 fingerprint), usable for the address when
				 DS_KEY: encrypt to it in the keyring of src */
	time_t fetched;	      /* when that answer was fetched, 0 for local */
	int key_changed;      /* the pin was replaced (warn, accept) */
	struct cache_pin pin; /* the pin after the decision, fpr "" if none */
	struct lk_answer ans[SRC_COUNT]; /* what each source said */
	enum disc_asked asked[SRC_COUNT];
	time_t fetched_at[SRC_COUNT];
	char why[PS_WHY_MAX]; /* one line on the decision */
};

/* The contexts of one run: the user's keyring, postseal's keyring, the
 * cache. Each is opened on first need: a submission whose keys are all
 * remembered (below) starts gpg only to encrypt.
 *
 * Keyring lookups are remembered in the cache (cache_memo_get()) under
 * the keyring's stamp (keyring_stamp()): the user's keyring answers
 * "this address's key is F" or "no usable key", postseal's "cached key F
 * is still usable for this address". A remembered answer stands while
 * no keyring file, trust database or gpg.conf changed and no key or
 * subkey involved has expired or become valid since (and 24 hours at
 * most); otherwise gpg lists the keys again. */
struct discovery {
	gpgme_ctx_t user;
	gpgme_ctx_t store;
	struct cache *cache;
	int in_tx;	 /* a cache transaction is open */
	int cache_failed; /* the cache cannot be opened: no memo */
	char storedir[4096];
	char userdir[4096]; /* the user's GnuPG home, "" if unknown */
	/* no usable cache directory (no HOME, an unwritable or missing
	 * one: cron under systemd, www-data, nobody): postseal's keyring and
	 * cache live in this private directory for the run only, and
	 * discovery_close() removes it */
	char tmpdir[4096];
};

void discovery_init(struct discovery *d);

struct ps_config;
/* [keyfetch] keyring (gateway mode): postseal's keyring there, its
 * cache next to it, instead of under the user's XDG cache directory. */
void discovery_use_config(struct discovery *d, const struct ps_config *cf);
void discovery_close(struct discovery *d);

/* Open postseal's keyring and cache (also done by discover_keys() when
 * needed). */
enum ps_status discovery_open_store(struct discovery *d, char *why,
				    size_t whylen);

/* Only the cache (no gpg run). */
enum ps_status discovery_open_cache(struct discovery *d, char *why,
				    size_t whylen);

/* A context on the user's keyring (d->user), opened on first need. */
enum ps_status discovery_user_ctx(struct discovery *d, char *why, size_t whylen);

/* The local keyring's key for each address, remembered where possible:
 * fpr[i] is the chosen key's fingerprint or "" (no usable key). */
enum ps_status discover_local(struct discovery *d, char *const *addrs, size_t n,
			      char (*fpr)[41], char *why, size_t whylen);

/* out[n] is filled; PS_OK unless the run itself failed (then why). */
enum ps_status discover_keys(struct discovery *d, char *const *addrs, size_t n,
			     const struct disc_opts *o, struct disc_result *out,
			     char *why, size_t whylen);

void disc_free(struct disc_result *r, size_t n);

struct ps_config;

/* The options a configuration gives (servers, resolver); per and the
 * deadline (wkd.timeout_ms) are the caller's. */
void disc_opts_from_config(struct disc_opts *o, const struct ps_config *cf);

struct pol_effective;
/* An address's sources and key-change from its effective policy. */
void disc_sources_from_policy(struct disc_sources *ds,
			      const struct pol_effective *pe);

/* One line on what the sources said, for error messages:
 * "dane: TEMPFAIL (why); wkd: BAD (why)". */
void disc_explain(const struct disc_result *r, char *out, size_t outlen);

const char *disc_state_name(enum disc_state s);

#endif
