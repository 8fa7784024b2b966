#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "buf.h"
#include "fileio.h"
#include "handoff.h"
#include "log.h"
#include "pslimits.h"
#include "queue.h"
#include "refuse.h"

#define QUEUE_MAGIC "postseal-queue 1"

/* What the runners learned of an entry: q/.ID.state. */
struct qstate {
	int attempts;
	time_t next;
	int warned; /* delay-warning sent */
	char error[PS_WHY_MAX];
};

static void state_write(const char *dir, const char *id, const struct qstate *q);
static void remove_state(const char *dir, const char *id);

int
queue_dir(const struct ps_config *cf, char *out, size_t outlen)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = env_home();
	int n;

	if (cf->queue_spool[0] != '\0')
		n = snprintf(out, outlen, "%s", cf->queue_spool);
	else if (xdg != NULL && xdg[0] == '/')
		n = snprintf(out, outlen, "%s/postseal/queue", xdg);
	else if (home != NULL && home[0] == '/')
		n = snprintf(out, outlen, "%s/.local/state/postseal/queue", home);
	else if (geteuid() == 0)
		/* root without a home (cron, a service): the system queue */
		return queue_system_dir(cf, out, outlen);
	else
		return -1;
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

int
queue_system_dir(const struct ps_config *cf, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s/queue", cf->system_spool);

	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

static int
fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r;

	if (fd < 0)
		return -1;
	r = fsync(fd);
	close(fd);
	return r;
}

/* The queue's directories under dir exist, are ours and private. */
static enum ps_status
open_queue_at(const char *dir, char *why, size_t whylen)
{
	char sub[PATH_MAX];
	struct stat st;

	for (int i = 0; i < 3; i++) {
		ps_why(sub, sizeof(sub), "%s%s", dir, i == 0 ? "" : i == 1 ? "/tmp" : "/q");
		if (mkdir_private(sub) < 0)
			return ps_fail(PS_TEMPFAIL, why, whylen, "cannot create %s: %s", sub,
				       strerror(errno));
		if (lstat(sub, &st) < 0 || !S_ISDIR(st.st_mode) ||
		    st.st_uid != geteuid() || (st.st_mode & 077) != 0)
			return ps_fail(PS_TEMPFAIL, why, whylen,
				       "%s: not a private directory of yours", sub);
	}
	return PS_OK;
}

static enum ps_status
open_queue(const struct ps_config *cf, char *dir, size_t dirlen, char *why,
	   size_t whylen)
{
	if (queue_dir(cf, dir, dirlen) < 0)
		return ps_fail(PS_TEMPFAIL, why, whylen,
			       "no queue directory: HOME and XDG_STATE_HOME are unset");
	return open_queue_at(dir, why, whylen);
}

static int
copy_rest(int from, int to)
{
	char chunk[PS_IO_CHUNK];
	ssize_t r;

	while ((r = read_some(from, chunk, sizeof(chunk))) > 0)
		if (write_all(to, chunk, (size_t)r) < 0)
			return -1;
	return r < 0 ? -1 : 0;
}

static int
copy_fd(int from, off_t off, int to)
{
	char chunk[PS_IO_CHUNK];
	ssize_t r;

	if (lseek(from, off, SEEK_SET) < 0)
		return -1;
	while ((r = read_some(from, chunk, sizeof(chunk))) > 0)
		if (write_all(to, chunk, (size_t)r) < 0)
			return -1;
	return r < 0 ? -1 : 0;
}

/* The tmp/ file of a queue entry being written: created and locked;
 * a runner removes only tmp/ files it can lock (their writer died). */
static int
open_tmp(const char *tmp)
{
	for (int tries = 0; tries < 3; tries++) {
		struct stat sb;
		int fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

		if (fd < 0)
			return -1;
		if (flock(fd, LOCK_EX) == 0 && fstat(fd, &sb) == 0 && sb.st_nlink > 0)
			return fd;
		/* a runner took it for a dead writer's between open and
		 * lock: make it anew */
		close(fd);
	}
	errno = EAGAIN;
	return -1;
}

/* The envelope of a queue file: a short text header, then the copy. */
static int
envelope(struct buf *h, const struct queue_env *env, const char *reason, time_t now)
{
	char r[PS_WHY_MAX];

	buf_printf(h, "%s\ncreated %lld\nsender %s\nsender-given %d\nkind %s\ntls %s\n",
		   QUEUE_MAGIC, (long long)(env->created ? env->created : now),
		   env->sender ? env->sender : "", env->sender_given, env->kind,
		   env->tls_required ? "required" : "opportunistic");
	if (env->uid >= 0)
		buf_printf(h, "uid %ld\n", env->uid);
	if (env->fullname != NULL)
		buf_printf(h, "fullname %s\n", env->fullname);
	if (reason != NULL && reason[0] != '\0') {
		snprintf(r, sizeof(r), "%s", reason);
		for (char *p = r; *p; p++)
			if (*p == '\n' || *p == '\r')
				*p = ' ';
		buf_printf(h, "reason %s\n", r);
	}
	for (size_t i = 0; i < env->nrcpts; i++)
		buf_printf(h, "%s %s\n", env->blind && env->blind[i] ? "rcpt-blind" : "rcpt",
			   env->rcpts[i]);
	buf_puts(h, "\n");
	return h->failed ? -1 : 0;
}

static enum ps_status
new_id(char *id, size_t idlen, time_t now, char *why, size_t whylen)
{
	unsigned char r[6];

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return ps_fail(PS_TEMPFAIL, why, whylen, "getrandom failed");
	ps_why(id, idlen, "%lld.%02x%02x%02x%02x%02x%02x", (long long)now, r[0], r[1], r[2],
	       r[3], r[4], r[5]);
	return PS_OK;
}

