/*++
 * NAME
 *	cli 3h
 * SUMMARY
 *	the sendmail(8) command line, as Postfix's sendmail accepts it
 * DESCRIPTION
 *	cli_parse() understands Postfix's option string
 *	"A:B:C:F:GIL:N:O:R:UV:X:b:ce:f:h:imno:p:r:q:tvx" plus "--". Options
 *	that change nothing for postseal are accepted and recorded in notes[]
 *	so that -v can say they were ignored; none of them is an error.
 *	Parsing stops at the first non-option argument (as Postfix does on
 *	Linux): what follows is recipients, never options.
 *
 *	The result points into argv; nothing is allocated. It is a pure
 *	function: no I/O, no globals (unit-tested against the command lines
 *	of mutt, git send-email, cron, PHP mail(), mailx and s-nail).
 *--*/
#ifndef PS_CLI_H
#define PS_CLI_H

#include <stddef.h>

#include "status.h"

enum cli_mode {
	MODE_DELIVER,	 /* -bm, the default: read a message, send it */
	MODE_LIST_QUEUE, /* -bp, or invoked as mailq */
	MODE_RUN_QUEUE,	 /* -q */
	MODE_NEWALIASES, /* -bi, -I, or invoked as newaliases */
	MODE_SMTP,	 /* -bs */
	MODE_VERSION,	 /* --version */
	MODE_HELP,	 /* --help */
};

#define CLI_NOTES_MAX 16
#define CLI_NOTE_LEN 96

struct cli {
	enum cli_mode mode;
	int extract;	 /* -t */
	int ignore_dots; /* -i, -oi */
	int verbose;	 /* -v, repeatable */
	const char *sender;   /* -f or -r, as given */
	const char *fullname; /* -F */
	const char *config;   /* -C */
	const char *dsn_notify; /* -N */
	const char *dsn_ret;	/* -R */
	const char *envid;	/* -V */
	char errmode;		/* -oe?: m, e, p, q, w; 'p' by default */
	char **rcpts;
	int nrcpts;
	char notes[CLI_NOTES_MAX][CLI_NOTE_LEN];
	int nnotes;
};

enum ps_status cli_parse(int argc, char **argv, struct cli *c, char *why,
			 size_t whylen);

#endif
