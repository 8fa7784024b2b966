/*++
 * NAME
 *	wkdfetch 3h
 * SUMMARY
 *	fetch WKD, VKS and HKP keys for many addresses at once (libcurl multi)
 * DESCRIPTION
 *	wkd_fetch_all() fetches, for every address and every kind the fetch
 *	set asks for (the WKD key, the WKD policy file of its domain (asked
 *	only once the key's URL answered 404: it serves the per-domain
 *	negative, and an address that has a key needs no second request), the
 *	VKS and the HKP lookup), its URL in parallel, in one curl multi
 *	loop, under one deadline. Every host name is resolved by the DNS
 *	batch (dnsfetch.h, libunbound, A and AAAA) and handed to curl with
 *	CURLOPT_RESOLVE: no getaddrinfo() runs, which no deadline could stop.
 *	HTTPS only, the certificate verified (against ca_file when set, else
 *	the system bundle PS_CA_BUNDLE), at most PS_WKD_REDIRS redirects,
 *	followed here (their hosts resolved the same way), to https only; a
 *	reply larger than PS_WKD_REPLY_MAX is cut off in the write callback
 *	and is LK_BAD. connect_to (curl CURLOPT_CONNECT_TO syntax,
 *	"HOST:PORT:ADDR:PORT", test set-ups) gives the addresses instead of
 *	DNS.
 *
 *	Classification: 200 with a body (the policy file: any 200) is
 *	LK_FOUND (the key is judged later); 404 and 410 are LK_NOT_FOUND; a
 *	TLS or certificate error, a redirect to http, too many redirects, an
 *	oversize reply are LK_BAD; a time-out, a refused connection, no
 *	address, 4xx and 5xx are LK_TEMPFAIL. Each failure says whether it
 *	is a lasting property of the server (lk_answer.lasting: no address,
 *	refused, certificate, 4xx, redirect, oversize) or a passing one
 *	(time-out, DNS failure, 5xx), and what DNSSEC said about the domain's
 *	host (lk_answer.dnssec); discover.c decides what that means.
 *
 *	The direct method (https://DOMAIN/.well-known/openpgpkey/hu/...)
 *	replaces the advanced one (for the key and the policy file) only when
 *	DNS says that openpgpkey.DOMAIN does not exist; a failing server or a
 *	DNS failure never leads there.
 *
 *	The loop polls curl's sockets and, when given, the DNS batch's
 *	descriptor together (curl_multi_poll with an extra fd): one loop,
 *	one deadline, no threads. An answer cut short by the deadline says
 *	so ("no answer from HOST before the deadline"), never "not looked up".
 *
 *	No fork, no exec; libcurl is initialised here.
 *--*/
#ifndef PS_WKDFETCH_H
#define PS_WKDFETCH_H

#include <stddef.h>

#include "lookup.h"

struct wkd_opts {
	const char *ca_file;	/* NULL: the system store */
	const char *vks_server; /* https base URL, for F_VKS */
	const char *hkp_server; /* https base URL, for F_HKP */
	const char *connect_to; /* NULL: real DNS; else space-separated
				 * HOST:PORT:ADDR:PORT entries */
	long timeout_ms;	/* the whole loop's deadline */
};

struct dane_batch;

enum fetch_kind { F_WKD, F_WKD_POLICY, F_VKS, F_HKP, F_KINDS };

/* ans[k]: n answers for kind k, or NULL when kind k is not fetched;
 * skip[k]: NULL, or n flags: 1 = do not fetch this one (answered from
 * the cache, or the policy file of a domain fetched for another
 * address). Skipped answers are left as they are. */
struct fetch_set {
	struct lk_answer *ans[F_KINDS];
	const unsigned char *skip[F_KINDS];
};

/* dane, when not NULL, is a running DNS batch (dnsfetch.h): its answers
 * are processed in the same poll loop, under the same deadline. */
int wkd_fetch_all(char *const *addrs, size_t n, const struct wkd_opts *o,
		  struct fetch_set *fs, struct dane_batch *dane);

#endif
