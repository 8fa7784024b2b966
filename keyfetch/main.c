/*++
 * NAME
 *	postseal-keyfetch 1
 * SUMMARY
 *	which key postseal would use for an address, and what each source said
 * SYNOPSIS
 *	postseal-keyfetch [-C config] [-v] [--json] [--refresh]
 *		[--flush ADDRESS]... [ADDRESS...]
 * DESCRIPTION
 *	Runs the discovery of a submission (discover.h) for the addresses and
 *	prints, per address, the chosen key, its source and age, and what
 *	each source said. --refresh asks every source again instead of the
 *	cache; without addresses it refreshes every address in the cache
 *	(for cron), with progress on a terminal. --flush forgets the cached
 *	answers and the pin of an address (to accept a changed key).
 *	Exit: 0 when every address has a key, 67 (EX_NOUSER) when some have
 *	none for certain, 75 (EX_TEMPFAIL) when any lookup was inconclusive,
 *	69 (EX_UNAVAILABLE) when a key change was refused. Bad usage is 64,
 *	a bad configuration 78.
 *--*/
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "conf.h"
#include "discover.h"
#include "fileio.h"
#include "log.h"
#include "lookup.h"
#include "policy.h"

#define REFRESH_BATCH 64

static void
usage(void)
{
	fprintf(stderr, "usage: postseal-keyfetch [-C config] [-v] [--json] [--refresh] "
			"[--flush address]... [address...]\n");
}