/* Write envelope h and the copy in fd to tmp, synced, then rename it to
 * dst and sync dstdir: whole or not at all. With state, the entry's
 * first state is written (in dir) before the rename. */
static enum ps_status
write_entry(const char *tmp, const char *dst, const char *dstdir, const struct buf *h,
	    int fd, off_t off, const char *dir, const char *id, const struct qstate *state,
	    char *why, size_t whylen)
{
	int out = open_tmp(tmp);

	if (out < 0 || write_all(out, h->data, h->len) < 0 || copy_fd(fd, off, out) < 0 ||
	    fsync(out) < 0) {
		int e = errno;

		if (out >= 0)
			close(out);
		unlink(tmp);
		return ps_fail(PS_TEMPFAIL, why, whylen, "cannot write the queue file %s: %s", tmp,
			       strerror(e));
	}
	crash_point("queue-write");
	if (state != NULL)
		state_write(dir, id, state);
	if (rename(tmp, dst) < 0 || (crash_point("queue-rename"), 0) ||
	    /* the maildrop (1733) cannot be opened to sync it: sync the
	     * file system the entry is on instead */
	    (fsync_dir(dstdir) < 0 && (errno != EACCES || syncfs(out) < 0))) {
		int e = errno;

		close(out);
		unlink(tmp);
		if (state != NULL)
			remove_state(dir, id);
		return ps_fail(PS_TEMPFAIL, why, whylen, "cannot queue %s: %s", id, strerror(e));
	}
	if (close(out) < 0)
		return ps_fail(PS_TEMPFAIL, why, whylen, "cannot queue %s: %s", id,
			       strerror(errno));
	return PS_OK;
}

/* The system maildrop: root's, sticky, writable by all (mode 1733,
 * like Postfix's maildrop without postdrop). 0 when it is that. */
static int
maildrop_ok(const char *dir)
{
	struct stat st;

	return lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == 0 &&
			       (st.st_mode & S_ISVTX) && (st.st_mode & 0777) == 0733
		       ? 0
		       : -1;
}

/* No queue of our own (no usable home): the entry goes to the system
 * maildrop, where the system runner picks it up. The file is ours, mode
 * 0600; the runner takes the owner's uid from the file, not from what
 * it says. */
static enum ps_status
maildrop_put(const struct ps_config *cf, const struct buf *h, int fd, const char *id,
	     const char *own_why, char *why, size_t whylen)
{
	char md[PATH_MAX], tmp[PATH_MAX], dst[PATH_MAX];

	ps_why(md, sizeof(md), "%s/maildrop", cf->system_spool);
	if (maildrop_ok(md) < 0)
		return ps_fail(PS_TEMPFAIL, why, whylen,
			       "%s; and the system maildrop %s is missing or not mode 1733 "
			       "owned by root (make install creates it)", own_why, md);
	ps_why(tmp, sizeof(tmp), "%s/.%s.tmp", md, id);
	ps_why(dst, sizeof(dst), "%s/%s", md, id);
	return write_entry(tmp, dst, md, h, fd, 0, NULL, id, NULL, why, whylen);
}

/* A new entry's id and envelope (h, to be freed by the caller). */
static enum ps_status
entry_start(const struct queue_env *env, const char *reason, char *id, size_t idlen,
	    struct buf *h, char *why, size_t whylen)
{
	time_t now = time(NULL);
	enum ps_status st;

	buf_init(h, 64 * 1024 + (size_t)PS_RCPT_MAX * (PS_ADDR_MAX + 16));
	if ((st = new_id(id, idlen, now, why, whylen)) != PS_OK)
		return st;
	if (envelope(h, env, reason, now) < 0)
		return ps_fail(PS_TEMPFAIL, why, whylen, "queue envelope too large");
	return PS_OK;
}

/* The entry (envelope h) into the queue at dir (open_queue_at() done),
 * the copy read from fd at off. It is due at once: a runner started right
 * now (the system's, woken by the maildrop) may find the key; the
 * detached runner of a submission leaves entries younger than a minute
 * alone. */
static enum ps_status
queue_put_at(const char *dir, int fd, off_t off, const char *reason, const struct buf *h,
	     const char *id, char *why, size_t whylen)
{
	char tmp[PATH_MAX], dst[PATH_MAX], qd[PATH_MAX];
	struct qstate qs = {0, 0, 0, ""};

	ps_why(tmp, sizeof(tmp), "%s/tmp/%s", dir, id);
	ps_why(dst, sizeof(dst), "%s/q/%s", dir, id);
	ps_why(qd, sizeof(qd), "%s/q", dir);
	if (reason != NULL)
		snprintf(qs.error, sizeof(qs.error), "%s", reason);
	return write_entry(tmp, dst, qd, h, fd, off, dir, id, &qs, why, whylen);
}

enum ps_status
queue_put(const struct ps_config *cf, const struct queue_env *env, int fd,
	  const char *reason, char *id, size_t idlen, char *why, size_t whylen)
{
	char dir[PATH_MAX], own[PS_WHY_MAX];
	struct buf h;
	enum ps_status st;

	if ((st = entry_start(env, reason, id, idlen, &h, why, whylen)) != PS_OK) {
		buf_free(&h);
		return st;
	}
	if (open_queue(cf, dir, sizeof(dir), own, sizeof(own)) != PS_OK) {
		/* cron under systemd, www-data, nobody: the system's */
		if (cf->queue_spool[0] == '\0' && geteuid() != 0) {
			st = maildrop_put(cf, &h, fd, id, own, why, whylen);
			if (st == PS_OK)
				log_debug("%s; queued in the system maildrop", own);
		} else
			st = ps_fail(PS_TEMPFAIL, why, whylen, "%s", own);
	} else
		st = queue_put_at(dir, fd, 0, reason, &h, id, why, whylen);
	buf_free(&h);
	return st;
}

