/*++
 * NAME
 *	store 3h
 * SUMMARY
 *	postseal's own keyring for discovered keys
 * DESCRIPTION
 *	Keys found in WKD, DANE or on keyservers never go into the user's
 *	keyring. store_path() names postseal's: $XDG_CACHE_HOME/postseal/gnupg
 *	(or ~/.cache/postseal/gnupg). store_prepare() creates it (0700) with
 *	a gpg.conf that imports self-signatures only and cleans keys, so
 *	that third-party signatures from a flooded key (CVE-2019-13050) never
 *	land; keyring_open() gives a GPGME context on it.
 *
 *	store_import_many() imports each reply for its address, keeping only user IDs
 *	whose mail address is that address in any ASCII case, as written or
 *	in its canonical form (GnuPG's import filter keep-uid=mbox), then
 *	judges the keys of that reply (never others the
 *	keyring already holds) by keyring_lookup()'s rules: LK_FOUND with
 *	the key whose newest usable encryption subkey is newest, or LK_BAD
 *	when nothing usable came in.
 *--*/
#ifndef PS_STORE_H
#define PS_STORE_H

#include <stddef.h>

#include <gpgme.h>

#include "lookup.h"
#include "status.h"

int store_path(char *out, size_t outlen);

/* The directory (private, ours) and its gpg.conf, without gpg. */
enum ps_status store_prepare(const char *dir, char *why, size_t whylen);

/* Many replies at once: each imported, then one key listing judges them
 * all (a gpg run per reply saved). */
struct store_item {
	const char *addr;	/* in */
	const struct buf *data; /* in: the reply */
	enum lk_result res;	/* out */
	gpgme_key_t key;	/* out: LK_FOUND */
	char why[PS_WHY_MAX];	/* out */
	char **fprs;		/* internal */
	size_t nfpr;
};

void store_import_many(gpgme_ctx_t ctx, struct store_item *it, size_t n);



/* The key fpr from postseal's keyring, judged for addr as in
 * keyring_lookup(): LK_FOUND (a reference in *key), LK_NOT_FOUND (gone),
 * LK_BAD (no longer usable), LK_TEMPFAIL (gpg failed). */
enum lk_result store_key(gpgme_ctx_t ctx, const char *fpr, const char *addr,
			 gpgme_key_t *key, char *why, size_t whylen);

/* Many keys by fingerprint in one key listing: out[i] is the key
 * fprs[i] when it is in postseal's keyring and usable for addrs[i],
 * else NULL (fprs[i] may be NULL: nothing asked). until[i] (until may be
 * NULL), for a usable key: when it can change by time alone
 * (keyring_key_horizon()). */
void store_keys(gpgme_ctx_t ctx, const char *const *fprs, const char *const *addrs,
		size_t n, gpgme_key_t *out, time_t *until);

#endif
