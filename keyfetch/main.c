/*++
 * NAME
 *	postseal-keyfetch 1
 * SUMMARY
 *	which key postseal would use for an address, and what each source said
 * SYNOPSIS
 *	postseal-keyfetch [-C config] [-v] ADDRESS...
 * DESCRIPTION
 *	For each address: the local keyring, then the Web Key Directory (in
 *	parallel for all addresses, under the lookup deadline). A WKD key is
 *	imported into postseal's own keyring (store.h), never the user's.
 *	Exit: 0 when every address has a key, 67 (EX_NOUSER) when some have
 *	none for certain, 75 (EX_TEMPFAIL) when any lookup was inconclusive.
 *	Bad usage is 64, a bad configuration 78.
 *--*/
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "conf.h"
#include "fileio.h"
#include "keyring.h"
#include "log.h"
#include "lookup.h"
#include "store.h"
#include "dnsfetch.h"
#include "wkdfetch.h"

static void
usage(void)
{
	fprintf(stderr, "usage: postseal-keyfetch [-C config] [-v] address...\n");
}

int
main(int argc, char **argv)
{
	const char *conffile = NULL;
	char why[PS_WHY_MAX], storedir[4096];
	struct ps_config cf;
	struct lk_answer *wkd = NULL, *dns = NULL;
	struct dane_batch *batch;
	struct dane_opts dop;
	gpgme_key_t *local = NULL;
	gpgme_ctx_t uctx = NULL, sctx = NULL;
	char **addrs;
	int i, n, verbose = 0, notfound = 0, unknown = 0;
	enum ps_status st;
	struct wkd_opts wo;

	process_sanitize();
	log_init("postseal-keyfetch", 0, 1);
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else if (strcmp(argv[i], "-v") == 0)
			verbose++;
		else if (strcmp(argv[i], "-C") == 0 && i + 1 < argc)
			conffile = argv[++i];
		else {
			usage();
			return ps_exit_code(PS_USAGE);
		}
	}
	log_set_verbose(verbose);
	addrs = argv + i;
	n = argc - i;
	if (n == 0) {
		usage();
		return ps_exit_code(PS_USAGE);
	}
	for (int k = 0; k < n; k++)
		if (addr_check(addrs[k], strlen(addrs[k]), 0, why, sizeof(why)) < 0) {
			log_warnx("bad address \"%.80s\": %s", addrs[k], why);
			return ps_exit_code(PS_DATAERR);
		}
	if ((st = config_load_site(&cf, conffile, why, sizeof(why))) != PS_OK) {
		log_warnx("%s", why);
		return ps_exit_code(st);
	}
	local = calloc((size_t)n, sizeof(*local));
	wkd = calloc((size_t)n, sizeof(*wkd));
	dns = calloc((size_t)n, sizeof(*dns));
	if (local == NULL || wkd == NULL || dns == NULL)
		fatalx("out of memory");
	if ((st = keyring_init(why, sizeof(why))) != PS_OK ||
	    (st = keyring_context(&uctx, why, sizeof(why))) != PS_OK ||
	    (st = keyring_lookup(uctx, addrs, (size_t)n, local, why, sizeof(why))) != PS_OK) {
		log_warnx("local keyring: %s", why);
		return ps_exit_code(st);
	}
	wo.ca_file = cf.ca_file[0] ? cf.ca_file : NULL;
	wo.connect_to = cf.connect_to[0] ? cf.connect_to : NULL;
	wo.timeout_ms = cf.lookup_timeout_ms;
	dop.forwarder = cf.dns_forwarder[0] ? cf.dns_forwarder : NULL;
	dop.trust_anchor = cf.trust_anchor[0] ? cf.trust_anchor : NULL;
	/* DANE and WKD for every address at once, in one loop */
	batch = dane_start(addrs, (size_t)n, &dop, dns);
	if (wkd_fetch_all(addrs, (size_t)n, &wo, wkd, batch) < 0)
		fatalx("lookups could not be started");
	dane_finish(batch);
	if (store_path(storedir, sizeof(storedir)) < 0 ||
	    (st = store_open(storedir, &sctx, why, sizeof(why))) != PS_OK) {
		log_warnx("postseal's keyring: %s", why[0] ? why : "no HOME");
		return ps_exit_code(PS_TEMPFAIL);
	}
	for (int k = 0; k < n; k++) {
		gpgme_key_t wk = NULL, dk = NULL;
		const char *chosen = NULL, *src = "-";
		int proven_none;

		if (dns[k].res == LK_FOUND)
			dns[k].res = store_import(sctx, addrs[k], &dns[k].data, &dk,
						  dns[k].why, sizeof(dns[k].why));
		if (wkd[k].res == LK_FOUND)
			wkd[k].res = store_import(sctx, addrs[k], &wkd[k].data, &wk,
						  wkd[k].why, sizeof(wkd[k].why));
		/* trust order: local keyring, DANE, WKD */
		if (local[k] != NULL) {
			chosen = local[k]->subkeys->fpr;
			src = "local";
		} else if (dk != NULL) {
			chosen = dk->subkeys->fpr;
			src = "dane";
		} else if (wk != NULL) {
			chosen = wk->subkeys->fpr;
			src = "wkd";
		}
		/* "no key" only when every source proved it */
		proven_none = dns[k].res == LK_NOT_FOUND && wkd[k].res == LK_NOT_FOUND;
		printf("%s %s %s\n", addrs[k], chosen ? chosen : "-",
		       chosen ? src : (proven_none ? "no-key" : "unknown"));
		printf("  local: %s\n", local[k] ? "FOUND" : "NOT_FOUND");
		printf("  dane: %s (%s) %s\n", lk_result_name(dns[k].res), dns[k].why,
		       dns[k].url);
		printf("  wkd: %s (%s) %s\n", lk_result_name(wkd[k].res), wkd[k].why,
		       wkd[k].url);
		if (chosen == NULL) {
			if (proven_none)
				notfound++;
			else
				unknown++;
		}
		if (wk != NULL)
			gpgme_key_unref(wk);
		if (dk != NULL)
			gpgme_key_unref(dk);
		buf_free(&dns[k].data);
		if (local[k] != NULL)
			gpgme_key_unref(local[k]);
		buf_free(&wkd[k].data);
	}
	gpgme_release(uctx);
	gpgme_release(sctx);
	free(local);
	free(wkd);
	free(dns);
	if (unknown)
		return ps_exit_code(PS_TEMPFAIL);
	return ps_exit_code(notfound ? PS_NOUSER : PS_OK);
}