static void
json_str(const char *s)
{
	putchar('"');
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

static const char *
asked_name(enum disc_asked a)
{
	switch (a) {
	case ASK_OFF:
		return "off";
	case ASK_CACHE:
		return "cache";
	case ASK_NET:
		return "network";
	case ASK_SKIPPED:
		return "skipped";
	}
	return "?";
}

static void
fmt_age(time_t now, time_t then, char *out, size_t outlen)
{
	long d = (long)(now - then);

	if (then == 0)
		snprintf(out, outlen, "-");
	else if (d < 120)
		snprintf(out, outlen, "%lds", d < 0 ? 0 : d);
	else if (d < 7200)
		snprintf(out, outlen, "%ldm", d / 60);
	else if (d < 172800)
		snprintf(out, outlen, "%ldh", d / 3600);
	else
		snprintf(out, outlen, "%ldd", d / 86400);
}

static void
print_text(const char *addr, const struct disc_result *r, time_t now)
{
	char age[32];

	if (r->state == DS_KEY) {
		fmt_age(now, r->src == SRC_LOCAL ? 0 : r->fetched, age, sizeof(age));
		printf("%s %s %s\n", addr, r->fpr, lk_source_name(r->src));
		printf("  age: %s\n", age);
	} else
		printf("%s - %s\n", addr, disc_state_name(r->state));
	printf("  decision: %s\n", r->why);
	if (r->pin.fpr[0] != '\0') {
		fmt_age(now, r->pin.first_seen, age, sizeof(age));
		printf("  pin: %s (%s, %s ago)\n", r->pin.fpr, lk_source_name(r->pin.src),
		       age);
	}
	for (int s = 0; s < SRC_COUNT; s++) {
		const struct lk_answer *a = &r->ans[s];

		if (r->asked[s] == ASK_OFF)
			continue;
		if (r->asked[s] == ASK_SKIPPED) {
			printf("  %s: - (%s)\n", lk_source_name((enum lk_source)s), a->why);
			continue;
		}
		printf("  %s: %s (%s)%s%s\n", lk_source_name((enum lk_source)s),
		       lk_result_name(a->res), a->why, a->url[0] ? " " : "", a->url);
	}
}

static void
print_json(const char *addr, const struct disc_result *r, time_t now, int first)
{
	printf("%s\n  {\"address\": ", first ? "" : ",");
	json_str(addr);
	printf(", \"state\": ");
	json_str(disc_state_name(r->state));
	printf(", \"fingerprint\": ");
	if (r->fpr[0])
		json_str(r->fpr);
	else
		printf("null");
	printf(", \"source\": ");
	if (r->state == DS_KEY)
		json_str(lk_source_name(r->src));
	else
		printf("null");
	if (r->state == DS_KEY && r->src != SRC_LOCAL && r->fetched > 0)
		printf(", \"fetched\": %lld, \"age\": %lld", (long long)r->fetched,
		       (long long)(now - r->fetched));
	printf(", \"decision\": ");
	json_str(r->why);
	printf(", \"pin\": ");
	if (r->pin.fpr[0]) {
		printf("{\"fingerprint\": ");
		json_str(r->pin.fpr);
		printf(", \"source\": ");
		json_str(lk_source_name(r->pin.src));
		printf(", \"first_seen\": %lld}", (long long)r->pin.first_seen);
	} else
		printf("null");
	printf(", \"sources\": {");
	for (int s = 0, any = 0; s < SRC_COUNT; s++) {
		const struct lk_answer *a = &r->ans[s];

		if (r->asked[s] == ASK_OFF)
			continue;
		printf("%s\n    ", any++ ? "," : "");
		json_str(lk_source_name((enum lk_source)s));
		printf(": {\"asked\": ");
		json_str(asked_name(r->asked[s]));
		printf(", \"result\": ");
		if (r->asked[s] == ASK_SKIPPED)
			printf("null");
		else
			json_str(lk_result_name(a->res));
		printf(", \"why\": ");
		json_str(a->why);
		printf(", \"url\": ");
		json_str(a->url);
		printf("}");
	}
	printf("}}");
}

struct addrlist {
	char **v;
	size_t n, alloc;
};

static int
collect(const char *addr, void *arg)
{
	struct addrlist *l = arg;

	if (l->n == l->alloc) {
		size_t na = l->alloc ? 2 * l->alloc : 64;
		char **nv = realloc(l->v, na * sizeof(*nv));

		if (nv == NULL)
			return -1;
		l->v = nv;
		l->alloc = na;
	}
	if ((l->v[l->n] = strdup(addr)) == NULL)
		return -1;
	l->n++;
	return 0;
}

int
main(int argc, char **argv)
{
	const char *conffile = NULL;
	char why[PS_WHY_MAX];
	struct ps_config cf;
	struct discovery d;
	struct disc_opts o;
	struct addrlist all = {0};
	char **addrs, **flush;
	int i, n, nflush = 0, verbose = 0, json = 0, refresh = 0;
	int notfound = 0, unknown = 0, refused = 0, first = 1, progress, rc;
	enum ps_status st;
	time_t now = time(NULL);

	process_sanitize();
	log_init("postseal-keyfetch", 0, 1);
	if ((flush = calloc((size_t)argc, sizeof(*flush))) == NULL)
		fatalx("out of memory");
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else if (strcmp(argv[i], "-v") == 0)
			verbose++;
		else if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (strcmp(argv[i], "--refresh") == 0)
			refresh = 1;
		else if (strcmp(argv[i], "--flush") == 0 && i + 1 < argc)
			flush[nflush++] = argv[++i];
		else if (strcmp(argv[i], "-C") == 0 && i + 1 < argc)
			conffile = argv[++i];
		else {
			usage();
			free(flush);
			return ps_exit_code(PS_USAGE);
		}
	}
	log_set_verbose(verbose);
	addrs = argv + i;
	n = argc - i;
	if (n == 0 && nflush == 0 && !refresh) {
		usage();
		free(flush);
		return ps_exit_code(PS_USAGE);
	}
	for (int k = 0; k < n + nflush; k++) {
		const char *a = k < n ? addrs[k] : flush[k - n];

		if (addr_check(a, strlen(a), 0, why, sizeof(why)) < 0) {
			log_warnx("bad address \"%.80s\": %s", a, why);
			free(flush);
			return ps_exit_code(PS_DATAERR);
		}
	}
	if ((st = config_load_all(&cf, conffile, why, sizeof(why))) != PS_OK) {
		log_warnx("%s", why);
		free(flush);
		return ps_exit_code(st);
	}
	disc_opts_from_config(&o, &cf);
	o.refresh = refresh;
	discovery_init(&d);
	discovery_use_config(&d, &cf);
	if (nflush > 0 || (refresh && n == 0)) {
		if ((st = discovery_open_store(&d, why, sizeof(why))) != PS_OK) {
			log_warnx("%s", why);
			rc = ps_exit_code(st);
			goto done;
		}
	}
	for (int k = 0; k < nflush; k++) {
		if (cache_flush(d.cache, flush[k]) < 0) {
			log_warnx("%s: the cache could not be changed", flush[k]);
			rc = ps_exit_code(PS_TEMPFAIL);
			goto done;
		}
		log_info("%s: cached answers and pin forgotten", flush[k]);
	}
	if (refresh && n == 0) {
		if (cache_each_address(d.cache, collect, &all) < 0) {
			log_warnx("the cache could not be read");
			rc = ps_exit_code(PS_TEMPFAIL);
			goto done;
		}
		addrs = all.v;
		n = (int)all.n;
	}
	progress = refresh && !json && isatty(STDERR_FILENO);
	if (json)
		printf("[");
	for (int off = 0; off < n; off += REFRESH_BATCH) {
		int cnt = n - off < REFRESH_BATCH ? n - off : REFRESH_BATCH;
		struct disc_result *res = calloc((size_t)cnt, sizeof(*res));
		struct disc_sources *ds = calloc((size_t)cnt, sizeof(*ds));

		if (res == NULL || ds == NULL)
			fatalx("out of memory");
		/* each address's sources by its policy; one deadline, the
		 * longest any of them allows */
		o.wkd.timeout_ms = 0;
		for (int k = 0; k < cnt; k++) {
			struct pol_effective pe;

			pol_resolve(&cf.policy, &cf.user, addrs[off + k], &pe);
			if (pe.warn[0] != '\0')
				log_warnx("%s", pe.warn);
			disc_sources_from_policy(&ds[k], &pe);
			if (pe.v.lookup_timeout_ms > o.wkd.timeout_ms)
				o.wkd.timeout_ms = pe.v.lookup_timeout_ms;
		}
		o.per = ds;
		/* the DNS lookups fork a resolver worker (libunbound without
		 * threads): what stdout still buffers would be written by it
		 * too, a second "[" or a second copy of earlier addresses */
		fflush(stdout);
		if (progress)
			fprintf(stderr, "\rrefreshing %d-%d of %d ...", off + 1, off + cnt, n);
		if ((st = discover_keys(&d, addrs + off, (size_t)cnt, &o, res, why,
					sizeof(why))) != PS_OK) {
			if (progress)
				fputc('\n', stderr);
			log_warnx("%s", why);
			disc_free(res, (size_t)cnt);
			free(res);
			free(ds);
			rc = ps_exit_code(st);
			goto done;
		}
		for (int k = 0; k < cnt; k++) {
			const struct disc_result *r = &res[k];

			if (json)
				print_json(addrs[off + k], r, now, first);
			else
				print_text(addrs[off + k], r, now);
			first = 0;
			if (r->key_changed)
				log_warnx("%s: %s", addrs[off + k], r->why);
			switch (r->state) {
			case DS_KEY:
				break;
			case DS_NO_KEY:
				notfound++;
				break;
			case DS_UNKNOWN:
				unknown++;
				break;
			case DS_KEY_CHANGE:
				refused++;
				log_warnx("%s: %s", addrs[off + k], r->why);
				break;
			}
		}
		disc_free(res, (size_t)cnt);
		free(res);
		free(ds);
	}
	if (progress)
		fprintf(stderr, "\rrefreshed %d address%s%20s\n", n, n == 1 ? "" : "es", "");
	if (json)
		printf("\n]\n");
	if (unknown)
		rc = ps_exit_code(PS_TEMPFAIL);
	else if (refused)
		rc = ps_exit_code(PS_UNAVAILABLE);
	else
		rc = ps_exit_code(notfound ? PS_NOUSER : PS_OK);
done:
	discovery_close(&d);
	config_free(&cf);
	for (size_t k = 0; k < all.n; k++)
		free(all.v[k]);
	free(all.v);
	free(flush);
	return rc;
}
