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

enum ps_status
queue_put(const struct ps_config *cf, const struct queue_env *env, int fd,
	  const char *reason, char *id, size_t idlen, char *why, size_t whylen)
{
	char dir[PATH_MAX], tmp[PATH_MAX], dst[PATH_MAX], qd[PATH_MAX];
	unsigned char r[6];
	struct buf h;
	enum ps_status st;
	int out = -1;

	if ((st = open_queue(cf, dir, sizeof(dir), why, whylen)) != PS_OK)
		return st;
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return ps_fail(PS_TEMPFAIL, why, whylen, "getrandom failed");
	ps_why(id, idlen, "%lld.%02x%02x%02x%02x%02x%02x", (long long)time(NULL), r[0],
		 r[1], r[2], r[3], r[4], r[5]);
	ps_why(tmp, sizeof(tmp), "%s/tmp/%s", dir, id);
	ps_why(dst, sizeof(dst), "%s/q/%s", dir, id);
	ps_why(qd, sizeof(qd), "%s/q", dir);
	buf_init(&h, 64 * 1024 + (size_t)PS_RCPT_MAX * (PS_ADDR_MAX + 8));
	buf_printf(&h, "%s\ncreated %lld\nsender %s\nsender-given %d\nkind %s\ntls %s\n",
		   QUEUE_MAGIC, (long long)time(NULL), env->sender ? env->sender : "",
		   env->sender_given, env->kind, env->tls_required ? "required" : "opportunistic");
	if (env->fullname != NULL)
		buf_printf(&h, "fullname %s\n", env->fullname);
	for (size_t i = 0; i < env->nrcpts; i++)
		buf_printf(&h, "rcpt %s\n", env->rcpts[i]);
	buf_puts(&h, "\n");
	if (h.failed) {
		buf_free(&h);
		return ps_fail(PS_TEMPFAIL, why, whylen, "queue envelope too large");
	}
	out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
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
	if (close(out) < 0 || rename(tmp, dst) < 0 || (crash_point("queue-rename"), 0) ||
	    fsync_dir(qd) < 0) {
		int e = errno;

		unlink(tmp);
		return ps_fail(PS_TEMPFAIL, why, whylen, "cannot queue %s: %s", id,
			       strerror(e));
	}
	(void)reason;
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
	size_t n;
	off_t body;
	/* state */
	int attempts;
	time_t next;
	char error[PS_WHY_MAX];
};

static void
qfile_free(struct qfile *q)
{
	for (size_t i = 0; i < q->n; i++)
		free(q->rcpts[i]);
	free(q->rcpts);
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
		} else if (strncmp(line, "rcpt ", 5) == 0) {
			char **nv;

			if (q->n >= PS_RCPT_MAX ||
			    addr_check(line + 5, strlen(line + 5), ADDR_LOCAL_OK, NULL, 0) < 0 ||
			    (nv = realloc(q->rcpts, (q->n + 1) * sizeof(*nv))) == NULL)
				return -1;
			q->rcpts = nv;
			if ((q->rcpts[q->n] = strdup(line + 5)) == NULL)
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
state_read(const char *dir, const char *id, struct qfile *q)
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
		else if (strncmp(line, "error ", 6) == 0)
			ps_why(q->error, sizeof(q->error), "%s", line + 6);
	}
	fclose(f);
}

