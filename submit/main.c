/*++
 * NAME
 *	postseal 8
 * SUMMARY
 *	sendmail-compatible submission agent that encrypts end to end
 * DESCRIPTION
 *	main() is thin: clean the starting state, parse argv, run the
 *	pipeline, map the result to a sysexits(3) code through the one
 *	table in common/status.c.
 *--*/
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bs.h"
#include "cli.h"
#include "conf.h"
#include "handoff.h"
#include "fileio.h"
#include "pslimits.h"
#include "log.h"
#include "policy.h"
#include "queue.h"
#include "status.h"
#include "submit.h"

static void
usage_text(void)
{
	printf("usage: postseal [-t] [-i] [-f sender] [-F name] [-C config] [-v] "
	       "[--] [recipient ...]\n"
	       "       postseal -bp | mailq\n"
	       "Reads a message on standard input and sends it, encrypted with "
	       "OpenPGP to every\nrecipient that has a usable key. See "
	       "postseal(8).\n");
}

/* newaliases: postseal has no aliases of its own; they are the real
 * MTA's, so ask it. */
static int
mta_mode(const struct cli *c, const char *flag)
{
	struct ps_config cf;
	char why[PS_WHY_MAX] = "";
	enum ps_status st;

	st = config_load_site(&cf, c->config, why, sizeof(why));
	if (st == PS_OK) {
		st = handoff_mode(&cf, flag, why, sizeof(why));
		config_free(&cf);
	}
	if (st != PS_OK)
		log_warnx("%s", why);
	return ps_exit_code(st);
}

/* postseal's own queue: list (-bp, mailq, postseal-queue list), run
 * (-q and postseal-queue flush: every copy now; postseal-queue run: the
 * copies whose retry time has come). */
static int
queue_mode(const char *config, int list, int force, int system)
{
	struct ps_config cf;
	struct queue_stats qs;
	char why[PS_WHY_MAX] = "";
	enum ps_status st;

	/* a user's own queue: their policy file counts for the second look
	 * at a key, as it did for the first; the system's: the site's only */
	if (system)
		st = config_load_site(&cf, config, why, sizeof(why));
	else
		st = config_load_all(&cf, config, why, sizeof(why));
	if (st == PS_OK) {
		if (list)
			st = queue_list(&cf, stdout, why, sizeof(why));
		else if ((st = queue_run(&cf, force, system, submit_retry, &qs, why,
					 sizeof(why))) == PS_OK)
			log_info("queue run: %d handed off, %d deferred, %d returned to "
				 "the sender, %d not due, %d being tried by another runner",
				 qs.delivered, qs.deferred, qs.bounced, qs.skipped, qs.locked);
		config_free(&cf);
	}
	if (st != PS_OK)
		log_warnx("%s", why);
	return ps_exit_code(st);
}

static const char *
base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

/* postseal-queue [-C config] [-v] [--system] run|flush|list */
static int
queue_command(int argc, char **argv)
{
	const char *config = NULL;
	int i, system = 0;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-C") == 0 && i + 1 < argc)
			config = argv[++i];
		else if (strcmp(argv[i], "-v") == 0)
			log_set_verbose(1);
		else if (strcmp(argv[i], "--system") == 0)
			system = 1;
		else
			break;
	}
	if (i + 1 != argc)
		goto usage;
	if (system && geteuid() != 0) {
		log_warnx("--system: the system spool is root's");
		return ps_exit_code(PS_NOPERM);
	}
	if (strcmp(argv[i], "run") == 0)
		return queue_mode(config, 0, 0, system);
	if (strcmp(argv[i], "flush") == 0)
		return queue_mode(config, 0, 1, system);
	if (strcmp(argv[i], "list") == 0)
		return queue_mode(config, 1, 0, system);
usage:
	fprintf(stderr, "usage: postseal-queue [-C config] [-v] [--system] run|flush|list\n");
	return ps_exit_code(PS_USAGE);
}

int
main(int argc, char **argv)
{
	struct cli c;
	char why[PS_WHY_MAX] = "";
	enum ps_status st;

	process_sanitize();
	log_init("postseal", 0, 1);
	if (argc > 0 && strcmp(base_name(argv[0]), "postseal-queue") == 0)
		return queue_command(argc, argv);
	/* the admin's tools: "postseal policy check|explain"; a message to
	 * local users named policy and check goes with "postseal -- policy
	 * check" */
	/* only as "postseal": run as sendmail, "policy check" are two local
	 * recipients, and a message on stdin must never be dropped */
	if (argc >= 3 && strcmp(base_name(argv[0]), "postseal") == 0 &&
	    strcmp(argv[1], "policy") == 0 &&
	    (strcmp(argv[2], "check") == 0 || strcmp(argv[2], "explain") == 0))
		return policy_cli(argc - 1, argv + 1);
	if ((st = cli_parse(argc, argv, &c, why, sizeof(why))) != PS_OK) {
		log_warnx("%s (see postseal(8))", why);
		return ps_exit_code(st);
	}
	log_set_verbose(c.verbose);
	for (int i = 0; i < c.nnotes; i++)
		log_info("%s", c.notes[i]);

	switch (c.mode) {
	case MODE_VERSION:
		printf("postseal %s\n", PACKAGE_VERSION);
		return 0;
	case MODE_HELP:
		usage_text();
		return 0;
	case MODE_LIST_QUEUE:
		return queue_mode(c.config, 1, 0, 0);
	case MODE_RUN_QUEUE:
		/* root's -q: its own queue, then the system's */
		if (geteuid() == 0) {
			int r = queue_mode(c.config, 0, 1, 0);
			int rs = queue_mode(c.config, 0, 1, 2);

			return r != 0 ? r : rs;
		}
		return queue_mode(c.config, 0, 1, 0);
	case MODE_NEWALIASES:
		return mta_mode(&c, "-bi");
	case MODE_SMTP:
		return smtp_session(&c);
	case MODE_DELIVER:
		break;
	}
	st = submit_deliver(&c, 0, why, sizeof(why));
	if (st != PS_OK) {
		log_warnx("%s", why[0] ? why : ps_status_name(st));
		return ps_exit_code(st);
	}
	return 0;
}
