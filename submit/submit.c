#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <pwd.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "buf.h"
#include "compose.h"
#include "discover.h"
#include "policy.h"
#include "conf.h"
#include "envelope.h"
#include "fileio.h"
#include "handoff.h"
#include "intake.h"
#include "keyring.h"
#include "log.h"
#include "plan.h"
#include "queue.h"
#include "refuse.h"
#include "sealed.h"
#include "submit.h"

static void
domain_for_ids(const char *sender, char *out, size_t outlen)
{
	const char *at = sender != NULL ? addr_at(sender) : NULL;

	if (at != NULL && at[1] != '\0' && at[1] != '[') {
		snprintf(out, outlen, "%s", at + 1);
		return;
	}
	if (gethostname(out, outlen) < 0 || out[0] == '\0')
		snprintf(out, outlen, "localhost");
	out[outlen - 1] = '\0';
}

/* Date and Message-ID, when the client did not write them; for a
 * message being resent, Resent-Date and Resent-Message-ID instead, as
 * Postfix's cleanup adds them (the original's are not invented). */
static enum ps_status
add_missing_fields(struct header *h, const char *sender, char *why,
		   size_t whylen)
{
	char value[512], dom[256];
	enum ps_status st;
	time_t now = time(NULL);
	struct tm tm;
	int resent = header_is_resent(h);
	const char *date = resent ? "Resent-Date" : "Date";
	const char *msgid = resent ? "Resent-Message-ID" : "Message-ID";

	if (header_find(h, date, 0) < 0) {
		localtime_r(&now, &tm);
		strftime(value, sizeof(value), "%a, %d %b %Y %H:%M:%S %z", &tm);
		if ((st = header_add(h, date, value, why, whylen)) != PS_OK)
			return st;
	}
	if (header_find(h, msgid, 0) < 0) {
		unsigned char r[10];
		struct tm utc;

		if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
			return ps_fail(PS_TEMPFAIL, why, whylen, "getrandom failed");
		gmtime_r(&now, &utc);
		domain_for_ids(sender, dom, sizeof(dom));
		snprintf(value, sizeof(value),
			 "<%04d%02d%02d%02d%02d%02d.%02x%02x%02x%02x%02x%02x%02x%02x"
			 "%02x%02x@%s>",
			 utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday,
			 utc.tm_hour, utc.tm_min, utc.tm_sec, r[0], r[1], r[2],
			 r[3], r[4], r[5], r[6], r[7], r[8], r[9], dom);
		if ((st = header_add(h, msgid, value, why, whylen)) != PS_OK)
			return st;
	}
	return PS_OK;
}

/* The gateway key of a policy: a fingerprint in the user's keyring or in
 * postseal's, or a key file imported into postseal's keyring. */
