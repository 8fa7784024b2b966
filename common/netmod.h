/*++
 * NAME
 *	netmod 3h
 * SUMMARY
 *	load the network code (libcurl, libunbound, GnuTLS) only when needed
 * DESCRIPTION
 *	The network code (keyfetch/wkdfetch.c, keyfetch/dnsfetch.c,
 *	submit/smtp.c, submit/smtptls.c) is built as postseal-net.so. A
 *	submission whose keys are all local or cached, handed to the MTA's
 *	sendmail, never loads it: binding libcurl-gnutls and its 30 shared
 *	libraries costs about 5 ms per process, more than the rest of
 *	postseal's own work.
 *
 *	netmod_load() loads it once per process: first from the directory
 *	of the running executable (the build tree), then from the directory
 *	configure's libdir gives (the installed module). A module whose
 *	interface stamp (netmod_abi) differs from this program's is not
 *	used. Failure is PS_TEMPFAIL with one line in why: mail is never
 *	sent another way because the module is missing.
 *
 *	The entry points dane_start(), dane_finish(), wkd_fetch_all() and
 *	smtp_send() keep their names: in postseal and postseal-keyfetch they
 *	are forwarding stubs (netmod.c); in unit tests and fuzzers the real
 *	objects are linked instead. Call netmod_load() before them.
 *--*/
#ifndef PS_NETMOD_H
#define PS_NETMOD_H

#include <stddef.h>

#include "status.h"

/* Changes whenever an entry point's signature or a shared structure
 * changes. */
#define PS_NETMOD_ABI PACKAGE_VERSION "/2"

enum ps_status netmod_load(char *why, size_t whylen);

#endif
