/*++
 * NAME
 *	dnsfetch 3h
 * SUMMARY
 *	DANE OPENPGPKEY lookups (RFC 7929) and host names, with libunbound,
 *	DNSSEC validated, in the caller's loop
 * DESCRIPTION
 *	dane_start() sends one asynchronous type-61 query per address (owner
 *	name from dane_owner_name()); the caller polls dane_fd() together with
 *	its other transfers and calls dane_process() when it is readable, so
 *	that every lookup of every source runs in one loop under one deadline.
 *	dane_finish() turns queries still open into LK_TEMPFAIL ("no answer
 *	before the deadline") and frees the batch.
 *
 *	The batch also resolves host names for the HTTPS lookups
 *	(dane_host()): A and AAAA at once, the result usable as soon as one
 *	of them brings an address. No host name of a lookup ever goes to the
 *	system resolver (getaddrinfo() cannot be cancelled, so it would
 *	outlive the deadline), and each host's DNSSEC status is known.
 *
 *	Classification of the OPENPGPKEY answer: a key is used only from a
 *	*secure* answer (not merely one with data: bogus answers carry data
 *	too). secure NXDOMAIN or NODATA: LK_NOT_FOUND. insecure (no DNSSEC):
 *	LK_NOT_FOUND "no DANE here". bogus: LK_BAD. SERVFAIL, other rcodes,
 *	resolver errors, timeouts: LK_TEMPFAIL. Every answer carries its
 *	DNSSEC status (lk_answer.dnssec).
 *
 *	Resolver: the forwarder when one is configured, else resolv.conf; the
 *	trust anchor file when configured, else Debian's dns-root-data root
 *	key. libunbound forks its resolving process (ub_ctx_async, no
 *	threads): flush stdio before dane_start().
 *--*/
#ifndef PS_DNSFETCH_H
#define PS_DNSFETCH_H

#include <stddef.h>

#include "lookup.h"

#define PS_ROOT_ANCHOR "/usr/share/dns/root.key"
/* where a resolver that recurses itself starts (Debian: dns-root-data) */
#define PS_ROOT_HINTS "/usr/share/dns/root.hints"

struct dane_opts {
	const char *forwarder;	  /* "ADDR@PORT" or NULL: resolv.conf */
	const char *trust_anchor; /* a file, or NULL: PS_ROOT_ANCHOR */
};

struct dane_batch;

/* What a host name resolved to. NXDOMAIN: the name does not exist (for
 * WKD, openpgpkey.DOMAIN: use the direct method); NODATA: it exists
 * without an address; FAILED: no answer (SERVFAIL, timeout, resolver
 * error); BOGUS: DNSSEC validation failed. */
enum host_state {
	HOST_PENDING,
	HOST_ADDRS,
	HOST_NODATA,
	HOST_NXDOMAIN,
	HOST_FAILED,
	HOST_BOGUS
};

struct dns_host {
	enum host_state state;
	enum lk_dnssec dnssec;
	/* "192.0.2.1,[2001:db8::1]": CURLOPT_RESOLVE's address list */
	char addrs[PS_HOST_ADDRS * 48];
	char why[320];
};

/* skip_dane[i] (may be NULL): do not ask address i's OPENPGPKEY record
 * (out[i] is left as it is). With every address skipped (or n == 0) the
 * batch only resolves host names. NULL when the resolver cannot be set
 * up at all. */
struct dane_batch *dane_start(char *const *addrs, size_t n,
			      const struct dane_opts *o, struct lk_answer *out,
			      const unsigned char *skip_dane);
int dane_fd(const struct dane_batch *b);
/* OPENPGPKEY queries still open (host queries are not counted). */
int dane_pending(const struct dane_batch *b);
void dane_process(struct dane_batch *b);
void dane_finish(struct dane_batch *b);

/* Resolve a host name (once per batch, whatever its case): the handle
 * to dane_host_get(), or -1 (no batch, not a host name, too many). An
 * IP address literal is answered at once, without DNS. */
int dane_host(struct dane_batch *b, const char *name);
const struct dns_host *dane_host_get(const struct dane_batch *b, int h);

#endif