static enum ps_status
gateway_key(struct discovery *d, const char *spec, char *out, size_t outlen, int *src,
	    char *why, size_t whylen)
{
	gpgme_import_result_t res;
	gpgme_data_t data = NULL;
	gpgme_error_t err;
	gpgme_key_t key = NULL;
	char fpr[128];
	enum ps_status st;

	out[0] = '\0';
	snprintf(fpr, sizeof(fpr), "%s", spec);
	if ((st = discovery_open_store(d, why, whylen)) != PS_OK)
		return st;
	if (spec[0] == '/') {
		int fd = open(spec, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

		if (fd < 0)
			return ps_fail(PS_CONFIG, why, whylen, "gateway-key %s: %s", spec,
				       strerror(errno));
		err = gpgme_data_new_from_fd(&data, fd);
		if (!err)
			err = gpgme_op_import(d->store, data);
		gpgme_data_release(data);
		close(fd);
		res = err ? NULL : gpgme_op_import_result(d->store);
		if (res == NULL || res->imports == NULL || res->imports->fpr == NULL)
			return ps_fail(PS_CONFIG, why, whylen, "gateway-key %s: no key in it",
				       spec);
		snprintf(fpr, sizeof(fpr), "%s", res->imports->fpr);
		if (gpgme_get_key(d->store, fpr, &key, 0) != 0)
			key = NULL;
		*src = SRC_COUNT;
	} else if (discovery_user_ctx(d, why, whylen) == PS_OK &&
		   gpgme_get_key(d->user, fpr, &key, 0) == 0) {
		*src = SRC_LOCAL;
	} else if (gpgme_get_key(d->store, fpr, &key, 0) == 0) {
		*src = SRC_COUNT;
	} else
		key = NULL;
	if (key == NULL)
		return ps_fail(PS_CONFIG, why, whylen,
			       "gateway-key %s is in neither keyring", spec);
	if (key->revoked || key->expired || key->disabled || key->invalid ||
	    !key->can_encrypt) {
		gpgme_key_unref(key);
		return ps_fail(PS_CONFIG, why, whylen,
			       "gateway-key %s cannot encrypt (expired, revoked or no "
			       "encryption subkey)", spec);
	}
	snprintf(out, outlen, "%s", key->subkeys->fpr);
	gpgme_key_unref(key);
	return PS_OK;
}

/* A domain of this host: localhost, the host name, /etc/mailname (what
 * Debian's MTAs append to bare names). Mail there is this site's own:
 * its keys are local ones, and asking the network about it only makes
 * it wait when DNS is down. */
static int
local_domain(const char *dom)
{
	static char host[256], mailname[256];
	static int ready;

	if (!ready) {
		int fd;

		ready = 1;
		if (gethostname(host, sizeof(host)) < 0)
			host[0] = '\0';
		host[sizeof(host) - 1] = '\0';
		if ((fd = open("/etc/mailname", O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) >= 0) {
			ssize_t n = read_some(fd, mailname, sizeof(mailname) - 1);

			mailname[n > 0 ? n : 0] = '\0';
			mailname[strcspn(mailname, " \t\r\n")] = '\0';
			close(fd);
		}
	}
	return strcasecmp(dom, "localhost") == 0 || strcasecmp(dom, "localhost.localdomain") == 0 ||
	       (host[0] != '\0' && strcasecmp(dom, host) == 0) ||
	       (mailname[0] != '\0' && strcasecmp(dom, mailname) == 0);
}

/* Every recipient's key and fate, by its policy (policy.h) and what the
 * key sources say (discover.h). A recipient whose lookup was
 * inconclusive (unknown = defer) moves from l to *deferred, its reason
 * in the first such line of dwhy; nothing is sent when any recipient is
 * refused (69); with mixed = refuse-keyless only the keyless recipients
 * are dropped, the rest goes, and the exit status is 69 (*partial set).
 * One stderr line per refused recipient names the policy line that
 * decided. */
static enum ps_status
decide_recipients(struct rcptlist *l, const struct ps_config *cf,
		  struct discovery *d, int *partial, struct rcptlist *deferred,
		  char *dwhy, size_t dwhylen, char *why, size_t whylen)
{
	struct disc_result *res = NULL;
	struct pol_effective *pe = NULL;
	struct pol_decision *dec = NULL;
	struct disc_sources *ds = NULL;
	struct disc_opts o;
	char **addrs = NULL;
	size_t *map = NULL, nlook = 0, ntemp = 0, nref = 0, ndropped = 0;
	const char *first = NULL;
	enum ps_status st = PS_OK;

	*partial = 0;
	addrs = calloc(l->n, sizeof(*addrs));
	res = calloc(l->n, sizeof(*res));
	pe = calloc(l->n, sizeof(*pe));
	dec = calloc(l->n, sizeof(*dec));
	ds = calloc(l->n, sizeof(*ds));
	map = calloc(l->n, sizeof(*map));
	if (addrs == NULL || res == NULL || pe == NULL || dec == NULL || ds == NULL ||
	    map == NULL) {
		st = ps_fail(PS_TEMPFAIL, why, whylen, "out of memory");
		goto out;
	}
	disc_opts_from_config(&o, cf);
	o.wkd.timeout_ms = 0;
	for (size_t i = 0; i < l->n; i++) {
		pol_resolve(&cf->policy, &cf->user, l->v[i].addr, &pe[i]);
		if (pe[i].warn[0] != '\0')
			log_warnx("%s", pe[i].warn);
		l->v[i].protect_subject = pe[i].v.protect_subject;
		l->v[i].to_self = pe[i].v.encrypt_to_self;
		if (pe[i].v.encrypt == ENC_NEVER)
			continue; /* nothing is looked up */
		addrs[nlook] = l->v[i].addr;
		disc_sources_from_policy(&ds[nlook], &pe[i]);
		/* this host's own domains: the local keyring (and pins) only,
		 * unless a [domain] or [address] section says otherwise */
		if (addr_at(l->v[i].addr) != NULL && local_domain(addr_at(l->v[i].addr) + 1) &&
		    strncmp(pe[i].section[PK_SOURCES], "[domain", 7) != 0 &&
		    strncmp(pe[i].section[PK_SOURCES], "[address", 8) != 0) {
			size_t w = 0;

			for (size_t k = 0; k < ds[nlook].norder; k++)
				if (ds[nlook].order[k] == SRC_LOCAL || ds[nlook].order[k] == SRC_PINNED)
					ds[nlook].order[w++] = ds[nlook].order[k];
			ds[nlook].norder = w;
		}
		map[nlook++] = i;
		/* one loop, one deadline: the longest any recipient allows */
		if (pe[i].v.lookup_timeout_ms > o.wkd.timeout_ms)
			o.wkd.timeout_ms = pe[i].v.lookup_timeout_ms;
	}
	o.per = ds;
	if (nlook > 0 && (st = discover_keys(d, addrs, nlook, &o, res, why, whylen)) != PS_OK)
		goto out;
	for (size_t i = 0; i < l->n; i++)
		policy_decide(&pe[i], NULL, &dec[i]);
	for (size_t k = 0; k < nlook; k++) {
		size_t i = map[k];

		policy_decide(&pe[i], &res[k], &dec[i]);
		if (dec[i].out == OUT_ENCRYPT) {
			snprintf(l->v[i].fpr, sizeof(l->v[i].fpr), "%s", res[k].fpr);
			l->v[i].src = res[k].src;
			if (res[k].key_changed)
				log_warnx("%s: %s", l->v[i].addr, res[k].why);
		}
	}
	/* the sendmail handoff cannot make the MTA use verified TLS; the
	 * SMTP handoff can, when it verifies certificates */
	for (size_t i = 0; i < l->n; i++) {
		policy_apply_transport(&dec[i], cf->mode == TRANSPORT_SMTP &&
						       cf->smtp_tls_verify);
		l->v[i].tls_required = dec[i].out == OUT_PLAIN_TLS;
		if (dec[i].out == OUT_PLAIN_TLS)
			dec[i].out = OUT_PLAIN;
	}
	/* a list with and without keys: each keyless recipient's mixed */
	policy_decide_list(pe, dec, l->n);
	for (size_t i = 0; i < l->n; i++)
		if (dec[i].out == OUT_REFUSE) {
			log_warnx("%s: refused: %s", l->v[i].addr, dec[i].why);
			nref++;
			first = first ? first : l->v[i].addr;
		}
	if (nref > 0) {
		st = ps_fail(PS_UNAVAILABLE, why, whylen,
			     "%s%s refused by policy; nothing was sent", first,
			     nref > 1 ? " and others" : "");
		goto out;
	}
	/* inconclusive: these wait in the queue for another lookup, and
	 * the others go on now */
	for (size_t i = 0, w = 0, n = l->n; i < n; i++) {
		if (dec[i].out == OUT_TEMPFAIL) {
			if (rcptlist_add(deferred, l->v[i].addr, l->v[i].visible) < 0) {
				st = ps_fail(PS_TEMPFAIL, why, whylen, "out of memory");
				goto out;
			}
			if (ntemp++ == 0)
				snprintf(dwhy, dwhylen, "%s", dec[i].why);
			log_info("%s: %s; deferred: looked up again from the queue, not sent "
				 "in plaintext meanwhile", l->v[i].addr, dec[i].why);
			l->n--;
			continue;
		}
		l->v[w] = l->v[i];
		pe[w] = pe[i];
		dec[w] = dec[i];
		w++;
	}
	/* gateway keys, plaintext for all under mixed = plaintext */
	for (size_t i = 0; i < l->n; i++) {
		if (dec[i].out == OUT_GATEWAY) {
			int src = 0;

			if ((st = gateway_key(d, pe[i].v.gateway_key, l->v[i].fpr,
					      sizeof(l->v[i].fpr), &src, why, whylen)) != PS_OK)
				goto out;
			l->v[i].src = src;
		}
		if (dec[i].out == OUT_PLAIN) /* mixed = plaintext */
			l->v[i].fpr[0] = '\0';
	}
	/* mixed = refuse-keyless: those recipients are dropped */
	for (size_t i = 0, w = 0; i < l->n; i++) {
		if (dec[i].out == OUT_REFUSE_ONE) {
			log_warnx("%s: refused: %s", l->v[i].addr, dec[i].why);
			ndropped++;
			first = first ? first : l->v[i].addr;
			continue;
		}
		l->v[w] = l->v[i];
		dec[w] = dec[i];
		w++;
	}
	l->n -= ndropped;
	if (ndropped > 0) {
		*partial = 1;
		ps_fail(PS_UNAVAILABLE, why, whylen,
			"%s%s refused by policy (mixed = refuse-keyless); the copies for "
			"the other recipients were sent",
			first, ndropped > 1 ? " and others" : "");
	}
out:
	disc_free(res, res != NULL ? nlook : 0);
	free(res);
	free(pe);
	free(dec);
	free(ds);
	free(map);
	free(addrs);
	return st;
}

static int
first_addr(const char *addr, void *ctx)
{
	char *out = ctx;

	if (out[0] == '\0')
		snprintf(out, PS_ADDR_MAX + 1, "%s", addr);
	return 0;
}

/* encrypt-to-self: the sender's key (the envelope sender, else From)
 * from the local keyring, when any recipient's policy asks for it. A
 * sender without a key is a warning, not a failure. self[0] is "" when
 * there is none. */
static enum ps_status
self_key(const struct rcptlist *l, const struct header *h, const char *sender,
	 struct discovery *d, char (*self)[41], char *why, size_t whylen)
{
	char from[PS_ADDR_MAX + 1] = "", reason[PS_WHY_MAX];
	char *addr[1] = {from};
	int want = 0;

	self[0][0] = '\0';
	for (size_t i = 0; i < l->n; i++)
		want |= l->v[i].to_self && l->v[i].fpr[0] != '\0';
	if (!want)
		return PS_OK;
	if (sender != NULL && sender[0] != '\0')
		snprintf(from, sizeof(from), "%s", sender);
	else
		header_addresses(h, "From", 0, first_addr, from, reason, sizeof(reason));
	if (from[0] == '\0') {
		log_warnx("encrypt-to-self: no sender address; the sender cannot read "
			  "the encrypted copies");
		return PS_OK;
	}
	if (discover_local(d, addr, 1, self, why, whylen) != PS_OK)
		return PS_TEMPFAIL;
	if (self[0][0] == '\0')
		log_warnx("encrypt-to-self: no usable key for the sender %s in the local "
			  "keyring; the sender cannot read the encrypted copies", from);
	return PS_OK;
}

/* The context to encrypt a copy in: the user's keyring when every key
 * is local, else postseal's own, into which the local keys of a mixed
 * copy are copied first (the user's keyring is never written to). */
static enum ps_status
copy_context(struct discovery *d, const char *const *fprs, const int *srcs, size_t n,
	     gpgme_ctx_t *ctx, char *why, size_t whylen)
{
	const char **local;
	gpgme_data_t data = NULL;
	size_t nl = 0, nd = 0;
	gpgme_error_t err;
	enum ps_status st;

	for (size_t k = 0; k < n; k++)
		srcs[k] == SRC_LOCAL ? nl++ : nd++;
	if (nd == 0) {
		if ((st = discovery_user_ctx(d, why, whylen)) != PS_OK)
			return st;
		*ctx = d->user;
		return PS_OK;
	}
	if ((st = discovery_open_store(d, why, whylen)) != PS_OK)
		return st;
	*ctx = d->store;
	if (nl == 0)
		return PS_OK;
	if ((st = discovery_user_ctx(d, why, whylen)) != PS_OK)
		return st;
	if ((local = calloc(nl + 1, sizeof(*local))) == NULL)
		return ps_fail(PS_TEMPFAIL, why, whylen, "out of memory");
	nl = 0;
	for (size_t k = 0; k < n; k++)
		if (srcs[k] == SRC_LOCAL)
			local[nl++] = fprs[k];
	err = gpgme_data_new(&data);
	if (!err)
		err = gpgme_op_export_ext(d->user, local, 0, data);
	if (!err) {
		gpgme_data_seek(data, 0, SEEK_SET);
		err = gpgme_op_import(d->store, data);
	}
	gpgme_data_release(data);
	free(local);
	if (err)
		return ps_fail(PS_TEMPFAIL, why, whylen,
			       "copying local keys for a mixed copy: %s",
			       gpgme_strerror(err));
	return PS_OK;
}

/* One line per recipient whose copy the MTA accepted: "sent" is said
 * only then. */
static void
log_sent(const struct rcpt *r, int passthrough)
{
	if (passthrough)
		log_info("%s: message is already encrypted; passed through", r->addr);
	else if (r->fpr[0] != '\0')
		log_info("%s: encrypted to key %s (%s)%s", r->addr, r->fpr,
			 r->src == SRC_LOCAL   ? "local keyring"
			 : r->src < SRC_COUNT ? lk_source_name((enum lk_source)r->src)
					      : "gateway key",
			 r->visible ? "" : ", own copy (blind)");
	else
		log_info("%s: no usable key; sent in plaintext (opportunistic)", r->addr);
}

static enum ps_status
compose_copy(const struct message *m, const struct rcptlist *l,
	     struct copy *cp, struct discovery *d, const char *self, char *why,
	     size_t whylen)
{
	int protect = 0, to_self = 0;
	size_t nk;

	char reason[PS_WHY_MAX];
	const char **keys;
	gpgme_ctx_t ctx = NULL;
	enum ps_status st;
	int *srcs;

	if ((cp->fd = spool_open(spool_dir_default(), reason, sizeof(reason))) < 0)
		return ps_fail(PS_TEMPFAIL, why, whylen, "%s", reason);
	if (cp->kind != COPY_ENCRYPTED)
		return compose_plain(m, cp->fd, why, whylen);
	keys = calloc(cp->n + 2, sizeof(*keys));
	srcs = calloc(cp->n + 2, sizeof(*srcs));
	if (keys == NULL || srcs == NULL) {
		free(keys);
		free(srcs);
		return ps_fail(PS_TEMPFAIL, why, whylen, "out of memory");
	}
	for (size_t k = 0; k < cp->n; k++) {
		const struct rcpt *r = &l->v[cp->rcpt[k]];

		keys[k] = r->fpr;
		srcs[k] = r->src;
		/* the stricter wins within a copy */
		protect |= r->protect_subject;
		to_self |= r->to_self;
	}
	nk = cp->n;
	if (to_self && self[0] != '\0') {
		keys[nk] = self;
		srcs[nk++] = SRC_LOCAL;
	}
	st = copy_context(d, keys, srcs, nk, &ctx, why, whylen);
	if (st == PS_OK)
		st = compose_encrypted(m, ctx, keys, protect, cp->fd, why, whylen);
	free(keys);
	free(srcs);
	return st;
}

static void
describe_done(const struct rcptlist *l, struct buf *b)
{
	int any = 0;

	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i].sent != 1)
			continue;
		buf_puts(b, any ? ", " : "");
		buf_puts(b, l->v[i].addr);
		any = 1;
	}
	if (!any)
		buf_puts(b, "none");
}

