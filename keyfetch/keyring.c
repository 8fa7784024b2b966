#include "config.h"

#include <locale.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <errno.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "buf.h"
#include "fileio.h"
#include "keyring.h"
#include "pslimits.h"
#include "log.h"

static int gpgme_ready;
/* the keyring gpg runs use when their context names none: the user's
 * (default_dir[0] == 0) or the one the first keyring_open() named */
static char default_dir[4096];
static char user_dir[4096]; /* the user's, when default_dir is not */

static enum ps_status
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

static enum ps_status
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

int
keyring_user_home(char *out, size_t outlen)
{
	const char *h = env_user_gnupghome();
	int n;

	if (h != NULL)
		n = snprintf(out, outlen, "%s", h);
	else {
		const char *home = env_home();
		struct passwd *pw;

		if (home == NULL && getenv("HOME") == NULL && (pw = getpwuid(getuid())) != NULL)
			home = pw->pw_dir;
		if (home == NULL || home[0] == '\0')
			return -1;
		n = snprintf(out, outlen, "%s/.gnupg", home);
	}
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

enum ps_status
keyring_open(const char *dir, gpgme_ctx_t *ctx, char *why, size_t whylen)
{
	enum ps_status st;
	gpgme_error_t err;

	*ctx = NULL;
	if (!gpgme_ready && dir != NULL) {
		if (keyring_user_home(user_dir, sizeof(user_dir)) < 0)
			user_dir[0] = '\0';
		/* GPGME asks "gpg --version" once for the process default and
		 * again for every context given a home directory of its own:
		 * the keyring a process needs first becomes the default */
		if (env_gnupghome_override(dir) < 0)
			return ps_fail(PS_TEMPFAIL, why, whylen, "cannot set GNUPGHOME");
		snprintf(default_dir, sizeof(default_dir), "%s", dir);
	}
	if ((st = keyring_init(why, whylen)) != PS_OK ||
	    (st = keyring_context(ctx, why, whylen)) != PS_OK)
		return st;
	if (dir == NULL ? default_dir[0] == '\0' : strcmp(dir, default_dir) == 0)
		return PS_OK;
	if (dir == NULL) /* the user's, in a process whose default is postseal's */
		err = user_dir[0] == '\0'
			      ? gpg_error(GPG_ERR_ENOENT)
			      : gpgme_ctx_set_engine_info(*ctx, GPGME_PROTOCOL_OpenPGP, NULL,
							  user_dir);
	else
		err = gpgme_ctx_set_engine_info(*ctx, GPGME_PROTOCOL_OpenPGP, NULL, dir);
	if (err) {
		gpgme_release(*ctx);
		*ctx = NULL;
		return ps_fail(PS_TEMPFAIL, why, whylen, "gpgme: %s", gpgme_strerror(err));
	}
	return PS_OK;
}

/* the files whose content decides which keys gpg lists and how valid
 * they are */
static const char *const stamp_files[] = {
	"pubring.kbx", "pubring.gpg", "public-keys.d/pubring.db", "trustdb.gpg",
	"gpg.conf", "common.conf", NULL,
};

int
keyring_stamp(const char *dir, time_t now, char *out, size_t outlen)
{
	size_t len = 0;
	int racy = 0;

	out[0] = '\0';
	for (size_t i = 0; stamp_files[i] != NULL; i++) {
		char path[4200];
		struct stat sb;
		int n;

		snprintf(path, sizeof(path), "%s/%s", dir, stamp_files[i]);
		if (stat(path, &sb) != 0) {
			if (errno != ENOENT)
				return -1;
			n = snprintf(out + len, outlen - len, "-;");
		} else {
			n = snprintf(out + len, outlen - len, "%lx:%lx:%llx:%lld.%09ld:%lld.%09ld;",
				     (unsigned long)sb.st_dev, (unsigned long)sb.st_ino,
				     (unsigned long long)sb.st_size, (long long)sb.st_mtim.tv_sec,
				     sb.st_mtim.tv_nsec, (long long)sb.st_ctim.tv_sec,
				     sb.st_ctim.tv_nsec);
			/* changed within the clock's granularity of now: a
			 * second change could keep every field (git's "racy
			 * clean" rule) */
			if (sb.st_mtim.tv_sec >= now - 1 || sb.st_ctim.tv_sec >= now - 1)
				racy = 1;
		}
		if (n < 0 || (size_t)n >= outlen - len)
			return -1;
		len += (size_t)n;
	}
	return racy;
}

time_t
keyring_key_horizon(gpgme_key_t key, time_t now, time_t limit)
{
	for (gpgme_subkey_t sk = key != NULL ? key->subkeys : NULL; sk != NULL; sk = sk->next) {
		if (sk->expires > now && sk->expires < limit)
			limit = sk->expires;
		if (sk->timestamp > now && sk->timestamp < limit)
			limit = sk->timestamp;
	}
	return limit;
}

/* The canonical forms of a key's user IDs, computed once per key: ""
 * for one without a mail address, or, when it has no canonical form,
 * the address as written. */
typedef char uid_form[PS_ADDR_CANON_MAX + 1];

static uid_form *
uid_forms(gpgme_key_t key, size_t *n)
{
	gpgme_user_id_t uid;
	uid_form *f;
	size_t i = 0;

	*n = 0;
	for (uid = key->uids; uid != NULL; uid = uid->next)
		(*n)++;
	if ((f = calloc(*n ? *n : 1, sizeof(*f))) == NULL)
		return NULL;
	/* uid->email, not uid->address: GPGME lowercases only ASCII in the
	 * latter; the canonical form does that and more */
	for (uid = key->uids; uid != NULL; uid = uid->next, i++)
		if (uid->email != NULL && addr_canonical(uid->email, f[i], sizeof(f[i])) < 0)
			snprintf(f[i], sizeof(f[i]), "%s", uid->email);
	return f;
}

/* addr's canonical form into out, or addr itself when it has none */
static void
canon_of(const char *addr, char *out, size_t outlen)
{
	if (addr_canonical(addr, out, outlen) < 0)
		snprintf(out, outlen, "%s", addr);
}

/* User ID i (form f[i]) carries the mailbox canon. Forms that are not
 * canonical (not an address) match as addr_equal() says. */
static int
uid_is(const uid_form *f, size_t i, const char *canon)
{
	return f[i][0] != '\0' && (strcmp(f[i], canon) == 0 || addr_equal(f[i], canon));
}

/* the key has a user ID with this address, in any validity */
static int
key_has_addr(const uid_form *f, size_t nf, const char *canon)
{
	for (size_t i = 0; i < nf; i++)
		if (uid_is(f, i, canon))
			return 1;
	return 0;
}

/* keyring_key_usable() with the user IDs' forms at hand */
static long
key_usable(gpgme_key_t key, const uid_form *f, const char *canon, time_t now)
{
	gpgme_user_id_t uid;
	gpgme_subkey_t sk;
	long best = -1;
	int match = 0;
	size_t i = 0;

	if (key == NULL || key->disabled || key->invalid || key->subkeys == NULL)
		return -1;
	/* the primary key itself must be valid (not revoked or expired:
	 * GPGME's key->revoked and key->expired are these same flags of the
	 * primary key), and made by now: gpg marks a primary key from the
	 * future invalid, but says nothing of a subkey from the future (it
	 * lists it, "can encrypt", and then refuses to encrypt to it); sq and
	 * sqop refuse both */
	if (key->subkeys->revoked || key->subkeys->expired ||
	    key->subkeys->invalid || key->subkeys->disabled ||
	    key->subkeys->timestamp > now)
		return -1;
	for (uid = key->uids; uid != NULL; uid = uid->next, i++)
		if (!uid->revoked && !uid->invalid && uid_is(f, i, canon)) {
			match = 1;
			break;
		}
	if (!match)
		return -1;
	for (sk = key->subkeys; sk != NULL; sk = sk->next) {
		if (!sk->can_encrypt || sk->revoked || sk->expired ||
		    sk->disabled || sk->invalid || sk->timestamp > now)
			continue;
		if (sk->timestamp > best)
			best = sk->timestamp;
	}
	return best;
}

long
keyring_key_usable(gpgme_key_t key, const char *addr, time_t now)
{
	char canon[PS_ADDR_CANON_MAX + 1];
	uid_form *f;
	size_t nf;
	long t;

	if (key == NULL || (f = uid_forms(key, &nf)) == NULL)
		return -1;
	canon_of(addr, canon, sizeof(canon));
	t = key_usable(key, f, canon, now);
	free(f);
	return t;
}

/* gpg's "<addr>" pattern selects mail addresses without regard to ASCII
 * case, but quotes and U-labels only as written; a form with angle
 * brackets cannot be expressed. */
static int
pattern_ok(const char *addr)
{
	return strchr(addr, '<') == NULL && strchr(addr, '>') == NULL &&
	       addr_at(addr) != NULL;
}

#define KEYRING_FORMS 3 /* gpg patterns per address, at most */

/* The spellings of addr to ask gpg for: its canonical form, the address
 * as written (when that differs beyond ASCII case: quotes, U-labels), and
 * the canonical form with its domain in U-labels. Each is a slot of
 * PS_ADDR_CANON_MAX + 3 bytes in store, "<...>"; returns how many. */
static size_t
search_forms(const char *addr, char *store)
{
	char canon[PS_ADDR_CANON_MAX + 1], f[KEYRING_FORMS][PS_ADDR_CANON_MAX + 1];
	size_t n = 0, k = 0;

	canon_of(addr, canon, sizeof(canon));
	snprintf(f[n++], sizeof(f[0]), "%s", canon);
	if (strcasecmp(addr, canon) != 0)
		snprintf(f[n++], sizeof(f[0]), "%s", addr);
	if (addr_unicode_domain(canon, f[n], sizeof(f[n])) == 1 &&
	    strcasecmp(f[n], addr) != 0)
		n++;
	for (size_t i = 0; i < n; i++)
		if (pattern_ok(f[i]))
			snprintf(store + k++ * (PS_ADDR_CANON_MAX + 3), PS_ADDR_CANON_MAX + 3,
				 "<%.*s>", PS_ADDR_CANON_MAX, f[i]);
	return k;
}

int
keyring_damaged(gpgme_ctx_t ctx, char *why, size_t whylen)
{
	/* what gpg says when it cannot read part of a keyring; "error reading
	 * key: No public key" is only a pattern without a match */
	static const char *const signs[] = {"keydb_", "garbled packet", "invalid packet",
					    "invalid keyblock", "keybox_", "invalid keyring",
					    "invalid key resource", NULL};
	gpgme_data_t d = NULL;
	char *diag, *line;
	size_t len = 0;
	int bad = 0;

	/* the engine's diagnostics of the last operation (GPGME_AUDITLOG_DIAG,
	 * GPGME 1.15): the only place a damaged keyring shows */
	if (gpgme_data_new(&d) != 0)
		return 0;
	if (gpgme_op_getauditlog(ctx, d, GPGME_AUDITLOG_DIAG) != 0) {
		gpgme_data_release(d);
		return 0;
	}
	if ((diag = gpgme_data_release_and_get_mem(d, &len)) == NULL)
		return 0;
	for (size_t pos = 0; pos < len && !bad;) {
		size_t end = pos;
		char low[256];
		size_t k = 0;

		while (end < len && diag[end] != '\n')
			end++;
		line = diag + pos;
		for (; k < end - pos && k < sizeof(low) - 1; k++)
			low[k] = (char)((line[k] >= 'A' && line[k] <= 'Z') ? line[k] + 32 : line[k]);
		low[k] = '\0';
		bad = strstr(low, "error reading key") != NULL &&
		      strstr(low, "no public key") == NULL;
		for (int i = 0; signs[i] != NULL && !bad; i++)
			bad = strstr(low, signs[i]) != NULL;
		if (bad)
			ps_why(why, whylen,
			       "the keyring cannot be read whole (%.*s); nothing is sent until it "
			       "is repaired",
			       (int)(end - pos > 200 ? 200 : end - pos), line);
		pos = end + 1;
	}
	gpgme_free(diag);
	return bad;
}

enum ps_status
keyring_lookup(gpgme_ctx_t ctx, char *const *addrs, size_t n, gpgme_key_t *out,
	       time_t *until, char *why, size_t whylen)
{
	time_t now = time(NULL);

	const char **patterns = NULL;
	long *best = NULL;
	char *store = NULL;
	uid_form *canon = NULL;
	size_t np = 0;
	enum ps_status st = PS_OK;
	gpgme_error_t err;
	gpgme_key_t key;

	for (size_t i = 0; i < n; i++)
		out[i] = NULL;
	if (n == 0)
		return PS_OK;
	patterns = calloc(n * KEYRING_FORMS + 1, sizeof(*patterns));
	best = calloc(n, sizeof(*best));
	canon = calloc(n, sizeof(*canon));
	store = malloc(n * KEYRING_FORMS * (PS_ADDR_CANON_MAX + 3));
	if (patterns == NULL || best == NULL || canon == NULL || store == NULL) {
		st = ps_fail(PS_TEMPFAIL, why, whylen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		char *slot = store + np * (PS_ADDR_CANON_MAX + 3);
		size_t nf = search_forms(addrs[i], slot);

		best[i] = -1;
		if (until != NULL)
			until[i] = now + KEYRING_MEMO_MAX;
		canon_of(addrs[i], canon[i], sizeof(canon[i]));
		for (size_t k = 0; k < nf; k++)
			patterns[np++] = slot + k * (PS_ADDR_CANON_MAX + 3);
	}
	patterns[np] = NULL;
	if (np == 0)
		goto out;
	gpgme_set_keylist_mode(ctx, GPGME_KEYLIST_MODE_LOCAL);
	err = gpgme_op_keylist_ext_start(ctx, patterns, 0, 0);
	while (!err) {
		uid_form *f;
		size_t nf;

		err = gpgme_op_keylist_next(ctx, &key);
		if (err)
			break;
		if ((f = uid_forms(key, &nf)) == NULL) {
			gpgme_key_unref(key);
			err = gpg_error(GPG_ERR_ENOMEM);
			break;
		}
		for (size_t i = 0; i < n; i++) {
			long t = key_usable(key, f, canon[i], now);

			/* any key gpg listed for the address can change the
			 * answer when one of its (sub)keys expires or starts */
			if (until != NULL && key_has_addr(f, nf, canon[i]))
				until[i] = keyring_key_horizon(key, now, until[i]);

			if (t > best[i]) {
				if (out[i] != NULL)
					gpgme_key_unref(out[i]);
				gpgme_key_ref(key);
				out[i] = key;
				best[i] = t;
			}
		}
		free(f);
		gpgme_key_unref(key);
	}
	gpgme_op_keylist_end(ctx);
	if (gpgme_err_code(err) != GPG_ERR_EOF)
		st = ps_fail(PS_TEMPFAIL, why, whylen, "listing keys failed: %s",
			     gpgme_strerror(err));
	else if (keyring_damaged(ctx, why, whylen))
		/* gpg lists what it can read and says nothing through GPGME
		 * about the rest: a key it could not read must not become
		 * "no key", and so plaintext */
		st = PS_TEMPFAIL;
	if (st != PS_OK)
		for (size_t i = 0; i < n; i++)
			if (out[i] != NULL) {
				gpgme_key_unref(out[i]);
				out[i] = NULL;
			}
out:
	free(patterns);
	free(best);
	free(canon);
	free(store);
	return st;
}
