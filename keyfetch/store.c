#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "keyblock.h"
#include "keyring.h"
#include "store.h"

int
store_path(char *out, size_t outlen)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	int n;

	if (xdg != NULL && xdg[0] == '/')
		n = snprintf(out, outlen, "%s/postseal/gnupg", xdg);
	else if (home != NULL && home[0] == '/')
		n = snprintf(out, outlen, "%s/.cache/postseal/gnupg", home);
	else
		return -1;
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

static int
mkdir_private(const char *path)
{
	char tmp[4096];

	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return -1;
	for (char *p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

static const char gpg_conf[] =
	"# written by postseal: keys discovered on the network keep their\n"
	"# self-signatures only (CVE-2019-13050)\n"
	"import-options self-sigs-only import-clean\n";

enum ps_status
store_open(const char *dir, gpgme_ctx_t *ctx, char *why, size_t whylen)
{
	char conf[4096];
	struct stat st;
	gpgme_error_t err;
	enum ps_status s;
	int fd;

	if (mkdir_private(dir) < 0)
		return ps_fail(PS_TEMPFAIL, why, whylen, "cannot create %s: %s", dir,
			       strerror(errno));
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid() ||
	    (st.st_mode & 077) != 0)
		return ps_fail(PS_TEMPFAIL, why, whylen,
			       "%s: not a private directory of yours", dir);
	snprintf(conf, sizeof(conf), "%s/gpg.conf", dir);
	fd = open(conf, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || write_all(fd, gpg_conf, sizeof(gpg_conf) - 1) < 0) {
		if (fd >= 0)
			close(fd);
		return ps_fail(PS_TEMPFAIL, why, whylen, "%s: %s", conf,
			       strerror(errno));
	}
	close(fd);
	if ((s = keyring_init(why, whylen)) != PS_OK ||
	    (s = keyring_context(ctx, why, whylen)) != PS_OK)
		return s;
	err = gpgme_ctx_set_engine_info(*ctx, GPGME_PROTOCOL_OpenPGP, NULL, dir);
	if (err) {
		gpgme_release(*ctx);
		*ctx = NULL;
		return ps_fail(PS_TEMPFAIL, why, whylen, "gpgme: %s",
			       gpgme_strerror(err));
	}
	return PS_OK;
}

enum lk_result
store_import(gpgme_ctx_t ctx, const char *addr, const struct buf *data,
	     gpgme_key_t *key, char *why, size_t whylen)
{
	char filter[PS_ADDR_MAX + 32];
	gpgme_data_t d = NULL;
	struct buf bin;
	long best = -1;
	gpgme_import_result_t res;
	gpgme_error_t err;

	*key = NULL;
	/* gpg sees only what is, packet by packet, a public key */
	buf_init(&bin, PS_WKD_REPLY_MAX);
	if (keyblock_check((const unsigned char *)data->data, data->len, &bin, why,
			   whylen) < 0) {
		buf_free(&bin);
		return LK_BAD;
	}
	snprintf(filter, sizeof(filter), "keep-uid=mbox = %s", addr);
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
	/* judge what this reply brought, never other keys already held for
	 * the address: the newest usable encryption subkey wins */
	for (gpgme_import_status_t is = res->imports; is != NULL; is = is->next) {
		gpgme_key_t k = NULL;
		long t;

		if (is->result != 0 || is->fpr == NULL ||
		    gpgme_get_key(ctx, is->fpr, &k, 0) != 0)
			continue;
		if ((t = keyring_key_usable(k, addr)) >= 0 && t > best) {
			if (*key != NULL)
				gpgme_key_unref(*key);
			*key = k;
			best = t;
		} else
			gpgme_key_unref(k);
	}
	if (*key == NULL) {
		snprintf(why, whylen,
			 "no usable key for %s in the reply (expired, revoked, "
			 "no encryption subkey, or no user ID with that address)",
			 addr);
		return LK_BAD;
	}
	snprintf(why, whylen, "key %s", (*key)->subkeys->fpr);
	return LK_FOUND;
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
	if (keyring_key_usable(k, addr) < 0) {
		gpgme_key_unref(k);
		snprintf(why, whylen,
			 "key %s is no longer usable for %s (expired, revoked or "
			 "no encryption subkey)",
			 fpr, addr);
		return LK_BAD;
	}
	*key = k;
	snprintf(why, whylen, "key %s", fpr);
	return LK_FOUND;
}
