#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"

/* Postfix's sendmail option string: a letter followed by ':' takes an
 * argument. */
static const char optstring[] = "A:B:C:F:GIL:N:O:R:UV:X:b:ce:f:h:imno:p:r:q:tvx";

static void
note(struct cli *c, char opt, const char *arg)
{
	if (c->nnotes >= CLI_NOTES_MAX)
		return;
	if (arg != NULL)
		snprintf(c->notes[c->nnotes++], CLI_NOTE_LEN,
			 "ignoring option -%c %.60s", opt, arg);
	else
		snprintf(c->notes[c->nnotes++], CLI_NOTE_LEN,
			 "ignoring option -%c", opt);
}

static const char *
basename_of(const char *p)
{
	const char *s = strrchr(p, '/');

	return s != NULL ? s + 1 : p;
}

static enum ps_status
opt_b(struct cli *c, const char *arg, char *why, size_t whylen)
{
	if (strcmp(arg, "m") == 0)
		c->mode = MODE_DELIVER;
	else if (strcmp(arg, "p") == 0)
		c->mode = MODE_LIST_QUEUE;
	else if (strcmp(arg, "s") == 0)
		c->mode = MODE_SMTP;
	else if (strcmp(arg, "i") == 0)
		c->mode = MODE_NEWALIASES;
	else if (strcmp(arg, "d") == 0 || strcmp(arg, "D") == 0 ||
		 strcmp(arg, "l") == 0)
		return ps_fail(PS_USAGE, why, whylen,
			       "-b%s: postseal is not a daemon; run your MTA for that",
			       arg);
	else
		return ps_fail(PS_USAGE, why, whylen,
			       "-b%.16s: unsupported mode (supported: -bm, -bp, -bs, "
			       "-bi)",
			       arg);
	return PS_OK;
}

static enum ps_status
opt_o(struct cli *c, const char *arg, char *why, size_t whylen)
{
	(void)why;
	(void)whylen;
	if (strcmp(arg, "i") == 0)
		c->ignore_dots = 1;
	else if (arg[0] == 'e' && arg[1] != '\0' && arg[2] == '\0' &&
		 strchr("mepqw", arg[1]) != NULL)
		c->errmode = arg[1];
	else
		note(c, 'o', arg);
	return PS_OK;
}

static enum ps_status
one_option(struct cli *c, char opt, const char *arg, char *why, size_t whylen)
{
	switch (opt) {
	case 'b':
		return opt_b(c, arg, why, whylen);
	case 'o':
		return opt_o(c, arg, why, whylen);
	case 'C':
		c->config = arg;
		break;
	case 'F':
		c->fullname = arg;
		break;
	case 'f':
	case 'r':
		c->sender = arg;
		break;
	/* DSN requests are recorded but not passed on: the real MTA's
	 * sendmail may read these letters differently (exim's -N means
	 * "do not deliver"). */
	case 'N':
		c->dsn_notify = arg;
		note(c, opt, arg);
		break;
	case 'R':
		c->dsn_ret = arg;
		note(c, opt, arg);
		break;
	case 'V':
		c->envid = arg;
		note(c, opt, arg);
		break;
	case 'I':
		c->mode = MODE_NEWALIASES;
		break;
	case 'i':
		c->ignore_dots = 1;
		break;
	case 't':
		c->extract = 1;
		break;
	case 'v':
		c->verbose++;
		break;
	case 'e':
		if (arg[0] != '\0' && strchr("mepqw", arg[0]) != NULL && arg[1] == '\0')
			c->errmode = arg[0];
		else
			note(c, opt, arg);
		break;
	default:
		note(c, opt, arg);
		break;
	}
	return PS_OK;
}

enum ps_status
cli_parse(int argc, char **argv, struct cli *c, char *why, size_t whylen)
{
	const char *name;
	enum ps_status st;
	int i;

	memset(c, 0, sizeof(*c));
	c->mode = MODE_DELIVER;
	c->errmode = 'p';
	name = argc > 0 && argv[0] != NULL ? basename_of(argv[0]) : "sendmail";
	if (strcmp(name, "mailq") == 0)
		c->mode = MODE_LIST_QUEUE;
	else if (strcmp(name, "newaliases") == 0)
		c->mode = MODE_NEWALIASES;

	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		c->mode = MODE_VERSION;
		return PS_OK;
	}
	if (argc == 2 && strcmp(argv[1], "--help") == 0) {
		c->mode = MODE_HELP;
		return PS_OK;
	}
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (a[0] != '-' || a[1] == '\0')
			break;
		if (a[1] == '-')
			return ps_fail(PS_USAGE, why, whylen,
				       "unknown option %.40s", a);
		for (size_t j = 1; a[j] != '\0'; j++) {
			char opt = a[j];
			const char *spec = strchr(optstring, opt);
			const char *arg = NULL;

			if (opt == ':' || spec == NULL)
				return ps_fail(PS_USAGE, why, whylen,
					       "unknown option -%c", opt);
			if (opt == 'q') {
				/* -q alone runs the queue; -qR.., -qS.. select
				 * part of it; -q<interval> would be a daemon. */
				const char *rest = a + j + 1;

				if (rest[0] >= '0' && rest[0] <= '9')
					return ps_fail(PS_USAGE, why, whylen,
						       "-q%.16s: postseal is not a daemon; "
						       "run \"postseal -q\" from cron",
						       rest);
				c->mode = MODE_RUN_QUEUE;
				break;
			}
			if (spec[1] == ':') {
				if (a[j + 1] != '\0')
					arg = a + j + 1;
				else if (i + 1 < argc)
					arg = argv[++i];
				else
					return ps_fail(PS_USAGE, why, whylen,
						       "option -%c requires an argument",
						       opt);
				st = one_option(c, opt, arg, why, whylen);
				if (st != PS_OK)
					return st;
				break;
			}
			if ((st = one_option(c, opt, NULL, why, whylen)) != PS_OK)
				return st;
		}
	}
	c->rcpts = argv + i;
	c->nrcpts = argc - i;
	return PS_OK;
}