long
queue_backoff(int n)
{
	long s = 300;

	for (int i = 1; i < n && s < 4 * 3600; i++)
		s *= 2;
	return s > 4 * 3600 ? 4 * 3600 : s;
}

struct qfile {
	time_t created;
	long uid; /* -1, or the submitter's (maildrop pickup) */
	char reason[PS_WHY_MAX];
	char sender[PS_ADDR_MAX + 1];
	int sender_given;
	char fullname[PS_FULLNAME_MAX + 1];
	int has_fullname;
	char kind[32];
	int tls_required;
	char **rcpts;
	unsigned char *blind;
	size_t n;
	off_t body;
	struct qstate st;
};

static void
qfile_free(struct qfile *q)
{
	for (size_t i = 0; i < q->n; i++)
		free(q->rcpts[i]);
	free(q->rcpts);
	free(q->blind);
	memset(q, 0, sizeof(*q));
}

/* Parse the envelope of an open queue file. -1 when it is not one. */
static int
qfile_read(int fd, struct qfile *q)
{
	char line[PS_WHY_MAX + 64];
	size_t len = 0, lines = 0;
	off_t pos = 0;
	char c;

	memset(q, 0, sizeof(*q));
	q->uid = -1;
	if (lseek(fd, 0, SEEK_SET) < 0)
		return -1;
	for (;;) {
		ssize_t r = read(fd, &c, 1);

		if (r <= 0)
			return -1;
		pos++;
		if (c != '\n') {
			if (len + 1 >= sizeof(line))
				return -1;
			line[len++] = c;
			continue;
		}
		line[len] = '\0';
		if (lines++ == 0) {
			if (strcmp(line, QUEUE_MAGIC) != 0)
				return -1;
		} else if (len == 0) {
			break;
		} else if (strncmp(line, "created ", 8) == 0) {
			q->created = (time_t)strtoll(line + 8, NULL, 10);
		} else if (strncmp(line, "uid ", 4) == 0) {
			q->uid = strtol(line + 4, NULL, 10);
		} else if (strncmp(line, "reason ", 7) == 0) {
			ps_why(q->reason, sizeof(q->reason), "%s", line + 7);
		} else if (strncmp(line, "sender ", 7) == 0) {
			ps_why(q->sender, sizeof(q->sender), "%s", line + 7);
		} else if (strncmp(line, "sender-given ", 13) == 0) {
			q->sender_given = line[13] == '1';
		} else if (strncmp(line, "fullname ", 9) == 0) {
			ps_why(q->fullname, sizeof(q->fullname), "%s", line + 9);
			q->has_fullname = 1;
		} else if (strncmp(line, "tls ", 4) == 0) {
			q->tls_required = strcmp(line + 4, "opportunistic") != 0;
		} else if (strncmp(line, "kind ", 5) == 0) {
			ps_why(q->kind, sizeof(q->kind), "%s", line + 5);
		} else if (strncmp(line, "rcpt ", 5) == 0 || strncmp(line, "rcpt-blind ", 11) == 0) {
			int blind = line[4] == '-';
			const char *a = line + (blind ? 11 : 5);
			unsigned char *nb;
			char **nv;

			if (q->n >= PS_RCPT_MAX || addr_check(a, strlen(a), ADDR_LOCAL_OK, NULL, 0) < 0 ||
			    (nv = realloc(q->rcpts, (q->n + 1) * sizeof(*nv))) == NULL)
				return -1;
			q->rcpts = nv;
			if ((nb = realloc(q->blind, q->n + 1)) == NULL)
				return -1;
			q->blind = nb;
			q->blind[q->n] = (unsigned char)blind;
			if ((q->rcpts[q->n] = strdup(a)) == NULL)
				return -1;
			q->n++;
		}
		len = 0;
	}
	q->body = pos;
	return q->n > 0 ? 0 : -1;
}

static void
state_path(const char *dir, const char *id, char *out, size_t outlen)
{
	ps_why(out, outlen, "%s/q/.%s.state", dir, id);
}

static void
state_read(const char *dir, const char *id, struct qstate *q)
{
	char path[PATH_MAX], line[PS_WHY_MAX + 16];
	FILE *f;

	state_path(dir, id, path, sizeof(path));
	if ((f = fopen(path, "re")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "attempts ", 9) == 0)
			q->attempts = (int)strtol(line + 9, NULL, 10);
		else if (strncmp(line, "next ", 5) == 0)
			q->next = (time_t)strtoll(line + 5, NULL, 10);
		else if (strncmp(line, "warned ", 7) == 0)
			q->warned = line[7] == '1';
		else if (strncmp(line, "error ", 6) == 0)
			ps_why(q->error, sizeof(q->error), "%s", line + 6);
	}
	fclose(f);
}

static void
state_write(const char *dir, const char *id, const struct qstate *q)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8], error[PS_WHY_MAX];
	FILE *f;

	/* one line each */
	snprintf(error, sizeof(error), "%s", q->error);
	for (char *p = error; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	state_path(dir, id, path, sizeof(path));
	ps_why(tmp, sizeof(tmp), "%s.tmp", path);
	if ((f = fopen(tmp, "we")) == NULL)
		return;
	fprintf(f, "attempts %d\nnext %lld\nwarned %d\nerror %s\n", q->attempts,
		(long long)q->next, q->warned, error);
	if (fclose(f) == 0)
		rename(tmp, path);
	else
		unlink(tmp);
}

static void
remove_state(const char *dir, const char *id)
{
	char path[PATH_MAX];

	state_path(dir, id, path, sizeof(path));
	unlink(path);
}

static void
remove_entry(const char *dir, const char *id)
{
	char path[PATH_MAX], qd[PATH_MAX];

	ps_why(path, sizeof(path), "%s/q/%s", dir, id);
	unlink(path);
	state_path(dir, id, path, sizeof(path));
	unlink(path);
	ps_why(qd, sizeof(qd), "%s/q", dir);
	fsync_dir(qd);
}

