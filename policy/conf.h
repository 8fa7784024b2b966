/*++
 * NAME
 *	conf 3h
 * SUMMARY
 *	the site configuration file (postseal.conf)
 * DESCRIPTION
 *	config_load() reads an INI-style file: "[section]" lines, "key =
 *	value" lines, '#' comments (at the start of a line or after white
 *	space). The file is opened with secure_open(): it must be owned by
 *	root or the invoking user and not be group- or world-writable.
 *
 *	Every problem is an error reported as "file:line: reason" in why and
 *	returned as PS_CONFIG: an unknown section or key, a bad value, a
 *	duplicate section or key, an overlong line or file. A missing file is
 *	not an error when the caller allows it (the built-in defaults
 *	apply); a file named with -C must exist.
 *
 *	Known sections and keys (more arrive with the policy module):
 *	  [transport] mode = sendmail | smtp
 *	              sendmail = /absolute/path/of/the/real/sendmail
 *	              host, port, tls = starttls | implicit, tls-verify = yes |
 *	              no, ca-file, auth = none | plain | login, user,
 *	              password-command (mode = smtp), timeout = DURATION (how
 *	                 long the MTA may take for one copy, default 5m)
 *	  [keyfetch]  ca-file = /absolute/path (CA bundle for HTTPS lookups)
 *	              connect-to = HOST:PORT:ADDR:PORT (send a host's
 *	                 connections elsewhere; for test set-ups)
 *	              dns-forwarder = ADDR[@PORT] (validating lookups go there)
 *	              trust-anchor = /absolute/path (DNSSEC anchor file)
 *	              keyring = /absolute/path (postseal's keyring, gateway mode)
 *	              vks-server = https://HOST (VKS keyserver, off when unset)
 *	              hkp-server = https://HOST (HKP keyserver, off when unset)
 *	  [queue]     spool = /absolute/path (a system spool, gateway mode)
 *	              max-queue-age = N[s|m|h|d] (default 5d)
 *	  [default], [domain D], [domain *.D], [address A]: the per-recipient
 *	              policy (policy.h)
 *
 *	The user's file (config_load_user()) may hold policy sections only.
 *	With errors set, config_parse() goes on after an error and appends
 *	every "file:line: reason" line to it (for "postseal policy check").
 *--*/
#ifndef PS_CONFIG_H
#define PS_CONFIG_H

#include <limits.h>
#include <stddef.h>

#include "buf.h"
#include "lookup.h"
#include "policy.h"
#include "status.h"

enum transport_mode { TRANSPORT_SENDMAIL, TRANSPORT_SMTP };
enum smtp_tls { SMTP_STARTTLS, SMTP_IMPLICIT };
enum smtp_auth { SMTP_AUTH_NONE, SMTP_AUTH_PLAIN, SMTP_AUTH_LOGIN };

struct ps_config {
	char path[PATH_MAX];	/* the file read, or "" for defaults */
	enum transport_mode mode;
	char sendmail[PATH_MAX]; /* the real MTA's sendmail */
	int sendmail_line;	 /* where it was set, 0 for the default */
	/* [transport] mode = smtp */
	char smtp_host[256];
	int smtp_port;		 /* 0: 587 for starttls, 465 for implicit */
	enum smtp_tls smtp_tls;
	int smtp_tls_verify;	 /* 1 unless "tls-verify = no" */
	char smtp_ca_file[PATH_MAX]; /* "" = the system store */
	enum smtp_auth smtp_auth;
	char smtp_user[256];
	char smtp_password_command[1024];
	/* [keyfetch] */
	char ca_file[PATH_MAX];	   /* CA bundle for WKD/VKS/HKP, "" = system */
	char connect_to[512];	   /* curl CONNECT_TO override (tests) */
	char dns_forwarder[128];   /* "ADDR@PORT", "" = resolv.conf */
	char trust_anchor[PATH_MAX]; /* "" = the root key of dns-root-data */
	char keyring[PATH_MAX];	   /* "" = $XDG_CACHE_HOME/postseal/gnupg */
	char vks_server[256];	   /* "" = VKS off */
	char hkp_server[256];	   /* "" = HKP off */
	/* [queue] */
	char queue_spool[PATH_MAX]; /* "" = per user, under XDG_STATE_HOME */
	long max_queue_age;	    /* seconds */
	long handoff_timeout;	    /* [transport] timeout: seconds the MTA may take */
	long unknown_max_age;	    /* [queue]: how long a lookup is retried */
	long delay_warning;	    /* [queue]: warn the sender after, 0: never */
	char system_spool[PATH_MAX]; /* [queue] system-spool: maildrop/, queue/ */
	int auto_run;		    /* [queue] auto-run: a submission runs its queue */
	/* [default], [domain ...], [address ...] */
	struct pol_file policy;
	struct pol_file user; /* the user's file, when there is one */
	struct buf *errors;   /* NULL, or: collect every error here */
	int user_file;	      /* parsing the user's file */
};

void config_defaults(struct ps_config *cf);
void config_free(struct ps_config *cf);

/* Parse the text of a configuration file; name is used in messages. */
enum ps_status config_parse(struct ps_config *cf, const char *name,
			    const char *text, size_t len, char *why,
			    size_t whylen);

/* Read and parse path into cf as it is (config_load() starts from the
 * defaults); a missing file is fine when missing_ok. */
enum ps_status config_load_into(struct ps_config *cf, const char *path,
				int missing_ok, char *why, size_t whylen);

/* Read and parse path, starting from the defaults; on failure nothing
 * is left to free. */
enum ps_status config_load(struct ps_config *cf, const char *path,
			   int missing_ok, char *why, size_t whylen);

/* The file named with -C (which must exist), or the site file (whose
 * absence means the defaults). */
enum ps_status config_load_site(struct ps_config *cf, const char *cli_path,
				char *why, size_t whylen);

/* The user's file, $XDG_CONFIG_HOME/postseal/postseal.conf (or
 * ~/.config/...), into cf->user; its absence is not an error. */
enum ps_status config_load_user(struct ps_config *cf, char *why, size_t whylen);

/* Site file and user file; on failure nothing is left to free. */
enum ps_status config_load_all(struct ps_config *cf, const char *cli_path,
			       char *why, size_t whylen);

#endif
