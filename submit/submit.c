#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "buf.h"
#include "compose.h"
#include "discover.h"
#include "conf.h"
#include "envelope.h"
#include "fileio.h"
#include "handoff.h"
#include "intake.h"
#include "keyring.h"
#include "log.h"
#include "plan.h"
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

/* Date and Message-ID, when the client did not write them. */
static enum ps_status
add_missing_fields(struct header *h, const char *sender, char *why,
		   size_t whylen)
{
	char value[512], dom[256];
	enum ps_status st;
	time_t now = time(NULL);
	struct tm tm;

	if (header_find(h, "Date", 0) < 0) {
		localtime_r(&now, &tm);
		strftime(value, sizeof(value), "%a, %d %b %Y %H:%M:%S %z", &tm);
		if ((st = header_add(h, "Date", value, why, whylen)) != PS_OK)
			return st;
	}
	if (header_find(h, "Message-ID", 0) < 0) {
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
		if ((st = header_add(h, "Message-ID", value, why, whylen)) != PS_OK)
			return st;
	}
	return PS_OK;
}

/* Every recipient's key, by the configured sources (discover.h). A
 * recipient whose lookup was inconclusive, or whose key changed against
 * key-change = refuse, fails the whole submission before anything is
 * sent: never plaintext in their place. */
static enum ps_status
lookup_keys(struct rcptlist *l, const struct ps_config *cf, struct discovery *d,
	    char *why, size_t whylen)
{
	struct disc_result *res = NULL;
	struct disc_opts o;
	char **addrs = NULL;
	size_t unknown = 0, changed = 0;
	const char *first = NULL;
	enum ps_status st;

	addrs = calloc(l->n, sizeof(*addrs));
	res = calloc(l->n, sizeof(*res));
	if (addrs == NULL || res == NULL) {
		st = ps_fail(PS_TEMPFAIL, why, whylen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < l->n; i++)
		addrs[i] = l->v[i].addr;
	disc_opts_from_config(&o, cf);
	if ((st = discover_keys(d, addrs, l->n, &o, res, why, whylen)) != PS_OK)
		goto out;
	for (size_t i = 0; i < l->n; i++) {
		struct disc_result *r = &res[i];
		char said[PS_WHY_MAX];

		switch (r->state) {
		case DS_KEY:
			l->v[i].key = r->key;
			l->v[i].src = (int)r->src;
			r->key = NULL;
			if (r->key_changed)
				log_warnx("%s: %s", addrs[i], r->why);
			break;
		case DS_NO_KEY:
			break;
		case DS_UNKNOWN:
			disc_explain(r, said, sizeof(said));
			log_warnx("%s: key lookup inconclusive (%s); not sent in "
				  "plaintext", addrs[i], said);
			unknown++;
			first = first ? first : addrs[i];
			break;
		case DS_KEY_CHANGE:
			log_warnx("%s: %s", addrs[i], r->why);
			changed++;
			first = first ? first : addrs[i];
			break;
		}
	}
	if (changed > 0)
		st = ps_fail(PS_UNAVAILABLE, why, whylen,
			     "%s%s: key change refused; nothing was sent", first,
			     changed + unknown > 1 ? " and others" : "");
	else if (unknown > 0)
		st = ps_fail(PS_TEMPFAIL, why, whylen,
			     "%s%s: key lookup inconclusive; nothing was sent (try "
			     "again later)",
			     first, unknown > 1 ? " and others" : "");
out:
	disc_free(res, res != NULL ? l->n : 0);
	free(res);
	free(addrs);
	return st;
}

/* The context to encrypt a copy in: the user's keyring when every key
 * is local, else postseal's own, into which the local keys of a mixed
 * copy are copied first (the user's keyring is never written to). */
static enum ps_status
copy_context(struct discovery *d, gpgme_key_t *keys, const int *srcs, size_t n,
	     gpgme_ctx_t *ctx, char *why, size_t whylen)
{
	gpgme_key_t *local;
	gpgme_data_t data = NULL;
	size_t nl = 0, nd = 0;
	gpgme_error_t err;

	for (size_t k = 0; k < n; k++)
		srcs[k] == SRC_LOCAL ? nl++ : nd++;
	if (nd == 0) {
		*ctx = d->user;
		return PS_OK;
	}
	*ctx = d->store;
	if (nl == 0)
		return PS_OK;
	if ((local = calloc(nl + 1, sizeof(*local))) == NULL)
		return ps_fail(PS_TEMPFAIL, why, whylen, "out of memory");
	nl = 0;
	for (size_t k = 0; k < n; k++)
		if (srcs[k] == SRC_LOCAL)
			local[nl++] = keys[k];
	err = gpgme_data_new(&data);
	if (!err)
		err = gpgme_op_export_keys(d->user, local, 0, data);
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

static void
log_decisions(const struct rcptlist *l, int passthrough)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct rcpt *r = &l->v[i];
		gpgme_key_t k = r->key;

		if (passthrough)
			log_info("%s: message is already encrypted; passed through",
				 r->addr);
		else if (k != NULL)
			log_info("%s: encrypted to key %s (%s)%s", r->addr,
				 k->subkeys->fpr, lk_source_name((enum lk_source)r->src),
				 r->visible ? "" : ", own copy (blind)");
		else
			log_info("%s: no usable key; sent in plaintext (opportunistic)",
				 r->addr);
	}
}

