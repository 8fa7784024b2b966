#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <syslog.h>

#include "log.h"

static const char *progname = "postseal";
static int verbosity;
static int syslog_on;

void
log_init(const char *name, int verbose, int use_syslog)
{
	progname = name;
	verbosity = verbose;
	syslog_on = use_syslog;
	if (syslog_on)
		openlog(progname, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void
log_set_verbose(int verbose)
{
	verbosity = verbose;
}

int
log_verbose(void)
{
	return verbosity;
}

const char *
log_progname(void)
{
	return progname;
}

/* Control characters from hostile input never reach the terminal or the
 * log raw: they are shown as '?'. */
static void log_emit(int prio, int to_stderr, const char *fmt, va_list ap,
		     int errnum) __attribute__((format(printf, 3, 0)));

static void
log_emit(int prio, int to_stderr, const char *fmt, va_list ap, int errnum)
{
	char msg[1024];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	for (char *p = msg; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	n = strlen(msg);
	if (errnum != 0)
		snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(errnum));
	if (to_stderr) {
		fprintf(stderr, "%s: %s\n", progname, msg);
		fflush(stderr);
	}
	if (syslog_on)
		syslog(prio, "%s", msg);
}

void
log_warn(const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_WARNING, 1, fmt, ap, e);
	va_end(ap);
	errno = e;
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_WARNING, 1, fmt, ap, 0);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_INFO, verbosity > 0, fmt, ap, 0);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (verbosity < 2)
		return;
	va_start(ap, fmt);
	log_emit(LOG_DEBUG, 1, fmt, ap, 0);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_ERR, 1, fmt, ap, e);
	va_end(ap);
	exit(EX_TEMPFAIL);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_ERR, 1, fmt, ap, 0);
	va_end(ap);
	exit(EX_TEMPFAIL);
}

void
panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_CRIT, 1, fmt, ap, 0);
	va_end(ap);
	abort();
}