/* A delivery status notification to the sender (RFC 3464), with the
 * copy's header (for an encrypted copy: the outer one, which holds
 * nothing the encryption protects). */
static enum ps_status
dsn(const struct ps_config *cf, int fd, const struct qfile *q, const char *id,
    const char *reason, int delayed, char *why, size_t whylen)
{
	char host[256], date[64], boundary[64], rbuf[PS_IO_CHUNK];
	const char *rcpt[1] = {q->sender};
	struct buf b;
	enum ps_status st;
	int out;
	ssize_t r;
	int in_header = 1, nl = 0;

	if (q->sender[0] == '\0' || !q->sender_given) {
		log_warnx("queue %s: %s; no sender to return it to, removed", id, reason);
		return PS_OK;
	}
	notice_stamp(host, sizeof(host), date, sizeof(date));
	ps_why(boundary, sizeof(boundary), "postseal-dsn-%s", id);
	buf_init(&b, 128 * 1024);
	buf_printf(&b,
		   "From: Mail Delivery System <MAILER-DAEMON@%s>\n"
		   "To: %s\n"
		   "Subject: %s\n"
		   "Date: %s\n"
		   "Auto-Submitted: auto-replied\n"
		   "MIME-Version: 1.0\n"
		   "Content-Type: multipart/report; report-type=delivery-status;\n"
		   " boundary=\"%s\"\n\n"
		   "--%s\nContent-Type: text/plain; charset=us-ascii\n\n"
		   "postseal on %s %s a message of yours (queue id %s).\n"
		   "Reason: %s\n\nRecipients:\n",
		   host, q->sender,
		   delayed ? "Delayed Mail (still being retried)"
			   : "Undelivered Mail Returned to Sender",
		   date, boundary, boundary, host,
		   delayed ? "has not yet sent" : "could not hand off", id, reason);
	for (size_t i = 0; i < q->n; i++)
		buf_printf(&b, "  %s\n", q->rcpts[i]);
	buf_printf(&b, "\n--%s\nContent-Type: message/delivery-status\n\n"
		       "Reporting-MTA: dns; %s\nArrival-Date: %s\n",
		   boundary, host, date);
	for (size_t i = 0; i < q->n; i++)
		buf_printf(&b, "\nFinal-Recipient: rfc822; %s\nAction: %s\nStatus: %s\n"
			       "Diagnostic-Code: x-postseal; %s\n",
			   q->rcpts[i], delayed ? "delayed" : "failed", delayed ? "4.0.0" : "5.0.0",
			   reason);
	buf_printf(&b, "\n--%s\nContent-Type: text/rfc822-headers\n\n", boundary);
	/* the copy's header section */
	if (lseek(fd, q->body, SEEK_SET) >= 0) {
		while (in_header && (r = read_some(fd, rbuf, sizeof(rbuf))) > 0) {
			for (ssize_t k = 0; k < r && in_header; k++) {
				if (rbuf[k] == '\r')
					continue;
				if (rbuf[k] == '\n' && nl) {
					in_header = 0;
					break;
				}
				nl = rbuf[k] == '\n';
				buf_putc(&b, rbuf[k]);
			}
		}
	}
	buf_printf(&b, "\n--%s--\n", boundary);
	if (b.failed) {
		buf_free(&b);
		return ps_fail(PS_TEMPFAIL, why, whylen, "bounce too large");
	}
	if ((out = spool_open(spool_dir_default(), why, whylen)) < 0) {
		buf_free(&b);
		return PS_TEMPFAIL;
	}
	if (write_all(out, b.data, b.len) < 0) {
		buf_free(&b);
		close(out);
		return ps_fail(PS_TEMPFAIL, why, whylen, "writing the bounce: %s",
			       strerror(errno));
	}
	buf_free(&b);
	/* from the null sender: a bounce is never bounced */
	{
		enum rcpt_state bs;

		st = handoff_copy(cf, "", 1, NULL, rcpt, 1, out, 0, 0, &bs, why, whylen);
	}
	close(out);
	if (st == PS_OK)
		log_info("queue %s: %s %s: %s", id, delayed ? "delay warning sent to" : "returned to",
			 q->sender, reason);
	return st;
}

static enum ps_status
bounce(const struct ps_config *cf, int fd, const struct qfile *q, const char *id,
       const char *reason, char *why, size_t whylen)
{
	return dsn(cf, fd, q, id, reason, 0, why, whylen);
}

/* A new queue file for the recipients still to try, with the same
 * copy (read from the old file after its envelope). */
static int
requeue(const struct ps_config *cf, int fd, const struct qfile *q,
	const char *const *rcpts, const unsigned char *blind, size_t n, const char *reason)
{
	struct queue_env env = {q->sender, q->sender_given,
				q->has_fullname ? q->fullname : NULL, q->kind,
				q->tls_required, rcpts, n, blind, q->created, q->uid};
	char id[64], why[PS_WHY_MAX];
	int body;

	if ((body = spool_open(spool_dir_default(), why, sizeof(why))) < 0)
		return -1;
	if (lseek(fd, q->body, SEEK_SET) < 0 || copy_rest(fd, body) < 0 ||
	    queue_put(cf, &env, body, reason, id, sizeof(id), why, sizeof(why)) != PS_OK) {
		close(body);
		return -1;
	}
	close(body);
	log_info("requeued as %s for %zu recipient%s", id, n, n == 1 ? "" : "s");
	return 0;
}

/* A message waiting for its recipients' key lookup: look again
 * (lookup()), send what is decided, return what was refused, keep what
 * is still undecided until unknown-max-age, then return it too, never
 * sending it in plaintext. */
