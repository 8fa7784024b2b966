#include "config.h"

#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "buf.h"
#include "keyring.h"
#include "pslimits.h"
#include "log.h"

static int gpgme_ready;

enum ps_status
keyring_init(char *why, size_t whylen)
{
	gpgme_error_t err;

	if (gpgme_ready)
		return PS_OK;
	/* Before gpgme_check_version(): without gpgconf, GPGME does not start
	 * "gpgconf --list-dirs" and "--list-components" on every submission
	 * to find gpg; it uses gpg from PATH (set by process_sanitize()). */
	gpgme_set_global_flag("disable-gpgconf", "1");
	if (gpgme_check_version(PS_GPGME_MIN_VERSION) == NULL)
		return ps_fail(PS_TEMPFAIL, why, whylen,
			       "GPGME %s or newer is required (found %s)",
			       PS_GPGME_MIN_VERSION, gpgme_check_version(NULL));
	setlocale(LC_CTYPE, "");
	gpgme_set_locale(NULL, LC_CTYPE, setlocale(LC_CTYPE, NULL));
	/* With gpgconf disabled this costs one "gpg --version", which GPGME
	 * would run for its first context anyway. */
	err = gpgme_engine_check_version(GPGME_PROTOCOL_OpenPGP);
	if (err)
		return ps_fail(PS_TEMPFAIL, why, whylen,
			       "the gpg engine is not usable: %s",
			       gpgme_strerror(err));
	gpgme_ready = 1;
	return PS_OK;
}

enum ps_status
keyring_context(gpgme_ctx_t *ctx, char *why, size_t whylen)
{
	gpgme_error_t err;

	if ((err = gpgme_new(ctx)) != 0)
		return ps_fail(PS_TEMPFAIL, why, whylen, "gpgme_new: %s",
			       gpgme_strerror(err));
	if ((err = gpgme_set_protocol(*ctx, GPGME_PROTOCOL_OpenPGP)) != 0) {
		gpgme_release(*ctx);
		*ctx = NULL;
		return ps_fail(PS_TEMPFAIL, why, whylen, "gpgme_set_protocol: %s",
			       gpgme_strerror(err));
	}
	gpgme_set_armor(*ctx, 1);
	gpgme_set_offline(*ctx, 1);
	/* postseal judges keys itself (keyring_key_usable()): gpg's trust
	 * database is not consulted, so its check neither costs time nor
	 * prints "checking the trustdb" to the user's terminal */
	gpgme_set_ctx_flag(*ctx, "trust-model", "always");
	return PS_OK;
}

static int
uid_matches(gpgme_user_id_t uid, const char *addr)
{
	/* uid->email, not uid->address: GPGME lowercases the latter, and the
	 * local part must match as written */
	if (uid->revoked || uid->invalid || uid->email == NULL)
		return 0;
	return addr_equal(uid->email, addr);
}

long
keyring_key_usable(gpgme_key_t key, const char *addr)
{
	gpgme_user_id_t uid;
	gpgme_subkey_t sk;
	long best = -1;
	int match = 0;

	if (key == NULL || key->revoked || key->expired || key->disabled ||
	    key->invalid || key->subkeys == NULL)
		return -1;
	/* the primary key itself must be valid */
	if (key->subkeys->revoked || key->subkeys->expired ||
	    key->subkeys->invalid || key->subkeys->disabled)
		return -1;
	for (uid = key->uids; uid != NULL; uid = uid->next)
		if (uid_matches(uid, addr)) {
			match = 1;
			break;
		}
	if (!match)
		return -1;
	for (sk = key->subkeys; sk != NULL; sk = sk->next) {
		if (!sk->can_encrypt || sk->revoked || sk->expired ||
		    sk->disabled || sk->invalid)
			continue;
		if (sk->timestamp > best)
			best = sk->timestamp;
	}
	return best;
}

/* gpg's "<addr>" pattern selects exact mail addresses; a quoted local
 * part with angle brackets cannot be expressed, so it is not looked up. */
static int
pattern_ok(const char *addr)
{
	return strchr(addr, '<') == NULL && strchr(addr, '>') == NULL &&
	       addr_at(addr) != NULL;
}

enum ps_status
keyring_lookup(gpgme_ctx_t ctx, char *const *addrs, size_t n, gpgme_key_t *out,
	       char *why, size_t whylen)
{
	const char **patterns = NULL;
	long *best = NULL;
	char *store = NULL;
	size_t np = 0, off = 0;
	enum ps_status st = PS_OK;
	gpgme_error_t err;
	gpgme_key_t key;

	for (size_t i = 0; i < n; i++)
		out[i] = NULL;
	if (n == 0)
		return PS_OK;
	patterns = calloc(n + 1, sizeof(*patterns));
	best = calloc(n, sizeof(*best));
	store = malloc(n * (PS_ADDR_MAX + 3));
	if (patterns == NULL || best == NULL || store == NULL) {
		st = ps_fail(PS_TEMPFAIL, why, whylen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		best[i] = -1;
		if (!pattern_ok(addrs[i]))
			continue;
		patterns[np++] = store + off;
		off += (size_t)snprintf(store + off, PS_ADDR_MAX + 3, "<%s>",
					addrs[i]) + 1;
	}
	patterns[np] = NULL;
	if (np == 0)
		goto out;
	gpgme_set_keylist_mode(ctx, GPGME_KEYLIST_MODE_LOCAL);
	err = gpgme_op_keylist_ext_start(ctx, patterns, 0, 0);
	while (!err) {
		err = gpgme_op_keylist_next(ctx, &key);
		if (err)
			break;
		for (size_t i = 0; i < n; i++) {
			long t = keyring_key_usable(key, addrs[i]);

			if (t > best[i]) {
				if (out[i] != NULL)
					gpgme_key_unref(out[i]);
				gpgme_key_ref(key);
				out[i] = key;
				best[i] = t;
			}
		}
		gpgme_key_unref(key);
	}
	if (gpgme_err_code(err) != GPG_ERR_EOF) {
		st = ps_fail(PS_TEMPFAIL, why, whylen, "listing keys failed: %s",
			     gpgme_strerror(err));
		for (size_t i = 0; i < n; i++)
			if (out[i] != NULL) {
				gpgme_key_unref(out[i]);
				out[i] = NULL;
			}
	}
	gpgme_op_keylist_end(ctx);
out:
	free(patterns);
	free(best);
	free(store);
	return st;
}
