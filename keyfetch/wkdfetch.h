/*++
 * NAME
 *	wkdfetch 3h
 * SUMMARY
 *	fetch WKD keys for many addresses at once (libcurl multi)
 * DESCRIPTION
 *	wkd_fetch_all() fetches the advanced-method URL of every address in
 *	parallel, in one curl multi loop, under one deadline. HTTPS only, the
 *	certificate verified (against ca_file when set, else the system
 *	store), at most PS_WKD_REDIRS redirects and those to https only, a
 *	reply larger than PS_WKD_REPLY_MAX is cut off in the write callback
 *	and is LK_BAD. connect_to (curl CURLOPT_CONNECT_TO syntax,
 *	"HOST:PORT:ADDR:PORT") lets tests point the production names at a
 *	loopback server without changing the URL logic.
 *
 *	Classification: 200 with a body is LK_FOUND (the key is judged
 *	later); 404 and 410 are LK_NOT_FOUND; a TLS or certificate error, a
 *	redirect to http, too many redirects, an oversize reply are LK_BAD;
 *	a timeout, a connection failure, 5xx and any other status are
 *	LK_TEMPFAIL.
 *
 *	The direct method (https://DOMAIN/.well-known/openpgpkey/hu/...)
 *	replaces the advanced one only when the DNS batch says that
 *	openpgpkey.DOMAIN does not exist (dane_wkd_host()); a failing server
 *	or a DNS failure never leads there.
 *
 *	The loop polls curl's sockets and, when given, the DNS batch's
 *	descriptor together (curl_multi_poll with an extra fd): one loop,
 *	one deadline, no threads.
 *
 *	No fork, no exec; libcurl is initialised here.
 *--*/
#ifndef PS_WKDFETCH_H
#define PS_WKDFETCH_H

#include <stddef.h>

#include "lookup.h"

struct wkd_opts {
	const char *ca_file;	/* NULL: the system store */
	const char *connect_to; /* NULL: real DNS; else space-separated
				 * HOST:PORT:ADDR:PORT entries */
	long timeout_ms;	/* the whole loop's deadline */
};

struct dane_batch;

/* dane, when not NULL, is a running DNS batch (dnsfetch.h): its answers
 * are processed in the same poll loop, under the same deadline. */
int wkd_fetch_all(char *const *addrs, size_t n, const struct wkd_opts *o,
		  struct lk_answer *out, struct dane_batch *dane);

#endif