static void
try_lookup(const struct ps_config *cf, const char *dir, const char *id, int fd,
	   struct qfile *q, int force, queue_lookup_fn lookup, struct queue_stats *qs)
{
	struct queue_msg qm = {q->sender, q->sender_given, q->has_fullname ? q->fullname : NULL,
			       (const char *const *)q->rcpts, q->blind, q->n, fd, q->body};
	char wait_why[PS_WHY_MAX], why[PS_WHY_MAX], reason[PS_WHY_MAX], bwhy[PS_WHY_MAX];
	time_t now = time(NULL);
	size_t nw = 0, np = 0, nd = 0;
	int *state = NULL;
	enum ps_status st;

	if (lookup == NULL) {
		qs->skipped++;
		return;
	}
	if (now - q->created > cf->unknown_max_age) {
		struct qfile all = *q;

		ps_why(reason, sizeof(reason),
		       "the recipient's key lookup was still inconclusive after %ld day%s (%s); "
		       "the message was not sent in plaintext",
		       cf->unknown_max_age / 86400, cf->unknown_max_age / 86400 == 1 ? "" : "s",
		       q->st.error[0] ? q->st.error : "no answer");
		if (cf->unknown_max_age < 86400)
			ps_why(reason, sizeof(reason),
			       "the recipient's key lookup was still inconclusive after %ld s (%s); "
			       "the message was not sent in plaintext",
			       cf->unknown_max_age, q->st.error[0] ? q->st.error : "no answer");
		if (bounce(cf, fd, &all, id, reason, bwhy, sizeof(bwhy)) == PS_OK) {
			remove_entry(dir, id);
			qs->bounced++;
		} else {
			log_warnx("queue %s: bounce failed: %s", id, bwhy);
			qs->deferred++;
		}
		return;
	}
	if (!force && q->st.next > now) {
		qs->skipped++;
		return;
	}
	if ((state = calloc(q->n, sizeof(*state))) == NULL) {
		qs->deferred++;
		return;
	}
	st = lookup(cf, &qm, state, wait_why, sizeof(wait_why), why, sizeof(why));
	/* a crash here: the entry stays and is tried again (a second copy
	 * at worst, never none) */
	crash_point("lookup-retry");
	for (size_t i = 0; i < q->n; i++) {
		nw += state[i] == QR_WAIT;
		np += state[i] == QR_PERM;
		nd += state[i] == QR_DONE;
	}
	if (np > 0) {
		struct qfile part = *q;
		char **pr = calloc(q->n, sizeof(*pr));

		part.n = 0;
		for (size_t i = 0; pr != NULL && i < q->n; i++)
			if (state[i] == QR_PERM)
				pr[part.n++] = q->rcpts[i];
		part.rcpts = pr;
		if (pr == NULL || bounce(cf, fd, &part, id, why, bwhy, sizeof(bwhy)) != PS_OK)
			log_warnx("queue %s: bounce failed: %s", id, pr ? bwhy : "out of memory");
		free(pr);
		qs->bounced++;
	}
	if (nw == q->n) {
		/* nothing decided: the same entry, later */
		q->st.attempts++;
		q->st.next = now + queue_backoff(q->st.attempts);
		snprintf(q->st.error, sizeof(q->st.error), "%s",
			 wait_why[0] ? wait_why : st != PS_OK ? why : "inconclusive");
		if (cf->delay_warning > 0 && !q->st.warned && now - q->created >= cf->delay_warning) {
			ps_why(reason, sizeof(reason),
			       "the recipient's key lookup is inconclusive (%s); it is retried for "
			       "up to %ld s in all, and the message is not sent in plaintext meanwhile",
			       q->st.error, cf->unknown_max_age);
			if (dsn(cf, fd, q, id, reason, 1, bwhy, sizeof(bwhy)) == PS_OK)
				q->st.warned = 1;
		}
		state_write(dir, id, &q->st);
		log_info("queue %s: key lookup still inconclusive (%s), next try in %ld s", id,
			 q->st.error, (long)(q->st.next - now));
		qs->deferred++;
		free(state);
		return;
	}
	if (nw > 0) {
		char **left = calloc(q->n, sizeof(*left));
		unsigned char *lb = calloc(q->n, 1);
		size_t nl = 0;

		for (size_t i = 0; left != NULL && lb != NULL && i < q->n; i++)
			if (state[i] == QR_WAIT) {
				lb[nl] = q->blind[i];
				left[nl++] = q->rcpts[i];
			}
		if (left == NULL || lb == NULL ||
		    requeue(cf, fd, q, (const char *const *)left, lb, nl,
			    wait_why[0] ? wait_why : why) < 0) {
			/* kept whole: the done ones may get a second copy,
			 * which is better than none */
			log_warnx("queue %s: could not requeue the recipients still waiting; "
				  "kept as it is", id);
			free(left);
			free(lb);
			free(state);
			qs->deferred++;
			return;
		}
		free(left);
		free(lb);
		qs->deferred++;
	}
	remove_entry(dir, id);
	if (nd > 0) {
		qs->delivered++;
		log_info("queue %s: key lookup done for %zu recipient%s", id, nd, nd == 1 ? "" : "s");
	}
	free(state);
}

