#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "buf.h"
#include "fileio.h"
#include "handoff.h"
#include "log.h"
#include "pslimits.h"
#include "queue.h"

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
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	int n;

	if (cf->queue_spool[0] != '\0')
		n = snprintf(out, outlen, "%s", cf->queue_spool);
	else if (xdg != NULL && xdg[0] == '/')
		n = snprintf(out, outlen, "%s/postseal/queue", xdg);
	else if (home != NULL && home[0] == '/')
		n = snprintf(out, outlen, "%s/.local/state/postseal/queue", home);
	else
		return -1;
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

/* The queue's directories exist, are ours and private. */
static enum ps_status
open_queue(const struct ps_config *cf, char *dir, size_t dirlen, char *why,
	   size_t whylen)
{
	char sub[PATH_MAX];
	struct stat st;

	if (queue_dir(cf, dir, dirlen) < 0)
		return ps_fail(PS_TEMPFAIL, why, whylen,
			       "no queue directory: set HOME or XDG_STATE_HOME");
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
copy_fd(int from, int to)
{
	char chunk[PS_IO_CHUNK];
	ssize_t r;

	if (lseek(from, 0, SEEK_SET) < 0)
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

enum ps_status
queue_put(const struct ps_config *cf, const struct queue_env *env, int fd,
	  const char *reason, char *id, size_t idlen, char *why, size_t whylen)
{
	char dir[PATH_MAX], tmp[PATH_MAX], dst[PATH_MAX], qd[PATH_MAX];
	unsigned char r[6];
	struct buf h;
	enum ps_status st;
	time_t now = time(NULL);
	int out = -1;

	if ((st = open_queue(cf, dir, sizeof(dir), why, whylen)) != PS_OK)
		return st;
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return ps_fail(PS_TEMPFAIL, why, whylen, "getrandom failed");
	ps_why(id, idlen, "%lld.%02x%02x%02x%02x%02x%02x", (long long)now, r[0], r[1], r[2],
	       r[3], r[4], r[5]);
	ps_why(tmp, sizeof(tmp), "%s/tmp/%s", dir, id);
	ps_why(dst, sizeof(dst), "%s/q/%s", dir, id);
	ps_why(qd, sizeof(qd), "%s/q", dir);
	buf_init(&h, 64 * 1024 + (size_t)PS_RCPT_MAX * (PS_ADDR_MAX + 16));
	buf_printf(&h, "%s\ncreated %lld\nsender %s\nsender-given %d\nkind %s\ntls %s\n",
		   QUEUE_MAGIC, (long long)(env->created ? env->created : now),
		   env->sender ? env->sender : "", env->sender_given, env->kind,
		   env->tls_required ? "required" : "opportunistic");
	if (env->fullname != NULL)
		buf_printf(&h, "fullname %s\n", env->fullname);
	for (size_t i = 0; i < env->nrcpts; i++)
		buf_printf(&h, "%s %s\n", env->blind && env->blind[i] ? "rcpt-blind" : "rcpt",
			   env->rcpts[i]);
	buf_puts(&h, "\n");
	if (h.failed) {
		buf_free(&h);
		return ps_fail(PS_TEMPFAIL, why, whylen, "queue envelope too large");
	}
	out = open_tmp(tmp);
	if (out < 0 || write_all(out, h.data, h.len) < 0 || copy_fd(fd, out) < 0 ||
	    fsync(out) < 0) {
		int e = errno;

		buf_free(&h);
		if (out >= 0)
			close(out);
		unlink(tmp);
		return ps_fail(PS_TEMPFAIL, why, whylen, "cannot write the queue file %s: %s",
			       tmp, strerror(e));
	}
	buf_free(&h);
	crash_point("queue-write");
	/* why it waits, for mailq; a message awaiting its lookup is not
	 * due before the first backoff */
	if (reason != NULL && reason[0] != '\0') {
		struct qstate qs = {0, 0, 0, ""};

		if (strcmp(env->kind, QUEUE_KIND_LOOKUP) == 0)
			qs.next = now + queue_backoff(1);
		snprintf(qs.error, sizeof(qs.error), "%s", reason);
		state_write(dir, id, &qs);
	}
	if (rename(tmp, dst) < 0 || (crash_point("queue-rename"), 0) || close(out) < 0 ||
	    fsync_dir(qd) < 0) {
		int e = errno;

		unlink(tmp);
		remove_state(dir, id);
		return ps_fail(PS_TEMPFAIL, why, whylen, "cannot queue %s: %s", id,
			       strerror(e));
	}
	return PS_OK;
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
	char line[PS_ADDR_MAX + 64];
	size_t len = 0, lines = 0;
	off_t pos = 0;
	char c;

	memset(q, 0, sizeof(*q));
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
	time_t now = time(NULL);
	struct tm tm;
	enum ps_status st;
	int out;
	ssize_t r;
	int in_header = 1, nl = 0;

	if (q->sender[0] == '\0' || !q->sender_given) {
		log_warnx("queue %s: %s; no sender to return it to, removed", id, reason);
		return PS_OK;
	}
	if (gethostname(host, sizeof(host)) < 0)
		ps_why(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	localtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);
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
				q->tls_required, rcpts, n, blind, q->created};
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
queue_run(const struct ps_config *cf, int force, queue_lookup_fn lookup,
	  struct queue_stats *qs, char *why, size_t whylen)
{
	char dir[PATH_MAX], qd[PATH_MAX], td[PATH_MAX];
	struct dirent *de;
	enum ps_status st;
	DIR *d;

	memset(qs, 0, sizeof(*qs));
	if ((st = open_queue(cf, dir, sizeof(dir), why, whylen)) != PS_OK)
		return st;
	if ((st = handoff_check(cf, why, whylen)) != PS_OK)
		return st;
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
queue_list(const struct ps_config *cf, FILE *out, char *why, size_t whylen)
{
	char dir[PATH_MAX], qd[PATH_MAX];
	struct dirent *de;
	enum ps_status st;
	time_t now = time(NULL);
	int count = 0;
	DIR *d;

	if ((st = open_queue(cf, dir, sizeof(dir), why, whylen)) != PS_OK)
		return st;
	ps_why(qd, sizeof(qd), "%s/q", dir);
	if ((d = opendir(qd)) == NULL)
		return ps_fail(PS_TEMPFAIL, why, whylen, "%s: %s", qd, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		char p[PATH_MAX + 300];
		struct qfile q;
		struct stat sb;
		long age;
		int fd;

		if (!is_id(de->d_name))
			continue;
		ps_why(p, sizeof(p), "%s/%s", qd, de->d_name);
		if ((fd = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
			continue;
		if (qfile_read(fd, &q) < 0) {
			qfile_free(&q);
			close(fd);
			continue;
		}
		fstat(fd, &sb);
		close(fd);
		state_read(dir, de->d_name, &q.st);
		if (count++ == 0)
			fprintf(out, "%-24s %8s %10s  %s\n", "Queue ID", "Age", "Size", "Sender/Recipients");
		age = (long)(now - q.created);
		fprintf(out, "%-24s %7ld%c %10lld  %s\n", de->d_name,
			age < 3600 ? age / 60 : age < 172800 ? age / 3600 : age / 86400,
			age < 3600 ? 'm' : age < 172800 ? 'h' : 'd',
			(long long)(sb.st_size - q.body),
			q.sender[0] ? q.sender : "<>");
		if (strcmp(q.kind, QUEUE_KIND_LOOKUP) == 0)
			fprintf(out, "%45s(awaiting a key lookup: %s%s)\n", "", q.st.error,
				q.st.attempts ? "; looked up again without result" : "");
		else if (q.st.error[0] != '\0')
			fprintf(out, "%45s(%s; tried %d time%s)\n", "", q.st.error, q.st.attempts,
				q.st.attempts == 1 ? "" : "s");
		for (size_t i = 0; i < q.n; i++)
			fprintf(out, "%45s%s\n", "", q.rcpts[i]);
		qfile_free(&q);
	}
	closedir(d);
	if (count == 0)
		fprintf(out, "postseal: the queue is empty\n");
	else
		fprintf(out, "-- %d cop%s queued\n", count, count == 1 ? "y" : "ies");
	return PS_OK;
}
