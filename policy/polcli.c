/*++
 * NAME
 *	polcli 3h
 * SUMMARY
 *	postseal policy check | explain: the admin's tools
 * DESCRIPTION
 *	postseal policy check [FILE]
 *		Parse FILE (default: the site file and the invoking user's
 *		file) and print every error as "file:line: reason"; exit 0
 *		or 78 (EX_CONFIG).
 *
 *	postseal policy explain [-C FILE] [--lookup] ADDRESS...
 *		Print, per address, the effective value of every policy key
 *		and the file:line and section that set it. With --lookup,
 *		also run key discovery and print what a real submission
 *		would do with that address alone: encrypted (to which key,
 *		from where), plaintext (and its TLS requirement), refused, or
 *		a temporary failure, and why.
 *--*/
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "conf.h"
#include "discover.h"
#include "log.h"
#include "policy.h"

static int
usage(void)
{
	fprintf(stderr, "usage: postseal policy check [file]\n"
			"       postseal policy explain [-C file] [--lookup] address...\n");
	return ps_exit_code(PS_USAGE);
}

static int
check(int argc, char **argv)
{
	struct ps_config cf;
	struct buf errors;
	char why[PS_WHY_MAX] = "";
	enum ps_status st;
	int n = 0;

	if (argc > 2)
		return usage();
	buf_init(&errors, 1 << 20);
	config_defaults(&cf);
	cf.errors = &errors;
	if (argc == 2)
		st = config_load_into(&cf, argv[1], 0, why, sizeof(why));
	else {
		st = config_load_into(&cf, PS_CONFIG_FILE, 1, why, sizeof(why));
		if (config_load_user(&cf, why, sizeof(why)) != PS_OK)
			st = PS_CONFIG;
	}
	fputs(buf_str(&errors), stdout);
	for (const char *p = buf_str(&errors); (p = strchr(p, '\n')) != NULL; p++)
		n++;
	if (st != PS_OK && n == 0)
		printf("%s\n", why);
	if (st == PS_OK) {
		const char *f = argc == 2 ? argv[1] : PS_CONFIG_FILE;

		printf("%s: no errors (%zu policy section%s)\n", cf.path[0] ? cf.path : f,
		       cf.policy.n, cf.policy.n == 1 ? "" : "s");
		if (cf.user.n > 0)
			printf("%s: no errors (%zu policy section%s)\n", cf.user.path,
			       cf.user.n, cf.user.n == 1 ? "" : "s");
	}
	buf_free(&errors);
	config_free(&cf);
	return ps_exit_code(st == PS_OK ? PS_OK : PS_CONFIG);
}

static void
print_table(const char *addr, const struct pol_effective *pe)
{
	printf("%s\n", addr);
	printf("  %-19s %-28s %s\n", "key", "value", "set by");
	for (int k = 0; k < PK_COUNT; k++) {
		char val[256], origin[PATH_MAX + 128];

		pol_format(pe, (enum pol_key)k, val, sizeof(val));
		pol_origin(pe, (enum pol_key)k, origin, sizeof(origin));
		printf("  %-19s %-28s %s\n", pol_key_name((enum pol_key)k), val, origin);
	}
	if (pe->warn[0] != '\0')
		printf("  warning: %s\n", pe->warn);
}

static int
explain(int argc, char **argv)
{
	const char *conffile = NULL;
	struct ps_config cf;
	struct pol_effective *pe;
	struct disc_result *res = NULL;
	struct disc_sources *ds;
	struct disc_opts o;
	struct discovery d;
	char why[PS_WHY_MAX];
	char **addrs, **look;
	size_t *map, nlook = 0;
	int i, n, lookup = 0;
	enum ps_status st;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else if (strcmp(argv[i], "--lookup") == 0)
			lookup = 1;
		else if (strcmp(argv[i], "-C") == 0 && i + 1 < argc)
			conffile = argv[++i];
		else
			return usage();
	}
	addrs = argv + i;
	n = argc - i;
	if (n == 0)
		return usage();
	for (int k = 0; k < n; k++)
		if (addr_check(addrs[k], strlen(addrs[k]), 0, why, sizeof(why)) < 0) {
			log_warnx("bad address \"%.80s\": %s", addrs[k], why);
			return ps_exit_code(PS_DATAERR);
		}
	if ((st = config_load_all(&cf, conffile, why, sizeof(why))) != PS_OK) {
		log_warnx("%s", why);
		return ps_exit_code(st);
	}
	pe = calloc((size_t)n, sizeof(*pe));
	ds = calloc((size_t)n, sizeof(*ds));
	map = calloc((size_t)n, sizeof(*map));
	res = calloc((size_t)n, sizeof(*res));
	look = calloc((size_t)n, sizeof(*look));
	if (pe == NULL || ds == NULL || map == NULL || res == NULL || look == NULL)
		fatalx("out of memory");
	disc_opts_from_config(&o, &cf);
	o.wkd.timeout_ms = 0;
	for (int k = 0; k < n; k++) {
		pol_resolve(&cf.policy, &cf.user, addrs[k], &pe[k]);
		if (pe[k].v.encrypt == ENC_NEVER)
			continue;
		disc_sources_from_policy(&ds[nlook], &pe[k]);
		if (pe[k].v.lookup_timeout_ms > o.wkd.timeout_ms)
			o.wkd.timeout_ms = pe[k].v.lookup_timeout_ms;
		map[nlook] = (size_t)k;
		look[nlook++] = addrs[k];
	}
	discovery_init(&d);
	discovery_use_config(&d, &cf);
	o.per = ds;
	if (lookup && nlook > 0 &&
	    (st = discover_keys(&d, look, nlook, &o, res, why, sizeof(why))) != PS_OK) {
		log_warnx("%s", why);
		nlook = 0;
		n = 0; /* nothing to print; free and leave */
	}
	for (int k = 0, j = 0; k < n; k++) {
		const struct disc_result *r = NULL;
		struct pol_decision dec;

		if (j < (int)nlook && map[j] == (size_t)k)
			r = &res[j++];
		print_table(addrs[k], &pe[k]);
		if (lookup) {
			/* with encrypt = never nothing is looked up (r NULL) */
			policy_decide(&pe[k], r, &dec);
			policy_apply_transport(&dec, 0);
			if (r != NULL && r->state == DS_KEY)
				printf("  key:                %s from %s\n", r->fpr,
				       lk_source_name(r->src));
			printf("  decision:           %s: %s\n", pol_outcome_name(dec.out),
			       dec.why);
		}
		printf("\n");
	}
	disc_free(res, nlook);
	discovery_close(&d);
	free(res);
	free(pe);
	free(ds);
	free(map);
	free(look);
	config_free(&cf);
	return st == PS_OK ? 0 : ps_exit_code(st);
}

int
policy_cli(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	if (strcmp(argv[1], "check") == 0)
		return check(argc - 1, argv + 1);
	if (strcmp(argv[1], "explain") == 0)
		return explain(argc - 1, argv + 1);
	return usage();
}