/* Try one queued copy; the caller holds its lock. */
static void
try_one(const struct ps_config *cf, const char *dir, const char *id, int fd,
	int force, queue_lookup_fn lookup, struct queue_stats *qs)
{
	struct qfile q;
	char reason[PS_WHY_MAX], bwhy[PS_WHY_MAX];
	time_t now = time(NULL);
	enum rcpt_state *state = NULL;
	size_t ndone = 0, ntemp = 0, nperm = 0;

	if (qfile_read(fd, &q) < 0) {
		log_warnx("queue %s: not a queue file; left alone", id);
		qfile_free(&q);
		qs->skipped++;
		return;
	}
	state_read(dir, id, &q.st);
	if (strcmp(q.kind, QUEUE_KIND_LOOKUP) == 0) {
		try_lookup(cf, dir, id, fd, &q, force, lookup, qs);
		qfile_free(&q);
		return;
	}
	if (now - q.created > cf->max_queue_age) {
		ps_why(reason, sizeof(reason), "still undeliverable after %ld days: %s",
			 cf->max_queue_age / 86400, q.st.error[0] ? q.st.error : "temporary failure");
		if (bounce(cf, fd, &q, id, reason, bwhy, sizeof(bwhy)) == PS_OK) {
			remove_entry(dir, id);
			qs->bounced++;
		} else {
			log_warnx("queue %s: bounce failed: %s", id, bwhy);
			qs->deferred++;
		}
		qfile_free(&q);
		return;
	}
	if (!force && q.st.next > now) {
		qs->skipped++;
		qfile_free(&q);
		return;
	}
	state = calloc(q.n, sizeof(*state));
	if (state == NULL) {
		qs->deferred++;
		qfile_free(&q);
		return;
	}
	(void)handoff_copy(cf, q.sender, q.sender_given, q.has_fullname ? q.fullname : NULL,
			   (const char *const *)q.rcpts, q.n, fd, q.body, q.tls_required, state,
			   reason, sizeof(reason));
	for (size_t i = 0; i < q.n; i++) {
		ndone += state[i] == RCPT_DONE;
		ntemp += state[i] == RCPT_TEMP;
		nperm += state[i] == RCPT_PERM;
	}
	if (ndone == q.n) {
		remove_entry(dir, id);
		log_info("queue %s: %s copy for %zu recipient%s handed off", id, q.kind, q.n,
			 q.n == 1 ? "" : "s");
		qs->delivered++;
	} else if (ntemp == q.n) {
		q.st.attempts++;
		q.st.next = now + queue_backoff(q.st.attempts);
		snprintf(q.st.error, sizeof(q.st.error), "%s", reason);
		state_write(dir, id, &q.st);
		log_info("queue %s: deferred (%s), next try in %ld s", id, reason,
			 (long)(q.st.next - now));
		qs->deferred++;
	} else {
		/* some taken, some refused for good, some to try again: the
		 * refused go back to the sender, the rest stay queued */
		struct qfile part = q;
		char **left = calloc(q.n, sizeof(*left));
		size_t nl = 0;

		if (left == NULL) {
			qs->deferred++;
			goto out;
		}
		if (nperm > 0) {
			char **pr = calloc(q.n, sizeof(*pr));
			size_t np = 0;

			for (size_t i = 0; pr != NULL && i < q.n; i++)
				if (state[i] == RCPT_PERM)
					pr[np++] = q.rcpts[i];
			part.rcpts = pr;
			part.n = np;
			if (pr == NULL ||
			    bounce(cf, fd, &part, id, reason, bwhy, sizeof(bwhy)) != PS_OK)
				log_warnx("queue %s: bounce failed: %s", id, bwhy);
			free(pr);
			qs->bounced++;
		}
		for (size_t i = 0; i < q.n; i++)
			if (state[i] == RCPT_TEMP)
				left[nl++] = q.rcpts[i];
		if (nl > 0 && requeue(cf, fd, &q, (const char *const *)left, NULL, nl, reason) < 0) {
			log_warnx("queue %s: could not requeue the remaining recipients; kept "
				  "as it is", id);
			free(left);
			qs->deferred++;
			goto out;
		}
		free(left);
		remove_entry(dir, id);
		if (ndone > 0)
			qs->delivered++;
		if (nl > 0)
			qs->deferred++;
	}
out:
	free(state);
	qfile_free(&q);
}

static int
is_id(const char *name)
{
	return name[0] != '.' && strspn(name, "0123456789abcdef.") == strlen(name) &&
	       strlen(name) < 64;
}

