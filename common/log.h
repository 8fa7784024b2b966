/*++
 * NAME
 *	log 3h
 * SUMMARY
 *	the one logging API: stderr and syslog(LOG_MAIL)
 * DESCRIPTION
 *	log_warn() appends strerror(errno); log_warnx() does not. Both go to
 *	stderr (always) and syslog. log_info() records a decision: syslog
 *	always, stderr only in verbose mode (-v). log_debug() is stderr only,
 *	at verbosity 2 (-v -v). fatal()/fatalx() log and exit EX_TEMPFAIL: an
 *	unexpected failure is never success. panic() is for our own bugs.
 *
 *	Never pass message bodies or key material to these functions.
 *--*/
#ifndef PS_LOG_H
#define PS_LOG_H

#define PS_PRINTF(a, b) __attribute__((format(printf, a, b)))

void log_init(const char *progname, int verbose, int use_syslog);
void log_set_verbose(int verbose);
int log_verbose(void);
const char *log_progname(void);

void log_warn(const char *fmt, ...) PS_PRINTF(1, 2);
void log_warnx(const char *fmt, ...) PS_PRINTF(1, 2);
void log_info(const char *fmt, ...) PS_PRINTF(1, 2);
void log_debug(const char *fmt, ...) PS_PRINTF(1, 2);
void fatal(const char *fmt, ...) PS_PRINTF(1, 2) __attribute__((noreturn));
void fatalx(const char *fmt, ...) PS_PRINTF(1, 2) __attribute__((noreturn));
void panic(const char *fmt, ...) PS_PRINTF(1, 2) __attribute__((noreturn));

#endif
