#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "buf.h"
#include "fileio.h"
#include "keyserver.h"
#include "pslimits.h"

void
config_defaults(struct ps_config *cf)
{
	memset(cf, 0, sizeof(*cf));
	cf->mode = TRANSPORT_SENDMAIL;
	cf->smtp_tls = SMTP_STARTTLS;
	cf->smtp_tls_verify = 1;
	cf->smtp_auth = SMTP_AUTH_NONE;
	snprintf(cf->sendmail, sizeof(cf->sendmail), "%s", PS_REAL_SENDMAIL);
	cf->max_queue_age = 5L * 86400;
	cf->handoff_timeout = 5L * 60;
	cf->unknown_max_age = 5L * 86400;
	cf->delay_warning = 0;
	snprintf(cf->system_spool, sizeof(cf->system_spool), "%s", PS_SPOOL_DIR);
	cf->auto_run = 1;
	pol_file_init(&cf->policy);
	pol_file_init(&cf->user);
}

void
config_free(struct ps_config *cf)
{
	pol_file_free(&cf->policy);
	pol_file_free(&cf->user);
}

enum section { SEC_NONE, SEC_TRANSPORT, SEC_KEYFETCH, SEC_QUEUE, SEC_POLICY, SEC_SKIP };

struct parse_state {
	struct ps_config *cf;
	const char *name;
	size_t lineno;
	enum section sec;
	int seen_transport;
	int seen_keyfetch;
	int seen_queue;
	size_t mode_line, auth_line;
	int nerrors;
	struct pol_file *scratch; /* the keys of a section whose header was bad */
	unsigned seen_keys; /* bit per key in the current section */
	char *why;
	size_t whylen;
};

