#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "fileio.h"
#include "keyblock.h"
#include "keyring.h"
#include "store.h"

int
store_path(char *out, size_t outlen)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = env_home();
	int n;

	if (xdg != NULL && xdg[0] == '/')
		n = snprintf(out, outlen, "%s/postseal/gnupg", xdg);
	else if (home != NULL && home[0] == '/')
		n = snprintf(out, outlen, "%s/.cache/postseal/gnupg", home);
	else
		return -1;
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

static const char gpg_conf[] =
	"# written by postseal: keys discovered on the network keep their\n"
	"# self-signatures only (CVE-2019-13050)\n"
	"import-options self-sigs-only import-clean\n"
	"# public keys only: no gpg-agent is started for this keyring\n"
	"no-autostart\n";

/* gpg.conf as postseal writes it; rewritten only when it differs, so
 * that its time stamp (part of keyring_stamp()) stays put */
static int
write_gpg_conf(const char *dir)
{
	char path[4200], cur[sizeof(gpg_conf) + 1];
	ssize_t n = -1;
	int fd;

	snprintf(path, sizeof(path), "%s/gpg.conf", dir);
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) >= 0) {
		n = read_some(fd, cur, sizeof(cur));
		close(fd);
		if (n == (ssize_t)sizeof(gpg_conf) - 1 && memcmp(cur, gpg_conf, (size_t)n) == 0)
			return 0;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || write_all(fd, gpg_conf, sizeof(gpg_conf) - 1) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return close(fd);
}

enum ps_status
store_prepare(const char *dir, char *why, size_t whylen)
{
	struct stat st;

	if (mkdir_private(dir) < 0)
		return ps_fail(PS_TEMPFAIL, why, whylen, "cannot create %s: %s", dir,
			       strerror(errno));
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid() ||
	    (st.st_mode & 077) != 0)
		return ps_fail(PS_TEMPFAIL, why, whylen,
			       "%s: not a private directory of yours", dir);
	if (write_gpg_conf(dir) < 0)
		return ps_fail(PS_TEMPFAIL, why, whylen, "%s/gpg.conf: %s", dir,
			       strerror(errno));
	return PS_OK;
}

#define MBOX_FORMS 3

/* The spellings of addr whose user IDs the import keeps: its canonical
 * form, as written, and with the domain in U-labels. GnuPG compares a
 * user ID's mbox (its address, ASCII lowercased) without regard to ASCII
 * case, but quotes and U-labels as written; keyring_key_usable() then
 * judges on the canonical form. Returns how many (1 to MBOX_FORMS). */
static size_t
mbox_forms(const char *addr, char (*f)[PS_ADDR_CANON_MAX + 1])
{
	size_t n = 1;

	if (addr_canonical(addr, f[0], sizeof(f[0])) < 0)
		snprintf(f[0], sizeof(f[0]), "%s", addr);
	if (strcasecmp(addr, f[0]) != 0)
		snprintf(f[n++], sizeof(f[0]), "%s", addr);
	if (addr_unicode_domain(f[0], f[n], sizeof(f[n])) == 1 && strcasecmp(f[n], addr) != 0)
		n++;
	return n;
}

/* One reply imported (checked, filtered); the fingerprints it brought
 * are appended to fprs[]. */