/* What one run of the pipeline is given besides the message. */
struct run_in {
	const char *sender; /* the envelope sender, "" for <> */
	int sender_given;   /* -f */
	const char *fullname;
	/* recipients whose lookup was inconclusive: keep them (queue) before
	 * anything is handed off; PS_OK or the reason nothing may be sent */
	enum ps_status (*defer)(void *ctx, const struct ps_config *cf,
				const struct message *m, const struct rcptlist *deferred,
				const char *dwhy, char *why, size_t whylen);
	void *ctx;
};

/* Input that is already encrypted (sealed.h) goes out as it is, but not
 * around the policy: a recipient under encrypt = require, or under
 * no-key = refuse, has its key decided as for any message
 * (decide_recipients(): looked up, refused, deferred, or the gateway
 * key) and is refused unless a PKESK of the message names that key
 * (sealed_names_gpgme_key()); a password (SKESK) or an anonymous
 * recipient names none. The other recipients get the message as it is,
 * nothing looked up. *passthrough says whether m is sealed; recipients
 * whose lookup was inconclusive move from l to deferred. */
static enum ps_status
sealed_policy(const struct message *m, struct rcptlist *l, const struct ps_config *cf,
	      struct discovery *d, int *passthrough, struct rcptlist *deferred, char *dwhy,
	      size_t dwhylen, char *why, size_t whylen)
{
	struct sealed_info *si = malloc(sizeof(*si));
	struct pol_effective *pe = malloc(sizeof(*pe));
	struct rcptlist strict = {0};
	size_t nd = deferred->n, nref = 0;
	const char *first = NULL;
	char where[PATH_MAX + 64];
	enum ps_status st = PS_OK;
	int partial = 0, named;

	*passthrough = 0;
	if (si == NULL || pe == NULL) {
		st = ps_fail(PS_TEMPFAIL, why, whylen, "out of memory");
		goto out;
	}
	if (!(*passthrough = sealed_examine(m, si))) {
		if (si->claimed)
			log_info("the message looks encrypted, but is not passed through as it is: "
				 "%s", si->why);
		goto out;
	}
	for (size_t i = 0; i < l->n; i++) {
		pol_resolve(&cf->policy, &cf->user, l->v[i].addr, pe);
		if ((pe->v.encrypt == ENC_REQUIRE ||
		     (pe->v.encrypt == ENC_OPPORTUNISTIC && pe->v.no_key == NK_REFUSE)) &&
		    rcptlist_add(&strict, l->v[i].addr, l->v[i].visible) < 0) {
			st = ps_fail(PS_TEMPFAIL, why, whylen, "out of memory");
			goto out;
		}
	}
	if (strict.n == 0)
		goto out;
	if ((st = decide_recipients(&strict, cf, d, &partial, deferred, dwhy, dwhylen, why,
				    whylen)) != PS_OK)
		goto out;
	if (partial) { /* no plaintext recipient here: cannot happen */
		st = ps_fail(PS_UNAVAILABLE, why, whylen, "refused by policy; nothing was sent");
		goto out;
	}
	for (size_t k = 0; k < strict.n; k++) {
		const struct rcpt *r = &strict.v[k];
		gpgme_key_t key = NULL;

		/* the key in the keyring copy_context() would encrypt in */
		if ((st = r->src == SRC_LOCAL ? discovery_user_ctx(d, why, whylen)
					      : discovery_open_store(d, why, whylen)) != PS_OK)
			goto out;
		if (gpgme_get_key(r->src == SRC_LOCAL ? d->user : d->store, r->fpr, &key, 0) != 0) {
			st = ps_fail(PS_TEMPFAIL, why, whylen, "%s: cannot read its key %s", r->addr,
				     r->fpr);
			goto out;
		}
		named = sealed_names_gpgme_key(si, key);
		gpgme_key_unref(key);
		if (named)
			continue;
		pol_resolve(&cf->policy, &cf->user, r->addr, pe);
		pol_origin(pe, pe->v.encrypt == ENC_REQUIRE ? PK_ENCRYPT : PK_NO_KEY, where,
			   sizeof(where));
		log_warnx("%s: refused: the message is already encrypted, but %s its key %s, and %s "
			  "(%s)", r->addr, si->npkesk == 0 ? "to a password, not to" : "not to", r->fpr,
			  pe->v.encrypt == ENC_REQUIRE ? "encrypt = require" : "no-key = refuse", where);
		nref++;
		first = first ? first : r->addr;
	}
	if (nref > 0) {
		st = ps_fail(PS_UNAVAILABLE, why, whylen, "%s%s refused by policy; nothing was sent",
			     first, nref > 1 ? " and others" : "");
		goto out;
	}
	/* inconclusive: these wait in the queue, the others go now */
	for (size_t i = 0, w = 0, n = l->n; i < n; i++) {
		long k = rcptlist_find(deferred, l->v[i].addr);

		if (k >= 0 && (size_t)k >= nd) {
			l->n--;
			continue;
		}
		l->v[w++] = l->v[i];
	}
out:
	rcptlist_free(&strict);
	free(pe);
	free(si);
	return st;
}

