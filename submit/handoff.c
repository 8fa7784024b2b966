#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "handoff.h"
#include "log.h"
#include "smtp.h"
#include "proc.h"

enum ps_status
handoff_check(const struct ps_config *cf, char *why, size_t whylen)
{
	if (cf->mode == TRANSPORT_SMTP)
		return PS_OK; /* the relay is checked by talking to it */
	struct stat mta, self;
	char where[PATH_MAX + 32];

	if (cf->sendmail_line > 0)
		snprintf(where, sizeof(where), "%s:%d", cf->path, cf->sendmail_line);
	else
		snprintf(where, sizeof(where), "the built-in default");

	if (cf->sendmail[0] != '/')
		return ps_fail(PS_CONFIG, why, whylen,
			       "[transport] sendmail must be an absolute path");
	if (stat(cf->sendmail, &mta) < 0)
		return ps_fail(PS_CONFIG, why, whylen,
			       "the real MTA's sendmail %s (from %s): %s",
			       cf->sendmail, where, strerror(errno));
	if (!S_ISREG(mta.st_mode) || access(cf->sendmail, X_OK) < 0)
		return ps_fail(PS_CONFIG, why, whylen,
			       "the real MTA's sendmail %s (from %s) is not an "
			       "executable file",
			       cf->sendmail, where);
	if (stat("/proc/self/exe", &self) == 0 && self.st_dev == mta.st_dev &&
	    self.st_ino == mta.st_ino)
		return ps_fail(PS_CONFIG, why, whylen,
			       "[transport] sendmail = %s is postseal itself; point it "
			       "at the real MTA's sendmail",
			       cf->sendmail);
	return PS_OK;
}

enum ps_status
handoff_sendmail_at(const struct ps_config *cf, const char *sender,
		    int sender_given, const char *fullname, const char *const *rcpts,
		    size_t nrcpts, int fd, off_t offset, char *why, size_t whylen)
{
	char reason[256];
	const char **argv;
	size_t n = 0;
	int code;
	enum ps_status st;

	if ((argv = calloc(nrcpts + 10, sizeof(*argv))) == NULL)
		return ps_fail(PS_TEMPFAIL, why, whylen, "out of memory");
	argv[n++] = cf->sendmail;
	argv[n++] = "-i";
	if (sender_given) {
		argv[n++] = "-f";
		argv[n++] = sender[0] != '\0' ? sender : "<>";
	}
	if (fullname != NULL) {
		argv[n++] = "-F";
		argv[n++] = fullname;
	}
	argv[n++] = "--";
	for (size_t i = 0; i < nrcpts; i++)
		argv[n++] = rcpts[i];
	argv[n] = NULL;
	if (proc_run_fd_at(cf->sendmail, (char *const *)argv, fd, offset, cf->handoff_timeout,
			   &code, reason, sizeof(reason)) < 0) {
		free(argv);
		return ps_fail(PS_TEMPFAIL, why, whylen, "cannot run %s: %s",
			       cf->sendmail, reason);
	}
	free(argv);
	if (code == 0)
		return PS_OK;
	if (code == PROC_TIMED_OUT)
		return ps_fail(PS_TEMPFAIL, why, whylen,
			       "%s did not finish within %lds ([transport] timeout); it was "
			       "stopped", cf->sendmail, cf->handoff_timeout);
	st = ps_status_from_exit(code);
	if (code == 127)
		return ps_fail(PS_TEMPFAIL, why, whylen, "cannot execute %s",
			       cf->sendmail);
	if (code > 128)
		return ps_fail(PS_TEMPFAIL, why, whylen, "%s was killed by signal %d",
			       cf->sendmail, code - 128);
	return ps_fail(st, why, whylen, "%s exited with status %d (%s)",
		       cf->sendmail, code, ps_status_name(st));
}

enum ps_status
handoff_mode(const struct ps_config *cf, const char *flag, char *why,
	     size_t whylen)
{
	char reason[256];
	const char *argv[3] = {cf->sendmail, flag, NULL};
	int code, devnull;
	enum ps_status st;

	if ((st = handoff_check(cf, why, whylen)) != PS_OK)
		return st;
	if ((devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
		return ps_fail(PS_TEMPFAIL, why, whylen, "/dev/null: %s",
			       strerror(errno));
	if (proc_run_fd(cf->sendmail, (char *const *)argv, devnull, cf->handoff_timeout, &code,
			reason, sizeof(reason)) < 0) {
		close(devnull);
		return ps_fail(PS_TEMPFAIL, why, whylen, "cannot run %s: %s",
			       cf->sendmail, reason);
	}
	close(devnull);
	if (code == 0)
		return PS_OK;
	if (code == PROC_TIMED_OUT)
		return ps_fail(PS_TEMPFAIL, why, whylen, "%s %s did not finish within %lds",
			       cf->sendmail, flag, cf->handoff_timeout);
	return ps_fail(ps_status_from_exit(code), why, whylen,
		       "%s %s exited with status %d", cf->sendmail, flag, code);
}

enum ps_status
handoff_copy(const struct ps_config *cf, const char *sender, int sender_given,
	     const char *fullname, const char *const *rcpts, size_t nrcpts, int fd,
	     off_t offset, int tls_required, enum rcpt_state *state, char *why,
	     size_t whylen)
{
	struct smtp_outcome so;
	enum ps_status st;
	size_t ndone = 0, ntemp = 0;
	int *codes;

	if (cf->mode == TRANSPORT_SENDMAIL) {
		st = handoff_sendmail_at(cf, sender, sender_given, fullname, rcpts, nrcpts,
					 fd, offset, why, whylen);
		for (size_t i = 0; i < nrcpts; i++)
			state[i] = st == PS_OK ? RCPT_DONE
				   : st == PS_TEMPFAIL ? RCPT_TEMP
						       : RCPT_PERM;
		return st;
	}
	if ((codes = calloc(nrcpts ? nrcpts : 1, sizeof(*codes))) == NULL)
		return ps_fail(PS_TEMPFAIL, why, whylen, "out of memory");
	so.rcpt_code = codes;
	st = smtp_send(cf, sender, rcpts, nrcpts, fd, offset,
		       tls_required ? SMTP_TLS_REQUIRED : SMTP_TLS_OPPORTUNISTIC, &so, why,
		       whylen);
	for (size_t i = 0; i < nrcpts; i++) {
		if (st == PS_OK && codes[i] >= 200 && codes[i] < 300)
			state[i] = RCPT_DONE;
		else if (codes[i] >= 500 || (codes[i] == 0 && st == PS_UNAVAILABLE))
			state[i] = RCPT_PERM;
		else
			state[i] = RCPT_TEMP;
		ndone += state[i] == RCPT_DONE;
		ntemp += state[i] == RCPT_TEMP;
	}
	if (tls_required && st == PS_OK)
		log_info("%s: sent over verified TLS%s", cf->smtp_host,
			 so.requiretls_offered
				 ? " with REQUIRETLS: every later hop must use TLS too"
				 : " to the first hop; the relay does not offer REQUIRETLS, so "
				   "later hops are its choice");
	if (st == PS_OK && ndone < nrcpts)
		st = ps_fail(ntemp ? PS_TEMPFAIL : PS_UNAVAILABLE, why, whylen,
			     "%s took the copy for %zu of %zu recipients", cf->smtp_host,
			     ndone, nrcpts);
	free(codes);
	return st;
}