static enum lk_result
import_one(gpgme_ctx_t ctx, const char *addr, const struct buf *data, char ***fprs,
	   size_t *nfpr, char *why, size_t whylen)
{
	char filter[MBOX_FORMS * (PS_ADDR_CANON_MAX + 16) + 16];
	char f[MBOX_FORMS][PS_ADDR_CANON_MAX + 1];
	size_t nf, len;
	gpgme_data_t d = NULL;
	gpgme_import_result_t res;
	gpgme_error_t err;
	struct buf bin;

	/* gpg sees only what is, packet by packet, a public key */
	buf_init(&bin, PS_WKD_REPLY_MAX);
	if (keyblock_check((const unsigned char *)data->data, data->len, &bin, why,
			   whylen) < 0) {
		buf_free(&bin);
		return LK_BAD;
	}
	nf = mbox_forms(addr, f);
	len = (size_t)snprintf(filter, sizeof(filter), "keep-uid=");
	for (size_t i = 0; i < nf; i++)
		len += (size_t)snprintf(filter + len, sizeof(filter) - len, "%smbox = %.*s",
					i ? " || " : "", PS_ADDR_CANON_MAX, f[i]);
	if (gpgme_set_ctx_flag(ctx, "import-filter", filter) != 0 ||
	    gpgme_data_new_from_mem(&d, bin.data, bin.len, 0) != 0) {
		buf_free(&bin);
		snprintf(why, whylen, "cannot set up the import");
		return LK_TEMPFAIL;
	}
	err = gpgme_op_import(ctx, d);
	gpgme_data_release(d);
	buf_free(&bin);
	gpgme_set_ctx_flag(ctx, "import-filter", "");
	res = gpgme_op_import_result(ctx);
	if (err || res == NULL || res->considered == 0) {
		snprintf(why, whylen, "the reply holds no OpenPGP key%s%s",
			 err ? ": " : "", err ? gpgme_strerror(err) : "");
		return LK_BAD;
	}
	for (gpgme_import_status_t is = res->imports; is != NULL; is = is->next) {
		char **nv;

		if (is->result != 0 || is->fpr == NULL)
			continue;
		if ((nv = realloc(*fprs, (*nfpr + 1) * sizeof(*nv))) == NULL)
			return LK_TEMPFAIL;
		*fprs = nv;
		if ((nv[*nfpr] = strdup(is->fpr)) == NULL)
			return LK_TEMPFAIL;
		(*nfpr)++;
	}
	return LK_FOUND;
}

/* Addresses that may go into a combined import filter: no blank, no
 * character of the filter syntax (GnuPG defines no quoting), and every
 * spelling the filter keeps (mbox_forms()) is the address in another
 * ASCII case. */