enum ps_status
queue_system_prepare(const struct ps_config *cf, char *why, size_t whylen)
{
	char md[PATH_MAX], qd[PATH_MAX];
	struct stat st;

	if (geteuid() != 0)
		return ps_fail(PS_NOPERM, why, whylen, "the system spool is root's");
	ps_why(md, sizeof(md), "%s/maildrop", cf->system_spool);
	if (queue_system_dir(cf, qd, sizeof(qd)) < 0)
		return ps_fail(PS_CONFIG, why, whylen, "system-spool too long");
	if ((mkdir(cf->system_spool, 0755) < 0 && errno != EEXIST) ||
	    lstat(cf->system_spool, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & 022) != 0)
		return ps_fail(PS_TEMPFAIL, why, whylen,
			       "%s: not a directory of root's that only root can write",
			       cf->system_spool);
	if ((st.st_mode & 0755) != 0755)
		chmod(cf->system_spool, 0755); /* users reach the maildrop */
	if (mkdir(md, 01733) < 0 && errno != EEXIST)
		return ps_fail(PS_TEMPFAIL, why, whylen, "cannot create %s: %s", md,
			       strerror(errno));
	if (lstat(md, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == 0)
		chmod(md, 01733); /* the umask took bits away */
	if (maildrop_ok(md) < 0)
		return ps_fail(PS_TEMPFAIL, why, whylen, "%s is not a directory of root's", md);
	return open_queue_at(qd, why, whylen);
}

/* Move what waits in the maildrop into the system queue (dir). The
 * submitter's uid comes from the file's owner; the file must be a plain
 * file with one link, mode 0600, and parse as a queue file. */
static void
pickup(const struct ps_config *cf, const char *dir, struct queue_stats *qs)
{
	char md[PATH_MAX];
	struct dirent *de;
	DIR *d;

	ps_why(md, sizeof(md), "%s/maildrop", cf->system_spool);
	if ((d = opendir(md)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		char p[PATH_MAX + 300], id[64], why[PS_WHY_MAX];
		size_t len = strlen(de->d_name);
		struct stat sb;
		struct qfile q;
		int fd;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		ps_why(p, sizeof(p), "%s/%s", md, de->d_name);
		if ((fd = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)) < 0) {
			/* not a file (a link, a fifo...): not ours to keep */
			if (errno == ELOOP)
				unlink(p);
			continue;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			close(fd); /* being written */
			continue;
		}
		if (de->d_name[0] == '.') {
			/* a writer that died (it held the lock while alive) */
			if (len > 4 && strcmp(de->d_name + len - 4, ".tmp") == 0)
				unlink(p);
			close(fd);
			continue;
		}
		if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || sb.st_nlink != 1 ||
		    (sb.st_mode & 07077) != 0 || qfile_read(fd, &q) < 0) {
			log_warnx("maildrop: %s (uid %ld) is not a queue file; removed", de->d_name,
				  (long)sb.st_uid);
			qfile_free(&q);
			unlink(p);
			close(fd);
			continue;
		}
		/* no -f: the submitter's login name, as the MTA would have
		 * taken it from the uid of a sendmail it ran itself */
		if (!q.sender_given) {
			struct passwd *pw = getpwuid(sb.st_uid);

			if (pw != NULL && strlen(pw->pw_name) < sizeof(q.sender) &&
			    addr_check(pw->pw_name, strlen(pw->pw_name), ADDR_LOCAL_OK, NULL, 0) ==
				    0) {
				snprintf(q.sender, sizeof(q.sender), "%s", pw->pw_name);
				q.sender_given = 1;
			}
		}
		{
			struct queue_env env = {q.sender,	q.sender_given,
						q.has_fullname ? q.fullname : NULL,
						q.kind,		q.tls_required,
						(const char *const *)q.rcpts, q.n,
						q.blind,	q.created,
						(long)sb.st_uid};

			struct buf h;
			enum ps_status pst;

			pst = entry_start(&env, q.reason, id, sizeof(id), &h, why, sizeof(why));
			if (pst == PS_OK)
				pst = queue_put_at(dir, fd, q.body, q.reason, &h, id, why, sizeof(why));
			buf_free(&h);
			if (pst != PS_OK) {
				log_warnx("maildrop: %s: %s; left there", de->d_name, why);
				qs->deferred++;
			} else {
				unlink(p);
				fsync_dir(md);
				log_info("maildrop: %s from uid %ld (sender <%s>) picked up as %s",
					 de->d_name, (long)sb.st_uid, q.sender, id);
			}
		}
		qfile_free(&q);
		close(fd);
	}
	closedir(d);
}

static enum ps_status
run_dir(const struct ps_config *cf, const char *dir, int force, queue_lookup_fn lookup,
	struct queue_stats *qs, char *why, size_t whylen)
{
	char qd[PATH_MAX], td[PATH_MAX];
	struct dirent *de;
	DIR *d;

	/* half-written files of crashed submissions: never sent; removed
	 * when no writer holds their lock any more (open_tmp()) */
	ps_why(td, sizeof(td), "%s/tmp", dir);
	if ((d = opendir(td)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			char p[PATH_MAX + 300];
			struct stat sb;
			int tfd;

			if (de->d_name[0] == '.')
				continue;
			ps_why(p, sizeof(p), "%s/%s", td, de->d_name);
			if ((tfd = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)) < 0)
				continue;
			if (fstat(tfd, &sb) == 0 && S_ISREG(sb.st_mode) &&
			    flock(tfd, LOCK_EX | LOCK_NB) == 0) {
				unlink(p);
				log_info("queue: removed %s, left half-written by a submission that "
					 "died", de->d_name);
			}
			close(tfd);
		}
		closedir(d);
	}
	ps_why(qd, sizeof(qd), "%s/q", dir);
	if ((d = opendir(qd)) == NULL)
		return ps_fail(PS_TEMPFAIL, why, whylen, "%s: %s", qd, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		char p[PATH_MAX + 300];
		struct stat sb;
		int fd;

		if (!is_id(de->d_name))
			continue;
		ps_why(p, sizeof(p), "%s/%s", qd, de->d_name);
		if ((fd = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
			continue; /* another runner delivered it */
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			qs->locked++;
			close(fd);
			continue;
		}
		/* still queued? (a runner may have finished it meanwhile) */
		if (fstat(fd, &sb) < 0 || sb.st_nlink == 0) {
			close(fd);
			continue;
		}
		try_one(cf, dir, de->d_name, fd, force, lookup, qs);
		close(fd);
	}
	closedir(d);
	return PS_OK;
}

enum ps_status
queue_run(const struct ps_config *cf, int force, int system, queue_lookup_fn lookup,
	  struct queue_stats *qs, char *why, size_t whylen)
{
	char dir[PATH_MAX];
	enum ps_status st;

	memset(qs, 0, sizeof(*qs));
	if ((st = handoff_check(cf, why, whylen)) != PS_OK)
		return st;
	if (system) {
		struct stat sb;

		/* root's -q: the system spool when there is one; never made here */
		if (system == 2 && stat(cf->system_spool, &sb) < 0)
			return PS_OK;
		if ((st = queue_system_prepare(cf, why, whylen)) != PS_OK ||
		    queue_system_dir(cf, dir, sizeof(dir)) < 0)
			return st != PS_OK ? st : PS_CONFIG;
		pickup(cf, dir, qs);
	} else if ((st = open_queue(cf, dir, sizeof(dir), why, whylen)) != PS_OK)
		return st;
	return run_dir(cf, dir, force, lookup, qs, why, whylen);
}

/* One line per entry of the queue directory qd (state files in dir,
 * NULL: none, the maildrop), as mailq does. */
