/*++
 * NAME
 *	cache 3h
 * SUMMARY
 *	what each source said, per address and per domain, and TOFU pins
 * DESCRIPTION
 *	An SQLite database next to postseal's keyring
 *	($XDG_CACHE_HOME/postseal/cache.sqlite) with three tables:
 *	  answer  per (address, source): FOUND with the fingerprint, or
 *	          NOT_FOUND, the URL or owner name asked, when it was fetched
 *	          and when it expires. TEMPFAIL and BAD are never stored: an
 *	          inconclusive answer is asked again next time.
 *	  domain  per (domain, what): "no-wkd" (the domain publishes no WKD
 *	          policy file) and "no-dnssec" (its zone is insecure), each
 *	          with an expiry.
 *	  pin     per address: the first fingerprint accepted, where it came
 *	          from, first and last seen.
 *	Addresses and domains are stored in their canonical form
 *	(addr_canonical(), addr.h: local part in any ASCII case and without
 *	unneeded quotes, domain in lower-case A-labels), so that every
 *	spelling of one mailbox shares its answers and its pin.
 *
 *	Several postseal processes may use the database at once: it runs in
 *	WAL mode with a busy timeout, and every change is one statement or
 *	one IMMEDIATE transaction. A database that cannot be opened or is
 *	corrupt makes cache_open() fail; callers treat that as a temporary
 *	failure, never as "no key".
 *--*/
#ifndef PS_CACHE_H
#define PS_CACHE_H

#include <stddef.h>
#include <time.h>

#include "lookup.h"
#include "status.h"

struct cache;

struct cache_entry {
	enum lk_result res; /* LK_FOUND or LK_NOT_FOUND */
	char fpr[41];
	char url[1024];
	char why[PS_WHY_MAX];
	time_t fetched;
	time_t expires;
};

struct cache_pin {
	char fpr[41];
	enum lk_source src;
	char url[1024];
	time_t first_seen;
	time_t last_seen;
};

/* Time-to-live of answers without one of their own. */
#define CACHE_TTL_NOT_FOUND (60 * 60)
#define CACHE_TTL_FOUND (24 * 60 * 60)
#define CACHE_TTL_DOMAIN (60 * 60)
/* How long a domain that served WKD is remembered as publishing keys
 * ("wkd-seen": its failures stay inconclusive, postseal(8)). */
#define CACHE_TTL_MEMORY (90 * 24 * 60 * 60)

/* The database file inside postseal's cache directory. */
int cache_path(char *out, size_t outlen);

enum ps_status cache_open(const char *path, struct cache **c, char *why,
			  size_t whylen);
void cache_close(struct cache *c);

/* 1 with *e filled when an entry exists (fresh or not), 0 when none,
 * -1 on a database error. */
int cache_get(struct cache *c, const char *addr, enum lk_source src,
	      struct cache_entry *e);
int cache_put(struct cache *c, const char *addr, enum lk_source src,
	      const struct cache_entry *e);

/* Per-domain facts: the negatives "no-wkd" and "no-dnssec", and the
 * memory "wkd-seen". 1 when present and not expired at now. */
int cache_domain_get(struct cache *c, const char *domain, const char *what,
		     time_t now);
int cache_domain_put(struct cache *c, const char *domain, const char *what,
		     time_t now, time_t expires);

/* Pins. cache_pin_get(): 1 found, 0 none, -1 error. */
int cache_pin_get(struct cache *c, const char *addr, struct cache_pin *p);
/* Set or replace the pin (replace only after a key-change decision). */
int cache_pin_put(struct cache *c, const char *addr, const struct cache_pin *p);
/* Update last_seen when fpr is still the pinned one. */
int cache_pin_seen(struct cache *c, const char *addr, const char *fpr,
		   time_t now);

/* Forget everything about one address (answers and pin); and the
 * domain negatives of its domain. */
int cache_flush(struct cache *c, const char *addr);

/* Every address with a pin or a FOUND answer, for --refresh: calls fn
 * once per address, in address order. */
int cache_each_address(struct cache *c, int (*fn)(const char *addr, void *arg),
		       void *arg);

/* Many changes as one transaction (one write, one lock): -1 when the
 * lock cannot be had, and the changes then go one by one. */
int cache_begin(struct cache *c);
int cache_commit(struct cache *c);

/* Remembered keyring lookups (keyring_stamp()): ring is the GnuPG home,
 * addr as written (what gpg is asked for depends on the spelling:
 * keyring_lookup()). fpr is the key that
 * was chosen, or "" for "no usable key" (the user's keyring), or the
 * cached key found usable (postseal's). cache_memo_get(): 1 when an
 * entry with this stamp stands at now (fpr filled), 0 none, -1 error. */
int cache_memo_get(struct cache *c, const char *ring, const char *stamp,
		   const char *addr, time_t now, char *fpr, size_t fprlen);
int cache_memo_put(struct cache *c, const char *ring, const char *stamp,
		   const char *addr, const char *fpr, time_t until);

/* The key of addr's rows (answers, pins): its canonical form
 * (addr_canonical(), so that every spelling of one mailbox shares them),
 * or for what is not an address, addr with its domain lowercased. out
 * needs PS_ADDR_CANON_MAX + 1 bytes. */
int cache_key(const char *addr, char *out, size_t outlen);

#endif
