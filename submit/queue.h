/*++
 * NAME
 *	queue 3h
 * SUMMARY
 *	the durable queue of copies that could not be handed off yet
 * DESCRIPTION
 *	A copy whose handoff failed temporarily is queued: one file per
 *	copy in the queue directory, holding its envelope (a short text
 *	header) and the copy exactly as it would have been handed off (an
 *	encrypted copy stays encrypted). queue_put() writes it under tmp/,
 *	fsyncs it, renames it into q/ and fsyncs the directory: a crash
 *	leaves either a whole queue file or none in q/ (half-written files
 *	stay in tmp/, are never sent, and are removed after a day).
 *
 *	The directory is [queue] spool from the site file (gateway mode), or
 *	$XDG_STATE_HOME/postseal/queue (~/.local/state/postseal/queue).
 *
 *	queue_run() tries every queued copy whose retry time has come (all
 *	of them when forced, as "postseal -q" does). Each file is locked
 *	(flock) while it is tried, so two runners never hand off one copy
 *	twice. A handed-off copy is removed; a temporary failure schedules
 *	the next try with exponential backoff (5 minutes, doubling, at most
 *	4 hours); a permanent failure, or a copy older than max-queue-age
 *	(default 5 days), is returned to the sender as a delivery status
 *	notification (RFC 3464) through the same handoff, and removed.
 *
 *	queue_list() prints id, age, recipients and the last error, as
 *	mailq does.
 *--*/
#ifndef PS_QUEUE_H
#define PS_QUEUE_H

#include <stddef.h>
#include <stdio.h>

#include "conf.h"
#include "status.h"

/* The kind of a message waiting for its recipients' key lookup (the
 * others are finished copies: "encrypted", "plaintext", "pass-through"). */
#define QUEUE_KIND_LOOKUP "lookup"

struct queue_env {
	const char *sender;   /* the envelope sender, "" for <> */
	int sender_given;     /* -f was given */
	const char *fullname; /* -F, or NULL */
	const char *kind;     /* "encrypted", "plaintext", "pass-through" */
	int tls_required;     /* only over verified TLS */
	const char *const *rcpts;
	size_t nrcpts;
	const unsigned char *blind; /* NULL, or per recipient: a Bcc recipient */
	time_t created;		    /* 0: now; else kept from an older entry */
	long uid;		    /* -1; the submitter's, for a maildrop pickup */
};

/* A queued message handed to a queue_lookup_fn. */
struct queue_msg {
	const char *sender;
	int sender_given;
	const char *fullname;
	const char *const *rcpts;
	const unsigned char *blind;
	size_t n;
	int fd;	   /* the queue file, locked */
	off_t body; /* where the message starts in it */
};

/* Each recipient's fate after a second look at a waiting message. */
enum { QR_DONE, QR_WAIT, QR_PERM };

typedef enum ps_status (*queue_lookup_fn)(const struct ps_config *cf,
					  const struct queue_msg *qm, int *state,
					  char *wait_why, size_t wait_whylen, char *why,
					  size_t whylen);

/* The queue of this process: [queue] spool; else $XDG_STATE_HOME or
 * $HOME's; else, for root, the system queue; else -1 (queue_put() then
 * uses the system maildrop). */
int queue_dir(const struct ps_config *cf, char *out, size_t outlen);

/* SPOOL/queue of [queue] system-spool (configure --with-spool-dir). */
int queue_system_dir(const struct ps_config *cf, char *out, size_t outlen);

/* Create the system spool as it must be (root only): SPOOL 0755,
 * SPOOL/maildrop 1733, SPOOL/queue 0700, all root's. */
enum ps_status queue_system_prepare(const struct ps_config *cf, char *why, size_t whylen);

/* Start a detached runner for this user's own queue when entries in it
 * are due and older than a minute (one runner at a time: a lock).
 * [queue] auto-run = no turns it off. */
struct queue_msg;

void queue_kick(const struct ps_config *cf, queue_lookup_fn lookup);

/* Queue the copy in fd (read from offset 0); id receives its name. */
enum ps_status queue_put(const struct ps_config *cf, const struct queue_env *env,
			 int fd, const char *reason, char *id, size_t idlen,
			 char *why, size_t whylen);

struct queue_stats {
	int delivered, deferred, bounced, skipped, locked;
};

/* lookup: what to do with a message waiting for its key lookup (NULL:
 * such entries are left alone). With system set (root only), the system
 * spool: the maildrop is picked up into the system queue first, which
 * is then run. */
enum ps_status queue_run(const struct ps_config *cf, int force, int system,
			 queue_lookup_fn lookup, struct queue_stats *qs, char *why,
			 size_t whylen);

/* The own queue; for root also the system queue and what waits in the
 * maildrop. */
enum ps_status queue_list(const struct ps_config *cf, FILE *out, char *why,
			  size_t whylen);

/* Backoff after the n-th failed try (n >= 1), in seconds. */
long queue_backoff(int n);

#endif