static void
list_dir(const char *dir, const char *qd, const char *where, FILE *out, int *count)
{
	struct dirent *de;
	time_t now = time(NULL);
	DIR *d;

	if ((d = opendir(qd)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		char p[PATH_MAX + 300];
		struct qfile q;
		struct stat sb;
		long age;
		int fd;

		if (!is_id(de->d_name))
			continue;
		ps_why(p, sizeof(p), "%s/%s", qd, de->d_name);
		if ((fd = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)) < 0)
			continue;
		if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || qfile_read(fd, &q) < 0) {
			qfile_free(&q);
			close(fd);
			continue;
		}
		close(fd);
		if (dir != NULL)
			state_read(dir, de->d_name, &q.st);
		if (q.st.error[0] == '\0')
			snprintf(q.st.error, sizeof(q.st.error), "%s", q.reason);
		if ((*count)++ == 0)
			fprintf(out, "%-24s %8s %10s  %s\n", "Queue ID", "Age", "Size", "Sender/Recipients");
		age = (long)(now - q.created);
		fprintf(out, "%-24s %7ld%c %10lld  %s%s\n", de->d_name,
			age < 3600 ? age / 60 : age < 172800 ? age / 3600 : age / 86400,
			age < 3600 ? 'm' : age < 172800 ? 'h' : 'd',
			(long long)(sb.st_size - q.body), q.sender[0] ? q.sender : "<>", where);
		if (q.uid >= 0 || dir == NULL)
			fprintf(out, "%45s(from uid %ld)\n", "", q.uid >= 0 ? q.uid : (long)sb.st_uid);
		if (strcmp(q.kind, QUEUE_KIND_LOOKUP) == 0)
			fprintf(out, "%45s(awaiting a key lookup: %s%s)\n", "", q.st.error,
				q.st.attempts ? "; looked up again without result" : "");
		else if (q.st.error[0] != '\0' && q.st.attempts > 0)
			fprintf(out, "%45s(%s; tried %d time%s)\n", "", q.st.error, q.st.attempts,
				q.st.attempts == 1 ? "" : "s");
		else if (q.st.error[0] != '\0')
			fprintf(out, "%45s(%s)\n", "", q.st.error);
		for (size_t i = 0; i < q.n; i++)
			fprintf(out, "%45s%s\n", "", q.rcpts[i]);
		qfile_free(&q);
	}
	closedir(d);
}

enum ps_status
queue_list(const struct ps_config *cf, FILE *out, char *why, size_t whylen)
{
	char dir[PATH_MAX], qd[PATH_MAX], sys[PATH_MAX];
	enum ps_status st = PS_OK;
	int count = 0, own;

	own = queue_dir(cf, dir, sizeof(dir)) == 0;
	if (own) {
		if ((st = open_queue_at(dir, why, whylen)) != PS_OK)
			return st;
		ps_why(qd, sizeof(qd), "%s/q", dir);
		list_dir(dir, qd, "", out, &count);
	}
	/* root: the system queue too (unless that was the own one), and
	 * what waits in the maildrop for the system runner */
	if (geteuid() == 0 && queue_system_dir(cf, sys, sizeof(sys)) == 0) {
		if (!own || strcmp(sys, dir) != 0) {
			ps_why(qd, sizeof(qd), "%s/q", sys);
			list_dir(sys, qd, " [system]", out, &count);
		}
		ps_why(qd, sizeof(qd), "%s/maildrop", cf->system_spool);
		list_dir(NULL, qd, " [maildrop]", out, &count);
	} else if (!own)
		fprintf(out, "postseal: no queue of your own (HOME is unset); what you submit "
			     "waits in the system spool, which root lists\n");
	if (count == 0)
		fprintf(out, "postseal: the queue is empty\n");
	else
		fprintf(out, "-- %d cop%s queued\n", count, count == 1 ? "y" : "ies");
	return PS_OK;
}

/* Whether the queue in dir has an entry that is due and older than a
 * minute (a copy just queued by this very submission is not retried at
 * once). */
static int
kick_due(const char *dir)
{
	char qd[PATH_MAX];
	struct dirent *de;
	time_t now = time(NULL);
	int due = 0;
	DIR *d;

	ps_why(qd, sizeof(qd), "%s/q", dir);
	if ((d = opendir(qd)) == NULL)
		return 0;
	while (!due && (de = readdir(d)) != NULL) {
		struct qstate st = {0, 0, 0, ""};

		if (!is_id(de->d_name) || now - (time_t)strtoll(de->d_name, NULL, 10) < 60)
			continue;
		state_read(dir, de->d_name, &st);
		due = st.next <= now;
	}
	closedir(d);
	return due;
}

void
queue_kick(const struct ps_config *cf, queue_lookup_fn lookup)
{
	char dir[PATH_MAX], lock[PATH_MAX + 16], why[PS_WHY_MAX];
	struct queue_stats qs;
	struct stat sb;
	pid_t pid;
	int fd, null;

	if (!cf->auto_run || queue_dir(cf, dir, sizeof(dir)) < 0 || stat(dir, &sb) < 0 ||
	    !kick_due(dir))
		return;
	if ((pid = fork()) < 0)
		return;
	if (pid > 0) {
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		return;
	}
	/* the runner is nobody's child: cron, PHP and mutt wait for no
	 * one, and no descriptor of theirs stays open */
	setsid();
	if (fork() != 0)
		_exit(0);
	if ((null = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
		_exit(0);
	dup2(null, 0);
	dup2(null, 1);
	dup2(null, 2);
	fd_close_from(3);
	ps_why(lock, sizeof(lock), "%s/.runner.lock", dir);
	if ((fd = open(lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0 ||
	    flock(fd, LOCK_EX | LOCK_NB) < 0)
		_exit(0); /* one runner at a time */
	log_set_verbose(0);
	queue_run(cf, 0, 0, lookup, &qs, why, sizeof(why));
	_exit(0);
}
