/*++
 * NAME
 *	envelope 3h
 * SUMMARY
 *	who gets the message: argv, -t and the Bcc rules
 * DESCRIPTION
 *	envelope_build() collects the envelope recipients: those on the
 *	command line, plus, with -t, the To, Cc and Bcc header recipients
 *	(Resent-To/-Cc/-Bcc instead when the message carries Resent-
 *	recipient fields). This is Postfix's rule: with -t, command-line
 *	recipients are added, not subtracted.
 *
 *	A recipient is "visible" when it appears in To or Cc (Resent-To or
 *	Resent-Cc). Every other envelope recipient (Bcc, or named only on
 *	the command line) is blind: it gets a copy of its own so that no
 *	other copy reveals it, not even through a key ID.
 *
 *	Duplicates are folded (local part exact, domain without case). More
 *	than PS_RCPT_MAX recipients is PS_DATAERR. A bare local part is
 *	accepted ("root" from cron): the MTA qualifies it.
 *--*/
#ifndef PS_ENVELOPE_H
#define PS_ENVELOPE_H

#include <stddef.h>

#include "cli.h"
#include "header.h"
#include "pslimits.h"
#include "status.h"

struct rcpt {
	char addr[PS_ADDR_MAX + 1];
	int visible;
	char fpr[41]; /* its key's fingerprint once looked up, or "" */
	int src;      /* its source (enum lk_source); SRC_COUNT: postseal's keyring */
	int protect_subject; /* its policy */
	int to_self;	     /* its policy: encrypt-to-self */
	int tls_required;    /* plaintext only over verified TLS */
	int sent;	     /* 1: the MTA accepted its copy, 2: queued */
};

struct rcptlist {
	struct rcpt *v;
	size_t n;
	size_t alloc;
};

void rcptlist_free(struct rcptlist *l);

/* Add addr (deduplicated); -1 when the list is full. */
int rcptlist_add(struct rcptlist *l, const char *addr, int visible);

long rcptlist_find(const struct rcptlist *l, const char *addr);

/* Parse one command-line recipient argument (an addr-spec, <addr-spec>,
 * or an address list such as "Bob <bob@example.org>, carol@example.org")
 * and add each address to l. */
enum ps_status envelope_add_arg(struct rcptlist *l, const char *arg,
				char *why, size_t whylen);

/* A recipient argument, or a -t recipient field, whose recipients
 * cannot be known: no policy can be decided for it, so it is returned to
 * the sender (refuse.h) while the others go on. what and why are
 * printable ASCII (anything else shown as '?'). */
struct undecided {
	char what[PS_ADDR_MAX + 32];
	char why[PS_WHY_MAX];
};

struct undecidedlist {
	struct undecided *v;
	size_t n;
};

void undecided_free(struct undecidedlist *u);

/* The envelope recipients: the arguments, and with -t (extract) the To,
 * Cc and Bcc fields (or their Resent- forms). Other address fields are
 * passed on as they are, parsable or not, as Postfix's sendmail does.
 * An argument or a -t field that does not parse goes to und (and none
 * of its addresses to out); with und NULL it fails the whole message
 * (PS_DATAERR). More than PS_RCPT_MAX recipients fail it either way. */
enum ps_status envelope_build(const struct cli *c, const struct header *h,
			      struct rcptlist *out, struct undecidedlist *und, char *why,
			      size_t whylen);

/* Parse and check the -f sender; "" and "<>" are the null sender. As
 * with Postfix's sendmail, "Name <addr>" gives addr (the first address
 * of an address list). */
enum ps_status envelope_sender(const char *arg, char *out, size_t outlen,
			       char *why, size_t whylen);

#endif