static enum ps_status perr(struct parse_state *ps, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static enum ps_status
perr(struct parse_state *ps, const char *fmt, ...)
{
	char msg[PS_WHY_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ps->nerrors++ == 0)
		ps_fail(PS_CONFIG, ps->why, ps->whylen, "%s:%zu: %s", ps->name,
			ps->lineno, msg);
	if (ps->cf->errors != NULL)
		buf_printf(ps->cf->errors, "%s:%zu: %s\n", ps->name, ps->lineno, msg);
	return PS_CONFIG;
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static enum ps_status
section_line(struct parse_state *ps, char *line)
{
	char *end = strchr(line, ']');
	char *name;

	if (end == NULL || trim(end + 1)[0] != '\0')
		return perr(ps, "malformed section header");
	*end = '\0';
	name = trim(line + 1);
	if (ps->cf->user_file &&
	    (strcmp(name, "transport") == 0 || strcmp(name, "keyfetch") == 0 ||
	     strcmp(name, "queue") == 0)) {
		ps->sec = SEC_SKIP;
		return perr(ps, "[%s] belongs in the site file, not a user's", name);
	}
	if (strcmp(name, "transport") == 0) {
		if (ps->seen_transport)
			return perr(ps, "duplicate section [%s]", name);
		ps->seen_transport = 1;
		ps->sec = SEC_TRANSPORT;
		ps->seen_keys = 0;
		return PS_OK;
	}
	if (strcmp(name, "queue") == 0 && !ps->cf->user_file) {
		if (ps->seen_queue)
			return perr(ps, "duplicate section [%s]", name);
		ps->seen_queue = 1;
		ps->sec = SEC_QUEUE;
		ps->seen_keys = 0;
		return PS_OK;
	}
	if (strcmp(name, "keyfetch") == 0) {
		if (ps->seen_keyfetch)
			return perr(ps, "duplicate section [%s]", name);
		ps->seen_keyfetch = 1;
		ps->sec = SEC_KEYFETCH;
		ps->seen_keys = 0;
		return PS_OK;
	}
	{
		char reason[PS_WHY_MAX];
		int r = pol_section_start(&ps->cf->policy, name, (int)ps->lineno, reason,
					  sizeof(reason));

		if (r > 0) {
			ps->sec = SEC_POLICY;
			return PS_OK;
		}
		ps->sec = SEC_SKIP;
		pol_file_free(ps->scratch);
		pol_section_start(ps->scratch, "default", 0, reason, sizeof(reason));
		if (r < 0)
			return perr(ps, "%s", reason);
	}
	return perr(ps, "unknown section [%.60s]", name);
}

/* Known key of the section, seen once: PS_OK; else the error. */
static enum ps_status
known_key_once(struct parse_state *ps, const char *const *keys,
	       const char *section, const char *key)
{
	for (size_t k = 0; keys[k] != NULL; k++)
		if (strcmp(key, keys[k]) == 0) {
			if (ps->seen_keys & (1u << k))
				return perr(ps, "duplicate key \"%s\"", key);
			ps->seen_keys |= 1u << k;
			return PS_OK;
		}
	return perr(ps, "unknown key \"%.60s\" in [%s]", key, section);
}

/* "30", "30s", "5m", "12h", "5d": seconds in *out; -1 when it is not a
 * duration from 1 second to max seconds */
static int
parse_duration(const char *val, long max, long *out)
{
	char *end;
	long v, unit = 1;

	errno = 0;
	v = strtol(val, &end, 10);
	if (*end == 's' || *end == 'm' || *end == 'h' || *end == 'd') {
		unit = *end == 's' ? 1 : *end == 'm' ? 60 : *end == 'h' ? 3600 : 86400;
		end++;
	}
	if (errno != 0 || end == val || *end != '\0' || v < 1 || v > max / unit)
		return -1;
	*out = v * unit;
	return 0;
}

static enum ps_status
transport_key(struct parse_state *ps, const char *key, const char *val)
{
	static const char *const keys[] = {"mode",   "sendmail", "host",
					   "port",   "tls",	 "tls-verify",
					   "ca-file", "auth",	 "user",
					   "password-command", "timeout", NULL};
	struct ps_config *cf = ps->cf;
	enum ps_status st;

	if ((st = known_key_once(ps, keys, "transport", key)) != PS_OK)
		return st;
	if (strcmp(key, "mode") == 0) {
		if (strcmp(val, "sendmail") == 0)
			cf->mode = TRANSPORT_SENDMAIL;
		else if (strcmp(val, "smtp") == 0)
			cf->mode = TRANSPORT_SMTP;
		else
			return perr(ps, "bad value \"%.60s\" for mode (sendmail, smtp)", val);
		ps->mode_line = ps->lineno;
	} else if (strcmp(key, "sendmail") == 0) {
		if (val[0] != '/')
			return perr(ps, "sendmail must be an absolute path, not \"%.60s\"",
				    val);
		if (strlen(val) >= sizeof(cf->sendmail))
			return perr(ps, "sendmail path too long");
		snprintf(cf->sendmail, sizeof(cf->sendmail), "%s", val);
		cf->sendmail_line = (int)ps->lineno;
	} else if (strcmp(key, "host") == 0) {
		if (strlen(val) >= sizeof(cf->smtp_host) ||
		    strspn(val, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				"0123456789.-:[]") != strlen(val))
			return perr(ps, "bad host \"%.60s\"", val);
		snprintf(cf->smtp_host, sizeof(cf->smtp_host), "%s", val);
	} else if (strcmp(key, "port") == 0) {
		char *end;
		long v;

		errno = 0;
		v = strtol(val, &end, 10);
		if (errno != 0 || *end != '\0' || v < 1 || v > 65535)
			return perr(ps, "port must be 1 to 65535, not \"%.30s\"", val);
		cf->smtp_port = (int)v;
	} else if (strcmp(key, "tls") == 0) {
		if (strcmp(val, "starttls") == 0)
			cf->smtp_tls = SMTP_STARTTLS;
		else if (strcmp(val, "implicit") == 0)
			cf->smtp_tls = SMTP_IMPLICIT;
		else
			return perr(ps, "bad value \"%.60s\" for tls (starttls, implicit)", val);
	} else if (strcmp(key, "tls-verify") == 0) {
		if (strcmp(val, "yes") == 0)
			cf->smtp_tls_verify = 1;
		else if (strcmp(val, "no") == 0)
			cf->smtp_tls_verify = 0;
		else
			return perr(ps, "bad value \"%.60s\" for tls-verify (yes, no)", val);
	} else if (strcmp(key, "ca-file") == 0) {
		if (val[0] != '/' || strlen(val) >= sizeof(cf->smtp_ca_file))
			return perr(ps, "ca-file must be an absolute path");
		snprintf(cf->smtp_ca_file, sizeof(cf->smtp_ca_file), "%s", val);
	} else if (strcmp(key, "auth") == 0) {
		ps->auth_line = ps->lineno;
		if (strcmp(val, "none") == 0)
			cf->smtp_auth = SMTP_AUTH_NONE;
		else if (strcmp(val, "plain") == 0)
			cf->smtp_auth = SMTP_AUTH_PLAIN;
		else if (strcmp(val, "login") == 0)
			cf->smtp_auth = SMTP_AUTH_LOGIN;
		else
			return perr(ps, "bad value \"%.60s\" for auth (none, plain, login)", val);
	} else if (strcmp(key, "timeout") == 0) {
		if (parse_duration(val, 86400, &cf->handoff_timeout) < 0)
			return perr(ps, "timeout must be a duration such as 5m, 90s, 1h (at "
					"most a day), not \"%.30s\"", val);
	} else if (strcmp(key, "user") == 0) {
		if (strlen(val) >= sizeof(cf->smtp_user))
			return perr(ps, "user too long");
		snprintf(cf->smtp_user, sizeof(cf->smtp_user), "%s", val);
	} else {
		if (val[0] != '/' || strlen(val) >= sizeof(cf->smtp_password_command))
			return perr(ps, "password-command must start with an absolute path "
					"(it is run without a shell)");
		snprintf(cf->smtp_password_command, sizeof(cf->smtp_password_command), "%s",
			 val);
	}
	return PS_OK;
}

static enum ps_status
keyfetch_key(struct parse_state *ps, const char *key, const char *val)
{
	static const char *const keys[] = {"ca-file", "connect-to",
					   "dns-forwarder", "keyring",
					   "trust-anchor", "vks-server",
					   "hkp-server", NULL};
	enum ps_status st;

	if ((st = known_key_once(ps, keys, "keyfetch", key)) != PS_OK)
		return st;
	if (strcmp(key, "ca-file") == 0) {
		if (val[0] != '/' || strlen(val) >= sizeof(ps->cf->ca_file))
			return perr(ps, "ca-file must be an absolute path");
		snprintf(ps->cf->ca_file, sizeof(ps->cf->ca_file), "%s", val);
	} else if (strcmp(key, "keyring") == 0) {
		if (val[0] != '/' || strlen(val) >= sizeof(ps->cf->keyring) ||
		    strchr(val + 1, '/') == NULL)
			return perr(ps, "keyring must be an absolute path below a directory "
					"(its cache is kept next to it)");
		snprintf(ps->cf->keyring, sizeof(ps->cf->keyring), "%s", val);
	} else if (strcmp(key, "trust-anchor") == 0) {
		if (val[0] != '/' || strlen(val) >= sizeof(ps->cf->trust_anchor))
			return perr(ps, "trust-anchor must be an absolute path");
		snprintf(ps->cf->trust_anchor, sizeof(ps->cf->trust_anchor), "%s", val);
	} else if (strcmp(key, "vks-server") == 0 || strcmp(key, "hkp-server") == 0) {
		char *dst = key[0] == 'v' ? ps->cf->vks_server : ps->cf->hkp_server;

		if (strlen(val) >= sizeof(ps->cf->vks_server) || !keyserver_base_ok(val))
			return perr(ps, "%s must be an https URL without a query, not "
					"\"%.60s\"",
				    key, val);
		snprintf(dst, sizeof(ps->cf->vks_server), "%s", val);
	} else if (strcmp(key, "dns-forwarder") == 0) {
		if (strlen(val) >= sizeof(ps->cf->dns_forwarder) ||
		    strspn(val, "0123456789abcdefABCDEF.:@") != strlen(val))
			return perr(ps, "bad value for dns-forwarder (ADDRESS[@PORT])");
		snprintf(ps->cf->dns_forwarder, sizeof(ps->cf->dns_forwarder), "%s",
			 val);
	} else if (strcmp(key, "connect-to") == 0) {
		if (strlen(val) >= sizeof(ps->cf->connect_to) ||
		    strspn(val, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				"0123456789.-:[] ") != strlen(val))
			return perr(ps, "bad value for connect-to (HOST:PORT:ADDR:PORT ...)");
		snprintf(ps->cf->connect_to, sizeof(ps->cf->connect_to), "%s", val);
	}
	return PS_OK;
}

static enum ps_status
queue_key(struct parse_state *ps, const char *key, const char *val)
{
	static const char *const keys[] = {"spool",	      "max-queue-age", "unknown-max-age",
					   "delay-warning", "system-spool", "auto-run",
					   NULL};
	enum ps_status st;

	if ((st = known_key_once(ps, keys, "queue", key)) != PS_OK)
		return st;
	if (strcmp(key, "system-spool") == 0) {
		if (val[0] != '/' || strlen(val) >= sizeof(ps->cf->system_spool))
			return perr(ps, "system-spool must be an absolute path");
		snprintf(ps->cf->system_spool, sizeof(ps->cf->system_spool), "%s", val);
		return PS_OK;
	}
	if (strcmp(key, "auto-run") == 0) {
		if (strcmp(val, "yes") == 0 || strcmp(val, "no") == 0) {
			ps->cf->auto_run = val[0] == 'y';
			return PS_OK;
		}
		return perr(ps, "bad value \"%.30s\" for auto-run (yes, no)", val);
	}
	if (strcmp(key, "spool") == 0) {
		if (val[0] != '/' || strlen(val) >= sizeof(ps->cf->queue_spool))
			return perr(ps, "spool must be an absolute path");
		snprintf(ps->cf->queue_spool, sizeof(ps->cf->queue_spool), "%s", val);
		return PS_OK;
	}
	if (strcmp(key, "delay-warning") == 0 && strcmp(val, "0") == 0) {
		ps->cf->delay_warning = 0;
		return PS_OK;
	}
	if (parse_duration(val, 366L * 86400,
			   strcmp(key, "max-queue-age") == 0     ? &ps->cf->max_queue_age
			   : strcmp(key, "unknown-max-age") == 0 ? &ps->cf->unknown_max_age
								 : &ps->cf->delay_warning) < 0)
		return perr(ps, "%s must be a duration such as 5d, 12h, 30m (at most a year), "
				"not \"%.30s\"", key, val);
	return PS_OK;
}

static enum ps_status
key_line(struct parse_state *ps, char *line)
{
	char *eq = strchr(line, '=');
	char *key, *val;

	if (eq == NULL)
		return perr(ps, "expected \"key = value\"");
	*eq = '\0';
	key = trim(line);
	val = trim(eq + 1);
	if (key[0] == '\0')
		return perr(ps, "missing key before '='");
	if (val[0] == '\0')
		return perr(ps, "missing value for \"%.60s\"", key);
	switch (ps->sec) {
	case SEC_TRANSPORT:
		return transport_key(ps, key, val);
	case SEC_KEYFETCH:
		return keyfetch_key(ps, key, val);
	case SEC_QUEUE:
		return queue_key(ps, key, val);
	case SEC_POLICY: {
		char reason[PS_WHY_MAX];

		if (pol_set(&ps->cf->policy, key, val, (int)ps->lineno, ps->cf->user_file,
			    reason, sizeof(reason)) != PS_OK)
			return perr(ps, "%s", reason);
		return PS_OK;
	}
	case SEC_SKIP: {
		/* the section header was an error; its keys are still checked
		 * (in a scratch section) so that every error is reported */
		char reason[PS_WHY_MAX];

		if (ps->scratch->n == 0)
			return PS_OK; /* [transport] in a user file */
		if (pol_set(ps->scratch, key, val, (int)ps->lineno, ps->cf->user_file,
			    reason, sizeof(reason)) != PS_OK)
			return perr(ps, "%s", reason);
		return PS_OK;
	}
	case SEC_NONE:
	default:
		return perr(ps, "key \"%.60s\" outside of any [section]", key);
	}
}

static enum ps_status parse_text(struct ps_config *cf, const char *name,
				 const char *text, size_t len, char *why,
				 size_t whylen, struct pol_file *scratch);

enum ps_status
config_parse(struct ps_config *cf, const char *name, const char *text,
	     size_t len, char *why, size_t whylen)
{
	struct pol_file scratch;
	enum ps_status st;

	pol_file_init(&scratch);
	st = parse_text(cf, name, text, len, why, whylen, &scratch);
	pol_file_free(&scratch);
	return st;
}

static enum ps_status
parse_text(struct ps_config *cf, const char *name, const char *text, size_t len,
	   char *why, size_t whylen, struct pol_file *scratch)
{
	struct parse_state ps = {.cf = cf, .name = name, .sec = SEC_NONE,
				 .why = why, .whylen = whylen, .scratch = scratch};
	size_t pos = 0;

	if (memchr(text, '\0', len) != NULL)
		return ps_fail(PS_CONFIG, why, whylen, "%s: NUL byte in file", name);
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		char line[PS_CONFIG_LINE_MAX + 1];
		char *s, *hash;
		enum ps_status st;

		ps.lineno++;
		if (n > PS_CONFIG_LINE_MAX)
			return perr(&ps, "line longer than %d bytes", PS_CONFIG_LINE_MAX);
		memcpy(line, text + pos, n);
		line[n] = '\0';
		pos += n + (nl ? 1 : 0);
		s = trim(line);
		if (s[0] == '#' || s[0] == ';' || s[0] == '\0')
			continue;
		/* a comment after white space ends the line */
		for (hash = s + 1; (hash = strchr(hash, '#')) != NULL; hash++)
			if (hash[-1] == ' ' || hash[-1] == '\t') {
				*hash = '\0';
				s = trim(s);
				break;
			}
		if (s[0] == '[')
			st = section_line(&ps, s);
		else
			st = key_line(&ps, s);
		if (st != PS_OK && cf->errors == NULL)
			return st;
	}
	if (ps.nerrors > 0)
		return PS_CONFIG;
	if (cf->mode == TRANSPORT_SMTP && !cf->user_file && cf->smtp_host[0] == '\0' &&
	    ps.seen_transport) {
		ps.lineno = ps.mode_line;
		return perr(&ps, "mode = smtp needs host in [transport]");
	}
	if (cf->smtp_auth != SMTP_AUTH_NONE &&
	    (cf->smtp_user[0] == '\0' || cf->smtp_password_command[0] == '\0')) {
		ps.lineno = ps.auth_line;
		return perr(&ps, "auth needs user and password-command in [transport]");
	}
	/* a password goes only over TLS whose certificate verified */
	if (cf->smtp_auth != SMTP_AUTH_NONE && !cf->smtp_tls_verify) {
		ps.lineno = ps.auth_line;
		return perr(&ps, "auth needs tls-verify = yes: a password never goes over TLS "
				 "that was not verified (set ca-file for a private CA)");
	}
	/* a keyserver source needs its server, wherever that is set */
	{
		char reason[PS_WHY_MAX];
		int line = 0;

		if (pol_check(&cf->policy, cf->vks_server, cf->hkp_server, &line, reason,
			      sizeof(reason)) != PS_OK) {
			ps.lineno = (size_t)line;
			return perr(&ps, "%s", reason);
		}
	}
	return PS_OK;
}

enum ps_status
config_load_into(struct ps_config *cf, const char *path, int missing_ok, char *why,
		 size_t whylen)
{
	char reason[PS_WHY_MAX];
	struct buf text;
	enum ps_status st;
	int fd, missing;

	fd = secure_open(path, &missing, reason, sizeof(reason));
	if (fd < 0) {
		if (missing && missing_ok)
			return PS_OK;
		if (cf->errors != NULL)
			buf_printf(cf->errors, "%s\n", reason);
		return ps_fail(PS_CONFIG, why, whylen, "%s", reason);
	}
	buf_init(&text, PS_CONFIG_MAX);
	for (;;) {
		char chunk[4096];
		ssize_t r = read_some(fd, chunk, sizeof(chunk));

		if (r < 0) {
			st = ps_fail(PS_CONFIG, why, whylen, "%s: %s", path,
				     strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		if (buf_append(&text, chunk, (size_t)r) < 0) {
			st = ps_fail(PS_CONFIG, why, whylen,
				     "%s: larger than %d bytes", path, PS_CONFIG_MAX);
			goto out;
		}
	}
	snprintf(cf->path, sizeof(cf->path), "%s", path);
	snprintf(cf->policy.path, sizeof(cf->policy.path), "%s", path);
	st = config_parse(cf, path, buf_str(&text), text.len, why, whylen);
out:
	buf_free(&text);
	close(fd);
	return st;
}

enum ps_status
config_load(struct ps_config *cf, const char *path, int missing_ok, char *why,
	    size_t whylen)
{
	enum ps_status st;

	config_defaults(cf);
	if ((st = config_load_into(cf, path, missing_ok, why, whylen)) != PS_OK)
		config_free(cf); /* nobody uses half a configuration */
	return st;
}

enum ps_status
config_load_site(struct ps_config *cf, const char *cli_path, char *why,
		 size_t whylen)
{
	if (cli_path != NULL)
		return config_load(cf, cli_path, 0, why, whylen);
	return config_load(cf, PS_CONFIG_FILE, 1, why, whylen);
}

enum ps_status
config_load_user(struct ps_config *cf, char *why, size_t whylen)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = env_home();
	char path[PATH_MAX];
	struct ps_config u;
	enum ps_status st;
	int n;

	if (xdg != NULL && xdg[0] == '/')
		n = snprintf(path, sizeof(path), "%s/postseal/postseal.conf", xdg);
	else if (home != NULL && home[0] == '/')
		n = snprintf(path, sizeof(path), "%s/.config/postseal/postseal.conf", home);
	else
		return PS_OK;
	if (n < 0 || (size_t)n >= sizeof(path))
		return PS_OK;
	config_defaults(&u);
	u.user_file = 1;
	u.errors = cf->errors;
	/* vks/hkp servers are the site's */
	snprintf(u.vks_server, sizeof(u.vks_server), "%s", cf->vks_server);
	snprintf(u.hkp_server, sizeof(u.hkp_server), "%s", cf->hkp_server);
	st = config_load_into(&u, path, 1, why, whylen);
	if (st != PS_OK) {
		config_free(&u);
		return st;
	}
	pol_file_free(&cf->user);
	cf->user = u.policy;
	return PS_OK;
}

enum ps_status
config_load_all(struct ps_config *cf, const char *cli_path, char *why, size_t whylen)
{
	enum ps_status st = config_load_site(cf, cli_path, why, whylen);

	if (st == PS_OK && (st = config_load_user(cf, why, whylen)) != PS_OK)
		config_free(cf);
	return st;
}