static int
filter_safe(const char *addr)
{
	char f[MBOX_FORMS][PS_ADDR_CANON_MAX + 1];

	return strspn(addr, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789.!#$%'*+/=?^_`{}~@-") == strlen(addr) &&
	       mbox_forms(addr, f) == 1 && strcasecmp(f[0], addr) == 0;
}

#define IMPORT_BATCH 64 /* addresses per gpg run: the filter is one argv */

/* Import the replies of items[idx[0..k)] in one gpg run, keeping only
 * user IDs whose address is one of theirs; each item's keys are the
 * fingerprints computed from its own reply (never gpg's summary of the
 * whole batch), so a reply can only ever supply keys for its address. */
static void
import_batch(gpgme_ctx_t ctx, struct store_item *it, const size_t *idx, size_t k,
	     struct buf *bins)
{
	struct buf filter, all;
	gpgme_data_t d = NULL;
	gpgme_error_t err;

	buf_init(&filter, 64 * 1024);
	buf_init(&all, (size_t)IMPORT_BATCH * PS_WKD_REPLY_MAX);
	buf_puts(&filter, "keep-uid=");
	for (size_t j = 0; j < k; j++) {
		buf_printf(&filter, "%smbox = %s", j ? " || " : "", it[idx[j]].addr);
		buf_append(&all, bins[idx[j]].data, bins[idx[j]].len);
	}
	if (filter.failed || all.failed ||
	    gpgme_set_ctx_flag(ctx, "import-filter", buf_str(&filter)) != 0 ||
	    gpgme_data_new_from_mem(&d, all.data, all.len, 0) != 0)
		err = gpg_error(GPG_ERR_GENERAL);
	else
		err = gpgme_op_import(ctx, d);
	gpgme_data_release(d);
	gpgme_set_ctx_flag(ctx, "import-filter", "");
	for (size_t j = 0; j < k; j++)
		if (err) {
			it[idx[j]].res = LK_TEMPFAIL;
			snprintf(it[idx[j]].why, sizeof(it[idx[j]].why), "import failed: %s",
				 gpgme_strerror(err));
		}
	buf_free(&filter);
	buf_free(&all);
}

void
store_import_many(gpgme_ctx_t ctx, struct store_item *it, size_t n)
{
	time_t now = time(NULL);
	const char **patterns = NULL;
	size_t np = 0, nb = 0, *batch = NULL;
	long *best = NULL;
	gpgme_error_t err;
	gpgme_key_t k;
	struct buf *bins = calloc(n ? n : 1, sizeof(*bins));

	batch = calloc(n ? n : 1, sizeof(*batch));
	for (size_t i = 0; i < n; i++) {
		char f[KEYBLOCK_KEYS_MAX][41];
		int nf;

		it[i].key = NULL;
		it[i].fprs = NULL;
		it[i].nfpr = 0;
		it[i].res = LK_FOUND;
		if (bins == NULL || batch == NULL) {
			it[i].res = LK_TEMPFAIL;
			snprintf(it[i].why, sizeof(it[i].why), "out of memory");
			continue;
		}
		/* gpg sees only what is, packet by packet, a public key */
		buf_init(&bins[i], PS_WKD_REPLY_MAX);
		if (keyblock_check((const unsigned char *)it[i].data->data, it[i].data->len,
				   &bins[i], it[i].why, sizeof(it[i].why)) < 0) {
			it[i].res = LK_BAD;
			continue;
		}
		nf = keyblock_fprs((const unsigned char *)bins[i].data, bins[i].len, f,
				   KEYBLOCK_KEYS_MAX);
		if (nf <= 0 || !filter_safe(it[i].addr)) {
			/* not version 4, or an address the filter cannot hold:
			 * a run of its own, gpg says what it brought */
			it[i].res = import_one(ctx, it[i].addr, it[i].data, &it[i].fprs,
					       &it[i].nfpr, it[i].why, sizeof(it[i].why));
			continue;
		}
		if ((it[i].fprs = calloc((size_t)nf, sizeof(*it[i].fprs))) == NULL) {
			it[i].res = LK_TEMPFAIL;
			continue;
		}
		for (int j = 0; j < nf; j++)
			if ((it[i].fprs[j] = strdup(f[j])) != NULL)
				it[i].nfpr++;
		batch[nb++] = i;
	}
	for (size_t off = 0; off < nb; off += IMPORT_BATCH)
		import_batch(ctx, it, batch + off, nb - off < IMPORT_BATCH ? nb - off : IMPORT_BATCH,
			     bins);
	for (size_t i = 0; bins != NULL && i < n; i++)
		buf_free(&bins[i]);
	free(bins);
	free(batch);
	for (size_t i = 0; i < n; i++)
		np += it[i].res == LK_FOUND ? it[i].nfpr : 0;
	/* judge what each reply brought, never other keys already held for
	 * the address: the newest usable encryption subkey wins; one key
	 * listing for all replies */
	patterns = calloc(np + 1, sizeof(*patterns));
	best = calloc(n ? n : 1, sizeof(*best));
	if (patterns == NULL || best == NULL) {
		for (size_t i = 0; i < n; i++)
			if (it[i].res == LK_FOUND) {
				it[i].res = LK_TEMPFAIL;
				snprintf(it[i].why, sizeof(it[i].why), "out of memory");
			}
		goto out;
	}
	np = 0;
	for (size_t i = 0; i < n; i++) {
		best[i] = -1;
		for (size_t f = 0; it[i].res == LK_FOUND && f < it[i].nfpr; f++)
			patterns[np++] = it[i].fprs[f];
	}
	if (np > 0) {
		gpgme_set_keylist_mode(ctx, GPGME_KEYLIST_MODE_LOCAL);
		err = gpgme_op_keylist_ext_start(ctx, patterns, 0, 0);
		while (!err && !(err = gpgme_op_keylist_next(ctx, &k))) {
			for (size_t i = 0; i < n; i++) {
				long t;
				int mine = 0;

				for (size_t f = 0; it[i].res == LK_FOUND && f < it[i].nfpr && !mine;
				     f++)
					mine = k->subkeys && k->subkeys->fpr &&
					       strcmp(k->subkeys->fpr, it[i].fprs[f]) == 0;
				if (!mine || (t = keyring_key_usable(k, it[i].addr, now)) < 0 ||
				    t <= best[i])
					continue;
				if (it[i].key != NULL)
					gpgme_key_unref(it[i].key);
				gpgme_key_ref(k);
				it[i].key = k;
				best[i] = t;
			}
			gpgme_key_unref(k);
		}
		gpgme_op_keylist_end(ctx);
	}
	for (size_t i = 0; i < n; i++) {
		if (it[i].res != LK_FOUND)
			continue;
		if (it[i].key == NULL) {
			it[i].res = LK_BAD;
			snprintf(it[i].why, sizeof(it[i].why),
				 "no usable key for %s in the reply (expired, revoked, "
				 "created in the future, no encryption subkey, or no "
				 "user ID with that address)",
				 it[i].addr);
		} else
			snprintf(it[i].why, sizeof(it[i].why), "key %s", it[i].key->subkeys->fpr);
	}
out:
	for (size_t i = 0; i < n; i++) {
		for (size_t f = 0; f < it[i].nfpr; f++)
			free(it[i].fprs[f]);
		free(it[i].fprs);
		it[i].fprs = NULL;
	}
	free(patterns);
	free(best);
}

enum lk_result
store_key(gpgme_ctx_t ctx, const char *fpr, const char *addr, gpgme_key_t *key,
	  char *why, size_t whylen)
{
	gpgme_key_t k = NULL;
	gpgme_error_t err;

	*key = NULL;
	err = gpgme_get_key(ctx, fpr, &k, 0);
	if (gpg_err_code(err) == GPG_ERR_EOF) {
		snprintf(why, whylen, "key %s is no longer in postseal's keyring", fpr);
		return LK_NOT_FOUND;
	}
	if (err) {
		snprintf(why, whylen, "gpgme: %s", gpgme_strerror(err));
		return LK_TEMPFAIL;
	}
	if (keyring_key_usable(k, addr, time(NULL)) < 0) {
		gpgme_key_unref(k);
		snprintf(why, whylen,
			 "key %s is no longer usable for %s (expired, revoked, "
			 "created in the future or no encryption subkey)",
			 fpr, addr);
		return LK_BAD;
	}
	*key = k;
	snprintf(why, whylen, "key %s", fpr);
	return LK_FOUND;
}

void
store_keys(gpgme_ctx_t ctx, const char *const *fprs, const char *const *addrs,
	   size_t n, gpgme_key_t *out, time_t *until)
{
	time_t now = time(NULL);

	const char **patterns = calloc(n + 1, sizeof(*patterns));
	gpgme_error_t err;
	gpgme_key_t k;
	size_t np = 0;

	for (size_t i = 0; i < n; i++)
		out[i] = NULL;
	if (patterns == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		if (fprs[i] != NULL && fprs[i][0] != '\0')
			patterns[np++] = fprs[i];
	if (np > 0) {
		gpgme_set_keylist_mode(ctx, GPGME_KEYLIST_MODE_LOCAL);
		err = gpgme_op_keylist_ext_start(ctx, patterns, 0, 0);
		while (!err && !(err = gpgme_op_keylist_next(ctx, &k))) {
			for (size_t i = 0; i < n; i++) {
				if (fprs[i] == NULL || out[i] != NULL || k->subkeys == NULL ||
				    k->subkeys->fpr == NULL || strcmp(k->subkeys->fpr, fprs[i]) != 0 ||
				    keyring_key_usable(k, addrs[i], now) < 0)
					continue;
				gpgme_key_ref(k);
				out[i] = k;
				if (until != NULL)
					until[i] = keyring_key_horizon(k, now,
								       now + KEYRING_MEMO_MAX);
			}
			gpgme_key_unref(k);
		}
		gpgme_op_keylist_end(ctx);
	}
	free(patterns);
}