static void
state_write(const char *dir, const char *id, const struct qfile *q)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	FILE *f;

	state_path(dir, id, path, sizeof(path));
	ps_why(tmp, sizeof(tmp), "%s.tmp", path);
	if ((f = fopen(tmp, "we")) == NULL)
		return;
	fprintf(f, "attempts %d\nnext %lld\nerror %s\n", q->attempts, (long long)q->next,
		q->error);
	if (fclose(f) == 0)
		rename(tmp, path);
	else
		unlink(tmp);
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
bounce(const struct ps_config *cf, int fd, const struct qfile *q, const char *id,
       const char *reason, char *why, size_t whylen)
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
		   "Subject: Undelivered Mail Returned to Sender\n"
		   "Date: %s\n"
		   "Auto-Submitted: auto-replied\n"
		   "MIME-Version: 1.0\n"
		   "Content-Type: multipart/report; report-type=delivery-status;\n"
		   " boundary=\"%s\"\n\n"
		   "--%s\nContent-Type: text/plain; charset=us-ascii\n\n"
		   "postseal on %s could not hand off a message of yours (queue id %s).\n"
		   "Reason: %s\n\nRecipients:\n",
		   host, q->sender, date, boundary, boundary, host, id, reason);
	for (size_t i = 0; i < q->n; i++)
		buf_printf(&b, "  %s\n", q->rcpts[i]);
	buf_printf(&b, "\n--%s\nContent-Type: message/delivery-status\n\n"
		       "Reporting-MTA: dns; %s\nArrival-Date: %s\n",
		   boundary, host, date);
	for (size_t i = 0; i < q->n; i++)
		buf_printf(&b, "\nFinal-Recipient: rfc822; %s\nAction: failed\nStatus: 5.0.0\n"
			       "Diagnostic-Code: x-postseal; %s\n",
			   q->rcpts[i], reason);
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
		log_info("queue %s: returned to %s: %s", id, q->sender, reason);
	return st;
}

/* A new queue file for the recipients still to try, with the same
 * copy (read from the old file after its envelope). */
static int
requeue(const struct ps_config *cf, int fd, const struct qfile *q,
	const char *const *rcpts, size_t n, const char *reason)
{
	struct queue_env env = {q->sender, q->sender_given,
				q->has_fullname ? q->fullname : NULL, q->kind,
				q->tls_required, rcpts, n};
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

/* Try one queued copy; the caller holds its lock. */
static void
try_one(const struct ps_config *cf, const char *dir, const char *id, int fd,
	int force, struct queue_stats *qs)
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
	state_read(dir, id, &q);
	if (now - q.created > cf->max_queue_age) {
		ps_why(reason, sizeof(reason), "still undeliverable after %ld days: %s",
			 cf->max_queue_age / 86400, q.error[0] ? q.error : "temporary failure");
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
	if (!force && q.next > now) {
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
		q.attempts++;
		q.next = now + queue_backoff(q.attempts);
		snprintf(q.error, sizeof(q.error), "%s", reason);
		for (char *p = q.error; *p; p++)
			if (*p == '\n' || *p == '\r')
				*p = ' ';
		state_write(dir, id, &q);
		log_info("queue %s: deferred (%s), next try in %ld s", id, reason,
			 (long)(q.next - now));
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
		if (nl > 0 && requeue(cf, fd, &q, (const char *const *)left, nl, reason) < 0) {
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
queue_run(const struct ps_config *cf, int force, struct queue_stats *qs, char *why,
	  size_t whylen)
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
	/* half-written files of crashed submissions: never sent, removed
	 * after a day */
	ps_why(td, sizeof(td), "%s/tmp", dir);
	if ((d = opendir(td)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			char p[PATH_MAX + 300];
			struct stat sb;

			ps_why(p, sizeof(p), "%s/%s", td, de->d_name);
			if (de->d_name[0] != '.' && lstat(p, &sb) == 0 && S_ISREG(sb.st_mode) &&
			    time(NULL) - sb.st_mtime > 86400)
				unlink(p);
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
		try_one(cf, dir, de->d_name, fd, force, qs);
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
		state_read(dir, de->d_name, &q);
		if (count++ == 0)
			fprintf(out, "%-24s %8s %10s  %s\n", "Queue ID", "Age", "Size", "Sender/Recipients");
		age = (long)(now - q.created);
		fprintf(out, "%-24s %7ld%c %10lld  %s\n", de->d_name,
			age < 3600 ? age / 60 : age < 172800 ? age / 3600 : age / 86400,
			age < 3600 ? 'm' : age < 172800 ? 'h' : 'd',
			(long long)(sb.st_size - q.body),
			q.sender[0] ? q.sender : "<>");
		if (q.error[0] != '\0')
			fprintf(out, "%45s(%s; tried %d time%s)\n", "", q.error, q.attempts,
				q.attempts == 1 ? "" : "s");
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
