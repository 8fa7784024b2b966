/*++
 * NAME
 *	intake 3h
 * SUMMARY
 *	read a submitted message from stdin into a private spool
 * DESCRIPTION
 *	intake_read() reads the whole message before anything else is done
 *	(cron pipes output while its job still runs). The header section is
 *	kept in memory (at most PS_HEADER_MAX); the body is streamed into a
 *	spool file from spool_open(), so memory does not grow with message
 *	size. Line endings are kept as they came; composing normalises them.
 *
 *	Sendmail conventions: without ignore_dots, a line holding a single
 *	"." ends the message. A leading UUCP "From " line is dropped. When
 *	the first line is not a header field the message has no header and
 *	everything is body. As in Postfix, the header ends at the first line
 *	that is neither a field nor a continuation, even without the empty
 *	line; that line is the first of the body.
 *
 *	Errors: PS_DATAERR for a NUL byte anywhere or an oversized header,
 *	PS_CANTCREAT/PS_IOERR/PS_TEMPFAIL for local trouble.
 *--*/
#ifndef PS_INTAKE_H
#define PS_INTAKE_H

#include <sys/types.h>

#include "header.h"
#include "status.h"

struct message {
	struct header hdr;
	int body_fd;	/* spool holding the body, -1 when none */
	off_t body_len;
};

void message_init(struct message *m);
void message_free(struct message *m);

enum ps_status intake_read(int in_fd, int ignore_dots, const char *spool_dir,
			   struct message *m, char *why, size_t whylen);

#endif
