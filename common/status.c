#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <sysexits.h>

#include "status.h"

static const struct {
	enum ps_status st;
	int code;
	const char *name;
} status_table[] = {
	{PS_OK, EX_OK, "success"},
	{PS_USAGE, EX_USAGE, "usage error"},
	{PS_DATAERR, EX_DATAERR, "data format error"},
	{PS_NOINPUT, EX_NOINPUT, "cannot open input"},
	{PS_NOUSER, EX_NOUSER, "addressee unknown"},
	{PS_UNAVAILABLE, EX_UNAVAILABLE, "service unavailable"},
	{PS_SOFTWARE, EX_SOFTWARE, "internal software error"},
	{PS_OSERR, EX_OSERR, "system error"},
	{PS_CANTCREAT, EX_CANTCREAT, "cannot create output file"},
	{PS_IOERR, EX_IOERR, "input/output error"},
	{PS_TEMPFAIL, EX_TEMPFAIL, "temporary failure"},
	{PS_NOPERM, EX_NOPERM, "permission denied"},
	{PS_CONFIG, EX_CONFIG, "configuration error"},
	{PS_NOHOST, EX_NOHOST, "host name unknown"},
	{PS_PROTOCOL, EX_PROTOCOL, "remote error in protocol"},
};

#define TABLE_LEN (sizeof(status_table) / sizeof(status_table[0]))

int
ps_exit_code(enum ps_status st)
{
	for (size_t i = 0; i < TABLE_LEN; i++)
		if (status_table[i].st == st)
			return status_table[i].code;
	return EX_TEMPFAIL;
}

enum ps_status
ps_status_from_exit(int code)
{
	/* The MTA's own EX_SOFTWARE or EX_OSERR are its troubles, not a
	 * verdict on the message: the client should retry. */
	if (code == EX_SOFTWARE || code == EX_OSERR || code == EX_IOERR ||
	    code == EX_CANTCREAT)
		return PS_TEMPFAIL;
	for (size_t i = 0; i < TABLE_LEN; i++)
		if (status_table[i].code == code)
			return status_table[i].st;
	return PS_TEMPFAIL;
}

const char *
ps_status_name(enum ps_status st)
{
	for (size_t i = 0; i < TABLE_LEN; i++)
		if (status_table[i].st == st)
			return status_table[i].name;
	return "unknown failure";
}

enum ps_status
ps_fail(enum ps_status st, char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why != NULL && whylen > 0) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return st;
}

int
ps_why(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why != NULL && whylen > 0) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return -1;
}