static enum ps_status
compose_copy(const struct message *m, const struct rcptlist *l,
	     struct copy *cp, struct discovery *d, char *why, size_t whylen)
{
	char reason[PS_WHY_MAX];
	gpgme_key_t *keys;
	gpgme_ctx_t ctx = NULL;
	enum ps_status st;
	int *srcs;

	if ((cp->fd = spool_open(spool_dir_default(), reason, sizeof(reason))) < 0)
		return ps_fail(PS_TEMPFAIL, why, whylen, "%s", reason);
	if (cp->kind != COPY_ENCRYPTED)
		return compose_plain(m, cp->fd, why, whylen);
	keys = calloc(cp->n + 1, sizeof(*keys));
	srcs = calloc(cp->n + 1, sizeof(*srcs));
	if (keys == NULL || srcs == NULL) {
		free(keys);
		free(srcs);
		return ps_fail(PS_TEMPFAIL, why, whylen, "out of memory");
	}
	for (size_t k = 0; k < cp->n; k++) {
		keys[k] = l->v[cp->rcpt[k]].key;
		srcs[k] = l->v[cp->rcpt[k]].src;
	}
	st = copy_context(d, keys, srcs, cp->n, &ctx, why, whylen);
	if (st == PS_OK)
		st = compose_encrypted(m, ctx, keys, 1, cp->fd, why, whylen);
	free(keys);
	free(srcs);
	return st;
}

static void
describe_done(const struct plan *p, const struct rcptlist *l, struct buf *b)
{
	int any = 0;

	for (size_t i = 0; i < p->n; i++) {
		if (!p->v[i].handed_off)
			continue;
		for (size_t k = 0; k < p->v[i].n; k++) {
			buf_puts(b, any ? ", " : "");
			buf_puts(b, l->v[p->v[i].rcpt[k]].addr);
			any = 1;
		}
	}
	if (!any)
		buf_puts(b, "none");
}

enum ps_status
submit_deliver(const struct cli *c, int in_fd, char *why, size_t whylen)
{
	struct message m;
	struct ps_config cf;
	struct rcptlist rl = {0};
	struct plan plan = {0};
	struct discovery disc;
	char sender[PS_ADDR_MAX + 1] = "";
	char reason[PS_WHY_MAX];
	enum ps_status st;
	int passthrough;

	message_init(&m);
	discovery_init(&disc);
	/* all of stdin first: cron pipes output while its job runs */
	st = intake_read(in_fd, c->ignore_dots, spool_dir_default(), &m, why, whylen);
	if (st != PS_OK)
		goto out;
	st = config_load_site(&cf, c->config, why, whylen);
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
	if ((st = envelope_check_header(&m.hdr, why, whylen)) != PS_OK ||
	    (st = compose_check_content_type(&m.hdr, why, whylen)) != PS_OK ||
	    (st = envelope_build(c, &m.hdr, &rl, why, whylen)) != PS_OK)
		goto out;
	if (rl.n == 0) {
		st = c->extract
			     ? ps_fail(PS_DATAERR, why, whylen,
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
	passthrough = message_is_sealed(&m);
	if (!passthrough && (st = lookup_keys(&rl, &cf, &disc, why, whylen)) != PS_OK)
		goto out;
	if ((st = plan_build(&rl, passthrough, &plan)) != PS_OK) {
		ps_fail(st, why, whylen, "out of memory");
		goto out;
	}
	log_decisions(&rl, passthrough);
	for (size_t i = 0; i < plan.n; i++)
		if ((st = compose_copy(&m, &rl, &plan.v[i], &disc, why, whylen)) != PS_OK)
			goto out;
	for (size_t i = 0; i < plan.n; i++) {
		struct copy *cp = &plan.v[i];
		const char **rcpts = calloc(cp->n, sizeof(*rcpts));

		if (rcpts == NULL) {
			st = ps_fail(PS_TEMPFAIL, why, whylen, "out of memory");
			goto out;
		}
		for (size_t k = 0; k < cp->n; k++)
			rcpts[k] = rl.v[cp->rcpt[k]].addr;
		st = handoff_sendmail(&cf, sender, c->sender != NULL, c->fullname,
				      rcpts, cp->n, cp->fd, reason, sizeof(reason));
		free(rcpts);
		if (st != PS_OK) {
			struct buf done;

			buf_init(&done, 4096);
			describe_done(&plan, &rl, &done);
			ps_fail(st, why, whylen,
				"handing off the %s copy for %s%s failed: %s; already "
				"handed off: %s",
				copy_kind_name(cp->kind), rl.v[cp->rcpt[0]].addr,
				cp->n > 1 ? " and others" : "", reason,
				done.failed ? "(too many to list)" : buf_str(&done));
			buf_free(&done);
			goto out;
		}
		cp->handed_off = 1;
		log_info("%s copy for %zu recipient%s handed to %s", copy_kind_name(cp->kind),
			 cp->n, cp->n == 1 ? "" : "s", cf.sendmail);
	}
out:
	plan_free(&plan);
	for (size_t i = 0; i < rl.n; i++)
		if (rl.v[i].key != NULL)
			gpgme_key_unref(rl.v[i].key);
	rcptlist_free(&rl);
	discovery_close(&disc);
	message_free(&m);
	return st;
}
