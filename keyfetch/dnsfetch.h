/*++
 * NAME
 *	dnsfetch 3h
 * SUMMARY
 *	DANE OPENPGPKEY lookups (RFC 7929) with libunbound, DNSSEC validated
 * DESCRIPTION
 *	dane_start() sends one asynchronous type-61 query per address (owner
 *	name from dane_owner_name()); the caller polls dane_fd() together with
 *	its other transfers and calls dane_process() when it is readable, so
 *	that every lookup of every source runs in one loop under one deadline.
 *	dane_finish() turns queries still open into LK_TEMPFAIL ("timeout")
 *	and frees the batch. The batch also asks, per address, whether
 *	openpgpkey.DOMAIN exists (an A query; DNSSEC not required): see
 *	dane_wkd_host().
 *
 *	Classification, per the security core of #3: a key is used only from
 *	a *secure* answer (not merely one with data: bogus answers carry data
 *	too). secure NXDOMAIN or NODATA: LK_NOT_FOUND. insecure (no DNSSEC):
 *	LK_NOT_FOUND "no DANE here". bogus: LK_BAD. SERVFAIL, other rcodes,
 *	resolver errors, timeouts: LK_TEMPFAIL.
 *
 *	Resolver: the forwarder when one is configured, else resolv.conf; the
 *	trust anchor file when configured, else Debian's dns-root-data root
 *	key. libunbound forks its resolving process (ub_ctx_async, no
 *	threads).
 *--*/
#ifndef PS_DNSFETCH_H
#define PS_DNSFETCH_H

#include <stddef.h>

#include "lookup.h"

#define PS_ROOT_ANCHOR "/usr/share/dns/root.key"

struct dane_opts {
	const char *forwarder;	  /* "ADDR@PORT" or NULL: resolv.conf */
	const char *trust_anchor; /* a file, or NULL: PS_ROOT_ANCHOR */
};

struct dane_batch;

/* Whether openpgpkey.DOMAIN of address i exists, for WKD's choice of
 * method: only a name that does not exist sends WKD to the direct
 * method; a DNS failure never does. */
enum host_state { HOST_PENDING, HOST_EXISTS, HOST_NXDOMAIN, HOST_FAILED };

/* skip_dane[i] / skip_host[i] (either array may be NULL): do not ask
 * address i's OPENPGPKEY record (out[i] is left as it is) / whether
 * its openpgpkey.DOMAIN exists. */
struct dane_batch *dane_start(char *const *addrs, size_t n,
			      const struct dane_opts *o, struct lk_answer *out,
			      const unsigned char *skip_dane,
			      const unsigned char *skip_host);
int dane_fd(const struct dane_batch *b);
int dane_pending(const struct dane_batch *b);
void dane_process(struct dane_batch *b);
void dane_finish(struct dane_batch *b);
enum host_state dane_wkd_host(const struct dane_batch *b, size_t i);

#endif