/* Decide, plan, compose and hand off m to the recipients in rl (sent
 * marks each one's fate), the inconclusive ones given to in->defer. */
static enum ps_status
deliver_message(const struct ps_config *cf, struct message *m, struct rcptlist *rl,
		const struct run_in *in, struct discovery *disc, char *why, size_t whylen)
{
	struct plan plan = {0};
	struct rcptlist deferred = {0};
	char reason[PS_WHY_MAX], partial_why[PS_WHY_MAX] = "", dwhy[PS_WHY_MAX] = "";
	enum ps_status st, perm_st = PS_OK;
	int passthrough, partial = 0;
	size_t nperm = 0;
	char perm_why[PS_WHY_MAX] = "";
	char self[1][41] = {""};

	if ((st = sealed_policy(m, rl, cf, disc, &passthrough, &deferred, dwhy, sizeof(dwhy), why,
				whylen)) != PS_OK)
		goto out;
	if (!passthrough &&
	    (st = decide_recipients(rl, cf, disc, &partial, &deferred, dwhy, sizeof(dwhy),
				    partial_why, sizeof(partial_why))) != PS_OK) {
		snprintf(why, whylen, "%s", partial_why);
		goto out;
	}
	/* kept first: if that fails, nothing has been sent yet */
	if (deferred.n > 0) {
		if ((st = in->defer(in->ctx, cf, m, &deferred, dwhy, why, whylen)) != PS_OK)
			goto out;
		crash_point("defer");
	}
	if (rl->n == 0) {
		st = partial ? ps_fail(PS_UNAVAILABLE, why, whylen, "%s", partial_why) : PS_OK;
		goto out;
	}
	if (!passthrough && (st = self_key(rl, &m->hdr, in->sender_given ? in->sender : NULL,
					   disc, self, why, whylen)) != PS_OK)
		goto out;
	if ((st = plan_build(rl, passthrough, &plan)) != PS_OK) {
		ps_fail(st, why, whylen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < plan.n; i++)
		if ((st = compose_copy(m, rl, &plan.v[i], disc, self[0], why, whylen)) != PS_OK)
			goto out;
	for (size_t i = 0; i < plan.n; i++) {
		struct copy *cp = &plan.v[i];
		const char **rcpts = calloc(cp->n * 2 + 1, sizeof(*rcpts));
		const char **rest = rcpts + cp->n;
		enum rcpt_state state[PS_RCPT_MAX];
		size_t nt, np;
		int tls_req = 0;

		if (rcpts == NULL) {
			st = ps_fail(PS_TEMPFAIL, why, whylen, "out of memory");
			goto out;
		}
		for (size_t k = 0; k < cp->n; k++)
			rcpts[k] = rl->v[cp->rcpt[k]].addr;
		for (size_t k = 0; k < cp->n; k++)
			tls_req |= rl->v[cp->rcpt[k]].tls_required;
		st = handoff_copy(cf, in->sender, in->sender_given, in->fullname, rcpts, cp->n,
				  cp->fd, 0, tls_req, state, reason, sizeof(reason));
		/* the recipients not taken for a temporary reason: into the
		 * durable queue (the copy as it is: an encrypted copy stays
		 * encrypted); those refused for good: reported */
		nt = np = 0;
		for (size_t k = 0; k < cp->n; k++) {
			if (state[k] == RCPT_DONE) {
				rl->v[cp->rcpt[k]].sent = 1;
				log_sent(&rl->v[cp->rcpt[k]], passthrough);
			}
			if (state[k] == RCPT_TEMP)
				rest[nt++] = rcpts[k];
			else if (state[k] == RCPT_PERM) {
				log_warnx("%s: refused by %s: %s", rcpts[k],
					  cf->mode == TRANSPORT_SMTP ? cf->smtp_host : cf->sendmail,
					  reason);
				if (nperm++ == 0)
					ps_why(perm_why, sizeof(perm_why), "%s: %s", rcpts[k], reason);
				perm_st = st == PS_OK || st == PS_TEMPFAIL ? PS_UNAVAILABLE : st;
				np++;
			}
		}
		if (nt > 0) {
			struct queue_env qe = {in->sender, in->sender_given, in->fullname,
					       copy_kind_name(cp->kind), tls_req, rest, nt, NULL, 0, -1};
			char id[64], qwhy[PS_WHY_MAX];

			if (queue_put(cf, &qe, cp->fd, reason, id, sizeof(id), qwhy,
				      sizeof(qwhy)) != PS_OK) {
				struct buf done;

				buf_init(&done, 4096);
				describe_done(rl, &done);
				ps_fail(PS_TEMPFAIL, why, whylen,
					"handing off the %s copy for %s%s failed: %s; and it could "
					"not be queued: %s; already handed off: %s",
					copy_kind_name(cp->kind), rest[0], nt > 1 ? " and others" : "",
					reason, qwhy, done.failed ? "(too many to list)" : buf_str(&done));
				buf_free(&done);
				free(rcpts);
				st = PS_TEMPFAIL;
				goto out;
			}
			for (size_t k = 0; k < cp->n; k++)
				if (state[k] == RCPT_TEMP)
					rl->v[cp->rcpt[k]].sent = 2;
			log_info("%s copy for %zu recipient%s queued as %s: %s",
				 copy_kind_name(cp->kind), nt, nt == 1 ? "" : "s", id, reason);
		}
		free(rcpts);
		cp->handed_off = 1;
		crash_point("handoff");
		if (nt + np < cp->n)
			log_info("%s copy for %zu recipient%s handed to %s", copy_kind_name(cp->kind),
				 cp->n - nt - np, cp->n - nt - np == 1 ? "" : "s",
				 cf->mode == TRANSPORT_SMTP ? cf->smtp_host : cf->sendmail);
		st = PS_OK;
		/* refused for good: the MTA will not take the others either,
		 * or the refusal is about this message; stop here */
		if (np > 0)
			break;
	}
	if (nperm > 0) {
		struct buf done, left;

		buf_init(&done, 4096);
		buf_init(&left, 4096);
		describe_done(rl, &done);
		for (size_t i = 0, any = 0; i < rl->n; i++)
			if (!rl->v[i].sent) {
				buf_puts(&left, any++ ? ", " : "");
				buf_puts(&left, rl->v[i].addr);
			}
		st = ps_fail(perm_st, why, whylen, "%s%s; already handed off: %s; not sent: %s",
			     perm_why, nperm > 1 ? " (and other recipients: see above)" : "",
			     done.failed ? "(too many to list)" : buf_str(&done),
			     left.failed ? "(too many to list)" : buf_str(&left));
		buf_free(&done);
		buf_free(&left);
	}
	if (partial && st == PS_OK)
		st = ps_fail(PS_UNAVAILABLE, why, whylen, "%s", partial_why);
out:
	plan_free(&plan);
	rcptlist_free(&deferred);
	return st;
}

/* A new submission's inconclusive recipients: the message (as its
 * plaintext copy would be sent) waits in the queue for their lookup. */
static enum ps_status
defer_to_queue(void *ctx, const struct ps_config *cf, const struct message *m,
	       const struct rcptlist *deferred, const char *dwhy, char *why, size_t whylen)
{
	const struct run_in *in = ctx;
	const char **rcpts = calloc(deferred->n + 1, sizeof(*rcpts));
	unsigned char *blind = calloc(deferred->n + 1, 1);
	char id[64], qwhy[PS_WHY_MAX];
	enum ps_status st;
	int fd = -1;

	if (rcpts == NULL || blind == NULL) {
		st = ps_fail(PS_TEMPFAIL, why, whylen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < deferred->n; i++) {
		rcpts[i] = deferred->v[i].addr;
		blind[i] = !deferred->v[i].visible;
	}
	if ((fd = spool_open(spool_dir_default(), qwhy, sizeof(qwhy))) < 0) {
		st = ps_fail(PS_TEMPFAIL, why, whylen, "%s", qwhy);
		goto out;
	}
	if ((st = compose_plain(m, fd, why, whylen)) != PS_OK)
		goto out;
	{
		struct queue_env qe = {in->sender, in->sender_given, in->fullname,
				       QUEUE_KIND_LOOKUP, 0, rcpts, deferred->n, blind, 0, -1};

		if ((st = queue_put(cf, &qe, fd, dwhy, id, sizeof(id), qwhy, sizeof(qwhy))) !=
		    PS_OK) {
			st = ps_fail(PS_TEMPFAIL, why, whylen,
				     "%s%s: key lookup inconclusive, and the message could not "
				     "be queued for another lookup: %s; nothing was sent",
				     rcpts[0], deferred->n > 1 ? " and others" : "", qwhy);
			goto out;
		}
	}
	for (size_t i = 0; i < deferred->n; i++)
		log_info("%s: waits in the queue as %s for another key lookup", rcpts[i], id);
out:
	if (fd >= 0)
		close(fd);
	free(rcpts);
	free(blind);
	return st;
}

/* Where recipients no policy can be decided for (an argument that is not
 * an address, a -t field that does not parse) are returned: -f; else,
 * as the MTA will name the sender, the From address for SMTP and the
 * login name for sendmail. "" when there is no one (the null sender). */
static void
return_address(const struct ps_config *cf, const struct cli *c, const char *sender,
	       const struct header *h, char *to, size_t tolen)
{
	char reason[PS_WHY_MAX];
	const struct passwd *pw;

	to[0] = '\0';
	if (c->sender != NULL)
		snprintf(to, tolen, "%s", sender);
	else if (cf->mode == TRANSPORT_SMTP)
		header_addresses(h, "From", 0, first_addr, to, reason, sizeof(reason));
	else if ((pw = getpwuid(getuid())) != NULL && strlen(pw->pw_name) < tolen &&
		 addr_check(pw->pw_name, strlen(pw->pw_name), ADDR_LOCAL_OK, NULL, 0) == 0)
		snprintf(to, tolen, "%s", pw->pw_name);
}

/* Return them to `to` (a notice, refuse.h): after the other copies went
 * out or were queued, so that the notice never tells of copies a later
 * failure kept back. One stderr line for each. */
static enum ps_status
return_undecided(const struct ps_config *cf, const char *to, const struct undecidedlist *und,
		 const struct header *h, char *why, size_t whylen)
{
	enum ps_status st = refuse_return(cf, to, und, h, why, whylen);

	for (size_t i = 0; i < und->n; i++)
		if (st == PS_OK)
			log_warnx("%s; returned to the sender (%s), not sent", und->v[i].why, to);
		else
			log_warnx("%s; not sent, and the notice to %s failed: %s", und->v[i].why,
				  to, why);
	return st;
}

enum ps_status
submit_deliver(const struct cli *c, int in_fd, char *why, size_t whylen)
{
	struct message m;
	struct ps_config cf;
	struct rcptlist rl = {0};
	struct undecidedlist und = {0};
	struct discovery disc;
	struct run_in in = {0};
	char sender[PS_ADDR_MAX + 1] = "", back[PS_ADDR_MAX + 1] = "";
	char reason[PS_WHY_MAX];
	enum ps_status st;

	message_init(&m);
	config_defaults(&cf);
	discovery_init(&disc);
	/* all of stdin first: cron pipes output while its job runs */
	st = intake_read(in_fd, c->ignore_dots, spool_dir_default(), &m, why, whylen);
	if (st != PS_OK)
		goto out;
	/* a submission is held to the caps (header.h); a queued message may
	 * carry the fields postseal added to it */
	if (m.hdr.raw.len > PS_HEADER_MAX || m.hdr.n > PS_HEADER_FIELDS_MAX) {
		st = ps_fail(PS_DATAERR, why, whylen, "header larger than %d bytes or %d fields",
			     PS_HEADER_MAX, PS_HEADER_FIELDS_MAX);
		goto out;
	}
	st = config_load_all(&cf, c->config, why, whylen);
	discovery_use_config(&disc, &cf);
	if (st != PS_OK || (st = handoff_check(&cf, why, whylen)) != PS_OK)
		goto out;
	if (c->sender != NULL &&
	    (st = envelope_sender(c->sender, sender, sizeof(sender), why,
				  whylen)) != PS_OK)
		goto out;
	if (c->fullname != NULL && (strlen(c->fullname) > PS_FULLNAME_MAX ||
				    strpbrk(c->fullname, "\r\n") != NULL)) {
		st = ps_fail(PS_USAGE, why, whylen,
			     "-F: full name too long or contains a line break");
		goto out;
	}
	/* a Content-Type that does not parse is passed on as it is, as
	 * Postfix's sendmail does: it means text/plain (RFC 2045 5.2), and
	 * such a message is never taken for an encrypted one */
	if ((st = envelope_build(c, &m.hdr, &rl, &und, why, whylen)) != PS_OK)
		goto out;
	if (und.n > 0) {
		return_address(&cf, c, sender, &m.hdr, back, sizeof(back));
		if (back[0] == '\0') {
			/* nobody to return them to: refused whole, as before */
			st = ps_fail(PS_DATAERR, why, whylen, "%s (and no sender to return it to)",
				     und.v[0].why);
			goto out;
		}
		if (rl.n == 0) { /* nothing else to send: the notice alone */
			st = return_undecided(&cf, back, &und, &m.hdr, why, whylen);
			goto out;
		}
	}
	/* EX_USAGE either way, the status Postfix's sendmail names for both
	 * (its run-time error hook then turns every fatal error into 75,
	 * which would tell the caller to retry what can never be sent) */
	if (rl.n == 0) {
		st = c->extract
			     ? ps_fail(PS_USAGE, why, whylen,
				       "no recipient addresses found in the message "
				       "header")
			     : ps_fail(PS_USAGE, why, whylen,
				       "no recipients given (name them, or use -t to "
				       "read To, Cc and Bcc)");
		goto out;
	}
	if ((st = add_missing_fields(&m.hdr, c->sender ? sender : NULL, why,
				     whylen)) != PS_OK)
		goto out;
	/* SMTP needs an envelope sender: -f, else the From address */
	if (cf.mode == TRANSPORT_SMTP && c->sender == NULL)
		header_addresses(&m.hdr, "From", 0, first_addr, sender, reason, sizeof(reason));
	crash_point("intake");
	in.sender = sender;
	in.sender_given = c->sender != NULL;
	in.fullname = c->fullname;
	in.defer = defer_to_queue;
	in.ctx = &in;
	st = deliver_message(&cf, &m, &rl, &in, &disc, why, whylen);
	if (und.n > 0 && st == PS_OK) {
		char nwhy[PS_WHY_MAX];

		/* the others are out or queued: a notice that cannot go now
		 * is queued; only when that fails too is it lost, and the
		 * caller, whose copies went, is not told to send them again */
		(void)return_undecided(&cf, back, &und, &m.hdr, nwhy, sizeof(nwhy));
	} else if (und.n > 0) {
		size_t len = strlen(why);

		/* said on the error's own line (a failure prints two at most) */
		snprintf(why + len, whylen > len ? whylen - len : 0,
			 "; not sent either: %zu recipient%s that cannot be read (%s)", und.n,
			 und.n == 1 ? "" : "s", und.v[0].what);
	}
out:
	rcptlist_free(&rl);
	undecided_free(&und);
	discovery_close(&disc);
	message_free(&m);
	/* older entries of this user's queue that are due: a detached
	 * runner, so that no one has to run the queue by hand */
	if (st == PS_OK)
		queue_kick(&cf, submit_retry);
	config_free(&cf);
	return st;
}

/* A queued message's retry: its recipients' lookup again. */
struct retry_ctx {
	const struct rcptlist *deferred; /* set by the callback */
	int *state;
	const struct queue_msg *qm;
	char *wait_why;
	size_t wait_whylen;
};

static enum ps_status
defer_again(void *ctx, const struct ps_config *cf, const struct message *m,
	    const struct rcptlist *deferred, const char *dwhy, char *why, size_t whylen)
{
	struct retry_ctx *rc = ctx;

	(void)cf;
	(void)m;
	(void)why;
	(void)whylen;
	for (size_t i = 0; i < deferred->n; i++)
		for (size_t k = 0; k < rc->qm->n; k++)
			if (strcmp(rc->qm->rcpts[k], deferred->v[i].addr) == 0)
				rc->state[k] = QR_WAIT;
	snprintf(rc->wait_why, rc->wait_whylen, "%s", dwhy);
	return PS_OK;
}

enum ps_status
submit_retry(const struct ps_config *cf, const struct queue_msg *qm, int *state,
	     char *wait_why, size_t wait_whylen, char *why, size_t whylen)
{
	struct message m;
	struct rcptlist rl = {0};
	struct discovery disc;
	struct retry_ctx rc = {NULL, state, qm, wait_why, wait_whylen};
	struct run_in in = {qm->sender, qm->sender_given, qm->fullname, defer_again, &rc};
	enum ps_status st;

	message_init(&m);
	discovery_init(&disc);
	discovery_use_config(&disc, cf);
	wait_why[0] = '\0';
	for (size_t k = 0; k < qm->n; k++)
		state[k] = QR_PERM;
	if (lseek(qm->fd, qm->body, SEEK_SET) < 0) {
		st = ps_fail(PS_TEMPFAIL, why, whylen, "lseek: %s", strerror(errno));
		goto out;
	}
	if ((st = intake_read(qm->fd, 1, spool_dir_default(), &m, why, whylen)) != PS_OK)
		goto out;
	for (size_t k = 0; k < qm->n; k++)
		if (rcptlist_add(&rl, qm->rcpts[k], !qm->blind[k]) < 0) {
			st = ps_fail(PS_TEMPFAIL, why, whylen, "out of memory");
			goto out;
		}
	st = deliver_message(cf, &m, &rl, &in, &disc, why, whylen);
	/* handed off or queued as a copy: done here */
	for (size_t i = 0; i < rl.n; i++)
		for (size_t k = 0; k < qm->n; k++)
			if (strcmp(qm->rcpts[k], rl.v[i].addr) == 0 && rl.v[i].sent)
				state[k] = QR_DONE;
out:
	/* a temporary failure refuses nothing: what is not done waits */
	if (st == PS_TEMPFAIL)
		for (size_t k = 0; k < qm->n; k++)
			if (state[k] == QR_PERM)
				state[k] = QR_WAIT;
	rcptlist_free(&rl);
	discovery_close(&disc);
	message_free(&m);
	return st;
}
